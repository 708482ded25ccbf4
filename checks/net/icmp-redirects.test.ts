import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { expectRunbookEmbeds, fixtures } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeCtx } from '../../test/support/fake-ctx.ts';
import check, {
	CONF_DIR,
	IP_FORWARD_PATH,
	MAX_INTERFACES,
	parseConfList,
	parseRedirectCounters,
	parseSnmpSections,
	parseSysctlInt,
	SNMP_PATH,
	sysctlDev,
	type Params,
	type RedirectCounters,
} from './icmp-redirects.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/icmp-redirects/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);

// --- parsers over every fixture --------------------------------------------------------------

/** Every `.snmp.txt` fixture: the counters its parser must find, or null for "not understood". */
const snmpCases: Record<string, RedirectCounters | null> = {
	'debian12-k6.18-router-hairpin-t0.snmp.txt': {
		inRedirects: 0,
		outRedirects: 198,
		inType5: null,
		outType5: 198,
		forwDatagrams: 277,
		ipForwarding: 1,
		icmpColumns: 29,
	},
	'debian12-k6.18-router-hairpin-t2s.snmp.txt': {
		inRedirects: 0,
		outRedirects: 222,
		inType5: null,
		outType5: 222,
		forwDatagrams: 309,
		ipForwarding: 1,
		icmpColumns: 29,
	},
	'debian12-k6.18-host-ignoring-t0.snmp.txt': {
		inRedirects: 198,
		outRedirects: 0,
		inType5: 198,
		outType5: null,
		forwDatagrams: 0,
		ipForwarding: 2,
		icmpColumns: 29,
	},
	'debian12-k6.18-host-ignoring-t2s.snmp.txt': {
		inRedirects: 222,
		outRedirects: 0,
		inType5: 222,
		outType5: null,
		forwDatagrams: 0,
		ipForwarding: 2,
		icmpColumns: 29,
	},
	'debian12-k6.18-clean.snmp.txt': {
		inRedirects: 0,
		outRedirects: 0,
		inType5: null,
		outType5: null,
		forwDatagrams: 0,
		ipForwarding: 2,
		icmpColumns: 29,
	},
	'debian12-k6.18-fresh-netns.snmp.txt': {
		inRedirects: 0,
		outRedirects: 0,
		inType5: null,
		outType5: null,
		forwDatagrams: 0,
		ipForwarding: 2,
		icmpColumns: 29,
	},
	'debian12-k6.18-head6.snmp.txt': {
		inRedirects: 0,
		outRedirects: 6,
		inType5: null,
		outType5: 6,
		forwDatagrams: 32,
		ipForwarding: 1,
		icmpColumns: 29,
	},
	'node-exporter.snmp.txt': {
		inRedirects: 0,
		outRedirects: 0,
		inType5: null,
		outType5: null,
		forwDatagrams: 397750,
		ipForwarding: 1,
		icmpColumns: 27,
	},
	'centos6-hiboma-td-agent.snmp.txt': {
		inRedirects: 0,
		outRedirects: 0,
		inType5: null,
		outType5: null,
		forwDatagrams: 0,
		ipForwarding: 2,
		icmpColumns: 26,
	},
	'debian12-k6.18-proc-net-netstat.snmp.txt': null,
	'debian12-k6.18-proc-net-snmp6.snmp.txt': null,
	'debian12-k6.18-router-cut700.snmp.txt': null,
	'debian12-k6.18-router-cut400.snmp.txt': null,
	'empty.snmp.txt': null,
};

const lsCases: Record<string, string[] | null> = {
	'debian12-k6.18-router.conf-ls.txt': ['all', 'default', 'eth1', 'eth2', 'lo'],
	'debian12-k6.18-host.conf-ls.txt': ['all', 'default', 'eth1', 'lo'],
	'debian12-k6.18-clean.conf-ls.txt': ['all', 'default', 'eth1', 'lo'],
	'debian12-k6.18-de-no-dir.conf-ls-stderr.txt': null,
};

describe('parsers on every fixture', () => {
	it('every fixture file has an expectation', () => {
		expect(fixtureFiles.toSorted()).toEqual([...Object.keys(snmpCases), ...Object.keys(lsCases)].toSorted());
	});

	for (const [file, want] of Object.entries(snmpCases)) {
		it(`${file} -> ${want ? `in ${want.inRedirects} out ${want.outRedirects}` : 'not understood'}`, () => {
			const p = parseRedirectCounters(fx(file));
			if (want === null) {
				expect(p.ok).toBe(false);
				return;
			}
			expect(p.ok, p.ok ? '' : p.reason).toBe(true);
			if (p.ok) expect(p.value).toEqual(want);
		});
	}

	for (const [file, want] of Object.entries(lsCases)) {
		it(`${file} -> ${want ? want.join(' ') : 'not understood'}`, () => {
			const p = parseConfList(fx(file));
			expect(p.ok ? p.value : null).toEqual(want);
		});
	}

	it('columns are found by name: the same counters from a 6.18 (29 Icmp columns) and a 3.x layout (27)', () => {
		const k618 = parseRedirectCounters(fx('debian12-k6.18-head6.snmp.txt'));
		const old = parseRedirectCounters(fx('node-exporter.snmp.txt'));
		expect(k618.ok && k618.value.outRedirects).toBe(6);
		expect(old.ok && old.value.forwDatagrams).toBe(397750);
	});

	it('the deciding lines are the Ip and Icmp pairs (and IcmpMsg when present)', () => {
		const p = parseRedirectCounters(fx('debian12-k6.18-router-hairpin-t0.snmp.txt'));
		expect(p.ok && p.lines).toEqual([1, 2, 3, 4, 5, 6]);
		const q = parseRedirectCounters(fx('debian12-k6.18-clean.snmp.txt'));
		expect(q.ok && q.lines).toEqual([1, 2, 3, 4]);
	});

	it('/proc/net/netstat has the same layout but no Icmp pair: the reason says so', () => {
		const sections = parseSnmpSections(fx('debian12-k6.18-proc-net-netstat.snmp.txt'));
		expect(sections.ok).toBe(true);
		const p = parseRedirectCounters(fx('debian12-k6.18-proc-net-netstat.snmp.txt'));
		expect(!p.ok && p.reason).toMatch(/no Icmp: header/);
	});

	it('a header whose column is missing is not understood, naming the column', () => {
		const text = fx('node-exporter.snmp.txt').replace(' OutRedirects ', ' OutRedirectz ');
		const p = parseRedirectCounters(text);
		expect(!p.ok && p.reason).toMatch(/no Icmp OutRedirects column/);
	});

	it.each([
		['1\n', 1],
		['0\n', 0],
		['1', null],
		['net.ipv4.ip_forward = 1\n', null],
		['', null],
	])('sysctl file %j -> %s', (text, want) => {
		const p = parseSysctlInt(text);
		expect(p.ok ? p.value : null).toBe(want);
	});

	it('sysctl names put a dot in an interface name as /', () => {
		expect(sysctlDev('eth0.100')).toBe('eth0/100');
	});
});

// --- run() through a fake host ------------------------------------------------------------------

interface Host {
	first: string;
	second: string;
	ipForward: string;
	all: [send: string, accept: string];
	def?: [send: string, accept: string];
	ls: FakeCommand;
	devs?: Record<string, [send: string, accept: string]>;
}

/** A fake ctx whose /proc/net/snmp changes once the check sleeps, as a live host's does. */
function host(h: Host): FakeCtx {
	const files: Record<string, string> = {
		[SNMP_PATH]: h.first,
		[IP_FORWARD_PATH]: h.ipForward,
		[`${CONF_DIR}/all/send_redirects`]: h.all[0],
		[`${CONF_DIR}/all/accept_redirects`]: h.all[1],
		[`${CONF_DIR}/default/send_redirects`]: (h.def ?? h.all)[0],
		[`${CONF_DIR}/default/accept_redirects`]: (h.def ?? h.all)[1],
	};
	for (const [dev, [send, accept]] of Object.entries(h.devs ?? {})) {
		files[`${CONF_DIR}/${dev}/send_redirects`] = send;
		files[`${CONF_DIR}/${dev}/accept_redirects`] = accept;
	}
	const ctx = fakeCtx({ files, commands: { [`ls ${CONF_DIR}`]: h.ls } });
	const sleep = ctx.sleep.bind(ctx);
	ctx.sleep = async (ms: number) => {
		files[SNMP_PATH] = h.second;
		await sleep(ms);
	};
	return ctx;
}

/** The router of the lab capture: ip_forward 1, redirects sent on eth1 and eth2, accept on only per device. */
const router = (first: string, second: string): Host => ({
	first: fx(first),
	second: fx(second),
	ipForward: '1\n',
	all: ['1\n', '0\n'],
	def: ['1\n', '1\n'],
	ls: { stdout: fx('debian12-k6.18-router.conf-ls.txt') },
	devs: { eth1: ['1\n', '1\n'], eth2: ['1\n', '1\n'], lo: ['1\n', '1\n'] },
});

/** The host of the lab capture: not forwarding, accept_redirects turned off everywhere. */
const hostIgnoring = (): Host => ({
	first: fx('debian12-k6.18-host-ignoring-t0.snmp.txt'),
	second: fx('debian12-k6.18-host-ignoring-t2s.snmp.txt'),
	ipForward: '0\n',
	all: ['1\n', '0\n'],
	def: ['1\n', '0\n'],
	ls: { stdout: fx('debian12-k6.18-host.conf-ls.txt') },
	devs: { eth1: ['1\n', '0\n'], lo: ['1\n', '1\n'] },
});

const runOn = async (h: Host, p: Record<string, unknown> = {}): Promise<Verdict> => check.run(host(h), params(p));

describe('net.icmp-redirects run()', () => {
	it('lab router while the host pings through the hairpin -> fail, 24 redirects in 2 s, fix covers all, default and each interface', async () => {
		const v = await runOn(router('debian12-k6.18-router-hairpin-t0.snmp.txt', 'debian12-k6.18-router-hairpin-t2s.snmp.txt'));
		expect(v.status, v.summary).toBe('fail');
		expect(v.facts).toMatchObject({
			outRedirects: 24,
			inRedirects: 0,
			outRedirectsPerSecond: 12,
			forwardedDatagrams: 32,
			ipForward: 1,
			sendRedirectsOn: ['eth1', 'eth2'],
			acceptRedirectsOn: [],
		});
		expect(v.summary).toMatch(/sent 24 ICMP redirects in 2 s \(12\/s\)/);
		expect(v.summary).toMatch(/hairpin/);
		expect(v.summary).toMatch(/still forwarded/);
		expect(v.next).toBe('#which-route-hairpins');
		expect(v.fix).toEqual([
			'sysctl -w net.ipv4.conf.all.send_redirects=0',
			'sysctl -w net.ipv4.conf.default.send_redirects=0',
			'sysctl -w net.ipv4.conf.eth1.send_redirects=0',
			'sysctl -w net.ipv4.conf.eth2.send_redirects=0',
		]);
		const snmp = v.evidence.filter((e) => e.command === 'cat /proc/net/snmp');
		expect(snmp).toHaveLength(2);
		expect(snmp[1]!.lines).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it('lab host ignoring the redirects it receives -> warn, accept_redirects off said so', async () => {
		const v = await runOn(hostIgnoring());
		expect(v.status, v.summary).toBe('warn');
		expect(v.facts).toMatchObject({ inRedirects: 24, outRedirects: 0, ipForward: 0, acceptRedirectsOn: [] });
		expect(v.summary).toMatch(/received 24 ICMP redirects in 2 s/);
		expect(v.summary).toMatch(/told again and again that its next hop is wrong/);
		expect(v.summary).toMatch(/accept_redirects is off on every interface/);
		expect(v.next).toBe('#remove-the-hairpin');
	});

	it('a host that accepts them (not forwarding: all OR the interface) -> warn, and says it listens', async () => {
		const h = hostIgnoring();
		h.devs = { eth1: ['1\n', '1\n'] };
		const v = await runOn(h);
		expect(v.status).toBe('warn');
		expect(v.facts.acceptRedirectsOn).toEqual(['eth1']);
		expect(v.summary).toMatch(/accept_redirects is in effect on eth1: where it is on, the host caches the new next hop/);
	});

	it('accept on the management link only: both lists are named', async () => {
		const h = hostIgnoring();
		h.ls = { stdout: 'all\ndefault\neth0\neth1\nlo\n' };
		h.devs = { eth0: ['1\n', '1\n'], eth1: ['1\n', '0\n'] };
		const v = await runOn(h);
		expect(v.summary).toMatch(/accept_redirects is in effect on eth0 \(off on eth1\)/);
	});

	it('a forwarding host needs all AND the interface to accept: eth1 alone is not enough', async () => {
		const v = await runOn(router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt'));
		expect(v.facts.acceptRedirectsOn).toEqual([]);
	});

	it.each([
		['debian12-k6.18-clean.snmp.txt', '0\n', /does not forward IPv4/],
		['debian12-k6.18-fresh-netns.snmp.txt', '0\n', /does not forward IPv4/],
		['node-exporter.snmp.txt', '1\n', /would send redirects on eth1, eth2 if traffic hairpinned/],
		['centos6-hiboma-td-agent.snmp.txt', '0\n', /No ICMP redirects sent or received in 2 s/],
	])('%s twice, ip_forward %j -> pass', async (file, fwd, pattern) => {
		const h = router(file, file);
		h.ipForward = fwd;
		const v = await runOn(h);
		expect(v.status, v.summary).toBe('pass');
		expect(v.summary).toMatch(pattern);
		expect(v.next).toBe('#if-every-check-passes');
	});

	it('a router whose counters show old redirects but none in the interval -> pass, and mentions the history', async () => {
		const t = 'debian12-k6.18-router-hairpin-t2s.snmp.txt';
		const v = await runOn(router(t, t));
		expect(v.status).toBe('pass');
		expect(v.summary).toMatch(/sent 222 and received 0: a hairpin happened before, not now/);
	});

	it('intervalMs is the sleep between the two samples and the rate divisor', async () => {
		const h = router('debian12-k6.18-router-hairpin-t0.snmp.txt', 'debian12-k6.18-router-hairpin-t2s.snmp.txt');
		const ctx = host(h);
		const v = await check.run(ctx, params({ intervalMs: 4000 }));
		expect(ctx.slept).toBe(4000);
		expect(v.facts.outRedirectsPerSecond).toBe(6);
		expect(ctx.progressed[0]).toMatch(/first sample/);
	});

	it.each([
		['debian12-k6.18-router-cut700.snmp.txt', 'OutputTruncated'],
		['debian12-k6.18-router-cut400.snmp.txt', 'OutputTruncated'],
		['empty.snmp.txt', 'OutputEmpty'],
		['debian12-k6.18-proc-net-netstat.snmp.txt', 'OutputNotUnderstood'],
		['debian12-k6.18-proc-net-snmp6.snmp.txt', 'OutputNotUnderstood'],
	])('first sample %s -> error %s, never pass', async (file, code) => {
		const h = router(file, 'debian12-k6.18-clean.snmp.txt');
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
	});

	it('counters that go backwards (another namespace between samples) -> error', async () => {
		const v = await runOn(router('debian12-k6.18-router-hairpin-t2s.snmp.txt', 'debian12-k6.18-router-hairpin-t0.snmp.txt'));
		expect(v).toMatchObject({ status: 'error', code: 'OutputNotUnderstood' });
		expect(v.summary).toMatch(/went backwards/);
	});

	it('no /proc/net/snmp -> error CommandFailed naming the file', async () => {
		const ctx = fakeCtx({ files: {} });
		const v = await check.run(ctx, params());
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toContain('/proc/net/snmp');
	});

	it('ls missing (exit 127) -> error CommandMissing', async () => {
		const h = router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt');
		h.ls = { stderr: 'bash: ls: command not found\n', code: 127 };
		expect(await runOn(h)).toMatchObject({ status: 'error', code: 'CommandMissing' });
	});

	it('ls failing with a German message (exit 2) -> error CommandFailed with its first line', async () => {
		const h = router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt');
		h.ls = { stderr: fx('debian12-k6.18-de-no-dir.conf-ls-stderr.txt'), code: 2 };
		const v = await runOn(h);
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toContain('nicht möglich');
	});

	it('a sysctl that is not a number -> error, never pass', async () => {
		const h = router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt');
		h.ipForward = 'yes\n';
		expect((await runOn(h)).status).toBe('error');
	});

	it('an interface gone between ls and its read is left out', async () => {
		const h = router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt');
		h.devs = { eth1: ['1\n', '1\n'] };
		const v = await runOn(h);
		expect(v.status).toBe('pass');
		expect(v.facts.sendRedirectsOn).toEqual(['eth1']);
	});

	it('more than MAX_INTERFACES interfaces: the first ones are read, the rest counted and said', async () => {
		const h = router('debian12-k6.18-clean.snmp.txt', 'debian12-k6.18-clean.snmp.txt');
		const names = Array.from({ length: MAX_INTERFACES + 6 }, (_, i) => `veth${i}`);
		h.ls = { stdout: ['all', 'default', 'lo', ...names].join('\n') + '\n' };
		const ctx = host(h);
		const v = await check.run(ctx, params());
		expect(v.facts.interfacesNotRead).toBe(6);
		expect(v.summary).toMatch(/settings of 6 more interfaces were not read \(only the first 64\)/);
		expect(ctx.calls).not.toContain(`read ${CONF_DIR}/veth${MAX_INTERFACES}/send_redirects`);
	});

	it('run reads and runs only what probes announce (IFACE filled in)', async () => {
		const ctx = host(router('debian12-k6.18-router-hairpin-t0.snmp.txt', 'debian12-k6.18-router-hairpin-t2s.snmp.txt'));
		await check.run(ctx, params());
		const announced = new Set(check.probes(params()).map(callOf));
		for (const call of ctx.calls) expect(announced.has(call.replace(/\/conf\/(eth1|eth2)\//, '/conf/IFACE/')), call).toBe(true);
	});

	it('params: intervalMs bounded, unknown keys refused', () => {
		expect(check.params.safeParse({ intervalMs: 100 }).success).toBe(false);
		expect(check.params.safeParse({ intervalMs: 600_000 }).success).toBe(false);
		expect(check.params.safeParse({ intervalMs: 1500.5 }).success).toBe(false);
		expect(check.params.safeParse({ iface: 'eth0' }).success).toBe(false);
		expect(params().intervalMs).toBe(2000);
	});
});

describe('the runbook that embeds it', () => {
	it('every anchor in nextSteps is a heading of icmp-redirect-copp', () => {
		expectRunbookEmbeds(check, 'icmp-redirect-copp');
	});
});
