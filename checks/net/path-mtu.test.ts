import { describe, expect, it } from 'vitest';
import type { ExecResult, Verdict } from '../../src/core/check.ts';
import { fixtures, HOSTILE_TEXT } from '../../test/support/check-tests.ts';
import { fakeCtx, type FakeCommand, type FakeCtx } from '../../test/support/fake-ctx.ts';
import check, {
	evaluate,
	HEADERS,
	MAX_SIZES,
	parseMtu,
	parsePing,
	parseRouteGet,
	pingArgv,
	SHORTFALLS,
	type Observation,
	type Params,
	type PingRun,
} from './path-mtu.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/path-mtu/', import.meta.url));
const params = (p: Record<string, unknown>): Params => check.params.parse(p);

// --- parsers over every fixture --------------------------------------------------------------

type Want = Partial<PingRun> & { outcome: PingRun['outcome'] };
const reply: Want = { outcome: 'reply' };
const lost: Want = { outcome: 'lost', received: 0 };

/** Fixture -> what `parsePing` must make of it, or `null` for "not understood". */
const pings: Record<string, Want | null> = {
	'busybox1.35-no-M.ping.txt': { outcome: 'unsupported', option: 'M' },
	'conole-ovn-c2-frag-needed.ping.txt': { outcome: 'frag-needed', mtu: 1222, from: '21.0.0.3', transmitted: null },
	'debian12-bridge1450-s0.ping.txt': reply,
	'debian12-bridge1450-s735.ping.txt': reply,
	'debian12-bridge1450-s1102.ping.txt': reply,
	'debian12-bridge1450-s1286.ping.txt': reply,
	'debian12-bridge1450-s1378.ping.txt': reply,
	'debian12-bridge1450-s1401.ping.txt': reply,
	'debian12-bridge1450-s1412.ping.txt': reply,
	'debian12-bridge1450-s1418.ping.txt': reply,
	'debian12-bridge1450-s1421.ping.txt': reply,
	'debian12-bridge1450-s1422.ping.txt': reply,
	'debian12-bridge1450-s1423.ping.txt': lost,
	'debian12-bridge1450-s1423-try2.ping.txt': lost,
	'debian12-bridge1450-s1424.ping.txt': lost,
	'debian12-bridge1450-s1424-try2.ping.txt': lost,
	'debian12-bridge1450-s1470.ping.txt': lost,
	'debian12-bridge1450-s1470-try2.ping.txt': lost,
	'debian12-bridge1450-s1472.ping.txt': lost,
	'debian12-bridge1450-s1472-try2.ping.txt': lost,
	'debian12-bridge1498-port-down-s1470.ping.txt': lost,
	'debian12-bridge1498-s1470.ping.txt': { outcome: 'reply', transmitted: 1, received: 1 },
	'debian12-bridge1498-s1470-cut120.ping.txt': null,
	'debian12-bridge1498-s1471.ping.txt': lost,
	'debian12-bridge1498-s1471-try2.ping.txt': lost,
	'debian12-bridge1498-s1472.ping.txt': { outcome: 'lost', transmitted: 1, received: 0, errors: 0, noBufferSpace: false },
	'debian12-bridge1498-s1472-cut45.ping.txt': null,
	'debian12-bridge1498-s1472-try2.ping.txt': lost,
	'debian12-c2-local-error.ping.txt': { outcome: 'local-too-big', mtu: 1500, transmitted: 2, errors: 2 },
	'debian12-c2-pass.ping.txt': { outcome: 'reply', transmitted: 2, received: 2 },
	'debian12-c2-veth-enobufs.ping.txt': { outcome: 'lost', noBufferSpace: true, transmitted: 2 },
	'debian12-iface1450-router1400-s1372.ping.txt': reply,
	'debian12-iface1450-router1400-s1422.ping.txt': { outcome: 'frag-needed', mtu: 1400, from: '198.19.251.254' },
	'debian12-iface1450-router1400-s1472.ping.txt': { outcome: 'local-too-big', mtu: 1450 },
	'debian12-net-unreachable-s0.ping.txt': {
		outcome: 'unreachable',
		from: '198.19.251.254',
		detail: 'From 198.19.251.254 icmp_seq=1 Destination Net Unreachable',
	},
	'debian12-net-unreachable-s1472.ping.txt': { outcome: 'unreachable', from: '198.19.251.254' },
	'debian12-no-route-s0.ping.txt': { outcome: 'unreachable', detail: 'ping: connect: Network is unreachable', transmitted: null },
	'debian12-no-route-s1472.ping.txt': { outcome: 'unreachable', transmitted: null },
	'debian12-nocap-nobody.ping.txt': { outcome: 'not-permitted' },
	'debian12-onlink-absent-s0.ping.txt': lost,
	'debian12-onlink-absent-s0-try2.ping.txt': lost,
	'debian12-onlink-absent-s1470.ping.txt': lost,
	'debian12-onlink-absent-s1470-try2.ping.txt': {
		outcome: 'unreachable',
		from: '198.19.251.1',
		detail: 'From 198.19.251.1 icmp_seq=1 Destination Host Unreachable',
	},
	'debian12-onlink-absent-s1472.ping.txt': lost,
	'debian12-onlink-absent-s1472-try2.ping.txt': lost,
	'debian12-own1450-s1422.ping.txt': reply,
	'debian12-own1450-s1472.ping.txt': { outcome: 'local-too-big', mtu: 1450, from: null },
	'debian12-router1400-cached-s1372.ping.txt': reply,
	'debian12-router1400-cached-s1472.ping.txt': { outcome: 'local-too-big', mtu: 1400, errors: 1 },
	'debian12-router1400-s0.ping.txt': reply,
	'debian12-router1400-s1372.ping.txt': reply,
	'debian12-router1400-s1472.ping.txt': { outcome: 'frag-needed', mtu: 1400, from: '198.19.251.254', errors: 1 },
	'debian12-v6-iface1450-router1400-s1352.ping.txt': reply,
	'debian12-v6-iface1450-router1400-s1402.ping.txt': { outcome: 'frag-needed', mtu: 1400, from: '2001:db8:1::fe' },
	'debian12-v6-iface1450-router1400-s1452.ping.txt': { outcome: 'local-too-big', mtu: 1450 },
	'debian12-v6-no-route-router.ping.txt': {
		outcome: 'unreachable',
		from: '2001:db8:1::fe',
		detail: 'From 2001:db8:1::fe icmp_seq=1 Destination unreachable: No route',
	},
	'debian12-v6-own1450-s1402.ping.txt': reply,
	'debian12-v6-own1450-s1452.ping.txt': { outcome: 'local-too-big', mtu: 1450 },
	'debian12-v6-router1400-cached-s1452.ping.txt': {
		outcome: 'local-too-big',
		mtu: 1400,
		detail: 'ping: local error: message too long, mtu: 1400',
	},
	'debian12-v6-router1400-s0.ping.txt': reply,
	'debian12-v6-router1400-s1352.ping.txt': reply,
	'debian12-v6-router1400-s1452.ping.txt': {
		outcome: 'frag-needed',
		mtu: 1400,
		from: '2001:db8:1::fe',
		detail: 'From 2001:db8:1::fe icmp_seq=1 Packet too big: mtu=1400',
	},
	'debian12-veth-enobufs.ping.txt': { outcome: 'lost', noBufferSpace: true },
	'debian12-vx0bad-s1472.ping.txt': reply,
	'debian12-vx0bad-s1472-repeat.ping.txt': { outcome: 'local-too-big', mtu: 1450, errors: 1 },
	'debian12-vx0bad-s1422.ping.txt': reply,
	'debian12-lan1500-s1472.ping.txt': reply,
	'debian12-lan1500-s1472-repeat.ping.txt': reply,
	// One reply, then the kernel learned the tunnel's PMTU: a size that does not reliably fit.
	'debian12-vxlan-nodev-c3.ping.txt': { outcome: 'local-too-big', mtu: 1450, received: 1, transmitted: 3 },
	'empty.ping.txt': null,
	'ilohelper-de.ping.txt': null,
	'incus2405-frag-needed.ping.txt': { outcome: 'frag-needed', mtu: 1440, from: '45.45.148.251', errors: 2 },
	'incus2405-pass.ping.txt': { outcome: 'reply', received: 3 },
	'libreswan-black-hole.ping.txt': lost,
	'libreswan-c3-frag-needed.ping.txt': { outcome: 'frag-needed', mtu: 1480, from: 'p.p.p.p' },
	'suse-oldformat-local-error.ping.txt': { outcome: 'local-too-big', mtu: 1500, detail: 'ping: local error: Message too long, mtu=1500' },
	'suse-oldformat-pass.ping.txt': reply,
};

const routes: Record<string, { dev: string; mtu: number | null; expiresSec: number | null } | null> = {
	'debian12-router1400-cached.route-get.txt': { dev: 'ar', mtu: 1400, expiresSec: 598 },
	'debian12-v6-router1400-cached.route-get.txt': { dev: 'ar', mtu: 1400, expiresSec: 598 },
	'debian12-own1450.route-get.txt': { dev: 'ar', mtu: null, expiresSec: null },
	'debian12-v6-own1450.route-get.txt': { dev: 'ar', mtu: null, expiresSec: null },
	'debian12-vxlan-nodev.route-get.txt': { dev: 'vx1', mtu: 1450, expiresSec: 596 },
	'debian12-vx0bad.route-get.txt': { dev: 'vx0bad', mtu: 1450, expiresSec: 598 },
	'empty.route-get.txt': null,
};

const mtus: Record<string, number> = {
	'debian12-router1400-cached.mtu.txt': 1500,
	'debian12-own1450.mtu.txt': 1450,
	'debian12-v6-own1450.mtu.txt': 1450,
	'debian12-vx0bad.mtu.txt': 1500,
};

describe('parsers over every fixture', () => {
	it('every fixture file has an expectation, and every expectation a file', () => {
		const listed = [...Object.keys(pings), ...Object.keys(routes), ...Object.keys(mtus)];
		expect(fixtureFiles.toSorted()).toEqual(listed.toSorted());
	});

	for (const [file, want] of Object.entries(pings)) {
		it(`${file} -> ${want === null ? 'not understood' : want.outcome}`, () => {
			const got = parsePing(fx(file));
			if (want === null) {
				expect(got.ok).toBe(false);
				return;
			}
			expect(got.ok, got.ok ? '' : got.reason).toBe(true);
			if (!got.ok) return;
			expect(got.value).toMatchObject(want);
			// The deciding lines exist and one of them says what was decided.
			const lines = fx(file).split('\n');
			expect(got.lines.length).toBeGreaterThan(0);
			for (const n of got.lines) expect(lines[n - 1]!.trim()).not.toBe('');
			expect(got.lines.map((n) => lines[n - 1]!.trim())).toContain(got.value.detail);
		});
	}

	for (const [file, want] of Object.entries(routes)) {
		it(`${file} -> ${want === null ? 'not understood' : JSON.stringify(want)}`, () => {
			const got = parseRouteGet(fx(file));
			if (want === null) expect(got.ok).toBe(false);
			else expect(got).toMatchObject({ ok: true, value: want });
		});
	}

	for (const [file, want] of Object.entries(mtus)) {
		it(`${file} -> ${want}`, () => {
			expect(parseMtu(fx(file))).toEqual({ ok: true, value: want, lines: [1] });
		});
	}

	it('parsers never throw, and never see a reply in hostile input', () => {
		const nasty = [
			...HOSTILE_TEXT,
			'1 packets transmitted, 5 received, 0% packet loss\n',
			'1 packets transmitted, 1 received, 0% packet loss\n',
			'1 packets transmitted, 0 received, +1 errors, 100% packet loss\n',
			'From 1.2.3.4 icmp_seq=1 Frag needed and DF set (mtu = 99999999)\n',
			'ping: local error: message too long, mtu=0\n',
			'\uFFFD\uFFFD\n',
			'1 paquets transmis, 1 reçus, 0 % paquets perdus\n',
		];
		for (const text of nasty) {
			const p = parsePing(text);
			expect(p.ok && p.value.outcome === 'reply', JSON.stringify(text.slice(0, 60))).toBe(false);
			expect(() => parseRouteGet(text)).not.toThrow();
			expect(parseMtu(text).ok).toBe(false);
		}
		expect(parseRouteGet('1.2.3.4 dev ../../etc src 1.2.3.5\n').ok).toBe(false);
		expect(parseRouteGet(fx('debian12-router1400-cached.route-get.txt').slice(0, 40)).ok).toBe(false);
	});
});

// --- run() against hosts built from the fixtures --------------------------------------------

/** A size's answers in order (a lost size is pinged twice), as fixture file names, or with an exit code. */
type Answer = string | { file: string; code: number | null };
type Script = Record<number, Answer | Answer[]>;

/**
 * iputils' exit status for what it printed: 0 with a reply, 2 when it stopped before sending (no
 * statistics line: connect or socket errors), 1 otherwise; the recorded runs agree (SOURCES.md).
 */
function exitOf(text: string): number {
	const p = parsePing(text);
	if (p.ok && p.value.outcome === 'unsupported') return 1;
	if (!/packets transmitted/.test(text)) return 2;
	return p.ok && p.value.outcome === 'reply' ? 0 : 1;
}

function answer(a: Answer): ExecResult {
	const file = typeof a === 'string' ? a : a.file;
	const text = fx(file);
	return { stdout: text, stderr: '', code: typeof a === 'string' ? exitOf(text) : a.code };
}

/**
 * A host whose ping at each size answers with the listed fixtures in order (the last one repeats),
 * plus files and other commands as a scenario file gives them. Anything else answers as the
 * scenario shell does (`command not found`, exit 127).
 */
function host(
	target: string,
	script: Script,
	extra: { files?: Record<string, string>; commands?: Record<string, FakeCommand> } = {},
): FakeCtx {
	const queues = new Map<string, Answer[]>();
	for (const [size, answers] of Object.entries(script))
		queues.set(pingArgv(target, Number(size)).join(' '), Array.isArray(answers) ? [...answers] : [answers]);
	const ctx = fakeCtx({ files: extra.files ?? {}, commands: extra.commands ?? {} });
	const exec = ctx.exec.bind(ctx);
	ctx.exec = async (argv, options): Promise<ExecResult> => {
		const key = argv.join(' ');
		const q = queues.get(key);
		if (!q) return exec(argv, options);
		ctx.calls.push(`exec ${key}`);
		return answer(q.length > 1 ? q.shift()! : q[0]!);
	};
	return ctx;
}

const pingsRun = (ctx: FakeCtx) => ctx.calls.filter((c) => c.startsWith('exec ping'));
const sizesRun = (ctx: FakeCtx) => pingsRun(ctx).map((c) => Number(/ -s (\d+) /.exec(c)![1]));

function expectNextDeclared(v: Verdict) {
	expect(v.next).toBeDefined();
	expect(check.nextSteps).toContain(v.next);
}

const bridge1498: Script = {
	1472: ['debian12-bridge1498-s1472.ping.txt', 'debian12-bridge1498-s1472-try2.ping.txt'],
	1470: 'debian12-bridge1498-s1470.ping.txt',
	1471: ['debian12-bridge1498-s1471.ping.txt', 'debian12-bridge1498-s1471-try2.ping.txt'],
};

describe('run: black holes', () => {
	it('bridge port 1498 (2 bytes short, silent) -> fail 1498, shortBy 2, black-hole, the USB NIC step, 5 pings', async () => {
		const ctx = host('198.19.250.2', bridge1498);
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({
			maxPayload: 1470,
			pathMtu: 1498,
			expectedMtu: 1500,
			shortBy: 2,
			failureMode: 'black-hole',
			probes: 5,
			family: 'ipv4',
		});
		expect(v.facts.tried).toEqual(['1472 lost x2', '1470 reply', '1471 lost x2']);
		expect(sizesRun(ctx)).toEqual([1472, 1472, 1470, 1471, 1471]);
		expect(v.next).toBe('usb-nic-trailer#find-the-usb-nic-and-its-driver');
		expect(v.summary).toMatch(/1498, 2 bytes short of 1500/);
		expect(v.summary).toMatch(/USB NIC trailer/);
		expect(v.summary).toMatch(/black hole/);
		expect(v.summary).toMatch(/Path MTU Discovery cannot repair it/);
		// Evidence: the full-size ping, the largest answered, the smallest lost; with their deciding lines.
		expect(v.evidence.map((e) => e.command)).toEqual([
			'ping -M do -s 1472 -c 1 -W 1 -n 198.19.250.2',
			'ping -M do -s 1470 -c 1 -W 1 -n 198.19.250.2',
			'ping -M do -s 1471 -c 1 -W 1 -n 198.19.250.2',
		]);
		for (const e of v.evidence) expect(e.lines.length).toBeGreaterThan(0);
		expect(ctx.progressed.length).toBe(5);
	});

	it('a lost ping that its retry recovers counts as answered', async () => {
		const ctx = host('198.19.250.2', {
			...bridge1498,
			1470: ['debian12-bridge1498-port-down-s1470.ping.txt', 'debian12-bridge1498-s1470.ping.txt'],
		});
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v.facts).toMatchObject({ pathMtu: 1498, shortBy: 2, probes: 6 });
		expect(v.facts.tried).toEqual(['1472 lost x2', '1470 reply x2', '1471 lost x2']);
	});

	it('bridge port 1450 (50 bytes short, silent) -> bisects to 1450 within MAX_SIZES, the overlay step', async () => {
		const d = (s: number, two = false) =>
			two ? [`debian12-bridge1450-s${s}.ping.txt`, `debian12-bridge1450-s${s}-try2.ping.txt`] : `debian12-bridge1450-s${s}.ping.txt`;
		const script: Script = {};
		for (const s of [0, 735, 1102, 1286, 1378, 1401, 1412, 1418, 1421, 1422]) script[s] = d(s);
		for (const s of [1423, 1424, 1470, 1472]) script[s] = d(s, true);
		const ctx = host('198.19.250.2', script);
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ pathMtu: 1450, shortBy: 50, failureMode: 'black-hole', probes: 18 });
		expect(sizesRun(ctx)).toEqual([1472, 1472, 1470, 1470, 0, 735, 1102, 1286, 1378, 1424, 1424, 1401, 1412, 1418, 1421, 1422, 1423, 1423]);
		expect(new Set(sizesRun(ctx)).size).toBeLessThanOrEqual(MAX_SIZES);
		expect(v.next).toBe('overlay-mtu#fix-the-overlay-mtu');
		expect(v.summary).toMatch(/VXLAN-over-IPv4/);
	});
});

describe('run: a hop that says so', () => {
	it('router with a 1400 hop -> fail 1400, frag-needed, who said it, 2 pings', async () => {
		const ctx = host('198.19.252.1', { 1472: 'debian12-router1400-s1472.ping.txt', 1372: 'debian12-router1400-s1372.ping.txt' });
		const v = await check.run(ctx, params({ target: '198.19.252.1' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({
			pathMtu: 1400,
			shortBy: 100,
			failureMode: 'frag-needed',
			reportedMtu: 1400,
			reportedBy: '198.19.251.254',
			probes: 2,
		});
		expect(v.summary).toMatch(/anything larger is refused \(mtu 1400\)/);
		expect(v.summary).toMatch(/198\.19\.251\.254 answers "Frag needed and DF set \(mtu = 1400\)"/);
		expect(v.summary).toMatch(/matches no known overhead/);
		expect(v.next).toBe('#check-the-mtu-of-every-link-on-the-path');
		expect(ctx.calls.some((c) => c.includes('ip route get'))).toBe(false);
	});

	it('the same path once the kernel learned it: local error, route cache entry -> still frag-needed', async () => {
		const ctx = host(
			'198.19.252.1',
			{ 1472: 'debian12-router1400-cached-s1472.ping.txt', 1372: 'debian12-router1400-cached-s1372.ping.txt' },
			{
				commands: { 'ip route get 198.19.252.1': { stdout: fx('debian12-router1400-cached.route-get.txt') } },
				files: { '/sys/class/net/ar/mtu': fx('debian12-router1400-cached.mtu.txt') },
			},
		);
		const v = await check.run(ctx, params({ target: '198.19.252.1' }));
		expect(v.facts).toMatchObject({ pathMtu: 1400, failureMode: 'frag-needed', egressDev: 'ar', egressMtu: 1500 });
		expect(v.summary).toMatch(/already learned MTU 1400/);
		expect(v.summary).toMatch(/expires in 598s/);
		expect(v.evidence.map((e) => e.command)).toContain('cat /sys/class/net/ar/mtu');
	});

	it('IPv6: Packet too big -> fail 1400 with the IPv6 headers (48)', async () => {
		const ctx = host('2001:db8:2::1', { 1452: 'debian12-v6-router1400-s1452.ping.txt', 1352: 'debian12-v6-router1400-s1352.ping.txt' });
		const v = await check.run(ctx, params({ target: '2001:db8:2::1' }));
		expect(v.facts).toMatchObject({
			family: 'ipv6',
			maxPayload: 1352,
			pathMtu: 1400,
			shortBy: 100,
			failureMode: 'frag-needed',
			reportedBy: '2001:db8:1::fe',
		});
		expect(pingsRun(ctx)[0]).toBe('exec ping -6 -M do -s 1452 -c 1 -W 1 -n 2001:db8:2::1');
	});

	it('IPv6 learned PMTU (`mtu: 1400`, route with expires) -> frag-needed', async () => {
		const ctx = host(
			'2001:db8:2::1',
			{ 1452: 'debian12-v6-router1400-cached-s1452.ping.txt', 1352: 'debian12-v6-router1400-s1352.ping.txt' },
			{
				commands: { 'ip route get 2001:db8:2::1': { stdout: fx('debian12-v6-router1400-cached.route-get.txt') } },
				files: { '/sys/class/net/ar/mtu': fx('debian12-router1400-cached.mtu.txt') },
			},
		);
		const v = await check.run(ctx, params({ target: '2001:db8:2::1' }));
		expect(v.facts).toMatchObject({ pathMtu: 1400, failureMode: 'frag-needed' });
	});

	it('own interface 1450 and a 1400 hop beyond: the hop bounds the path -> frag-needed 1400', async () => {
		const ctx = host('198.19.252.1', {
			1472: 'debian12-iface1450-router1400-s1472.ping.txt',
			1422: 'debian12-iface1450-router1400-s1422.ping.txt',
			1372: 'debian12-iface1450-router1400-s1372.ping.txt',
		});
		const v = await check.run(ctx, params({ target: '198.19.252.1' }));
		expect(v.facts).toMatchObject({ pathMtu: 1400, failureMode: 'frag-needed', reportedMtu: 1400 });
		expect(v.facts.tried).toEqual(['1472 local-too-big', '1422 frag-needed', '1372 reply']);
	});

	it('the same over IPv6', async () => {
		const ctx = host('2001:db8:2::1', {
			1452: 'debian12-v6-iface1450-router1400-s1452.ping.txt',
			1402: 'debian12-v6-iface1450-router1400-s1402.ping.txt',
			1352: 'debian12-v6-iface1450-router1400-s1352.ping.txt',
		});
		const v = await check.run(ctx, params({ target: '2001:db8:2::1' }));
		expect(v.facts).toMatchObject({ pathMtu: 1400, failureMode: 'frag-needed' });
	});
});

describe('run: a VXLAN without dev (MTU 1500 over a 1500 underlay)', () => {
	it('first full-size ping answered (outer fragmented), the repeat refused -> fail 1450, the overlay step', async () => {
		const ctx = host(
			'198.19.16.130',
			{ 1472: ['debian12-vx0bad-s1472.ping.txt', 'debian12-vx0bad-s1472-repeat.ping.txt'], 1422: 'debian12-vx0bad-s1422.ping.txt' },
			{
				commands: { 'ip route get 198.19.16.130': { stdout: fx('debian12-vx0bad.route-get.txt') } },
				files: { '/sys/class/net/vx0bad/mtu': fx('debian12-vx0bad.mtu.txt') },
			},
		);
		const v = await check.run(ctx, params({ target: '198.19.16.130' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({
			pathMtu: 1450,
			shortBy: 50,
			failureMode: 'frag-needed',
			egressDev: 'vx0bad',
			egressMtu: 1500,
			probes: 3,
		});
		expect(v.facts.tried).toEqual(['1472 reply', '1472 local-too-big', '1422 reply']);
		expect(v.next).toBe('overlay-mtu#fix-the-overlay-mtu');
		expect(v.summary).toMatch(/VXLAN-over-IPv4/);
		expect(v.summary).toMatch(/was answered and the repeat refused/);
		expect(v.evidence.filter((e) => e.command.includes(' -s 1472 '))).toHaveLength(2);
	});
});

describe('run: the host itself is set lower', () => {
	for (const [target, top, ok, prefix] of [
		['198.19.251.254', 1472, 1422, 'debian12-own1450'],
		['2001:db8:1::fe', 1452, 1402, 'debian12-v6-own1450'],
	] as const) {
		it(`${prefix}: local "message too long" at the egress interface's MTU -> local-too-big, names the interface`, async () => {
			const ctx = host(
				target,
				{ [top]: `${prefix}-s${top}.ping.txt`, [ok]: `${prefix}-s${ok}.ping.txt` },
				{
					commands: { [`ip route get ${target}`]: { stdout: fx(`${prefix}.route-get.txt`) } },
					files: { '/sys/class/net/ar/mtu': fx(`${prefix}.mtu.txt`) },
				},
			);
			const v = await check.run(ctx, params({ target }));
			expect(v.status).toBe('fail');
			expect(v.facts).toMatchObject({
				pathMtu: 1450,
				shortBy: 50,
				failureMode: 'local-too-big',
				egressDev: 'ar',
				egressMtu: 1450,
				probes: 2,
			});
			expect(v.summary).toMatch(/its own interface ar has MTU 1450/);
			expect(v.summary).toMatch(/The host itself is set lower/);
			// 50 is the VXLAN overhead: the MTU may be lowered on purpose, so no fix is offered.
			expect(v.summary).toMatch(/expectMtu should be 1450/);
			expect(v.fix).toBeUndefined();
			expect(v.next).toBe('#check-the-mtu-of-every-link-on-the-path');
		});
	}

	it('an unexplained own-interface shortfall offers the MTU fix', () => {
		const v = evaluate(
			observation({
				maxPayload: 1372,
				minFailing: 1373,
				outcome: 'local-too-big',
				mtu: 1400,
				route: {
					type: null,
					dst: '10.0.0.1',
					from: null,
					iif: null,
					gateway: null,
					dev: 'eth0',
					src: null,
					mtu: null,
					expiresSec: null,
					cache: [],
					cacheLine: true,
				},
				ifaceMtu: 1400,
			}),
			params({ target: '10.0.0.1' }),
		);
		expect(v.facts.failureMode).toBe('local-too-big');
		expect(v.fix).toEqual(['ip link set dev eth0 mtu 1500']);
	});
});

describe('run: a path that carries the expected MTU', () => {
	it('1472 answered, and again -> pass after two pings, the clean-path step', async () => {
		const ctx = host('198.19.16.67', { 1472: ['debian12-lan1500-s1472.ping.txt', 'debian12-lan1500-s1472-repeat.ping.txt'] });
		const v = await check.run(ctx, params({ target: '198.19.16.67' }));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ pathMtu: 1500, maxPayload: 1472, shortBy: 0, failureMode: 'none', probes: 2 });
		expect(v.facts.tried).toEqual(['1472 reply', '1472 reply']);
		expect(v.next).toBe('#if-the-path-is-clean');
		expect(v.evidence).toHaveLength(1);
	});

	it('old iputils format answered -> pass', async () => {
		const v = await check.run(host('192.168.150.1', { 1472: 'suse-oldformat-pass.ping.txt' }), params({ target: '192.168.150.1' }));
		expect(v.status).toBe('pass');
	});

	it('the repeat merely lost: the size fit once, so still pass', async () => {
		const ctx = host('198.19.250.2', {
			1472: ['debian12-lan1500-s1472.ping.txt', 'debian12-bridge1498-s1472.ping.txt', 'debian12-bridge1498-s1472-try2.ping.txt'],
		});
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v.status).toBe('pass');
		expect(v.facts.tried).toEqual(['1472 reply', '1472 lost x2']);
	});

	it('expectMtu 1400 over the 1400 hop, IPv4 and IPv6 -> pass', async () => {
		const v4 = await check.run(
			host('198.19.252.1', { 1372: 'debian12-router1400-s1372.ping.txt' }),
			params({ target: '198.19.252.1', expectMtu: 1400 }),
		);
		expect(v4.status).toBe('pass');
		const v6 = await check.run(
			host('2001:db8:2::1', { 1352: 'debian12-v6-router1400-s1352.ping.txt' }),
			params({ target: '2001:db8:2::1', expectMtu: 1400 }),
		);
		expect(v6.status).toBe('pass');
		expect(v6.facts.pathMtu).toBe(1400);
	});
});

describe('run: could not decide', () => {
	it.each([
		[
			'net unreachable at the router',
			'198.19.253.1',
			{ 1472: 'debian12-net-unreachable-s1472.ping.txt', 0: 'debian12-net-unreachable-s0.ping.txt' },
			2,
			/Destination Net Unreachable/,
		],
		[
			'no route on this host (exit 2)',
			'198.19.253.1',
			{ 1472: 'debian12-no-route-s1472.ping.txt', 0: 'debian12-no-route-s0.ping.txt' },
			2,
			/connect: Network is unreachable/,
		],
		[
			'on-link host that is not there',
			'198.19.251.77',
			{
				1472: ['debian12-onlink-absent-s1472.ping.txt', 'debian12-onlink-absent-s1472-try2.ping.txt'],
				1470: ['debian12-onlink-absent-s1470.ping.txt', 'debian12-onlink-absent-s1470-try2.ping.txt'],
				0: ['debian12-onlink-absent-s0.ping.txt', 'debian12-onlink-absent-s0-try2.ping.txt'],
			},
			6,
			/no reply in 2 tries/,
		],
	] as const)('%s -> error, no MTU reported', async (_name, target, script, probes, why) => {
		const ctx = host(target, script as Script);
		const v = await check.run(ctx, params({ target }));
		expect(v.status).toBe('error');
		expect(v.code).toBe('CommandFailed');
		expect(v.facts).toMatchObject({ maxPayload: null, pathMtu: null, shortBy: null, failureMode: null, probes });
		expect(v.summary).toMatch(/did not answer even the smallest ping/);
		expect(v.summary).toMatch(why);
		expect(v.hint).toMatch(/ICMP echo/);
		expect(v.next).toBe('#measure-the-path-mtu');
	});

	it('BusyBox ping (no -M) -> CommandMissing naming the packages, after one run', async () => {
		const ctx = host('198.19.252.1', { 1472: 'busybox1.35-no-M.ping.txt' });
		const v = await check.run(ctx, params({ target: '198.19.252.1' }));
		expect(v).toMatchObject({ status: 'error', code: 'CommandMissing', next: '#measure-the-path-mtu' });
		expect(v.summary).toMatch(/BusyBox ping, which cannot set Don't Fragment/);
		expect(v.hint).toMatch(/iputils-ping \(Debian, Ubuntu\) or iputils \(RHEL/);
		expect(pingsRun(ctx)).toHaveLength(1);
	});

	it('ping not installed (exit 127) -> CommandMissing', async () => {
		const v = await check.run(fakeCtx({}), params({ target: '198.19.252.1' }));
		expect(v).toMatchObject({ status: 'error', code: 'CommandMissing' });
		expect(v.summary).toMatch(/iputils-ping/);
	});

	it('no raw socket for this user -> PermissionDenied', async () => {
		const v = await check.run(host('198.19.252.1', { 1472: 'debian12-nocap-nobody.ping.txt' }), params({ target: '198.19.252.1' }));
		expect(v).toMatchObject({ status: 'error', code: 'PermissionDenied' });
		expect(v.hint).toMatch(/cap_net_raw/);
	});

	it.each([
		['empty.ping.txt', 'OutputEmpty'],
		['debian12-bridge1498-s1472-cut45.ping.txt', 'OutputTruncated'],
		['ilohelper-de.ping.txt', 'OutputNotUnderstood'],
	])('%s at the first size -> %s, never a pass', async (file, code) => {
		const ctx = fakeCtx({ commands: { [pingArgv('198.19.250.2', 1472).join(' ')]: { stdout: fx(file), code: 1 } } });
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v).toMatchObject({ status: 'error', code });
		expect(v.evidence).toHaveLength(1);
	});

	it('a cut reply at a later size -> OutputTruncated, with the earlier runs as evidence', async () => {
		const ctx = host('198.19.250.2', { ...bridge1498, 1470: { file: 'debian12-bridge1498-s1470-cut120.ping.txt', code: 0 } });
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v).toMatchObject({ status: 'error', code: 'OutputTruncated' });
		expect(v.evidence.map((e) => e.command.split(' ')[4])).toEqual(['1472', '1472', '1470']);
	});

	it('output cut by the transport -> OutputTruncated', async () => {
		const ctx = fakeCtx({
			commands: { [pingArgv('198.19.250.2', 1472).join(' ')]: { stdout: fx('debian12-bridge1498-s1470.ping.txt'), truncated: true } },
		});
		const v = await check.run(ctx, params({ target: '198.19.250.2' }));
		expect(v).toMatchObject({ status: 'error', code: 'OutputTruncated' });
	});
});

// --- evaluate: the shortfall table ----------------------------------------------------------

function observation(o: {
	maxPayload: number | null;
	minFailing: number | null;
	outcome?: PingRun['outcome'];
	mtu?: number | null;
	family?: 'ipv4' | 'ipv6';
	route?: Observation['route'];
	ifaceMtu?: number | null;
}): Observation {
	const run: PingRun = {
		outcome: o.outcome ?? 'lost',
		transmitted: 1,
		received: 0,
		errors: 0,
		mtu: o.mtu ?? null,
		from: null,
		detail: 'x',
		noBufferSpace: false,
		option: null,
	};
	const attempt = { size: o.minFailing ?? 0, run, tries: 2, evidence: { command: 'ping', output: '', lines: [] } };
	return {
		target: '10.0.0.1',
		family: o.family ?? 'ipv4',
		maxPayload: o.maxPayload,
		minFailing: o.minFailing,
		limit: o.minFailing === null ? null : attempt,
		first: attempt,
		answeredOnce: false,
		probes: 3,
		tried: [],
		route: o.route ?? null,
		ifaceMtu: o.ifaceMtu ?? null,
		evidence: [],
	};
}

describe('evaluate: what a shortfall points to', () => {
	it.each([
		[2, 'usb-nic-trailer#find-the-usb-nic-and-its-driver', /USB NIC trailer/],
		[4, '#check-the-mtu-of-every-link-on-the-path', /802\.1Q VLAN tag/],
		[8, '#check-the-mtu-of-every-link-on-the-path', /PPPoE/],
		[24, 'overlay-mtu#fix-the-overlay-mtu', /GRE-over-IPv4/],
		[38, 'overlay-mtu#fix-the-overlay-mtu', /gretap overhead without key/],
		[42, 'overlay-mtu#fix-the-overlay-mtu', /gretap overhead with key/],
		[50, 'overlay-mtu#fix-the-overlay-mtu', /VXLAN-over-IPv4/],
		[54, 'overlay-mtu#fix-the-overlay-mtu', /VLAN-tagged inner frame/],
		[70, 'overlay-mtu#fix-the-overlay-mtu', /VXLAN-over-IPv6/],
		[3, '#check-the-mtu-of-every-link-on-the-path', /matches no known overhead/],
		[100, '#check-the-mtu-of-every-link-on-the-path', /matches no known overhead/],
	])('black hole %i bytes short -> %s', (shortBy, next, text) => {
		const max = 1500 - 28 - shortBy;
		const v = evaluate(observation({ maxPayload: max, minFailing: max + 1 }), params({ target: '10.0.0.1' }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ shortBy, pathMtu: 1500 - shortBy, failureMode: 'black-hole' });
		expect(v.next).toBe(next);
		expect(v.summary).toMatch(text);
		expectNextDeclared(v);
	});

	it('every SHORTFALLS entry names a declared next step', () => {
		for (const s of Object.values(SHORTFALLS)) expect(check.nextSteps).toContain(s.next);
	});

	it('jumbo expected, 1500 found -> says a link is still at 1500', () => {
		const v = evaluate(observation({ maxPayload: 1472, minFailing: 1473 }), params({ target: '10.0.0.1', expectMtu: 9000 }));
		expect(v.facts).toMatchObject({ pathMtu: 1500, shortBy: 7500, expectedMtu: 9000 });
		expect(v.summary).toMatch(/still at the standard 1500/);
	});

	it('IPv6 uses 48 bytes of headers', () => {
		const v = evaluate(observation({ maxPayload: 1450, minFailing: 1451, family: 'ipv6' }), params({ target: '2001:db8::1' }));
		expect(v.facts).toMatchObject({ pathMtu: 1498, shortBy: 2 });
		expect(HEADERS.ipv6).toBe(48);
	});

	it('a search that stopped before converging reports the bracket, still fail', () => {
		const v = evaluate(observation({ maxPayload: 4000, minFailing: 6000 }), params({ target: '10.0.0.1', expectMtu: 9000 }));
		expect(v.status).toBe('fail');
		expect(v.summary).toMatch(/at least 4028 and below 6028/);
	});

	it('the ENOBUFS veth artefact is named', () => {
		const o = observation({ maxPayload: 1372, minFailing: 1373 });
		o.limit!.run.noBufferSpace = true;
		expect(evaluate(o, params({ target: '10.0.0.1' })).summary).toMatch(/No buffer space available/);
	});
});

describe('params and probes', () => {
	it.each(['1.2.3.4;id', 'host.example', '$(id)', '-c 100', '1.2.3.256', 'fe80::1%eth0', ''])('target %j is refused', (target) => {
		expect(check.params.safeParse({ target }).success).toBe(false);
	});

	it.each([575, 9217, 1500.5, '1500'])('expectMtu %j is refused', (expectMtu) => {
		expect(check.params.safeParse({ target: '10.0.0.1', expectMtu }).success).toBe(false);
	});

	it('defaults expectMtu to 1500 and lists its commands for the page', () => {
		const p = params({ target: '2001:db8::1' });
		expect(p.expectMtu).toBe(1500);
		const commands = check.probes(p).map((x) => (x.kind === 'exec' ? x.argv.join(' ') : `cat ${x.path}`));
		expect(commands).toEqual([
			'ping -6 -M do -s 1452 -c 1 -W 1 -n 2001:db8::1',
			'ping -6 -M do -s SIZE -c 1 -W 1 -n 2001:db8::1',
			'ip route get 2001:db8::1',
			'cat /sys/class/net/DEV/mtu',
		]);
	});
});
