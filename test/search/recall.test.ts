/**
 * Symptom search measured on the project's own query set (`queries.yaml`: what on-call engineers
 * type and paste, each with the runbook that must come first), on the real runbooks. Issue 5's bar:
 * recall@1 at least 0.9, recall@3 exactly 1. Also: the issue's pasted line finds the hugepage
 * runbook first; `runbook search --json` (the real bin, spawned) gives the same order as the module
 * the site runs; and the set stays honest, no query copied into a runbook's symptoms or signatures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { loadRunbooks } from '../../src/core/runbooks-node.ts';
import { buildIndex, search, sourceHash, type SearchIndexData } from '../../src/search/engine.ts';
import { builtIndexPath, loadSearchIndex, searchSources } from '../../src/search/node.ts';
import { runCli } from '../support/cli.ts';

interface Query {
	q: string;
	expect: string;
	kind: string;
}

const queries = parse(readFileSync(join(projectRoot, 'test', 'search', 'queries.yaml'), 'utf8')) as Query[];
const runbooks = await loadRunbooks();
const { index, from } = await loadSearchIndex();

const squash = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

describe('the query set', () => {
	it('has at least 60 queries, each expecting a runbook that exists', () => {
		expect(queries.length).toBeGreaterThanOrEqual(60);
		const slugs = new Set(runbooks.map((r) => r.slug));
		for (const q of queries) expect(slugs.has(q.expect), `${q.q} -> ${q.expect}`).toBe(true);
	});

	it('asks for every runbook', () => {
		expect(new Set(queries.map((q) => q.expect))).toEqual(new Set(runbooks.map((r) => r.slug)));
	});

	it('is not copied into any runbook: no query is a symptom or signature verbatim', () => {
		const phrases = new Map<string, string>();
		for (const r of runbooks) for (const p of [...r.symptoms, ...r.signatures]) phrases.set(squash(p), `${r.slug}: ${p}`);
		const copied = queries.filter((q) => phrases.has(squash(q.q))).map((q) => `${q.q}  ==  ${phrases.get(squash(q.q))}`);
		expect(copied).toEqual([]);
	});
});

describe('recall', () => {
	it('recall@1 >= 0.9 and recall@3 == 1', () => {
		let at1 = 0;
		let at3 = 0;
		const misses: string[] = [];
		const byKind = new Map<string, { n: number; at1: number; at3: number }>();
		for (const q of queries) {
			const pos = search(index, q.q).findIndex((h) => h.slug === q.expect);
			const k = byKind.get(q.kind) ?? { n: 0, at1: 0, at3: 0 };
			k.n++;
			if (pos === 0) {
				at1++;
				k.at1++;
			}
			if (pos >= 0 && pos < 3) {
				at3++;
				k.at3++;
			}
			if (pos !== 0)
				misses.push(`  ${pos < 0 ? 'not listed' : `#${pos + 1}`}: ${q.q.replace(/\s+/g, ' ').slice(0, 100)} (expected ${q.expect})`);
			byKind.set(q.kind, k);
		}
		const r1 = at1 / queries.length;
		const r3 = at3 / queries.length;
		console.info(
			[
				`symptom search on ${queries.length} queries (index ${from === 'built' ? 'from dist/client/search-index.json' : 'built in memory'}): recall@1 ${r1.toFixed(3)}, recall@3 ${r3.toFixed(3)}`,
				...[...byKind].map(([kind, k]) => `  ${kind}: @1 ${k.at1}/${k.n}, @3 ${k.at3}/${k.n}`),
				...(misses.length ? ['not first:', ...misses] : []),
			].join('\n'),
		);
		expect(r1).toBeGreaterThanOrEqual(0.9);
		expect(r3).toBe(1);
	});

	it("the issue's pasted line finds the hugepage runbook first", () => {
		const [first] = search(index, '2016-05-12T10:01:02Z ovs-vswitchd[1234]: EAL: Failed to remap 2 MB pages');
		expect(first?.slug).toBe('hugepage-map-count');
		expect(first?.matched).toBe('EAL: Failed to remap 2 MB pages');
	});
});

describe('one index, one ranking', () => {
	it('the CLI lists the same runbooks in the same order as the site module', async () => {
		// Every 9th query: each runbook's queries are grouped in the file, so this samples all of them.
		const sample = queries.filter((_, i) => i % 9 === 0);
		expect(new Set(sample.map((q) => q.expect)).size).toBeGreaterThanOrEqual(5);
		for (const q of sample) {
			const r = await runCli(['search', q.q, '--json']);
			expect(r.code, r.stderr).toBe(0);
			const cli = JSON.parse(r.stdout) as { slug: string; title: string; score: number; matched: string }[];
			const site = search(index, q.q).map(({ slug, title, score, matched }) => ({ slug, title, score, matched }));
			expect(cli, q.q).toEqual(site);
		}
	});

	it('the built index is the one the CLI would build from content/runbooks', (ctx) => {
		let built: SearchIndexData;
		try {
			built = JSON.parse(readFileSync(builtIndexPath(), 'utf8')) as SearchIndexData;
		} catch {
			// `npm test` builds first; a lone `vitest run` before any build has nothing to compare.
			return ctx.skip('dist/client/search-index.json is not built (run `npx astro build`)');
		}
		return searchSources().then((sources) => {
			// A runbook edited since the last build: the CLI rebuilds in memory (src/search/node.test.ts),
			// and there is nothing to compare until the next build.
			if (built.sourceHash !== sourceHash(sources)) return ctx.skip('the built index is older than content/runbooks (rebuild to compare)');
			expect(built).toEqual(JSON.parse(JSON.stringify(buildIndex(sources))));
		});
	});
});

describe('runbook search exit codes', () => {
	it('no text -> exit 2 with one line', async () => {
		const r = await runCli(['search', '  ']);
		expect(r.code).toBe(2);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
		expect(r.stderr).toMatch(/no search text/);
	});

	it('no hit -> exit 1 with a line saying so, and [] for --json', async () => {
		const r = await runCli(['search', 'zzzqqqxx', '--json']);
		expect(r.code).toBe(1);
		expect(JSON.parse(r.stdout)).toEqual([]);
		expect(r.stderr).toMatch(/no runbook matches "zzzqqqxx"/);
	});

	it('text output names the runbook, its slug, the matched phrase and the page', async () => {
		const r = await runCli(['search', 'EAL: Failed to remap 2 MB pages']);
		expect(r.code).toBe(0);
		const first = r.stdout.split('\n').slice(0, 3);
		expect(first[0]).toBe('1. OVS-DPDK will not start: EAL: Failed to remap 2 MB pages');
		expect(first[1]).toBe('   hugepage-map-count  /hugepage-map-count/');
		expect(first[2]).toBe('   signature: EAL: Failed to remap 2 MB pages');
	});

	it('--help documents the exit codes', async () => {
		const r = await runCli(['search', '--help']);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/Exit codes:\s+0 +at least one runbook matched\s+1 +no runbook matched\s+2 +no search text was given/);
	});
});
