/**
 * net.link-balance: is one member of a set of equal-cost links carrying far more than its share?
 *
 * Failure (DOMAIN.md section 6): ECMP (and LACP) pick a link per flow from a hash, so the load is only
 * as even as the flows are many and different. L3 hashing with few host pairs, racks with unequal
 * server counts, or a handful of long-lived pooled connections leave one link hot and another idle:
 * on the test machine, 400 UDP flows between one pair of addresses put 400 packets on one next hop
 * and none on the other under L3 hashing, 194/206 under L4.
 *
 * Reads `/sys/class/net/<iface>/statistics/tx_bytes` and `tx_packets` of every interface named, twice,
 * `intervalMs` apart, and compares what each sent in between: the transmit side, which this host's
 * own hash decides (the receive side is the neighbour's hash). Each link's share of the bytes, and
 * the busiest link against the mean of all of them.
 *
 * Thresholds, all in `evaluate`:
 * - `fail` when the busiest link carries more than `maxRatio` times the mean (default 1.3, the rule
 *   of thumb in DOMAIN.md: with K members and many flows, max/mean above ~1.3 sustained is worth
 *   investigating; it is not a standard). The ratio is at most K, when one link carries everything.
 * - `warn` when fewer than MIN_PACKETS packets crossed all the links together in the window: a
 *   handful of packets (ARP, neighbour discovery, a keepalive) says nothing about a hash.
 * - `error` when a counter went backwards between the samples (the interface was re-created, the
 *   driver reloaded, or a 32-bit counter wrapped), or an interface does not exist.
 *
 * Serves content/runbooks/ecmp-imbalance.mdx, step "Measure the load on each link".
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
	probeCommand,
	warn,
	type Ctx,
	type Evidence,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { codeForOutput, decide, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The equal-cost links to compare, 2 to 16 interface names, each once: the `dev` of every
	 * `nexthop` of the multipath route (`net.ecmp-routes` lists them), or the members of a bond. From
	 * the command line: `--param ifaces=eth0,eth1`.
	 */
	ifaces: z
		.array(InterfaceName)
		.min(2, 'at least two interfaces to compare')
		.max(16, 'at most 16 interfaces')
		.refine((a) => new Set(a).size === a.length, 'each interface once')
		.describe('the equal-cost links to compare, 2 to 16 interface names (ifaces=eth0,eth1)'),
	/** Milliseconds between the two samples: longer evens out bursts, shorter answers sooner. */
	intervalMs: z
		.number()
		.int()
		.min(200, 'at least 200 ms')
		.max(60_000, 'at most 60000 ms')
		.default(2000)
		.describe('milliseconds between the two counter samples (200 to 60000)'),
	/**
	 * Fail when the busiest link carries more than this many times the mean of all of them. Above 1;
	 * with K links the ratio can reach K at most.
	 */
	maxRatio: z
		.number()
		.gt(1, 'above 1')
		.max(16, 'at most 16')
		.default(1.3)
		.describe('fail when the busiest link carries more than this times the mean (above 1, default 1.3)'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** Below this many packets over all links in the window there is too little traffic to judge a hash. */
export const MIN_PACKETS = 100;

// --- probes ------------------------------------------------------------------------------------

export type Counter = 'tx_bytes' | 'tx_packets';
const COUNTERS: readonly Counter[] = ['tx_bytes', 'tx_packets'];

export const counterPath = (iface: string, counter: Counter) => `/sys/class/net/${iface}/statistics/${counter}`;

const counterProbe = (iface: string, counter: Counter, intervalMs: number): ReadProbe => ({
	kind: 'read',
	path: counterPath(iface, counter),
	why:
		counter === 'tx_bytes'
			? `bytes ${iface} has sent; read twice, ${intervalMs} ms apart`
			: `packets ${iface} has sent; read twice, ${intervalMs} ms apart`,
});

// --- parsers -----------------------------------------------------------------------------------

/** A sysfs statistics counter: one unsigned decimal and a newline, e.g. `414928`. */
export function parseCounter(text: string): Parsed<bigint> {
	if (text.trim() === '') return notUnderstood('the counter file is empty');
	if (!text.endsWith('\n')) return notUnderstood('the counter does not end with a newline, so it may have been cut');
	const m = /^(\d{1,20})\n$/.exec(text);
	if (!m) return notUnderstood(`expected one decimal number, got ${JSON.stringify(text.slice(0, 80))}`);
	const value = BigInt(m[1]!);
	if (value >= 1n << 64n) return notUnderstood(`${m[1]} is larger than a 64-bit counter`);
	return parsed(value, [1]);
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Sample {
	txBytes: bigint;
	txPackets: bigint;
}

export interface LinkObservation {
	iface: string;
	first: Sample;
	second: Sample;
}

export interface Observation {
	links: LinkObservation[];
	evidence: Evidence[];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Judge the observation. Pure; every threshold is here or in the constants above. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const extras = { evidence: obs.evidence };
	const backwards = obs.links.flatMap((l) =>
		(
			[
				['tx_bytes', l.first.txBytes, l.second.txBytes],
				['tx_packets', l.first.txPackets, l.second.txPackets],
			] as const
		)
			.filter(([, a, b]) => b < a)
			.map(([c, a, b]) => `${l.iface} ${c} ${a} -> ${b}`),
	);
	if (backwards.length > 0) {
		return error(
			'OutputNotUnderstood',
			`A counter went backwards between the two samples (${backwards.join('; ')}): the interface was re-created or reset, its driver reloaded, or a 32-bit counter wrapped, so the difference means nothing.`,
			{
				...extras,
				facts: { ifaces: obs.links.map((l) => l.iface), countersBackwards: backwards },
				hint: 'Run the check again; if it happens again, look for the interface flapping or being re-created (`ip -s link show`, `dmesg`).',
			},
		);
	}

	const bytes = obs.links.map((l) => Number(l.second.txBytes - l.first.txBytes));
	const packets = obs.links.map((l) => Number(l.second.txPackets - l.first.txPackets));
	const totalBytes = bytes.reduce((a, b) => a + b, 0);
	const totalPackets = packets.reduce((a, b) => a + b, 0);
	const k = obs.links.length;
	const mean = totalBytes / k;
	const busiest = bytes.indexOf(Math.max(...bytes));
	const ratio = mean > 0 ? bytes[busiest]! / mean : 0;
	const share = bytes.map((b) => (totalBytes > 0 ? round((100 * b) / totalBytes, 1) : 0));
	const facts: Facts = {
		ifaces: obs.links.map((l) => l.iface),
		txBytes: bytes,
		txPackets: packets,
		sharePercent: share,
		totalPackets,
		busiest: obs.links[busiest]!.iface,
		ratio: round(ratio),
		maxRatio: params.maxRatio,
		minPackets: MIN_PACKETS,
		intervalMs: params.intervalMs,
	};
	const table = obs.links.map((l, i) => `${l.iface} ${share[i]}% (${bytes[i]} bytes, ${packets[i]} packets)`).join(', ');
	const window = `in ${params.intervalMs} ms`;

	if (totalPackets < MIN_PACKETS) {
		return warn(
			`Too little traffic to judge: ${totalPackets} packets left ${obs.links.map((l) => l.iface).join(', ')} together ${window} (fewer than ${MIN_PACKETS}): ${table}. Run it again while the links carry the load in question, or with a longer intervalMs.`,
			{ ...extras, facts },
		);
	}
	const idle = obs.links.filter((_, i) => bytes[i] === 0).map((l) => l.iface);
	const idleText = idle.length > 0 ? ` ${idle.join(', ')} sent nothing at all.` : '';
	if (ratio > params.maxRatio) {
		return fail(
			`Uneven: ${obs.links[busiest]!.iface} sent ${round(ratio)} times the mean of the ${k} links ${window} (limit ${params.maxRatio}): ${table}.${idleText} The hash puts more flows, or bigger ones, on it.`,
			{ ...extras, facts, next: '#per-hop-hashing' },
		);
	}
	return pass(
		`Even enough: the busiest link, ${obs.links[busiest]!.iface}, sent ${round(ratio)} times the mean of the ${k} links ${window} (limit ${params.maxRatio}): ${table}.`,
		{
			...extras,
			facts,
			next: '#if-every-check-passes',
		},
	);
}

// --- run ---------------------------------------------------------------------------------------

async function sample(ctx: Ctx, params: Params, which: 'first' | 'second', evidence: Evidence[]): Promise<Sample[]> {
	const out: Sample[] = [];
	for (const iface of params.ifaces) {
		const values: Partial<Record<Counter, bigint>> = {};
		for (const counter of COUNTERS) {
			const probe = counterProbe(iface, counter, params.intervalMs);
			const text = await ctx.read(probe.path);
			if (text === null) {
				evidence.push(evidenceOf(probe, ''));
				const gone = which === 'second' ? ' (it disappeared between the two samples)' : '';
				throw new Undecided(
					error('CommandFailed', `There is no interface ${iface} on this host${gone}: ${probe.path} does not exist.`, {
						evidence,
						hint: 'List the interfaces with `ip -br link` and pass the right names, e.g. the `dev` of each next hop `net.ecmp-routes` shows.',
					}),
				);
			}
			const p = parseCounter(text);
			evidence.push(evidenceOf(`${probeCommand(probe)}   # ${which} sample`, text, p.ok ? p.lines : []));
			if (!p.ok) throw new Undecided(error(codeForOutput(text), `${probe.path}: ${p.reason}.`, { evidence }));
			values[counter] = p.value;
		}
		out.push({ txBytes: values.tx_bytes!, txPackets: values.tx_packets! });
	}
	return out;
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	ctx.progress(`first sample of ${params.ifaces.join(', ')}`, 0.05);
	const first = await sample(ctx, params, 'first', evidence);
	ctx.progress(`waiting ${params.intervalMs} ms`, 0.1);
	await ctx.sleep(params.intervalMs);
	ctx.progress('second sample', 0.9);
	const second = await sample(ctx, params, 'second', evidence);
	return { links: params.ifaces.map((iface, i) => ({ iface, first: first[i]!, second: second[i]! })), evidence };
}

export default defineCheck({
	id: 'net.link-balance',
	title: 'Load on each equal-cost link',
	description:
		"Samples the transmit byte and packet counters of 2 to 16 interfaces twice, intervalMs apart, and computes each link's share of what was sent. Fails when the busiest link carries more than maxRatio times the mean; warns when there was too little traffic to judge.",
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#per-hop-hashing', '#if-every-check-passes'],
	params: ParamsSchema,
	probes(params) {
		return params.ifaces.flatMap((iface) => COUNTERS.map((c) => counterProbe(iface, c, params.intervalMs)));
	},
	run(ctx, params) {
		return decide(async () => {
			const obs = await observe(ctx, params);
			ctx.progress('comparing', 0.95);
			return evaluate(obs, params);
		});
	},
});
