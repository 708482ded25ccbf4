import { describe, expect, it } from 'vitest';
import { parseBondingList, parseProcBonding } from '../../src/core/parse/bonding.ts';
import { describeTrainingScenarios, expectRunbookEmbeds, fixtures } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, { evaluate, type Params } from './status.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/status/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);
const FILE = '/proc/net/bonding/bond0';

// --- the parser over every /proc/net/bonding fixture -------------------------------------------------

/** Fixture -> what the parser must find, or null for "not understood". */
const parsedAs: Record<
	string,
	{ mode: string; slaves: string[]; down: string[]; aggregator: number | null; partner: string | null; hidden?: boolean } | null
> = {
	'insights-v3.7.1-rr.proc-bonding.txt': { mode: 'balance-rr', slaves: ['eno1', 'eno2'], down: [], aggregator: null, partner: null },
	'insights-v3.7.1-xor.proc-bonding.txt': { mode: 'balance-xor', slaves: ['eno1', 'eno2'], down: [], aggregator: null, partner: null },
	'insights-v3.2.4-8023ad-unbundled.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['eth1', 'eth2'],
		down: [],
		aggregator: 3,
		partner: '00:00:00:00:00:00',
	},
	'insights-v3.7.1-ab.proc-bonding.txt': {
		mode: 'active-backup',
		slaves: ['enp17s0f0', 'enp17s0f1'],
		down: [],
		aggregator: null,
		partner: null,
	},
	'insights-v3.7.1-ab-arp-failures.proc-bonding.txt': {
		mode: 'active-backup',
		slaves: ['em3', 'p2p3'],
		down: [],
		aggregator: null,
		partner: null,
	},
	'insights-v3.7.1-8023ad-slave-down.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['enp0s9', 'enp0s8'],
		down: ['enp0s8'],
		aggregator: 1,
		partner: '00:00:00:00:00:00',
	},
	'telegraf-v3.5.0-8023ad-no-aggregator.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['eth1', 'eth2'],
		down: [],
		aggregator: null,
		partner: null,
		hidden: false,
	},
	'telegraf-v3.6.0-ab-slave-down.proc-bonding.txt': {
		mode: 'active-backup',
		slaves: ['eth3', 'eth2'],
		down: ['eth3'],
		aggregator: null,
		partner: null,
	},
	'blackmetalz-centos7-8023ad-unbundled.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['enp1s0f0', 'enp1s0f1'],
		down: ['enp1s0f0'],
		aggregator: 2,
		partner: '00:00:00:00:00:00',
	},
	'lordpedal-debian12-8023ad-nonroot.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['enp5s0f0', 'enp5s0f1', 'enp0s31f6'],
		down: [],
		aggregator: null,
		partner: null,
		hidden: true,
	},
	'composed-khanhnt99-ubuntu1804-8023ad.proc-bonding.txt': {
		mode: '802.3ad',
		slaves: ['enp5s0f1', 'enp5s0f0'],
		down: [],
		aggregator: 1,
		partner: '01:e0:52:00:00:01',
		hidden: false,
	},
	'khanhnt99-ubuntu1804-8023ad-cut.proc-bonding.txt': null,
	'blackmetalz-centos7-cut300.proc-bonding.txt': null,
	'controller1-vlan-config-not-bonding.proc-bonding.txt': null,
	'empty.proc-bonding.txt': null,
};

describe('parseProcBonding over every fixture', () => {
	const files = fixtureFiles.filter((f) => f.endsWith('.proc-bonding.txt'));
	it('every fixture has an expectation', () => {
		expect(files.toSorted()).toEqual(Object.keys(parsedAs).toSorted());
	});
	for (const [file, want] of Object.entries(parsedAs)) {
		it(`${file} -> ${want === null ? 'not understood' : `${want.mode}, ${want.slaves.length} slaves`}`, () => {
			const p = parseProcBonding(fx(file));
			if (want === null) {
				expect(p.ok).toBe(false);
				return;
			}
			if (!p.ok) throw new Error(p.reason);
			expect(p.value.mode).toBe(want.mode);
			expect(p.value.slaves.map((s) => s.name)).toEqual(want.slaves);
			expect(p.value.slaves.filter((s) => s.miiStatus !== 'up').map((s) => s.name)).toEqual(want.down);
			expect(p.value.activeAggregator?.id ?? null).toBe(want.aggregator);
			expect(p.value.activeAggregator?.partnerMac ?? null).toBe(want.partner);
			if (want.hidden !== undefined) expect(p.value.partnerHidden).toBe(want.hidden);
		});
	}

	it('keeps line numbers of what decides', () => {
		const p = parseProcBonding(fx('blackmetalz-centos7-8023ad-unbundled.proc-bonding.txt'));
		if (!p.ok) throw new Error(p.reason);
		expect(p.value.modeLine).toBe(3);
		expect(p.value.activeAggregator!.partnerMacLine).toBe(21);
		expect(p.value.slaves[0]!).toMatchObject({
			name: 'enp1s0f0',
			line: 23,
			miiLine: 24,
			aggregatorLine: 30,
			aggregatorId: 1,
			linkFailureCount: 2,
		});
		expect(p.value.slaves[1]!.partnerMac).toBe('00:00:00:00:00:00');
	});

	it('reads `Aggregator ID: N/A` as no aggregator and the no-aggregator line', () => {
		const p = parseProcBonding(fx('telegraf-v3.5.0-8023ad-no-aggregator.proc-bonding.txt'));
		if (!p.ok) throw new Error(p.reason);
		expect(p.value.noAggregatorLine).toBe(13);
		expect(p.value.slaves.map((s) => s.aggregatorId)).toEqual([null, null]);
	});

	it('says why a cut file is refused', () => {
		const p = parseProcBonding(fx('khanhnt99-ubuntu1804-8023ad-cut.proc-bonding.txt'));
		expect(p.ok).toBe(false);
		if (!p.ok) expect(p.reason).toMatch(/port state.*cut/);
	});

	it('parseBondingList: names one per line, nothing is a valid empty answer, junk is refused', () => {
		expect(parseBondingList('bond0\nbond1\n')).toMatchObject({ ok: true, value: ['bond0', 'bond1'] });
		expect(parseBondingList('')).toMatchObject({ ok: true, value: [] });
		expect(parseBondingList(fx('debian12-no-bonding.ls-bonding-stderr.txt')).ok).toBe(false);
		expect(parseBondingList('bond0').ok).toBe(false);
	});
});

// --- the verdict over every fixture ----------------------------------------------------------------

const verdictOf: Record<string, { status: string; summary: RegExp; next?: string }> = {
	'insights-v3.7.1-rr.proc-bonding.txt': { status: 'pass', summary: /balance-rr; 2 of 2 slaves up/, next: '#if-every-check-passes' },
	'insights-v3.7.1-xor.proc-bonding.txt': { status: 'pass', summary: /balance-xor, layer2\+3/ },
	'insights-v3.2.4-8023ad-unbundled.proc-bonding.txt': {
		status: 'fail',
		summary: /no LACP partner.*eth2 is in aggregator 2, the bond uses aggregator 3/,
		next: '#fix-the-switch-side-of-the-bond',
	},
	'insights-v3.7.1-ab.proc-bonding.txt': { status: 'pass', summary: /active slave enp17s0f0/ },
	'insights-v3.7.1-ab-arp-failures.proc-bonding.txt': { status: 'pass', summary: /em3 92028, p2p3 71524; run the check again/ },
	'insights-v3.7.1-8023ad-slave-down.proc-bonding.txt': { status: 'fail', summary: /no LACP partner.*enp0s8 has no link/ },
	'telegraf-v3.5.0-8023ad-no-aggregator.proc-bonding.txt': { status: 'fail', summary: /no active aggregator/ },
	'telegraf-v3.6.0-ab-slave-down.proc-bonding.txt': {
		status: 'warn',
		summary: /eth3 has no link .*without redundancy/,
		next: '#fix-the-switch-side-of-the-bond',
	},
	'blackmetalz-centos7-8023ad-unbundled.proc-bonding.txt': { status: 'fail', summary: /Partner Mac Address 00:00:00:00:00:00/ },
	'lordpedal-debian12-8023ad-nonroot.proc-bonding.txt': {
		status: 'pass',
		summary: /partner hidden \(not read as root\).*in one aggregator/,
	},
	'composed-khanhnt99-ubuntu1804-8023ad.proc-bonding.txt': { status: 'pass', summary: /aggregator 1, partner 01:e0:52:00:00:01/ },
	'khanhnt99-ubuntu1804-8023ad-cut.proc-bonding.txt': { status: 'error', summary: /cut/ },
	'blackmetalz-centos7-cut300.proc-bonding.txt': { status: 'error', summary: /cut/ },
	'controller1-vlan-config-not-bonding.proc-bonding.txt': { status: 'error', summary: /not "Key: value"/ },
	'empty.proc-bonding.txt': { status: 'error', summary: /empty/ },
};

describe('bond.status run() on every fixture, as /proc/net/bonding/bond0', () => {
	for (const [file, want] of Object.entries(verdictOf)) {
		it(`${file} -> ${want.status}`, async () => {
			const v = await check.run(fakeCtx({ files: { [FILE]: fx(file) } }), params());
			expect(v.status, v.summary).toBe(want.status);
			expect(v.summary).toMatch(want.summary);
			if (want.next) expect(v.next).toBe(want.next);
			expect(v.evidence[0]!.command).toBe(`cat ${FILE}`);
		});
	}

	it('errors carry the catalogue code that says why', async () => {
		const code = async (file: string) => (await check.run(fakeCtx({ files: { [FILE]: fx(file) } }), params())).code;
		expect(await code('empty.proc-bonding.txt')).toBe('OutputEmpty');
		expect(await code('blackmetalz-centos7-cut300.proc-bonding.txt')).toBe('OutputTruncated');
		expect(await code('khanhnt99-ubuntu1804-8023ad-cut.proc-bonding.txt')).toBe('OutputTruncated');
		expect(await code('controller1-vlan-config-not-bonding.proc-bonding.txt')).toBe('OutputNotUnderstood');
	});

	it('a fail names the deciding lines, the facts and a switch-side fix', async () => {
		const v = await check.run(fakeCtx({ files: { [FILE]: fx('insights-v3.2.4-8023ad-unbundled.proc-bonding.txt') } }), params());
		expect(v.evidence[0]!.lines).toEqual(expect.arrayContaining([3, 5, 17, 29]));
		expect(v.facts).toMatchObject({
			bond: 'bond0',
			mode: '802.3ad',
			activeAggregator: 3,
			aggregators: ['eth1=3', 'eth2=2'],
			partnerMac: '00:00:00:00:00:00',
		});
		expect(v.fix!.join('\n')).toMatch(/channel-group 10 mode active/);
	});

	it('reads the bond named by the parameter', async () => {
		const ctx = fakeCtx({ files: { '/proc/net/bonding/bond1': fx('insights-v3.7.1-ab.proc-bonding.txt') } });
		const v = await check.run(ctx, params({ bond: 'bond1' }));
		expect(v.status).toBe('pass');
		expect(v.summary).toMatch(/^bond1 /);
		expect(ctx.calls).toEqual(['read /proc/net/bonding/bond1']);
	});
});

describe('bond.status when the file is absent', () => {
	const noDir = (stderr: string): FakeHost => ({ commands: { 'ls /proc/net/bonding': { stderr, code: 2 } } });

	it('no /proc/net/bonding (driver not loaded) -> skip', async () => {
		const v = await check.run(fakeCtx(noDir(fx('debian12-no-bonding.ls-bonding-stderr.txt'))), params());
		expect(v.status).toBe('skip');
		expect(v.summary).toMatch(/bonding driver is not loaded/);
	});

	it('the same message in German -> error, never a skip it cannot vouch for', async () => {
		const v = await check.run(fakeCtx(noDir(fx('debian12-de-no-bonding.ls-bonding-stderr.txt'))), params());
		expect(v.status).toBe('error');
		expect(v.code).toBe('OutputNotUnderstood');
	});

	it('driver loaded, no bond at all -> skip', async () => {
		const v = await check.run(fakeCtx({ commands: { 'ls /proc/net/bonding': { stdout: '' } } }), params());
		expect(v.status).toBe('skip');
	});

	it('other bonds exist -> error naming them (a mistyped name must not read as fine)', async () => {
		const host = { files: { '/proc/net/bonding/bond1': fx('insights-v3.7.1-ab.proc-bonding.txt') } };
		const v = await check.run(fakeCtx(host), params());
		expect(v.status).toBe('error');
		expect(v.code).toBe('InvalidParams');
		expect(v.summary).toBe('No bond named bond0 on this host; it has bond1.');
		expect(v.hint).toMatch(/--param bond=bond1/);
	});

	it('ls missing -> CommandMissing', async () => {
		const v = await check.run(
			fakeCtx({ commands: { 'ls /proc/net/bonding': { stderr: 'bash: line 1: ls: command not found\n', code: 127 } } }),
			params(),
		);
		expect(v.code).toBe('CommandMissing');
	});
});

describe('bond.status contract', () => {
	it('params: bond defaults to bond0; shell words, paths and overlong names are refused', () => {
		expect(params()).toEqual({ bond: 'bond0' });
		for (const bad of ['..', '.', 'bond0;id', 'bond0/../x', 'a b', '$(id)', 'bond0123456789012'])
			expect(check.params.safeParse({ bond: bad }).success, bad).toBe(false);
		expect(check.params.safeParse({ bond: 'bond-int.1' }).success).toBe(true);
	});

	it('probes: the file, then the listing', () => {
		expect(check.probes(params()).map(callOf)).toEqual(['read /proc/net/bonding/bond0', 'exec ls /proc/net/bonding']);
	});

	it('evaluate is pure: same observation, same verdict', () => {
		const text = fx('blackmetalz-centos7-8023ad-unbundled.proc-bonding.txt');
		const p = parseProcBonding(text);
		if (!p.ok) throw new Error(p.reason);
		const a = evaluate({ bond: 'bond0', status: p.value, text });
		const b = evaluate({ bond: 'bond0', status: p.value, text });
		expect(a).toEqual(b);
	});

	it('every anchor in nextSteps is a heading of the runbook, which lists this check', () => {
		expectRunbookEmbeds(check, 'bond-vlan-stray-subinterface');
	});
});

describeTrainingScenarios(check.id, (h) => check.run(fakeCtx(h), params()));
