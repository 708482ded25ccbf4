/**
 * kernel.ufo-raw-socket: can a raw-socket UDP sender wedge this VM's virtio_net transmit queue
 * through UDP fragmentation offload (UFO)?
 *
 * Failure (DOMAIN.md section 2): in `__ip_append_data()` the UFO branch is taken for any socket whose
 * protocol is UDP, which includes a raw socket opened with IPPROTO_UDP. Weave's PMTU probe is exactly
 * that (`net.DialIP("ip4:UDP")`, ~60000-byte payload, sleeve mode). On CentOS/RHEL 7.0
 * (3.10.0-123.x) with virtio_net and UFO on, the malformed skb wedges the TX queue: no ARP, `ping:
 * sendmsg: No buffer space available`, only a reboot or a virtio_net reload recovers
 * (weaveworks/weave#2289). Later kernels add `sk->sk_type == SOCK_DGRAM` to the condition; UFO
 * (NETIF_F_UFO) was removed altogether in 4.14.
 *
 * Reads: `uname -r`, `ethtool -i IFACE` (driver), `ethtool -k IFACE` (the UFO line), /proc/net/raw
 * (IPv4 raw sockets; the local "port" of a raw socket is its protocol, 0011 = UDP), and
 * `ss -w -a -n -p` only to name the processes that own them (optional: without ss the verdict is the
 * same, the summary just cannot name the owner); `ls /sys/class/net` only when IFACE does not exist.
 *
 * The UFO line by era (DOMAIN.md): `on` / `off [fixed]` on kernels < 4.14; plain `off` on >= 4.14
 * with an ioctl-era ethtool; no line at all with netlink ethtool (>= 5.6) on >= 4.14. `[requested
 * on]` means asked for but not in effect (a feature it depends on is off).
 *
 * Rules, all in `evaluate` and `ufoKernel`:
 * - kernel >= 4.14: pass, UFO no longer exists (a UFO line saying `on` there is not understood).
 * - not virtio_net: pass; the wedge is known for virtio_net only.
 * - 3.10.0-123.x or earlier el7 (CentOS/RHEL 7.0) with virtio_net: UFO on and an IPv4 raw UDP socket
 *   open -> fail; UFO on and no such socket -> warn (the next weave start wedges it); UFO off or
 *   `[requested on]` -> warn, only the workaround protects it; `off [fixed]` -> pass (the virtual
 *   device does not offer UFO).
 * - later el7 kernels: believed fixed from 3.10.0-229 (CentOS 7.1), which is UNVERIFIED; the same
 *   combination is `warn` saying so, anything less `pass` saying so.
 * - other kernels < 4.14: the mainline fix and its first release are UNVERIFIED; virtio_net + UFO on
 *   + a raw UDP socket is `warn`, anything less `pass`.
 * - kernel < 4.14 with no UFO line: not understood (that kernel has UFO, so ethtool should print it).
 * - An IFACE that does not exist is `error` InvalidParams, not `skip` (see nic.usb-attached).
 *
 * Serves content/runbooks/ufo-raw-socket-virtio.mdx, step "Is this host at risk".
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
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import {
	ethtoolNoDevice,
	parseEthtoolDriver,
	parseEthtoolFeatures,
	UFO_FEATURE,
	type DriverInfo,
	type Feature,
} from '../../src/core/parse/ethtool.ts';
import { atLeast, parseKernelRelease, type KernelRelease } from '../../src/core/parse/kernel.ts';
import { incomplete, linesOf } from '../../src/core/parse/text.ts';
import {
	codeForOutput,
	decide,
	execRecorded,
	installOrRunByHand,
	interfacesProbe,
	noSuchInterface,
	requireWhole,
	Undecided,
} from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/** The VM's network interface, as `ip link` names it (the virtio_net NIC, usually eth0). */
	iface: InterfaceName.describe("the VM's network interface, usually eth0 (the virtio_net NIC)"),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** NETIF_F_UFO was removed in this release. */
const UFO_REMOVED = [4, 14] as const;
/** CentOS/RHEL 7.0's kernel build; this and earlier el7 builds are at risk. */
const AT_RISK_EL7_BUILD = 123;
/** CentOS/RHEL 7.1's kernel build, believed to be the first with the fix (UNVERIFIED). */
const BELIEVED_FIXED_EL7_BUILD = 229;
/** The driver whose queue wedges. */
const AT_RISK_DRIVER = 'virtio_net';
const IPPROTO_UDP = 17;

export type KernelEra = 'no-ufo' | 'el7-at-risk' | 'el7-later' | 'other-with-ufo';

/** Where the kernel stands; see the header for the sources. */
export function ufoKernel(k: KernelRelease): { era: KernelEra; why: string } {
	if (atLeast(k, UFO_REMOVED)) return { era: 'no-ufo', why: `kernel ${k.release} has no UFO: it was removed in 4.14` };
	const el7 = k.rhel?.el === 7 && k.major === 3 && k.minor === 10 ? k.rhel : null;
	if (el7 && el7.build[0]! <= AT_RISK_EL7_BUILD) {
		return { era: 'el7-at-risk', why: `kernel ${k.release} is CentOS/RHEL 7.0's (3.10.0-${AT_RISK_EL7_BUILD}), the one weave#2289 wedged` };
	}
	if (el7) {
		return {
			era: 'el7-later',
			why: `kernel ${k.release} is a later CentOS/RHEL 7 kernel, believed fixed since 3.10.0-${BELIEVED_FIXED_EL7_BUILD} (CentOS 7.1), which is UNVERIFIED`,
		};
	}
	return {
		era: 'other-with-ufo',
		why: `kernel ${k.release} is older than 4.14 and still has UFO; which mainline release first stopped raw UDP sockets from using UFO is UNVERIFIED`,
	};
}

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 10_000;
export const PROC_NET_RAW = '/proc/net/raw';

const unameProbe: ExecProbe = {
	kind: 'exec',
	argv: ['uname', '-r'],
	why: 'kernel release: 3.10.0-123 (CentOS/RHEL 7.0) is the one at risk; 4.14 and later have no UFO',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const driverProbe = (iface: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ethtool', '-i', iface],
	why: 'driver: the queue that wedges is virtio_net',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const featuresProbe = (iface: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ethtool', '-k', iface],
	why: 'the udp-fragmentation-offload line: on, off, off [fixed], or absent on kernels without UFO',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const rawProbe: ReadProbe = {
	kind: 'read',
	path: PROC_NET_RAW,
	why: 'IPv4 raw sockets; local port 0011 is protocol 17, a raw UDP sender such as weave sleeve',
};
const ssProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ss', '-w', '-a', '-n', '-p'],
	why: 'which processes own the raw sockets (Port 17 = UDP); needs root to see other users',
	timeoutMs: EXEC_TIMEOUT_MS,
};

// --- parsers -----------------------------------------------------------------------------------

export interface RawSocket {
	/** Dotted quad, e.g. `127.0.0.1`; `0.0.0.0` when unbound. */
	local: string;
	/** Peer address of a connected socket (weave connects its probe socket); `0.0.0.0` otherwise. */
	remote: string;
	protocol: number;
	/** TCP-style state number: 01 ESTABLISHED (connected), 07 CLOSE (unconnected). */
	state: number;
	uid: number;
	inode: number;
	line: number;
}

/** `0100007F` (little-endian hex, as /proc/net prints it on x86 and arm) -> `127.0.0.1`. */
function quad(hex: string): string {
	const n = Number.parseInt(hex, 16);
	return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

const RAW_LINE =
	/^\s*\d+: ([0-9A-F]{8}):([0-9A-F]{4}) ([0-9A-F]{8}):[0-9A-F]{4} ([0-9A-F]{2}) [0-9A-F]{8}:[0-9A-F]{8} [0-9A-F]{2}:[0-9A-F]{8} [0-9A-F]{8}\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+[0-9a-f]+\s+\d+$/i;

/**
 * /proc/net/raw (net/ipv4/raw.c, raw_sock_seq_show): a header, then one socket per line,
 * ` 232: 0100007F:0011 0100007F:0000 01 00000000:00000000 00:00000000 00000000     0        0 182196 2 00000000084850f2 0`
 * where the local port field is the socket's protocol (0x11 = UDP). No sockets: the header alone.
 */
export function parseProcNetRaw(text: string): Parsed<RawSocket[]> {
	const cut = incomplete(text, PROC_NET_RAW);
	if (cut) return notUnderstood(cut);
	const lines = linesOf(text);
	if (!/^\s*sl\s+local_address\s+rem_address\s+st\s/.test(lines[0]!)) {
		return notUnderstood(`${PROC_NET_RAW}: the first line is not the "sl local_address rem_address st ..." header`);
	}
	const sockets: RawSocket[] = [];
	for (const [i, line] of lines.entries()) {
		if (i === 0) continue;
		const m = RAW_LINE.exec(line);
		if (!m) return notUnderstood(`${PROC_NET_RAW} line ${i + 1} is not a raw socket entry: ${JSON.stringify(line.slice(0, 80))}`);
		sockets.push({
			local: quad(m[1]!),
			protocol: Number.parseInt(m[2]!, 16),
			remote: quad(m[3]!),
			state: Number.parseInt(m[4]!, 16),
			uid: Number(m[5]),
			inode: Number(m[6]),
			line: i + 1,
		});
	}
	return parsed(
		sockets,
		sockets.map((s) => s.line),
	);
}

export interface SsRawSocket {
	state: string;
	local: string;
	/** With `-n` the protocol number as text (`17`); without, a name (`icmp`, `ipv6-icmp`). */
	port: string;
	peer: string;
	/** Process names from `users:(("name",pid=N,fd=M),...)`; empty without `-p` rights. */
	processes: { name: string; pid: number }[];
	line: number;
}

/**
 * `ss -w -a -n -p`: a header (`State Recv-Q Send-Q Local Address:Port Peer Address:Port Process`,
 * the last two words run together as `Peer Address:PortProcess` in iproute2 >= 5.x), then
 * `UNCONN 0 0 0.0.0.0:17 0.0.0.0:* users:(("weaver",pid=2210,fd=9))`. Old ss (iproute2 4.9) pads
 * wider, names the wildcard `*` and puts `users:` the same way; very old ones print
 * `users:(("name",pid,fd))`.
 */
export function parseSsRaw(text: string): Parsed<SsRawSocket[]> {
	const cut = incomplete(text, 'ss -w output');
	if (cut) return notUnderstood(cut);
	const lines = linesOf(text);
	if (!/^(?:Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port/.test(lines[0]!)) {
		return notUnderstood('ss -w: the first line is not the "State Recv-Q Send-Q Local Address:Port Peer Address:Port" header');
	}
	const sockets: SsRawSocket[] = [];
	for (const [i, line] of lines.entries()) {
		if (i === 0 || line.trim() === '') continue;
		const m = /^(?:raw\s+)?([A-Z][A-Z0-9-]*)\s+\d+\s+\d+\s+(\S+):(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line);
		if (!m)
			return notUnderstood(`ss -w line ${i + 1} is not "State Recv-Q Send-Q Local:Port Peer:Port": ${JSON.stringify(line.slice(0, 80))}`);
		const processes: SsRawSocket['processes'] = [];
		for (const u of (m[5] ?? '').matchAll(/\("([^"]*)",(?:pid=)?(\d+)/g)) processes.push({ name: u[1]!, pid: Number(u[2]) });
		sockets.push({ state: m[1]!, local: m[2]!, port: m[3]!, peer: m[4]!, processes, line: i + 1 });
	}
	return parsed(
		sockets,
		sockets.map((s) => s.line),
	);
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	iface: string;
	kernel: KernelRelease;
	driver: DriverInfo;
	/** The udp-fragmentation-offload line, null when ethtool prints none. */
	ufo: Feature | null;
	/** IPv4 raw sockets with protocol UDP, from /proc/net/raw. */
	rawUdp: RawSocket[];
	/** Owners of protocol-17 raw sockets per ss; null when ss could not tell. */
	owners: string[] | null;
	/** Why `owners` is null. */
	ownersProblem: string | null;
	evidence: Evidence[];
}

function ufoText(ufo: Feature | null): string {
	if (!ufo) return 'no udp-fragmentation-offload line';
	const note = ufo.fixed ? ' [fixed]' : ufo.requested === null ? '' : ` [requested ${ufo.requested ? 'on' : 'off'}]`;
	return `udp-fragmentation-offload: ${ufo.on ? 'on' : 'off'}${note}`;
}

function fixFor(iface: string): string[] {
	return [`ethtool -K ${iface} ufo off`, `echo 'ETHTOOL_OPTS="-K ${iface} ufo off"' >> /etc/sysconfig/network-scripts/ifcfg-${iface}`];
}

/** Judge the observation. Pure; every rule is here or in `ufoKernel`. */
export function evaluate(obs: Observation): Verdict {
	const { iface, kernel, driver, ufo } = obs;
	const k = ufoKernel(kernel);
	const senders = obs.rawUdp.length;
	const owners = obs.owners === null ? null : [...new Set(obs.owners)];
	const facts: Facts = {
		iface,
		kernel: kernel.release,
		kernelEra: k.era,
		driver: driver.driver,
		ufo: ufo === null ? null : ufo.on ? 'on' : 'off',
		ufoFixed: ufo?.fixed ?? null,
		ufoRequested: ufo?.requested ?? null,
		rawUdpSockets: senders,
		rawUdpOwners: owners ?? [],
	};
	const extras = { evidence: obs.evidence, facts };
	const ufoNow = ufoText(ufo);
	const who =
		senders === 0
			? 'no IPv4 raw UDP socket is open'
			: `${senders} IPv4 raw UDP ${senders === 1 ? 'socket is' : 'sockets are'} open${
					owners === null
						? ` (owner unknown: ${obs.ownersProblem ?? 'ss could not tell'})`
						: owners.length > 0
							? ` (${owners.join(', ')})`
							: ''
				}`;
	const weave = owners?.some((o) => o.startsWith('weave')) ? " That is most likely weave's sleeve PMTU probe." : '';

	if (k.era === 'no-ufo') {
		if (ufo?.on) {
			return error(
				'OutputNotUnderstood',
				`ethtool reports ${ufoNow} on kernel ${kernel.release}, but UFO was removed in 4.14; read the output by hand.`,
				{ evidence: obs.evidence, facts },
			);
		}
		return pass(`${k.why} (${ufoNow}), so a raw UDP sender cannot wedge ${iface} this way. Look for another cause.`, {
			...extras,
			next: '#if-it-is-not-ufo',
		});
	}
	if (!ufo) {
		return error(
			'OutputNotUnderstood',
			`ethtool -k ${iface} prints no udp-fragmentation-offload line, but kernel ${kernel.release} (older than 4.14) has UFO; read the output by hand.`,
			{ evidence: obs.evidence, facts },
		);
	}
	if (driver.driver !== AT_RISK_DRIVER) {
		return pass(
			`${iface} uses ${driver.driver}, not virtio_net: the UFO/raw-socket wedge is known for virtio_net only (${ufoNow}, ${who}). Look for another cause.`,
			{ ...extras, next: '#if-it-is-not-ufo' },
		);
	}
	const requestedOn = !ufo.on && ufo.requested === true;
	const fullCombo = ufo.on && senders > 0;

	if (k.era === 'el7-at-risk') {
		if (fullCombo) {
			return fail(
				`${k.why}; ${iface} is virtio_net with UFO on, and ${who}.${weave} This is the combination that wedges the transmit queue (no ARP, "ping: sendmsg: No buffer space available"). Turn UFO off now, then upgrade the kernel.`,
				{ ...extras, next: '#turn-ufo-off', fix: fixFor(iface) },
			);
		}
		if (ufo.on) {
			return warn(
				`${k.why}; ${iface} is virtio_net with UFO on. ${who[0]!.toUpperCase()}${who.slice(1)} right now, but the moment one starts (weave in sleeve mode) the transmit queue can wedge. Turn UFO off, then upgrade the kernel.`,
				{ ...extras, next: '#turn-ufo-off', fix: fixFor(iface) },
			);
		}
		if (ufo.fixed) {
			return pass(
				`${k.why}, but ${iface}'s virtio device does not offer UFO (${ufoNow}), so the bug cannot trigger while the hypervisor keeps it that way; ${who}. Upgrading the kernel still removes the risk for good.`,
				{ ...extras, next: '#if-it-is-not-ufo' },
			);
		}
		return warn(
			`${k.why}; ${iface} is virtio_net and UFO is off (${ufoNow}${requestedOn ? ': it comes back as soon as the feature it depends on is turned on again' : ''}), ${who}. Only the workaround protects this host: a reboot or a reset NIC config can turn UFO back on. Upgrade the kernel (CentOS 7.1's 3.10.0-229 is believed fixed, UNVERIFIED; any kernel >= 4.14 has no UFO).`,
			{ ...extras, next: '#upgrade-the-kernel' },
		);
	}

	// el7-later and other kernels with UFO: the fix is unverified either way.
	if (fullCombo) {
		return warn(
			`${k.why}. ${iface} is virtio_net with UFO on and ${who}.${weave} That is the combination that wedged 3.10.0-123; whether this kernel has the fix is UNVERIFIED. Turn UFO off to be safe.`,
			{ ...extras, next: '#turn-ufo-off', fix: fixFor(iface) },
		);
	}
	return pass(
		`${k.why}. ${iface} is virtio_net with ${ufoNow} and ${who}, so the combination that wedged 3.10.0-123 is not present now. Look for another cause.`,
		{ ...extras, next: '#if-it-is-not-ufo' },
	);
}

// --- run ---------------------------------------------------------------------------------------

/** Run a probe that must succeed; return its result with evidence recorded. */
async function required(ctx: Ctx, probe: ExecProbe, evidence: Evidence[], iface: string) {
	const r = await execRecorded(ctx, probe, evidence, EXEC_TIMEOUT_MS);
	if (r.code === 127) throw new Undecided(installOrRunByHand(probe, evidence));
	if (r.code !== 0 && probe.argv[0] === 'ethtool' && ethtoolNoDevice(r.stderr))
		throw new Undecided(
			await noSuchInterface(ctx, iface, evidence, "Run the check again with iface set to the VM's NIC (`ip -br link` lists them)."),
		);
	requireWhole(probe, r, { evidence });
	return r;
}

function understood<T>(p: Parsed<T>, text: string, evidence: Evidence[]): T {
	if (!p.ok) throw new Undecided(error(codeForOutput(text), `${p.reason}.`, { evidence }));
	evidence.at(-1)!.lines = p.lines;
	return p.value;
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	const { iface } = params;
	ctx.progress('reading the kernel release and the driver', 0.1);
	const un = await required(ctx, unameProbe, evidence, iface);
	const kernel = understood(parseKernelRelease(un.stdout), un.stdout, evidence);
	const di = await required(ctx, driverProbe(iface), evidence, iface);
	const driver = understood(parseEthtoolDriver(di.stdout), di.stdout, evidence);

	ctx.progress('reading the offload features', 0.4);
	const fe = await required(ctx, featuresProbe(iface), evidence, iface);
	const features = understood(parseEthtoolFeatures(fe.stdout), fe.stdout, evidence);
	const ufo = features.features.get(UFO_FEATURE) ?? null;
	evidence.at(-1)!.lines = ufo ? [features.headerLine, ufo.line] : [features.headerLine];

	ctx.progress('looking for raw UDP sockets', 0.7);
	const rawText = await ctx.read(rawProbe.path);
	evidence.push(evidenceOf(rawProbe, rawText ?? ''));
	if (rawText === null) {
		throw new Undecided(
			error('CommandFailed', `${PROC_NET_RAW} does not exist on this host, so raw sockets cannot be listed.`, { evidence }),
		);
	}
	const raw = parseProcNetRaw(rawText);
	if (!raw.ok) throw new Undecided(error(codeForOutput(rawText), `${raw.reason}.`, { evidence }));
	const rawUdp = raw.value.filter((s) => s.protocol === IPPROTO_UDP);
	evidence.at(-1)!.lines = rawUdp.map((s) => s.line);

	const ss = await ctx.exec(ssProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	evidence.push(evidenceOf(ssProbe, ss.stdout + ss.stderr, [], { code: ss.code }));
	let owners: string[] | null = null;
	let ownersProblem: string | null = null;
	if (ss.code === 127) ownersProblem = 'ss is not installed (package iproute2 on Debian, iproute on RHEL)';
	else if (ss.code !== 0) ownersProblem = `ss exited with ${ss.code ?? 'a signal'}`;
	else {
		const p = parseSsRaw(ss.stdout);
		if (!p.ok) ownersProblem = `ss output not understood: ${p.reason}`;
		else {
			const udp = p.value.filter((s) => s.port === String(IPPROTO_UDP));
			owners = udp.flatMap((s) => s.processes.map((x) => `${x.name} (pid ${x.pid})`));
			evidence.at(-1)!.lines = udp.map((s) => s.line);
		}
	}
	return { iface, kernel, driver, ufo, rawUdp, owners, ownersProblem, evidence };
}

export default defineCheck({
	id: 'kernel.ufo-raw-socket',
	title: 'UFO + raw UDP socket on virtio_net (CentOS 7.0 TX wedge)',
	description:
		"Checks whether this VM has the combination that wedges virtio_net's transmit queue on CentOS/RHEL 7.0 (kernel 3.10.0-123): UDP fragmentation offload on and a raw-socket UDP sender such as weave's sleeve PMTU probe. Fails for the full combination, warns when only turning UFO off protects the host, passes on kernels 4.14 and later, which have no UFO.",
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#turn-ufo-off', '#upgrade-the-kernel', '#if-it-is-not-ufo'],
	params: ParamsSchema,
	probes(params) {
		return [unameProbe, driverProbe(params.iface), featuresProbe(params.iface), rawProbe, ssProbe, interfacesProbe];
	},
	run(ctx, params) {
		return decide(async () => evaluate(await observe(ctx, params)));
	},
});
