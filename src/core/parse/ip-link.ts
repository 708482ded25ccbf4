/**
 * `ip -d -j link show` (JSON) and `ip -d link show` (text): the host's interfaces and how they are
 * stacked, for every check that needs the interface graph (net.vlan-on-bond-slave; net.mtu-chain
 * carries its own copy of the same parsers and can move here).
 *
 * iproute2 prints JSON since 4.14 (ip/ipaddress.c, json_print); CentOS/RHEL 7's iproute 3.10 and
 * 4.11 answer `-j` with `Option "-j" is unknown, try "ip -help".` and exit 255, and are read as text.
 * Key names come from iproute2 ip/ipaddress.c, ip/iplink_vlan.c, ip/iplink_bond.c and
 * ip/iplink_bond_slave.c (DOMAIN.md section 4).
 */
import { notUnderstood, parsed, type Parsed } from '../check.ts';
import { incomplete, linesOf } from './text.ts';

/** Tunnel kinds, whose detail line carries endpoints. */
export const TUNNEL_KINDS = new Set([
	'vxlan',
	'geneve',
	'gre',
	'gretap',
	'ip6gre',
	'ip6gretap',
	'ipip',
	'sit',
	'ip6tnl',
	'erspan',
	'ip6erspan',
]);
/** Kinds stacked on one parent device. */
export const STACKED_KINDS = new Set(['vlan', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap']);
/** Masters that aggregate ports. */
export const AGGREGATE_KINDS = new Set(['bond', 'team']);

export interface TunnelInfo {
	/** VNI for VXLAN and Geneve. */
	id: number | null;
	remote: string | null;
	/** Multicast group (VXLAN). */
	group: string | null;
	local: string | null;
	/** The underlay device the tunnel is bound to (`dev`), when set. */
	dev: string | null;
	/** Outer IP version: from the addresses, else the kind (ip6*), else 4 (the kernel's default). */
	family: 4 | 6;
	/** True when the family was not visible in any address. */
	familyAssumed: boolean;
	/** UDP destination port (VXLAN, Geneve). */
	port: number | null;
	/** GRE options on transmit. */
	key: boolean;
	csum: boolean;
	seq: boolean;
	/** IPv6 tunnels: the 8-byte encapsulation-limit option is sent (not `encaplimit none`). */
	encapLimit: boolean;
	/** FOU/GUE encapsulation around the tunnel, when set. */
	encap: 'fou' | 'gue' | null;
	/** Flow-based (collect_metadata): endpoints come per packet from OVS, tc or eBPF. */
	external: boolean;
}

export interface VlanInfo {
	id: number;
	/** `802.1Q` or `802.1ad`; null where old iproute2 does not print it. */
	protocol: string | null;
}

export interface BondInfo {
	/** `active-backup`, `802.3ad`, `balance-xor` ... as iproute2 names it; null when not printed. */
	mode: string | null;
}

export interface BondSlaveInfo {
	/** `ACTIVE` or `BACKUP`. */
	state: string | null;
	/** `UP`, `DOWN`, `GOING_DOWN`, `GOING_BACK`. */
	miiStatus: string | null;
	linkFailureCount: number | null;
	/** 802.3ad only. */
	aggregatorId: number | null;
}

export interface Link {
	ifindex: number;
	ifname: string;
	mtu: number;
	/** `BROADCAST`, `SLAVE`, `UP` (administratively up), `LOWER_UP` ... */
	flags: string[];
	/** `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN` ...; null when not printed. */
	operstate: string | null;
	/** `linkinfo.info_kind` (`bridge`, `veth`, `vxlan`, `vlan`, `bond` ...); null for a plain NIC. */
	kind: string | null;
	/** `bridge`, `bond`, `openvswitch` ... when the device is enslaved. */
	slaveKind: string | null;
	master: string | null;
	/** Parent (VLAN, macvlan, tunnel) or veth peer by name, when it is in this namespace. */
	link: string | null;
	/** Parent or peer by ifindex when it is in another namespace (`eth0@if33`, `link_index`). */
	linkIndex: number | null;
	/** `link_netnsid` / `link-netnsid N` / `link-netns NAME`: the peer or parent lives elsewhere. */
	linkNetns: string | null;
	/** `ether`, `loopback`, `gre`, `none` ... */
	linkType: string | null;
	tunnel: TunnelInfo | null;
	vlan: VlanInfo | null;
	bond: BondInfo | null;
	bondSlave: BondSlaveInfo | null;
	/** Lines of the output that show this device's name and MTU (and its tunnel or VLAN settings in text). */
	lines: number[];
	/** Line of the `<kind>_slave ...` detail line in text; the entry's line in JSON; null when absent. */
	slaveLine: number | null;
}

export interface LinkGraph {
	format: 'json' | 'text';
	links: Link[];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> =>
	v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const endpoint = (v: unknown): string | null => {
	const s = str(v);
	return s === null || s === 'any' || s === '0.0.0.0' || s === '::' ? null : s;
};

function familyOf(kind: string, ...addresses: (string | null)[]): { family: 4 | 6; assumed: boolean } {
	const seen = addresses.find((a) => a !== null);
	if (seen) return { family: seen.includes(':') ? 6 : 4, assumed: false };
	return { family: kind.startsWith('ip6') ? 6 : 4, assumed: !kind.startsWith('ip6') };
}

interface JsonEntryLines {
	start: number;
	ifname: number | null;
	mtu: number | null;
}

/**
 * Where each top-level array element of `ip -j` output starts, and the lines of its `ifname` and
 * `mtu` keys: all 1 in the compact form iproute2 prints, one per key with `-p`.
 */
function jsonEntryLines(text: string): JsonEntryLines[] {
	const entries: JsonEntryLines[] = [];
	let line = 1;
	let depth = 0;
	let inString = false;
	let escaped = false;
	let token = '';
	let tokenLine = 1;
	let pendingKey: { name: string; line: number } | null = null;
	for (const c of text) {
		if (c === '\n') line++;
		if (inString) {
			if (escaped) escaped = false;
			else if (c === '\\') escaped = true;
			else if (c === '"') {
				inString = false;
				pendingKey = depth === 2 ? { name: token, line: tokenLine } : null;
			} else token += c;
			continue;
		}
		if (/\s/.test(c)) continue;
		const key = pendingKey;
		pendingKey = null;
		if (c === '"') {
			inString = true;
			token = '';
			tokenLine = line;
		} else if (c === ':' && key) {
			const entry = entries.at(-1);
			if (entry && key.name === 'ifname') entry.ifname = key.line;
			if (entry && key.name === 'mtu') entry.mtu = key.line;
		} else if (c === '{' || c === '[') {
			if (c === '{' && depth === 1) entries.push({ start: line, ifname: null, mtu: null });
			depth++;
		} else if (c === '}' || c === ']') {
			depth--;
		}
	}
	return entries;
}

function jsonTunnel(kind: string, data: Record<string, unknown>): TunnelInfo {
	const remote = endpoint(data.remote) ?? endpoint(data.remote6);
	const group = endpoint(data.group) ?? endpoint(data.group6);
	const local = endpoint(data.local) ?? endpoint(data.local6);
	const { family, assumed } = familyOf(kind, remote, group, local);
	const encap = str(obj(data.encap).type);
	return {
		id: int(data.id),
		remote,
		group,
		local,
		dev: str(data.link),
		family,
		familyAssumed: assumed,
		port: int(data.port),
		key: data.okey !== undefined,
		csum: data.ocsum === true,
		seq: data.oseq === true,
		encapLimit: family === 6 && data.ip6_tnl_f_ign_encap_limit !== true,
		encap: encap === 'fou' || encap === 'gue' ? encap : null,
		external: data.external === true,
	};
}

/**
 * `ip -d -j link show`: a JSON array, one object per device, compact on one line (or pretty with
 * `-p`). Example (iproute2 6.1): `[{"ifindex":2,"link":"eth0","ifname":"eth1","flags":["BROADCAST",
 * "MULTICAST","UP","LOWER_UP"],"mtu":1500,...,"master":"br0","operstate":"UP",...,"linkinfo":
 * {"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{...}}}]`. A VLAN has
 * `"linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1Q","id":700,"flags":["REORDER_HDR"]}}`
 * and `"link"` its parent; a bond slave `"master":"bond0"` and `"info_slave_kind":"bond"` with
 * `"info_slave_data":{"state":"ACTIVE","mii_status":"UP","link_failure_count":0,...}`. A peer or
 * parent in another namespace appears as `link_index` + `link_netnsid` instead of `link`.
 */
export function parseIpLinkJson(text: string): Parsed<LinkGraph> {
	const cut = incomplete(text, 'ip -d -j link show');
	if (cut) return notUnderstood(cut);
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (e) {
		return notUnderstood(`ip -d -j link show is not JSON (${(e as Error).message}); cut, or not iproute2 output`);
	}
	if (!Array.isArray(data)) return notUnderstood('ip -d -j link show: expected a JSON array of interfaces');
	if (data.length === 0) return notUnderstood('ip -d -j link show listed no interface at all, not even lo');
	const where = jsonEntryLines(text);
	const links: Link[] = [];
	for (const [i, raw] of data.entries()) {
		if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return notUnderstood(`ip -d -j link show: entry ${i + 1} is not an object`);
		const o = raw as Record<string, unknown>;
		const ifname = str(o.ifname);
		const ifindex = int(o.ifindex);
		const mtu = int(o.mtu);
		if (ifname === null || ifindex === null || mtu === null)
			return notUnderstood(`ip -d -j link show: entry ${i + 1} has no ifname, ifindex or mtu; not an interface list`);
		const info = obj(o.linkinfo);
		const kind = str(info.info_kind);
		const slaveKind = str(info.info_slave_kind);
		const infoData = obj(info.info_data);
		const slaveData = obj(info.info_slave_data);
		const at = where[i];
		const lines = at ? [...new Set([at.ifname ?? at.start, at.mtu ?? at.start])] : [1];
		const vlanId = kind === 'vlan' ? int(infoData.id) : null;
		links.push({
			ifindex,
			ifname,
			mtu,
			flags: Array.isArray(o.flags) ? o.flags.filter((f): f is string => typeof f === 'string') : [],
			operstate: str(o.operstate),
			kind,
			slaveKind,
			master: str(o.master),
			link: str(o.link),
			linkIndex: int(o.link_index),
			linkNetns: o.link_netnsid === undefined || o.link_netnsid === null ? null : String(o.link_netnsid),
			linkType: str(o.link_type),
			tunnel: kind && TUNNEL_KINDS.has(kind) ? jsonTunnel(kind, infoData) : null,
			vlan: vlanId === null ? null : { id: vlanId, protocol: str(infoData.protocol) },
			bond: kind === 'bond' ? { mode: str(infoData.mode) } : null,
			bondSlave:
				slaveKind === 'bond'
					? {
							state: str(slaveData.state),
							miiStatus: str(slaveData.mii_status),
							linkFailureCount: int(slaveData.link_failure_count),
							aggregatorId: int(slaveData.ad_aggregator_id),
						}
					: null,
			lines,
			slaveLine: slaveKind === null ? null : (at?.start ?? 1),
		});
	}
	return parsed(
		{ format: 'json', links },
		[...new Set(links.flatMap((l) => l.lines))].sort((a, b) => a - b),
	);
}

/** Kinds iproute2 prints as the first word of a detail line (`ip link help` TYPE list). */
const KNOWN_KINDS = new Set([
	...TUNNEL_KINDS,
	...STACKED_KINDS,
	...AGGREGATE_KINDS,
	'bridge',
	'veth',
	'vxcan',
	'dummy',
	'ifb',
	'tun',
	'openvswitch',
	'vrf',
	'vti',
	'vti6',
	'xfrm',
	'macsec',
	'hsr',
	'ipoib',
	'nlmon',
	'vcan',
	'can',
	'wireguard',
	'bareudp',
	'gtp',
	'amt',
	'netkit',
	'batadv',
	'rmnet',
	'virt_wifi',
	'netdevsim',
	'dsa',
]);

const HEADER = /^(\d+):\s+([^\s:@]+)(?:@([^\s:]+))?:\s+<([^>]*)>\s+mtu\s+(\d+)\b(.*)$/;
const CONTINUATION = /^[ \t]+(\S.*)$/;

function after(tokens: string[], word: string): string | null {
	const i = tokens.indexOf(word);
	return i >= 0 && i + 1 < tokens.length ? tokens[i + 1]! : null;
}

function afterInt(tokens: string[], word: string): number | null {
	const v = after(tokens, word);
	return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}

function textTunnel(kind: string, tokens: string[]): TunnelInfo {
	const address = (w: string) => {
		const v = after(tokens, w);
		return v === null ? null : endpoint(v);
	};
	const remote = address('remote');
	const group = address('group');
	const local = address('local');
	const { family, assumed } = familyOf(kind, remote, group, local);
	const encap = after(tokens, 'encap');
	return {
		id: afterInt(tokens, 'id'),
		remote,
		group,
		local,
		dev: after(tokens, 'dev'),
		family,
		familyAssumed: assumed,
		port: afterInt(tokens, 'dstport'),
		key: tokens.includes('key') || tokens.includes('okey'),
		csum: tokens.includes('csum') || tokens.includes('ocsum'),
		seq: tokens.includes('seq') || tokens.includes('oseq'),
		encapLimit: family === 6 && after(tokens, 'encaplimit') !== 'none',
		encap: encap === 'fou' || encap === 'gue' ? encap : null,
		external: tokens.includes('external'),
	};
}

/**
 * `ip -d link show` (and `ip -s -d link`): per device a header line, then indented lines. Example
 * (Ubuntu OpenStack node, canonical/hotsos fixture):
 * ```
 * 6: enp59s0f0: <BROADCAST,MULTICAST,SLAVE,UP,LOWER_UP> mtu 9000 qdisc mq master bond1 state UP mode DEFAULT group default qlen 1000
 *     link/ether ac:1f:6b:9e:d8:44 brd ff:ff:ff:ff:ff:ff promiscuity 0
 *     bond_slave state ACTIVE mii_status UP link_failure_count 0 perm_hwaddr ac:1f:6b:9e:d8:44 queue_id 0 ad_aggregator_id 1 ...
 * 13: bond1.4003@bond1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000 qdisc noqueue state UP mode DEFAULT group default qlen 1000
 *     link/ether ac:1f:6b:9e:d8:44 brd ff:ff:ff:ff:ff:ff promiscuity 0
 *     vlan protocol 802.1Q id 4003 <REORDER_HDR> addrgenmode eui64 ...
 * ```
 * `name@parent` names the VLAN parent or veth peer; `@ifN` with `link-netnsid` / `link-netns` a peer
 * in another namespace. A detail line starting with a kind (`vlan`, `bond`, `veth` ...) or
 * `<kind>_slave` says what the device is; other indented lines (`altname`, statistics) are skipped.
 */
export function parseIpLinkText(text: string): Parsed<LinkGraph> {
	const cut = incomplete(text, 'ip -d link show');
	if (cut) return notUnderstood(cut);
	const links: Link[] = [];
	let current: Link | null = null;
	for (const [i, line] of linesOf(text).entries()) {
		const n = i + 1;
		const h = HEADER.exec(line);
		if (h) {
			const at = h[3] ?? null;
			const rest = h[6]!;
			current = {
				ifindex: Number(h[1]),
				ifname: h[2]!,
				mtu: Number(h[5]),
				flags: h[4]!.split(',').filter((f) => f !== ''),
				operstate: /\sstate\s+(\S+)/.exec(rest)?.[1] ?? null,
				kind: null,
				slaveKind: null,
				master: /\smaster\s+(\S+)/.exec(rest)?.[1] ?? null,
				link: at === null || at === 'NONE' || /^if\d+$/.test(at) ? null : at,
				linkIndex: at !== null && /^if\d+$/.test(at) ? Number(at.slice(2)) : null,
				linkNetns: null,
				linkType: null,
				tunnel: null,
				vlan: null,
				bond: null,
				bondSlave: null,
				lines: [n],
				slaveLine: null,
			};
			links.push(current);
			continue;
		}
		const c = CONTINUATION.exec(line);
		if (!c || !current)
			return notUnderstood(
				`ip -d link show line ${n} is neither "N: name: <FLAGS> mtu M ..." nor an indented detail line: ${JSON.stringify(line.slice(0, 80))}`,
			);
		const tokens = c[1]!.trim().split(/\s+/);
		const first = tokens[0]!;
		if (first.startsWith('link/')) {
			current.linkType = first.slice(5);
			current.linkNetns = after(tokens, 'link-netnsid') ?? after(tokens, 'link-netns');
		} else if (first.endsWith('_slave') && first.length > 6) {
			current.slaveKind = first.slice(0, -6);
			current.slaveLine = n;
			if (first === 'bond_slave') {
				current.bondSlave = {
					state: after(tokens, 'state'),
					miiStatus: after(tokens, 'mii_status'),
					linkFailureCount: afterInt(tokens, 'link_failure_count'),
					aggregatorId: afterInt(tokens, 'ad_aggregator_id'),
				};
			}
		} else if (KNOWN_KINDS.has(first) && current.kind === null) {
			current.kind = first;
			if (TUNNEL_KINDS.has(first)) {
				current.tunnel = textTunnel(first, tokens.slice(1));
				current.lines.push(n);
			}
			if (first === 'vlan') {
				const id = afterInt(tokens, 'id');
				if (id !== null) current.vlan = { id, protocol: after(tokens, 'protocol') };
				current.lines.push(n);
			}
			if (first === 'bond') {
				current.bond = { mode: after(tokens, 'mode') };
				current.lines.push(n);
			}
		}
	}
	if (links.length === 0) return notUnderstood('ip -d link show printed no interface line');
	return parsed(
		{ format: 'text', links },
		links.map((l) => l.lines[0]!),
	);
}

/** `Option "-j" is unknown, try "ip -help".`: iproute2 before 4.14 (ip/ip.c), exit 255. */
export function jsonUnsupported(stderr: string): boolean {
	return /^Option "-j(?:son)?" is unknown, try "ip -help"\.$/m.test(stderr);
}
