/**
 * nxos.copp-drops: is Control Plane Policing on a Cisco NX-OS switch dropping traffic, and is it
 * the class where ICMP-redirect punts land?
 *
 * Failure (DOMAIN.md section 5; Christopher Hart, "ICMP Redirects - How Data Plane Traffic Can Become
 * Control Plane Traffic", N93180YC-FX, NX-OS 9.3(8)): a hairpinned flow through an interface with
 * `ip redirects` on is punted to the supervisor packet by packet. On that N9K the punts were counted
 * in `copp-system-p-class-exception` (its class-map only lists `match exception ip option / ip icmp
 * unreachable / ipv6 option / ipv6 icmp unreachable`), policed at `police cir 150 kbps , bc 32000
 * bytes` in copp-system-p-policy-strict; at 1000 pps the class dropped 9055028 bytes against 892500
 * transmitted. Note `copp-system-p-class-redirect` is for ARP-inspection / DHCP-snooping redirects,
 * not ICMP redirects.
 *
 * Loss arithmetic: the policer passes at most its CIR, so a flow offering R to it loses about
 * 1 - CIR / R: 25% when it offers 4/3 of the CIR, 50% at twice the CIR. The 25% or 50% an
 * application sees depends on the offered load, not on a fixed ratio.
 *
 * Runs `show policy-map interface control-plane`, raw, no pipe. Understands the N9K module blocks
 * (`class-map NAME (match-any)`, `police cir N kbps , bc N bytes`, `module 1 :`,
 * `transmitted N bytes;` or `packets;`, `5-minute offered rate N bytes/sec`,
 * `dropped N bytes;`, `5-min violate rate N byte/sec`), and the shape the usual filter
 * `| include class|dropped | exclude dropped.0.bytes` leaves (class lines, plus `dropped N bytes;`
 * under the classes that drop). Classes listed without counters (Nexus 9000v) or a module block
 * without its `dropped` line (cut, or another platform's layout) are not understood.
 *
 * Rules, all in `evaluate`:
 * - fail: the exception class (`copp-system-p-class-exception`, or a copy of it such as
 *   `...-class-exception-<suffix>`; not `-exception-diag`) dropped anything.
 * - warn: another class dropped (glean in l3uc-data, ARP in normal, NDP ...): CoPP is losing
 *   control-plane traffic, but not the redirect punts.
 * - pass: nothing dropped. Counters run since `clear copp statistics`, so drops seen once may be old:
 *   clear, wait, run again.
 *
 * Serves content/runbooks/icmp-redirect-copp.mdx, step "On Cisco NX-OS: is CoPP dropping them".
 */
import { z } from 'zod';
import {
	defineCheck,
	evidenceOf,
	fail,
	notUnderstood,
	parsed,
	pass,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type Verdict,
} from '../../src/core/check.ts';
import { runShow } from '../../src/core/parse/nxos.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 30_000;

const showProbe: ExecProbe = {
	kind: 'exec',
	argv: ['show', 'policy-map', 'interface', 'control-plane'],
	why: 'per CoPP class: bytes transmitted to the CPU and dropped by its policer, since clear copp statistics',
	timeoutMs: EXEC_TIMEOUT_MS,
};

// --- parser ------------------------------------------------------------------------------------

export interface CoppClass {
	name: string;
	/** 1-based line of `class-map NAME (...)`. */
	line: number;
	/** `police cir 150 kbps` -> { value: 150, unit: 'kbps' }; null when not shown. */
	cir: { value: number; unit: string } | null;
	/** Summed over its module blocks; null in the filtered shape. */
	transmitted: number | null;
	dropped: number;
	/** What the counters count. */
	unit: 'bytes' | 'packets';
	/** `5-minute offered rate N bytes/sec`, summed over modules; null when not shown. */
	offeredRate: number | null;
	/** `5-min violate rate N byte/sec`, summed over modules; null when not shown. */
	violateRate: number | null;
	/** Lines of its `dropped` counters. */
	droppedLines: number[];
}

export interface CoppReport {
	/** `blocks`: the full per-class output; `filtered`: class and dropped lines only. */
	shape: 'blocks' | 'filtered';
	/** `Service-policy input: NAME`; null when not shown. */
	policy: string | null;
	classes: CoppClass[];
}

interface Building extends Omit<CoppClass, 'transmitted' | 'dropped' | 'unit'> {
	modules: { line: number; transmitted: number | null; dropped: number | null }[];
	transmitted: number | null;
	dropped: number | null;
	unit: 'bytes' | 'packets' | null;
	/** Lines that only the full output has (match, set, police, module). */
	configLines: number;
}

const unitOf = (u: string): 'bytes' | 'packets' => (u.startsWith('packet') ? 'packets' : 'bytes');

/**
 * `show policy-map interface control-plane` on NX-OS (N9K), e.g.
 * `    class-map copp-system-p-class-exception (match-any)` ... `      module 1 :` /
 * `        transmitted 892500 bytes;` ... `        dropped 9055028 bytes;`.
 */
export function parseCoppPolicy(text: string): Parsed<CoppReport> {
	if (text.trim() === '') return notUnderstood('show policy-map interface control-plane printed nothing');
	const lines = text.split(/\r?\n/);
	const classes: Building[] = [];
	let policy: string | null = null;
	let cur: Building | null = null;
	let module: Building['modules'][number] | null = null;
	for (const [i, raw] of lines.entries()) {
		const line = raw.trim();
		const n = i + 1;
		if (line === '' || line === 'Control Plane') continue;
		let m = /^Service-policy\s+(?:input|output):\s+(\S+)$/.exec(line);
		if (m) {
			policy = m[1]!;
			continue;
		}
		m = /^class-map\s+(\S+)\s+\(match-(?:any|all)\)$/.exec(line);
		if (m) {
			cur = {
				name: m[1]!,
				line: n,
				cir: null,
				modules: [],
				transmitted: null,
				dropped: null,
				unit: null,
				offeredRate: null,
				violateRate: null,
				droppedLines: [],
				configLines: 0,
			};
			classes.push(cur);
			module = null;
			continue;
		}
		if (!cur) continue;
		if (/^(match|set)\s/.test(line)) {
			cur.configLines++;
			continue;
		}
		m = /^police\s+cir\s+(\d+)\s+([a-z]+)\b/.exec(line);
		if (m) {
			cur.cir = { value: Number(m[1]), unit: m[2]! };
			cur.configLines++;
			continue;
		}
		m = /^module\s+(\d+)\s*:$/.exec(line);
		if (m) {
			module = { line: n, transmitted: null, dropped: null };
			cur.modules.push(module);
			cur.configLines++;
			continue;
		}
		m = /^transmitted\s+(\d+)\s+(bytes?|packets?);$/.exec(line);
		if (m && module) {
			module.transmitted = Number(m[1]);
			cur.unit = unitOf(m[2]!);
			continue;
		}
		m = /^dropped\s+(\d+)\s+(bytes?|packets?);$/.exec(line);
		if (m) {
			if (module) module.dropped = Number(m[1]);
			else cur.dropped = (cur.dropped ?? 0) + Number(m[1]);
			cur.unit = unitOf(m[2]!);
			cur.droppedLines.push(n);
			continue;
		}
		m = /^\S+\s+offered\s+rate\s+(\d+)\s+bytes?\/sec$/.exec(line);
		if (m && module) {
			cur.offeredRate = (cur.offeredRate ?? 0) + Number(m[1]);
			continue;
		}
		m = /^\S+\s+violate\s+rate\s+(\d+)\s+bytes?\/sec$/.exec(line);
		if (m && module) cur.violateRate = (cur.violateRate ?? 0) + Number(m[1]);
	}
	if (classes.length === 0) return notUnderstood('no "class-map NAME (match-any)" line: not NX-OS CoPP output');
	const withModules = classes.filter((c) => c.modules.length > 0);
	const configOnly = classes.some((c) => c.configLines > 0);
	let shape: CoppReport['shape'];
	if (withModules.length > 0) shape = 'blocks';
	else if (!configOnly) shape = 'filtered';
	else
		return notUnderstood(
			'the classes are listed without counters (no "module N :" blocks): a platform that does not count CoPP per class (Nexus 9000v), or another layout',
		);
	const out: CoppClass[] = [];
	for (const c of classes) {
		if (shape === 'blocks') {
			if (c.modules.length === 0) return notUnderstood(`${c.name} (line ${c.line}) has no "module N :" counters while other classes do`);
			const cut = c.modules.find((mod) => mod.dropped === null || mod.transmitted === null);
			if (cut)
				return notUnderstood(
					`the module block on line ${cut.line} (class ${c.name}) has no ${cut.transmitted === null ? '"transmitted N bytes;"' : '"dropped N bytes;"'} line: the output was cut, or this platform prints another layout`,
				);
		}
		out.push({
			name: c.name,
			line: c.line,
			cir: c.cir,
			transmitted: shape === 'blocks' ? c.modules.reduce((s, mod) => s + mod.transmitted!, 0) : null,
			dropped: shape === 'blocks' ? c.modules.reduce((s, mod) => s + mod.dropped!, 0) : (c.dropped ?? 0),
			unit: c.unit ?? 'bytes',
			offeredRate: c.offeredRate,
			violateRate: c.violateRate,
			droppedLines: c.droppedLines,
		});
	}
	return parsed(
		{ shape, policy, classes: out },
		out.flatMap((c) => [c.line, ...c.droppedLines]),
	);
}

/** The class ICMP-redirect punts are policed in on N9K, or a renamed copy of it; not exception-diag. */
export const isExceptionClass = (name: string) => /class-exception(?!-diag)(?:-[\w]+)?$/.test(name);

/** Policer rate in bytes per second; null for packet-rate policers (`pps`) and unknown units. */
export function cirBytesPerSecond(cir: CoppClass['cir']): number | null {
	if (!cir) return null;
	const bits: Record<string, number> = { bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
	const f = bits[cir.unit.toLowerCase()];
	return f === undefined ? null : (cir.value * f) / 8;
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	report: CoppReport;
	command: string;
	output: string;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * The loss arithmetic for one dropping class: how much it dropped (`detail`, empty when the counters
 * give no share), the rule with this policer's numbers (`rule`), and the numbers as facts.
 */
export function lossArithmetic(c: CoppClass): { detail: string; rule: string; facts: Facts } {
	const facts: Facts = {};
	const parts: string[] = [];
	if (c.transmitted !== null) {
		const seen = c.transmitted + c.dropped;
		facts.dropShareSinceClear = seen > 0 ? Math.round((c.dropped / seen) * 1000) / 1000 : null;
		if (seen > 0) parts.push(`${pct(c.dropped / seen)} of the ${seen} ${c.unit} it saw since its counters were cleared`);
	}
	if (c.offeredRate !== null && c.violateRate !== null && c.offeredRate + c.violateRate > 0) {
		const offered = c.offeredRate + c.violateRate;
		facts.offeredBytesPerSecond = offered;
		facts.lossNow = Math.round((c.violateRate / offered) * 1000) / 1000;
		parts.push(`about ${pct(c.violateRate / offered)} right now: ${c.violateRate} of ${offered} bytes/sec, 5-minute averages`);
	}
	const cir = cirBytesPerSecond(c.cir);
	let rule = 'Loss ≈ 1 − policer rate / offered rate: a flow offering 4/3 of the policer rate loses 25%, twice the rate loses 50%.';
	if (cir !== null && c.cir) {
		facts.cirBytesPerSecond = cir;
		rule = `Loss ≈ 1 − policer rate / offered rate: its policer (cir ${c.cir.value} ${c.cir.unit} = ${cir} bytes/sec) drops what exceeds it, so a flow offering ${Math.round(cir / 0.75)} bytes/sec loses 25% and one offering ${cir * 2} bytes/sec loses 50%.`;
	}
	return { detail: parts.length > 0 ? ` (${parts.join('; ')})` : '', rule, facts };
}

/** Judge the classes. Pure; every rule is here. */
export function evaluate(obs: Observation): Verdict {
	const { report } = obs;
	const dropping = report.classes.filter((c) => c.dropped > 0);
	const exception = report.classes.filter((c) => isExceptionClass(c.name));
	const exceptionDropping = dropping.filter((c) => isExceptionClass(c.name));
	const others = dropping.filter((c) => !isExceptionClass(c.name));
	const facts: Facts = {
		shape: report.shape,
		policy: report.policy,
		classes: report.classes.length,
		dropping: dropping.map((c) => `${c.name}=${c.dropped} ${c.unit}`),
		exceptionClass: exception[0]?.name ?? null,
		exceptionDropped: exception.length > 0 ? exception.reduce((s, c) => s + c.dropped, 0) : null,
		exceptionTransmitted:
			exception.length > 0 && exception.every((c) => c.transmitted !== null) ? exception.reduce((s, c) => s + c.transmitted!, 0) : null,
	};
	const lines = (set: CoppClass[]) => set.flatMap((c) => [c.line, ...c.droppedLines]).sort((a, b) => a - b);
	const evidence = (set: CoppClass[]): Evidence[] => [evidenceOf(obs.command, obs.output, lines(set))];
	const shapeNote = report.shape === 'filtered' ? ' (read from class and dropped lines only)' : '';
	const othersText =
		others.length > 0 ? ` Other classes dropping too: ${others.map((c) => `${c.name} ${c.dropped} ${c.unit}`).join(', ')}.` : '';

	if (exceptionDropping.length > 0) {
		const c = exceptionDropping[0]!;
		const loss = lossArithmetic(c);
		Object.assign(facts, loss.facts);
		return fail(
			`CoPP class ${c.name} dropped ${c.dropped} ${c.unit}${loss.detail}. On Nexus 9000 this is where packets punted to raise ICMP redirects are policed (with IP options and ICMP unreachables), so a flow routed back out the interface it came in on loses packets at the CPU. ${loss.rule} Counters run since \`clear copp statistics\`: clear, wait, and run again to see whether the drops are current.${othersText}`,
			{ evidence: evidence(dropping), facts, next: '#turn-off-redirects' },
		);
	}
	if (others.length > 0) {
		return warn(
			`CoPP is dropping in ${others.map((c) => `${c.name} (${c.dropped} ${c.unit})`).join(', ')}${shapeNote}, but not in the exception class where ICMP-redirect punts land${exception.length === 0 ? ' (no exception class in this policy)' : ''}: control-plane traffic of another kind is over its policer (l3uc-data: ARP glean for unresolved hosts; normal: ARP; ndp: IPv6 neighbour discovery). That loss is real but has another cause than redirects.`,
			{ evidence: evidence(others), facts, next: '#if-every-check-passes' },
		);
	}
	const punted = exception.find((c) => (c.transmitted ?? 0) > 0);
	return pass(
		`No CoPP class dropped anything${shapeNote} in ${report.classes.length} ${report.classes.length === 1 ? 'class' : 'classes'} shown.${punted ? ` ${punted.name} did pass ${punted.transmitted} ${punted.unit} to the CPU: packets are being punted (redirects, IP options or ICMP unreachables), within its policer so far.` : ''}${exception.length === 0 ? ' No exception class in this output.' : ''}`,
		{ evidence: evidence(punted ? [punted] : []), facts, next: '#if-every-check-passes' },
	);
}

// --- run ---------------------------------------------------------------------------------------

const SELF = '#on-cisco-nx-os-is-copp-dropping-them';

async function observe(ctx: Ctx): Promise<Observation | Verdict> {
	const shown = await runShow(ctx, showProbe, {
		refused: /^%\s*Invalid|^Invalid command|^Syntax error/m,
		hint: 'Run it on the switch by hand; the account needs a role that may show the control-plane policy (network-operator or above).',
		next: SELF,
		parse: parseCoppPolicy,
	});
	if ('status' in shown) return shown;
	return { report: shown.value, command: shown.command, output: shown.output };
}

export default defineCheck({
	id: 'nxos.copp-drops',
	title: 'CoPP drops on NX-OS, and whether they are the redirect punts',
	description:
		'Reads `show policy-map interface control-plane` on a Cisco NX-OS switch and lists the classes whose policer dropped traffic. Fails when copp-system-p-class-exception drops (where packets punted for ICMP redirects are policed on Nexus 9000), with the loss arithmetic; warns when only other classes drop.',
	platforms: ['nxos'],
	mutates: false,
	nextSteps: ['#turn-off-redirects', '#if-every-check-passes', '#on-cisco-nx-os-is-copp-dropping-them'],
	params: ParamsSchema,
	probes() {
		return [showProbe];
	},
	async run(ctx) {
		const obs = await observe(ctx);
		if ('status' in obs) return obs;
		ctx.progress('comparing', 0.9);
		return evaluate(obs);
	},
});
