import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { paramsFromPairs } from '../../src/runner/params.ts';
import { expectRunbookEmbeds, fixtures, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, { counterPath, evaluate, MIN_PACKETS, parseCounter, type LinkObservation, type Params } from './link-balance.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/link-balance/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse({ ifaces: ['up1', 'up2'], intervalMs: 1000, ...p });

// --- parser over every fixture -----------------------------------------------------------------

/** fixture -> value, or null for "not understood". */
const expected: Record<string, bigint | null> = {
	'debian12-k6.18-lab-l3-before-up1.tx_bytes.txt': 416n,
	'debian12-k6.18-lab-l3-before-up1.tx_packets.txt': 4n,
	'debian12-k6.18-lab-l3-before-up2.tx_bytes.txt': 118748n,
	'debian12-k6.18-lab-l3-before-up2.tx_packets.txt': 1604n,
	'debian12-k6.18-lab-l3-after-up1.tx_bytes.txt': 502n,
	'debian12-k6.18-lab-l3-after-up1.tx_packets.txt': 5n,
	'debian12-k6.18-lab-l3-after-up2.tx_bytes.txt': 414928n,
	'debian12-k6.18-lab-l3-after-up2.tx_packets.txt': 5606n,
	'debian12-k6.18-lab-l4-before-up1.tx_bytes.txt': 61952n,
	'debian12-k6.18-lab-l4-before-up1.tx_packets.txt': 836n,
	'debian12-k6.18-lab-l4-before-up2.tx_bytes.txt': 57766n,
	'debian12-k6.18-lab-l4-before-up2.tx_packets.txt': 779n,
	'debian12-k6.18-lab-l4-after-up1.tx_bytes.txt': 215132n,
	'debian12-k6.18-lab-l4-after-up1.tx_packets.txt': 2906n,
	'debian12-k6.18-lab-l4-after-up2.tx_bytes.txt': 200586n,
	'debian12-k6.18-lab-l4-after-up2.tx_packets.txt': 2709n,
	'debian12-k6.18-lab-idle-before-up1.tx_bytes.txt': 215132n,
	'debian12-k6.18-lab-idle-before-up1.tx_packets.txt': 2906n,
	'debian12-k6.18-lab-idle-before-up2.tx_bytes.txt': 200586n,
	'debian12-k6.18-lab-idle-before-up2.tx_packets.txt': 2709n,
	'debian12-k6.18-lab-idle-after-up1.tx_bytes.txt': 215132n,
	'debian12-k6.18-lab-idle-after-up1.tx_packets.txt': 2906n,
	'debian12-k6.18-lab-idle-after-up2.tx_bytes.txt': 200586n,
	'debian12-k6.18-lab-idle-after-up2.tx_packets.txt': 2709n,
	'debian12-k6.18-lab-reset-before-up2.tx_bytes.txt': 415038n,
	'debian12-k6.18-lab-reset-before-up2.tx_packets.txt': 5607n,
	'debian12-k6.18-lab-reset-after-up2.tx_bytes.txt': 602n,
	'debian12-k6.18-lab-reset-after-up2.tx_packets.txt': 7n,
	'debian12-k6.18-lab-l3-after-up2-cut3.tx_bytes.txt': null,
	'empty.tx_bytes.txt': null,
	// A `cat` error where the number should be (a wrapper that merged the streams) is not a counter.
	'debian12-k6.18-absent.cat-stderr.txt': null,
	'debian12-k6.18-de-absent.cat-stderr.txt': null,
};

describe('parseCounter over every fixture', () => {
	it('every fixture file has an expectation, and every expectation a file', () => {
		expect(fixtureFiles.toSorted()).toEqual(Object.keys(expected).toSorted());
	});
	for (const [file, want] of Object.entries(expected)) {
		it(`${file} -> ${want === null ? 'not understood' : want}`, () => {
			const got = parseCounter(fx(file));
			if (want === null) expect(got.ok).toBe(false);
			else expect(got).toEqual({ ok: true, value: want, lines: [1] });
		});
	}
	it('never throws on hostile input, and refuses it', () => {
		for (const t of ['', '\n', '-1\n', '1e9\n', '0x10\n', '18446744073709551616\n', '1 2\n', '\uFFFD\n', 'x'.repeat(100_000)])
			expect(parseCounter(t).ok).toBe(false);
		expect(parseCounter('18446744073709551615\n')).toEqual({ ok: true, value: 18446744073709551615n, lines: [1] });
	});
});

// --- evaluate: thresholds -----------------------------------------------------------------------

function links(deltas: [bytes: number, packets: number][]): LinkObservation[] {
	return deltas.map(([b, p], i) => ({
		iface: `eth${i}`,
		first: { txBytes: 1_000_000n, txPackets: 10_000n },
		second: { txBytes: 1_000_000n + BigInt(b), txPackets: 10_000n + BigInt(p) },
	}));
}
const judge = (deltas: [number, number][], p: Record<string, unknown> = {}) =>
	evaluate({ links: links(deltas), evidence: [] }, check.params.parse({ ifaces: deltas.map((_, i) => `eth${i}`), ...p }));

describe('evaluate thresholds', () => {
	it.each([
		// The shared lab's deltas (DOMAIN.md): policy 0 puts 400 packets on r2, policy 1 splits 194/206.
		{
			name: 'shared lab policy 0: 0/400 packets -> fail, ratio 2',
			deltas: [
				[0, 0],
				[32_000, 400],
			],
			status: 'fail',
			ratio: 2,
		},
		{
			name: 'shared lab policy 1: 194/206 -> pass',
			deltas: [
				[15_520, 194],
				[16_480, 206],
			],
			status: 'pass',
			ratio: 1.03,
		},
		{
			name: '65/35 -> ratio exactly 1.3 -> pass (limit is "more than")',
			deltas: [
				[6_500, 65],
				[3_500, 35],
			],
			status: 'pass',
			ratio: 1.3,
		},
		{
			name: '66/34 -> ratio 1.32 -> fail',
			deltas: [
				[6_600, 66],
				[3_400, 34],
			],
			status: 'fail',
			ratio: 1.32,
		},
		{
			name: 'four links, one at 40% -> ratio 1.6 -> fail',
			deltas: [
				[4_000, 40],
				[2_000, 20],
				[2_000, 20],
				[2_000, 20],
			],
			status: 'fail',
			ratio: 1.6,
		},
		{
			name: 'four links even -> pass',
			deltas: [
				[2_500, 25],
				[2_500, 25],
				[2_500, 25],
				[2_500, 25],
			],
			status: 'pass',
			ratio: 1,
		},
		{
			name: `${MIN_PACKETS - 1} packets -> warn, too little`,
			deltas: [
				[0, 0],
				[9_900, MIN_PACKETS - 1],
			],
			status: 'warn',
			ratio: 2,
		},
		{
			name: `${MIN_PACKETS} packets -> judged`,
			deltas: [
				[0, 0],
				[10_000, MIN_PACKETS],
			],
			status: 'fail',
			ratio: 2,
		},
		{
			name: 'nothing at all -> warn',
			deltas: [
				[0, 0],
				[0, 0],
			],
			status: 'warn',
			ratio: 0,
		},
	] as const)('$name', ({ deltas, status, ratio }) => {
		const v = judge(deltas.map((d) => [...d]));
		expect(v.status).toBe(status);
		expect(v.facts.ratio).toBe(ratio);
		expect(v.facts.minPackets).toBe(MIN_PACKETS);
		if (status === 'fail') expect(v.next).toBe('#per-hop-hashing');
		if (status === 'pass') expect(v.next).toBe('#if-every-check-passes');
		if (status === 'warn') expect(v.summary).toContain(`fewer than ${MIN_PACKETS}`);
		for (const n of [v.next].filter(Boolean)) expect(check.nextSteps).toContain(n);
	});

	it('maxRatio moves the line', () => {
		expect(
			judge(
				[
					[6_600, 66],
					[3_400, 34],
				],
				{ maxRatio: 1.5 },
			).status,
		).toBe('pass');
		expect(
			judge(
				[
					[5_600, 56],
					[4_400, 44],
				],
				{ maxRatio: 1.1 },
			).status,
		).toBe('fail');
	});

	it('an idle member is named', () => {
		const v = judge([
			[0, 0],
			[32_000, 400],
		]);
		expect(v.summary).toContain('eth0 sent nothing at all');
		expect(v.facts).toMatchObject({
			busiest: 'eth1',
			sharePercent: [0, 100],
			txBytes: [0, 32_000],
			txPackets: [0, 400],
			totalPackets: 400,
		});
	});
});

// --- run() on hosts assembled from captures -----------------------------------------------------

type Sample = 'before' | 'after';
/** The lab host's counters: `before` files at first, swapped for `after` while the check sleeps. */
function sampled(set: string, ifaces = ['up1', 'up2'], over: Partial<Record<Sample, Record<string, string | undefined>>> = {}) {
	const files = (when: Sample) => {
		const f: Record<string, string> = {};
		for (const i of ifaces)
			for (const c of ['tx_bytes', 'tx_packets'] as const) f[counterPath(i, c)] = fx(`debian12-k6.18-lab-${set}-${when}-${i}.${c}.txt`);
		for (const [k, v] of Object.entries(over[when] ?? {})) {
			if (v === undefined) delete f[k];
			else f[k] = v;
		}
		return f;
	};
	const host: FakeHost = { files: files('before') };
	const ctx = fakeCtx(host);
	ctx.sleep = async (ms: number) => {
		ctx.slept += ms;
		const after = files('after');
		for (const k of Object.keys(host.files!)) delete host.files![k];
		Object.assign(host.files!, after);
	};
	return ctx;
}

async function runOn(ctx: ReturnType<typeof sampled>, p: Record<string, unknown> = {}): Promise<Verdict> {
	return check.run(ctx, params(p));
}

describe('run() on the lab captures', () => {
	it('L3 hashing, 400 flows of one host pair -> fail: up2 carried everything', async () => {
		const ctx = sampled('l3');
		const v = await runOn(ctx);
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({
			ifaces: ['up1', 'up2'],
			txBytes: [86, 296_180],
			txPackets: [1, 4002],
			busiest: 'up2',
			ratio: 2,
			maxRatio: 1.3,
			intervalMs: 1000,
		});
		expect(v.summary).toContain('up2 sent 2 times the mean');
		expect(ctx.slept).toBe(1000);
		expect(ctx.progressed.length).toBeGreaterThanOrEqual(3);
		expect(v.evidence).toHaveLength(8);
		expect(v.evidence[0]).toMatchObject({ command: `cat ${counterPath('up1', 'tx_bytes')}   # first sample`, output: '416\n', lines: [1] });
		expect(v.evidence[7]).toMatchObject({ command: `cat ${counterPath('up2', 'tx_packets')}   # second sample`, output: '5606\n' });
	});

	it('L4 hashing -> pass, about half each', async () => {
		const v = await runOn(sampled('l4'));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({
			txBytes: [153_180, 142_820],
			txPackets: [2070, 1930],
			busiest: 'up1',
			ratio: 1.03,
			sharePercent: [51.8, 48.3],
		});
	});

	it('idle links -> warn, too little traffic', async () => {
		const v = await runOn(sampled('idle'));
		expect(v.status).toBe('warn');
		expect(v.facts.totalPackets).toBe(0);
	});

	it('up2 re-created between the samples -> error, counters went backwards', async () => {
		const ctx = sampled('l3', ['up1'], {
			before: {
				[counterPath('up2', 'tx_bytes')]: fx('debian12-k6.18-lab-reset-before-up2.tx_bytes.txt'),
				[counterPath('up2', 'tx_packets')]: fx('debian12-k6.18-lab-reset-before-up2.tx_packets.txt'),
			},
			after: {
				[counterPath('up2', 'tx_bytes')]: fx('debian12-k6.18-lab-reset-after-up2.tx_bytes.txt'),
				[counterPath('up2', 'tx_packets')]: fx('debian12-k6.18-lab-reset-after-up2.tx_packets.txt'),
			},
		});
		const v = await runOn(ctx);
		expect(v.status).toBe('error');
		expect(v.code).toBe('OutputNotUnderstood');
		expect(v.summary).toContain('up2 tx_bytes 415038 -> 602');
		expect(v.facts.countersBackwards).toEqual(['up2 tx_bytes 415038 -> 602', 'up2 tx_packets 5607 -> 7']);
		expect(v.hint).toContain('again');
	});

	it('an interface that does not exist -> error naming it, before any sleep', async () => {
		const ctx = sampled('l3');
		const v = await runOn(ctx, { ifaces: ['up1', 'eth9'] });
		expect(v.status).toBe('error');
		expect(v.code).toBe('CommandFailed');
		expect(v.summary).toContain('no interface eth9');
		expect(ctx.slept).toBe(0);
	});

	it('an interface gone by the second sample -> error saying so', async () => {
		const v = await runOn(sampled('l3', ['up1', 'up2'], { after: { [counterPath('up2', 'tx_bytes')]: undefined } }));
		expect(v.status).toBe('error');
		expect(v.summary).toContain('disappeared between the two samples');
	});

	it.each([
		['cut counter', fx('debian12-k6.18-lab-l3-after-up2-cut3.tx_bytes.txt'), 'OutputTruncated'],
		['empty counter', fx('empty.tx_bytes.txt'), 'OutputEmpty'],
		['German cat error as content', fx('debian12-k6.18-de-absent.cat-stderr.txt'), 'OutputNotUnderstood'],
	])('%s -> %s', async (_, text, code) => {
		const v = await runOn(sampled('l3', ['up1', 'up2'], { after: { [counterPath('up2', 'tx_bytes')]: text } }));
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.hint).toBeTruthy();
	});
});

// --- contract, params, runbook ---------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'net.link-balance');

	it.each([
		[{ ifaces: ['eth0', 'eth1'] }, true],
		[{ ifaces: ['eth0', 'eth1'], intervalMs: 200, maxRatio: 1.01 }, true],
		[{ ifaces: Array.from({ length: 16 }, (_, i) => `swp${i}`) }, true],
		[{ ifaces: ['bond0.100', 'vlan@x'] }, true],
		[{}, false],
		[{ ifaces: ['eth0'] }, false],
		[{ ifaces: Array.from({ length: 17 }, (_, i) => `swp${i}`) }, false],
		[{ ifaces: ['eth0', 'eth0'] }, false],
		[{ ifaces: ['eth0', '../../etc'] }, false],
		[{ ifaces: ['eth0', 'a;b'] }, false],
		[{ ifaces: ['eth0', 'x'.repeat(16)] }, false],
		[{ ifaces: ['eth0', 'eth1'], intervalMs: 100 }, false],
		[{ ifaces: ['eth0', 'eth1'], intervalMs: 1.5 }, false],
		[{ ifaces: ['eth0', 'eth1'], maxRatio: 1 }, false],
		[{ ifaces: ['eth0', 'eth1'], other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});

	it('defaults: intervalMs 2000, maxRatio 1.3', () => {
		expect(check.params.parse({ ifaces: ['a', 'b'] })).toEqual({ ifaces: ['a', 'b'], intervalMs: 2000, maxRatio: 1.3 });
	});

	it('--param ifaces=up1,up2 from the command line becomes the list', () => {
		const raw = paramsFromPairs(check, ['ifaces=up1,up2', 'intervalMs=1000', 'maxRatio=1.5']);
		expect(check.params.parse(raw)).toEqual({ ifaces: ['up1', 'up2'], intervalMs: 1000, maxRatio: 1.5 });
	});

	it('probes are the two counters of each interface, and run reads nothing else', async () => {
		const announced = check.probes(params()).map(callOf);
		expect(announced).toEqual([
			`read ${counterPath('up1', 'tx_bytes')}`,
			`read ${counterPath('up1', 'tx_packets')}`,
			`read ${counterPath('up2', 'tx_bytes')}`,
			`read ${counterPath('up2', 'tx_packets')}`,
		]);
		const ctx = sampled('l4');
		await runOn(ctx);
		expect(ctx.calls).toEqual([...announced, ...announced]);
	});

	it('every anchor in nextSteps is a heading of the runbook, which embeds this check', () => {
		expectRunbookEmbeds(check, 'ecmp-imbalance');
	});
});
