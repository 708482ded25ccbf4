import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteArgv } from '../core/argv.ts';
import { RunbookError } from '../core/errors.ts';
import { answer } from '../transport/scenario-shell.ts';
import { builtinScenarioDir, formatIssuePath, loadScenarios, parseScenario } from './load.ts';
import type { Scenario } from './schema.ts';

const VALID = `name: tiny
title: A tiny host
brief: Nothing is wrong.
runbook: hugepage-map-count
files:
  /proc/sys/vm/max_map_count: "65530\\n"
commands:
  "uname -r": { stdout: "6.1.0\\n" }
`;

let dir: string;
beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), 'runbook-scenarios-'));
});
afterEach(async () => {
	await rm(dir, { recursive: true, force: true });
});

/** The one-line message a load of `text` as `<dir>/<file>` fails with. */
async function failure(file: string, text: string): Promise<string> {
	await writeFile(join(dir, file), text);
	const e = await loadScenarios([dir]).then(
		() => null,
		(err: unknown) => err,
	);
	expect(e).toBeInstanceOf(RunbookError);
	expect((e as RunbookError).code).toBe('InvalidScenario');
	expect((e as RunbookError).detail).not.toContain('\n');
	return (e as RunbookError).detail;
}

describe('loadScenarios', () => {
	it('reads the built-in scenarios with defaults filled in', async () => {
		const all = await loadScenarios([]);
		expect([...all.keys()]).toEqual(expect.arrayContaining(['hugepages-too-many', 'hugepages-healthy']));
		const tiny = parseScenario(join(dir, 'tiny.yaml'), VALID);
		expect(tiny.platform).toBe('linux');
		expect(tiny.commands['uname -r']).toEqual({ stdout: '6.1.0\n', stderr: '', code: 0 });
		expect(tiny.expect).toBeUndefined();
		expect(tiny.healthy).toBe(false);
		expect(tiny.cause).toBeUndefined();
	});

	it('cause, healthy, and lists of answers for sampled values', () => {
		const s = parseScenario(
			join(dir, 'tiny.yaml'),
			`${VALID}cause: "healthy: nothing is wrong"\nhealthy: true\n`
				.replace('"65530\\n"', '["1\\n", "2\\n"]')
				.replace('{ stdout: "6.1.0\\n" }', '[{ stdout: "a\\n" }, { code: 1 }]'),
		);
		expect(s.cause).toBe('healthy: nothing is wrong');
		expect(s.healthy).toBe(true);
		expect(s.files['/proc/sys/vm/max_map_count']).toEqual(['1\n', '2\n']);
		expect(s.commands['uname -r']).toEqual([
			{ stdout: 'a\n', stderr: '', code: 0 },
			{ stdout: '', stderr: '', code: 1 },
		]);
	});

	it('a trainer file without a runbook loads (a practice host with no exercise behind it)', async () => {
		await writeFile(join(dir, 'tiny.yaml'), VALID.replace('runbook: hugepage-map-count\n', ''));
		const all = await loadScenarios([dir]);
		expect(all.get('tiny')?.runbook).toBeUndefined();
	});

	it('adds scenarios from an extra folder', async () => {
		await writeFile(join(dir, 'tiny.yaml'), VALID);
		await writeFile(join(dir, 'notes.txt'), 'not a scenario');
		const all = await loadScenarios([dir]);
		expect(all.get('tiny')?.files['/proc/sys/vm/max_map_count']).toBe('65530\n');
		expect(all.has('hugepages-too-many')).toBe(true);
	});

	it('a folder listed twice, or the built-in folder listed again -> read once', async () => {
		await writeFile(join(dir, 'tiny.yaml'), VALID);
		const all = await loadScenarios([dir, `${dir}/`, builtinScenarioDir()]);
		expect(all.has('tiny')).toBe(true);
	});

	it('the same name in two folders -> InvalidScenario naming both files', async () => {
		const other = await mkdtemp(join(tmpdir(), 'runbook-scenarios-'));
		try {
			await writeFile(join(dir, 'tiny.yaml'), VALID);
			await writeFile(join(other, 'tiny.yaml'), VALID);
			const e = (await loadScenarios([dir, other]).catch((err: unknown) => err)) as RunbookError;
			expect(e.code).toBe('InvalidScenario');
			expect(e.detail).toBe(`${join(other, 'tiny.yaml')}: name: "tiny" is already defined by ${join(dir, 'tiny.yaml')}`);
		} finally {
			await rm(other, { recursive: true, force: true });
		}
	});

	it('a built-in name reused in an extra folder -> InvalidScenario', async () => {
		const detail = await failure('hugepages-healthy.yaml', VALID.replace('name: tiny', 'name: hugepages-healthy'));
		expect(detail).toContain(join(builtinScenarioDir(), 'hugepages-healthy.yaml'));
	});

	it('a missing extra folder -> InvalidScenario', async () => {
		const e = (await loadScenarios([join(dir, 'nope')]).catch((err: unknown) => err)) as RunbookError;
		expect(e.code).toBe('InvalidScenario');
		expect(e.detail).toBe(`${join(dir, 'nope')}: no such directory`);
	});

	it('YAML syntax error -> file, line and column', async () => {
		expect(await failure('tiny.yaml', 'name: tiny\ntitle: "unclosed\n')).toMatch(
			/tiny\.yaml: line \d+, column \d+: Missing closing "quote$/,
		);
	});

	it('duplicate key -> refused by the YAML parser', async () => {
		expect(
			await failure(
				'tiny.yaml',
				`${VALID}  /proc/sys/vm/max_map_count: "1\\n"\n`.replace('commands:\n  "uname -r": { stdout: "6.1.0\\n" }\n', ''),
			),
		).toMatch(/tiny\.yaml: line \d+, column \d+: Map keys must be unique$/);
	});

	it.each([
		['unknown field', `${VALID}extra: 1\n`, 'tiny.yaml: (top level): unknown field "extra"'],
		['missing title', VALID.replace('title: A tiny host\n', ''), 'tiny.yaml: title: missing, expected string'],
		['relative file path', VALID.replace('/proc/sys/vm/max_map_count', 'proc/x'), 'tiny.yaml: files["proc/x"]: bad key: an absolute path'],
		[
			'dot-dot in file path',
			VALID.replace('/proc/sys/vm/max_map_count', '/proc/../etc/shadow'),
			'tiny.yaml: files["/proc/../etc/shadow"]: bad key: a path without . or .. segments',
		],
		['non-integer code', VALID.replace('{ stdout: "6.1.0\\n" }', '{ code: 1.5 }'), 'tiny.yaml: commands["uname -r"].code: '],
		[
			'unknown answer field',
			VALID.replace('{ stdout: "6.1.0\\n" }', '{ exit: 1 }'),
			'tiny.yaml: commands["uname -r"]: unknown field "exit"',
		],
		['padded command key', VALID.replace('"uname -r"', '" uname -r"'), 'tiny.yaml: commands[" uname -r"]: '],
		['bad platform', `${VALID}platform: windows\n`, 'tiny.yaml: platform: '],
		['bad expect status', `${VALID}expect:\n  kernel.max-map-count: ok\n`, 'tiny.yaml: expect["kernel.max-map-count"]: '],
		['bad expect id', `${VALID}expect:\n  MaxMapCount: pass\n`, 'tiny.yaml: expect.MaxMapCount: '],
		['not a mapping', '- a\n- b\n', 'tiny.yaml: (top level): '],
		['empty file', '', 'tiny.yaml: (top level): the file is empty'],
		['name not kebab', VALID.replace('name: tiny', 'name: Tiny'), 'tiny.yaml: name: kebab-case'],
		['healthy not a boolean', `${VALID}healthy: yes please\n`, 'tiny.yaml: healthy: '],
		['empty cause', `${VALID}cause: ""\n`, 'tiny.yaml: cause: '],
		[
			'a file that is a number',
			VALID.replace('"65530\\n"', '65530'),
			'tiny.yaml: files["/proc/sys/vm/max_map_count"]: a string, or a list of strings answered one per read',
		],
		['a list with a number in it', VALID.replace('"65530\\n"', '["1\\n", 2]'), 'tiny.yaml: files["/proc/sys/vm/max_map_count"][1]: '],
		[
			'an empty list of file values',
			VALID.replace('"65530\\n"', '[]'),
			'tiny.yaml: files["/proc/sys/vm/max_map_count"]: a list of at least one value',
		],
		[
			'a command answer that is a string',
			VALID.replace('{ stdout: "6.1.0\\n" }', '"6.1.0"'),
			'tiny.yaml: commands["uname -r"]: an answer such as { stdout: "..." }, or a list of answers given one per run',
		],
		[
			'a bad field in the second answer of a list',
			VALID.replace('{ stdout: "6.1.0\\n" }', '[{ stdout: "a" }, { exit: 1 }]'),
			'tiny.yaml: commands["uname -r"][1]: unknown field "exit"',
		],
		[
			'an empty list of answers',
			VALID.replace('{ stdout: "6.1.0\\n" }', '[]'),
			'tiny.yaml: commands["uname -r"]: a list of at least one answer',
		],
		[
			'a runbook that does not exist',
			VALID.replace('runbook: hugepage-map-count', 'runbook: hugepage-map-cuont'),
			'tiny.yaml: runbook: no runbook "hugepage-map-cuont" in content/runbooks; known: ',
		],
	])('%s -> InvalidScenario "<file>: <field path>: <problem>"', async (_, text, expected) => {
		const detail = await failure('tiny.yaml', text);
		expect(detail.startsWith(join(dir, expected.split(':')[0]!))).toBe(true);
		expect(detail).toContain(expected.slice(expected.indexOf(':')));
	});

	it('name differs from the file name -> InvalidScenario', async () => {
		expect(await failure('other.yaml', VALID)).toBe(`${join(dir, 'other.yaml')}: name: "tiny" must equal the file name "other"`);
	});
});

describe('formatIssuePath', () => {
	it('identifiers dotted, other keys bracketed', () => {
		expect(formatIssuePath([])).toBe('(top level)');
		expect(formatIssuePath(['files', '/proc/meminfo'])).toBe('files["/proc/meminfo"]');
		expect(formatIssuePath(['commands', 'uname -r', 'code'])).toBe('commands["uname -r"].code');
		expect(formatIssuePath(['a', 0])).toBe('a[0]');
	});
});

/** What the check kernel.max-map-count reads and runs, as our transport sends it. */
const run = (s: Scenario, argv: string[]) => answer(s, `LC_ALL=C LANG=C ${quoteArgv(argv)}`);

describe('the hugepages scenarios', async () => {
	const all = await loadScenarios([]);
	const tooMany = all.get('hugepages-too-many')!;
	const healthy = all.get('hugepages-healthy')!;

	it('hugepages-too-many: 2 x free 2 MB pages exceeds the default max_map_count', () => {
		const maxMapCount = Number(run(tooMany, ['cat', '/proc/sys/vm/max_map_count']).stdout);
		const free = Number(run(tooMany, ['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages']).stdout);
		expect(maxMapCount).toBe(65530);
		expect(2 * free).toBeGreaterThan(maxMapCount);
		expect(tooMany.expect).toEqual({ 'kernel.max-map-count': 'fail' });
	});

	it('hugepages-too-many: OVS 2.9 on DPDK 17.11, not running', () => {
		expect(run(tooMany, ['ovs-vswitchd', '--version'])).toEqual({
			stdout: 'ovs-vswitchd (Open vSwitch) 2.9.0\nDPDK 17.11.0\n',
			stderr: '',
			code: 0,
			source: 'listed',
		});
		expect(run(tooMany, ['pidof', 'ovs-vswitchd'])).toEqual({ stdout: '', stderr: '', code: 1, source: 'listed' });
		expect(run(tooMany, ['uname', '-r']).stdout).toBe('3.10.0-693.el7.x86_64\n');
	});

	it('hugepages-healthy: OVS 2.17 on DPDK 21.11, running, with its maps', () => {
		expect(run(healthy, ['cat', '/proc/sys/vm/max_map_count']).stdout).toBe('262144\n');
		expect(run(healthy, ['ovs-vswitchd', '--version']).stdout).toBe('ovs-vswitchd (Open vSwitch) 2.17.0\nDPDK 21.11.0\n');
		const pid = run(healthy, ['pidof', 'ovs-vswitchd']).stdout.trim();
		expect(pid).toMatch(/^\d+$/);
		const maps = run(healthy, ['cat', `/proc/${pid}/maps`]);
		expect(maps.code).toBe(0);
		const lines = maps.stdout.split('\n').slice(0, -1);
		const used =
			Number(run(healthy, ['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages']).stdout) -
			Number(run(healthy, ['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages']).stdout);
		expect(lines.filter((l) => l.includes('/dev/hugepages/rtemap_'))).toHaveLength(used);
		expect(healthy.expect).toEqual({ 'kernel.max-map-count': 'pass' });
	});

	it('hugepages-healthy: maps keeps the kernel layout (a formatter must not strip the trailing blanks)', () => {
		const pid = run(healthy, ['pidof', 'ovs-vswitchd']).stdout.trim();
		const lines = run(healthy, ['cat', `/proc/${pid}/maps`])
			.stdout.split('\n')
			.slice(0, -1);
		for (const line of lines) {
			expect(line).toMatch(/^[0-9a-f]{8,16}-[0-9a-f]{8,16} [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ ( {0,56}[/[].*)?$/);
			if (/ \d+ $/.test(line)) continue;
			expect(line.indexOf(line.includes('/') ? '/' : '[', 50)).toBe(73);
		}
		expect(lines.some((l) => l.endsWith(' 0 '))).toBe(true);
	});

	it.each([
		['hugepages-too-many', '40960'],
		['hugepages-healthy', '4096'],
	])('%s: meminfo, sysfs and ls agree on %s pages of 2 MB', (name, pages) => {
		const s = all.get(name)!;
		const meminfo = run(s, ['cat', '/proc/meminfo']).stdout;
		expect(meminfo).toMatch(new RegExp(`^HugePages_Total: +${pages}$`, 'm'));
		expect(meminfo).toMatch(/^Hugepagesize: +2048 kB$/m);
		expect(meminfo).toMatch(/^MemTotal: +\d+ kB\nMemFree: +\d+ kB\n/);
		expect(run(s, ['ls', '/sys/kernel/mm/hugepages']).stdout).toBe('hugepages-1048576kB\nhugepages-2048kB\n');
		expect(run(s, ['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages']).stdout).toBe(`${pages}\n`);
		expect(run(s, ['cat', '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages']).stdout).toBe('0\n');
		const free = run(s, ['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages']).stdout.trim();
		expect(meminfo).toMatch(new RegExp(`^HugePages_Free: +${free}$`, 'm'));
	});
});
