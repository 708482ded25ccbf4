/**
 * net.ecmp-routes: does this host split traffic over equal-cost paths, and can flows between one
 * pair of hosts ever take more than one of them?
 *
 * Failure (DOMAIN.md section 6): a multipath route (`nexthop via A dev X weight 1` / `nexthop via B
 * dev Y weight 1`) picks a next hop per flow by hashing header fields. With
 * `net.ipv4.fib_multipath_hash_policy = 0`, the default, only the source and destination addresses
 * are hashed, so every flow between one pair of hosts takes the same next hop: a few busy host pairs
 * load one link and leave the other idle (the test machine: 400 UDP flows from one address, 400/0).
 * No probe from this host can show the other path either, whatever the mtr mode: they all share
 * the source and destination address.
 *
 * Reads the main routing table, `ip -j route show` and `ip -j -6 route show` (JSON for routes came to
 * iproute2 in 2018), or the text forms `ip route show` / `ip -6 route show` when `-j` is refused
 * (`Option "-j" is unknown`: an iproute2 without -json), prints text (-json for links only) or
 * prints JSON that is not valid: multipath next hops until Julien Fortin's 2019 fix of
 * print_rta_multipath (`"gateway":"169.254.0.1"dev uplink-1 weight 1 ,`), route types in
 * iproute2/iproute2#37. The hash sysctls `/proc/sys/net/ipv4/fib_multipath_hash_policy`,
 * `.../fib_multipath_hash_fields`, `.../fib_multipath_use_neigh` and the IPv6 pair; with `dst`,
 * `ip route get <dst>`. Other routing tables (policy routing, VRFs) are not read.
 *
 * What the hash covers (kernel Documentation/networking/ip-sysctl.rst, DOMAIN.md), all in
 * `hashProfile`:
 * - IPv4 policy 0 = L3 (source, destination address); 1 = L4 5-tuple (added in 4.12); 2 = L3, or the
 *   inner L3 of encapsulated packets (5.3), so plain traffic is hashed as by 0; 3 = the fields in
 *   `fib_multipath_hash_fields` (5.14), bitmask in HASH_FIELDS. No policy file: a kernel before
 *   4.12, which hashes L3 only.
 * - IPv6 policy 0 = L3 plus flow label and next header (the policy sysctl came in 4.17; before it the
 *   same L3 hash). The flow label spreads flows only when senders set one per flow (Linux does by
 *   default, `net.ipv6.auto_flowlabels`; ICMPv6 probes and many appliances send 0).
 * - A policy spreads the flows of one host pair when its fields include a port. One that does not is
 *   `warn`, and the fix is policy 1.
 *
 * Other findings: a next hop flagged `dead` (its device is down) or `linkdown` (no carrier; still
 * chosen unless `ignore_routes_with_linkdown` is set) is `warn`, with `fib_multipath_use_neigh = 0`
 * called out then (a next hop whose router stopped answering ARP keeps its share); unequal weights
 * are reported.
 * No multipath route at all is `pass`: the question is answered, this host splits nothing, and the
 * imbalance is decided at another hop. Kernels that dump IPv6 ECMP siblings as separate routes
 * (before multipath dumps for IPv6) are not recognised as multipath.
 *
 * Serves content/runbooks/ecmp-imbalance.mdx, step "Are there equal-cost paths".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	notUnderstood,
	parsed,
	pass,
	skip,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type Probe,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { firstLine, incomplete, linesOf } from '../../src/core/parse/text.ts';
import { parseRouteGet, type RouteGet } from '../../src/core/parse/ip-route.ts';
import { codeForOutput, commandFailed, decide, installHint, notInstalled, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

const isIp = (v: string) => z.ipv4().safeParse(v).success || z.ipv6().safeParse(v).success;

export const ParamsSchema = z.strictObject({
	/**
	 * Judge only the route this destination takes (longest prefix in the main table), and show which
	 * next hop this host's own traffic to it takes now (`ip route get`). An IPv4 or IPv6 address,
	 * no zone index.
	 */
	dst: z
		.string()
		.refine(isIp, 'an IPv4 or IPv6 address such as 10.9.9.9 or 2001:db8::1')
		.optional()
		.describe('judge only the route to this IPv4 or IPv6 address, and show which next hop it takes'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- what the hash covers ----------------------------------------------------------------------

/** `fib_multipath_hash_fields` bits (include/net/ip_fib.h FIB_MULTIPATH_HASH_FIELD_*). */
export const HASH_FIELDS: readonly { bit: number; name: string }[] = [
	{ bit: 0x0001, name: 'source IP' },
	{ bit: 0x0002, name: 'destination IP' },
	{ bit: 0x0004, name: 'IP protocol' },
	{ bit: 0x0008, name: 'flow label' },
	{ bit: 0x0010, name: 'source port' },
	{ bit: 0x0020, name: 'destination port' },
	{ bit: 0x0040, name: 'inner source IP' },
	{ bit: 0x0080, name: 'inner destination IP' },
	{ bit: 0x0100, name: 'inner IP protocol' },
	{ bit: 0x0200, name: 'inner flow label' },
	{ bit: 0x0400, name: 'inner source port' },
	{ bit: 0x0800, name: 'inner destination port' },
];
const PORT_BITS = 0x0010 | 0x0020;
const FLOWLABEL_BIT = 0x0008;
/** Policies this check knows; a higher one is a kernel newer than the check. */
const MAX_POLICY = 3;

/** Names of the fields set in a `fib_multipath_hash_fields` mask, low bit first. */
export function decodeHashFields(mask: number): string[] {
	return HASH_FIELDS.filter((f) => (mask & f.bit) !== 0).map((f) => f.name);
}

export type Family = 4 | 6;

export interface HashProfile {
	/** The policy in force; 0 when the sysctl does not exist (the kernel only has the L3 hash). */
	policy: number;
	/** Fields hashed for traffic that is not encapsulated. */
	fields: string[];
	/** A port is among them: the flows of one host pair spread. */
	spreadsPorts: boolean;
	/** IPv6 flow label among them: flows spread only if senders label them. */
	flowLabel: boolean;
	/** e.g. `= 0, L3: source and destination IP only`, to follow the sysctl's name. */
	label: string;
}

/** What the policy (and for 3 the fields mask) hashes; null policy = no sysctl. Null result = unknown policy. */
export function hashProfile(family: Family, policy: number | null, fieldsMask: number | null): HashProfile | null {
	const v6 = family === 6;
	const l3 = v6 ? ['source IP', 'destination IP', 'flow label', 'IP protocol'] : ['source IP', 'destination IP'];
	const l3Text = v6 ? 'L3: source and destination IP, flow label, next header' : 'L3: source and destination IP only';
	const profile = (p: number, fields: string[], label: string): HashProfile => ({
		policy: p,
		fields,
		spreadsPorts: fields.includes('source port') || fields.includes('destination port'),
		flowLabel: fields.includes('flow label'),
		label,
	});
	if (policy === null) {
		return profile(0, l3, `absent, a kernel before ${v6 ? '4.17' : '4.12'} hashes ${l3Text}`);
	}
	switch (policy) {
		case 0:
			return profile(0, l3, `= 0, ${l3Text}`);
		case 1:
			return profile(
				1,
				['source IP', 'destination IP', 'IP protocol', 'source port', 'destination port'],
				'= 1, L4: source and destination IP, protocol, source and destination port',
			);
		case 2:
			return profile(2, l3, `= 2, L3 or the inner L3 of encapsulated packets, so plain traffic by ${l3Text}`);
		case 3: {
			// Plain traffic is hashed on the outer fields only; the flow label exists in IPv6 alone.
			const mask = fieldsMask ?? 0;
			const outer = decodeHashFields(mask & 0x003f & (v6 ? 0x003f : ~FLOWLABEL_BIT));
			const shown = `0x${mask.toString(16).padStart(4, '0')}: ${decodeHashFields(mask).join(', ') || 'nothing'}`;
			return {
				policy: 3,
				fields: outer,
				spreadsPorts: (mask & PORT_BITS) !== 0,
				flowLabel: v6 && (mask & FLOWLABEL_BIT) !== 0,
				label: `= 3, custom: fib_multipath_hash_fields ${shown}`,
			};
		}
		default:
			return null;
	}
}

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 15_000;

const routesProbe = (family: Family, json: boolean): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', ...(json ? ['-j'] : []), ...(family === 6 ? ['-6'] : []), 'route', 'show'],
	why: json
		? `IPv${family} main routing table as JSON; a multipath route lists "nexthops"`
		: `the same as text, only when the JSON form is refused or not valid (older iproute2)`,
	timeoutMs: EXEC_TIMEOUT_MS,
});

export const SYSCTL = {
	policy4: '/proc/sys/net/ipv4/fib_multipath_hash_policy',
	fields4: '/proc/sys/net/ipv4/fib_multipath_hash_fields',
	useNeigh4: '/proc/sys/net/ipv4/fib_multipath_use_neigh',
	policy6: '/proc/sys/net/ipv6/fib_multipath_hash_policy',
	fields6: '/proc/sys/net/ipv6/fib_multipath_hash_fields',
} as const;

const sysctlProbes: Record<keyof typeof SYSCTL, ReadProbe> = {
	policy4: {
		kind: 'read',
		path: SYSCTL.policy4,
		why: 'what the IPv4 multipath hash covers: 0 L3 (default), 1 L4, 2 L3 or inner L3, 3 custom',
	},
	fields4: { kind: 'read', path: SYSCTL.fields4, why: 'the fields policy 3 hashes, a bitmask (kernel 5.14 and later)' },
	useNeigh4: { kind: 'read', path: SYSCTL.useNeigh4, why: '1: skip next hops whose neighbour entry failed' },
	policy6: { kind: 'read', path: SYSCTL.policy6, why: 'the same for IPv6 (kernel 4.17 and later)' },
	fields6: { kind: 'read', path: SYSCTL.fields6, why: 'the fields IPv6 policy 3 hashes' },
};

const routeGetProbe = (dst: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', 'route', 'get', dst],
	why: 'the next hop this host picks for its own traffic to the destination now',
	timeoutMs: EXEC_TIMEOUT_MS,
});

// --- parsers -----------------------------------------------------------------------------------

export interface Nexthop {
	gateway: string | null;
	dev: string | null;
	weight: number;
	/** `dead`, `linkdown`, `onlink` ... */
	flags: string[];
}

export interface Route {
	family: Family;
	/** As printed: `default`, `198.19.9.9`, `10.0.0.0/8`, `2001:db8::/64`. */
	dst: string;
	/** `unicast` unless printed (`blackhole`, `unreachable`, `local` ...). */
	type: string;
	metric: number | null;
	protocol: string | null;
	/** Nexthop object id (`nhid`), when the route uses one. */
	nhid: number | null;
	/** One entry for a plain route with a gateway or device; two or more for a multipath route. */
	nexthops: Nexthop[];
	/** 1-based lines of the output this route came from. */
	lines: number[];
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function ipv4ToBig(s: string): bigint | null {
	if (!IPV4.test(s)) return null;
	return s.split('.').reduce((n, o) => (n << 8n) | BigInt(o), 0n);
}

function ipv6ToBig(text: string): bigint | null {
	let s = text;
	if (!/^[0-9A-Fa-f:.]{2,45}$/.test(s)) return null;
	if (s.includes('.')) {
		const i = s.lastIndexOf(':');
		const v4 = ipv4ToBig(s.slice(i + 1));
		if (v4 === null) return null;
		s = `${s.slice(0, i + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
	}
	const halves = s.split('::');
	if (halves.length > 2) return null;
	const head = halves[0] ? halves[0].split(':') : [];
	const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
	if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
	const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
	let n = 0n;
	for (const g of groups) {
		if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
		n = (n << 16n) | BigInt(`0x${g}`);
	}
	return n;
}

export function familyOf(address: string): Family | null {
	if (ipv4ToBig(address) !== null) return 4;
	if (ipv6ToBig(address) !== null) return 6;
	return null;
}

interface Prefix {
	family: Family;
	address: bigint;
	length: number;
}

/** `default`, `10.0.0.0/8`, `198.19.9.9` (a host route prints without /32), `2001:db8::/64`. */
function parsePrefix(dst: string, family: Family): Prefix | null {
	const bits = family === 4 ? 32 : 128;
	if (dst === 'default') return { family, address: 0n, length: 0 };
	const [addr, len, more] = dst.split('/');
	if (more !== undefined || addr === undefined) return null;
	const address = family === 4 ? ipv4ToBig(addr) : ipv6ToBig(addr);
	if (address === null) return null;
	const length = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
	if (!(length >= 0 && length <= bits)) return null;
	return { family, address, length };
}

function prefixContains(p: Prefix, address: bigint): boolean {
	const bits = p.family === 4 ? 32 : 128;
	const shift = BigInt(bits - p.length);
	return p.length === 0 || p.address >> shift === address >> shift;
}

const NexthopJson = z.looseObject({
	gateway: z.string().optional(),
	dev: z.string().optional(),
	weight: z.number().int().positive().optional(),
	flags: z.array(z.string()).optional(),
});
const RouteJson = z.looseObject({
	dst: z.string(),
	type: z.string().optional(),
	gateway: z.string().optional(),
	dev: z.string().optional(),
	metric: z.number().int().nonnegative().optional(),
	protocol: z.string().optional(),
	nhid: z.number().int().nonnegative().optional(),
	flags: z.array(z.string()).optional(),
	nexthops: z.array(NexthopJson).optional(),
});
const RoutesJson = z.array(RouteJson);

/**
 * `ip -j route show` (also `-p`): an array of routes, e.g.
 * `{"dst":"198.19.9.9","flags":[],"nexthops":[{"gateway":"198.19.1.2","dev":"up1","weight":1,"flags":[]},...]}`.
 * Each route's line is where its `"dst"` key is (all line 1 without `-p`); the lines returned are
 * those of the multipath routes, as for the text form.
 */
export function parseRoutesJson(text: string, family: Family): Parsed<Route[]> {
	const cut = incomplete(text, `ip -j${family === 6 ? ' -6' : ''} route show`);
	if (cut) return notUnderstood(cut);
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (e) {
		return notUnderstood(`not JSON (${(e as Error).message.slice(0, 80)}): ${JSON.stringify(text.slice(0, 60))}`);
	}
	const r = RoutesJson.safeParse(raw);
	if (!r.success)
		return notUnderstood(
			`JSON, but not a list of routes: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`.trim(),
		);
	const dstLines = linesOf(text).flatMap((l, i) => Array<number>(l.match(/"dst"\s*:/g)?.length ?? 0).fill(i + 1));
	const routes: Route[] = [];
	for (const [i, j] of r.data.entries()) {
		if (j.dst !== 'default' && parsePrefix(j.dst, family) === null)
			return notUnderstood(`route ${i + 1}: "${j.dst}" is not an IPv${family} prefix`);
		const nexthops: Nexthop[] = j.nexthops
			? j.nexthops.map((n) => ({ gateway: n.gateway ?? null, dev: n.dev ?? null, weight: n.weight ?? 1, flags: n.flags ?? [] }))
			: j.gateway !== undefined || j.dev !== undefined
				? [{ gateway: j.gateway ?? null, dev: j.dev ?? null, weight: 1, flags: j.flags ?? [] }]
				: [];
		routes.push({
			family,
			dst: j.dst,
			type: j.type ?? 'unicast',
			metric: j.metric ?? null,
			protocol: j.protocol ?? null,
			nhid: j.nhid ?? null,
			nexthops,
			lines: [dstLines[i] ?? 1],
		});
	}
	return parsed(routes, [...new Set(routes.filter((x) => x.nexthops.length >= 2).flatMap((x) => x.lines))]);
}

const ROUTE_TYPES = new Set([
	'unicast',
	'local',
	'broadcast',
	'multicast',
	'throw',
	'unreachable',
	'prohibit',
	'blackhole',
	'nat',
	'anycast',
]);
/** Keys `ip route show` prints with one value after them (iproute2 ip/iproute.c print_route). */
const VALUE_KEYS = new Set([
	'dev',
	'proto',
	'scope',
	'src',
	'metric',
	'table',
	'nhid',
	'pref',
	'expires',
	'advmss',
	'rtt',
	'rttvar',
	'reordering',
	'window',
	'cwnd',
	'ssthresh',
	'realm',
	'realms',
	'rto_min',
	'initcwnd',
	'initrwnd',
	'quickack',
	'congctl',
	'features',
	'hoplimit',
	'tos',
	'dsfield',
	'from',
	'weight',
	'error',
	'fastopen_no_cookie',
	'ttl-propagate',
	'iif',
	'oif',
	'uid',
	'mark',
	'nh_id',
	'rto',
	'mtu',
]);
/** Words printed alone. */
const FLAG_WORDS = new Set([
	'linkdown',
	'onlink',
	'dead',
	'pervasive',
	'offload',
	'trap',
	'offload_failed',
	'notify',
	'rt_offload',
	'rt_trap',
	'rt_offload_failed',
	'unresolved',
	'lock',
	'cache',
	'ecn',
]);
const ADDRESS_FAMILIES = new Set(['inet', 'inet6', 'mpls', 'bridge', 'link']);

interface Words {
	via: string | null;
	dev: string | null;
	weight: number | null;
	metric: number | null;
	protocol: string | null;
	nhid: number | null;
	flags: string[];
}

/** The words after the destination (or after `nexthop`): keys with values, flags, `via [family] ADDR`, `encap ...`. */
function readWords(words: string[]): Words | string {
	const out: Words = { via: null, dev: null, weight: null, metric: null, protocol: null, nhid: null, flags: [] };
	for (let i = 0; i < words.length; i++) {
		const w = words[i]!;
		const next = words[i + 1];
		if (w === 'via') {
			const addr = next !== undefined && ADDRESS_FAMILIES.has(next) ? words[i + 2] : next;
			if (addr === undefined || familyOf(addr) === null) return `"via" is not followed by an address`;
			out.via = addr;
			i += addr === next ? 1 : 2;
		} else if (w === 'encap') {
			// Encapsulation attributes run to the next known key; they do not change the path count.
			while (i + 1 < words.length && !VALUE_KEYS.has(words[i + 1]!) && words[i + 1] !== 'via' && !FLAG_WORDS.has(words[i + 1]!)) i++;
		} else if (VALUE_KEYS.has(w)) {
			if (next === undefined) return `"${w}" has no value`;
			if (w === 'dev') out.dev = next;
			if (w === 'proto') out.protocol = next;
			if (w === 'weight' || w === 'metric' || w === 'nhid') {
				if (!/^\d{1,10}$/.test(next)) return `"${w} ${next}" is not a number`;
				if (w === 'weight') out.weight = Number(next);
				if (w === 'metric') out.metric = Number(next);
				if (w === 'nhid') out.nhid = Number(next);
			}
			i++;
			// `mtu lock 1400`, `rtt lock 10ms`: the value follows `lock`.
			if (next === 'lock' && i + 1 < words.length) i++;
		} else if (FLAG_WORDS.has(w)) {
			out.flags.push(w);
		} else {
			return `unknown word "${w}"`;
		}
	}
	return out;
}

/**
 * `ip route show` / `ip -6 route show`: one route per line, a multipath route followed by one
 * indented line per next hop, e.g.
 * `198.19.9.9 ` then `\tnexthop via 198.19.1.2 dev up1 weight 1 ` (iproute2 6.1) or
 * `10.30.1.3  proto zebra  metric 20` then `\tnexthop via 10.10.12.12  dev swp2 weight 1` (3.x).
 */
export function parseRoutesText(text: string, family: Family): Parsed<Route[]> {
	const what = `ip${family === 6 ? ' -6' : ''} route show`;
	const cut = incomplete(text, what);
	if (cut) return notUnderstood(cut);
	const routes: Route[] = [];
	for (const [i, line] of linesOf(text).entries()) {
		const n = i + 1;
		const words = line.trim().split(/\s+/);
		if (/^\s/.test(line)) {
			const route = routes.at(-1);
			if (!route || words[0] !== 'nexthop')
				return notUnderstood(`${what} line ${n} is indented but is not a "nexthop" line: ${JSON.stringify(line.slice(0, 80))}`);
			const w = readWords(words.slice(1));
			if (typeof w === 'string') return notUnderstood(`${what} line ${n}: ${w}`);
			if (w.via === null && w.dev === null) return notUnderstood(`${what} line ${n}: a next hop with neither "via" nor "dev"`);
			// The next-hop lines replace whatever the route line said of its own path.
			if (route.lines.length === 1) route.nexthops = [];
			route.nexthops.push({ gateway: w.via, dev: w.dev, weight: w.weight ?? 1, flags: w.flags });
			route.lines.push(n);
			continue;
		}
		let k = 0;
		const type = ROUTE_TYPES.has(words[0]!) ? words[k++]! : 'unicast';
		const dst = words[k++];
		if (dst === undefined || parsePrefix(dst, family) === null)
			return notUnderstood(`${what} line ${n} does not start with an IPv${family} destination: ${JSON.stringify(line.slice(0, 80))}`);
		const w = readWords(words.slice(k));
		if (typeof w === 'string') return notUnderstood(`${what} line ${n}: ${w}`);
		routes.push({
			family,
			dst,
			type,
			metric: w.metric,
			protocol: w.protocol,
			nhid: w.nhid,
			nexthops: w.via !== null || w.dev !== null ? [{ gateway: w.via, dev: w.dev, weight: w.weight ?? 1, flags: w.flags }] : [],
			lines: [n],
		});
	}
	return parsed(routes, [...new Set(routes.filter((r) => r.nexthops.length >= 2).flatMap((r) => r.lines))]);
}

/** One decimal number (a sysctl file), e.g. `0`; hash_fields may also read back as hex (`0x0037`). */
export function parseSysctlNumber(text: string, what: string): Parsed<number> {
	const cut = incomplete(text, what);
	if (cut) return notUnderstood(cut);
	const m = /^(\d{1,10}|0x[0-9a-fA-F]{1,8})\n$/.exec(text);
	if (!m) return notUnderstood(`${what}: expected one number, got ${JSON.stringify(text.slice(0, 80))}`);
	return parsed(Number(m[1]), [1]);
}

export type { RouteGet };
export { parseRouteGet };

// --- evaluate ----------------------------------------------------------------------------------

export interface FamilyObservation {
	family: Family;
	routes: Route[];
	/** The command whose output the routes came from. */
	source: string;
	/** Why the JSON form was not used, when it was not. */
	jsonProblem: string | null;
	/** fib_multipath_hash_policy; null when the file does not exist. */
	policy: number | null;
	/** fib_multipath_hash_fields; null when it does not exist or was not read. */
	fields: number | null;
	/** fib_multipath_use_neigh (IPv4 only; it governs IPv6 too); null when absent. */
	useNeigh: number | null;
}

export type RouteGetObservation = { ok: true; value: RouteGet } | { ok: false; unreachable: string };

export interface Observation {
	v4: FamilyObservation;
	v6: FamilyObservation;
	dst: string | null;
	get: RouteGetObservation | null;
	evidence: Evidence[];
}

const isMultipath = (r: Route) => r.nexthops.length >= 2;

function nexthopText(h: Nexthop): string {
	return [h.gateway ? `via ${h.gateway}` : null, h.dev ? `dev ${h.dev}` : null, `weight ${h.weight}`, ...h.flags].filter(Boolean).join(' ');
}

export function routeText(r: Route): string {
	return `${r.dst}: ${r.nexthops.map(nexthopText).join(', ')}`;
}

/** For summaries: `198.19.9.9 (via 198.19.1.2 dev up1, via 198.19.2.2 dev up2)`, weights only when they differ. */
function routeBrief(r: Route): string {
	const weights = new Set(r.nexthops.map((h) => h.weight)).size > 1;
	const hop = (h: Nexthop) =>
		[h.gateway ? `via ${h.gateway}` : null, h.dev ? `dev ${h.dev}` : null, weights ? `weight ${h.weight}` : null, ...h.flags]
			.filter(Boolean)
			.join(' ');
	return `${r.dst} (${r.nexthops.map(hop).join(', ')})`;
}

/** Longest-prefix match of `address` among unicast-or-not routes (the kernel would pick the same in the main table). */
export function longestMatch(routes: readonly Route[], address: string): Route | null {
	const family = familyOf(address);
	if (family === null) return null;
	const a = family === 4 ? ipv4ToBig(address)! : ipv6ToBig(address)!;
	let best: { route: Route; length: number; metric: number } | null = null;
	for (const route of routes) {
		if (route.family !== family) continue;
		const p = parsePrefix(route.dst, family);
		if (!p || !prefixContains(p, a)) continue;
		const metric = route.metric ?? 0;
		if (!best || p.length > best.length || (p.length === best.length && metric < best.metric)) best = { route, length: p.length, metric };
	}
	return best?.route ?? null;
}

/** What tracing shows (DOMAIN.md, mtr packet/construct_unix.c): which probe fields vary per probe. */
const TRACE_FROM_PINNED =
	"No mtr or traceroute mode run from here can show the other next hop toward one destination, as every probe carries the same addresses (`ip route get <dst> from <src> iif <dev>` shows where other hosts go); past this hop, `mtr --udp` and `mtr --tcp` fan out over routers that hash ports, while ICMP mode (mtr's default, ping), `mtr --udp -P <p> -L <q>` and `tcptraceroute -p <p>` keep to one path.";
const TRACE_FROM_L4 =
	"`mtr --udp` or `mtr --tcp` from here shows every next hop (extra responders on continuation lines of `mtr --report`; `mtr --json` keeps one per hop); ICMP mode (mtr's default, ping), `mtr --udp -P <p> -L <q>` and `tcptraceroute -p <p>` follow one path.";

function fixFor(family: Family): string[] {
	const key = `net.ipv${family}.fib_multipath_hash_policy`;
	return [`sysctl -w ${key}=1`, `echo '${key} = 1' >> /etc/sysctl.d/90-ecmp-hash.conf`];
}

/** Judge the observation. Pure; every rule is here and in `hashProfile`. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const byFamily = { 4: obs.v4, 6: obs.v6 } as const;
	const facts: Facts = {
		routes4: obs.v4.routes.length,
		routes6: obs.v6.routes.length,
		routeSource4: obs.v4.source,
		routeSource6: obs.v6.source,
		hashPolicy4: obs.v4.policy,
		hashFields4: obs.v4.fields,
		hashPolicy6: obs.v6.policy,
		hashFields6: obs.v6.fields,
		useNeigh: obs.v4.useNeigh,
	};
	const extras = { evidence: obs.evidence, facts };

	let scope: Route[];
	let lead = '';
	if (params.dst !== undefined) {
		const family = familyOf(params.dst)!;
		facts.dst = params.dst;
		if (obs.get && !obs.get.ok) {
			facts.dstPath = null;
			return skip(
				`This host has no route to ${params.dst} (ip route get: ${obs.get.unreachable}), so no equal-cost paths toward it start here.`,
				extras,
			);
		}
		if (obs.get?.ok)
			facts.dstPath = [obs.get.value.gateway ? `via ${obs.get.value.gateway}` : null, `dev ${obs.get.value.dev}`].filter(Boolean).join(' ');
		const route = longestMatch(byFamily[family].routes, params.dst);
		facts.dstRoute = route ? routeText(route) : null;
		if (!route || !isMultipath(route)) {
			const how = route
				? `its route ${route.dst} has one next hop (${route.nexthops.map(nexthopText).join(', ') || route.type})`
				: 'no route in the main table covers it (policy routing or another table decides)';
			return pass(
				`${params.dst} is not reached over equal-cost paths from this host: ${how}${facts.dstPath ? `; the kernel sends it ${facts.dstPath}` : ''}. If its traffic is uneven, the split happens at another hop.`,
				{
					...extras,
					next: '#per-hop-hashing',
				},
			);
		}
		scope = [route];
		lead = facts.dstPath ? `This host's own traffic to ${params.dst} goes ${facts.dstPath} now. ` : '';
	} else {
		scope = [...obs.v4.routes, ...obs.v6.routes].filter(isMultipath);
	}

	const multipath4 = scope.filter((r) => r.family === 4);
	const multipath6 = scope.filter((r) => r.family === 6);
	facts.multipathRoutes = scope.map(routeText);
	facts.multipath4 = multipath4.length;
	facts.multipath6 = multipath6.length;

	if (scope.length === 0) {
		const opaque = [...obs.v4.routes, ...obs.v6.routes].filter((r) => r.nhid !== null && r.nexthops.length === 0);
		facts.nexthopObjectRoutes = opaque.length;
		if (opaque.length > 0) {
			return error(
				'OutputNotUnderstood',
				`${opaque.length} route(s) use nexthop objects (${opaque
					.slice(0, 3)
					.map((r) => `${r.dst} nhid ${r.nhid}`)
					.join(
						', ',
					)}) that \`ip route show\` does not expand (net.ipv4.nexthop_compat_mode = 0), so the check cannot tell whether they are multipath.`,
				{
					...extras,
					hint: 'Run `ip nexthop show` on the host: a "group" line with two or more ids is a multipath next hop.',
				},
			);
		}
		return pass(
			`No equal-cost routes here: every route in the main table has at most one next hop (${obs.v4.routes.length} IPv4, ${obs.v6.routes.length} IPv6 routes read). This host splits nothing; an uneven load is decided at another hop.`,
			{
				...extras,
				next: '#per-hop-hashing',
			},
		);
	}

	const pinned: { family: Family; profile: HashProfile }[] = [];
	const spread: { family: Family; profile: HashProfile }[] = [];
	for (const [family, routes] of [
		[4, multipath4],
		[6, multipath6],
	] as const) {
		if (routes.length === 0) continue;
		const o = byFamily[family];
		const profile = hashProfile(family, o.policy, o.fields);
		if (!profile) {
			return error(
				'OutputNotUnderstood',
				`net.ipv${family}.fib_multipath_hash_policy is ${o.policy}, a policy this check does not know (0 to ${MAX_POLICY}): a kernel newer than the check.`,
				{
					...extras,
					hint: "Look the value up in the kernel's Documentation/networking/ip-sysctl.rst for this kernel, and judge by hand.",
				},
			);
		}
		facts[`hashedFields${family}`] = profile.fields;
		facts[`spreadsHostPairs${family}`] = profile.spreadsPorts;
		(profile.spreadsPorts ? spread : pinned).push({ family, profile });
	}

	const down = scope.flatMap((r) =>
		r.nexthops.filter((h) => h.flags.includes('dead') || h.flags.includes('linkdown')).map((h) => `${r.dst} ${nexthopText(h)}`),
	);
	facts.downNexthops = down;
	const unequal = scope.filter((r) => new Set(r.nexthops.map((h) => h.weight)).size > 1);
	facts.unequalWeights = unequal.map(routeText);
	const notes: string[] = [];
	if (down.length > 0) {
		notes.push(
			`Next hop${down.length > 1 ? 's' : ''} down: ${down.join('; ')}. A dead next hop gets no flows, its share lands on the others; a linkdown one (no carrier) is still chosen unless net.ipv4.conf.<dev>.ignore_routes_with_linkdown is 1, and its flows are lost.`,
		);
		if (multipath4.length > 0 && obs.v4.useNeigh === 0)
			notes.push('With net.ipv4.fib_multipath_use_neigh at 0, a next hop whose router stops answering ARP keeps its share too.');
	}
	if (unequal.length > 0) notes.push(`Unequal weights, so unequal shares are intended: ${unequal.map(routeBrief).join('; ')}.`);

	const routesOf = (xs: { family: Family }[]) => scope.filter((r) => xs.some((x) => x.family === r.family));
	const policies = (xs: { family: Family; profile: HashProfile }[]) =>
		xs.map((x) => `net.ipv${x.family}.fib_multipath_hash_policy ${x.profile.label}`).join('; ');
	const spreadText =
		spread.length > 0
			? `${routesPhrase(routesOf(spread))} hashed on ports (${policies(spread)}), so the flows of one host pair spread over the next hops.`
			: '';

	if (pinned.length > 0) {
		const label = pinned.some((x) => x.profile.flowLabel)
			? ' (IPv6 flows spread only when senders set a flow label per flow: Linux does by default, ICMPv6 probes and many appliances do not)'
			: '';
		const text = `${routesPhrase(routesOf(pinned))} hashed without ports (${policies(pinned)}): every flow between one pair of hosts takes the same next hop, so a few busy pairs can fill one link and leave the other idle${label}.`;
		return warn([lead + text, spreadText, TRACE_FROM_PINNED, ...notes, 'Fix: hash on ports (policy 1).'].filter(Boolean).join(' '), {
			...extras,
			next: '#hash-on-ports',
			fix: pinned.flatMap((x) => fixFor(x.family)),
		});
	}
	if (down.length > 0) return warn([lead + spreadText, ...notes].join(' '), { ...extras, next: '#measure-the-load-on-each-link' });
	return pass([lead + spreadText, TRACE_FROM_L4, ...notes].join(' '), { ...extras, next: '#measure-the-load-on-each-link' });
}

/** `The multipath route 198.19.9.9 (via 198.19.1.2 dev up1, via 198.19.2.2 dev up2) is`, or a count past three. */
function routesPhrase(routes: readonly Route[]): string {
	if (routes.length === 1) return `The multipath route ${routeBrief(routes[0]!)} is`;
	if (routes.length <= 3)
		return `The multipath routes ${routes.slice(0, -1).map(routeBrief).join(', ')} and ${routeBrief(routes.at(-1)!)} are`;
	return `${routes.length} multipath routes (${routes
		.slice(0, 3)
		.map((r) => r.dst)
		.join(', ')}, ...) are`;
}

// --- run ---------------------------------------------------------------------------------------

async function observeRoutes(
	ctx: Ctx,
	family: Family,
	evidence: Evidence[],
): Promise<Pick<FamilyObservation, 'routes' | 'source' | 'jsonProblem'>> {
	const jp = routesProbe(family, true);
	const j = await ctx.exec(jp.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	if (j.code === 127) {
		evidence.push(evidenceOf(jp, j.stdout + j.stderr, [], { code: j.code }));
		throw new Undecided(
			error('CommandMissing', `${notInstalled('ip')}, so the routing table cannot be read.`, { evidence, hint: installHint('ip') }),
		);
	}
	if (j.truncated) {
		evidence.push(evidenceOf(jp, j.stdout, [], { code: j.code, truncated: true }));
		throw new Undecided(
			error(
				'OutputTruncated',
				`The routing table printed by \`${jp.argv.join(' ')}\` was cut by the transport (a very large table); this check needs all of it.`,
				{ evidence },
			),
		);
	}
	let jsonProblem: string;
	if (j.code === 0) {
		const p = parseRoutesJson(j.stdout, family);
		if (p.ok) {
			evidence.push(evidenceOf(jp, j.stdout, p.lines, { code: j.code }));
			return { routes: p.value, source: jp.argv.join(' '), jsonProblem: null };
		}
		jsonProblem = p.reason;
	} else {
		jsonProblem = `exit ${j.code ?? 'signal'}: ${firstLine(j.stderr) || '(no error output)'}`;
	}
	evidence.push(evidenceOf(jp, j.stdout + j.stderr, [], { code: j.code }));

	const tp = routesProbe(family, false);
	const t = await ctx.exec(tp.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const cmd = tp.argv.join(' ');
	if (t.code !== 0) {
		evidence.push(evidenceOf(tp, t.stdout + t.stderr, [], { code: t.code }));
		throw new Undecided(commandFailed(cmd, t, { evidence }));
	}
	if (t.truncated) {
		evidence.push(evidenceOf(tp, t.stdout, [], { code: t.code, truncated: true }));
		throw new Undecided(error('OutputTruncated', `The routing table printed by \`${cmd}\` was cut by the transport.`, { evidence }));
	}
	// An IPv6 table with no routes prints nothing (IPv6 disabled); an IPv4 one always has the route we came in by.
	if (family === 6 && t.stdout === '') {
		evidence.push(evidenceOf(tp, t.stdout, [], { code: t.code }));
		return { routes: [], source: cmd, jsonProblem };
	}
	const p = parseRoutesText(t.stdout, family);
	evidence.push(evidenceOf(tp, t.stdout, p.ok ? p.lines : [], { code: t.code }));
	if (!p.ok)
		throw new Undecided(error(codeForOutput(t.stdout), `${p.reason} (and the JSON form was not usable: ${jsonProblem}).`, { evidence }));
	return { routes: p.value, source: cmd, jsonProblem };
}

/** A sysctl file: its number, or null when it does not exist (an older kernel). */
async function readSysctl(ctx: Ctx, key: keyof typeof SYSCTL, evidence: Evidence[]): Promise<number | null> {
	const probe = sysctlProbes[key];
	const text = await ctx.read(probe.path);
	if (text === null) {
		evidence.push(evidenceOf(probe, ''));
		return null;
	}
	const p = parseSysctlNumber(text, probe.path);
	evidence.push(evidenceOf(probe, text, p.ok ? p.lines : []));
	if (!p.ok) throw new Undecided(error(codeForOutput(text), `${p.reason}.`, { evidence }));
	return p.value;
}

async function observeGet(ctx: Ctx, dst: string, evidence: Evidence[]): Promise<RouteGetObservation> {
	const probe = routeGetProbe(dst);
	const r = await ctx.exec(probe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	if (r.code !== 0) {
		evidence.push(evidenceOf(probe, output, [1], { code: r.code }));
		// RTNETLINK answers: Network is unreachable (exit 2): no route at all.
		const m = /^RTNETLINK answers: (.*unreachable.*)$/im.exec(r.stderr);
		if (m) return { ok: false, unreachable: m[1]!.trim() };
		throw new Undecided(commandFailed(probe.argv.join(' '), r, { evidence }));
	}
	const p = parseRouteGet(r.stdout);
	evidence.push(evidenceOf(probe, output, p.ok ? p.lines : [], { code: r.code }));
	if (!p.ok) throw new Undecided(error(codeForOutput(r.stdout), `${p.reason}.`, { evidence }));
	return { ok: true, value: p.value };
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	ctx.progress('reading the routing table', 0.1);
	const r4 = await observeRoutes(ctx, 4, evidence);
	const r6 = await observeRoutes(ctx, 6, evidence);
	ctx.progress('reading the hash policy', 0.6);
	const v4: FamilyObservation = { family: 4, ...r4, policy: null, fields: null, useNeigh: null };
	const v6: FamilyObservation = { family: 6, ...r6, policy: null, fields: null, useNeigh: null };
	v4.policy = await readSysctl(ctx, 'policy4', evidence);
	v4.fields = await readSysctl(ctx, 'fields4', evidence);
	v4.useNeigh = await readSysctl(ctx, 'useNeigh4', evidence);
	v6.useNeigh = v4.useNeigh;
	if (v6.routes.some(isMultipath)) {
		v6.policy = await readSysctl(ctx, 'policy6', evidence);
		v6.fields = await readSysctl(ctx, 'fields6', evidence);
	}
	const get = params.dst !== undefined ? await observeGet(ctx, params.dst, evidence) : null;
	return { v4, v6, dst: params.dst ?? null, get, evidence };
}

export default defineCheck({
	id: 'net.ecmp-routes',
	title: 'Equal-cost routes and what their hash covers',
	description:
		'Lists the multipath routes of the main table (IPv4 and IPv6, JSON or text form) and reads fib_multipath_hash_policy / fib_multipath_hash_fields. Warns when the hash leaves out the ports (the default L3 policy), so every flow between one pair of hosts takes one path, and says which mtr or traceroute mode would show the other paths; also reports next hops that are down and unequal weights.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#hash-on-ports', '#measure-the-load-on-each-link', '#per-hop-hashing'],
	params: ParamsSchema,
	probes(params) {
		const probes: Probe[] = [
			routesProbe(4, true),
			routesProbe(4, false),
			routesProbe(6, true),
			routesProbe(6, false),
			sysctlProbes.policy4,
			sysctlProbes.fields4,
			sysctlProbes.useNeigh4,
			sysctlProbes.policy6,
			sysctlProbes.fields6,
		];
		if (params.dst !== undefined) probes.push(routeGetProbe(params.dst));
		return probes;
	},
	run(ctx, params) {
		return decide(async () => {
			const obs = await observe(ctx, params);
			ctx.progress('comparing', 0.95);
			return evaluate(obs, params);
		});
	},
});
