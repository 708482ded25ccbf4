import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { headingAnchor } from '../../src/core/runbooks-node.ts';
import { expectRunbookEmbeds, fixtures, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, {
	encapOverhead,
	evaluate,
	lacksJson,
	parseIpLinkJson,
	parseIpLinkText,
	parseRouteGet,
	type Link,
	type LinkGraph,
	type Observation,
	type Params,
	type RouteAnswer,
	type TunnelInfo,
} from './mtu-chain.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/mtu-chain/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);

const JSON_CMD = 'ip -d -j link show';
const TEXT_CMD = 'ip -d link show';

/** A graph parsed from a real fixture; the test fails loudly if it does not parse. */
function graphOf(name: string): LinkGraph {
	const p = name.includes('.ip-d-j') ? parseIpLinkJson(fx(name)) : parseIpLinkText(fx(name));
	if (!p.ok) throw new Error(`${name}: ${p.reason}`);
	return p.value;
}

/** One line per device: what the rules read. */
const shape = (g: LinkGraph) =>
	g.links.map((l) =>
		[
			l.ifname,
			l.mtu,
			l.kind ?? '-',
			l.master ? `master=${l.master}` : '',
			l.link ? `link=${l.link}` : '',
			l.linkIndex !== null ? `link_index=${l.linkIndex}` : '',
			l.linkNetns !== null ? 'other-netns' : '',
		]
			.filter((x) => x !== '')
			.join(' '),
	);

// --- parsers over every fixture --------------------------------------------------------------

type Expect = { shape: string[]; lines?: Record<string, number[]> } | null;

/** Fixture -> what its own parser must return (`null`: not understood). Every other parser must refuse it. */
const linkCases: Record<string, Expect> = {
	'debian12-k6.18-clean.ip-d-j-link.txt': { shape: ['lo 65536 -', 'eth0 1500 veth link_index=33 other-netns'], lines: { eth0: [1] } },
	'debian12-k6.18-clean.ip-d-link.txt': {
		shape: ['lo 65536 -', 'eth0 1500 veth link_index=33 other-netns'],
		lines: { lo: [1], eth0: [3] },
	},
	'debian12-k6.18-host.ip-d-j-link.txt': { shape: ['lo 65536 -', 'ifb0 1500 ifb', 'ifb1 1500 ifb', 'eth0 1400 -'] },
	'debian12-k6.18-host.ip-d-link.txt': { shape: ['lo 65536 -', 'ifb0 1500 ifb', 'ifb1 1500 ifb', 'eth0 1400 -'] },
	'debian12-k6.18-bridge-port-1498.ip-d-j-link.txt': {
		shape: [
			'lo 65536 -',
			'br0 1498 bridge',
			'p1 1500 veth master=br0 link_index=2 other-netns',
			'p2 1500 veth master=br0 link_index=2 other-netns',
			'p3 1498 veth master=br0 link_index=2 other-netns',
		],
		lines: { p3: [1] },
	},
	'debian12-k6.18-bridge-port-1498.ip-d-j-p-link.txt': {
		shape: [
			'lo 65536 -',
			'br0 1498 bridge',
			'p1 1500 veth master=br0 link_index=2 other-netns',
			'p2 1500 veth master=br0 link_index=2 other-netns',
			'p3 1498 veth master=br0 link_index=2 other-netns',
		],
		lines: { lo: [3, 5], br0: [28, 30], p3: [232, 234] },
	},
	'debian12-k6.18-bridge-port-1498.ip-d-link.txt': {
		shape: [
			'lo 65536 -',
			'br0 1498 bridge',
			'p1 1500 veth master=br0 link_index=2 other-netns',
			'p2 1500 veth master=br0 link_index=2 other-netns',
			'p3 1498 veth master=br0 link_index=2 other-netns',
		],
		lines: { br0: [3], p3: [14] },
	},
	'debian12-k6.18-bridge-mtu-over-port.ip-d-j-link.txt': {
		shape: [
			'lo 65536 -',
			'br0 1500 bridge',
			'p1x 1500 veth link=p1',
			'p1 1500 veth master=br0 link=p1x',
			'p2x 1498 veth link=p2',
			'p2 1498 veth master=br0 link=p2x',
		],
	},
	'debian12-k6.18-bridge-mtu-over-port.ip-d-link.txt': {
		shape: [
			'lo 65536 -',
			'br0 1500 bridge',
			'p1x 1500 veth link=p1',
			'p1 1500 veth master=br0 link=p1x',
			'p2x 1498 veth link=p2',
			'p2 1498 veth master=br0 link=p2x',
		],
	},
	'debian12-k6.18-bridge-vxlan-port.ip-d-j-link.txt': {
		shape: [
			'lo 65536 -',
			'u1 1500 veth link_index=8 other-netns',
			'vx0 1450 vxlan master=br0',
			'br0 1450 bridge',
			'tap0x 1500 veth link=tap0',
			'tap0 1500 veth master=br0 link=tap0x',
		],
	},
	'debian12-k6.18-bridge-vxlan-port.ip-d-link.txt': {
		shape: [
			'lo 65536 -',
			'u1 1500 veth link_index=8 other-netns',
			'vx0 1450 vxlan master=br0',
			'br0 1450 bridge',
			'tap0x 1500 veth link=tap0',
			'tap0 1500 veth master=br0 link=tap0x',
		],
		lines: { vx0: [6, 8] },
	},
	'debian12-k6.18-veth-9000-1500.ip-d-j-link.txt': { shape: ['lo 65536 -', 'vb 9000 veth link=va', 'va 1500 veth link=vb'] },
	'debian12-k6.18-veth-9000-1500.ip-d-link.txt': { shape: ['lo 65536 -', 'vb 9000 veth link=va', 'va 1500 veth link=vb'] },
	'debian12-k6.18-vxlan-dev.ip-d-j-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=2 other-netns', 'vx0 1450 vxlan'] },
	'debian12-k6.18-vxlan-dev.ip-d-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=2 other-netns', 'vx0 1450 vxlan'] },
	'debian12-k6.18-vxlan-nodev-1500.ip-d-j-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=3 other-netns', 'vx1 1500 vxlan'] },
	'debian12-k6.18-vxlan-nodev-1500.ip-d-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=3 other-netns', 'vx1 1500 vxlan'] },
	'debian12-k6.18-vxlan6.ip-d-j-link.txt': {
		shape: ['lo 65536 -', 'u1 1500 veth link_index=4 other-netns', 'vx6 1430 vxlan', 'vx7 1500 vxlan'],
	},
	'debian12-k6.18-vxlan6.ip-d-link.txt': {
		shape: ['lo 65536 -', 'u1 1500 veth link_index=4 other-netns', 'vx6 1430 vxlan', 'vx7 1500 vxlan'],
	},
	'debian12-k6.18-vxlan-no-remote.ip-d-j-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=5 other-netns', 'vx9 1500 vxlan'] },
	'debian12-k6.18-vxlan-no-remote.ip-d-link.txt': { shape: ['lo 65536 -', 'u1 1500 veth link_index=5 other-netns', 'vx9 1500 vxlan'] },
	'debian12-k6.18-vxlan-underlay-lowered.ip-d-j-link.txt': {
		shape: ['lo 65536 -', 'u1 1400 veth link_index=6 other-netns', 'vx0 1450 vxlan'],
	},
	'debian12-k6.18-vxlan-underlay-lowered.ip-d-link.txt': {
		shape: ['lo 65536 -', 'u1 1400 veth link_index=6 other-netns', 'vx0 1450 vxlan'],
	},
	'debian12-k6.18-macvlan-parent-lowered.ip-d-j-link.txt': {
		shape: ['lo 65536 -', 'u1 1400 veth link_index=7 other-netns', 'mv0 1400 macvlan link=u1'],
	},
	'debian12-k6.18-macvlan-parent-lowered.ip-d-link.txt': {
		shape: ['lo 65536 -', 'u1 1400 veth link_index=7 other-netns', 'mv0 1400 macvlan link=u1'],
	},
	'insights-core-all3.ip-s-d-link.txt': {
		shape: [
			'lo 65536 -',
			'eth0 1500 -',
			'eth1 1500 -',
			'eth0_1 9000 - master=bond0',
			'eth0_2 9000 - master=bond0',
			'ovs-system 1500 openvswitch',
			'vxlan_sys_4789 65520 vxlan master=ovs-system',
			'br-tun 1500 openvswitch',
			'br-int 8950 openvswitch',
			'gre0 1476 gre',
			'gretap0 1462 gretap',
			'gre1 1476 gre',
			'geneve0 1500 geneve',
			'geneve1 1500 geneve',
		],
		lines: { gre1: [76, 78], geneve0: [83, 85] },
	},
	'netology-vagrant-vlan700.ip-d-link.txt': {
		shape: ['lo 65536 -', 'eth0 1500 -', 'eth0.700 1500 vlan link=eth0'],
		lines: { 'eth0.700': [5, 7] },
	},
	'iproute2-bond-slave-veth-excerpt.ip-d-link.txt': { shape: ['veth1 1500 veth master=bond0 link_index=6 other-netns'] },
	'netdev-2021-bond-oneline-wrapped.ip-o-d-link.txt': null,
	'debian12-k6.18-wrong-object.ip-j-neigh.txt': null,
	'debian12-not-installed.ip-d-j-link-stderr.txt': null,
	'debian12-de-not-installed.ip-d-j-link-stderr.txt': null,
	'iproute2-ip.c-no-json.ip-d-j-link-stderr.txt': null,
	'empty.ip-d-j-link.txt': null,
	'empty.ip-d-link.txt': null,
	'debian12-k6.18-bridge-port-1498-cut3000.ip-d-j-link.txt': null,
	'debian12-k6.18-bridge-port-1498-cut1500.ip-d-link.txt': null,
};

const routeCases: Record<string, { dev: string; mtu: number | null; type: string | null } | null> = {
	'debian12-k6.18-vxlan-nodev.ip-route-get.txt': { dev: 'u1', mtu: null, type: null },
	'debian12-k6.18-vxlan6.ip-route-get.txt': { dev: 'u1', mtu: null, type: null },
	'debian12-k6.18-unreachable.ip-route-get-stderr.txt': null,
};

/** Which link parser a fixture belongs to: JSON for the `-j` probes, text for the others. */
const ownParser = (f: string) => (/\.ip-d-j(-p)?-link\.txt$|\.ip-j-neigh\.txt$|ip-d-j-link-stderr/.test(f) ? 'json' : 'text');

describe('parsers over every fixture', () => {
	it('every fixture in the folder is in a table', () => {
		expect(fixtureFiles.toSorted()).toEqual([...Object.keys(linkCases), ...Object.keys(routeCases)].toSorted());
	});

	describe.each(Object.entries(linkCases))('%s', (name, want) => {
		const text = fx(name);
		const own = ownParser(name) === 'json' ? parseIpLinkJson : parseIpLinkText;
		const other = ownParser(name) === 'json' ? parseIpLinkText : parseIpLinkJson;
		it(want ? 'its parser reads every device' : 'its parser refuses it', () => {
			const p = own(text);
			if (!want) {
				expect(p.ok).toBe(false);
				return;
			}
			if (!p.ok) throw new Error(p.reason);
			expect(shape(p.value)).toEqual(want.shape);
			for (const [dev, lines] of Object.entries(want.lines ?? {}))
				expect(p.value.links.find((l) => l.ifname === dev)?.lines, dev).toEqual(lines);
			expect(p.lines.length).toBeGreaterThan(0);
		});
		it('the other link parser refuses it', () => {
			expect(other(text).ok).toBe(false);
		});
		it('the route parser refuses it', () => {
			expect(parseRouteGet(text).ok).toBe(false);
		});
	});

	describe.each(Object.entries(routeCases))('%s', (name, want) => {
		it(want ? `routes via ${want.dev}` : 'is not a route', () => {
			const p = parseRouteGet(fx(name));
			if (!want) {
				expect(p.ok).toBe(false);
				return;
			}
			if (!p.ok) throw new Error(p.reason);
			expect(p.value).toMatchObject(want);
		});
		it('is no interface list', () => {
			expect(parseIpLinkJson(fx(name)).ok).toBe(false);
			expect(parseIpLinkText(fx(name)).ok).toBe(false);
		});
	});

	/** The same namespace read as JSON and as text gives the same graph: the fallback judges alike. */
	const pairs = Object.keys(linkCases)
		.filter((f) => f.endsWith('.ip-d-j-link.txt') && linkCases[f] && linkCases[f.replace('.ip-d-j-link.txt', '.ip-d-link.txt')])
		.map((f) => [f.replace('.ip-d-j-link.txt', ''), f, f.replace('.ip-d-j-link.txt', '.ip-d-link.txt')] as const);
	it.each(pairs)('%s: JSON and text give the same graph', (_, json, text) => {
		const strip = (g: LinkGraph) =>
			g.links.map((l) => {
				const rest: Partial<Link> = { ...l, otherNetns: l.linkNetns !== null } as Partial<Link>;
				delete rest.lines;
				delete rest.slaveLine;
				delete rest.linkNetns;
				return rest;
			});
		expect(strip(graphOf(text))).toEqual(strip(graphOf(json)));
	});

	it('reads tunnel settings: VXLAN dev, remote, port; IPv6 family', () => {
		const vx0 = graphOf('debian12-k6.18-vxlan-dev.ip-d-j-link.txt').links.find((l) => l.ifname === 'vx0')!;
		expect(vx0.tunnel).toMatchObject({
			id: 100,
			remote: '192.0.2.2',
			local: '192.0.2.1',
			dev: 'u1',
			port: 4789,
			family: 4,
			external: false,
		});
		const vx7 = graphOf('debian12-k6.18-vxlan6.ip-d-link.txt').links.find((l) => l.ifname === 'vx7')!;
		expect(vx7.tunnel).toMatchObject({ id: 700, remote: '2001:db8::2', dev: null, family: 6, familyAssumed: false });
		const ovs = graphOf('insights-core-all3.ip-s-d-link.txt').links.find((l) => l.ifname === 'vxlan_sys_4789')!;
		expect(ovs.tunnel?.external).toBe(true);
		expect(ovs.slaveKind).toBe('openvswitch');
		const gre0 = graphOf('insights-core-all3.ip-s-d-link.txt').links.find((l) => l.ifname === 'gre0')!;
		expect(gre0.tunnel).toMatchObject({ remote: null, local: null, dev: null });
	});

	it('reads the VLAN id and protocol', () => {
		const v = graphOf('netology-vagrant-vlan700.ip-d-link.txt').links.find((l) => l.ifname === 'eth0.700')!;
		expect(v.vlan).toEqual({ id: 700, protocol: '802.1Q' });
	});
});

// --- overhead arithmetic -------------------------------------------------------------------------

describe('encapsulation overhead (DOMAIN.md section 7)', () => {
	const t = (over: Partial<TunnelInfo> = {}): TunnelInfo => ({
		id: null,
		remote: null,
		group: null,
		local: null,
		dev: null,
		family: 4,
		familyAssumed: false,
		port: null,
		key: false,
		csum: false,
		seq: false,
		encapLimit: false,
		encap: null,
		external: false,
		...over,
	});
	it.each([
		['vxlan', t(), 50],
		['vxlan', t({ family: 6 }), 70],
		['geneve', t(), 50],
		['gre', t(), 24],
		['gre', t({ key: true }), 28],
		['gre', t({ key: true, csum: true, seq: true }), 36],
		['gretap', t(), 38],
		['gretap', t({ key: true }), 42],
		['ip6gre', t({ family: 6, encapLimit: true }), 52],
		['ip6gre', t({ family: 6, encapLimit: false }), 44],
		['ip6gretap', t({ family: 6, encapLimit: true }), 66],
		['ipip', t(), 20],
		['gre', t({ encap: 'fou' }), 32],
	] as const)('%s %j -> %i bytes', (kind, info, bytes) => {
		expect(encapOverhead(kind, info)?.bytes).toBe(bytes);
	});
	it('ERSPAN is not judged', () => {
		expect(encapOverhead('erspan', t())).toBeNull();
	});
});

// --- evaluate on each real graph ---------------------------------------------------------------------

function observe(graph: LinkGraph, routes: Record<string, RouteAnswer> = {}, output = ''): Observation {
	return { graph, routes, evidence: [{ command: 'ip -d -j link show', output, lines: [] }], listing: 0, fallback: null };
}

describe('evaluate on the captured graphs (no route lookups)', () => {
	const cases: [string, Verdict['status'], string, string[]][] = [
		['debian12-k6.18-clean.ip-d-j-link.txt', 'pass', '#if-the-path-is-clean', []],
		['debian12-k6.18-host.ip-d-link.txt', 'pass', '#if-the-path-is-clean', []],
		['debian12-k6.18-vxlan-dev.ip-d-j-link.txt', 'pass', '#if-the-path-is-clean', []],
		['debian12-k6.18-macvlan-parent-lowered.ip-d-link.txt', 'pass', '#if-the-path-is-clean', []],
		['netology-vagrant-vlan700.ip-d-link.txt', 'pass', '#if-the-path-is-clean', []],
		['debian12-k6.18-bridge-port-1498.ip-d-j-link.txt', 'fail', 'usb-nic-trailer#stopgap-mtu-1498', ['p3']],
		['debian12-k6.18-bridge-port-1498.ip-d-link.txt', 'fail', 'usb-nic-trailer#stopgap-mtu-1498', ['p3']],
		['debian12-k6.18-bridge-mtu-over-port.ip-d-j-link.txt', 'fail', 'usb-nic-trailer#stopgap-mtu-1498', ['p2', 'br0']],
		['debian12-k6.18-bridge-vxlan-port.ip-d-j-link.txt', 'fail', 'overlay-mtu#fix-the-overlay-mtu', ['vx0']],
		['debian12-k6.18-veth-9000-1500.ip-d-j-link.txt', 'fail', 'overlay-mtu#fix-the-underlay-mtu', ['va']],
		['debian12-k6.18-vxlan-underlay-lowered.ip-d-j-link.txt', 'fail', 'overlay-mtu#fix-the-overlay-mtu', ['vx0']],
		['debian12-k6.18-vxlan-no-remote.ip-d-j-link.txt', 'warn', '#measure-the-path-mtu', ['vx9']],
		['insights-core-all3.ip-s-d-link.txt', 'warn', '#measure-the-path-mtu', ['gre1', 'geneve0', 'geneve1']],
	];
	it.each(cases)('%s -> %s', (name, status, next, offenders) => {
		const v = evaluate(observe(graphOf(name)), params());
		expect(v.status, v.summary).toBe(status);
		expect(v.next).toBe(next);
		expect(v.facts.offenders).toEqual(offenders);
		expect(check.nextSteps).toContain(v.next);
		for (const o of offenders) expect(v.summary).toContain(o);
	});

	it('bridge port 1498: names the port, the numbers, and the lines of the devices involved', () => {
		const v = evaluate(observe(graphOf('debian12-k6.18-bridge-port-1498.ip-d-link.txt')), params());
		expect(v.summary).toContain('p3 (1498)');
		expect(v.summary).toContain('p1 (1500), p2 (1500)');
		expect(v.facts).toMatchObject({ rule: 'bridge-ports', device: 'p3', mtu: 1498, expectedMtu: 1500, difference: 2 });
		expect(v.evidence[0]!.lines).toEqual([3, 6, 10, 14]);
	});

	it('a bridge set above its smallest port gets the fix to lower it', () => {
		const v = evaluate(observe(graphOf('debian12-k6.18-bridge-mtu-over-port.ip-d-link.txt')), params());
		expect(v.fix).toEqual(['ip link set dev br0 mtu 1498']);
	});

	it('a VXLAN whose underlay was lowered: 100 bytes too big, with the fix', () => {
		const v = evaluate(observe(graphOf('debian12-k6.18-vxlan-underlay-lowered.ip-d-link.txt')), params());
		expect(v.facts).toMatchObject({ device: 'vx0', mtu: 1450, expectedMtu: 1350, difference: 100 });
		expect(v.summary).toContain('1400 - 50');
		expect(v.fix).toEqual(['ip link set dev vx0 mtu 1350']);
	});

	it('flow-based tunnels, fallback devices and OVS masters are named as not judged', () => {
		const v = evaluate(observe(graphOf('insights-core-all3.ip-s-d-link.txt')), params());
		expect(v.facts.notJudged).toEqual(
			expect.arrayContaining([
				expect.stringContaining('vxlan_sys_4789 (flow-based'),
				expect.stringContaining('gre0 (down, no endpoint)'),
				expect.stringContaining('ovs-system (openvswitch master'),
			]),
		);
	});
});

describe('evaluate: rules on graphs derived from the captures', () => {
	// The kernel lowers a VLAN with its parent (net/8021q/vlan.c, NETDEV_CHANGEMTU), so no capture
	// shows a VLAN above its parent; the parent's MTU is edited in the parsed graph instead.
	const withMtu = (g: LinkGraph, name: string, mtu: number): LinkGraph => ({
		...g,
		links: g.links.map((l) => (l.ifname === name ? { ...l, mtu } : l)),
	});
	const vlanGraph = graphOf('netology-vagrant-vlan700.ip-d-link.txt');

	it('VLAN above its parent -> fail naming both, by how much', () => {
		const v = evaluate(observe(withMtu(vlanGraph, 'eth0', 1400)), params());
		expect(v.status).toBe('fail');
		expect(v.summary).toContain('VLAN 700 eth0.700 has MTU 1500, 100 above its parent eth0 (1400)');
		expect(v.fix).toEqual(['ip link set dev eth0.700 mtu 1400']);
		expect(v.next).toBe('overlay-mtu#fix-the-underlay-mtu');
	});

	it('VLAN equal to its parent passes: the tag travels beyond the MTU', () => {
		expect(evaluate(observe(vlanGraph), params()).status).toBe('pass');
	});

	it('VLAN 4 above its parent points to the underlay fix, 2 above to the 1498 stopgap', () => {
		expect(evaluate(observe(withMtu(vlanGraph, 'eth0', 1496)), params()).next).toBe('overlay-mtu#fix-the-underlay-mtu');
		expect(evaluate(observe(withMtu(vlanGraph, 'eth0', 1498)), params()).next).toBe('usb-nic-trailer#stopgap-mtu-1498');
	});

	it('bond slave differing from its master -> fail (master kind inferred from the bond_slave lines)', () => {
		const g = graphOf('insights-core-all3.ip-s-d-link.txt');
		const slave = g.links.find((l) => l.ifname === 'eth0_1')!;
		const bond0: Link = {
			...slave,
			ifindex: 15,
			ifname: 'bond0',
			kind: null,
			slaveKind: null,
			master: null,
			flags: ['MASTER', 'UP'],
			lines: [],
		};
		const v = evaluate(observe(withMtu({ ...g, links: [...g.links, bond0] }, 'eth0_2', 1500)), params());
		expect(v.status).toBe('fail');
		expect(v.summary).toContain('bond bond0 has MTU 9000 but slave eth0_2 (1500)');
	});

	it('GRE and Geneve with a route to a known underlay: GRE 1476 fits 1500 - 24, Geneve 1500 is 50 too big', () => {
		const g = graphOf('insights-core-all3.ip-s-d-link.txt');
		const via = (target: string): RouteAnswer => ({
			target,
			route: {
				type: null,
				dst: target,
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
			problem: null,
			evidence: 0,
		});
		const routes = { gre1: via('172.168.10.25'), geneve0: via('192.168.43.254'), geneve1: via('192.168.43.173') };
		const v = evaluate(observe(g, routes), params());
		expect(v.status).toBe('fail');
		expect(v.facts.consistent).toEqual(expect.arrayContaining([expect.stringContaining('gre1 1476 <= 1500 - 24')]));
		expect(v.facts.offenders).toEqual(['geneve0', 'geneve1']);
		expect(v.facts.difference).toBe(50);
	});
});

// --- run() through a fake host -------------------------------------------------------------------

function host(commands: Record<string, FakeCommand>): FakeHost {
	return { commands };
}
const out = (name: string): FakeCommand => ({ stdout: fx(name) });
async function runOn(h: FakeHost, p: Record<string, unknown> = {}) {
	const ctx = fakeCtx(h);
	const v = await check.run(ctx, params(p));
	expect(check.nextSteps.includes(v.next ?? '') || v.next === undefined).toBe(true);
	return { v, ctx };
}

describe('run', () => {
	it('consistent chain (VXLAN with dev over 1500) -> pass, no route lookup', async () => {
		const { v, ctx } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-vxlan-dev.ip-d-j-link.txt') }));
		expect(v.status, v.summary).toBe('pass');
		expect(v.next).toBe('#if-the-path-is-clean');
		expect(ctx.calls).toEqual([`exec ${JSON_CMD}`]);
	});

	it('clean lab host (lo + eth0) -> pass, saying there was nothing to compare', async () => {
		const { v } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-clean.ip-d-j-link.txt') }));
		expect(v.status).toBe('pass');
		expect(v.summary).toContain('Nothing on this host can disagree');
		expect(v.facts.interfaces).toBe(2);
	});

	it('bridge port 1498 -> fail naming the port', async () => {
		const { v } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-bridge-port-1498.ip-d-j-link.txt') }));
		expect(v.status).toBe('fail');
		expect(v.summary).toMatch(/port p3 \(1498\)/);
		expect(v.facts).toMatchObject({ device: 'p3', mtu: 1498, difference: 2, offenders: ['p3'] });
		expect(v.summary).toContain('one JSON line');
		expect(v.evidence[0]).toMatchObject({ command: JSON_CMD, lines: [1] });
	});

	it('VXLAN 1500 over a 1500 underlay found by route -> fail, 50 bytes too big', async () => {
		const { v, ctx } = await runOn(
			host({
				[JSON_CMD]: out('debian12-k6.18-vxlan-nodev-1500.ip-d-j-link.txt'),
				'ip route get 192.0.2.2': out('debian12-k6.18-vxlan-nodev.ip-route-get.txt'),
			}),
		);
		expect(v.status, v.summary).toBe('fail');
		expect(ctx.calls).toEqual([`exec ${JSON_CMD}`, 'exec ip route get 192.0.2.2']);
		expect(v.facts).toMatchObject({ rule: 'tunnel-underlay', device: 'vx1', mtu: 1500, expectedMtu: 1450, difference: 50 });
		expect(v.summary).toContain('vx1 is 50 bytes too big');
		expect(v.summary).toContain('the route to 192.0.2.2');
		expect(v.next).toBe('overlay-mtu#fix-the-overlay-mtu');
		expect(v.fix).toEqual(['ip link set dev vx1 mtu 1450']);
		expect(v.evidence.map((e) => e.command)).toEqual([JSON_CMD, 'ip route get 192.0.2.2']);
		// The route line decides; the bare `cache` line under it carries nothing.
		expect(v.evidence[1]!.lines).toEqual([1]);
	});

	it('VXLAN over IPv6 without dev -> fail, 70 bytes too big; the one with dev passes', async () => {
		const { v } = await runOn(
			host({
				[JSON_CMD]: out('debian12-k6.18-vxlan6.ip-d-j-link.txt'),
				'ip route get 2001:db8::2': out('debian12-k6.18-vxlan6.ip-route-get.txt'),
			}),
		);
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ device: 'vx7', difference: 70, expectedMtu: 1430 });
		expect(v.facts.consistent).toEqual([expect.stringContaining('vx6 1430 <= 1500 - 70')]);
	});

	it('route lookup fails -> the largest interface is assumed and the verdict is warn, not fail', async () => {
		const { v } = await runOn(
			host({
				[JSON_CMD]: out('debian12-k6.18-vxlan-nodev-1500.ip-d-j-link.txt'),
				'ip route get 192.0.2.2': { stderr: fx('debian12-k6.18-unreachable.ip-route-get-stderr.txt'), code: 2 },
			}),
		);
		expect(v.status).toBe('warn');
		expect(v.summary).toContain('Network is unreachable');
		expect(v.summary).toContain('if it is the largest up interface, u1 (1500)');
		expect(v.next).toBe('#measure-the-path-mtu');
		expect(v.fix).toBeUndefined();
	});

	describe('no -j (CentOS/RHEL 7 iproute) -> the text fallback is used', () => {
		const noJson: FakeCommand = { stderr: fx('iproute2-ip.c-no-json.ip-d-j-link-stderr.txt'), code: 255 };

		it('RHEL ip -d link text with tunnels is read', async () => {
			const { v, ctx } = await runOn(host({ [JSON_CMD]: noJson, [TEXT_CMD]: out('insights-core-all3.ip-s-d-link.txt') }));
			expect(ctx.calls.slice(0, 2)).toEqual([`exec ${JSON_CMD}`, `exec ${TEXT_CMD}`]);
			expect(v.facts.source).toBe(TEXT_CMD);
			expect(v.facts.fallback).toContain('Option "-j" is unknown');
			expect(v.summary).toContain('Read from the text of ip -d link show: this iproute2 has no JSON output');
			expect(v.evidence[0]).toMatchObject({ command: JSON_CMD, code: 255 });
			expect(v.evidence[1]!.command).toBe(TEXT_CMD);
			expect(v.evidence[1]!.lines).toEqual(expect.arrayContaining([76, 83, 90]));
			// No route to the tunnels' remotes on this fake host: `ip route get` is answered "command not found".
			expect(v.status).toBe('warn');
		});

		it('bridge port 1498 read from text -> fail naming the port', async () => {
			const { v } = await runOn(host({ [JSON_CMD]: noJson, [TEXT_CMD]: out('debian12-k6.18-bridge-port-1498.ip-d-link.txt') }));
			expect(v.status).toBe('fail');
			expect(v.facts.device).toBe('p3');
			expect(v.evidence[1]!.lines).toEqual([3, 6, 10, 14]);
		});

		it('usage text with exit 255 is also taken as "no JSON"', () => {
			expect(lacksJson({ stdout: '', stderr: 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n', code: 255 })).toBe(true);
			expect(lacksJson({ stdout: '', stderr: 'Cannot open netlink socket: Permission denied\n', code: 1 })).toBe(false);
		});
	});

	describe('scope: iface', () => {
		it('a bridge port: its bridge and the other ports are judged', async () => {
			const { v } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-bridge-port-1498.ip-d-j-link.txt') }), { iface: 'p1' });
			expect(v.status).toBe('fail');
			expect(v.facts).toMatchObject({ scope: 'p1', interfaces: 4, device: 'p3' });
		});
		it('lo on the same host: outside the bridge chain -> pass', async () => {
			const { v } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-bridge-port-1498.ip-d-j-link.txt') }), { iface: 'lo' });
			expect(v.status).toBe('pass');
			expect(v.facts.interfaces).toBe(1);
		});
		it('the underlay of a VXLAN without dev: the route joins them', async () => {
			const { v } = await runOn(
				host({
					[JSON_CMD]: out('debian12-k6.18-vxlan-nodev-1500.ip-d-j-link.txt'),
					'ip route get 192.0.2.2': out('debian12-k6.18-vxlan-nodev.ip-route-get.txt'),
				}),
				{ iface: 'u1' },
			);
			expect(v.status).toBe('fail');
			expect(v.facts.device).toBe('vx1');
		});
		it('an interface this host does not have -> skip, listing the ones it has', async () => {
			const { v } = await runOn(host({ [JSON_CMD]: out('debian12-k6.18-clean.ip-d-j-link.txt') }), { iface: 'eth9' });
			expect(v.status).toBe('skip');
			expect(v.summary).toContain('lo, eth0');
		});
	});

	describe('output that cannot be judged -> error, never pass', () => {
		const noJson: FakeCommand = { stderr: fx('iproute2-ip.c-no-json.ip-d-j-link-stderr.txt'), code: 255 };
		const cases: { name: string; h: FakeHost; code: string }[] = [
			{ name: 'empty JSON', h: host({ [JSON_CMD]: out('empty.ip-d-j-link.txt') }), code: 'OutputEmpty' },
			{
				name: 'JSON cut at 3000 bytes',
				h: host({ [JSON_CMD]: out('debian12-k6.18-bridge-port-1498-cut3000.ip-d-j-link.txt') }),
				code: 'OutputTruncated',
			},
			{
				name: 'JSON cut by the transport',
				h: host({ [JSON_CMD]: { stdout: fx('debian12-k6.18-bridge-port-1498.ip-d-j-link.txt'), truncated: true } }),
				code: 'OutputTruncated',
			},
			{
				name: 'JSON of neighbours, not links',
				h: host({ [JSON_CMD]: out('debian12-k6.18-wrong-object.ip-j-neigh.txt') }),
				code: 'OutputNotUnderstood',
			},
			{
				name: 'text where JSON was asked for',
				h: host({ [JSON_CMD]: out('debian12-k6.18-bridge-port-1498.ip-d-link.txt') }),
				code: 'OutputNotUnderstood',
			},
			{
				name: 'ip not installed',
				h: host({ [JSON_CMD]: { stderr: fx('debian12-not-installed.ip-d-j-link-stderr.txt'), code: 127 } }),
				code: 'CommandMissing',
			},
			{
				name: 'ip not installed, German shell',
				h: host({ [JSON_CMD]: { stderr: fx('debian12-de-not-installed.ip-d-j-link-stderr.txt'), code: 127 } }),
				code: 'CommandMissing',
			},
			{
				name: 'German "not found" merged into stdout',
				h: host({ [JSON_CMD]: out('debian12-de-not-installed.ip-d-j-link-stderr.txt') }),
				code: 'OutputNotUnderstood',
			},
			{
				name: 'ip fails otherwise',
				h: host({ [JSON_CMD]: { stderr: 'Cannot open netlink socket: Permission denied\n', code: 1 } }),
				code: 'CommandFailed',
			},
			{ name: 'fallback text empty', h: host({ [JSON_CMD]: noJson, [TEXT_CMD]: out('empty.ip-d-link.txt') }), code: 'OutputEmpty' },
			{
				name: 'fallback text cut',
				h: host({ [JSON_CMD]: noJson, [TEXT_CMD]: out('debian12-k6.18-bridge-port-1498-cut1500.ip-d-link.txt') }),
				code: 'OutputTruncated',
			},
			{
				name: 'fallback text wrapped by a mail client',
				h: host({ [JSON_CMD]: noJson, [TEXT_CMD]: out('netdev-2021-bond-oneline-wrapped.ip-o-d-link.txt') }),
				code: 'OutputNotUnderstood',
			},
			{ name: 'fallback ip not installed', h: host({ [JSON_CMD]: noJson }), code: 'CommandMissing' },
		];
		it.each(cases)('$name -> $code', async ({ h, code }) => {
			const { v } = await runOn(h);
			expect(v.status, v.summary).toBe('error');
			expect(v.code).toBe(code);
			expect(v.hint).toBeTruthy();
			expect(v.next).toBe('#check-the-mtu-of-every-link-on-the-path');
			expect(v.evidence.length).toBeGreaterThan(0);
		});
	});
});

// --- contract -------------------------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'net.mtu-chain');

	it.each([
		[{}, true],
		[{ iface: 'eth0' }, true],
		[{ iface: 'eth0.700' }, true],
		[{ iface: 'vxlan_sys_4789' }, true],
		[{ iface: 'a;b' }, false],
		[{ iface: 'x'.repeat(16) }, false],
		[{ iface: '' }, false],
		[{ other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});

	it('probes list the JSON listing, its text fallback and the route lookup', () => {
		expect(check.probes(params()).map((p) => (p.kind === 'exec' ? p.argv.join(' ') : p.path))).toEqual([
			JSON_CMD,
			TEXT_CMD,
			'ip route get REMOTE',
		]);
	});

	it('run only runs what probes announce (REMOTE filled in)', async () => {
		const ctx = fakeCtx(
			host({
				[JSON_CMD]: { stderr: fx('iproute2-ip.c-no-json.ip-d-j-link-stderr.txt'), code: 255 },
				[TEXT_CMD]: out('debian12-k6.18-vxlan-nodev-1500.ip-d-link.txt'),
				'ip route get 192.0.2.2': out('debian12-k6.18-vxlan-nodev.ip-route-get.txt'),
			}),
		);
		const v = await check.run(ctx, params());
		expect(v.status).toBe('fail');
		const announced = check.probes(params()).map(callOf);
		expect(ctx.calls).toEqual(announced.map((c) => c.replace('REMOTE', '192.0.2.2')));
	});

	// The headings issue 3's plan fixes for the two runbooks that embed this check.
	const planHeadings: Record<string, string[]> = {
		'usb-nic-trailer': ['Measure the path MTU', 'Check the MTU of every link on the path', 'Stopgap: MTU 1498', 'If the path is clean'],
		'overlay-mtu': [
			'Measure the path MTU',
			'Check the MTU of every link on the path',
			'Fix the overlay MTU',
			'Fix the underlay MTU',
			'If the path is clean',
		],
	};
	it('every next step is a heading of the plan: #anchor in both runbooks, slug#anchor in that one', () => {
		for (const next of check.nextSteps) {
			const [slug, anchor] = next.split('#') as [string, string];
			const where = slug === '' ? Object.keys(planHeadings) : [slug];
			for (const rb of where) expect(planHeadings[rb]!.map(headingAnchor), `${rb} ${next}`).toContain(`#${anchor}`);
		}
	});

	for (const slug of Object.keys(planHeadings)) {
		it(`${slug}.mdx has the anchors this check points to and embeds it`, () => {
			expectRunbookEmbeds(check, slug);
		});
	}
});
