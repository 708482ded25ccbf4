/**
 * capture.frame-trailer: do frames arriving on this NIC carry bytes after the IP datagram?
 *
 * Failure (DOMAIN.md section 1): the ax88179_178a driver (ASIX AX88179/AX88178A USB NICs) before
 * upstream commit e869e7a17798 (v5.8; stable 5.7.7, 4.9.229) left 2 bytes of its RX pseudo-header at
 * the end of every received frame. A 1500-byte IP packet then arrives as a 1516-byte frame, which the
 * OVS kernel datapath ("dropped over-mtu packet"), OVS-DPDK and physical switches drop as oversized:
 * small packets pass, full-size ones vanish ("ping works, SSH hangs").
 *
 * Runs `timeout SECONDS tcpdump -p -e -nn -vv -l -c COUNT -i IFACE FILTER` and reads
 * /sys/class/net/IFACE/address (the NIC's own MAC tells the frames it sent from those it received).
 * `timeout` (coreutils) bounds the capture because tcpdump has no duration flag; its exit 124 is the
 * normal end of a quiet capture. `-p` leaves the NIC's promiscuous mode alone, so the check changes
 * nothing on the host; a bridge port is promiscuous anyway and still shows its bridged traffic.
 *
 * Thresholds, all in `evaluate`:
 * - trailer = frame length (tcpdump's `length N`, FCS excluded) - 14 (ETH_HLEN) - 4 per 802.1Q tag
 *   shown (VLAN_HLEN) - IP datagram length (IPv4 total length, IPv6 payload length + 40). A correct
 *   frame adds up to exactly 0.
 * - Only frames whose datagram + 14 is at least 60 bytes (ETH_ZLEN, include/uapi/linux/if_ether.h)
 *   are judged: shorter ones are padded to 60 on the wire, so their extra bytes are legitimate
 *   padding. Tagged frames use the same rule, because a sender may pad to 60 before the tag is
 *   inserted.
 * - Any judged frame with a trailer > 0 is `fail`: 2 bytes is the ax88179_178a signature, 4 an FCS
 *   the NIC kept (`rx-fcs on`) or a tag tcpdump did not show, other sizes a device on the path that
 *   appends its own trailer. Frames shorter than their datagram (< 0) cannot be explained: `warn`.
 * - No judged frame at all (an idle link, or only small packets) is `error`: nothing was measured,
 *   so the reader is told to generate full-size traffic.
 *
 * Serves content/runbooks/usb-nic-trailer.mdx, step "Prove the 2 extra bytes with a capture".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	InterfaceName,
	notUnderstood,
	parsed,
	pass,
	skip,
	warn,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { isRunbookError, type ErrorCode } from '../../src/core/errors.ts';
import { firstLine, linesOf } from '../../src/core/parse/text.ts';
import { codeForOutput, installHint } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The NIC to capture on: the USB NIC itself (e.g. `enx00e04c680001`), or the bridge port its
	 * traffic enters by. Frames are judged as this host receives them, so it must be the receiving side.
	 */
	iface: InterfaceName.describe('the NIC to capture on: the USB NIC, or the port its traffic enters by'),
	/** Stop after this many IPv4/IPv6 frames (tcpdump `-c`). 50 is plenty on a link that carries full-size traffic. */
	count: z.number().int().min(1).max(1000).default(50).describe('stop after this many IP frames (tcpdump -c), 1-1000'),
	/** Stop after this many seconds even if fewer frames came (coreutils `timeout`), so a quiet link cannot hang the check. */
	seconds: z.number().int().min(1).max(120).default(10).describe('stop capturing after this many seconds, 1-120'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds and constants ------------------------------------------------------------------

/** Ethernet header without tag (ETH_HLEN). */
export const ETH_HLEN = 14;
/** One 802.1Q/802.1ad tag (VLAN_HLEN). */
export const VLAN_HLEN = 4;
/** Shortest frame on the wire without FCS (ETH_ZLEN): anything shorter is padded up to it. */
export const ETH_ZLEN = 60;
/** The trailer the ax88179_178a RX bug leaves on every received frame. */
export const AX88179_TRAILER = 2;
/** IPv4 and IPv6, untagged or behind one 802.1Q tag. */
export const CAPTURE_FILTER = 'ip or ip6 or (vlan and (ip or ip6))';
/** Time past `seconds` for tcpdump to start, print its summary and the transport to return. */
const EXEC_GRACE_MS = 15_000;
/** Highlighted lines per verdict, so a busy capture does not flood the page. */
const MAX_HIGHLIGHTS = 40;

const NEXT_FIX = '#fix-a-kernel-with-the-ax88179_178a-fix';
const NEXT_WHY = '#why-2-bytes-break-full-size-frames';
const NEXT_AFTER_PASS = '#check-the-mtu-of-every-link-on-the-path';
const NEXT_BY_HAND = '#prove-the-2-extra-bytes-with-a-capture';

// --- probes ------------------------------------------------------------------------------------

export function addressProbe(iface: string): ReadProbe {
	return { kind: 'read', path: `/sys/class/net/${iface}/address`, why: "the NIC's own MAC: frames from it were sent, not received" };
}

export function captureProbe(params: Params): ExecProbe {
	return {
		kind: 'exec',
		argv: [
			'timeout',
			String(params.seconds),
			'tcpdump',
			'-p',
			'-e',
			'-nn',
			'-vv',
			'-l',
			'-c',
			String(params.count),
			'-i',
			params.iface,
			CAPTURE_FILTER,
		],
		why: `up to ${params.count} IP frames or ${params.seconds} s: each frame's length, its VLAN tags and the IP datagram length`,
		timeoutMs: params.seconds * 1000 + EXEC_GRACE_MS,
	};
}

// --- parsers -----------------------------------------------------------------------------------

/** `/sys/class/net/IFACE/address`: one MAC and a newline, e.g. `8a:06:16:25:17:94`. */
export function parseMacAddress(text: string): Parsed<string> {
	const m = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5})\n$/.exec(text);
	if (!m) return notUnderstood(`expected a MAC address such as 8a:06:16:25:17:94, got ${JSON.stringify(text.slice(0, 80))}`);
	return parsed(m[1]!, [1]);
}

export interface CapturedFrame {
	/** 1-based line of the record's first line. */
	line: number;
	src: string;
	dst: string;
	/** tcpdump's `length N`: the whole frame without FCS, tags included. */
	frameLength: number;
	/** 802.1Q / 802.1ad tags shown (`vlan N, p P, ...`). */
	vlanTags: number;
	family: 'IPv4' | 'IPv6';
	/** The datagram: IPv4 total length, or IPv6 payload length + 40. */
	ipLength: number;
	/** frameLength - 14 - 4 x vlanTags - ipLength; null when the frame may be padded (ipLength + 14 < 60). */
	trailer: number | null;
}

export interface CaptureStats {
	/** `N packets captured`: records tcpdump printed. */
	captured: number;
	/** `N packets received by filter`. */
	receivedByFilter: number | null;
	/** `N packets dropped by kernel`: the capture buffer overflowed. */
	droppedByKernel: number | null;
	/** `N packets dropped by interface`, printed by some tcpdump versions. */
	droppedByInterface: number | null;
	lines: number[];
}

export interface Capture {
	/** IPv4/IPv6 frames whose lengths were read. */
	frames: CapturedFrame[];
	/** Every record (timestamp, MACs, link header). */
	records: number;
	/** Records of other ethertypes (ARP, LLDP, 802.3). */
	notIp: number;
	/** Lines of IPv4/IPv6 records without a readable IP header (cut, malformed, or captured without -v). */
	undecoded: number[];
	/** From `listening on IFACE, link-type TYPE (...)`, when tcpdump printed it. */
	iface: string | null;
	linkType: string | null;
	listeningLine: number | null;
	stats: CaptureStats | null;
}

const TIMESTAMP = /^\s*\d\d:\d\d:\d\d\.\d{6,9} /;
/** `03:22:49.532634 22:f1:93:25:44:f5 > 8a:06:16:25:17:94, ethertype IPv4 (0x0800), length 1516: REST`; old tcpdump adds ` (oui Unknown)` after a MAC. */
const RECORD =
	/^(\d\d:\d\d:\d\d\.\d{6,9}) (\S+)(?: \(oui [^)]*\))? > (\S+?)(?: \(oui [^)]*\))?, (?:ethertype (\S+) \(0x([0-9a-f]{4})\)|802\.3), length (\d+):? ?(.*)$/;
/** `vlan 100, p 0, ethertype IPv4 (0x0800), REST`; before tcpdump 4.9 the inner ethertype has no hex (`ethertype IPv4, `). */
const VLAN = /^vlan (\d+), p (\d+)(?:, DEI)?, ethertype (\S+?)(?: \(0x([0-9a-f]{4})\))?, (.*)$/;
/**
 * `(tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 1428)`; tcpdump 4.0 wrote
 * `proto: ` and `length: `; a frame shorter than its datagram is prefixed `truncated-ip - 2 bytes missing! `.
 */
const IPV4 =
	/^(?:truncated-ip - \d+ bytes missing! )?\(tos 0x[0-9a-f]+(?:,[^,]*)?, ttl \d+, id \d+, offset \d+, flags \[[^\]]*\], proto:? .+? \(\d+\), length:? (\d+)/;
/** `(flowlabel 0x7c8c3, hlim 64, next-header UDP (17) payload length: 1208)`, prefixed `truncated-ip6 - N bytes missing! ` like IPv4. */
const IPV6 = /^(?:truncated-ip6 - \d+ bytes missing! ?)?\([^()]*?\bhlim \d+, next-header:? [^()]*?\(\d+\),? payload length:? (\d+)\)/;
const LISTENING = /^(?:tcpdump: )?listening on (\S+), link-type (\S+)(?: \([^)]*\))?, (?:snapshot length|capture size) \d+ bytes$/;
const STAT = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)$/;

const TAG_TYPES = new Set(['8100', '88a8', '9100']);
const isTag = (name: string, hex: string | undefined) => (hex !== undefined ? TAG_TYPES.has(hex) : /^802\.1Q/.test(name));
function familyOf(name: string, hex: string | undefined): 'IPv4' | 'IPv6' | null {
	if (hex === '0800' || (hex === undefined && name === 'IPv4')) return 'IPv4';
	if (hex === '86dd' || (hex === undefined && name === 'IPv6')) return 'IPv6';
	return null;
}

/**
 * tcpdump `-e -nn -vv` output, stdout and stderr joined. One record per frame, its first line
 * carrying everything measured here:
 * `03:22:49.532634 22:f1:93:25:44:f5 > 8a:06:16:25:17:94, ethertype IPv4 (0x0800), length 1516: (tos 0x0, ttl 64, id 64420, offset 0, flags [DF], proto TCP (6), length 1500)`.
 * Further lines of a record (addresses, TCP flags, hex, decapsulated inner frames) may start at
 * column 0 and carry lengths of their own; only the timestamped line is read. tcpdump's own lines
 * (`listening on ...`, `N packets captured` ...) are read for the link type and the summary.
 */
export function parseTcpdump(text: string): Parsed<Capture> {
	if (text.trim() === '') return notUnderstood('the capture is empty: tcpdump printed no record and no summary');
	if (!text.endsWith('\n')) return notUnderstood('the capture does not end with a newline, so it may have been cut');
	const capture: Capture = {
		frames: [],
		records: 0,
		notIp: 0,
		undecoded: [],
		iface: null,
		linkType: null,
		listeningLine: null,
		stats: null,
	};
	const stats: Partial<Record<string, { value: number; line: number }>> = {};
	let bare = 0;
	for (const [i, line] of linesOf(text).entries()) {
		const n = i + 1;
		const rec = RECORD.exec(line);
		if (rec) {
			capture.records++;
			const [, , src, dst, etherName, etherHex, len, firstRest] = rec;
			if (etherName === undefined) {
				capture.notIp++;
				continue;
			}
			let name = etherName;
			let hex: string | undefined = etherHex;
			let rest = firstRest!;
			let tags = 0;
			while (isTag(name, hex)) {
				const v = VLAN.exec(rest);
				if (!v) break;
				tags++;
				name = v[3]!;
				hex = v[4];
				rest = v[5]!;
			}
			const family = isTag(name, hex) ? null : familyOf(name, hex);
			if (family === null) {
				if (isTag(name, hex) || familyOf(etherName, etherHex) !== null) capture.undecoded.push(n);
				else capture.notIp++;
				continue;
			}
			const ip = (family === 'IPv4' ? IPV4 : IPV6).exec(rest);
			if (!ip) {
				capture.undecoded.push(n);
				continue;
			}
			const frameLength = Number(len);
			const ipLength = Number(ip[1]) + (family === 'IPv6' ? 40 : 0);
			const trailer = ipLength + ETH_HLEN >= ETH_ZLEN ? frameLength - ETH_HLEN - VLAN_HLEN * tags - ipLength : null;
			capture.frames.push({ line: n, src: src!, dst: dst!, frameLength, vlanTags: tags, family, ipLength, trailer });
			continue;
		}
		if (TIMESTAMP.test(line)) {
			bare++;
			continue;
		}
		const l = LISTENING.exec(line);
		if (l) {
			capture.iface = l[1]!;
			capture.linkType = l[2]!;
			capture.listeningLine = n;
			continue;
		}
		const s = STAT.exec(line);
		if (s) stats[s[2]!] = { value: Number(s[1]), line: n };
	}
	const captured = stats['captured'];
	if (captured) {
		capture.stats = {
			captured: captured.value,
			receivedByFilter: stats['received by filter']?.value ?? null,
			droppedByKernel: stats['dropped by kernel']?.value ?? null,
			droppedByInterface: stats['dropped by interface']?.value ?? null,
			lines: Object.values(stats)
				.map((x) => x!.line)
				.toSorted((a, b) => a - b),
		};
	}
	if (capture.records === 0 && bare > 0)
		return notUnderstood('the records show no Ethernet header (no MAC addresses, no `ethertype ..., length N`): captured without -e');
	if (capture.records === 0 && capture.listeningLine === null && capture.stats === null)
		return notUnderstood(
			`no tcpdump record, "listening on" line or packet summary: not tcpdump output (line 1: ${JSON.stringify(text.split('\n')[0]!.slice(0, 80))})`,
		);
	if (capture.frames.length === 0 && capture.undecoded.length > 0)
		return notUnderstood(
			`${capture.undecoded.length} IP frames, none with an IP header length (\`(tos ..., length M)\`): captured without -v`,
		);
	return parsed(capture, [...capture.frames.map((f) => f.line), ...(capture.stats?.lines ?? [])]);
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	capture: Capture;
	/** The NIC's own MAC; null when it could not be read (then direction is unknown). */
	ownMac: string | null;
	/** `count`: tcpdump stopped after `count` frames (exit 0); `time`: `timeout` stopped it (exit 124). */
	stoppedBy: 'count' | 'time';
	/** Carried into the verdict; the last entry is the capture, whose lines get highlighted. */
	evidence: Evidence[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What a trailer of this size usually is: one sentence for the summary. */
export function trailerMeaning(bytes: number): string {
	if (bytes === AX88179_TRAILER)
		return `${bytes} bytes is the signature of the ax88179_178a RX bug: ASIX AX88179/AX88178A USB NICs on kernels without commit e869e7a17798 turn a 1500-byte packet into a 1516-byte frame, which OVS and switches drop as oversized.`;
	if (bytes === 4)
		return `${bytes} bytes is usually the Ethernet FCS kept by the NIC (\`ethtool -k\` shows rx-fcs on) or a VLAN tag tcpdump did not show.`;
	return `${bytes} bytes is a trailer some device on the path appends (a monitoring tap, a timestamping switch), or a driver that miscounts the frame.`;
}

/** Judge the capture. Pure; every threshold is here or in the constants above. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const { capture, ownMac } = obs;
	const judged = capture.frames.filter((f) => f.trailer !== null);
	const small = capture.frames.length - judged.length;
	const sent = ownMac === null ? null : judged.filter((f) => f.src === ownMac).length;
	const received = sent === null ? null : judged.length - sent;
	const withTrailer = judged.filter((f) => f.trailer! > 0);
	const shorter = judged.filter((f) => f.trailer! < 0);
	const sizes = [...new Set(withTrailer.map((f) => f.trailer!))].toSorted((a, b) => a - b);
	const bySize = sizes
		.map((s) => ({ bytes: s, frames: withTrailer.filter((f) => f.trailer === s) }))
		.toSorted((a, b) => b.frames.length - a.frames.length);
	const dropped = capture.stats?.droppedByKernel ?? null;

	const facts: Facts = {
		iface: params.iface,
		count: params.count,
		seconds: params.seconds,
		stoppedBy: obs.stoppedBy,
		linkType: capture.linkType,
		framesCaptured: capture.records,
		framesJudged: judged.length,
		framesJudgedReceived: received,
		framesJudgedSent: sent,
		framesSmall: small,
		framesNotIp: capture.notIp,
		framesUndecoded: capture.undecoded.length,
		framesWithTrailer: withTrailer.length,
		framesShorterThanIp: shorter.length,
		trailerBytes: bySize[0]?.bytes ?? (judged.length > 0 && shorter.length === 0 ? 0 : null),
		trailerSizes: sizes,
		largestFrame: capture.frames.length > 0 ? Math.max(...capture.frames.map((f) => f.frameLength)) : null,
		vlanTaggedFrames: judged.filter((f) => f.vlanTags > 0).length,
		ownMac,
		packetsCaptured: capture.stats?.captured ?? null,
		packetsReceivedByFilter: capture.stats?.receivedByFilter ?? null,
		packetsDroppedByKernel: dropped,
	};
	const highlight = (frames: readonly CapturedFrame[]) => {
		const evidence = obs.evidence.map((e) => ({ ...e }));
		const last = evidence.at(-1);
		if (last) last.lines = frames.slice(0, MAX_HIGHLIGHTS).map((f) => f.line);
		return evidence;
	};
	const window =
		obs.stoppedBy === 'count'
			? `${plural(capture.records, 'frame')} captured (the ${params.count}-frame limit)`
			: `${plural(capture.records, 'frame')} in ${params.seconds} s`;
	const droppedNote = dropped
		? ` The kernel dropped ${plural(dropped, 'packet')} during the capture (buffer full); the frames shown are still exact.`
		: '';

	if (judged.length === 0) {
		const parts = [
			small > 0 ? `${small} shorter than ${ETH_ZLEN} bytes, which may be padding` : '',
			capture.notIp > 0 ? `${capture.notIp} not IP` : '',
			capture.undecoded.length > 0 ? `${capture.undecoded.length} without a readable IP header` : '',
		].filter(Boolean);
		const ev = highlight([]);
		const last = ev.at(-1);
		if (last) last.lines = capture.stats?.lines ?? [];
		const v = error(
			'OutputEmpty',
			`No full-size traffic seen on ${params.iface}: ${window}${parts.length ? `; ${parts.join('; ')}` : ''}; none long enough to measure. Generate some and run the check again: \`ping -c 5 -s 1400 <peer>\` to or from a host on the other side of ${params.iface}.`,
			{
				evidence: ev,
				facts,
				hint: `Full-size frames must cross ${params.iface} while the check captures: start \`ping -s 1400 <peer>\` (or copy a file) from a host behind ${params.iface}, then run the check.`,
			},
		);
		return { ...v, next: NEXT_BY_HAND };
	}

	const direction = received === null ? '' : ` (${received} received, ${sent} sent by ${params.iface} itself)`;
	if (withTrailer.length > 0) {
		const first = withTrailer[0]!;
		const tag = first.vlanTags > 0 ? ` - ${VLAN_HLEN * first.vlanTags}` : '';
		const example = `line ${first.line}: ${first.frameLength} - ${ETH_HLEN}${tag} - ${first.ipLength} = ${first.trailer}`;
		const main = bySize[0]!;
		const how =
			bySize.length === 1
				? `${plural(main.bytes, 'extra byte')}`
				: `extra bytes (${bySize.map((g) => `${g.frames.length} carry ${plural(g.bytes, 'byte')}`).join(', ')})`;
		return fail(
			`${withTrailer.length} of ${plural(judged.length, 'full-size frame')} on ${params.iface}${direction} carry ${how} after the IP datagram, e.g. ${example}. ${bySize.map((g) => trailerMeaning(g.bytes)).join(' ')}${droppedNote}`,
			{ evidence: highlight(withTrailer), facts, next: main.bytes === AX88179_TRAILER ? NEXT_FIX : NEXT_WHY },
		);
	}
	if (shorter.length > 0) {
		const first = shorter[0]!;
		return warn(
			`${shorter.length} of ${plural(judged.length, 'full-size frame')} on ${params.iface} are shorter than the IP datagram they carry (line ${first.line}: frame ${first.frameLength}, datagram ${first.ipLength}), which this check cannot explain; the others add up exactly. Read those lines by hand.${droppedNote}`,
			{ evidence: highlight(shorter), facts, next: NEXT_BY_HAND },
		);
	}
	if (received === 0) {
		const v = error(
			'OutputEmpty',
			`Every full-size frame seen on ${params.iface} (${judged.length}) was sent by ${params.iface} itself (source ${ownMac}); a trailer is added on receive, so nothing that matters was measured. Send full-size traffic towards this host, e.g. \`ping -c 5 -s 1400 <this host>\` from a peer behind ${params.iface}, and run the check again.`,
			{
				evidence: highlight(judged),
				facts,
				hint: `Full-size frames must arrive on ${params.iface} while the check captures: ping this host with \`-s 1400\` from a peer, then run the check.`,
			},
		);
		return { ...v, next: NEXT_BY_HAND };
	}
	return pass(
		`All ${plural(judged.length, 'full-size frame')} on ${params.iface}${direction} add up exactly (frame = ${ETH_HLEN} [+ ${VLAN_HLEN} per VLAN tag] + IP datagram): no trailing bytes; ${window}${small > 0 ? `, ${small} shorter than ${ETH_ZLEN} bytes not judged (they may be padded)` : ''}.${droppedNote}`,
		{ evidence: highlight(judged), facts, next: NEXT_AFTER_PASS },
	);
}

// --- run ---------------------------------------------------------------------------------------

/** stdout then stderr, as the reader would see them; stderr starts on its own line. */
function joinOutput(stdout: string, stderr: string): string {
	if (stdout === '' || stderr === '' || stdout.endsWith('\n')) return stdout + stderr;
	return `${stdout}\n${stderr}`;
}

function undecided(code: ErrorCode, summary: string, evidence: Evidence[], facts: Facts, hint?: string): Verdict {
	return { ...error(code, summary, { evidence, facts, ...(hint ? { hint } : {}) }), next: NEXT_BY_HAND };
}

/** A capture that did not start or did not end normally, as a verdict; null when it did. */
export function judgeExit(stdout: string, stderr: string, code: number | null, params: Params, evidence: Evidence[]): Verdict | null {
	const facts: Facts = { iface: params.iface, count: params.count, seconds: params.seconds, exitCode: code };
	const said = firstLine(stderr) || '(no error output)';
	if (code === 0 || code === 124) return null;
	if (code === 127) {
		if (/tcpdump/.test(stderr) || !/timeout/.test(stderr))
			return skip(
				`tcpdump is not installed on this host (or not on this user's PATH), so no capture can be taken: ${said}. Install it (Debian/Ubuntu: tcpdump; RHEL/CentOS: tcpdump) or capture by hand as the step shows.`,
				{
					evidence,
					facts,
					next: NEXT_BY_HAND,
				},
			);
		return undecided(
			'CommandMissing',
			`\`timeout\` is not available on this host (${said}); the check needs it to bound the capture.`,
			evidence,
			facts,
			installHint('timeout', 'run the capture by hand as the step shows'),
		);
	}
	if (code === 126 || /permission to (?:perform this )?capture|Operation not permitted|Permission denied/.test(stderr))
		return skip(
			`This user may not capture on ${params.iface}: ${said}. Run the check as root (or a user with CAP_NET_RAW), or capture by hand with sudo as the step shows.`,
			{
				evidence,
				facts,
				next: NEXT_BY_HAND,
			},
		);
	const linkType = /no VLAN support for (.+)$/m.exec(stderr)?.[1] ?? /^tcpdump: data link type (\S+)/m.exec(stderr)?.[1];
	if (linkType !== undefined)
		return skip(
			`${params.iface} is not an Ethernet interface (link type ${linkType}), so its frames have no Ethernet trailer to measure. Capture on the Ethernet NIC beneath it.`,
			{
				evidence,
				facts,
				next: NEXT_BY_HAND,
			},
		);
	if (/No such device/.test(stderr))
		return undecided(
			'CommandFailed',
			`There is no interface ${params.iface} on this host: ${said}`,
			evidence,
			facts,
			'List the interfaces with `ip -br link` and run the check with the name of the USB NIC.',
		);
	if (/That device is not up/.test(stderr))
		return undecided(
			'CommandFailed',
			`${params.iface} is down, so nothing can cross it: ${said}`,
			evidence,
			facts,
			`Bring it up (\`ip link set ${params.iface} up\`) or pick the NIC that carries the traffic.`,
		);
	return undecided('CommandFailed', `The capture failed (exit ${code ?? 'by a signal'}): ${said}`, evidence, facts);
}

export default defineCheck({
	id: 'capture.frame-trailer',
	title: 'Extra bytes after the IP datagram in captured frames',
	description:
		'Captures IP frames on a NIC with tcpdump -e -vv and checks that each frame of 60 bytes or more is exactly 14 bytes of Ethernet header (plus 4 per VLAN tag) plus the IP datagram. Fails when frames carry trailing bytes: 2 bytes on every received frame is the ax88179_178a USB NIC bug that makes full-size packets vanish.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [NEXT_FIX, NEXT_WHY, NEXT_AFTER_PASS, NEXT_BY_HAND],
	params: ParamsSchema,
	probes(params) {
		return [addressProbe(params.iface), captureProbe(params)];
	},
	async run(ctx, params) {
		const evidence: Evidence[] = [];
		const facts: Facts = { iface: params.iface, count: params.count, seconds: params.seconds };
		const address = addressProbe(params.iface);
		let ownMac: string | null = null;
		let addressText: string | null;
		try {
			addressText = await ctx.read(address.path);
		} catch (e) {
			// Direction is a refinement; without it every frame counts as received.
			if (!isRunbookError(e) || e.code !== 'PermissionDenied') throw e;
			addressText = '';
		}
		if (addressText === null) {
			evidence.push(evidenceOf(address, ''));
			return undecided(
				'CommandFailed',
				`There is no interface ${params.iface} on this host (${address.path} does not exist).`,
				evidence,
				facts,
				'List the interfaces with `ip -br link` and run the check with the name of the USB NIC.',
			);
		}
		const mac = parseMacAddress(addressText);
		if (mac.ok) ownMac = mac.value;
		evidence.push(evidenceOf(address, addressText, mac.ok ? mac.lines : []));

		const probe = captureProbe(params);
		ctx.progress(`capturing on ${params.iface}: up to ${params.count} frames or ${params.seconds} s`, 0.1);
		const r = await ctx.exec(probe.argv, { timeoutMs: probe.timeoutMs! });
		const output = joinOutput(r.stdout, r.stderr);
		evidence.push(evidenceOf(probe, output, [], { code: r.code, ...(r.truncated ? { truncated: true } : {}) }));

		const exit = judgeExit(r.stdout, r.stderr, r.code, params, evidence);
		if (exit) return exit;
		if (r.truncated)
			return undecided(
				'OutputTruncated',
				'The capture output was cut by the transport before its end.',
				evidence,
				facts,
				'Run the check with a smaller count, or capture by hand.',
			);
		if (r.stdout !== '' && !r.stdout.endsWith('\n'))
			return undecided(
				'OutputTruncated',
				'The capture output stops in the middle of a line, so its last frame may be cut.',
				evidence,
				facts,
			);

		const p = parseTcpdump(output);
		if (!p.ok) {
			return undecided(codeForOutput(output), `tcpdump's output was not understood: ${p.reason}.`, evidence, facts);
		}
		const capture = p.value;
		if (capture.linkType !== null && capture.linkType !== 'EN10MB')
			return skip(
				`${params.iface} is not an Ethernet interface (link type ${capture.linkType}), so its frames have no Ethernet trailer to measure. Capture on the Ethernet NIC beneath it.`,
				{
					evidence,
					facts: { ...facts, linkType: capture.linkType },
					next: NEXT_BY_HAND,
				},
			);
		if (capture.stats === null)
			return undecided(
				'OutputTruncated',
				'tcpdump printed no "packets captured" summary, so the capture did not end normally and may be incomplete.',
				evidence,
				facts,
			);
		if (capture.records < capture.stats.captured)
			return undecided(
				'OutputTruncated',
				`tcpdump says it captured ${capture.stats.captured} packets, but only ${capture.records} records are in its output.`,
				evidence,
				facts,
			);
		ctx.progress('measuring frames', 0.95);
		return evaluate({ capture, ownMac, stoppedBy: r.code === 0 ? 'count' : 'time', evidence }, params);
	},
});
