/**
 * nic.tx-stalled: is this interface's transmit queue wedged, still receiving but sending nothing?
 *
 * Failure (DOMAIN.md section 2, weaveworks/weave#2289): when virtio_net's transmit queue wedges, the
 * link stays up and frames keep arriving (RX counts up), but nothing leaves: TX packets stay frozen,
 * the qdisc fills, senders get `ping: sendmsg: No buffer space available`, neighbours see no ARP
 * replies. virtio_net on 3.10 has no ndo_tx_timeout, so no "NETDEV WATCHDOG" line announces it; the
 * counters are the evidence.
 *
 * Reads /sys/class/net/IFACE/operstate, then statistics/{tx_packets,rx_packets,tx_errors,tx_dropped}
 * twice, `intervalMs` apart (Documentation/ABI/testing/sysfs-class-net-statistics: each file is one
 * unsigned decimal counter); `ls /sys/class/net` only when IFACE does not exist.
 *
 * Rules, all in `evaluate`:
 * - a counter that went backwards: error (counters reset, interface re-created, or a 32-bit wrap).
 * - operstate down / lowerlayerdown / notpresent: warn; a wedged queue keeps the link up, so this is
 *   another failure (cable, peer, hypervisor).
 * - TX packets moved: pass.
 * - TX frozen while RX moved, or while tx_errors / tx_dropped grew (the host tries and fails): fail.
 * - nothing moved: warn; an idle interface and a dead one look the same for `intervalMs`.
 * The default 2 s interval sees the ARP and neighbour traffic of any host on a live LAN; the bounds
 * (200 ms to 30 s) keep the check short enough to run from a page.
 * - An IFACE that does not exist is `error` InvalidParams, not `skip` (see nic.usb-attached).
 *
 * Serves content/runbooks/ufo-raw-socket-virtio.mdx, step "Is the transmit queue wedged".
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
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { codeForOutput, decide, interfacesProbe, noSuchInterface, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const MIN_INTERVAL_MS = 200;
export const MAX_INTERVAL_MS = 30_000;
export const DEFAULT_INTERVAL_MS = 2000;

export const ParamsSchema = z.strictObject({
	/** The interface to watch, as `ip link` names it (the VM's virtio_net NIC, usually eth0). */
	iface: InterfaceName.describe('the interface to watch, usually eth0'),
	/** Milliseconds between the two samples of the counters, 200 to 30000. */
	intervalMs: z
		.number()
		.int()
		.min(MIN_INTERVAL_MS)
		.max(MAX_INTERVAL_MS)
		.default(DEFAULT_INTERVAL_MS)
		.describe('milliseconds between the two counter samples (200-30000)'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

export const COUNTERS = ['tx_packets', 'rx_packets', 'tx_errors', 'tx_dropped'] as const;
export type Counter = (typeof COUNTERS)[number];

const operstateProbe = (iface: string): ReadProbe => ({
	kind: 'read',
	path: `/sys/class/net/${iface}/operstate`,
	why: 'link state (RFC 2863): a wedged queue keeps it "up"',
});
const counterProbe = (iface: string, counter: Counter, intervalMs: number): ReadProbe => ({
	kind: 'read',
	path: `/sys/class/net/${iface}/statistics/${counter}`,
	why: `${counter}, read twice ${intervalMs} ms apart`,
});

// --- parsers -----------------------------------------------------------------------------------

/**
 * One statistics file, e.g. /sys/class/net/eth0/statistics/tx_packets: an unsigned decimal and a
 * newline, `58`. Values above 2^53 are refused rather than rounded.
 */
export function parseCounter(text: string): Parsed<number> {
	if (text.trim() === '') return notUnderstood('the counter file is empty');
	if (!text.endsWith('\n')) return notUnderstood('the counter file does not end with a newline, so it may have been cut');
	const m = /^(\d{1,20})\n$/.exec(text);
	if (!m) return notUnderstood(`expected one decimal counter, got ${JSON.stringify(text.slice(0, 80))}`);
	const n = Number(m[1]);
	if (!Number.isSafeInteger(n)) return notUnderstood(`counter ${m[1]} is beyond 2^53`);
	return parsed(n, [1]);
}

export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type Operstate = (typeof OPERSTATES)[number];

/** /sys/class/net/IFACE/operstate: one RFC 2863 state, `up`. `unknown` is normal for lo, tun and some virtual devices. */
export function parseOperstate(text: string): Parsed<Operstate> {
	if (text.trim() === '') return notUnderstood('operstate is empty');
	if (!text.endsWith('\n')) return notUnderstood('operstate does not end with a newline, so it may have been cut');
	const m = /^([a-z]+)\n$/.exec(text);
	const state = m ? OPERSTATES.find((s) => s === m[1]) : undefined;
	if (!state) return notUnderstood(`operstate: expected one of ${OPERSTATES.join(', ')}, got ${JSON.stringify(text.slice(0, 80))}`);
	return parsed(state, [1]);
}

// --- evaluate ----------------------------------------------------------------------------------

export type Sample = Record<Counter, number>;

export interface Observation {
	iface: string;
	operstate: Operstate;
	first: Sample;
	second: Sample;
	intervalMs: number;
	evidence: Evidence[];
}

const LINK_DOWN: ReadonlySet<Operstate> = new Set(['down', 'lowerlayerdown', 'notpresent']);

/** Judge the two samples. Pure; every rule is here. */
export function evaluate(obs: Observation): Verdict {
	const { iface, first, second, operstate } = obs;
	const delta = Object.fromEntries(COUNTERS.map((c) => [c, second[c] - first[c]])) as Sample;
	const seconds = obs.intervalMs / 1000;
	const facts: Facts = {
		iface,
		operstate,
		intervalMs: obs.intervalMs,
		...Object.fromEntries(
			COUNTERS.flatMap((c) => [
				[`${c}Before`, first[c]],
				[`${c}After`, second[c]],
				[`${c}Delta`, delta[c]],
			]),
		),
	};
	const extras = { evidence: obs.evidence, facts };
	const backwards = COUNTERS.filter((c) => delta[c] < 0);
	if (backwards.length > 0) {
		return error(
			'OutputNotUnderstood',
			`${backwards.join(', ')} went backwards between the samples (${backwards.map((c) => `${first[c]} -> ${second[c]}`).join(', ')}): the counters were reset, the interface re-created, or a 32-bit counter wrapped.`,
			{ evidence: obs.evidence, facts, hint: 'Run the check again; if it keeps happening, watch `ip -s link show` by hand.' },
		);
	}
	const moved = `TX ${second.tx_packets} (+${delta.tx_packets}), RX ${second.rx_packets} (+${delta.rx_packets}) in ${seconds} s`;
	const failures = delta.tx_errors + delta.tx_dropped;
	const failuresText = `tx_errors +${delta.tx_errors}, tx_dropped +${delta.tx_dropped}`;

	if (LINK_DOWN.has(operstate)) {
		return warn(
			`${iface} is ${operstate} (${moved}): the link itself is down. A wedged transmit queue keeps the link up, so this is another failure (cable, peer, hypervisor side).`,
			{ ...extras, next: '#if-it-is-not-ufo' },
		);
	}
	if (delta.tx_packets > 0) {
		return pass(`${iface} is transmitting: ${moved}. The transmit queue is not wedged now.`, { ...extras, next: '#is-this-host-at-risk' });
	}
	if (delta.rx_packets > 0 || failures > 0) {
		const why =
			delta.rx_packets > 0
				? `frames keep arriving but nothing leaves (${failuresText})`
				: `nothing arrives and nothing leaves, but the host keeps trying to send and failing (${failuresText})`;
		return fail(
			`${iface}'s transmit queue is wedged: TX packets frozen at ${second.tx_packets} for ${seconds} s while ${why}. This is how the UFO/raw-socket bug looks (no ARP replies, "ping: sendmsg: No buffer space available"). Recover the VM first.`,
			{ ...extras, next: '#recover-the-wedged-vm' },
		);
	}
	return warn(
		`Nothing moved on ${iface} in ${seconds} s (TX ${second.tx_packets}, RX ${second.rx_packets}, ${failuresText}): it is idle or dead, and the counters cannot tell which. Make the host send (ping its gateway from the console) and run the check again, or raise intervalMs.`,
		{ ...extras },
	);
}

// --- run ---------------------------------------------------------------------------------------

async function readParsed<T>(
	ctx: Ctx,
	probe: ReadProbe,
	parse: (t: string) => Parsed<T>,
	evidence: Evidence[],
	iface: string,
	label: string,
): Promise<T> {
	const text = await ctx.read(probe.path);
	evidence.push(evidenceOf(label, text ?? ''));
	if (text === null) {
		throw new Undecided(
			error(
				'CommandFailed',
				`${probe.path} does not exist although ${iface} did a moment ago: was it deleted or renamed while the check ran?`,
				{
					evidence,
					hint: 'Run the check again; `ip -br link` shows what the interface is called now.',
				},
			),
		);
	}
	const p = parse(text);
	if (!p.ok) throw new Undecided(error(codeForOutput(text), `${probe.path}: ${p.reason}.`, { evidence }));
	evidence.at(-1)!.lines = p.lines;
	return p.value;
}

async function sample(ctx: Ctx, params: Params, evidence: Evidence[], which: string): Promise<Sample> {
	const s = {} as Sample;
	for (const c of COUNTERS) {
		const probe = counterProbe(params.iface, c, params.intervalMs);
		s[c] = await readParsed(ctx, probe, parseCounter, evidence, params.iface, `cat ${probe.path}  # ${which}`);
	}
	return s;
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	const { iface, intervalMs } = params;
	const op = operstateProbe(iface);
	const opText = await ctx.read(op.path);
	evidence.push(evidenceOf(op, opText ?? ''));
	if (opText === null)
		throw new Undecided(
			await noSuchInterface(ctx, iface, evidence, "Run the check again with iface set to the VM's NIC (`ip -br link` lists them)."),
		);
	const operstate = parseOperstate(opText);
	if (!operstate.ok) throw new Undecided(error(codeForOutput(opText), `${op.path}: ${operstate.reason}.`, { evidence }));
	evidence.at(-1)!.lines = operstate.lines;

	const first = await sample(ctx, params, evidence, 'first sample');
	ctx.progress(`waiting ${intervalMs} ms between the two samples`, 0.3);
	await ctx.sleep(intervalMs);
	const second = await sample(ctx, params, evidence, `second sample, ${intervalMs} ms later`);
	return { iface, operstate: operstate.value, first, second, intervalMs, evidence };
}

export default defineCheck({
	id: 'nic.tx-stalled',
	title: 'Wedged transmit queue (TX frozen, RX moving)',
	description:
		"Samples an interface's TX and RX packet counters twice, intervalMs apart, and fails when frames keep arriving but none leave: the wedged virtio_net transmit queue of the UFO/raw-socket bug. Warns when nothing moves at all, since an idle and a dead interface look the same.",
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#recover-the-wedged-vm', '#is-this-host-at-risk', '#if-it-is-not-ufo'],
	params: ParamsSchema,
	probes(params) {
		return [operstateProbe(params.iface), ...COUNTERS.map((c) => counterProbe(params.iface, c, params.intervalMs)), interfacesProbe];
	},
	run(ctx, params) {
		return decide(async () => evaluate(await observe(ctx, params)));
	},
});
