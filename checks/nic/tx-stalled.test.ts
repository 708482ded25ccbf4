import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { expectRunbookEmbeds, fixtures, HOSTILE_TEXT, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCtx } from '../../test/support/fake-ctx.ts';
import check, { COUNTERS, evaluate, parseCounter, parseOperstate, type Observation, type Params, type Sample } from './tx-stalled.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/tx-stalled/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse({ iface: 'eth0', ...p });

// --- parsers over every fixture --------------------------------------------------------------

const COUNTER_FILES = /\.(tx_packets|rx_packets|tx_errors|tx_dropped)\.txt$/;
/** Real values as captured; `null` for what must not parse. */
const counterValues: Record<string, number | null> = {
	'debian12-k6.18-veth-healthy-t0.tx_packets.txt': 6,
	'debian12-k6.18-veth-healthy-t1.tx_packets.txt': 16,
	'debian12-k6.18-veth-healthy-t0.rx_packets.txt': 6,
	'debian12-k6.18-veth-healthy-t1.rx_packets.txt': 16,
	'debian12-k6.18-veth-idle-t0.tx_packets.txt': 42,
	'debian12-k6.18-veth-idle-t1.tx_packets.txt': 42,
	'debian12-k6.18-veth-idle-t0.rx_packets.txt': 42,
	'debian12-k6.18-veth-idle-t1.rx_packets.txt': 42,
	'debian12-k6.18-veth-wedged-t0.tx_packets.txt': 58,
	'debian12-k6.18-veth-wedged-t1.tx_packets.txt': 58,
	'debian12-k6.18-veth-wedged-t0.rx_packets.txt': 70,
	'debian12-k6.18-veth-wedged-t1.rx_packets.txt': 81,
	'debian12-k6.18-veth-peerdown.tx_packets.txt': 59,
	'debian12-k6.18-veth-peerdown.rx_packets.txt': 86,
	'debian12-k6.18-veth-wedged-t1-cut1.rx_packets.txt': null,
	'empty.tx_packets.txt': null,
};
const operstateValues: Record<string, string | null> = {
	'debian12-k6.18-veth-peerdown.operstate.txt': 'down',
	'empty.operstate.txt': null,
};
/** Context for the wedged capture and the absent case, not parsed by the check. */
const evidenceOnly = [
	'debian12-k6.18-veth-wedged.ping-from-vm.txt',
	'debian12-k6.18-veth-wedged.tc-s-qdisc.txt',
	'debian12-k6.18-veth-wedged.peer-neigh.txt',
	'debian12-k6.18-netns.ls-sys-class-net.txt',
];

describe('parsers over every fixture', () => {
	it('every fixture file is parsed or listed as context', () => {
		const parsedHere = fixtureFiles.filter((f) => COUNTER_FILES.test(f) || f.endsWith('.operstate.txt') || f.endsWith('.cat-stderr.txt'));
		expect([...parsedHere, ...evidenceOnly].toSorted()).toEqual(fixtureFiles.toSorted());
	});
	it.each(fixtureFiles.filter((f) => COUNTER_FILES.test(f)))('counter %s', (file) => {
		const got = parseCounter(fx(file));
		const want = Object.hasOwn(counterValues, file) ? counterValues[file] : 0; // tx_errors and tx_dropped stayed 0 in every capture
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toEqual({ ok: true, value: want, lines: [1] });
	});
	it.each(fixtureFiles.filter((f) => f.endsWith('.operstate.txt')))('operstate %s', (file) => {
		const got = parseOperstate(fx(file));
		const want = Object.hasOwn(operstateValues, file) ? operstateValues[file] : 'up';
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toEqual({ ok: true, value: want, lines: [1] });
	});
	it('a German "no such file" message is neither a counter nor a state', () => {
		expect(parseCounter(fx('debian12-de-absent.cat-stderr.txt')).ok).toBe(false);
		expect(parseOperstate(fx('debian12-de-absent.cat-stderr.txt')).ok).toBe(false);
	});
	it('parsers never throw on hostile input', () => {
		for (const text of [...HOSTILE_TEXT, '-1\n', '1e9\n', '12 \n', '99999999999999999999\n', 'UP\n', 'up\nup\n', '\uFFFD\n']) {
			expect(parseCounter(text).ok).toBe(false);
			expect(parseOperstate(text).ok).toBe(false);
		}
	});
});

// --- evaluate -------------------------------------------------------------------------------------

const sample = (tx: number, rx: number, txErr = 0, txDrop = 0): Sample => ({
	tx_packets: tx,
	rx_packets: rx,
	tx_errors: txErr,
	tx_dropped: txDrop,
});
const obs = (first: Sample, second: Sample, operstate: Observation['operstate'] = 'up'): Observation => ({
	iface: 'eth0',
	operstate,
	first,
	second,
	intervalMs: 2000,
	evidence: [],
});

describe('evaluate', () => {
	it.each([
		{ name: 'TX moves -> pass', o: obs(sample(6, 6), sample(16, 16)), status: 'pass', next: '#is-this-host-at-risk' },
		{ name: 'TX moves, RX does not -> pass', o: obs(sample(6, 6), sample(9, 6)), status: 'pass', next: '#is-this-host-at-risk' },
		{ name: 'RX moves, TX frozen -> fail', o: obs(sample(58, 70), sample(58, 81)), status: 'fail', next: '#recover-the-wedged-vm' },
		{
			name: 'nothing moves but tx_dropped grows -> fail',
			o: obs(sample(58, 70, 0, 3), sample(58, 70, 0, 9)),
			status: 'fail',
			next: '#recover-the-wedged-vm',
		},
		{ name: 'nothing moves -> warn, idle or dead', o: obs(sample(42, 42), sample(42, 42)), status: 'warn', next: undefined },
		{
			name: 'link down -> warn, not this failure',
			o: obs(sample(59, 86), sample(59, 86), 'down'),
			status: 'warn',
			next: '#if-it-is-not-ufo',
		},
		{
			name: 'lowerlayerdown (a VLAN over a dead NIC) -> warn',
			o: obs(sample(1, 1), sample(1, 2), 'lowerlayerdown'),
			status: 'warn',
			next: '#if-it-is-not-ufo',
		},
		{
			name: 'operstate unknown (tun, lo) is judged by the counters',
			o: obs(sample(1, 1), sample(2, 2), 'unknown'),
			status: 'pass',
			next: '#is-this-host-at-risk',
		},
	])('$name', ({ o, status, next }) => {
		const v = evaluate(o);
		expect(v.status, v.summary).toBe(status);
		expect(v.next).toBe(next);
	});
	it('the facts carry both samples and the deltas', () => {
		expect(evaluate(obs(sample(58, 70), sample(58, 81))).facts).toMatchObject({
			tx_packetsBefore: 58,
			tx_packetsAfter: 58,
			tx_packetsDelta: 0,
			rx_packetsBefore: 70,
			rx_packetsAfter: 81,
			rx_packetsDelta: 11,
			intervalMs: 2000,
			operstate: 'up',
		});
	});
	it('a counter going backwards -> error, never a verdict on it', () => {
		const v = evaluate(obs(sample(16, 16), sample(6, 6)));
		expect(v).toMatchObject({ status: 'error', code: 'OutputNotUnderstood' });
		expect(v.summary).toContain('went backwards');
	});
});

// --- run() through a fake host: the counters change while ctx.sleep waits -------------------------

const SYS = '/sys/class/net/eth0';
/** The files of one capture: counters and operstate of sample t0 or t1 (`peerdown` has one sample). */
function capture(name: string): Record<string, string> {
	const files: Record<string, string> = {};
	for (const f of [...COUNTERS, 'operstate'] as const) {
		const path = f === 'operstate' ? `${SYS}/operstate` : `${SYS}/statistics/${f}`;
		files[path] = fx(`debian12-k6.18-veth-${name}.${f}.txt`);
	}
	return files;
}

/** A fake host whose files become `after` once the check sleeps, as the kernel's counters would. */
function sampled(before: Record<string, string>, after: Record<string, string | null>): FakeCtx {
	const files = { ...before };
	const ctx = fakeCtx({ files, commands: { 'ls /sys/class/net': { stdout: fx('debian12-k6.18-netns.ls-sys-class-net.txt') } } });
	const sleep = ctx.sleep;
	ctx.sleep = async (ms: number) => {
		await sleep(ms);
		for (const [path, text] of Object.entries(after)) {
			if (text === null) delete files[path];
			else files[path] = text;
		}
	};
	return ctx;
}
const runOn = (ctx: FakeCtx, p: Record<string, unknown> = {}): Promise<Verdict> => check.run(ctx, params(p));

describe('run', () => {
	it.each([
		{
			name: 'healthy veth with ping both ways -> pass',
			before: 'healthy-t0',
			after: 'healthy-t1',
			status: 'pass',
			says: ['TX 16 (+10), RX 16 (+10) in 2 s'],
		},
		{ name: 'idle veth -> warn', before: 'idle-t0', after: 'idle-t1', status: 'warn', says: ['Nothing moved', 'idle or dead'] },
		{
			name: 'wedged veth (tbf at 1 byte/s, peer pinging) -> fail',
			before: 'wedged-t0',
			after: 'wedged-t1',
			status: 'fail',
			says: ['TX packets frozen at 58', 'frames keep arriving'],
		},
		{ name: 'veth whose peer is down -> warn', before: 'peerdown', after: 'peerdown', status: 'warn', says: ['eth0 is down'] },
	])('$name', async ({ before, after, status, says }) => {
		const ctx = sampled(capture(before), capture(after));
		const v = await runOn(ctx);
		expect(v.status, v.summary).toBe(status);
		for (const s of says) expect(v.summary).toContain(s);
		expect(ctx.slept).toBe(2000);
		expect(ctx.progressed).toEqual(['waiting 2000 ms between the two samples']);
		// operstate, then four counters twice, the pause between them.
		expect(ctx.calls).toEqual([
			`read ${SYS}/operstate`,
			...COUNTERS.map((c) => `read ${SYS}/statistics/${c}`),
			...COUNTERS.map((c) => `read ${SYS}/statistics/${c}`),
		]);
		expect(v.evidence).toHaveLength(9);
		expect(v.evidence.every((e) => e.lines.length === 1)).toBe(true);
	});

	it('sleeps the interval asked for', async () => {
		const ctx = sampled(capture('wedged-t0'), capture('wedged-t1'));
		await runOn(ctx, { intervalMs: 5000 });
		expect(ctx.slept).toBe(5000);
	});

	it('an absent interface -> error InvalidParams listing the interfaces', async () => {
		const ctx = sampled({}, {});
		const v = await runOn(ctx, { iface: 'nosuch0' });
		expect(v).toMatchObject({ status: 'error', code: 'InvalidParams' });
		expect(v.summary).toContain('no interface nosuch0');
		expect(v.summary).toContain('veth0');
		expect(ctx.slept).toBe(0);
	});

	it('the interface vanishing between the samples -> error CommandFailed', async () => {
		const gone = Object.fromEntries(Object.keys(capture('wedged-t1')).map((p) => [p, null]));
		const v = await runOn(sampled(capture('wedged-t0'), gone));
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
	});

	it.each([
		{ name: 'empty operstate -> OutputEmpty', before: { [`${SYS}/operstate`]: fx('empty.operstate.txt') }, after: {}, code: 'OutputEmpty' },
		{
			name: 'empty counter -> OutputEmpty',
			before: { [`${SYS}/statistics/tx_packets`]: fx('empty.tx_packets.txt') },
			after: {},
			code: 'OutputEmpty',
		},
		{
			name: 'counter cut in the second sample -> OutputTruncated',
			before: {},
			after: { [`${SYS}/statistics/rx_packets`]: fx('debian12-k6.18-veth-wedged-t1-cut1.rx_packets.txt') },
			code: 'OutputTruncated',
		},
		{
			name: 'German error text as a counter -> OutputNotUnderstood',
			before: { [`${SYS}/statistics/rx_packets`]: fx('debian12-de-absent.cat-stderr.txt') },
			after: {},
			code: 'OutputNotUnderstood',
		},
		{
			name: 'counters reset between samples -> OutputNotUnderstood',
			before: capture('healthy-t1'),
			after: capture('healthy-t0'),
			code: 'OutputNotUnderstood',
		},
	])('$name', async ({ before, after, code }) => {
		const v = await runOn(sampled({ ...capture('wedged-t0'), ...before }, { ...capture('wedged-t1'), ...after }));
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.hint).toBeTruthy();
		expect(v.evidence.length).toBeGreaterThan(0);
	});

	it('unreadable statistics (permission denied) is left to the runner', async () => {
		const ctx = fakeCtx({ files: capture('wedged-t0'), unreadable: [`${SYS}/statistics/tx_packets`] });
		await expect(runOn(ctx)).rejects.toMatchObject({ code: 'PermissionDenied' });
	});
});

// --- contract ------------------------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'nic.tx-stalled');
	it.each([
		[{ iface: 'eth0' }, true],
		[{ iface: 'eth0', intervalMs: 200 }, true],
		[{ iface: 'eth0', intervalMs: 30000 }, true],
		[{ iface: 'eth0', intervalMs: 199 }, false],
		[{ iface: 'eth0', intervalMs: 30001 }, false],
		[{ iface: 'eth0', intervalMs: 1500.5 }, false],
		[{ iface: 'eth0', intervalMs: '2000' }, false],
		[{ iface: '../../etc' }, false],
		[{}, false],
		[{ iface: 'eth0', other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});
	it('intervalMs defaults to 2000', () => {
		expect(params().intervalMs).toBe(2000);
	});
	it('probes list every file once, and the listing used when the interface is absent', () => {
		expect(check.probes(params({ iface: 'ens3' })).map(callOf)).toEqual([
			'read /sys/class/net/ens3/operstate',
			'read /sys/class/net/ens3/statistics/tx_packets',
			'read /sys/class/net/ens3/statistics/rx_packets',
			'read /sys/class/net/ens3/statistics/tx_errors',
			'read /sys/class/net/ens3/statistics/tx_dropped',
			'exec ls /sys/class/net',
		]);
	});
	it('run only reads and runs what probes announce', async () => {
		const announced = check.probes(params()).map(callOf);
		for (const ctx of [sampled(capture('wedged-t0'), capture('wedged-t1')), sampled({}, {})]) {
			await runOn(ctx);
			for (const c of ctx.calls) expect(announced).toContain(c);
		}
	});
	it('every next step is a heading of ufo-raw-socket-virtio.mdx, which embeds this check', () => {
		expectRunbookEmbeds(check, 'ufo-raw-socket-virtio');
	});
});
