import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { expectRunbookEmbeds, fixtures, HOSTILE_TEXT, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, {
	decodeHashFields,
	hashProfile,
	longestMatch,
	parseRouteGet,
	parseRoutesJson,
	parseRoutesText,
	parseSysctlNumber,
	routeText,
	SYSCTL,
	type Params,
	type Route,
} from './ecmp-routes.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/ecmp-routes/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);

// --- parsers over every fixture --------------------------------------------------------------

const LAB4 = '198.19.9.9: via 198.19.1.2 dev up1 weight 1, via 198.19.2.2 dev up2 weight 1';
const LAB6 = '2001:2:0:9::9: via 2001:2:0:1::2 dev up1 weight 1, via 2001:2:0:2::2 dev up2 weight 1';
const SHARED = '10.9.9.9: via 10.2.1.2 dev r1 weight 1, via 10.2.2.2 dev r2 weight 1';

/** A routes parse, summed up: how many routes, and each multipath one as `routeText` prints it. */
const routes = (parse: (t: string) => ReturnType<typeof parseRoutesText>) => (t: string) => {
	const r = parse(t);
	return r.ok
		? {
				ok: true,
				value: { routes: r.value.length, multipath: r.value.filter((x) => x.nexthops.length >= 2).map(routeText) },
				lines: r.lines,
			}
		: r;
};
const number = (t: string) => parseSysctlNumber(t, 'sysctl');

const expected: Record<
	string,
	{
		parse: (t: string) => { ok: boolean; value?: unknown; lines?: number[] };
		cases: Record<string, { value: unknown; lines: number[] } | null>;
	}
> = {
	'ip-j-route': {
		parse: routes((t) => parseRoutesJson(t, 4)),
		cases: {
			'debian12-k6.18-lab-src.ip-j-route.txt': { value: { routes: 4, multipath: [LAB4] }, lines: [1] },
			'debian12-k6.18-lab-plain.ip-j-route.txt': { value: { routes: 1, multipath: [] }, lines: [] },
			'debian12-k6.18-lab-weights.ip-j-route.txt': {
				value: { routes: 4, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 3, via 198.19.2.2 dev up2 weight 1'] },
				lines: [1],
			},
			'debian12-k6.18-lab-linkdown.ip-j-route.txt': {
				value: { routes: 4, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 1 linkdown, via 198.19.2.2 dev up2 weight 1'] },
				lines: [1],
			},
			'debian12-k6.18-lab-dead.ip-j-route.txt': {
				value: { routes: 3, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 1 dead linkdown, via 198.19.2.2 dev up2 weight 1'] },
				lines: [1],
			},
			'debian12-k6.18-shared-R-pretty.ip-j-route.txt': { value: { routes: 1, multipath: [SHARED] }, lines: [2] },
			'iproute2-issue37-table-local-excerpt.ip-j-route.txt': null,
			'iproute2-multipath-json-bug.ip-j-route.txt': null,
			'debian12-k6.18-lab-src-cut300.ip-j-route.txt': null,
			'empty.ip-j-route.txt': null,
		},
	},
	'ip-route': {
		parse: routes((t) => parseRoutesText(t, 4)),
		cases: {
			'debian12-k6.18-lab-src.ip-route.txt': { value: { routes: 4, multipath: [LAB4] }, lines: [4, 5, 6] },
			'debian12-k6.18-lab-plain.ip-route.txt': { value: { routes: 1, multipath: [] }, lines: [] },
			'debian12-k6.18-lab-weights.ip-route.txt': {
				value: { routes: 4, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 3, via 198.19.2.2 dev up2 weight 1'] },
				lines: [4, 5, 6],
			},
			'debian12-k6.18-lab-linkdown.ip-route.txt': {
				value: { routes: 4, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 1 linkdown, via 198.19.2.2 dev up2 weight 1'] },
				lines: [4, 5, 6],
			},
			'debian12-k6.18-lab-dead.ip-route.txt': {
				value: { routes: 3, multipath: ['198.19.9.9: via 198.19.1.2 dev up1 weight 1 dead linkdown, via 198.19.2.2 dev up2 weight 1'] },
				lines: [3, 4, 5],
			},
			'debian12-k6.18-shared-R.ip-route.txt': { value: { routes: 4, multipath: [SHARED] }, lines: [4, 5, 6] },
			'cumulus-specinfra288.ip-route.txt': {
				value: {
					routes: 5,
					multipath: [
						'10.2.1.2: via 10.2.1.2 dev swp1 weight 1 onlink, via 10.2.1.2 dev swp2 weight 1 onlink, via 10.2.1.2 dev swp3 weight 1 onlink, via 10.2.1.2 dev swp4 weight 1 onlink',
					],
				},
				lines: [2, 3, 4, 5, 6],
			},
			'cumulus-specinfra288-4paths.ip-route.txt': {
				value: {
					routes: 1,
					multipath: [
						'10.2.1.4: via 10.2.1.1 dev swp49 weight 1 onlink, via 10.2.1.1 dev swp50 weight 1 onlink, via 10.2.1.2 dev swp51 weight 1 onlink, via 10.2.1.2 dev swp52 weight 1 onlink',
					],
				},
				lines: [1, 2, 3, 4, 5],
			},
			'frr5497-nhid-weights.ip-route.txt': {
				value: {
					routes: 1,
					multipath: [
						'10.0.0.1: via 192.168.201.44 dev enp3s0 weight 33, via 192.168.201.45 dev enp3s0 weight 66, via 192.168.201.46 dev enp3s0 weight 99',
					],
				},
				lines: [1, 2, 3, 4],
			},
			'egressgateway163-table50.ip-route.txt': {
				value: {
					routes: 1,
					multipath: ['default: via 192.200.168.78 dev egress.vxlan weight 1, via 192.200.230.246 dev egress.vxlan weight 1'],
				},
				lines: [1, 2, 3],
			},
			'linux2.4-lkml2001-dead.ip-route.txt': {
				value: {
					routes: 2,
					multipath: ['default: via 10.10.10.10 dev eth0 weight 1 dead, via 10.0.0.1 dev eth0 weight 1, via 10.0.0.202 dev eth0 weight 1'],
				},
				lines: [2, 3, 4, 5],
			},
			'iproute2-issue37-table-local.ip-route.txt': { value: { routes: 7, multipath: [] }, lines: [] },
			'debian12-k6.18-lab-src-cut230.ip-route.txt': null,
			'empty.ip-route.txt': null,
		},
	},
	'ip-j-6-route': {
		parse: routes((t) => parseRoutesJson(t, 6)),
		cases: {
			'debian12-k6.18-lab-src.ip-j-6-route.txt': { value: { routes: 6, multipath: [LAB6] }, lines: [1] },
			'debian12-k6.18-lab-plain.ip-j-6-route.txt': { value: { routes: 1, multipath: [] }, lines: [] },
			'debian12-k6.18-lab-dead.ip-j-6-route.txt': {
				value: {
					routes: 4,
					multipath: ['2001:2:0:9::9: via 2001:2:0:1::2 dev up1 weight 1 dead linkdown, via 2001:2:0:2::2 dev up2 weight 1'],
				},
				lines: [1],
			},
		},
	},
	'ip-6-route': {
		parse: routes((t) => parseRoutesText(t, 6)),
		cases: {
			'debian12-k6.18-lab-src.ip-6-route.txt': { value: { routes: 6, multipath: [LAB6] }, lines: [3, 4, 5] },
			'debian12-k6.18-lab-plain.ip-6-route.txt': { value: { routes: 1, multipath: [] }, lines: [] },
			'debian12-k6.18-lab-dead.ip-6-route.txt': {
				value: {
					routes: 4,
					multipath: ['2001:2:0:9::9: via 2001:2:0:1::2 dev up1 weight 1 dead linkdown, via 2001:2:0:2::2 dev up2 weight 1'],
				},
				lines: [2, 3, 4],
			},
		},
	},
	// An error message where the JSON should be (exit 255 on an old iproute2) is not a routing table.
	'ip-j-route-stderr': {
		parse: routes((t) => parseRoutesJson(t, 4)),
		cases: { 'iproute2-before-4.13.ip-j-route-stderr.txt': null, 'debian12-iproute2-6.1-unknown-option.ip-j-route-stderr.txt': null },
	},
	'ipv4-hash-policy': {
		parse: number,
		cases: {
			'debian12-k6.18-policy0.ipv4-hash-policy.txt': { value: 0, lines: [1] },
			'debian12-k6.18-policy1.ipv4-hash-policy.txt': { value: 1, lines: [1] },
			'debian12-k6.18-policy2.ipv4-hash-policy.txt': { value: 2, lines: [1] },
			'debian12-k6.18-policy3.ipv4-hash-policy.txt': { value: 3, lines: [1] },
			'debian12-k6.18-shared-sysctl-format.ipv4-hash-policy.txt': null,
			'debian12-de-absent.ipv4-hash-policy.txt': null,
			'empty.ipv4-hash-policy.txt': null,
		},
	},
	'ipv4-hash-fields': {
		parse: number,
		cases: {
			'debian12-k6.18-default.ipv4-hash-fields.txt': { value: 7, lines: [1] },
			'debian12-k6.18-0x0037.ipv4-hash-fields.txt': { value: 0x37, lines: [1] },
		},
	},
	'ipv4-use-neigh': {
		parse: number,
		cases: {
			'debian12-k6.18-default.ipv4-use-neigh.txt': { value: 0, lines: [1] },
			'debian12-k6.18-on.ipv4-use-neigh.txt': { value: 1, lines: [1] },
		},
	},
	'ipv6-hash-policy': {
		parse: number,
		cases: {
			'debian12-k6.18-policy0.ipv6-hash-policy.txt': { value: 0, lines: [1] },
			'debian12-k6.18-policy1.ipv6-hash-policy.txt': { value: 1, lines: [1] },
		},
	},
	'ipv6-hash-fields': { parse: number, cases: { 'debian12-k6.18-default.ipv6-hash-fields.txt': { value: 7, lines: [1] } } },
	'ip-route-get': {
		parse: parseRouteGet,
		cases: {
			'debian12-k6.18-lab-src.ip-route-get.txt': {
				value: { dst: '198.19.9.9', gateway: '198.19.1.2', dev: 'up1', src: '198.19.1.1' },
				lines: [1],
			},
			'debian12-k6.18-lab-src-v6.ip-route-get.txt': {
				value: { dst: '2001:2:0:9::9', gateway: '2001:2:0:2::2', dev: 'up2', src: '2001:2:0:2::1' },
				lines: [1],
			},
			'debian12-k6.18-shared-R-iif.ip-route-get.txt': { value: { dst: '10.9.9.9', gateway: '10.2.2.2', dev: 'r2', src: null }, lines: [1] },
			'empty.ip-route-get.txt': null,
		},
	},
	'ip-route-get-stderr': { parse: parseRouteGet, cases: { 'debian12-k6.18-lab-plain-unreachable.ip-route-get-stderr.txt': null } },
};

describe('parsers over every fixture', () => {
	it('every fixture file has an expectation, and every expectation a file', () => {
		const listed = Object.values(expected).flatMap((p) => Object.keys(p.cases));
		expect(fixtureFiles.toSorted()).toEqual(listed.toSorted());
	});

	for (const [probe, { parse, cases }] of Object.entries(expected)) {
		for (const [file, want] of Object.entries(cases)) {
			it(`${file} -> ${want === null ? 'not understood' : JSON.stringify(want.value)}`, () => {
				expect(file.endsWith(`.${probe}.txt`)).toBe(true);
				const got = parse(fx(file));
				if (want === null) expect(got.ok).toBe(false);
				// The shared ip route get parser reports more fields (cache, mtu ...) than this check reads.
				else if (parse === parseRouteGet) expect(got).toMatchObject({ ok: true, value: want.value, lines: want.lines });
				else expect(got).toEqual({ ok: true, value: want.value, lines: want.lines });
			});
		}
	}

	it.each(['src', 'plain', 'weights', 'linkdown', 'dead'])('lab %s: the JSON and the text form give the same routes', (name) => {
		const strip = (r: Route[]) => r.map((x) => ({ ...x, lines: [] }));
		for (const [j, t, family] of [
			[`debian12-k6.18-lab-${name}.ip-j-route.txt`, `debian12-k6.18-lab-${name}.ip-route.txt`, 4],
			[`debian12-k6.18-lab-${name}.ip-j-6-route.txt`, `debian12-k6.18-lab-${name}.ip-6-route.txt`, 6],
		] as const) {
			if (!fixtureFiles.includes(j)) continue;
			const a = parseRoutesJson(fx(j), family);
			const b = parseRoutesText(fx(t), family);
			expect(a.ok && b.ok).toBe(true);
			if (a.ok && b.ok) expect(strip(a.value)).toEqual(strip(b.value));
		}
	});

	it('parsers never throw on hostile input, and refuse it', () => {
		const nasty = [
			...HOSTILE_TEXT,
			'[{"dst":5}]\n',
			'[{"dst":"300.1.1.1"}]\n',
			'{}\n',
			'null\n',
			'\tnexthop via 1.2.3.4 dev x\n',
			'10.0.0.0/33 dev x\n',
			'1.2.3.4 via 999.1.1.1 dev x\n',
			'\uFFFD\n',
			'-1\n',
		];
		for (const t of nasty) {
			expect(parseRoutesJson(t, 4).ok, JSON.stringify(t.slice(0, 20))).toBe(false);
			expect(parseRoutesText(t, 4).ok, JSON.stringify(t.slice(0, 20))).toBe(false);
			expect(parseSysctlNumber(t, 'x').ok).toBe(false);
			expect(parseRouteGet(t).ok).toBe(false);
		}
	});

	it('an IPv4 route with an IPv6 next hop (`via inet6`), encap and `mtu lock` are understood', () => {
		const r = parseRoutesText(
			'10.0.0.0/24 mtu lock 1400 \n\tnexthop via inet6 fe80::1 dev eth0 weight 1 \n\tnexthop encap mpls 100 via 10.1.1.1 dev eth1 weight 2 \n',
			4,
		);
		expect(r.ok && routeText(r.value[0]!)).toBe('10.0.0.0/24: via fe80::1 dev eth0 weight 1, via 10.1.1.1 dev eth1 weight 2');
	});
});

// --- hashing rules ---------------------------------------------------------------------------

describe('what each hash policy covers', () => {
	it.each([
		[0x0007, ['source IP', 'destination IP', 'IP protocol']],
		[0x0037, ['source IP', 'destination IP', 'IP protocol', 'source port', 'destination port']],
		[0x0f00, ['inner IP protocol', 'inner flow label', 'inner source port', 'inner destination port']],
		[0, []],
	])('fields 0x%s decode', (mask, names) => {
		expect(decodeHashFields(mask)).toEqual(names);
	});

	it.each([
		{ family: 4, policy: 0, fields: 7, spreads: false, flowLabel: false },
		{ family: 4, policy: 1, fields: 7, spreads: true, flowLabel: false },
		// Policy 2 hashes plain traffic exactly as 0 does.
		{ family: 4, policy: 2, fields: 7, spreads: false, flowLabel: false },
		{ family: 4, policy: 3, fields: 0x0037, spreads: true, flowLabel: false },
		{ family: 4, policy: 3, fields: 0x0007, spreads: false, flowLabel: false },
		{ family: 4, policy: 3, fields: 0x000f, spreads: false, flowLabel: false },
		{ family: 4, policy: 3, fields: 0x0c00, spreads: false, flowLabel: false },
		{ family: 4, policy: null, fields: null, spreads: false, flowLabel: false },
		{ family: 6, policy: 0, fields: 7, spreads: false, flowLabel: true },
		{ family: 6, policy: 1, fields: 7, spreads: true, flowLabel: false },
		{ family: 6, policy: 3, fields: 0x000b, spreads: false, flowLabel: true },
		{ family: 6, policy: null, fields: null, spreads: false, flowLabel: true },
	] as const)(
		'IPv$family policy $policy fields $fields -> spreads host pairs: $spreads',
		({ family, policy, fields, spreads, flowLabel }) => {
			const p = hashProfile(family, policy, fields);
			expect(p).not.toBeNull();
			expect(p!.spreadsPorts).toBe(spreads);
			expect(p!.flowLabel).toBe(flowLabel);
		},
	);

	it('an unknown policy is not guessed', () => {
		expect(hashProfile(4, 4, 7)).toBeNull();
	});

	it('longest prefix wins, then the lowest metric', () => {
		const table = parseRoutesText(fx('cumulus-specinfra288.ip-route.txt'), 4);
		expect(table.ok).toBe(true);
		if (!table.ok) return;
		expect(longestMatch(table.value, '10.2.1.2')?.dst).toBe('10.2.1.2');
		expect(longestMatch(table.value, '10.4.1.200')?.dst).toBe('10.4.1.128/25');
		expect(longestMatch(table.value, '8.8.8.8')?.dst).toBe('default');
		expect(longestMatch(table.value, '2001:db8::1')).toBeNull();
	});
});

// --- run() on hosts assembled from captures -----------------------------------------------------

const J4 = 'ip -j route show';
const T4 = 'ip route show';
const J6 = 'ip -j -6 route show';
const T6 = 'ip -6 route show';

interface HostSpec {
	j4?: FakeCommand;
	t4?: FakeCommand;
	j6?: FakeCommand;
	t6?: FakeCommand;
	policy4?: string;
	fields4?: string;
	useNeigh?: string;
	policy6?: string;
	fields6?: string;
	commands?: Record<string, FakeCommand>;
}

function host(p: HostSpec): FakeHost {
	const files: Record<string, string> = {};
	for (const [key, path] of Object.entries(SYSCTL) as [keyof typeof SYSCTL, string][]) {
		const value = { policy4: p.policy4, fields4: p.fields4, useNeigh4: p.useNeigh, policy6: p.policy6, fields6: p.fields6 }[key];
		if (value !== undefined) files[path] = value;
	}
	const commands: Record<string, FakeCommand> = { ...p.commands };
	if (p.j4) commands[J4] = p.j4;
	if (p.t4) commands[T4] = p.t4;
	if (p.j6) commands[J6] = p.j6;
	if (p.t6) commands[T6] = p.t6;
	return { files, commands };
}

/** A Debian 12 host with the lab's multipath routes, both policies at `policy`, sysctls as captured. */
const lab = (policy: 0 | 1, over: Partial<HostSpec> = {}): FakeHost =>
	host({
		j4: { stdout: fx('debian12-k6.18-lab-src.ip-j-route.txt') },
		j6: { stdout: fx('debian12-k6.18-lab-src.ip-j-6-route.txt') },
		policy4: fx(`debian12-k6.18-policy${policy}.ipv4-hash-policy.txt`),
		fields4: fx('debian12-k6.18-default.ipv4-hash-fields.txt'),
		useNeigh: fx('debian12-k6.18-default.ipv4-use-neigh.txt'),
		policy6: fx(`debian12-k6.18-policy${policy}.ipv6-hash-policy.txt`),
		fields6: fx('debian12-k6.18-default.ipv6-hash-fields.txt'),
		...over,
	});

const plain = (over: Partial<HostSpec> = {}): FakeHost =>
	host({
		j4: { stdout: fx('debian12-k6.18-lab-plain.ip-j-route.txt') },
		j6: { stdout: fx('debian12-k6.18-lab-plain.ip-j-6-route.txt') },
		policy4: fx('debian12-k6.18-policy0.ipv4-hash-policy.txt'),
		fields4: fx('debian12-k6.18-default.ipv4-hash-fields.txt'),
		useNeigh: fx('debian12-k6.18-default.ipv4-use-neigh.txt'),
		...over,
	});

/** An iproute2 that refuses -j (exit 255, message from ip.c) and a kernel without the hash sysctls. */
const oldIproute = (t4: string, t6 = ''): FakeHost =>
	host({
		j4: { stderr: fx('iproute2-before-4.13.ip-j-route-stderr.txt'), code: 255 },
		j6: { stderr: fx('iproute2-before-4.13.ip-j-route-stderr.txt'), code: 255 },
		t4: { stdout: t4 },
		t6: { stdout: t6 },
	});

async function runOn(h: FakeHost, p: Record<string, unknown> = {}): Promise<Verdict> {
	return check.run(fakeCtx(h), params(p));
}

describe('run() on hosts assembled from captures', () => {
	it('lab src, IPv4 and IPv6 multipath, policy 0 -> warn, fix both, mtr modes named', async () => {
		const v = await runOn(lab(0));
		expect(v.status).toBe('warn');
		expect(v.facts).toMatchObject({
			multipath4: 1,
			multipath6: 1,
			hashPolicy4: 0,
			hashPolicy6: 0,
			spreadsHostPairs4: false,
			spreadsHostPairs6: false,
			hashedFields4: ['source IP', 'destination IP'],
			multipathRoutes: [LAB4, LAB6],
			routeSource4: J4,
			useNeigh: 0,
		});
		expect(v.summary).toContain('every flow between one pair of hosts takes the same next hop');
		expect(v.summary).toContain('mtr --udp');
		expect(v.summary).toContain('mtr --tcp');
		expect(v.summary).toContain('tcptraceroute -p');
		expect(v.summary).toContain('flow label');
		expect(v.next).toBe('#hash-on-ports');
		expect(v.fix).toEqual([
			'sysctl -w net.ipv4.fib_multipath_hash_policy=1',
			"echo 'net.ipv4.fib_multipath_hash_policy = 1' >> /etc/sysctl.d/90-ecmp-hash.conf",
			'sysctl -w net.ipv6.fib_multipath_hash_policy=1',
			"echo 'net.ipv6.fib_multipath_hash_policy = 1' >> /etc/sysctl.d/90-ecmp-hash.conf",
		]);
		const by = Object.fromEntries(v.evidence.map((e) => [e.command, e]));
		expect(by[J4]?.lines).toEqual([1]);
		expect(by[`cat ${SYSCTL.policy4}`]).toMatchObject({ output: '0\n', lines: [1] });
		expect(by[T4]).toBeUndefined();
	});

	it('lab src2, policy 1 -> pass, fields named, UDP/TCP mtr fan out from here', async () => {
		const v = await runOn(lab(1));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({
			spreadsHostPairs4: true,
			spreadsHostPairs6: true,
			hashedFields4: ['source IP', 'destination IP', 'IP protocol', 'source port', 'destination port'],
		});
		expect(v.summary).toContain('hashed on ports');
		expect(v.summary).toContain('`mtr --udp` or `mtr --tcp` from here shows every next hop');
		expect(v.next).toBe('#measure-the-load-on-each-link');
		expect(v.fix).toBeUndefined();
	});

	it('policy 2 (plain traffic hashed as L3) -> warn', async () => {
		const v = await runOn(lab(1, { policy4: fx('debian12-k6.18-policy2.ipv4-hash-policy.txt') }));
		expect(v.status).toBe('warn');
		expect(v.summary).toContain('inner L3');
		expect(v.fix).toEqual([
			'sysctl -w net.ipv4.fib_multipath_hash_policy=1',
			"echo 'net.ipv4.fib_multipath_hash_policy = 1' >> /etc/sysctl.d/90-ecmp-hash.conf",
		]);
	});

	it('policy 3 with fields 0x0037 (ports) -> pass; with the default 0x0007 -> warn', async () => {
		const custom = await runOn(
			lab(1, { policy4: fx('debian12-k6.18-policy3.ipv4-hash-policy.txt'), fields4: fx('debian12-k6.18-0x0037.ipv4-hash-fields.txt') }),
		);
		expect(custom.status).toBe('pass');
		expect(custom.summary).toContain('0x0037');
		const noPorts = await runOn(lab(1, { policy4: fx('debian12-k6.18-policy3.ipv4-hash-policy.txt') }));
		expect(noPorts.status).toBe('warn');
		expect(noPorts.facts.hashedFields4).toEqual(['source IP', 'destination IP', 'IP protocol']);
	});

	it('a down next hop with use_neigh 0 says what that adds', async () => {
		const v = await runOn(lab(1, { j4: { stdout: fx('debian12-k6.18-lab-dead.ip-j-route.txt') } }));
		expect(v.summary).toContain('fib_multipath_use_neigh at 0');
		expect(v.facts.useNeigh).toBe(0);
	});

	it('unequal weights are reported, the verdict still follows the hash', async () => {
		const v = await runOn(lab(1, { j4: { stdout: fx('debian12-k6.18-lab-weights.ip-j-route.txt') } }));
		expect(v.status).toBe('pass');
		expect(v.facts.unequalWeights).toEqual(['198.19.9.9: via 198.19.1.2 dev up1 weight 3, via 198.19.2.2 dev up2 weight 1']);
		expect(v.summary).toContain('Unequal weights');
	});

	it.each([
		['linkdown', 'still chosen'],
		['dead', 'gets no flows'],
	])('a %s next hop with L4 hashing -> warn', async (state, words) => {
		const v = await runOn(lab(1, { j4: { stdout: fx(`debian12-k6.18-lab-${state}.ip-j-route.txt`) } }));
		expect(v.status).toBe('warn');
		expect((v.facts.downNexthops as string[])[0]).toContain(state);
		expect(v.summary).toContain(words);
		expect(v.next).toBe('#measure-the-load-on-each-link');
	});

	it('plain host -> pass, no equal-cost routes', async () => {
		const v = await runOn(plain());
		expect(v.status).toBe('pass');
		expect(v.summary).toContain('No equal-cost routes here');
		expect(v.facts).toMatchObject({ multipath4: 0, multipath6: 0, routes4: 1, routes6: 1 });
		expect(v.next).toBe('#per-hop-hashing');
	});

	it('no IPv6 multipath: the IPv6 hash files are not read', async () => {
		const ctx = fakeCtx(plain());
		await check.run(ctx, params());
		expect(ctx.calls).not.toContain(`read ${SYSCTL.policy6}`);
	});

	it('iproute2 without -j, kernel without the sysctl (Cumulus) -> text form, L3 -> warn', async () => {
		const ctx = fakeCtx(oldIproute(fx('cumulus-specinfra288.ip-route.txt')));
		const v = await check.run(ctx, params());
		expect(ctx.calls).toContain(`exec ${T4}`);
		expect(v.status).toBe('warn');
		expect(v.facts).toMatchObject({ routeSource4: T4, hashPolicy4: null, multipath4: 1, routes6: 0 });
		expect(v.summary).toContain('before 4.12');
		expect(v.evidence.find((e) => e.command === T4)?.lines).toEqual([2, 3, 4, 5, 6]);
		expect(v.evidence.find((e) => e.command === J4)).toMatchObject({ code: 255, output: fx('iproute2-before-4.13.ip-j-route-stderr.txt') });
	});

	it('Linux 2.4 with a dead next hop -> warn naming it', async () => {
		const v = await runOn(oldIproute(fx('linux2.4-lkml2001-dead.ip-route.txt')));
		expect(v.status).toBe('warn');
		expect(v.facts.downNexthops).toEqual(['default via 10.10.10.10 dev eth0 weight 1 dead']);
	});

	it('FRR nexthop object with weights 33/66/99, policy 1 -> pass, weights reported', async () => {
		const v = await runOn({ ...oldIproute(fx('frr5497-nhid-weights.ip-route.txt')), files: { [SYSCTL.policy4]: '1\n' } });
		expect(v.status).toBe('pass');
		expect((v.facts.unequalWeights as string[])[0]).toContain('weight 99');
	});

	it('invalid JSON (iproute2#37) -> the text form is read instead', async () => {
		const v = await runOn(
			host({
				j4: { stdout: fx('iproute2-issue37-table-local-excerpt.ip-j-route.txt') },
				t4: { stdout: fx('iproute2-issue37-table-local.ip-route.txt') },
				j6: { stdout: fx('debian12-k6.18-lab-plain.ip-j-6-route.txt') },
				policy4: '0\n',
			}),
		);
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ routeSource4: T4, routes4: 7 });
	});

	it('multipath printed as invalid JSON (iproute2 before the 2019 fix) -> the text form, multipath found', async () => {
		const v = await runOn(
			host({
				j4: { stdout: fx('iproute2-multipath-json-bug.ip-j-route.txt') },
				t4: { stdout: fx('cumulus-specinfra288.ip-route.txt') },
				j6: { stdout: '[]\n' },
				policy4: fx('debian12-k6.18-policy1.ipv4-hash-policy.txt'),
			}),
		);
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ routeSource4: T4, multipath4: 1 });
		expect(v.evidence.find((e) => e.command === J4)?.output).toContain('"gateway":"169.254.0.1"dev uplink-1');
	});

	it('the shared lab router R (pretty JSON) -> warn', async () => {
		const v = await runOn(
			host({ j4: { stdout: fx('debian12-k6.18-shared-R-pretty.ip-j-route.txt') }, j6: { stdout: '[]\n' }, policy4: '0\n', fields4: '7\n' }),
		);
		expect(v.status).toBe('warn');
		expect(v.facts.multipathRoutes).toEqual([SHARED]);
		expect(v.evidence.find((e) => e.command === J4)?.lines).toEqual([2]);
	});

	it('a nexthop object ip route does not expand, and nothing else -> error, not pass', async () => {
		const v = await runOn(
			host({ j4: { stdout: '[{"dst":"10.0.0.0/8","nhid":12,"protocol":"zebra","flags":[]}]\n' }, j6: { stdout: '[]\n' }, policy4: '0\n' }),
		);
		expect(v.status).toBe('error');
		expect(v.hint).toContain('ip nexthop show');
	});
});

describe('run() with dst', () => {
	const get = (dst: string, c: FakeCommand) => ({ commands: { [`ip route get ${dst}`]: c } });

	it('dst on the multipath route, policy 0 -> warn, the path it takes now', async () => {
		const v = await runOn(lab(0, get('198.19.9.9', { stdout: fx('debian12-k6.18-lab-src.ip-route-get.txt') })), { dst: '198.19.9.9' });
		expect(v.status).toBe('warn');
		expect(v.facts).toMatchObject({ dst: '198.19.9.9', dstPath: 'via 198.19.1.2 dev up1', dstRoute: LAB4, multipath4: 1, multipath6: 0 });
		expect(v.fix).toHaveLength(2);
	});

	it('IPv6 dst on the multipath route, policy 1 -> pass', async () => {
		const v = await runOn(lab(1, get('2001:2:0:9::9', { stdout: fx('debian12-k6.18-lab-src-v6.ip-route-get.txt') })), {
			dst: '2001:2:0:9::9',
		});
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ dstPath: 'via 2001:2:0:2::2 dev up2', multipath6: 1, multipath4: 0 });
	});

	it('dst on a connected single-path route -> pass, split elsewhere', async () => {
		const v = await runOn(lab(0, get('198.19.1.2', { stdout: '198.19.1.2 dev up1 src 198.19.1.1 uid 0 \n    cache \n' })), {
			dst: '198.19.1.2',
		});
		expect(v.status).toBe('pass');
		expect(v.summary).toContain('one next hop');
		expect(v.next).toBe('#per-hop-hashing');
	});

	it('no route to dst (plain host) -> skip', async () => {
		const v = await runOn(
			plain(get('198.19.9.9', { stderr: fx('debian12-k6.18-lab-plain-unreachable.ip-route-get-stderr.txt'), code: 2 })),
			{ dst: '198.19.9.9' },
		);
		expect(v.status).toBe('skip');
		expect(v.summary).toContain('Network is unreachable');
	});
});

describe('run() never passes on what it cannot read', () => {
	const cases: { name: string; h: FakeHost; code: string }[] = [
		{
			name: 'ip not installed -> CommandMissing',
			h: host({ j4: { stderr: 'bash: line 1: ip: command not found\n', code: 127 } }),
			code: 'CommandMissing',
		},
		{
			name: 'JSON cut by the transport -> OutputTruncated',
			h: lab(0, { j4: { stdout: fx('debian12-k6.18-lab-src-cut300.ip-j-route.txt'), truncated: true } }),
			code: 'OutputTruncated',
		},
		{
			name: 'JSON cut, text cut too -> OutputTruncated',
			h: lab(0, {
				j4: { stdout: fx('debian12-k6.18-lab-src-cut300.ip-j-route.txt') },
				t4: { stdout: fx('debian12-k6.18-lab-src-cut230.ip-route.txt') },
			}),
			code: 'OutputTruncated',
		},
		{
			name: 'empty JSON and empty text -> OutputEmpty',
			h: lab(0, { j4: { stdout: fx('empty.ip-j-route.txt') }, t4: { stdout: fx('empty.ip-route.txt') } }),
			code: 'OutputEmpty',
		},
		{
			name: 'German cat error where the routes should be -> OutputNotUnderstood',
			h: lab(0, {
				j4: { stdout: fx('debian12-de-absent.ipv4-hash-policy.txt') },
				t4: { stdout: fx('debian12-de-absent.ipv4-hash-policy.txt') },
			}),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'text form fails too -> CommandFailed',
			h: host({
				j4: { stderr: fx('iproute2-before-4.13.ip-j-route-stderr.txt'), code: 255 },
				t4: { stderr: 'Cannot open netlink socket: Permission denied\n', code: 1 },
			}),
			code: 'CommandFailed',
		},
		{ name: 'old iproute2, empty IPv4 text table -> OutputEmpty', h: oldIproute(''), code: 'OutputEmpty' },
		{ name: 'empty policy file -> OutputEmpty', h: lab(0, { policy4: fx('empty.ipv4-hash-policy.txt') }), code: 'OutputEmpty' },
		{
			name: 'German text in the policy file -> OutputNotUnderstood',
			h: lab(0, { policy4: fx('debian12-de-absent.ipv4-hash-policy.txt') }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'sysctl-format policy -> OutputNotUnderstood',
			h: lab(0, { policy4: fx('debian12-k6.18-shared-sysctl-format.ipv4-hash-policy.txt') }),
			code: 'OutputNotUnderstood',
		},
		{ name: 'policy 4, unknown to the check -> OutputNotUnderstood', h: lab(0, { policy4: '4\n' }), code: 'OutputNotUnderstood' },
	];
	it.each(cases)('$name', async ({ h, code }) => {
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.hint).toBeTruthy();
		expect(v.evidence.length).toBeGreaterThan(0);
	});

	it('ip route get fails otherwise -> CommandFailed; answers garbage -> OutputNotUnderstood', async () => {
		const failed = await runOn(
			lab(0, { commands: { 'ip route get 198.19.9.9': { stderr: 'RTNETLINK answers: Operation not permitted\n', code: 2 } } }),
			{ dst: '198.19.9.9' },
		);
		expect(failed.code).toBe('CommandFailed');
		const garbage = await runOn(
			lab(0, { commands: { 'ip route get 198.19.9.9': { stdout: fx('debian12-de-absent.ipv4-hash-policy.txt') } } }),
			{ dst: '198.19.9.9' },
		);
		expect(garbage.code).toBe('OutputNotUnderstood');
	});
});

// --- contract, params, runbook ---------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'net.ecmp-routes');

	it.each([
		[{}, true],
		[{ dst: '198.19.9.9' }, true],
		[{ dst: '2001:db8::1' }, true],
		[{ dst: '198.19.9.9;id' }, false],
		[{ dst: '-1' }, false],
		[{ dst: 'fe80::1%eth0' }, false],
		[{ dst: '300.1.1.1' }, false],
		[{ dst: 'example.com' }, false],
		[{ other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});

	it('probes list every command and file, route get only with dst', () => {
		const shown = (p: Record<string, unknown>) => check.probes(params(p)).map(callOf);
		expect(shown({})).toEqual([
			`exec ${J4}`,
			`exec ${T4}`,
			`exec ${J6}`,
			`exec ${T6}`,
			`read ${SYSCTL.policy4}`,
			`read ${SYSCTL.fields4}`,
			`read ${SYSCTL.useNeigh4}`,
			`read ${SYSCTL.policy6}`,
			`read ${SYSCTL.fields6}`,
		]);
		expect(shown({ dst: '10.9.9.9' }).at(-1)).toBe('exec ip route get 10.9.9.9');
	});

	it('run only reads and runs what probes announce', async () => {
		for (const [h, p] of [
			[oldIproute(fx('cumulus-specinfra288.ip-route.txt')), {}],
			[
				lab(0, { commands: { 'ip route get 198.19.9.9': { stdout: fx('debian12-k6.18-lab-src.ip-route-get.txt') } } }),
				{ dst: '198.19.9.9' },
			],
		] as const) {
			const ctx = fakeCtx(h);
			await check.run(ctx, params(p));
			const announced = check.probes(params(p)).map(callOf);
			for (const call of ctx.calls) expect(announced).toContain(call);
		}
	});

	it('every anchor in nextSteps is a heading of the runbook, which embeds this check', () => {
		expectRunbookEmbeds(check, 'ecmp-imbalance');
	});
});
