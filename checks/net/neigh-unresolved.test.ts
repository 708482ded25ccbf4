import { describe, expect, it } from 'vitest';
import { describeTrainingScenarios, expectRunbookEmbeds, fixtures } from '../../test/support/check-tests.ts';
import { fakeCtx, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, { canonicalAddress, parseNeighJson, parseNeighText, type Params } from './neigh-unresolved.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/neigh-unresolved/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);
const NO_JSON = { stderr: fx('localstack9326-centos.ip-json-stderr.txt'), code: 255 };

// --- parsers over every table fixture ------------------------------------------------------------

/** Fixture -> `dst state` per entry, or null for "not understood". */
const tables: Record<string, string[] | null> = {
	'debian12-healthy.ip-j-neigh.txt': ['198.18.40.2 REACHABLE', '2001:db8:40::2 REACHABLE'],
	'debian12-healthy.ip-neigh.txt': ['198.18.40.2 REACHABLE', '2001:db8:40::2 REACHABLE'],
	'debian12-incomplete.ip-j-neigh.txt': [
		'198.18.40.2 REACHABLE',
		'198.18.40.99 INCOMPLETE',
		'2001:db8:40::99 INCOMPLETE',
		'2001:db8:40::2 REACHABLE',
	],
	'debian12-incomplete.ip-neigh.txt': [
		'198.18.40.2 REACHABLE',
		'198.18.40.99 INCOMPLETE',
		'2001:db8:40::99 INCOMPLETE',
		'2001:db8:40::2 REACHABLE',
	],
	'debian12-failed.ip-j-neigh.txt': [
		'198.18.40.2 REACHABLE',
		'198.18.40.99 FAILED',
		'fe80::e875:b6ff:fec8:d443 DELAY',
		'2001:db8:40::99 FAILED',
		'2001:db8:40::2 REACHABLE',
	],
	'debian12-failed.ip-neigh.txt': [
		'198.18.40.2 REACHABLE',
		'198.18.40.99 FAILED',
		'fe80::e875:b6ff:fec8:d443 DELAY',
		'2001:db8:40::99 FAILED',
		'2001:db8:40::2 REACHABLE',
	],
	'debian12-empty-ns.ip-j-neigh.txt': [],
	'debian12-empty-ns.ip-neigh.txt': [],
	'debian12-mixed.ip-j-neigh.txt': ['198.18.41.99 FAILED', '198.18.41.2 DELAY', '198.18.41.50 PERMANENT', '2001:db8:41::2 REACHABLE'],
	'debian12-mixed.ip-neigh.txt': ['198.18.41.99 FAILED', '198.18.41.2 DELAY', '198.18.41.50 PERMANENT', '2001:db8:41::2 REACHABLE'],
	'debian12-db01-incomplete.ip-j-neigh.txt': ['192.168.53.1 REACHABLE', '192.168.53.253 INCOMPLETE', '192.168.53.252 REACHABLE'],
	'debian12-db01-incomplete.ip-neigh.txt': ['192.168.53.1 REACHABLE', '192.168.53.253 INCOMPLETE', '192.168.53.252 REACHABLE'],
	'debian12-db01-failed.ip-j-neigh.txt': ['192.168.53.252 REACHABLE', '192.168.53.1 REACHABLE', '192.168.53.253 FAILED'],
	'debian12-db01-failed.ip-neigh.txt': ['192.168.53.252 REACHABLE', '192.168.53.1 REACHABLE', '192.168.53.253 FAILED'],
	'debian12-db01-healthy.ip-j-neigh.txt': ['192.168.53.1 REACHABLE', '192.168.53.253 REACHABLE', '192.168.53.252 REACHABLE'],
	'debian12-db01-healthy.ip-neigh.txt': ['192.168.53.1 REACHABLE', '192.168.53.253 REACHABLE', '192.168.53.252 REACHABLE'],
	'debian12-db02-bond0.ip-j-neigh.txt': ['198.18.60.1 REACHABLE'],
	'debian12-db02-bond0.ip-neigh.txt': ['198.18.60.1 REACHABLE'],
	'shared-debian12-pretty.ip-j-neigh.txt': ['10.9.0.99 FAILED', '10.9.0.2 STALE'],
	'debian12-brief.ip-neigh.txt': null,
	'debian12-mixed-cut120.ip-j-neigh.txt': null,
	'debian12-mixed-cut70.ip-neigh.txt': null,
	'empty.ip-j-neigh.txt': null,
};

/** `ip -s neigh show <target>` fixtures: dst, state, probes, used. */
const stats: Record<string, { dst: string; state: string; probes: number; used: [number, number, number] }[]> = {
	'debian12-healthy-target.ip-s-neigh.txt': [{ dst: '198.18.40.2', state: 'REACHABLE', probes: 4, used: [0, 0, 0] }],
	'debian12-incomplete-target.ip-s-neigh.txt': [{ dst: '198.18.40.99', state: 'INCOMPLETE', probes: 4, used: [0, 60, 0] }],
	'debian12-failed-target.ip-s-neigh.txt': [{ dst: '198.18.40.99', state: 'FAILED', probes: 6, used: [5, 65, 1] }],
	'debian12-failed-target-v6.ip-s-neigh.txt': [{ dst: '2001:db8:40::99', state: 'FAILED', probes: 6, used: [5, 65, 1] }],
	'debian12-absent-target.ip-s-neigh.txt': [],
	'debian12-db01-incomplete-253.ip-s-neigh.txt': [{ dst: '192.168.53.253', state: 'INCOMPLETE', probes: 5, used: [1, 61, 1] }],
	'debian12-db01-failed-253.ip-s-neigh.txt': [{ dst: '192.168.53.253', state: 'FAILED', probes: 6, used: [5, 65, 2] }],
	'debian12-db01-healthy-253.ip-s-neigh.txt': [{ dst: '192.168.53.253', state: 'REACHABLE', probes: 4, used: [0, 0, 0] }],
	'debian12-mixed-all.ip-s-neigh.txt': [
		{ dst: '198.18.41.99', state: 'FAILED', probes: 6, used: [4, 5, 0] },
		{ dst: '198.18.41.2', state: 'DELAY', probes: 4, used: [4, 4, 3] },
		{ dst: '198.18.41.50', state: 'PERMANENT', probes: 0, used: [4, 4, 4] },
		{ dst: '2001:db8:41::2', state: 'REACHABLE', probes: 4, used: [4, 4, 4] },
	],
};

describe('neighbour parsers over every fixture', () => {
	it('every fixture is covered (tables, -s answers, stderr captures)', () => {
		const stderr = fixtureFiles.filter((f) => f.includes('stderr'));
		expect([...Object.keys(tables), ...Object.keys(stats), ...stderr].toSorted()).toEqual(fixtureFiles.toSorted());
	});
	for (const [file, want] of Object.entries(tables)) {
		it(`${file} -> ${want === null ? 'not understood' : `${want.length} entries`}`, () => {
			const p = file.includes('.ip-j-') ? parseNeighJson(fx(file)) : parseNeighText(fx(file));
			if (want === null) {
				expect(p.ok).toBe(false);
				return;
			}
			if (!p.ok) throw new Error(p.reason);
			expect(p.value.map((e) => `${e.dst} ${e.states.join(',')}`)).toEqual(want);
		});
	}
	for (const [file, want] of Object.entries(stats)) {
		it(`${file} -> probes and used counters`, () => {
			const p = parseNeighText(fx(file));
			if (!p.ok) throw new Error(p.reason);
			expect(p.value.map((e) => ({ dst: e.dst, state: e.states.join(','), probes: e.probes, used: e.used }))).toEqual(want);
		});
	}
	it('reads lladdr, router and the lines of pretty JSON', () => {
		const t = parseNeighText(fx('debian12-mixed.ip-neigh.txt'));
		if (!t.ok) throw new Error(t.reason);
		expect(t.value[3]).toMatchObject({ dst: '2001:db8:41::2', dev: 'veth1', lladdr: '7a:e1:fa:a3:32:53', router: true, line: 4 });
		const j = parseNeighJson(fx('shared-debian12-pretty.ip-j-neigh.txt'));
		if (!j.ok) throw new Error(j.reason);
		expect(j.value.map((e) => e.line)).toEqual([2, 6]);
	});
	it('canonicalAddress: IPv6 spelt as iproute2 prints it', () => {
		expect(canonicalAddress('2001:DB8:0040:0::99')).toBe('2001:db8:40::99');
		expect(canonicalAddress('192.168.53.253')).toBe('192.168.53.253');
	});
});

// --- verdicts ----------------------------------------------------------------------------------------

const jsonHost = (table: string, more: FakeHost['commands'] = {}): FakeHost => ({
	commands: { 'ip -j neigh show': { stdout: table }, ...more },
});
const textHost = (table: string, more: FakeHost['commands'] = {}): FakeHost => ({
	commands: { 'ip -j neigh show': NO_JSON, 'ip neigh show': { stdout: table }, ...more },
});

describe('net.neigh-unresolved without a target', () => {
	it.each([
		['debian12-healthy.ip-j-neigh.txt', 'pass'],
		['debian12-incomplete.ip-j-neigh.txt', 'fail'],
		['debian12-failed.ip-j-neigh.txt', 'fail'],
		['debian12-mixed.ip-j-neigh.txt', 'fail'],
		['debian12-empty-ns.ip-j-neigh.txt', 'pass'],
		['debian12-db01-healthy.ip-j-neigh.txt', 'pass'],
		['debian12-db01-incomplete.ip-j-neigh.txt', 'fail'],
		['shared-debian12-pretty.ip-j-neigh.txt', 'fail'],
		['debian12-mixed-cut120.ip-j-neigh.txt', 'error'],
		['empty.ip-j-neigh.txt', 'error'],
	])('%s (JSON) -> %s', async (file, status) => {
		const v = await check.run(fakeCtx(jsonHost(fx(file))), params());
		expect(v.status, v.summary).toBe(status);
	});

	it.each([
		['debian12-healthy.ip-neigh.txt', 'pass'],
		['debian12-failed.ip-neigh.txt', 'fail'],
		['debian12-empty-ns.ip-neigh.txt', 'pass'],
		['debian12-db01-incomplete.ip-neigh.txt', 'fail'],
		['debian12-brief.ip-neigh.txt', 'error'],
		['debian12-mixed-cut70.ip-neigh.txt', 'error'],
	])('%s (text, iproute2 without -j) -> %s', async (file, status) => {
		const v = await check.run(fakeCtx(textHost(fx(file))), params());
		expect(v.status, v.summary).toBe(status);
	});

	it('a fail lists the unresolved entries, counts per device and marks their lines', async () => {
		const v = await check.run(fakeCtx(jsonHost(fx('debian12-failed.ip-j-neigh.txt'))), params());
		expect(v.summary).toBe(
			'2 neighbours never answered: 198.18.40.99 dev veth1 FAILED; 2001:db8:40::99 dev veth1 FAILED (unresolved per device: veth1 2 of 5).',
		);
		expect(v.facts).toMatchObject({ entries: 5, unresolvedCount: 2, perDevice: ['veth1: 2 unresolved of 5'] });
		expect(v.next).toBe('#look-for-a-vlan-device-on-a-bond-slave');
		const t = await check.run(fakeCtx(textHost(fx('debian12-failed.ip-neigh.txt'))), params());
		expect(t.evidence[1]!.lines).toEqual([2, 4]);
	});
});

describe('net.neigh-unresolved with a target', () => {
	const db01 = (table: string, s: string) => textHost(fx(table), { 'ip -s neigh show 192.168.53.253': { stdout: fx(s) } });

	it('target INCOMPLETE -> fail with the probes sent', async () => {
		const v = await check.run(
			fakeCtx(db01('debian12-db01-incomplete.ip-neigh.txt', 'debian12-db01-incomplete-253.ip-s-neigh.txt')),
			params({ target: '192.168.53.253' }),
		);
		expect(v.status).toBe('fail');
		expect(v.summary).toBe(
			'192.168.53.253 never answers: its entry on bond0.53 is INCOMPLETE (5 probes sent, used 1 s ago, last confirmed 61 s ago). The host asks and no reply reaches the device that asked.',
		);
		expect(v.facts).toMatchObject({ target: '192.168.53.253', targetStates: ['bond0.53: INCOMPLETE'], probes: 5 });
		expect(v.evidence.map((e) => [e.command, e.lines])).toEqual([
			['ip -j neigh show', []],
			['ip neigh show', [2]],
			['ip -s neigh show 192.168.53.253', [1]],
		]);
	});

	it('target FAILED -> fail', async () => {
		const v = await check.run(
			fakeCtx(db01('debian12-db01-failed.ip-neigh.txt', 'debian12-db01-failed-253.ip-s-neigh.txt')),
			params({ target: '192.168.53.253' }),
		);
		expect(v.status).toBe('fail');
		expect(v.summary).toMatch(/is FAILED \(6 probes sent/);
	});

	it('target resolved -> pass, even with another neighbour unresolved', async () => {
		const host = textHost(fx('debian12-db01-incomplete.ip-neigh.txt'), { 'ip -s neigh show 192.168.53.252': { stdout: '' } });
		const v = await check.run(fakeCtx(host), params({ target: '192.168.53.252' }));
		expect(v.status).toBe('pass');
		expect(v.summary).toMatch(/^192\.168\.53\.252 resolves: bond0\.53 REACHABLE at 2e:89:88:38:bc:c7/);
		expect(v.facts.unresolvedCount).toBe(1);
	});

	it('target never tried -> warn, with what to do', async () => {
		const host = jsonHost(fx('debian12-healthy.ip-j-neigh.txt'), {
			'ip -s neigh show 198.18.40.77': { stdout: fx('debian12-absent-target.ip-s-neigh.txt') },
		});
		const v = await check.run(fakeCtx(host), params({ target: '198.18.40.77' }));
		expect(v.status).toBe('warn');
		expect(v.summary).toMatch(/No neighbour entry for 198\.18\.40\.77.*Ping it from this host/);
	});

	it('IPv6 target written another way is still found', async () => {
		const host = jsonHost(fx('debian12-failed.ip-j-neigh.txt'), {
			'ip -s neigh show 2001:DB8:40:0::99': { stdout: fx('debian12-failed-target-v6.ip-s-neigh.txt') },
		});
		const v = await check.run(fakeCtx(host), params({ target: '2001:DB8:40:0::99' }));
		expect(v.status).toBe('fail');
		expect(v.facts.probes).toBe(6);
	});

	it('params: IPv4 or IPv6 only; anything else is refused before it reaches a command', () => {
		for (const ok of ['192.168.53.253', '2001:db8::1', '::1']) expect(check.params.safeParse({ target: ok }).success, ok).toBe(true);
		for (const bad of ['192.168.53.253;id', '$(id)', 'db01', '192.168.53.256', '-s', ''])
			expect(check.params.safeParse({ target: bad }).success, bad).toBe(false);
	});

	it('probes: the table, its text form, and the counters of the target', () => {
		expect(check.probes(params({ target: '192.168.53.253' })).map((p) => (p.kind === 'exec' ? p.argv.join(' ') : p.path))).toEqual([
			'ip -j neigh show',
			'ip neigh show',
			'ip -s neigh show 192.168.53.253',
		]);
		expect(check.probes(params())).toHaveLength(2);
	});
});

describe('errors', () => {
	it('ip missing -> CommandMissing', async () => {
		const v = await check.run(
			fakeCtx({ commands: { 'ip -j neigh show': { stderr: fx('debian12-not-installed.ip-neigh-stderr.txt'), code: 127 } } }),
			params(),
		);
		expect(v.code).toBe('CommandMissing');
	});
	it('cut by the transport -> OutputTruncated; empty -> OutputEmpty', async () => {
		const cut = await check.run(
			fakeCtx({ commands: { 'ip -j neigh show': { stdout: fx('debian12-healthy.ip-j-neigh.txt'), truncated: true } } }),
			params(),
		);
		expect(cut.code).toBe('OutputTruncated');
		const empty = await check.run(fakeCtx(jsonHost('')), params());
		expect(empty.code).toBe('OutputEmpty');
	});
	it('another failure -> CommandFailed', async () => {
		const v = await check.run(
			fakeCtx({ commands: { 'ip -j neigh show': { stderr: 'RTNETLINK answers: Operation not permitted\n', code: 2 } } }),
			params(),
		);
		expect(v.code).toBe('CommandFailed');
	});

	it('every anchor in nextSteps is a heading of the runbook, which lists this check', () => {
		expectRunbookEmbeds(check, 'bond-vlan-stray-subinterface');
	});
});

describeTrainingScenarios(check.id, (h) => check.run(fakeCtx(h), params()));
