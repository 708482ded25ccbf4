import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import {
	expectRunbookEmbeds,
	fixtures,
	HOSTILE_TEXT,
	itGivesEachScenarioItsStatus,
	itIsReadOnlyOnLinux,
	scenariosExpecting,
} from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, {
	DEFAULT_BASELINE,
	evaluate,
	hugepagePeak,
	parseHugepageCount,
	parseHugepageSizes,
	parseKernelRelease,
	parseMaps,
	parseMaxMapCount,
	parseMeminfo,
	parseOvsVersion,
	parsePidof,
	recommendedLimit,
	type Observation,
	type Params,
} from './max-map-count.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/max-map-count/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);

// --- parsers over every fixture --------------------------------------------------------------

/** Per probe suffix: fixture -> the value its parser must return, or `null` for "not understood". */
const expected: Record<
	string,
	{
		parse: (t: string) => { ok: boolean; value?: unknown; lines?: number[] };
		cases: Record<string, { value: unknown; lines?: number[] } | null>;
	}
> = {
	max_map_count: {
		parse: parseMaxMapCount,
		cases: {
			'debian12-k6.18.max_map_count.txt': { value: 65530, lines: [1] },
			'debian12-k6.18-sysctl-format.max_map_count.txt': null,
			'debian12-k6.18-cut3.max_map_count.txt': null,
			'empty.max_map_count.txt': null,
		},
	},
	meminfo: {
		parse: parseMeminfo,
		cases: {
			'debian12-k6.18.meminfo.txt': { value: { total: 0, free: 0, rsvd: 0, surp: 0, sizeKb: 2048 }, lines: [46, 47, 50] },
			'debian12-k6.18-256x2M-1x1G.meminfo.txt': { value: { total: 256, free: 256, rsvd: 0, surp: 0, sizeKb: 2048 }, lines: [46, 47, 50] },
			'debian12-k6.18-256x2M-1x1G-ovs-running.meminfo.txt': {
				value: { total: 256, free: 224, rsvd: 0, surp: 0, sizeKb: 2048 },
				lines: [46, 47, 50],
			},
			'debian12-k6.18-grep-huge.meminfo.txt': { value: { total: 0, free: 0, rsvd: 0, surp: 0, sizeKb: 2048 }, lines: [4, 5, 8] },
			'node-exporter.meminfo.txt': { value: { total: 0, free: 0, rsvd: 0, surp: 0, sizeKb: 2048 }, lines: [36, 37, 40] },
			'p4vswitch6-vagrant.meminfo.txt': { value: { total: 0, free: 0, rsvd: 0, surp: 0, sizeKb: 2048 }, lines: [2, 3, 6] },
			'trex416.meminfo.txt': { value: { total: 100, free: 0, rsvd: 0, surp: 0, sizeKb: 1048576 }, lines: [2, 3, 6] },
			'spdk922-excerpt.meminfo.txt': null,
			'debian12-k6.18-cut700.meminfo.txt': null,
			'debian12-k6.18-cut710.meminfo.txt': null,
			'empty.meminfo.txt': null,
		},
	},
	'hugepages-ls': {
		parse: parseHugepageSizes,
		cases: {
			'debian12-k6.18.hugepages-ls.txt': { value: [1048576, 2048], lines: [1, 2] },
			'debian12-k6.18-three-dirs.hugepages-ls.txt': null,
			'debian12-k6.18-cut30.hugepages-ls.txt': null,
			'empty.hugepages-ls.txt': null,
		},
	},
	// An error message where the listing should be (a wrapper that merged the streams) is not a listing.
	'hugepages-ls-stderr': {
		parse: parseHugepageSizes,
		cases: {
			'debian12-k6.18-no-sysfs.hugepages-ls-stderr.txt': null,
			'debian12-k6.18-de-no-sysfs.hugepages-ls-stderr.txt': null,
		},
	},
	nr_hugepages: {
		parse: parseHugepageCount,
		cases: {
			'debian12-k6.18-2048kB-none.nr_hugepages.txt': { value: 0, lines: [1] },
			'debian12-k6.18-2048kB-256.nr_hugepages.txt': { value: 256, lines: [1] },
			'debian12-k6.18-1048576kB-1.nr_hugepages.txt': { value: 1, lines: [1] },
			'debian12-k6.18-1048576kB-none.nr_hugepages.txt': { value: 0, lines: [1] },
			'trex416-node0-1048576kB.nr_hugepages.txt': { value: 50, lines: [1] },
		},
	},
	free_hugepages: {
		parse: parseHugepageCount,
		cases: {
			'debian12-k6.18-2048kB-none.free_hugepages.txt': { value: 0, lines: [1] },
			'debian12-k6.18-2048kB-256.free_hugepages.txt': { value: 256, lines: [1] },
			'debian12-k6.18-2048kB-ovs-running.free_hugepages.txt': { value: 224, lines: [1] },
			'debian12-k6.18-1048576kB-1.free_hugepages.txt': { value: 1, lines: [1] },
			'debian12-k6.18-1048576kB-none.free_hugepages.txt': { value: 0, lines: [1] },
		},
	},
	uname: {
		parse: parseKernelRelease,
		cases: { 'debian12-k6.18.uname.txt': { value: '6.18.44-fc-v669', lines: [1] } },
	},
	'ovs-version': {
		parse: parseOvsVersion,
		cases: {
			'debian12-ovs3.1-dpdk22.11.ovs-version.txt': {
				value: {
					program: 'ovs-vswitchd',
					ovs: '3.1.0',
					ovsMajor: 3,
					ovsMinor: 1,
					dpdk: '22.11.11',
					dpdkMajor: 22,
					dpdkMinor: 11,
					dpdkVendor: null,
				},
				lines: [1, 2],
			},
			'debian12-ovs3.1-nodpdk.ovs-version.txt': {
				value: {
					program: 'ovs-vswitchd',
					ovs: '3.1.0',
					ovsMajor: 3,
					ovsMinor: 1,
					dpdk: null,
					dpdkMajor: null,
					dpdkMinor: null,
					dpdkVendor: null,
				},
				lines: [1],
			},
			'ovs-docs-2.9.ovs-version.txt': {
				value: {
					program: 'ovs-vswitchd',
					ovs: '2.9.0',
					ovsMajor: 2,
					ovsMinor: 9,
					dpdk: '17.11.0',
					dpdkMajor: 17,
					dpdkMinor: 11,
					dpdkVendor: null,
				},
				lines: [1, 2],
			},
			'bluefield2-ovs2.17.2.ovs-version.txt': {
				value: {
					program: 'ovs-vswitchd',
					ovs: '2.17.2-24a81c8',
					ovsMajor: 2,
					ovsMinor: 17,
					dpdk: '20.11.6.1.5',
					dpdkMajor: 20,
					dpdkMinor: 11,
					dpdkVendor: 'MLNX',
				},
				lines: [1, 2],
			},
		},
	},
	'ovs-version-stderr': {
		parse: parseOvsVersion,
		cases: {
			'debian12-not-installed.ovs-version-stderr.txt': null,
			'debian12-de-not-installed.ovs-version-stderr.txt': null,
		},
	},
	pidof: {
		parse: parsePidof,
		cases: {
			'debian12-ovs3.1-running.pidof.txt': { value: [21728], lines: [1] },
			// Empty with exit 1 means "not running"; `run` decides that from the exit code, the parser never sees it as a pid list.
			'debian12-not-running.pidof.txt': null,
		},
	},
	maps: {
		parse: parseMaps,
		cases: {
			'debian12-ovs3.1-dpdk22.11-in-memory.maps.txt': {
				value: { mappings: 258, hugepageMappings: 32, hugepageBytes: 32 * 2 * 1024 * 1024 },
				lines: [258],
			},
			'debian12-ovs3.1-dpdk22.11-legacy-mem.maps.txt': {
				value: { mappings: 268, hugepageMappings: 32, hugepageBytes: 32 * 2 * 1024 * 1024 },
				lines: [268],
			},
			'debian12-ovs3.1-dpdk22.11-cut5000.maps.txt': null,
			'empty.maps.txt': null,
		},
	},
};

describe('parsers over every fixture', () => {
	it('every fixture file has an expectation, and every expectation a file', () => {
		const listed = Object.values(expected).flatMap((p) => Object.keys(p.cases));
		// The ngic-rtc#94 listing is name=value lines of several files; it has its own test below.
		expect(fixtureFiles.filter((f) => f !== 'ngic94.hugepages-2048kB.txt').toSorted()).toEqual(listed.toSorted());
	});

	for (const [probe, { parse, cases }] of Object.entries(expected)) {
		for (const [file, want] of Object.entries(cases)) {
			it(`${file} -> ${want === null ? 'not understood' : JSON.stringify(want.value)}`, () => {
				expect(file.endsWith(`.${probe}.txt`)).toBe(true);
				const got = parse(fx(file));
				if (want === null) {
					expect(got.ok).toBe(false);
				} else {
					expect(got).toEqual({ ok: true, value: want.value, lines: want.lines });
				}
			});
		}
	}

	it('ngic94 sysfs listing: each file value parses as a count', () => {
		const values = Object.fromEntries(
			fx('ngic94.hugepages-2048kB.txt')
				.split(/(?<=\n)/)
				.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
		);
		expect(parseHugepageCount(values.nr_hugepages!)).toEqual({ ok: true, value: 9000, lines: [1] });
		expect(parseHugepageCount(values.free_hugepages!)).toEqual({ ok: true, value: 9000, lines: [1] });
		expect(parseHugepageCount(values.resv_hugepages!)).toEqual({ ok: true, value: 0, lines: [1] });
	});

	it('parsers never throw on hostile input', () => {
		const nasty = [
			...HOSTILE_TEXT,
			'-1\n',
			'1e9\n',
			'99999999999999999999\n',
			'\uFFFD\uFFFD\n',
			'hugepages-0kB\n',
			'HugePages_Free: 5\nHugePages_Total: 3\nHugepagesize: 2048 kB\n',
		];
		for (const parse of [
			parseMaxMapCount,
			parseMeminfo,
			parseHugepageSizes,
			parseHugepageCount,
			parseOvsVersion,
			parseMaps,
			parsePidof,
			parseKernelRelease,
		]) {
			for (const text of nasty) expect(parse(text).ok).toBe(false);
		}
	});
});

// --- evaluate: thresholds -----------------------------------------------------------------------

describe('arithmetic', () => {
	it.each([
		{ rule: 'legacy' as const, sizes: [{ sizeKb: 2048, pages: 40960 }], peak: 81920, sizeKb: 2048 },
		{ rule: 'dynamic' as const, sizes: [{ sizeKb: 2048, pages: 40960 }], peak: 40960, sizeKb: 2048 },
		// 1 GB first (2 x 16), then 2 MB while the 16 stay mapped: 2 x 1024 + 16.
		{
			rule: 'legacy' as const,
			sizes: [
				{ sizeKb: 2048, pages: 1024 },
				{ sizeKb: 1048576, pages: 16 },
			],
			peak: 2064,
			sizeKb: 2048,
		},
		// 2 x 16 of 1 GB outweighs 2 x 4 + 16 at 2 MB.
		{
			rule: 'legacy' as const,
			sizes: [
				{ sizeKb: 2048, pages: 4 },
				{ sizeKb: 1048576, pages: 16 },
			],
			peak: 32,
			sizeKb: 1048576,
		},
		{
			rule: 'legacy' as const,
			sizes: [
				{ sizeKb: 2048, pages: 0 },
				{ sizeKb: 1048576, pages: 16 },
			],
			peak: 32,
			sizeKb: 1048576,
		},
		{
			rule: 'dynamic' as const,
			sizes: [
				{ sizeKb: 2048, pages: 1024 },
				{ sizeKb: 1048576, pages: 16 },
			],
			peak: 1040,
			sizeKb: 1048576,
		},
		{ rule: 'legacy' as const, sizes: [{ sizeKb: 2048, pages: 0 }], peak: 0, sizeKb: null },
	])('$rule $sizes.length sizes -> peak $peak', ({ rule, sizes, peak, sizeKb }) => {
		expect(hugepagePeak(rule, sizes)).toEqual({ peak, sizeKb });
	});

	it.each([
		[82920, 196608],
		[65530, 131072],
		[32768, 65536],
		[1, 65536],
	])('recommendedLimit(%i) -> %i', (required, limit) => {
		expect(recommendedLimit(required)).toBe(limit);
		expect(limit).toBeGreaterThanOrEqual(2 * required);
		expect(limit % 65536).toBe(0);
	});
});

const noProcess = { name: 'ovs-vswitchd', pid: null, maps: null, mapsProblem: null };
const meminfo2M = { total: 0, free: 0, rsvd: 0, surp: 0, sizeKb: 2048 };
function observation(o: Partial<Observation> & { free2M?: number; total2M?: number; dpdk?: string | null }): Observation {
	const free = o.free2M ?? 0;
	return {
		maxMapCount: o.maxMapCount ?? 65530,
		sizes: o.sizes ?? [
			{ sizeKb: 1048576, total: 0, free: 0 },
			{ sizeKb: 2048, total: o.total2M ?? free, free },
		],
		meminfo: meminfo2M,
		process: o.process ?? noProcess,
		version: o.version ?? {
			parsed:
				o.dpdk === undefined
					? null
					: {
							program: 'ovs-vswitchd',
							ovs: '2.9.0',
							ovsMajor: 2,
							ovsMinor: 9,
							dpdk: o.dpdk,
							dpdkMajor: o.dpdk ? Number(o.dpdk.split('.')[0]) : null,
							dpdkMinor: o.dpdk ? Number(o.dpdk.split('.')[1]) : null,
							dpdkVendor: null,
						},
			problem: o.dpdk === undefined ? 'not asked' : null,
		},
		kernel: null,
		evidence: [],
	};
}

describe('evaluate thresholds', () => {
	it.each([
		// legacy: 2 x N + 1000 against 65530, warn above 55700
		{ name: 'legacy 40960 -> fail', free2M: 40960, dpdk: '17.11.0', status: 'fail', required: 82920 },
		{ name: 'legacy 32265 (exactly the limit) -> fail', free2M: 32265, dpdk: '17.11.0', status: 'fail', required: 65530 },
		{ name: 'legacy 32264 -> warn', free2M: 32264, dpdk: '17.11.0', status: 'warn', required: 65528 },
		{ name: 'legacy 27351 (just above 85%) -> warn', free2M: 27351, dpdk: '17.11.0', status: 'warn', required: 55702 },
		{ name: 'legacy 27350 (85% exactly) -> pass', free2M: 27350, dpdk: '17.11.0', status: 'pass', required: 55700 },
		{ name: 'legacy 18.02 is still legacy', free2M: 40960, dpdk: '18.02.2', status: 'fail', required: 82920 },
		{ name: 'dynamic 18.05 40960 -> pass', free2M: 40960, dpdk: '18.05.0', status: 'pass', required: 41960 },
		{ name: 'dynamic 21.11 56000 -> warn', free2M: 56000, dpdk: '21.11.0', status: 'warn', required: 57000 },
		{ name: 'dynamic 21.11 64530 -> fail', free2M: 64530, dpdk: '21.11.0', status: 'fail', required: 65530 },
		{ name: 'unknown version 40960 -> legacy fail', free2M: 40960, dpdk: undefined, status: 'fail', required: 82920 },
		{ name: 'old DPDK 2.2 numbering -> legacy', free2M: 40960, dpdk: '2.2.0', status: 'fail', required: 82920 },
		{ name: 'nothing reserved -> skip', free2M: 0, dpdk: '17.11.0', status: 'skip', required: DEFAULT_BASELINE },
		{
			name: 'all reserved pages taken by others -> skip',
			free2M: 0,
			total2M: 4096,
			dpdk: '17.11.0',
			status: 'skip',
			required: DEFAULT_BASELINE,
		},
	])('$name', ({ free2M, total2M, dpdk, status, required }) => {
		const v = evaluate(observation({ free2M, total2M, dpdk: dpdk ?? undefined }), params());
		expect(v.status).toBe(status);
		expect(v.facts.required).toBe(required);
		expect(check.nextSteps).toContain(v.next);
		if (status === 'fail' || status === 'warn') {
			expect(v.facts.recommended).toBe(recommendedLimit(required));
			expect(v.fix).toEqual([
				`sysctl -w vm.max_map_count=${v.facts.recommended}`,
				`echo 'vm.max_map_count = ${v.facts.recommended}' > /etc/sysctl.d/90-dpdk-hugepages.conf`,
			]);
			expect(v.next).toBe('#raise-the-limit');
		} else {
			expect(v.fix).toBeUndefined();
		}
	});

	it('the dpdkVersion param overrides what the host says', () => {
		const v = evaluate(observation({ free2M: 40960, dpdk: '21.11.0' }), params({ dpdkVersion: '17.11' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ rule: 'legacy', dpdkVersion: '17.11', dpdkVersionSource: 'param' });
	});

	it('a running process: its hugepages come back on restart, its other mappings are the baseline', () => {
		const maps = { mappings: 2300, hugepageMappings: 1024, hugepageBytes: 1024 * 2 * 1024 * 1024 };
		const v = evaluate(
			observation({
				free2M: 31976,
				total2M: 33000,
				dpdk: '17.11.0',
				process: { name: 'ovs-vswitchd', pid: 4242, maps, mapsProblem: null },
			}),
			params(),
		);
		expect(v.facts).toMatchObject({
			baseline: 1276,
			baselineSource: '/proc/4242/maps',
			pagesMappableAtStart: 33000,
			required: 2 * 33000 + 1276,
		});
		expect(v.status).toBe('fail');
	});

	it('a running process whose maps cannot be read: every reserved page counts, default baseline', () => {
		const v = evaluate(
			observation({
				free2M: 100,
				total2M: 30000,
				dpdk: '17.11.0',
				process: { name: 'ovs-vswitchd', pid: 4242, maps: null, mapsProblem: 'permission denied reading /proc/4242/maps' },
			}),
			params(),
		);
		expect(v.facts).toMatchObject({ baseline: DEFAULT_BASELINE, baselineSource: 'default', pagesMappableAtStart: 30000, required: 61000 });
		expect(v.status).toBe('warn');
		expect(v.summary).toContain('permission denied');
	});
});

// --- run() through a scenario-shaped fake ctx --------------------------------------------------

const SIZES = '/sys/kernel/mm/hugepages';
const LS = `ls ${SIZES}`;

/** A host assembled from captured outputs; `files` and `commands` as in a scenario file. */
function host(p: {
	maxMapCount?: string;
	meminfo?: string;
	sizes: Record<number, { nr: string; free: string }>;
	ls?: { stdout?: string; stderr?: string; code?: number; truncated?: boolean };
	uname?: string;
	ovs?: { stdout?: string; stderr?: string; code?: number };
	pidof?: { stdout?: string; stderr?: string; code?: number };
	files?: Record<string, string>;
	unreadable?: string[];
}): FakeHost {
	const files: Record<string, string> = {};
	if (p.maxMapCount !== undefined) files['/proc/sys/vm/max_map_count'] = p.maxMapCount;
	if (p.meminfo !== undefined) files['/proc/meminfo'] = p.meminfo;
	for (const [kb, s] of Object.entries(p.sizes)) {
		files[`${SIZES}/hugepages-${kb}kB/nr_hugepages`] = s.nr;
		files[`${SIZES}/hugepages-${kb}kB/free_hugepages`] = s.free;
	}
	Object.assign(files, p.files);
	const commands: FakeHost['commands'] = {
		[LS]: p.ls ?? { stdout: fx('debian12-k6.18.hugepages-ls.txt') },
		'uname -r': { stdout: p.uname ?? fx('debian12-k6.18.uname.txt') },
		'ovs-vswitchd --version': p.ovs ?? { stderr: fx('debian12-not-installed.ovs-version-stderr.txt'), code: 127 },
		'pidof ovs-vswitchd': p.pidof ?? { stdout: fx('debian12-not-running.pidof.txt'), code: 1 },
	};
	return { files, commands, unreadable: p.unreadable };
}

/**
 * The simulated compute node of the runbook (DESIGN.md scenario `hugepages-too-many`): CentOS 7,
 * 40960 x 2 MB free hugepages, vm.max_map_count at the kernel default. No capture with 40960 pages
 * exists, so the counts and meminfo lines are written here as a scenario file writes them; every
 * other output is a real capture.
 */
const N40960 = '40960\n';
const meminfo40960 =
	'HugePages_Total:   40960\nHugePages_Free:    40960\nHugePages_Rsvd:        0\nHugePages_Surp:        0\nHugepagesize:       2048 kB\n';
const broken = (over: Partial<Parameters<typeof host>[0]> = {}) =>
	host({
		maxMapCount: fx('debian12-k6.18.max_map_count.txt'),
		meminfo: meminfo40960,
		sizes: {
			2048: { nr: N40960, free: N40960 },
			1048576: { nr: fx('debian12-k6.18-1048576kB-none.nr_hugepages.txt'), free: fx('debian12-k6.18-1048576kB-none.free_hugepages.txt') },
		},
		uname: '3.10.0-693.el7.x86_64\n',
		ovs: { stdout: fx('ovs-docs-2.9.ovs-version.txt') },
		...over,
	});

const none1G = { nr: fx('debian12-k6.18-1048576kB-none.nr_hugepages.txt'), free: fx('debian12-k6.18-1048576kB-none.free_hugepages.txt') };

async function runOn(h: FakeHost, p: Record<string, unknown> = {}): Promise<Verdict> {
	return check.run(fakeCtx(h), params(p));
}

describe('run() on scenario-shaped hosts', () => {
	it('centos7 65530 vs 40960 legacy -> fail', async () => {
		const v = await runOn(broken());
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({
			maxMapCount: 65530,
			required: 82920,
			baseline: 1000,
			baselineSource: 'default',
			rule: 'legacy',
			dpdkVersion: '17.11.0',
			ovsVersion: '2.9.0',
			hugepages2M: 40960,
			free2M: 40960,
			hugepages1G: 0,
			recommended: 196608,
		});
		expect(v.summary).toContain('vm.max_map_count is 65530');
		expect(v.summary).toContain('82920');
		expect(v.summary).toContain('2 x 40960 pages of 2 MB');
		expect(v.summary).toContain('not running');
		expect(v.fix).toEqual(['sysctl -w vm.max_map_count=196608', "echo 'vm.max_map_count = 196608' > /etc/sysctl.d/90-dpdk-hugepages.conf"]);
		expect(v.next).toBe('#raise-the-limit');
		const byCommand = Object.fromEntries(v.evidence.map((e) => [e.command, e]));
		expect(byCommand['cat /proc/sys/vm/max_map_count']).toMatchObject({ output: '65530\n', lines: [1] });
		expect(byCommand['cat /proc/meminfo']?.lines).toEqual([1, 2, 5]);
		expect(byCommand[`cat ${SIZES}/hugepages-2048kB/free_hugepages`]).toMatchObject({ output: N40960, lines: [1] });
		expect(byCommand['ovs-vswitchd --version']?.lines).toEqual([1, 2]);
		expect(byCommand['pidof ovs-vswitchd']).toMatchObject({ code: 1 });
	});

	it('centos7 65530 vs 40960, OVS 2.17 on MLNX_DPDK 20.11 (dynamic) -> pass', async () => {
		const v = await runOn(broken({ ovs: { stdout: fx('bluefield2-ovs2.17.2.ovs-version.txt') } }));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ rule: 'dynamic', required: 41960, dpdkVersion: '20.11.6.1.5' });
		expect(v.next).toBe('#if-the-check-passes');
	});

	it('centos7 65530 vs 40960, dpdkVersion=21.11 -> pass', async () => {
		const v = await runOn(broken({ ovs: { stderr: fx('debian12-not-installed.ovs-version-stderr.txt'), code: 127 } }), {
			dpdkVersion: '21.11',
		});
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ rule: 'dynamic', required: 41960, dpdkVersionSource: 'param' });
	});

	it('centos7 65530 vs 56000, DPDK 21.11 -> warn', async () => {
		const v = await runOn(broken({ sizes: { 2048: { nr: '56000\n', free: '56000\n' }, 1048576: none1G } }), { dpdkVersion: '21.11' });
		expect(v.status).toBe('warn');
		expect(v.facts).toMatchObject({ required: 57000, recommended: 131072 });
		expect(v.summary).toContain('85%');
	});

	it('OVS not installed (German shell) -> version unknown, legacy rule stated -> fail', async () => {
		const v = await runOn(broken({ ovs: { stderr: fx('debian12-de-not-installed.ovs-version-stderr.txt'), code: 127 } }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ rule: 'legacy', dpdkVersion: null, ovsVersion: null });
		expect(v.summary).toContain('DPDK version unknown');
		expect(v.summary).toContain('legacy EAL');
		expect(v.summary).toContain('Kommando nicht gefunden');
	});

	it('ovs-vswitchd built without DPDK -> DPDK from the OVS release table', async () => {
		const v = await runOn(broken({ ovs: { stdout: fx('debian12-ovs3.1-nodpdk.ovs-version.txt') } }));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ rule: 'dynamic', dpdkVersion: '22.11', dpdkVersionSource: 'OVS release table', ovsVersion: '3.1.0' });
		expect(v.summary).toContain('printed no DPDK line');
	});

	it('another DPDK process (no version probe) -> legacy rule stated', async () => {
		const h = broken();
		h.commands!['pidof testpmd'] = { code: 1 };
		const ctx = fakeCtx(h);
		const v = await check.run(ctx, params({ process: 'testpmd' }));
		expect(ctx.calls).not.toContain('exec ovs-vswitchd --version');
		expect(v.status).toBe('fail');
		expect(v.summary).toContain('the process is testpmd, not ovs-vswitchd');
	});

	it('ngic94 9000 x 2MB, OVS 2.9 legacy -> pass', async () => {
		const values = Object.fromEntries(
			fx('ngic94.hugepages-2048kB.txt')
				.split(/(?<=\n)/)
				.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
		);
		const v = await runOn(
			host({
				maxMapCount: fx('debian12-k6.18.max_map_count.txt'),
				meminfo: fx('node-exporter.meminfo.txt'),
				sizes: { 2048: { nr: values.nr_hugepages!, free: values.free_hugepages! }, 1048576: none1G },
				ovs: { stdout: fx('ovs-docs-2.9.ovs-version.txt') },
			}),
		);
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ rule: 'legacy', required: 19000, free2M: 9000 });
	});

	it('debian12 ovs3.1 dpdk22.11 running with 256x2M + 1x1G (all captured) -> pass', async () => {
		const v = await runOn(
			host({
				maxMapCount: fx('debian12-k6.18.max_map_count.txt'),
				meminfo: fx('debian12-k6.18-256x2M-1x1G-ovs-running.meminfo.txt'),
				sizes: {
					2048: { nr: fx('debian12-k6.18-2048kB-256.nr_hugepages.txt'), free: fx('debian12-k6.18-2048kB-ovs-running.free_hugepages.txt') },
					1048576: { nr: fx('debian12-k6.18-1048576kB-1.nr_hugepages.txt'), free: fx('debian12-k6.18-1048576kB-1.free_hugepages.txt') },
				},
				ovs: { stdout: fx('debian12-ovs3.1-dpdk22.11.ovs-version.txt') },
				pidof: { stdout: fx('debian12-ovs3.1-running.pidof.txt') },
				files: { '/proc/21728/maps': fx('debian12-ovs3.1-dpdk22.11-in-memory.maps.txt') },
			}),
		);
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({
			rule: 'dynamic',
			dpdkVersion: '22.11.11',
			pid: 21728,
			processMappings: 258,
			processHugepageMappings: 32,
			baseline: 226,
			baselineSource: '/proc/21728/maps',
			// 224 free + the 32 it holds, and the 1 GB page
			pagesMappableAtStart: 257,
			required: 483,
		});
		expect(v.evidence.find((e) => e.command === 'cat /proc/21728/maps')?.lines).toEqual([258]);
	});

	it('debian12 no hugepages (all captured) -> skip', async () => {
		const v = await runOn(
			host({
				maxMapCount: fx('debian12-k6.18.max_map_count.txt'),
				meminfo: fx('debian12-k6.18.meminfo.txt'),
				sizes: {
					2048: { nr: fx('debian12-k6.18-2048kB-none.nr_hugepages.txt'), free: fx('debian12-k6.18-2048kB-none.free_hugepages.txt') },
					1048576: none1G,
				},
			}),
		);
		expect(v.status).toBe('skip');
		expect(v.summary).toContain('No hugepages are reserved');
		expect(v.summary).toContain('will still not start');
		expect(v.next).toBe('#no-hugepages-to-map');
	});

	it('running, maps unreadable (PermissionDenied) -> every reserved page counted, said so', async () => {
		const v = await runOn(
			broken({
				sizes: { 2048: { nr: N40960, free: '39936\n' }, 1048576: none1G },
				pidof: { stdout: '4242\n' },
				files: { '/proc/4242/maps': 'unused' },
				unreadable: ['/proc/4242/maps'],
			}),
		);
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ pagesMappableAtStart: 40960, baselineSource: 'default', pid: 4242 });
		expect(v.summary).toContain('could not be read');
	});

	it('running legacy-mem process holding 32 pages: they count again at restart', async () => {
		const v = await runOn(
			broken({
				sizes: { 2048: { nr: '256\n', free: '224\n' }, 1048576: none1G },
				pidof: { stdout: '22067\n' },
				files: { '/proc/22067/maps': fx('debian12-ovs3.1-dpdk22.11-legacy-mem.maps.txt') },
			}),
		);
		expect(v.facts).toMatchObject({ pagesMappableAtStart: 256, baseline: 236, required: 2 * 256 + 236 });
		expect(v.status).toBe('pass');
	});
});

describe('run() never passes on what it cannot read', () => {
	const cases: { name: string; h: FakeHost; code: string }[] = [
		{ name: 'empty max_map_count -> OutputEmpty', h: broken({ maxMapCount: fx('empty.max_map_count.txt') }), code: 'OutputEmpty' },
		{
			name: 'cut max_map_count -> OutputTruncated',
			h: broken({ maxMapCount: fx('debian12-k6.18-cut3.max_map_count.txt') }),
			code: 'OutputTruncated',
		},
		{
			name: 'sysctl-format max_map_count -> OutputNotUnderstood',
			h: broken({ maxMapCount: fx('debian12-k6.18-sysctl-format.max_map_count.txt') }),
			code: 'OutputNotUnderstood',
		},
		{ name: 'no max_map_count file -> CommandFailed', h: broken({ maxMapCount: undefined }), code: 'CommandFailed' },
		{ name: 'empty meminfo -> OutputEmpty', h: broken({ meminfo: fx('empty.meminfo.txt') }), code: 'OutputEmpty' },
		{
			name: 'meminfo cut mid-line -> OutputTruncated',
			h: broken({ meminfo: fx('debian12-k6.18-cut710.meminfo.txt') }),
			code: 'OutputTruncated',
		},
		{
			name: 'meminfo cut at a line end -> OutputNotUnderstood',
			h: broken({ meminfo: fx('debian12-k6.18-cut700.meminfo.txt') }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'spdk922 meminfo excerpt -> OutputNotUnderstood',
			h: broken({ meminfo: fx('spdk922-excerpt.meminfo.txt') }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'German ls error (no sysfs) -> CommandFailed',
			h: broken({ ls: { stderr: fx('debian12-k6.18-de-no-sysfs.hugepages-ls-stderr.txt'), code: 2 } }),
			code: 'CommandFailed',
		},
		{
			name: 'English ls error (no sysfs) -> CommandFailed',
			h: broken({ ls: { stderr: fx('debian12-k6.18-no-sysfs.hugepages-ls-stderr.txt'), code: 2 } }),
			code: 'CommandFailed',
		},
		{
			name: 'German ls error on stdout, exit 0 -> OutputNotUnderstood',
			h: broken({ ls: { stdout: fx('debian12-k6.18-de-no-sysfs.hugepages-ls-stderr.txt') } }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'ls not installed -> CommandMissing',
			h: broken({ ls: { stderr: 'bash: ls: command not found\n', code: 127 } }),
			code: 'CommandMissing',
		},
		{
			name: 'ls listing cut -> OutputTruncated',
			h: broken({ ls: { stdout: fx('debian12-k6.18-cut30.hugepages-ls.txt') } }),
			code: 'OutputTruncated',
		},
		{
			name: 'ls cut by the transport -> OutputTruncated',
			h: broken({ ls: { stdout: fx('debian12-k6.18.hugepages-ls.txt'), truncated: true } }),
			code: 'OutputTruncated',
		},
		{ name: 'empty ls -> OutputEmpty', h: broken({ ls: { stdout: fx('empty.hugepages-ls.txt') } }), code: 'OutputEmpty' },
		{
			name: 'ls of three dirs -> OutputNotUnderstood',
			h: broken({ ls: { stdout: fx('debian12-k6.18-three-dirs.hugepages-ls.txt') } }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'free_hugepages missing -> CommandFailed',
			h: broken({ sizes: { 2048: { nr: N40960, free: N40960 } }, ls: { stdout: fx('debian12-k6.18.hugepages-ls.txt') } }),
			code: 'CommandFailed',
		},
		{
			name: 'free_hugepages not a number -> OutputNotUnderstood',
			h: broken({ sizes: { 2048: { nr: N40960, free: fx('ngic94.hugepages-2048kB.txt') }, 1048576: none1G } }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'maps cut -> OutputTruncated',
			h: broken({ pidof: { stdout: '21728\n' }, files: { '/proc/21728/maps': fx('debian12-ovs3.1-dpdk22.11-cut5000.maps.txt') } }),
			code: 'OutputTruncated',
		},
		{
			name: 'pidof not installed -> CommandMissing',
			h: broken({ pidof: { stderr: 'bash: pidof: command not found\n', code: 127 } }),
			code: 'CommandMissing',
		},
		{
			name: 'pidof garbage -> OutputNotUnderstood',
			h: broken({ pidof: { stdout: fx('debian12-de-not-installed.ovs-version-stderr.txt') } }),
			code: 'OutputNotUnderstood',
		},
	];
	it.each(cases)('$name', async ({ h, code }) => {
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.hint).toBeTruthy();
		expect(v.next).toBe('#work-it-out-by-hand');
		expect(v.evidence.length).toBeGreaterThan(0);
	});
});

// --- contract, params, runbook, scenarios --------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'kernel.max-map-count');

	it.each([
		[{}, true],
		[{ process: 'ovs-vswitchd' }, true],
		[{ process: 'dpdk-testpmd' }, true],
		[{ dpdkVersion: '17.11' }, true],
		[{ dpdkVersion: '21.11.2' }, true],
		[{ process: '-x' }, false],
		[{ process: 'ovs vswitchd' }, false],
		[{ process: 'a;b' }, false],
		[{ process: 'x'.repeat(33) }, false],
		[{ dpdkVersion: 'latest' }, false],
		[{ other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});

	it('probes list every read and command, the version only for ovs-vswitchd', () => {
		const shown = (p: Record<string, unknown>) => check.probes(params(p)).map(callOf);
		expect(shown({})).toEqual([
			'read /proc/sys/vm/max_map_count',
			'read /proc/meminfo',
			`exec ${LS}`,
			`read ${SIZES}/hugepages-2048kB/nr_hugepages`,
			`read ${SIZES}/hugepages-2048kB/free_hugepages`,
			`read ${SIZES}/hugepages-1048576kB/nr_hugepages`,
			`read ${SIZES}/hugepages-1048576kB/free_hugepages`,
			'exec uname -r',
			'exec ovs-vswitchd --version',
			'exec pidof ovs-vswitchd',
			'read /proc/PID/maps',
		]);
		expect(shown({ process: 'testpmd' })).not.toContain('exec ovs-vswitchd --version');
		expect(shown({ process: 'testpmd' })).toContain('exec pidof testpmd');
	});

	it('run only reads and runs what probes announce (sizes and pid filled in)', async () => {
		const ctx = fakeCtx(
			broken({ pidof: { stdout: '21728\n' }, files: { '/proc/21728/maps': fx('debian12-ovs3.1-dpdk22.11-in-memory.maps.txt') } }),
		);
		await check.run(ctx, params());
		const announced = check.probes(params()).map((x) => callOf(x).replace('PID', '21728'));
		expect(ctx.calls.toSorted()).toEqual(announced.toSorted());
	});

	it('every anchor in nextSteps is a heading of the runbook, which lists this check', () => {
		const rb = expectRunbookEmbeds(check, 'hugepage-map-count');
		expect(rb.body).toContain('<Check id="kernel.max-map-count"');
	});
});

describe('training scenarios that expect this check', () => {
	const scenarios = scenariosExpecting(check.id);
	it.skipIf(scenarios.length === 0)('there is at least one (skipped when content/scenarios has none)', () => {
		expect(scenarios.length).toBeGreaterThan(0);
	});
	itGivesEachScenarioItsStatus(check.id, scenarios, runOn);
});
