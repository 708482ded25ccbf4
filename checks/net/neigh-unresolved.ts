/**
 * net.neigh-unresolved: which neighbours (ARP for IPv4, NDP for IPv6) does this host ask for and
 * never hear back from?
 *
 * Failure (DOMAIN.md section 4): when a reply never reaches the device that asked (a VLAN device on a
 * bond slave takes it, a switch port drops it, the address is simply gone), the kernel's neighbour
 * entry stays `INCOMPLETE` while it probes, then turns `FAILED` once `mcast_solicit` and
 * `ucast_solicit` probes are spent (net/core/neighbour.c). Packets to it are dropped with "Destination
 * Host Unreachable" from the host itself. An entry that resolves is `REACHABLE`, then `STALE`,
 * `DELAY`, `PROBE`; static ones are `PERMANENT` or `NOARP`.
 *
 * Runs `ip -j neigh show` (JSON since iproute2 4.14; CentOS/RHEL 7 answer `Option "-j" is unknown`
 * and `ip neigh show` is read as text). With a `target`, also `ip -s neigh show <target>` for how
 * many probes were sent and when the entry was last used, confirmed and updated (seconds ago).
 *
 * Rules, all in `evaluate`: fail when the target (or, without one, any entry) is INCOMPLETE or
 * FAILED; warn when the target has no entry at all (not tried lately, or not on a connected subnet,
 * so its gateway is what gets resolved); pass otherwise. Counts per device are in the facts.
 *
 * Serves content/runbooks/bond-vlan-stray-subinterface.mdx, step "Which neighbours stay unresolved".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	fail,
	notUnderstood,
	parsed,
	pass,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Parsed,
	type Verdict,
} from '../../src/core/check.ts';
import { jsonUnsupported } from '../../src/core/parse/ip-link.ts';
import { linesOf } from '../../src/core/parse/text.ts';
import { codeForOutput, commandFailed, decide, execWhole, installHint, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The address that does not answer, e.g. `192.168.53.253` or `2001:db8::253`. With it the check
	 * judges that neighbour only and reads its probe counters; without it, every entry counts.
	 */
	target: z
		.union([z.ipv4(), z.ipv6()])
		.optional()
		.describe('the unreachable neighbour address (IPv4 or IPv6); without it every entry counts'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 10_000;
const NEXT_VLAN = '#look-for-a-vlan-device-on-a-bond-slave';
const NEXT_DONE = '#if-every-check-passes';
/** Neighbour states that mean "asked, never answered" (include/uapi/linux/neighbour.h NUD_INCOMPLETE, NUD_FAILED). */
export const UNRESOLVED = new Set(['INCOMPLETE', 'FAILED']);
/** Every NUD state iproute2 prints (ip/ipneigh.c nud_state_a2n). */
const STATES = new Set(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);

export const jsonProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', '-j', 'neigh', 'show'],
	why: 'every neighbour entry with its device and state, as JSON',
	timeoutMs: EXEC_TIMEOUT_MS,
};
export const textProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', 'neigh', 'show'],
	why: 'only when iproute2 has no -j (CentOS/RHEL 7): the same, as text',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const statsProbe = (target: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', '-s', 'neigh', 'show', target],
	why: 'with a target: probes sent, and seconds since the entry was used/confirmed/updated',
	timeoutMs: EXEC_TIMEOUT_MS,
});

// --- parsers -----------------------------------------------------------------------------------

export interface Neighbour {
	dst: string;
	dev: string | null;
	lladdr: string | null;
	router: boolean;
	states: string[];
	/** `ip -s`: seconds since used, confirmed, updated. */
	used: [number, number, number] | null;
	/** `ip -s`: probes sent. */
	probes: number | null;
	line: number;
}

const ADDRESS = /^[0-9A-Fa-f:.]+(?:%\S+)?$/;

/**
 * `ip neigh show` (and `ip -s neigh show`): one entry per line, e.g.
 * `192.168.53.253 dev bond0.53 INCOMPLETE `, `2001:db8:41::2 dev veth1 lladdr 7a:e1:fa:a3:32:53 router REACHABLE `,
 * with `-s`: `192.168.53.253 dev bond0.53  used 5/65/2probes 6 FAILED ` (iproute2 6.1 prints no
 * blank before `probes`; older ones do). No entry at all prints nothing, which is a valid answer.
 */
export function parseNeighText(text: string): Parsed<Neighbour[]> {
	if (text !== '' && !text.endsWith('\n')) return notUnderstood('ip neigh show does not end with a newline, so it may have been cut');
	const out: Neighbour[] = [];
	for (const [i, line] of linesOf(text).entries()) {
		const n = i + 1;
		const bad = (why: string) => notUnderstood(`ip neigh show line ${n} ${why}: ${JSON.stringify(line.slice(0, 100))}`);
		const t = line.trim().split(/\s+/);
		if (!ADDRESS.test(t[0]!)) return bad('does not start with an address');
		const e: Neighbour = { dst: t[0]!, dev: null, lladdr: null, router: false, states: [], used: null, probes: null, line: n };
		for (let k = 1; k < t.length; k++) {
			const w = t[k]!;
			const used = /^(\d+)\/(\d+)\/(\d+)(probes)?$/.exec(w);
			if (w === 'dev' || w === 'lladdr' || w === 'ref' || w === 'probes' || w === 'proto' || w === 'protocol') {
				const v = t[++k];
				if (v === undefined) return bad(`has "${w}" without a value`);
				if (w === 'dev') e.dev = v;
				if (w === 'lladdr') e.lladdr = v.toLowerCase();
				if (w === 'probes') e.probes = /^\d+$/.test(v) ? Number(v) : null;
			} else if (w === 'used') {
				continue;
			} else if (used) {
				e.used = [Number(used[1]), Number(used[2]), Number(used[3])];
				if (used[4]) {
					const v = t[++k];
					e.probes = v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
				}
			} else if (w === 'router') {
				e.router = true;
			} else if (/^[A-Z]+$/.test(w)) {
				if (!STATES.has(w)) return bad(`has an unknown state ${w}`);
				e.states.push(w);
			}
			// Other lowercase words are flags newer iproute2 adds (proxy, extern_learn, offload, managed).
		}
		if (e.dev === null) return bad('has no "dev"');
		if (e.states.length === 0) return bad('has no state (INCOMPLETE, REACHABLE, STALE ...)');
		out.push(e);
	}
	return parsed(
		out,
		out.map((e) => e.line),
	);
}

/** The line each `"dst"` key is on, in order: all 1 in the compact form, one per entry with `-p`. */
function dstLines(text: string): number[] {
	const out: number[] = [];
	let line = 1;
	for (let i = 0; i < text.length; i++) {
		if (text[i] === '\n') line++;
		else if (text.startsWith('"dst"', i)) out.push(line);
	}
	return out;
}

/**
 * `ip -j neigh show`: `[{"dst":"192.168.53.253","dev":"bond0.53","state":["INCOMPLETE"]},
 * {"dst":"2001:db8:41::2","dev":"veth1","lladdr":"7a:e1:fa:a3:32:53","router":null,"state":["REACHABLE"]}]`
 * (compact; `-p` spreads it over lines). No entry: `[]`.
 */
export function parseNeighJson(text: string): Parsed<Neighbour[]> {
	if (text.trim() === '') return notUnderstood('ip -j neigh show printed nothing, not even []');
	if (!text.endsWith('\n')) return notUnderstood('ip -j neigh show does not end with a newline, so it may have been cut');
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (e) {
		return notUnderstood(`ip -j neigh show is not JSON (${(e as Error).message}); cut, or not iproute2 output`);
	}
	if (!Array.isArray(data)) return notUnderstood('ip -j neigh show: expected a JSON array');
	const where = dstLines(text);
	const out: Neighbour[] = [];
	for (const [i, raw] of data.entries()) {
		const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
		if (!o || typeof o.dst !== 'string' || !ADDRESS.test(o.dst))
			return notUnderstood(`ip -j neigh show: entry ${i + 1} has no "dst" address`);
		const states = Array.isArray(o.state) ? o.state.filter((s): s is string => typeof s === 'string') : [];
		const unknown = states.find((s) => !STATES.has(s));
		if (unknown) return notUnderstood(`ip -j neigh show: entry ${i + 1} has an unknown state ${unknown}`);
		if (states.length === 0) return notUnderstood(`ip -j neigh show: entry ${i + 1} (${o.dst}) has no state`);
		out.push({
			dst: o.dst,
			dev: typeof o.dev === 'string' ? o.dev : null,
			lladdr: typeof o.lladdr === 'string' ? o.lladdr.toLowerCase() : null,
			router: 'router' in o,
			states,
			used:
				typeof o.used === 'number' && typeof o.confirmed === 'number' && typeof o.updated === 'number'
					? [o.used, o.confirmed, o.updated]
					: null,
			probes: typeof o.probes === 'number' ? o.probes : null,
			line: where[i] ?? 1,
		});
	}
	return parsed(
		out,
		out.map((e) => e.line),
	);
}

/** One spelling per address: IPv6 lower-case and compressed as iproute2 prints it. */
export function canonicalAddress(a: string): string {
	if (!a.includes(':')) return a;
	try {
		return new URL(`http://[${a.replace(/%.*$/, '')}]`).hostname.slice(1, -1);
	} catch {
		return a.toLowerCase();
	}
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	entries: Neighbour[];
	/** `ip -s neigh show <target>` entries, when a target was given and it answered. */
	stats: Neighbour[] | null;
	evidence: Evidence[];
	/** Index of the table in `evidence`. */
	table: number;
	/** Index of the `ip -s` answer in `evidence`. */
	statsAt: number | null;
	format: 'json' | 'text';
}

const isUnresolved = (e: Neighbour) => e.states.some((s) => UNRESOLVED.has(s));
const label = (e: Neighbour) => `${e.dst} dev ${e.dev ?? '?'} ${e.states.join(',')}`;

function counters(e: Neighbour | undefined): string {
	if (!e) return '';
	const parts: string[] = [];
	if (e.probes !== null) parts.push(`${e.probes} probes sent`);
	if (e.used) parts.push(`used ${e.used[0]} s ago, last confirmed ${e.used[1]} s ago`);
	return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export function evaluate(obs: Observation, params: Params): Verdict {
	const evidence = obs.evidence.map((e) => ({ ...e }));
	const table = evidence[obs.table]!;
	const unresolved = obs.entries.filter(isUnresolved);
	const devices = new Map<string, { total: number; unresolved: number }>();
	for (const e of obs.entries) {
		const d = devices.get(e.dev ?? '?') ?? { total: 0, unresolved: 0 };
		d.total++;
		if (isUnresolved(e)) d.unresolved++;
		devices.set(e.dev ?? '?', d);
	}
	const facts: Record<string, string | number | boolean | null | string[]> = {
		entries: obs.entries.length,
		unresolvedCount: unresolved.length,
		unresolved: unresolved.map(label),
		perDevice: [...devices].map(([dev, d]) => `${dev}: ${d.unresolved} unresolved of ${d.total}`),
	};
	if (params.target !== undefined) {
		const want = canonicalAddress(params.target);
		const mine = obs.entries.filter((e) => canonicalAddress(e.dst) === want);
		const stat = obs.stats?.find((e) => canonicalAddress(e.dst) === want);
		facts.target = params.target;
		facts.targetStates = mine.map((e) => `${e.dev ?? '?'}: ${e.states.join(',')}`);
		facts.probes = stat?.probes ?? null;
		table.lines = mine.map((e) => e.line);
		if (obs.statsAt !== null && stat) evidence[obs.statsAt]!.lines = [stat.line];
		const bad = mine.filter(isUnresolved);
		if (bad.length > 0)
			return fail(
				`${params.target} never answers: its entry on ${bad.map((e) => `${e.dev} is ${e.states.join(',')}`).join(', ')}${counters(stat)}. The host asks and no reply reaches the device that asked.`,
				{ evidence, facts, next: NEXT_VLAN },
			);
		if (mine.length === 0)
			return warn(
				`No neighbour entry for ${params.target}: the host has not tried to reach it lately, or it is not on a directly connected subnet (then the gateway is what gets resolved). Ping it from this host, then run the check again.`,
				{ evidence, facts },
			);
		return pass(
			`${params.target} resolves: ${mine.map((e) => `${e.dev} ${e.states.join(',')}${e.lladdr ? ` at ${e.lladdr}` : ''}`).join(', ')}${counters(stat)}.`,
			{ evidence, facts, next: NEXT_DONE },
		);
	}
	table.lines = unresolved.map((e) => e.line);
	if (unresolved.length > 0) {
		const byDev = [...devices].filter(([, d]) => d.unresolved > 0).map(([dev, d]) => `${dev} ${d.unresolved} of ${d.total}`);
		return fail(
			`${unresolved.length} neighbour${unresolved.length === 1 ? '' : 's'} never answered: ${unresolved.map(label).join('; ')} (unresolved per device: ${byDev.join(', ')}).`,
			{ evidence, facts, next: NEXT_VLAN },
		);
	}
	return pass(
		obs.entries.length === 0
			? 'The neighbour table is empty: nothing is waiting for an answer.'
			: `All ${obs.entries.length} neighbour entries resolved (${[...devices].map(([dev, d]) => `${dev} ${d.total}`).join(', ')}); none is INCOMPLETE or FAILED.`,
		{ evidence, facts, next: NEXT_DONE },
	);
}

// --- run ---------------------------------------------------------------------------------------

const execIp = (ctx: Ctx, probe: ExecProbe, evidence: Evidence[]) => execWhole(ctx, probe, evidence, EXEC_TIMEOUT_MS, installHint('ip'));

function failed(cmd: string, r: { code: number | null; stderr: string }, evidence: Evidence[]): Undecided {
	return new Undecided(commandFailed(cmd, r, { evidence }));
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	let format: 'json' | 'text' = 'json';
	let r = await execIp(ctx, jsonProbe, evidence);
	let table: Parsed<Neighbour[]>;
	if (r.code !== 0 && jsonUnsupported(r.stderr)) {
		format = 'text';
		r = await execIp(ctx, textProbe, evidence);
		if (r.code !== 0) throw failed('ip neigh show', r, evidence);
		table = parseNeighText(r.stdout);
	} else {
		if (r.code !== 0) throw failed('ip -j neigh show', r, evidence);
		table = parseNeighJson(r.stdout);
	}
	if (!table.ok) throw new Undecided(error(codeForOutput(r.stdout, { reason: table.reason }), `${table.reason}.`, { evidence }));
	const tableAt = r.at;
	let stats: Neighbour[] | null = null;
	let statsAt: number | null = null;
	if (params.target !== undefined) {
		const probe = statsProbe(params.target);
		const s = await execIp(ctx, probe, evidence);
		if (s.code !== 0) throw failed(probe.argv.join(' '), s, evidence);
		const p = parseNeighText(s.stdout);
		if (!p.ok) throw new Undecided(error(codeForOutput(s.stdout, { reason: p.reason }), `${p.reason}.`, { evidence }));
		stats = p.value;
		statsAt = s.at;
	}
	return { entries: table.value, stats, evidence, table: tableAt, statsAt, format };
}

export function run(ctx: Ctx, params: Params): Promise<Verdict> {
	return decide(async () => evaluate(await observe(ctx, params), params));
}

export default defineCheck({
	id: 'net.neigh-unresolved',
	title: 'Neighbours that never answer (ARP / NDP)',
	description:
		'Reads the neighbour table (ip -j neigh show, or ip neigh show on iproute2 without JSON) and fails when the target, or without a target any entry, is INCOMPLETE or FAILED: the host asks and no reply reaches the device that asked. Counts per device; with a target, the probes sent.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [NEXT_VLAN, NEXT_DONE],
	params: ParamsSchema,
	probes: (params: Params) => [jsonProbe, textProbe, ...(params.target === undefined ? [] : [statsProbe(params.target)])],
	run,
});
