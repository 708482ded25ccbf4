import { describe, expect, it } from 'vitest';
import type { Facts } from '../core/check.ts';
import type { Status } from '../core/status.ts';
import { comparable, comparableKeys, countLine, diagnoseFleet, findOutliers, groupOutputs, majorityStatus } from './fleet.ts';
import { evidence, OUTLINE, realOutline, record, recorded } from './fixtures/records.ts';

const rows = (check: string, hosts: Record<string, { status: Status; facts?: Facts; output?: string }>) =>
	Object.entries(hosts).map(([host, h]) => ({
		host,
		record: record(check, h.status, { host, facts: h.facts ?? {}, evidence: [evidence('cat /x', h.output ?? 'same\n', [1])] }),
	}));

describe('the count line', () => {
	it('hosts by status, most severe first', () => {
		expect(countLine(['pass', 'fail', 'pass'])).toBe('3 hosts: 1 fail, 2 pass');
		expect(countLine(['error', 'skip', 'warn', 'pass'])).toBe('4 hosts: 1 error, 1 warn, 1 pass, 1 skip');
		expect(countLine(['pass'])).toBe('1 host: 1 pass');
	});
});

describe('majority status', () => {
	it('the most common one; a tie goes to the healthier', () => {
		expect(majorityStatus(['fail', 'fail', 'pass'])).toBe('fail');
		expect(majorityStatus(['fail', 'pass'])).toBe('pass');
		expect(majorityStatus(['error', 'warn'])).toBe('warn');
		expect(majorityStatus(['skip', 'pass'])).toBe('pass');
	});
});

describe('grouping identical outputs', () => {
	it('byte-identical evidence groups hosts, biggest group first; one byte apart is another group', () => {
		const g = groupOutputs(
			rows('bond.status', {
				a: { status: 'pass', output: 'MII Status: up\n' },
				b: { status: 'fail', output: 'MII Status: down\n' },
				c: { status: 'pass', output: 'MII Status: up\n' },
				d: { status: 'pass', output: 'MII Status: up \n' },
			}),
		);
		expect(g.map((x) => [x.hosts, x.status])).toEqual([
			[['a', 'c'], 'pass'],
			[['b'], 'fail'],
			[['d'], 'pass'],
		]);
		expect(g[1]!.evidence).toEqual([{ command: 'cat /x', lines: [{ n: 1, text: 'MII Status: down' }] }]);
	});
});

describe('outliers', () => {
	it('a host whose status differs from most is marked; with two hosts a tie marks the unhealthy one', () => {
		expect(
			findOutliers('c', rows('c', { a: { status: 'pass' }, b: { status: 'fail' }, c: { status: 'pass' } })).map((o) => [
				o.host,
				o.statusDiffers,
				o.majorityStatus,
			]),
		).toEqual([['b', true, 'pass']]);
		expect(findOutliers('c', rows('c', { a: { status: 'fail' }, b: { status: 'pass' } })).map((o) => o.host)).toEqual(['a']);
		expect(findOutliers('c', rows('c', { a: { status: 'fail' } }))).toEqual([]);
	});

	it('net.link-balance: the host whose one link carries all the load is marked by its share, not by raw counters', () => {
		const lb = (share: number[], bytes: number[]) => ({
			status: 'pass' as const,
			facts: { ifaces: ['eth0', 'eth1'], sharePercent: share, txBytes: bytes, busiest: 'eth0', ratio: 1.1, maxRatio: 1.5 },
		});
		const out = findOutliers(
			'net.link-balance',
			rows('net.link-balance', {
				r1: lb([50.4, 49.6], [1_000_000, 984_000]),
				r2: lb([48.9, 51.1], [3_120_500, 3_260_000]),
				r3: lb([100, 0], [8_000_000, 0]),
				r4: lb([51, 49], [700_000, 672_000]),
			}),
		);
		expect(out.map((o) => [o.host, o.statusDiffers, o.facts.map((f) => f.key)])).toEqual([['r3', false, ['sharePercent']]]);
		expect(out[0]!.facts[0]).toEqual({ key: 'sharePercent', value: '100,0', majority: '50.7,49.3' });
	});

	it('bond.status: a bond whose slaves sit in two aggregators is marked, whatever its NICs are called', () => {
		const bond = (aggregators: string[], partnerMac: string) => ({
			status: 'pass' as const,
			facts: { bond: 'bond0', mode: '802.3ad', aggregators, partnerMac, slaves: aggregators.map((a) => a.split('=')[0]!) },
		});
		const out = findOutliers(
			'bond.status',
			rows('bond.status', {
				n1: bond(['eth0=1', 'eth1=1'], '01:e0:52:00:00:01'),
				n2: bond(['eno1=1', 'eno2=1'], '01:e0:52:00:00:02'),
				n3: bond(['eth0=1', 'eth1=2'], '01:e0:52:00:00:03'),
			}),
		);
		expect(out.map((o) => [o.host, o.facts])).toEqual([['n3', [{ key: 'aggregators', value: '1,2', majority: '1,1' }]]]);
	});

	it('two hosts, or values all over the place: no fact marks anyone', () => {
		const two = findOutliers(
			'c',
			rows('c', { a: { status: 'pass', facts: { limit: 65530 } }, b: { status: 'pass', facts: { limit: 262144 } } }),
		);
		expect(two).toEqual([]);
		const spread = findOutliers(
			'c',
			rows('c', {
				a: { status: 'pass', facts: { packets: 100, mode: 'x' } },
				b: { status: 'pass', facts: { packets: 5000, mode: 'y' } },
				c: { status: 'pass', facts: { packets: 90000, mode: 'z' } },
			}),
		);
		expect(spread).toEqual([]);
	});

	it('numbers within 10% of the median agree; a clear majority value marks the odd string out', () => {
		const out = findOutliers(
			'kernel.max-map-count',
			rows('kernel.max-map-count', {
				a: { status: 'pass', facts: { maxMapCount: 262144, processMappings: 1100, rule: 'dynamic' } },
				b: { status: 'pass', facts: { maxMapCount: 262144, processMappings: 1180, rule: 'dynamic' } },
				c: { status: 'pass', facts: { maxMapCount: 65530, processMappings: 1150, rule: 'legacy' } },
			}),
		);
		expect(out.map((o) => [o.host, o.facts.map((f) => `${f.key} ${f.value} vs ${f.majority}`)])).toEqual([
			['c', ['maxMapCount 65530 vs 262144', 'rule legacy vs dynamic']],
		]);
	});

	it('errors and skips are not compared on facts', () => {
		const out = findOutliers(
			'c',
			rows('c', {
				a: { status: 'pass', facts: { n: 1 } },
				b: { status: 'pass', facts: { n: 1 } },
				c: { status: 'pass', facts: { n: 1 } },
				d: { status: 'error', facts: { n: 9 } },
			}),
		);
		expect(out.map((o) => [o.host, o.statusDiffers, o.facts])).toEqual([['d', true, []]]);
	});
});

describe('host-specific facts are not compared', () => {
	it('keys naming addresses, names, pids, interfaces; values holding addresses or interface names', () => {
		const facts: Facts[] = [
			{
				partnerMac: '01:e0:52:00:00:01',
				pid: 4242,
				ifaces: ['eth0'],
				target: '10.0.0.2',
				gw: 'fe80::1',
				busiest: 'eth0',
				aggregators: ['eth0=1'],
				ipForward: 1,
				maxMapCount: 65530,
				since: 'never',
			},
			{
				partnerMac: '01:e0:52:00:00:02',
				pid: 5151,
				ifaces: ['eth1'],
				target: '10.0.0.3',
				gw: 'fe80::2',
				busiest: 'eth1',
				aggregators: ['eth1=1'],
				ipForward: 1,
				maxMapCount: 65530,
				since: 'never',
			},
		];
		expect(comparableKeys(facts).sort()).toEqual(['aggregators', 'ipForward', 'maxMapCount']);
	});

	it('labelled lists compare by their sorted values', () => {
		expect(comparable(['eth1=2', 'eth0=1'])).toEqual([1, 2]);
		expect(comparable(['eno1=up', 'eno2=down'])).toEqual(['down', 'up']);
		expect(comparable(['a', 'b'])).toEqual(['a', 'b']);
		expect(comparable(7)).toBe(7);
	});
});

describe('diagnoseFleet', () => {
	it('hand-built: grid, counts, per-host diagnoses, headline naming who stands out', () => {
		const f = diagnoseFleet(OUTLINE, [
			{ host: 'a', records: [record('net.one', 'pass', { host: 'a' }), record('net.two', 'pass', { host: 'a' })] },
			{ host: 'b', records: [record('net.one', 'fail', { host: 'b', next: '#fix' }), record('net.two', 'pass', { host: 'b' })] },
			{ host: 'c', records: [record('net.one', 'pass', { host: 'c' }), record('net.two', 'pass', { host: 'c' })] },
		]);
		expect(f.summary).toBe('3 hosts: 1 fail, 2 pass');
		expect(f.counts).toEqual({ pass: 2, fail: 1 });
		expect(f.status).toBe('fail');
		expect(f.grid.map((r) => [r.host, r.status, r.cells])).toEqual([
			['a', 'pass', { 'net.one': 'pass', 'net.two': 'pass' }],
			['b', 'fail', { 'net.one': 'fail', 'net.two': 'pass' }],
			['c', 'pass', { 'net.one': 'pass', 'net.two': 'pass' }],
		]);
		expect(f.checks.map((c) => c.id)).toEqual(['net.one', 'net.two', 'net.three']);
		expect(f.groups.map((g) => g.check)).toEqual(['net.one', 'net.two']);
		expect(f.hosts[1]!.fixStep?.href).toBe('/packet-loss/#fix');
		expect(f.headline).toBe('3 hosts: 1 fail, 2 pass; stands out: b (net.one fail)');
	});

	it('recorded: the broken and the healthy hugepage hosts: the broken one is the outlier', async () => {
		const f = diagnoseFleet(await realOutline('hugepage-map-count'), [
			recorded('hugepage-map-count', 'hugepages-too-many'),
			recorded('hugepage-map-count', 'hugepages-healthy'),
		]);
		expect(f.summary).toBe('2 hosts: 1 fail, 1 pass');
		expect(f.outliers.map((o) => [o.host, o.check, o.status, o.majorityStatus])).toEqual([
			['scenario:hugepages-too-many', 'kernel.max-map-count', 'fail', 'pass'],
		]);
		expect(f.groups[0]!.groups).toHaveLength(2);
		expect(f.grid.every((r) => r.hostKey?.startsWith('SHA256:'))).toBe(true);
	});

	it('recorded: three bond hosts: identical bond files grouped, the unbundled bond marked by status and aggregators', async () => {
		const f = diagnoseFleet(await realOutline('bond-vlan-stray-subinterface'), [
			recorded('bond-vlan-stray-subinterface', 'bond-vlan-stray'),
			recorded('bond-vlan-stray-subinterface', 'bond-vlan-healthy'),
			recorded('bond-vlan-stray-subinterface', 'bond-lacp-unbundled'),
		]);
		expect(f.summary).toBe('3 hosts: 2 fail, 1 pass');
		const bond = f.groups.find((g) => g.check === 'bond.status')!;
		expect(bond.groups.map((g) => [g.hosts, g.status])).toEqual([
			[['scenario:bond-vlan-stray', 'scenario:bond-vlan-healthy'], 'pass'],
			[['scenario:bond-lacp-unbundled'], 'fail'],
		]);
		const unbundled = f.outliers.find((o) => o.check === 'bond.status')!;
		expect(unbundled.host).toBe('scenario:bond-lacp-unbundled');
		expect(unbundled.statusDiffers).toBe(true);
		expect(unbundled.facts.find((x) => x.key === 'aggregators')).toEqual({ key: 'aggregators', value: '1,2', majority: '1,1' });
		expect(f.outliers.find((o) => o.check === 'net.vlan-on-bond-slave')?.host).toBe('scenario:bond-vlan-stray');
		expect(f.probeCacheHits).toBe(3);
	});
});
