/**
 * net.mtu-chain: does every link a packet crosses on this host agree on the MTU?
 *
 * Failure (DOMAIN.md sections 1 and 7): a frame larger than the MTU of the next link on its way is
 * dropped, usually without an ICMP error: a bridge drops frames bigger than the egress port's MTU
 * (net/bridge/br_forward.c, is_skb_forwardable), a VXLAN or GRE device whose MTU ignores the
 * encapsulation makes outer packets bigger than its underlay carries, and the two ends of a veth pair
 * with different MTUs drop in one direction only. The symptom is the issue's: small packets pass,
 * full-size ones vanish.
 *
 * Runs `ip -d -j link show` (JSON; not in CentOS/RHEL 7's iproute 3.10 or 4.11, which answer
 * `Option "-j" is unknown, try "ip -help".`, exit 255, and then `ip -d link show` is read as text),
 * and `ip route get <remote>` for each tunnel without a `dev`, to find its underlay.
 *
 * Rules, all in `evaluate`:
 * - bridge: all ports should have one MTU; a port below the others drops what they forward to it.
 *   The bridge's own MTU must not exceed its smallest port (the kernel sets it to the smallest unless
 *   someone set it by hand, net/bridge/br_if.c br_mtu_auto_adjust).
 * - bond/team: every slave has the master's MTU (the bonding driver sets them together).
 * - VLAN, macvlan, ipvlan (stacked on a parent): MTU above the parent's is an inconsistency. Linux
 *   allows a VLAN MTU equal to its parent's and sends the 4-byte tag beyond it; a NIC that cannot
 *   carry it says so (NETIF_F_VLAN_CHALLENGED) and the kernel then caps the VLAN 4 bytes lower
 *   (net/8021q/vlan_dev.c, vlan_dev_change_mtu). So only "above" is flagged.
 * - tunnels: MTU <= underlay MTU - overhead. VXLAN 50 over IPv4 / 70 over IPv6 (outer IP 20/40 +
 *   UDP 8 + VXLAN 8 + inner Ethernet 14; the kernel's VXLAN_HEADROOM / VXLAN6_HEADROOM); Geneve the
 *   same without options; GRE 24 over IPv4 (20 + 4), +4 each for key, checksum, sequence; gretap
 *   +14 (38, 42 with key); IPv6 outer 40, plus 8 for the encapsulation-limit option unless
 *   `encaplimit none`; FOU +8, GUE +12 (DOMAIN.md section 7, neutron-lib constants). Underlay: the
 *   tunnel's `dev`, else the device `ip route get <remote>` names (and that route's own `mtu`, if any),
 *   else unknown: then the largest MTU among up, unenslaved, non-tunnel interfaces is assumed and a
 *   problem is only `warn`. Flow-based (`external`) tunnels are set by their controller (OVS, OVN,
 *   Cilium) and are not judged; ERSPAN carries mirrored traffic and is not judged.
 * - veth: both ends, when both are in this namespace, should have one MTU.
 *
 * Serves content/runbooks/overlay-mtu.mdx and usb-nic-trailer.mdx, step "Check the MTU of every link
 * on the path".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	InterfaceName,
	notUnderstood,
	pass,
	skip,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type ExecResult,
	type Facts,
	type Probe,
	type Verdict,
} from '../../src/core/check.ts';
import {
	AGGREGATE_KINDS,
	STACKED_KINDS,
	TUNNEL_KINDS,
	parseIpLinkJson,
	parseIpLinkText,
	type Link,
	type LinkGraph,
	type TunnelInfo,
	type VlanInfo,
} from '../../src/core/parse/ip-link.ts';
import { parseRouteGet, type RouteGet } from '../../src/core/parse/ip-route.ts';
import { firstLine } from '../../src/core/parse/text.ts';
import { codeForOutput, decide, execEvidence, installHint, requireWhole, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * Judge only the chain through this interface: the devices it sits on (VLAN parent, tunnel
	 * underlay), its bridge or bond and that master's other ports, its veth peer, and what is stacked
	 * on it. Every interface when left out.
	 */
	iface: InterfaceName.optional().describe(
		'judge only the chain through this interface (its parents, its bridge and the other ports, its veth peer); every interface when left out',
	),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** Outer IP header by family. */
const IP_HEADER = { 4: 20, 6: 40 } as const;
const UDP = 8;
const VXLAN_HEADER = 8;
/** Geneve base header; options (OVN adds some) come on top and are not visible in `ip -d link`. */
const GENEVE_HEADER = 8;
const INNER_ETHERNET = 14;
/** GRE base header; key, checksum and sequence number add 4 each (RFC 2890). */
const GRE_HEADER = 4;
const GRE_OPTION = 4;
/** IPv6 tunnel encapsulation-limit destination option (RFC 2473), sent unless `encaplimit none`. */
const ENCAP_LIMIT_OPTION = 8;
/** Foo-over-UDP adds a UDP header; GUE adds its own 4-byte header on top. */
const FOU = 8;
const GUE = 12;
/** Route probes at most, so a host with hundreds of tunnels stays quick. */
const MAX_ROUTE_PROBES = 16;
const EXEC_TIMEOUT_MS = 10_000;

const isUp = (l: Link) => l.flags.includes('UP');
const isLoopback = (l: Link) => l.linkType === 'loopback' || l.flags.includes('LOOPBACK');

export { parseIpLinkJson, parseIpLinkText };
export type { Link, LinkGraph, TunnelInfo, VlanInfo };

/** What `ip route get` says about a tunnel's endpoint (the shared parser). */
export type Route = RouteGet;
export { parseRouteGet };

// --- evaluate ----------------------------------------------------------------------------------

/** What `ip route get <remote>` said for one tunnel. */
export interface RouteAnswer {
	target: string;
	route: Route | null;
	/** Why there is no route: the command's error, or output not understood. */
	problem: string | null;
	/** Index of its evidence entry. */
	evidence: number;
}

export interface Observation {
	graph: LinkGraph;
	/** Route lookups by tunnel name. */
	routes: Record<string, RouteAnswer>;
	evidence: Evidence[];
	/** Index of the link listing in `evidence`. */
	listing: number;
	/** Why the text form was read, when it was. */
	fallback: string | null;
}

export type Rule = 'bridge-ports' | 'bridge-above-port' | 'slave-mtu' | 'above-parent' | 'veth-ends' | 'tunnel-underlay';

export interface Finding {
	severity: 'fail' | 'warn';
	rule: Rule;
	/** The device to change first, then the others involved. */
	devices: string[];
	mtu: number;
	/** The MTU the device should have to fit the chain. */
	expected: number;
	text: string;
	next: string;
	fix?: string[];
}

export interface Overhead {
	bytes: number;
	/** How it adds up, e.g. `IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14`. */
	parts: string;
	label: string;
}

/** Encapsulation overhead of a tunnel device; null for kinds not judged (ERSPAN). */
export function encapOverhead(kind: string, t: TunnelInfo): Overhead | null {
	const parts: [string, number][] = [[`IPv${t.family}`, IP_HEADER[t.family]]];
	let label = `${kind} over IPv${t.family}`;
	if (kind === 'vxlan' || kind === 'geneve') {
		const vxlan = kind === 'vxlan';
		parts.push(['UDP', UDP], vxlan ? ['VXLAN', VXLAN_HEADER] : ['Geneve', GENEVE_HEADER], ['inner Ethernet', INNER_ETHERNET]);
		label = vxlan ? `VXLAN over IPv${t.family}` : `Geneve over IPv${t.family}, no options`;
	} else if (['gre', 'gretap', 'ip6gre', 'ip6gretap', 'ipip', 'sit', 'ip6tnl'].includes(kind)) {
		if (t.family === 6 && t.encapLimit) parts.push(['encap-limit option', ENCAP_LIMIT_OPTION]);
		if (kind.includes('gre')) {
			parts.push(['GRE', GRE_HEADER]);
			if (t.key) parts.push(['key', GRE_OPTION]);
			if (t.csum) parts.push(['checksum', GRE_OPTION]);
			if (t.seq) parts.push(['sequence', GRE_OPTION]);
			if (kind.endsWith('tap')) parts.push(['inner Ethernet', INNER_ETHERNET]);
		}
	} else {
		return null;
	}
	if (t.encap === 'fou') parts.push(['FOU', FOU]);
	if (t.encap === 'gue') parts.push(['GUE', GUE]);
	return { bytes: parts.reduce((sum, [, n]) => sum + n, 0), parts: parts.map(([name, n]) => `${name} ${n}`).join(' + '), label };
}

/** The MTU most ports share (the largest on a tie), and the ports that have another, smallest first. */
function majority(links: Link[]): { mtu: number; odd: Link[] } {
	const counts = new Map<number, number>();
	for (const l of links) counts.set(l.mtu, (counts.get(l.mtu) ?? 0) + 1);
	const max = Math.max(...links.map((l) => l.mtu));
	const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]![0];
	// A tie has no majority: the largest MTU is then taken as intended, the smaller ports as short.
	const tie = [...counts.values()].filter((c) => c === counts.get(best)).length > 1;
	const mtu = tie ? max : best;
	return { mtu, odd: links.filter((l) => l.mtu !== mtu).sort((a, b) => a.mtu - b.mtu) };
}

const names = (ls: Link[]) => ls.map((l) => l.ifname);
const list = (ls: Link[]) => ls.map((l) => `${l.ifname} (${l.mtu})`).join(', ');

/**
 * What kind of master a device is: its own kind, else its ports' slave kind, else (output without
 * details) a bond when its ports carry the SLAVE flag, which bonding and team set and a bridge does not.
 */
function masterKind(master: Link, ports: Link[]): string {
	if (master.kind) return master.kind;
	const slaveKind = ports.find((p) => p.slaveKind)?.slaveKind;
	if (slaveKind) return slaveKind;
	return ports.every((p) => p.flags.includes('SLAVE')) ? 'bond' : 'bridge';
}

/** The devices connected to `start` through masters, parents, peers and underlays. */
function chainOf(graph: LinkGraph, start: string, underlays: Map<string, string>): Set<string> {
	const by = new Map(graph.links.map((l) => [l.ifname, l]));
	const edges = new Map<string, Set<string>>();
	const join = (a: string, b: string) => {
		if (!by.has(a) || !by.has(b)) return;
		if (!edges.has(a)) edges.set(a, new Set());
		if (!edges.has(b)) edges.set(b, new Set());
		edges.get(a)!.add(b);
		edges.get(b)!.add(a);
	};
	for (const l of graph.links) {
		if (l.master) join(l.ifname, l.master);
		if (l.link) join(l.ifname, l.link);
		const u = underlays.get(l.ifname);
		if (u) join(l.ifname, u);
	}
	const seen = new Set([start]);
	const queue = [start];
	while (queue.length > 0) {
		for (const next of edges.get(queue.shift()!) ?? []) {
			if (!seen.has(next)) {
				seen.add(next);
				queue.push(next);
			}
		}
	}
	return seen;
}

function mismatchNext(difference: number, tunnelInvolved: boolean): string {
	if (tunnelInvolved) return 'overlay-mtu#fix-the-overlay-mtu';
	return difference === 2 ? 'usb-nic-trailer#stopgap-mtu-1498' : 'overlay-mtu#fix-the-underlay-mtu';
}

interface TunnelUnderlay {
	dev: Link | null;
	mtu: number | null;
	/** `its dev u1`, `the route to 192.0.2.2` ... or, when assumed, why it is unknown. */
	how: string;
	assumed: boolean;
}

function underlayOf(tunnel: Link, t: TunnelInfo, graph: LinkGraph, routes: Record<string, RouteAnswer>): TunnelUnderlay {
	const by = new Map(graph.links.map((l) => [l.ifname, l]));
	if (t.dev) {
		const dev = by.get(t.dev);
		if (dev) return { dev, mtu: dev.mtu, how: 'its dev', assumed: false };
	}
	const answer = routes[tunnel.ifname];
	let why: string;
	if (t.dev) why = `its dev ${t.dev} is not in this listing`;
	else if (!t.remote && !t.group) why = 'it has no dev and no remote or group address';
	else if (!answer) why = `the route to ${t.remote ?? t.group} was not looked up`;
	else if (!answer.route) why = `ip route get ${answer.target} failed: ${answer.problem ?? 'no answer'}`;
	else if (answer.route.type === 'local' || answer.route.dev === 'lo') why = `${answer.target} is an address of this host`;
	else if (!by.has(answer.route.dev)) why = `the route to ${answer.target} leaves by ${answer.route.dev}, which is not in this listing`;
	else {
		const dev = by.get(answer.route.dev)!;
		const routeMtu = answer.route.mtu !== null && answer.route.mtu < dev.mtu ? answer.route.mtu : null;
		return {
			dev,
			mtu: routeMtu ?? dev.mtu,
			how: `the route to ${answer.target}${routeMtu !== null ? `, whose route MTU is ${routeMtu}` : ''}`,
			assumed: false,
		};
	}
	const candidates = graph.links.filter(
		(l) => l !== tunnel && isUp(l) && !isLoopback(l) && !l.master && !(l.kind && TUNNEL_KINDS.has(l.kind)),
	);
	const biggest = candidates.sort((a, b) => b.mtu - a.mtu)[0] ?? null;
	return { dev: biggest, mtu: biggest?.mtu ?? null, how: why, assumed: true };
}

interface Judgement {
	findings: Finding[];
	/** What was compared and found consistent, for the pass summary. */
	consistent: string[];
	/** Devices left out, with why. */
	notJudged: string[];
	/** Devices each finding involves, for highlighting. */
	involved: Set<string>;
}

function judge(obs: Observation, scope: Set<string> | null): Judgement {
	const { graph, routes } = obs;
	const inScope = (name: string) => scope === null || scope.has(name);
	const by = new Map(graph.links.map((l) => [l.ifname, l]));
	const findings: Finding[] = [];
	const consistent: string[] = [];
	const notJudged: string[] = [];
	const involved = new Set<string>();
	const involve = (...ls: Link[]) => ls.forEach((l) => involved.add(l.ifname));

	// Tunnels first: the overlay step is the more specific fix.
	for (const l of graph.links) {
		if (!l.kind || !l.tunnel || !inScope(l.ifname)) continue;
		const t = l.tunnel;
		const overhead = encapOverhead(l.kind, t);
		if (!overhead) {
			notJudged.push(`${l.ifname} (${l.kind}: mirrored traffic, MTU not relevant)`);
			continue;
		}
		if (t.external) {
			notJudged.push(`${l.ifname} (flow-based ${l.kind}, MTU set by its controller)`);
			continue;
		}
		if (!isUp(l) && !t.dev && !t.remote && !t.group) {
			notJudged.push(`${l.ifname} (down, no endpoint)`);
			continue;
		}
		const u = underlayOf(l, t, graph, routes);
		const what = `${l.ifname} (${overhead.label}, MTU ${l.mtu})`;
		if (u.mtu === null || u.dev === null) {
			involve(l);
			findings.push({
				severity: 'warn',
				rule: 'tunnel-underlay',
				devices: [l.ifname],
				mtu: l.mtu,
				expected: l.mtu,
				text: `${what}: its underlay is unknown (${u.how}) and no up interface is left to assume, so its MTU cannot be checked`,
				next: '#measure-the-path-mtu',
			});
			continue;
		}
		const limit = u.mtu - overhead.bytes;
		const family = t.familyAssumed ? ` (IPv${t.family} outer assumed: no address is set)` : '';
		const arithmetic = `${u.mtu} - ${overhead.bytes} (${overhead.parts}) = ${limit}`;
		const underlay = u.assumed
			? `its underlay is unknown (${u.how}); if it is the largest up interface, ${u.dev.ifname} (${u.dev.mtu}), that carries`
			: `its underlay ${u.dev.ifname} (${u.how}, MTU ${u.dev.mtu}) carries`;
		if (l.mtu > limit) {
			involve(l, u.dev);
			findings.push({
				severity: u.assumed ? 'warn' : 'fail',
				rule: 'tunnel-underlay',
				devices: [l.ifname, u.dev.ifname],
				mtu: l.mtu,
				expected: limit,
				text: `${what}: ${underlay} at most ${arithmetic} inside${family}, so ${l.ifname} is ${l.mtu - limit} bytes too big`,
				next: u.assumed ? '#measure-the-path-mtu' : 'overlay-mtu#fix-the-overlay-mtu',
				...(u.assumed ? {} : { fix: [`ip link set dev ${l.ifname} mtu ${limit}`] }),
			});
		} else if (u.assumed) {
			notJudged.push(`${l.ifname} (fits ${arithmetic} of the largest up interface ${u.dev.ifname}, but its underlay is unknown: ${u.how})`);
		} else {
			consistent.push(`${l.ifname} ${l.mtu} <= ${arithmetic} (${overhead.label} over ${u.dev.ifname}, ${u.how})`);
		}
	}

	for (const master of graph.links) {
		if (!inScope(master.ifname)) continue;
		const ports = graph.links.filter((l) => l.master === master.ifname);
		if (ports.length === 0) continue;
		const kind = masterKind(master, ports);
		if (kind === 'bridge') {
			const tunnelPort = ports.some((p) => p.kind !== null && TUNNEL_KINDS.has(p.kind));
			if (new Set(ports.map((p) => p.mtu)).size > 1) {
				const { mtu, odd } = majority(ports);
				const same = ports.filter((p) => p.mtu === mtu);
				const diff = Math.abs(odd[0]!.mtu - mtu);
				involve(master, ...ports);
				findings.push({
					severity: 'fail',
					rule: 'bridge-ports',
					devices: [...names(odd), ...names(same)],
					mtu: odd[0]!.mtu,
					expected: mtu,
					text: `bridge ${master.ifname}: port${odd.length > 1 ? 's' : ''} ${list(odd)} ${odd.length > 1 ? 'differ' : 'differs'} from ${list(same)}; frames larger than ${Math.min(...ports.map((p) => p.mtu))} are dropped between them`,
					next: mismatchNext(diff, tunnelPort),
				});
			} else {
				consistent.push(`bridge ${master.ifname}: ${ports.length} port${ports.length > 1 ? 's' : ''} at ${ports[0]!.mtu}`);
			}
			const smallest = ports.reduce((a, b) => (b.mtu < a.mtu ? b : a));
			if (master.mtu > smallest.mtu) {
				involve(master, smallest);
				findings.push({
					severity: 'fail',
					rule: 'bridge-above-port',
					devices: [master.ifname, smallest.ifname],
					mtu: master.mtu,
					expected: smallest.mtu,
					text: `bridge ${master.ifname} has MTU ${master.mtu}, above its smallest port ${smallest.ifname} (${smallest.mtu}); the kernel keeps a bridge at its smallest port unless its MTU is set by hand`,
					next: mismatchNext(master.mtu - smallest.mtu, tunnelPort),
					fix: [`ip link set dev ${master.ifname} mtu ${smallest.mtu}`],
				});
			}
		} else if (AGGREGATE_KINDS.has(kind)) {
			const odd = ports.filter((p) => p.mtu !== master.mtu);
			if (odd.length > 0) {
				involve(master, ...odd);
				findings.push({
					severity: 'fail',
					rule: 'slave-mtu',
					devices: [...names(odd), master.ifname],
					mtu: odd[0]!.mtu,
					expected: master.mtu,
					text: `${kind} ${master.ifname} has MTU ${master.mtu} but slave${odd.length > 1 ? 's' : ''} ${list(odd)}`,
					next: mismatchNext(Math.abs(master.mtu - odd[0]!.mtu), false),
					fix: odd.map((p) => `ip link set dev ${p.ifname} mtu ${master.mtu}`),
				});
			} else {
				consistent.push(`${kind} ${master.ifname}: ${ports.length} slave${ports.length > 1 ? 's' : ''} at ${master.mtu}`);
			}
		} else {
			notJudged.push(`${master.ifname} (${kind} master: its ports may differ by design)`);
		}
	}

	for (const l of graph.links) {
		if (!l.kind || !STACKED_KINDS.has(l.kind) || !inScope(l.ifname)) continue;
		const parent = l.link ? by.get(l.link) : undefined;
		if (!parent) {
			notJudged.push(`${l.ifname} (${l.kind} whose parent is ${l.linkNetns !== null ? 'in another namespace' : 'not in this listing'})`);
			continue;
		}
		const what = l.kind === 'vlan' ? `VLAN${l.vlan ? ` ${l.vlan.id}` : ''}` : l.kind;
		if (l.mtu > parent.mtu) {
			involve(l, parent);
			findings.push({
				severity: 'fail',
				rule: 'above-parent',
				devices: [l.ifname, parent.ifname],
				mtu: l.mtu,
				expected: parent.mtu,
				text: `${what} ${l.ifname} has MTU ${l.mtu}, ${l.mtu - parent.mtu} above its parent ${parent.ifname} (${parent.mtu})`,
				next: mismatchNext(l.mtu - parent.mtu, false),
				fix: [`ip link set dev ${l.ifname} mtu ${parent.mtu}`],
			});
		} else {
			consistent.push(`${what} ${l.ifname} ${l.mtu} <= parent ${parent.ifname} ${parent.mtu}`);
		}
	}

	const pairs = new Set<string>();
	for (const l of graph.links) {
		if (l.kind !== 'veth' || !inScope(l.ifname)) continue;
		const peer = l.link ? by.get(l.link) : undefined;
		if (!peer || peer.link !== l.ifname) continue;
		const key = [l.ifname, peer.ifname].sort().join('|');
		if (pairs.has(key)) continue;
		pairs.add(key);
		if (l.mtu !== peer.mtu) {
			const [small, big] = l.mtu < peer.mtu ? [l, peer] : [peer, l];
			involve(small, big);
			findings.push({
				severity: 'fail',
				rule: 'veth-ends',
				devices: [small.ifname, big.ifname],
				mtu: small.mtu,
				expected: big.mtu,
				text: `veth pair ${small.ifname} (${small.mtu}) / ${big.ifname} (${big.mtu}): frames larger than ${small.mtu} sent by ${big.ifname} are dropped at ${small.ifname}`,
				next: mismatchNext(big.mtu - small.mtu, false),
			});
		} else {
			consistent.push(`veth pair ${l.ifname} / ${peer.ifname} at ${l.mtu}`);
		}
	}
	return { findings, consistent, notJudged, involved };
}

/** Underlay devices known without a route lookup, and from the lookups done: tunnel -> device. */
function underlayEdges(obs: Observation): Map<string, string> {
	const edges = new Map<string, string>();
	for (const l of obs.graph.links) {
		if (!l.tunnel) continue;
		const dev = l.tunnel.dev ?? obs.routes[l.ifname]?.route?.dev ?? null;
		if (dev) edges.set(l.ifname, dev);
	}
	return edges;
}

/** Judge the observation. Pure; every threshold is above. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const { graph } = obs;
	let scope: Set<string> | null = null;
	if (params.iface !== undefined) {
		if (!graph.links.some((l) => l.ifname === params.iface)) {
			return skip(
				`There is no interface named ${params.iface} on this host (it has ${graph.links.map((l) => l.ifname).join(', ')}); nothing to judge.`,
				{ evidence: obs.evidence, facts: { scope: params.iface, interfaces: 0 } },
			);
		}
		scope = chainOf(graph, params.iface, underlayEdges(obs));
	}
	const judged = graph.links.filter((l) => scope === null || scope.has(l.ifname));
	const { findings, consistent, notJudged, involved } = judge(obs, scope);
	const fails = findings.filter((f) => f.severity === 'fail');
	const warns = findings.filter((f) => f.severity === 'warn');

	const highlight = judged.filter((l) => involved.size === 0 || involved.has(l.ifname)).flatMap((l) => l.lines);
	const evidence = obs.evidence.map((e, i) => (i === obs.listing ? { ...e, lines: [...new Set(highlight)].sort((a, b) => a - b) } : e));
	const source = graph.format === 'json' ? 'ip -d -j link show' : 'ip -d link show';
	const count = judged.length === 1 ? 'the 1 interface' : `the ${judged.length} interfaces`;
	const where = scope === null ? count : `${count} in the chain of ${params.iface}`;
	const top = fails[0] ?? warns[0];
	const facts: Facts = {
		scope: params.iface ?? 'all',
		interfaces: judged.length,
		source,
		failures: fails.map((f) => f.text),
		warnings: warns.map((f) => f.text),
		consistent,
		notJudged,
		offenders: [...new Set(findings.map((f) => f.devices[0]!))],
		rule: top?.rule ?? null,
		device: top?.devices[0] ?? null,
		mtu: top?.mtu ?? null,
		expectedMtu: top?.expected ?? null,
		difference: top ? Math.abs(top.mtu - top.expected) : null,
	};
	if (obs.fallback) facts.fallback = obs.fallback;
	const formatNote =
		graph.format === 'json' && graph.links.every((l) => l.lines.length === 1 && l.lines[0] === 1)
			? ` (${source} prints one JSON line, so line 1 holds every device)`
			: '';
	const aside =
		(notJudged.length > 0 ? ` Not judged: ${notJudged.join('; ')}.` : '') +
		(obs.fallback ? ` Read from the text of ip -d link show: ${obs.fallback.replace(/, so .*$/, '')}.` : '');
	const extras = { evidence, facts };
	const fixes = (fs: Finding[]) => {
		const all = fs.flatMap((f) => f.fix ?? []);
		return all.length > 0 ? { fix: all } : {};
	};

	if (fails.length > 0) {
		const more = warns.length > 0 ? ` Also: ${warns.map((w) => w.text).join('; ')}.` : '';
		return fail(
			`${fails.length} MTU inconsistenc${fails.length > 1 ? 'ies' : 'y'} among ${where}: ${fails.map((f) => f.text).join('; ')}.${more}${aside}${formatNote}`,
			{ ...extras, next: fails[0]!.next, ...fixes(fails) },
		);
	}
	if (warns.length > 0) {
		return warn(
			`No definite MTU inconsistency among ${where}, but ${warns.map((w) => w.text).join('; ')}. Measure the path to confirm.${aside}${formatNote}`,
			{ ...extras, next: warns[0]!.next, ...fixes(warns) },
		);
	}
	if (consistent.length === 0) {
		return pass(
			`Nothing on this host can disagree: ${where} (${names(judged).join(', ')}) include no bridge, bond, VLAN, tunnel or veth pair with both ends here, so there is no MTU chain to be inconsistent.${aside} If large packets still vanish, the loss is beyond this host: measure the path.`,
			{ ...extras, next: '#if-the-path-is-clean' },
		);
	}
	return pass(`The MTUs agree among ${where}: ${consistent.join('; ')}.${aside}`, { ...extras, next: '#if-the-path-is-clean' });
}

// --- probes and run ----------------------------------------------------------------------------

export const jsonProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', '-d', '-j', 'link', 'show'],
	why: 'every interface with its MTU, master, parent or veth peer and tunnel settings, as JSON',
	timeoutMs: EXEC_TIMEOUT_MS,
};
export const textProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', '-d', 'link', 'show'],
	why: 'the same as text, only when this iproute2 has no -j (CentOS/RHEL 7: iproute 3.10, 4.11)',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const routeProbe = (target: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', 'route', 'get', target],
	why:
		target === 'REMOTE'
			? 'for each tunnel without a dev: the interface its outer packets leave by (REMOTE = its remote or group address)'
			: 'the interface the outer packets of a tunnel leave by',
	timeoutMs: EXEC_TIMEOUT_MS,
});

const NEXT_ERROR = '#check-the-mtu-of-every-link-on-the-path';

/** iproute2 without JSON: `Option "-j" is unknown, try "ip -help".` (ip/ip.c), exit 255; some builds print the usage. */
export function lacksJson(r: ExecResult): boolean {
	return r.code !== 0 && (/Option "-j(son)?" is unknown/.test(r.stderr) || (r.code === 255 && /Usage: ip \[ OPTIONS \]/.test(r.stderr)));
}

async function listLinks(ctx: Ctx, evidence: Evidence[]): Promise<{ graph: LinkGraph; listing: number; fallback: string | null }> {
	const r = await ctx.exec(jsonProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	let probe = jsonProbe;
	let result = r;
	let fallback: string | null = null;
	if (lacksJson(r)) {
		evidence.push(evidenceOf(jsonProbe, r.stdout + r.stderr, [1], { code: r.code }));
		fallback = `this iproute2 has no JSON output (${firstLine(r.stderr)}), so the text of ip -d link show was read`;
		probe = textProbe;
		result = await ctx.exec(textProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	}
	const listing = evidence.length;
	evidence.push(execEvidence(probe, result));
	requireWhole(probe, result, {
		evidence,
		hint: installHint('ip', 'run `ip -d link show` by hand and compare the MTUs as the step explains'),
		next: NEXT_ERROR,
	});
	const p = probe === jsonProbe ? parseIpLinkJson(result.stdout) : parseIpLinkText(result.stdout);
	if (!p.ok) throw new Undecided(error(codeForOutput(result.stdout), `${p.reason}.`, { evidence, next: NEXT_ERROR }));
	return { graph: p.value, listing, fallback };
}

async function lookUpRoutes(ctx: Ctx, graph: LinkGraph, evidence: Evidence[]): Promise<Record<string, RouteAnswer>> {
	const routes: Record<string, RouteAnswer> = {};
	const asked = new Map<string, RouteAnswer>();
	const wanted = graph.links.filter((l) => {
		const t = l.tunnel;
		return t && !t.external && !t.dev && (t.remote || t.group) && isUp(l) && l.kind && encapOverhead(l.kind, t);
	});
	for (const l of wanted.slice(0, MAX_ROUTE_PROBES)) {
		const target = (l.tunnel!.remote ?? l.tunnel!.group)!;
		const known = asked.get(target);
		if (known) {
			routes[l.ifname] = known;
			continue;
		}
		const probe = routeProbe(target);
		const r = await ctx.exec(probe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
		const p = r.code === 0 ? parseRouteGet(r.stdout) : notUnderstood(firstLine(r.stderr) || `exit ${r.code ?? 'by a signal'}`);
		evidence.push(evidenceOf(probe, r.stdout + r.stderr, p.ok ? p.lines : [], { code: r.code }));
		const answer: RouteAnswer = { target, route: p.ok ? p.value : null, problem: p.ok ? null : p.reason, evidence: evidence.length - 1 };
		asked.set(target, answer);
		routes[l.ifname] = answer;
	}
	return routes;
}

const check = defineCheck({
	id: 'net.mtu-chain',
	title: 'MTU of every link on the path',
	description:
		'Reads the interface graph (ip -d -j link show, or its text form on CentOS/RHEL 7) and flags MTU inconsistencies: bridge ports that differ, a bridge above its smallest port, a VLAN above its parent, a VXLAN/Geneve/GRE device above its underlay minus the encapsulation overhead, veth ends that differ.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [
		'#if-the-path-is-clean',
		'#measure-the-path-mtu',
		NEXT_ERROR,
		'overlay-mtu#fix-the-overlay-mtu',
		'overlay-mtu#fix-the-underlay-mtu',
		'usb-nic-trailer#stopgap-mtu-1498',
	],
	params: ParamsSchema,
	probes(): Probe[] {
		return [jsonProbe, textProbe, routeProbe('REMOTE')];
	},
	run(ctx: Ctx, params: Params): Promise<Verdict> {
		const evidence: Evidence[] = [];
		return decide(async () => {
			const { graph, listing, fallback } = await listLinks(ctx, evidence);
			const routes = await lookUpRoutes(ctx, graph, evidence);
			return evaluate({ graph, routes, evidence, listing, fallback }, params);
		});
	},
});

export default check;
