/**
 * net.path-mtu: how large an IP packet really gets through to a target, measured with pings that
 * may not be fragmented, and how a too-large packet dies on the way.
 *
 * Failure (DOMAIN.md sections 1 and 7): small packets pass, full-size ones vanish. A USB NIC on the
 * ax88179_178a driver appends 2 bytes to every received frame, so only 1498-byte IP packets survive
 * the next hop with a strict frame limit; a VLAN tag, an overlay (VXLAN, GRE, gretap) or PPPoE that
 * nobody subtracted from the MTU costs its header instead. When the hop that cannot carry the packet
 * says so ("Frag needed and DF set (mtu = N)", IPv6 "Packet too big: mtu=N"), PMTUD lowers the
 * sender's packet size and TCP recovers; when it drops the packet silently (a bridge, a switch, a
 * firewall eating ICMP) nothing recovers: the black hole, where SSH logs in and then hangs.
 *
 * Runs `ping -M do -s SIZE -c 1 -W 1 -n TARGET` (IPv6: `ping -6 ...`; iputils: `-M do` sets DF and
 * refuses to fragment locally too), first at the size that fills `expectMtu`, twice when answered (a
 * VXLAN without `dev` carries the first full-size packet by fragmenting the outer one, then refuses
 * the next: DOMAIN.md section 7), then a bounded search:
 * a size named by an ICMP error or a local "message too long" (mtu N -> N minus headers), the USB
 * trailer signature (2 bytes short) for a silent loss, the smallest ping (size 0) to make sure the
 * target answers at all, then bisection. At most MAX_SIZES sizes; a size without a reply is tried
 * once more before it counts as lost. On a local "message too long" it runs `ip route get TARGET`
 * and reads `/sys/class/net/DEV/mtu`, to tell a learned PMTU (`expires ... mtu N`) from this host's
 * own interface MTU.
 *
 * Thresholds and their sources, all in `evaluate`:
 * - headers: IPv4 20 + ICMP echo 8 = 28 (RFC 791, RFC 792); IPv6 40 + ICMPv6 echo 8 = 48 (RFC 8200,
 *   RFC 4443). pathMtu = largest size with a reply + headers; fail below `expectMtu`.
 * - shortfalls (SHORTFALLS): 2 the ax88179_178a RX trailer (DOMAIN.md section 1); 4 an 802.1Q tag;
 *   8 PPPoE (RFC 2516: 6 PPPoE + 2 PPP, the 1492 MTU); 24 GRE over IPv4; 38/42 gretap without/with
 *   key; 50/54/70 VXLAN over IPv4 / with an inner VLAN tag / over IPv6 (DOMAIN.md section 7, neutron-lib
 *   constants). Any other shortfall is reported as unexplained.
 *
 * Serves content/runbooks/usb-nic-trailer.mdx and overlay-mtu.mdx, step "Measure the path MTU".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	notUnderstood,
	parsed,
	pass,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { parseRouteGet, type RouteGet } from '../../src/core/parse/ip-route.ts';
import { codeForOutput, cutByTransport, decide, notInstalled, packageOf, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The address to measure the path to: an IPv4 or IPv6 address, no host name (nothing is
	 * resolved, so DNS trouble cannot pass for an MTU problem). Pick a host on the far side of the
	 * suspect link, e.g. the VM whose SSH session hangs.
	 */
	target: z
		.union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address (no host names)' })
		.describe('IPv4 or IPv6 address to measure the path to (no host names)'),
	/**
	 * The MTU the path should carry, in bytes: 1500 for plain Ethernet, 9000 for a jumbo-frame
	 * fabric, the overlay MTU (e.g. 1450) when measuring inside a tunnel.
	 */
	expectMtu: z.number().int().min(576).max(9216).default(1500).describe('MTU the path should carry, 576-9216 (default 1500)'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** IP header + ICMP echo header: what `ping -s SIZE` adds to SIZE. */
export const HEADERS = { ipv4: 28, ipv6: 48 } as const;
/** Most sizes one run tries; enough to bisect 0..1472 after the first guesses. */
export const MAX_SIZES = 16;
/** Ping's own wait for a reply (`-W`), seconds. */
const PING_WAIT_S = 1;
const PING_TIMEOUT_MS = 5_000;
const EXEC_TIMEOUT_MS = 10_000;

export type NextStep =
	| '#if-the-path-is-clean'
	| '#check-the-mtu-of-every-link-on-the-path'
	| '#measure-the-path-mtu'
	| 'usb-nic-trailer#find-the-usb-nic-and-its-driver'
	| 'overlay-mtu#fix-the-overlay-mtu';

/** Known causes of a path that is exactly this many bytes short of the expected MTU. */
export const SHORTFALLS: Readonly<Record<number, { cause: string; next: NextStep }>> = {
	2: {
		cause:
			'the signature of the USB NIC trailer bug: an ax88179_178a adapter without the fix appends 2 bytes to every received frame, so full-size frames are dropped at the next hop',
		next: 'usb-nic-trailer#find-the-usb-nic-and-its-driver',
	},
	4: {
		cause: 'the size of an 802.1Q VLAN tag: a tagged link somewhere was not given 4 extra bytes',
		next: '#check-the-mtu-of-every-link-on-the-path',
	},
	8: { cause: 'the PPPoE overhead (6 PPPoE + 2 PPP bytes, MTU 1492)', next: '#check-the-mtu-of-every-link-on-the-path' },
	24: {
		cause: 'the GRE-over-IPv4 overhead (20 + 4): a GRE tunnel whose inner MTU was not lowered',
		next: 'overlay-mtu#fix-the-overlay-mtu',
	},
	38: { cause: 'the gretap overhead without key (20 + 4 + 14)', next: 'overlay-mtu#fix-the-overlay-mtu' },
	42: { cause: 'the gretap overhead with key (20 + 8 + 14), as Neutron/OVS GRE uses', next: 'overlay-mtu#fix-the-overlay-mtu' },
	50: {
		cause: 'the VXLAN-over-IPv4 overhead (20 + 8 + 8 + 14): an overlay whose MTU was not lowered',
		next: 'overlay-mtu#fix-the-overlay-mtu',
	},
	54: { cause: 'the VXLAN-over-IPv4 overhead with a VLAN-tagged inner frame (50 + 4)', next: 'overlay-mtu#fix-the-overlay-mtu' },
	70: { cause: 'the VXLAN-over-IPv6 overhead (40 + 8 + 8 + 14)', next: 'overlay-mtu#fix-the-overlay-mtu' },
};

// --- probes ------------------------------------------------------------------------------------

export type Family = 'ipv4' | 'ipv6';

/** IPv6 when the address has a colon; the schema already refused anything that is not an address. */
export function familyOf(target: string): Family {
	return target.includes(':') ? 'ipv6' : 'ipv4';
}

export function pingArgv(target: string, size: number | 'SIZE'): string[] {
	const v6 = familyOf(target) === 'ipv6' ? ['-6'] : [];
	return ['ping', ...v6, '-M', 'do', '-s', String(size), '-c', '1', '-W', String(PING_WAIT_S), '-n', target];
}

const pingProbe = (target: string, size: number | 'SIZE', why: string): ExecProbe => ({
	kind: 'exec',
	argv: pingArgv(target, size),
	why,
	timeoutMs: PING_TIMEOUT_MS,
});
const routeProbe = (target: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', 'route', 'get', target],
	why: 'on a local "message too long": the egress interface, and a PMTU learned from a router (`expires ... mtu N`)',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const mtuProbe = (dev: string): ReadProbe => ({
	kind: 'read',
	path: `/sys/class/net/${dev}/mtu`,
	why: `the MTU of ${dev}, this host's own egress interface`,
});

// --- parsers -----------------------------------------------------------------------------------

export type PingOutcome =
	/** At least one echo reply came back. */
	| 'reply'
	/** Nothing came back and nothing said why: the silent loss. */
	| 'lost'
	/** This host refused to send it: `ping: local error: message too long, mtu=N` or `sendmsg: Message too long`. */
	| 'local-too-big'
	/** A hop said it is too big: `Frag needed and DF set (mtu = N)`, IPv6 `Packet too big: mtu=N`. */
	| 'frag-needed'
	/** No route, host or network unreachable, TTL exceeded: not a size problem. */
	| 'unreachable'
	/** This ping lacks an option the check needs (BusyBox ping has no -M). */
	| 'unsupported'
	/** ping may not open its socket as this user. */
	| 'not-permitted';

export interface PingRun {
	outcome: PingOutcome;
	/** From `N packets transmitted, M received`; null when ping stopped before its statistics. */
	transmitted: number | null;
	received: number | null;
	/** `+N errors` of the statistics line. */
	errors: number;
	/** The MTU a too-big error named. */
	mtu: number | null;
	/** Who sent the ICMP error (a router, or the target). */
	from: string | null;
	/** The deciding line, trimmed: the error, or the statistics line. */
	detail: string;
	/** `sendmsg: No buffer space available`: the next device dropped it (a veth peer with a smaller MTU). */
	noBufferSpace: boolean;
	/** For `unsupported`: the option this ping refused, e.g. `M`. */
	option: string | null;
}

// `1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms` (iputils);
// `1 packets transmitted, 0 packets received, 100% packet loss` (BusyBox).
const STATS_RE =
	/^(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+(\d+) duplicates)?(?:, \+(\d+) corrupted)?(?:, \+(\d+) errors)?, [\d.]+% packet loss/;
// `1478 bytes from 198.19.250.2: icmp_seq=1 ttl=64 time=0.540 ms`; `8 bytes from X: icmp_seq=1 ttl=63`;
// wheezy-era `icmp_req=1`; BusyBox `seq=0`.
const REPLY_RE = /^\d+ bytes from \S+.*\b(?:icmp_seq|icmp_req|seq)=\d+/;
// `ping: local error: message too long, mtu=1500` (IPv4), `..., mtu: 1400` (IPv6 since iputils 2021),
// `Message too long` (iputils 2016 and older).
const LOCAL_RE = /^\S*ping6?: local error: message too long, mtu[=:]\s*(\d+)\s*$/i;
// Newer iputils when sendmsg itself fails with EMSGSIZE: `ping: sendmsg: Message too long`.
const SENDMSG_TOO_LONG_RE = /^\S*ping6?: (?:sendmsg|sendto): message too long\s*$/i;
// `From 198.19.251.254 icmp_seq=1 Frag needed and DF set (mtu = 1400)`; `From p (p.p.p.p) icmp_seq=1 ...`.
const FRAG_RE = /^From (\S+)(?: \(([^)]*)\))? icmp_seq=\d+ Frag needed and DF set \(mtu = (\d+)\)\s*$/;
// `From 2001:db8:1::fe icmp_seq=1 Packet too big: mtu=1400`.
const PTB_RE = /^From (\S+)(?: \(([^)]*)\))? icmp_seq=\d+ Packet too big: mtu=(\d+)\s*$/;
// `From 198.19.251.254 icmp_seq=1 Destination Net Unreachable`; `... Destination unreachable: No route`.
const UNREACH_RE =
	/^From (\S+)(?: \(([^)]*)\))? icmp_seq=\d+ ((?:Destination \S.*)|Packet filtered|Time to live exceeded|Source Route Failed|Precedence (?:Violation|Cutoff))\s*$/;
// `ping: connect: Network is unreachable` (exit 2, no statistics).
const CONNECT_UNREACH_RE = /^\S*ping6?: (?:connect|sendmsg|sendto): (?:Network is unreachable|No route to host|Host is unreachable)\s*$/;
const ENOBUFS_RE = /^\S*ping6?: (?:sendmsg|sendto): No buffer space available\s*$/;
// `ping: socket: Operation not permitted`, `ping: => missing cap_net_raw+p capability or setuid?`.
const NOT_PERMITTED_RE = /^\S*ping6?: (?:socket: (?:Operation not permitted|Permission denied)|=> missing cap_net_raw)/;
// getopt: `ping: invalid option -- 'M'` (glibc, BusyBox), `ping: unrecognized option '--foo'`.
const UNSUPPORTED_RE = /^\S*ping6?: (?:invalid option -- '?([^'\s]+)'?|unrecognized option '?([^'\s]+)'?)\s*$/;

/**
 * One `ping -c 1` run, stdout then stderr, e.g.
 * `PING 198.19.250.2 (198.19.250.2) 1472(1500) bytes of data.` ... `1 packets transmitted, 0 received, 100% packet loss, time 0ms`.
 * Not understood: no statistics line and no error that decides on its own (cut output, a
 * translated ping), replies counted but not printed, errors counted but none printed.
 */
export function parsePing(text: string): Parsed<PingRun> {
	const lines = text.split('\n').map((l) => l.trim());
	let stats: { line: number; transmitted: number; received: number; errors: number } | null = null;
	let replies = 0;
	let firstReply: number | null = null;
	let local: { line: number; mtu: number | null } | null = null;
	let frag: { line: number; mtu: number; from: string } | null = null;
	let unreach: { line: number; from: string | null; what: string } | null = null;
	let enobufs: number | null = null;
	let notPermitted: number | null = null;
	let unsupported: { line: number; option: string } | null = null;

	lines.forEach((l, i) => {
		const n = i + 1;
		let m: RegExpExecArray | null;
		if ((m = STATS_RE.exec(l))) {
			stats ??= { line: n, transmitted: Number(m[1]), received: Number(m[2]), errors: Number(m[5] ?? 0) };
		} else if (REPLY_RE.test(l)) {
			replies++;
			firstReply ??= n;
		} else if ((m = LOCAL_RE.exec(l))) {
			local ??= { line: n, mtu: Number(m[1]) };
		} else if (SENDMSG_TOO_LONG_RE.test(l)) {
			local ??= { line: n, mtu: null };
		} else if ((m = FRAG_RE.exec(l) ?? PTB_RE.exec(l))) {
			frag ??= { line: n, mtu: Number(m[3]), from: m[2] || m[1]! };
		} else if ((m = UNREACH_RE.exec(l))) {
			unreach ??= { line: n, from: m[2] || m[1]!, what: m[3]! };
		} else if (CONNECT_UNREACH_RE.test(l)) {
			unreach ??= { line: n, from: null, what: l };
		} else if (ENOBUFS_RE.test(l)) {
			enobufs ??= n;
		} else if (NOT_PERMITTED_RE.test(l)) {
			notPermitted ??= n;
		} else if ((m = UNSUPPORTED_RE.exec(l))) {
			unsupported ??= { line: n, option: (m[1] ?? m[2])! };
		}
	});

	const base = (over: Partial<PingRun> & Pick<PingRun, 'outcome' | 'detail'>): PingRun => ({
		transmitted: stats?.transmitted ?? null,
		received: stats?.received ?? null,
		errors: stats?.errors ?? 0,
		mtu: null,
		from: null,
		noBufferSpace: enobufs !== null,
		option: null,
		...over,
	});
	const at = (...ns: (number | null | undefined)[]) =>
		[...new Set(ns.filter((n): n is number => typeof n === 'number'))].sort((a, b) => a - b);
	const line = (n: number) => lines[n - 1]!;
	// TypeScript does not follow assignments made inside the forEach callback.
	const s = stats as { line: number; transmitted: number; received: number; errors: number } | null;
	const lo = local as { line: number; mtu: number | null } | null;
	const fr = frag as { line: number; mtu: number; from: string } | null;
	const un = unreach as { line: number; from: string | null; what: string } | null;
	const us = unsupported as { line: number; option: string } | null;

	if (us) return parsed(base({ outcome: 'unsupported', detail: line(us.line), option: us.option }), [us.line]);
	if (notPermitted !== null) return parsed(base({ outcome: 'not-permitted', detail: line(notPermitted) }), [notPermitted]);
	if (fr && fr.mtu >= 68 && fr.mtu <= 65535)
		return parsed(base({ outcome: 'frag-needed', detail: line(fr.line), mtu: fr.mtu, from: fr.from }), at(fr.line, lo?.line, s?.line));
	if (lo && (lo.mtu === null || (lo.mtu >= 68 && lo.mtu <= 65535)))
		return parsed(base({ outcome: 'local-too-big', detail: line(lo.line), mtu: lo.mtu }), at(lo.line, s?.line));
	if (!s) {
		if (un && un.from === null) return parsed(base({ outcome: 'unreachable', detail: line(un.line) }), [un.line]);
		return notUnderstood(
			'no "N packets transmitted, M received" statistics line: the output was cut, or this ping prints another language or format',
		);
	}
	if (s.received > s.transmitted) return notUnderstood(`${s.received} received of ${s.transmitted} transmitted`);
	if (s.received > 0 && replies === 0) return notUnderstood(`the statistics count ${s.received} received, but no reply line was printed`);
	if (s.received > 0) return parsed(base({ outcome: 'reply', detail: line(s.line) }), at(firstReply, s.line));
	if (un) return parsed(base({ outcome: 'unreachable', detail: line(un.line), from: un.from }), at(un.line, s.line));
	if (s.errors > 0) return notUnderstood(`ping counted ${s.errors} error(s) but printed none the check recognizes`);
	return parsed(base({ outcome: 'lost', detail: line(s.line) }), at(enobufs, s.line));
}

/** What `ip route get TARGET` says (the shared parser): the egress device and any learned path MTU. */
export type RouteInfo = RouteGet;
export { parseRouteGet };

/** `/sys/class/net/DEV/mtu`: one integer and a newline, e.g. `1500`. */
export function parseMtu(text: string): Parsed<number> {
	const m = /^(\d{2,5})\n$/.exec(text);
	if (!m) return notUnderstood('not one integer on one line');
	const n = Number(m[1]);
	if (n < 68 || n > 65536) return notUnderstood(`${n} is not an MTU`);
	return parsed(n, [1]);
}

// --- observation and verdict -------------------------------------------------------------------

/** One size and what became of it (after its retry, if it was lost the first time). */
export interface Attempt {
	size: number;
	run: PingRun;
	/** 1, or 2 when the first try got no reply and was repeated. */
	tries: number;
	evidence: Evidence;
}

export interface Observation {
	target: string;
	family: Family;
	/** Largest size that got a reply; null when none did. */
	maxPayload: number | null;
	/** Smallest size known not to fit (probed, or above an MTU a too-big error named). */
	minFailing: number | null;
	/** The failure that bounds the path: the attempt at `minFailing`, or the one whose MTU set it. */
	limit: Attempt | null;
	/** The first attempt, at the size that fills `expectMtu` (its repeat, when that failed). */
	first: Attempt;
	/** The full-size ping was answered once, then refused when repeated. */
	answeredOnce: boolean;
	/** Ping runs, retries included. */
	probes: number;
	/** Every size in order with its outcome, e.g. `1472 lost`. */
	tried: string[];
	/** For a local "message too long": the route and the egress interface's MTU. */
	route: RouteInfo | null;
	ifaceMtu: number | null;
	evidence: Evidence[];
}

export type FailureMode = 'local-too-big' | 'frag-needed' | 'black-hole' | 'none';

function failureModeOf(obs: Observation): FailureMode {
	const limit = obs.limit;
	if (!limit) return 'none';
	if (limit.run.outcome === 'frag-needed') return 'frag-needed';
	if (limit.run.outcome === 'local-too-big') {
		// The kernel answers "message too long" from a PMTU a router taught it earlier, too.
		if (obs.route?.expiresSec != null && obs.route.mtu === limit.run.mtu) return 'frag-needed';
		return 'local-too-big';
	}
	return 'black-hole';
}

function explainShortfall(shortBy: number, pathMtu: number, expected: number): { text: string; next: NextStep } {
	const known = SHORTFALLS[shortBy];
	if (known) return { text: `${shortBy} bytes short is ${known.cause}.`, next: known.next };
	if (pathMtu === 1500 && expected > 1500)
		return {
			text: `A link on the path is still at the standard 1500: jumbo frames are not enabled end to end.`,
			next: '#check-the-mtu-of-every-link-on-the-path',
		};
	return {
		text: `${shortBy} bytes short matches no known overhead (2 USB trailer, 4 VLAN, 8 PPPoE, 24 GRE, 38/42 gretap, 50/54/70 VXLAN): compare the MTU of every link on the path.`,
		next: '#check-the-mtu-of-every-link-on-the-path',
	};
}

/** Judge the observation. Pure; every threshold is here or in the constants above. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const headers = HEADERS[obs.family];
	const expected = params.expectMtu;
	const top = expected - headers;
	const mode = failureModeOf(obs);
	const measuredAny = obs.maxPayload !== null;
	const facts: Facts = {
		target: obs.target,
		family: obs.family,
		expectedMtu: expected,
		maxPayload: obs.maxPayload,
		pathMtu: obs.maxPayload === null ? null : obs.maxPayload + headers,
		shortBy: null,
		failureMode: measuredAny ? mode : null,
		probes: obs.probes,
		tried: obs.tried,
		reportedMtu: obs.limit?.run.mtu ?? null,
		reportedBy: obs.limit?.run.from ?? null,
		egressDev: obs.route?.dev ?? null,
		egressMtu: obs.ifaceMtu,
	};
	const extras = { evidence: obs.evidence, facts };
	const ping = (size: number) => `ping ${obs.family === 'ipv6' ? '-6 ' : ''}-M do -s ${size}`;

	if (obs.maxPayload === null) {
		return error(
			'CommandFailed',
			`${obs.target} did not answer even the smallest ping (${ping(0)}, ${headers} bytes): ${describeFailure(obs.limit ?? obs.first)} A path MTU cannot be measured to a target that does not answer ping; no MTU is reported.`,
			{
				...extras,
				next: '#measure-the-path-mtu',
				hint: 'Check the address, that the target is up, and that ICMP echo is allowed to it; then measure against a host that answers ping on the far side of the suspect link.',
			},
		);
	}

	const pathMtu = obs.maxPayload + headers;
	if (obs.maxPayload >= top) {
		facts.shortBy = 0;
		return pass(
			`A ${expected}-byte packet with Don't Fragment reaches ${obs.target} (${ping(top)} answered): the path carries the expected MTU ${expected}.`,
			{
				...extras,
				next: '#if-the-path-is-clean',
			},
		);
	}

	const shortBy = expected - pathMtu;
	facts.shortBy = shortBy;
	const limit = obs.limit!;
	const exact = obs.minFailing === obs.maxPayload + 1;
	// The bound is either a size that was tried, or one above the MTU a too-big error named.
	const bound =
		exact && limit.size === obs.minFailing ? `${ping(obs.maxPayload + 1)} is not` : `anything larger is refused (mtu ${limit.run.mtu})`;
	const measured = exact
		? `The path MTU to ${obs.target} is ${pathMtu}, ${shortBy} bytes short of ${expected}: ${ping(obs.maxPayload)} is answered, ${bound}.`
		: `The path MTU to ${obs.target} is at least ${pathMtu} and below ${(obs.minFailing ?? top) + headers}, short of ${expected}: the search stopped after ${obs.tried.length} sizes.`;
	const explained = explainShortfall(shortBy, pathMtu, expected);

	let why = explained.text;
	let how: string;
	let fix: string[] | undefined;
	let next: NextStep = explained.next;
	if (mode === 'black-hole') {
		how = `Larger packets vanish without any error${limit.run.outcome === 'unreachable' ? ` (only "${limit.run.detail}")` : ''}: a black hole, the dangerous kind. No ICMP "Frag needed" (IPv6 "Packet too big") comes back, so Path MTU Discovery cannot repair it and TCP stalls as soon as a full-size segment is sent (SSH logs in, then hangs).`;
		if (limit.run.noBufferSpace)
			how += ' ("sendmsg: No buffer space available": the next device on this host dropped it, as a veth peer with a smaller MTU does.)';
	} else if (mode === 'frag-needed') {
		const by =
			limit.run.outcome === 'frag-needed'
				? `${limit.run.from ?? 'A hop'} answers "${limit.run.detail.replace(/^From \S+(?: \([^)]*\))? icmp_seq=\d+ /, '')}"`
				: `This host already learned MTU ${limit.run.mtu} for ${obs.target} (the route cache entry expires in ${obs.route?.expiresSec}s), from a router's "Frag needed" or from a tunnel device that found its underlay too small`;
		how = `${by}: Path MTU Discovery works, so TCP adapts, but anything that filters ICMP or sends UDP with DF set still breaks.`;
	} else {
		const dev = obs.route?.dev;
		const known = SHORTFALLS[shortBy];
		// The host's own setting: a known overhead means it may be lowered on purpose (a VM inside an overlay).
		why = known
			? `${shortBy} bytes is ${known.cause.replace(/: .*$/, '')}; if the MTU was lowered on purpose for that (a tunnel, PPPoE, the MTU 1498 stopgap), it is right and expectMtu should be ${pathMtu}.`
			: '';
		next = '#check-the-mtu-of-every-link-on-the-path';
		if (dev !== undefined && obs.ifaceMtu !== null && obs.ifaceMtu === limit.run.mtu) {
			how = `This host refuses to send it ("${limit.run.detail}"): its own interface ${dev} has MTU ${obs.ifaceMtu}, lower than ${expected}. The host itself is set lower; the network beyond it was not measured above that.`;
			if (!known) fix = [`ip link set dev ${dev} mtu ${expected}`];
		} else if (obs.route?.mtu != null && obs.route.mtu === limit.run.mtu) {
			how = `This host refuses to send it ("${limit.run.detail}"): the route to ${obs.target} carries mtu ${obs.route.mtu}. The host itself is set lower; the network beyond it was not measured above that.`;
		} else {
			how = `This host refuses to send it ("${limit.run.detail}")${dev ? `; ${dev} has MTU ${obs.ifaceMtu ?? 'unknown'}` : ''}: the limit is on this host's side of the path.`;
		}
	}
	const once = obs.answeredOnce
		? `The first ${ping(top)} was answered and the repeat refused: a tunnel that fragments its outer packet carried the first one, then the kernel learned the smaller MTU (a VXLAN created without dev does this).`
		: '';
	return fail([measured, why, how, once].filter(Boolean).join(' '), { ...extras, next, ...(fix ? { fix } : {}) });
}

function describeFailure(a: Attempt): string {
	const r = a.run;
	if (r.outcome === 'unreachable') return `"${r.detail}".`;
	if (r.outcome === 'lost') return `no reply${a.tries > 1 ? ` in ${a.tries} tries` : ''}.`;
	return `"${r.detail}".`;
}

// --- run ---------------------------------------------------------------------------------------

/** One ping run at `size`, parsed and added to `evidence`, or stop with the error that says why it cannot be judged. */
async function pingOnce(ctx: Ctx, target: string, size: number, evidence: Evidence[]): Promise<{ run: PingRun; evidence: Evidence }> {
	const probe = pingProbe(target, size, `a ${size}-byte ping that may not be fragmented`);
	const r = await ctx.exec(probe.argv, { timeoutMs: PING_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	const cmd = probe.argv.join(' ');
	if (r.code === 127) {
		evidence.push(evidenceOf(probe, output, [], { code: r.code }));
		throw new Undecided(error('CommandMissing', `${notInstalled('ping')}. Install ${packageOf('ping')}.`, { evidence }));
	}
	if (r.truncated) {
		evidence.push(evidenceOf(probe, output, [], { code: r.code, truncated: true }));
		throw new Undecided(cutByTransport(cmd, { evidence }));
	}
	const p = parsePing(output);
	const ev = evidenceOf(probe, output, p.ok ? p.lines : [], { code: r.code });
	evidence.push(ev);
	if (!p.ok) {
		const code = r.code === 0 || r.code === 1 ? codeForOutput(output) : 'CommandFailed';
		throw new Undecided(error(code, `\`${cmd}\` (exit ${r.code ?? 'by a signal'}): ${p.reason}.`, { evidence }));
	}
	const run = p.value;
	if (run.outcome === 'unsupported') {
		const summary =
			run.option === '6'
				? `This ping has no -6 option ("${run.detail}"): older iputils ship IPv6 ping as a separate \`ping6\`. The check cannot measure an IPv6 path with it.`
				: `This ping does not know -${run.option} ("${run.detail}")${/BusyBox/.test(output) ? ": it is BusyBox ping, which cannot set Don't Fragment" : ''}. A path MTU cannot be measured without Don't Fragment: larger pings would be fragmented and answered.`;
		throw new Undecided(
			error('CommandMissing', summary, {
				evidence,
				hint:
					run.option === '6'
						? `Run \`ping6 -M do -s SIZE -c 1 -W 1 -n ${target}\` by hand, or install a newer ${packageOf('ping')}.`
						: `Install ${packageOf('ping')} (the iputils ping has -M do), or run the step by hand from a host that has it.`,
			}),
		);
	}
	if (run.outcome === 'not-permitted') {
		throw new Undecided(
			error('PermissionDenied', `ping may not open its socket as this user ("${run.detail}").`, {
				evidence,
				hint: 'Connect as root, give ping cap_net_raw (`setcap cap_net_raw+p /usr/bin/ping`), or widen net.ipv4.ping_group_range; or run the step by hand with sudo.',
			}),
		);
	}
	return { run, evidence: ev };
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const { target } = params;
	const family = familyOf(target);
	const headers = HEADERS[family];
	const top = params.expectMtu - headers;
	const evidence: Evidence[] = [];
	const runEvidence: Evidence[] = [];
	const attempts = new Map<number, Attempt>();
	const tried: string[] = [];
	let probes = 0;
	// Largest size answered, smallest size known not to fit.
	let lo = -1;
	let hi = top + 1;
	let limit: Attempt | null = null;
	const hints: number[] = [];

	const attempt = async (size: number): Promise<Attempt> => {
		let tries = 0;
		let got: { run: PingRun; evidence: Evidence };
		do {
			tries++;
			probes++;
			got = await pingOnce(ctx, target, size, runEvidence);
			ctx.progress(`ping -s ${size}: ${got.run.outcome}${tries > 1 ? ' (retry)' : ''}`, Math.min(0.95, attempts.size / MAX_SIZES));
		} while (got.run.outcome === 'lost' && tries < 2);
		const a: Attempt = { size, run: got.run, tries, evidence: got.evidence };
		attempts.set(size, a);
		tried.push(`${size} ${got.run.outcome}${tries > 1 ? ' x2' : ''}`);
		return a;
	};

	const record = (a: Attempt) => {
		if (a.run.outcome === 'reply') {
			lo = Math.max(lo, a.size);
			return;
		}
		if (a.size < hi) {
			hi = a.size;
			limit = a;
		}
		const named = a.run.mtu !== null ? a.run.mtu - headers : null;
		if (a.run.outcome === 'frag-needed' || a.run.outcome === 'local-too-big') {
			// Anything above the MTU the error names cannot pass that hop either.
			if (named !== null && named >= 0 && named + 1 < hi && named + 1 > lo) {
				hi = named + 1;
				limit = a;
			}
			if (named !== null && named >= 0) hints.push(named);
		} else if (a.run.outcome === 'lost' && a.size === top) {
			hints.push(top - 2);
		}
		// Unreachable says nothing about size: find out whether anything gets through at all.
		if (a.run.outcome === 'unreachable') hints.push(0);
	};

	let first = await attempt(top);
	// A tunnel that fragments its outer packet carries the first full-size packet, then the kernel
	// refuses the rest (a VXLAN created without `dev`, DOMAIN.md section 7): a full-size reply is
	// repeated, and a refusal then wins. A repeat that is merely lost proves nothing: the size fit once.
	let answeredOnce: Attempt | null = null;
	if (first.run.outcome === 'reply') {
		attempts.delete(top);
		const again = await attempt(top);
		if (again.run.outcome === 'local-too-big' || again.run.outcome === 'frag-needed') {
			answeredOnce = first;
			first = again;
		} else {
			attempts.set(top, first);
		}
	}
	record(first);
	while (hi - lo > 1 && attempts.size < MAX_SIZES) {
		let size: number | undefined;
		while (hints.length > 0 && size === undefined) {
			const h = hints.shift()!;
			if (h > lo && h < hi && !attempts.has(h)) size = h;
		}
		// Without any size answered yet, make sure the target answers at all before bisecting.
		size ??= lo < 0 && !attempts.has(0) ? 0 : Math.floor((lo + hi) / 2);
		if (size <= lo || size >= hi || attempts.has(size)) break;
		const a = await attempt(size);
		record(a);
		// Nothing at all came back at size 0: no point bisecting below the failure.
		if (size === 0 && a.run.outcome !== 'reply') break;
	}

	const bounding = limit as Attempt | null;
	let route: RouteInfo | null = null;
	let ifaceMtu: number | null = null;
	if (bounding && bounding.run.outcome === 'local-too-big' && lo >= 0) {
		ctx.progress('asking the kernel about the route', 0.97);
		({ route, ifaceMtu } = await observeRoute(ctx, target, evidence));
	}

	// Evidence: how the full-size packet fared, the largest answered and the bounding failure.
	const keep = new Set<Evidence>([first.evidence]);
	if (answeredOnce) keep.add(answeredOnce.evidence);
	if (lo >= 0) keep.add(attempts.get(lo)!.evidence);
	if (bounding) keep.add(bounding.evidence);
	const kept = runEvidence.filter((e) => keep.has(e));
	return {
		target,
		family,
		maxPayload: lo >= 0 ? lo : null,
		minFailing: hi <= top ? hi : null,
		limit: bounding,
		first,
		answeredOnce: answeredOnce !== null,
		probes,
		tried,
		route,
		ifaceMtu,
		evidence: [...kept, ...evidence],
	};
}

/** `ip route get` and the egress MTU; a host without `ip` just tells less. */
async function observeRoute(ctx: Ctx, target: string, evidence: Evidence[]): Promise<{ route: RouteInfo | null; ifaceMtu: number | null }> {
	const probe = routeProbe(target);
	const r = await ctx.exec(probe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	const p = r.code === 0 ? parseRouteGet(r.stdout) : notUnderstood(`exit ${r.code}`);
	evidence.push(evidenceOf(probe, output, p.ok ? p.lines : [], { code: r.code }));
	if (!p.ok) return { route: null, ifaceMtu: null };
	const mp = mtuProbe(p.value.dev);
	const text = await ctx.read(mp.path).catch(() => null);
	const m = text === null ? notUnderstood('unreadable') : parseMtu(text);
	evidence.push(evidenceOf(mp, text ?? '', m.ok ? m.lines : []));
	return { route: p.value, ifaceMtu: m.ok ? m.value : null };
}

export default defineCheck({
	id: 'net.path-mtu',
	title: "Path MTU to a target, measured with Don't-Fragment pings",
	description:
		'Finds the largest packet that reaches a target with Don\'t Fragment set (ping -M do, a bounded binary search, one retry per lost size), compares it with the expected MTU, says how too-large packets fail (a local "message too long", a router\'s "Frag needed", or a silent black hole) and what a shortfall of 2, 4, 8, 24, 38/42 or 50/54/70 bytes points to.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [
		'#if-the-path-is-clean',
		'#check-the-mtu-of-every-link-on-the-path',
		'#measure-the-path-mtu',
		'usb-nic-trailer#find-the-usb-nic-and-its-driver',
		'overlay-mtu#fix-the-overlay-mtu',
	],
	params: ParamsSchema,
	probes(params) {
		const top = params.expectMtu - HEADERS[familyOf(params.target)];
		return [
			pingProbe(params.target, top, `a full ${params.expectMtu}-byte packet with Don't Fragment (${top} bytes of payload)`),
			pingProbe(params.target, 'SIZE', `if it fails: a bounded search over SIZE (at most ${MAX_SIZES} sizes, a lost size tried twice)`),
			routeProbe(params.target),
			mtuProbe('DEV'),
		];
	},
	run(ctx, params) {
		return decide(async () => evaluate(await observe(ctx, params), params), '#measure-the-path-mtu');
	},
});
