import { describe, expect, it } from 'vitest';
import { expectRunbookEmbeds, fixtures } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand } from '../../test/support/fake-ctx.ts';
import check, {
	classifyRouteError,
	parseRouteGet,
	parseRouteGetJson,
	parseRouteGetText,
	type Params,
	type RouteGet,
} from './redirect-route.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/redirect-route/', import.meta.url));
const params = (p: Record<string, unknown>): Params => check.params.parse(p);

// --- parsers over every fixture --------------------------------------------------------------

const hairpin: RouteGet = {
	type: 'unicast',
	dst: '198.19.220.1',
	from: '198.18.220.10',
	gateway: '198.18.220.2',
	dev: 'eth1',
	iif: 'eth1',
	cache: ['redirect'],
};
const otherPort: RouteGet = {
	type: 'unicast',
	dst: '198.19.220.130',
	from: '198.18.220.10',
	gateway: null,
	dev: 'eth2',
	iif: 'eth1',
	cache: [],
};
const offlink: RouteGet = {
	type: 'unicast',
	dst: '198.19.220.1',
	from: '198.19.220.130',
	gateway: '198.18.220.2',
	dev: 'eth1',
	iif: 'eth1',
	cache: [],
};
const local: RouteGet = {
	type: 'local',
	dst: '198.18.220.1',
	from: '198.18.220.10',
	gateway: null,
	dev: 'lo',
	iif: 'eth1',
	cache: ['local'],
};
const domain: RouteGet = {
	type: 'unicast',
	dst: '192.168.50.1',
	from: '10.0.0.10',
	gateway: '10.0.0.2',
	dev: 'eth0',
	iif: 'eth0',
	cache: ['redirect'],
};

/** stdout fixtures: what parseRouteGet must return, or null for "not understood". */
const stdoutCases: Record<string, RouteGet | null> = {
	'debian12-k6.18-hairpin.route-get.txt': hairpin,
	'debian12-k6.18-hairpin.route-get-j.txt': hairpin,
	'debian12-k6.18-other-port.route-get.txt': otherPort,
	'debian12-k6.18-other-port.route-get-j.txt': otherPort,
	'debian12-k6.18-hairpin-src-offlink.route-get.txt': offlink,
	'debian12-k6.18-hairpin-src-offlink.route-get-j.txt': offlink,
	'debian12-k6.18-local.route-get.txt': local,
	'debian12-k6.18-local.route-get-j.txt': local,
	'debian12-k6.18-domain-lab.route-get.txt': domain,
	'debian12-k6.18-domain-lab.route-get-j.txt': domain,
	'debian12-k6.18-hairpin-cut60.route-get.txt': null,
	'debian12-k6.18-hairpin-cut60.route-get-j.txt': null,
	'empty.route-get-j.txt': null,
};

/** stderr fixtures (exit 1 or 2): the kind of error they are. */
const stderrCases: Record<string, ReturnType<typeof classifyRouteError>['kind']> = {
	'debian12-k6.18-no-route.route-get-j-stderr.txt': 'unreachable',
	'debian12-k6.18-not-forwarding.route-get-j-stderr.txt': 'no-route-to-host',
	'debian12-k6.18-martian-src.route-get-j-stderr.txt': 'invalid',
	'debian12-k6.18-no-such-iif.route-get-j-stderr.txt': 'no-device',
};

describe('parsers on every fixture', () => {
	it('every fixture file has an expectation', () => {
		expect(fixtureFiles.toSorted()).toEqual([...Object.keys(stdoutCases), ...Object.keys(stderrCases)].toSorted());
	});
	for (const [file, want] of Object.entries(stdoutCases)) {
		it(`${file} -> ${want ? `${want.dev} [${want.cache.join(',')}]` : 'not understood'}`, () => {
			const p = parseRouteGet(fx(file));
			expect(p.ok ? p.value : null, p.ok ? '' : p.reason).toEqual(want);
		});
	}
	for (const [file, kind] of Object.entries(stderrCases)) {
		it(`${file} -> ${kind}`, () => {
			expect(classifyRouteError(fx(file)).kind).toBe(kind);
		});
	}
	it('the deciding lines: the route and its cache line in text, the one JSON line', () => {
		const t = parseRouteGetText(fx('debian12-k6.18-hairpin.route-get.txt'));
		expect(t.ok && t.lines).toEqual([1, 2]);
		const j = parseRouteGetJson(fx('debian12-k6.18-hairpin.route-get-j.txt'));
		expect(j.ok && j.lines).toEqual([1]);
	});
	it('an error message is not a route in either form', () => {
		expect(parseRouteGet(fx('debian12-k6.18-no-route.route-get-j-stderr.txt')).ok).toBe(false);
		expect(parseRouteGetJson(fx('debian12-k6.18-hairpin.route-get.txt')).ok).toBe(false);
	});
	it('JSON without the cache list cannot say whether it redirects', () => {
		const p = parseRouteGetJson('[{"dst":"198.19.220.1","dev":"eth1","flags":[]}]\n');
		expect(!p.ok && p.reason).toMatch(/no "cache"/);
	});
});

// --- run() through a fake host ------------------------------------------------------------------

const HAIRPIN = { dst: '198.19.220.1', src: '198.18.220.10', iif: 'eth1' };
const argvJ = (p: typeof HAIRPIN) => `ip -j route get ${p.dst} from ${p.src} iif ${p.iif}`;
const argvT = (p: typeof HAIRPIN) => `ip route get ${p.dst} from ${p.src} iif ${p.iif}`;

/** The lab router's settings (captured with cat in the lab): forwarding on, redirects on. */
function routerFiles(iif = 'eth1', over: Record<string, string> = {}): Record<string, string> {
	return {
		'/proc/sys/net/ipv4/ip_forward': '1\n',
		[`/proc/sys/net/ipv4/conf/${iif}/forwarding`]: '1\n',
		'/proc/sys/net/ipv4/conf/all/send_redirects': '1\n',
		[`/proc/sys/net/ipv4/conf/${iif}/send_redirects`]: '1\n',
		...over,
	};
}

async function runWith(p: typeof HAIRPIN, commands: Record<string, FakeCommand>, files = routerFiles(p.iif)) {
	const ctx = fakeCtx({ files, commands });
	const v = await check.run(ctx, params(p));
	return { v, ctx };
}

describe('net.redirect-route run()', () => {
	it('the lab hairpin (JSON) -> fail, with the flags, the next step and the send_redirects fix', async () => {
		const { v } = await runWith(HAIRPIN, { [argvJ(HAIRPIN)]: { stdout: fx('debian12-k6.18-hairpin.route-get-j.txt') } });
		expect(v.status, v.summary).toBe('fail');
		expect(v.facts).toMatchObject({ outDev: 'eth1', gateway: '198.18.220.2', cacheFlags: ['redirect'], hairpin: true, sendRedirects: 1 });
		expect(v.summary).toMatch(/cache <redirect>/);
		expect(v.summary).toMatch(/ICMP redirect to use 198\.18\.220\.2 directly/);
		expect(v.next).toBe('#remove-the-hairpin');
		expect(v.fix).toEqual(['sysctl -w net.ipv4.conf.all.send_redirects=0', 'sysctl -w net.ipv4.conf.eth1.send_redirects=0']);
		expect(v.evidence[0]).toMatchObject({ command: argvJ(HAIRPIN), lines: [1] });
	});

	it('an iproute2 without -j (the message ip/ip.c prints, exit 255) -> the text form is run and read', async () => {
		const { v, ctx } = await runWith(HAIRPIN, {
			[argvJ(HAIRPIN)]: { stderr: 'Option "-j" is unknown, try "ip -help".\n', code: 255 },
			[argvT(HAIRPIN)]: { stdout: fx('debian12-k6.18-hairpin.route-get.txt') },
		});
		expect(v.status).toBe('fail');
		expect(ctx.calls.filter((c) => c.startsWith('exec'))).toEqual([`exec ${argvJ(HAIRPIN)}`, `exec ${argvT(HAIRPIN)}`]);
		expect(v.evidence[1]).toMatchObject({ command: argvT(HAIRPIN), lines: [1, 2] });
	});

	it('an iproute2 that accepts -j but prints the route as text -> read as text', async () => {
		const { v } = await runWith(HAIRPIN, { [argvJ(HAIRPIN)]: { stdout: fx('debian12-k6.18-hairpin.route-get.txt') } });
		expect(v.status).toBe('fail');
	});

	it('the DOMAIN.md lab capture (eth0) -> fail', async () => {
		const p = { dst: '192.168.50.1', src: '10.0.0.10', iif: 'eth0' };
		const { v } = await runWith(p, { [argvJ(p)]: { stdout: fx('debian12-k6.18-domain-lab.route-get-j.txt') } });
		expect(v.status).toBe('fail');
	});

	it('a destination behind another interface -> pass, no hairpin', async () => {
		const p = { ...HAIRPIN, dst: '198.19.220.130' };
		const { v } = await runWith(p, { [argvJ(p)]: { stdout: fx('debian12-k6.18-other-port.route-get-j.txt') } });
		expect(v.status, v.summary).toBe('pass');
		expect(v.summary).toMatch(/leaves by eth2, not by eth1: no hairpin/);
		expect(v.facts.hairpin).toBe(false);
		expect(v.next).toBe('#if-every-check-passes');
	});

	it('a hairpin from a source not on the gateway subnet -> pass, but says it hairpins without a redirect', async () => {
		const p = { ...HAIRPIN, src: '198.19.220.130' };
		const { v } = await runWith(p, { [argvJ(p)]: { stdout: fx('debian12-k6.18-hairpin-src-offlink.route-get-j.txt') } });
		expect(v.status).toBe('pass');
		expect(v.facts.hairpin).toBe(true);
		expect(v.summary).toMatch(/it does hairpin, but without a redirect, because 198\.19\.220\.130 is not on the same subnet/);
	});

	it('the same with send_redirects off everywhere -> the reason is send_redirects', async () => {
		const p = { ...HAIRPIN, src: '198.19.220.130' };
		const files = routerFiles('eth1', {
			'/proc/sys/net/ipv4/conf/all/send_redirects': '0\n',
			'/proc/sys/net/ipv4/conf/eth1/send_redirects': '0\n',
		});
		const { v } = await runWith(p, { [argvJ(p)]: { stdout: fx('debian12-k6.18-hairpin-src-offlink.route-get-j.txt') } }, files);
		expect(v.summary).toMatch(/because send_redirects is off/);
	});

	it('a destination that is the router itself -> pass, delivered locally', async () => {
		const p = { ...HAIRPIN, dst: '198.18.220.1' };
		const { v } = await runWith(p, { [argvJ(p)]: { stdout: fx('debian12-k6.18-local.route-get-j.txt') } });
		expect(v.status).toBe('pass');
		expect(v.summary).toMatch(/for this host itself/);
	});

	it.each([
		['debian12-k6.18-no-route.route-get-j-stderr.txt', 2, /no route to 198\.19\.220\.1/],
		['debian12-k6.18-martian-src.route-get-j-stderr.txt', 2, /not a valid source/],
		['debian12-k6.18-no-such-iif.route-get-j-stderr.txt', 1, /no interface eth1 on this host/],
	])('%s -> error CommandFailed with its meaning', async (file, code, meaning) => {
		const { v } = await runWith(HAIRPIN, { [argvJ(HAIRPIN)]: { stderr: fx(file), code } });
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toMatch(meaning);
		expect(v.summary).toContain(fx(file).trim());
		expect(v.evidence[0]!.lines).toEqual([1]);
	});

	it('No route to host on a host that does not forward (the clean lab host) -> error that says it is not a router', async () => {
		const files = routerFiles('eth1', { '/proc/sys/net/ipv4/ip_forward': '0\n', '/proc/sys/net/ipv4/conf/eth1/forwarding': '0\n' });
		const { v } = await runWith(
			HAIRPIN,
			{ [argvJ(HAIRPIN)]: { stderr: fx('debian12-k6.18-not-forwarding.route-get-j-stderr.txt'), code: 2 } },
			files,
		);
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toMatch(/does not forward packets arriving on eth1/);
		expect(v.facts).toMatchObject({ ipForward: 0, iifForwarding: 0 });
	});

	it('No route to host on a forwarding router -> an unreachable or prohibit route', async () => {
		const { v } = await runWith(HAIRPIN, {
			[argvJ(HAIRPIN)]: { stderr: fx('debian12-k6.18-not-forwarding.route-get-j-stderr.txt'), code: 2 },
		});
		expect(v.summary).toMatch(/unreachable or prohibit route/);
	});

	it.each([
		['debian12-k6.18-hairpin-cut60.route-get-j.txt', 'OutputTruncated'],
		['empty.route-get-j.txt', 'OutputEmpty'],
	])('stdout %s, exit 0 -> error %s, never pass', async (file, code) => {
		const { v } = await runWith(HAIRPIN, { [argvJ(HAIRPIN)]: { stdout: fx(file) } });
		expect(v).toMatchObject({ status: 'error', code });
	});

	it('output cut by the transport -> error OutputTruncated', async () => {
		const { v } = await runWith(HAIRPIN, {
			[argvJ(HAIRPIN)]: { stdout: fx('debian12-k6.18-hairpin-cut60.route-get-j.txt'), truncated: true },
		});
		expect(v).toMatchObject({ status: 'error', code: 'OutputTruncated' });
	});

	it('ip missing (exit 127) -> error CommandMissing naming the package', async () => {
		const { v } = await runWith(HAIRPIN, {});
		expect(v).toMatchObject({ status: 'error', code: 'CommandMissing' });
		expect(v.hint).toMatch(/iproute2/);
	});

	it('run runs and reads only what probes announce', async () => {
		const { ctx } = await runWith(HAIRPIN, {
			[argvJ(HAIRPIN)]: { stderr: 'Option "-j" is unknown, try "ip -help".\n', code: 255 },
			[argvT(HAIRPIN)]: { stdout: fx('debian12-k6.18-hairpin.route-get.txt') },
		});
		const announced = check.probes(params(HAIRPIN)).map(callOf);
		expect(ctx.calls.toSorted()).toEqual(announced.toSorted());
	});

	it('params: IPv4 addresses and an interface name, nothing else', () => {
		expect(check.params.safeParse(HAIRPIN).success).toBe(true);
		expect(check.params.safeParse({ ...HAIRPIN, dst: '198.19.220.1;id' }).success).toBe(false);
		expect(check.params.safeParse({ ...HAIRPIN, src: 'host.example' }).success).toBe(false);
		expect(check.params.safeParse({ ...HAIRPIN, dst: '2001:db8::1' }).success).toBe(false);
		expect(check.params.safeParse({ ...HAIRPIN, iif: 'eth1 && id' }).success).toBe(false);
		expect(check.params.safeParse({ dst: HAIRPIN.dst, src: HAIRPIN.src }).success).toBe(false);
	});
});

describe('the runbook that embeds it', () => {
	it('every anchor in nextSteps is a heading of icmp-redirect-copp', () => {
		expectRunbookEmbeds(check, 'icmp-redirect-copp');
	});
});
