/**
 * Symptom search benchmark over the built index (`dist/client/search-index.json`), the file the site
 * fetches and the CLI reads. Prints one table:
 *
 * - index: size in bytes, raw and gzip (what a browser downloads from a server that compresses);
 * - cold: in a fresh Node process, read the JSON + load it into the search object + the first query
 *   (median and p95 over several processes; module loading is not counted, the site's bundle and
 *   the CLI load the code differently);
 * - warm: every query of `test/search/queries.yaml`, many rounds, one process (median and p95);
 * - cli: `runbook search "<text>" --json` as a whole process (tsx start-up included), for scale.
 *
 * `npm run bench:search` (after `npx astro build`). Numbers go in the README.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { projectRoot } from '../src/core/paths.ts';
import { loadIndex, search } from '../src/search/engine.ts';
import { builtIndexPath } from '../src/search/node.ts';

const COLD_RUNS = 15;
const WARM_ROUNDS = 50;
const CLI_RUNS = 5;
const COLD_QUERY = '2016-05-12T10:01:02Z ovs-vswitchd[1234]: EAL: Failed to remap 2 MB pages';

const quantile = (xs: number[], q: number) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const ms = (x: number) => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(1)} ms`);
const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;

/** In the child: the cold path alone, printed as JSON on stdout. */
function coldChild(): void {
	const t0 = performance.now();
	const json = readFileSync(builtIndexPath(), 'utf8');
	const index = loadIndex(json);
	const t1 = performance.now();
	const hits = search(index, COLD_QUERY);
	const t2 = performance.now();
	process.stdout.write(JSON.stringify({ load: t1 - t0, first: t2 - t1, total: t2 - t0, top: hits[0]?.slug }));
}

function main(): number {
	let raw: Buffer;
	try {
		raw = readFileSync(builtIndexPath());
	} catch {
		process.stderr.write(`bench: ${builtIndexPath()} is missing; run \`npx astro build\` first\n`);
		return 2;
	}
	const queries = (parse(readFileSync(join(projectRoot, 'test', 'search', 'queries.yaml'), 'utf8')) as { q: string }[]).map((q) => q.q);

	const cold: { load: number; first: number; total: number; top: string }[] = [];
	for (let i = 0; i < COLD_RUNS; i++) {
		const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'bench', 'search.ts'), '--cold-child'], {
			cwd: projectRoot,
			encoding: 'utf8',
		});
		if (r.status !== 0) throw new Error(`cold run failed: ${r.stderr}`);
		cold.push(JSON.parse(r.stdout));
	}
	if (cold.some((c) => c.top !== 'hugepage-map-count')) throw new Error('cold query did not rank hugepage-map-count first');

	const index = loadIndex(raw.toString('utf8'));
	for (const q of queries) search(index, q);
	const warm: number[] = [];
	for (let round = 0; round < WARM_ROUNDS; round++) {
		for (const q of queries) {
			const t = performance.now();
			search(index, q);
			warm.push(performance.now() - t);
		}
	}

	const cli: number[] = [];
	for (let i = 0; i < CLI_RUNS; i++) {
		const t = performance.now();
		execFileSync(process.execPath, [join(projectRoot, 'bin', 'runbook.js'), 'search', COLD_QUERY, '--json'], {
			cwd: projectRoot,
			stdio: 'ignore',
		});
		cli.push(performance.now() - t);
	}

	const cpu = cpus();
	const rows: [string, string, string, string][] = [
		['index', 'dist/client/search-index.json', `${kb(raw.length)} raw`, `${kb(gzipSync(raw).length)} gzip`],
		[
			'cold',
			`read + load + first query, fresh process (${COLD_RUNS} runs)`,
			`median ${ms(
				quantile(
					cold.map((c) => c.total),
					0.5,
				),
			)}`,
			`p95 ${ms(
				quantile(
					cold.map((c) => c.total),
					0.95,
				),
			)}`,
		],
		[
			'  of which',
			'read + load the index',
			`median ${ms(
				quantile(
					cold.map((c) => c.load),
					0.5,
				),
			)}`,
			'',
		],
		[
			'  of which',
			'first query',
			`median ${ms(
				quantile(
					cold.map((c) => c.first),
					0.5,
				),
			)}`,
			'',
		],
		[
			'warm',
			`one query (${queries.length} queries x ${WARM_ROUNDS} rounds)`,
			`median ${ms(quantile(warm, 0.5))}`,
			`p95 ${ms(quantile(warm, 0.95))}`,
		],
		[
			'cli',
			`runbook search --json, whole process (${CLI_RUNS} runs)`,
			`median ${ms(quantile(cli, 0.5))}`,
			`p95 ${ms(quantile(cli, 0.95))}`,
		],
	];
	const width = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
	process.stdout.write(
		`Symptom search benchmark: Node ${process.version}, ${cpu.length} CPU${cpu.length > 1 ? 's' : ''} (${cpu[0]?.model.trim() ?? 'unknown'})\n\n`,
	);
	for (const r of rows)
		process.stdout.write(
			`${r
				.map((c, i) => c.padEnd(width[i]!))
				.join('  ')
				.trimEnd()}\n`,
		);
	return 0;
}

if (process.argv.includes('--cold-child')) coldChild();
else process.exitCode = main();
