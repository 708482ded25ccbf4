/**
 * Every check and every runbook keeps the contract (DESIGN.md, STYLE.md). Adding a check adds its
 * module, its test and its fixtures and nothing else; this suite is what keeps that true.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry-node.ts';
import { loadRunbooks } from '../../src/core/runbooks-node.ts';
import { projectRoot } from '../../src/core/paths.ts';
import { paramDocs } from '../../src/runner/params.ts';
import { nextHref, parseNext } from '../../src/core/next.ts';
import { embeddedChecks } from '../../src/core/embedded-checks.ts';
import { BRANCHES, headingsOf, resolveTarget, stepTags } from '../../src/components/steps.ts';

const registry = await loadRegistry();
const runbooks = await loadRunbooks();

describe('checks', () => {
	it('there is at least one', () => {
		expect(registry.ids().length).toBeGreaterThan(0);
	});

	for (const id of registry.ids()) {
		const check = registry.get(id);
		const [area, name] = id.split('.') as [string, string];
		const file = join(projectRoot, 'checks', area, `${name}.ts`);
		const source = readFileSync(file, 'utf8');

		describe(id, () => {
			it('id is <area>.<kebab-name> and equals its path', () => {
				expect(id).toMatch(/^[a-z0-9]+\.[a-z0-9]+(-[a-z0-9]+)*$/);
				expect(existsSync(file)).toBe(true);
			});
			it('never mutates', () => {
				expect(check.mutates).toBe(false);
			});
			it('params schema is strict: unknown keys are refused', () => {
				expect(check.params.safeParse({ zzUnknownParam: 1 }).success).toBe(false);
			});
			it('describes every parameter (the text `runbook list` prints)', () => {
				for (const p of paramDocs(check)) expect(p.description, `${id} param ${p.name}`).toBeTruthy();
			});
			it('declares its platforms', () => {
				expect(check.platforms.length).toBeGreaterThan(0);
			});
			it('has a unit test and at least two real fixtures', () => {
				expect(existsSync(join(projectRoot, 'checks', area, `${name}.test.ts`))).toBe(true);
				const dir = join(projectRoot, 'checks', area, 'fixtures', name);
				expect(existsSync(dir)).toBe(true);
				expect(readdirSync(dir).filter((f) => f.endsWith('.txt')).length).toBeGreaterThanOrEqual(2);
			});
			it('starts with a header comment', () => {
				expect(source.trimStart().startsWith('/**')).toBe(true);
			});
			it('imports only zod and src/core', () => {
				const imports = [...source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
				for (const spec of imports)
					expect(spec === 'zod' || /^(\.\.\/)+src\/core\//.test(spec) || /^\.\//.test(spec), `${id} imports ${spec}`).toBe(true);
			});
			it('its next steps exist: #anchor in every runbook that lists it, slug#anchor in that runbook', () => {
				const users = runbooks.filter((r) => r.checks.includes(id));
				expect(users.length, `${id} is embedded in no runbook`).toBeGreaterThan(0);
				for (const next of check.nextSteps) {
					const { slug, anchor } = parseNext(next);
					const where = slug === undefined ? users : runbooks.filter((r) => r.slug === slug);
					expect(where.length, `${id}: next ${next} names no runbook`).toBeGreaterThan(0);
					for (const r of where) expect(r.anchors, `${r.slug} lacks heading #${anchor}`).toContain(`#${anchor}`);
				}
			});
		});
	}
});

describe('runbooks', () => {
	it('there is at least one', () => {
		expect(runbooks.length).toBeGreaterThan(0);
	});
	for (const r of runbooks) {
		describe(r.slug, () => {
			it('slug is kebab-case', () => {
				expect(r.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
			});
			it('every check it lists exists', () => {
				for (const id of r.checks) expect(registry.has(id), `${r.slug} lists unknown check ${id}`).toBe(true);
			});
			it('every <Check id> in the body is registered and listed in the frontmatter', () => {
				const embedded = [...r.body.matchAll(/<Check\b[^>]*\bid=["']([^"']+)["']/g)].map((m) => m[1]!);
				expect(embedded.length).toBeGreaterThan(0);
				for (const id of embedded) {
					expect(registry.has(id), `${r.slug} embeds unknown check ${id}`).toBe(true);
					expect(r.checks).toContain(id);
				}
			});
			it('related runbooks exist', () => {
				for (const s of r.related) expect(runbooks.map((x) => x.slug)).toContain(s);
			});
		});
	}
});

// The same reading of <Step> as Step.astro does at build time (src/components/steps.ts), over every runbook.
describe('runbook steps', () => {
	for (const r of runbooks) {
		describe(r.slug, () => {
			const tags = stepTags(r.body);
			const where = (t: (typeof tags)[number]) => `${r.slug}: ${t.tag}`;

			it('every <Check> sits in a <Step> under a numbered step heading, in the order the frontmatter lists the checks', () => {
				expect(tags.flatMap((t) => t.checks)).toEqual(embeddedChecks(r.body).map((c) => c.id));
				expect(
					tags.flatMap((t) => t.checks),
					`${r.slug}: frontmatter checks are not in step order`,
				).toEqual(r.checks);
				for (const t of tags) expect(t.heading?.step ?? null, `${where(t)} is not under a numbered ## step`).not.toBeNull();
			});

			it('every branch target is a heading of its runbook', () => {
				const broken: string[] = [];
				for (const t of tags)
					for (const b of BRANCHES)
						for (const target of t.branches[b] ?? []) {
							try {
								resolveTarget(target, r.slug, runbooks);
							} catch (e) {
								broken.push(`${where(t)} ${b}: ${(e as Error).message}`);
							}
						}
				expect(broken).toEqual([]);
			});

			it('fail, warn and pass branches lead where its checks say their verdicts may point (nextSteps)', () => {
				for (const t of tags) {
					const allowed = new Set(t.checks.flatMap((id) => registry.get(id).nextSteps.map((n) => nextHref(n, r.slug))));
					for (const b of ['fail', 'warn', 'pass'] as const)
						for (const target of t.branches[b] ?? [])
							expect([...allowed], `${where(t)}: ${b}="${target}" is not a next step of ${t.checks.join(', ')}`).toContain(
								nextHref(target, r.slug),
							);
				}
			});

			it('has <RunAll /> once, after "What you see" and before the first step', () => {
				const at = [...r.body.matchAll(/^<RunAll\s*\/>/gm)].map((m) => m.index);
				if (r.checks.length === 0) return expect(at).toEqual([]);
				expect(at).toHaveLength(1);
				const h2 = headingsOf(r.body).filter((h) => h.level === 2);
				const before = h2.filter((h) => h.offset < at[0]!).at(-1);
				const after = h2.find((h) => h.offset > at[0]!);
				expect(before?.anchor).toBe('what-you-see');
				expect(after?.step).toBe(1);
			});
		});
	}
});

describe('steps.ts reading <Step>', () => {
	const body = (step: string) =>
		`## What you see\n\ntext\n\n## Check it\n\n${step}\n\n<Check id="kernel.max-map-count" />\n\n</Step>\n\n## Fix it\n`;

	it('a target that is not a heading of the runbook -> a message naming it and listing the headings', () => {
		expect(() => resolveTarget('#raise-the-limt', 'hugepage-map-count', runbooks)).toThrow(
			/"#raise-the-limt": #raise-the-limt is not a heading of this runbook .*#raise-the-limit/,
		);
		expect(() => resolveTarget('no-such-runbook#x', 'hugepage-map-count', runbooks)).toThrow(
			/names runbook "no-such-runbook", which does not exist/,
		);
	});

	it('a cross-runbook target -> that runbook, its step number and title', () => {
		expect(resolveTarget('usb-nic-trailer#find-the-usb-nic-and-its-driver', 'overlay-mtu', runbooks)).toMatchObject({
			href: '/usb-nic-trailer/#find-the-usb-nic-and-its-driver',
			sameRunbook: false,
			step: 2,
			title: 'Find the USB NIC and its driver',
		});
	});

	it('steps are the ## headings but "What you see" and "Sources"; repeated titles get -1, -2 as the page ids do', () => {
		const hs = headingsOf('## What you see\n## A\n### By hand\n## B\n### By hand\n```\n## not a heading\n```\n## Sources\n');
		expect(hs.map((h) => [h.anchor, h.step])).toEqual([
			['what-you-see', null],
			['a', 1],
			['by-hand', 1],
			['b', 2],
			['by-hand-1', 2],
			['sources', null],
		]);
	});

	it('a tag it cannot read, or one that wraps no check -> an error naming the tag', () => {
		expect(stepTags(body('<Step fail="#fix-it">'))[0]).toMatchObject({ branches: { fail: ['#fix-it'] }, checks: ['kernel.max-map-count'] });
		expect(() => stepTags(body('<Step fial="#fix-it">'))).toThrow(/"fial" is not a verdict status/);
		expect(() => stepTags(body('<Step fail={x}>'))).toThrow(/cannot read "fail=\{x\}": a <Step> takes fail="..."/);
		expect(() => stepTags(body('<Step>'))).toThrow(/no branch/);
		expect(() => stepTags('## A\n\n<Step pass="#a">\n\ntext\n\n</Step>\n')).toThrow(/wraps no <Check>/);
	});
});
