/**
 * The runner: validates what it is asked to run, connects, builds a `Ctx`, runs the check, and turns
 * whatever happens into a `VerdictRecord`. It knows no particular check.
 *
 * Error channels (STYLE.md): invocation errors (unknown check, host or param) are thrown before
 * anything runs; transport errors (host keys, auth, timeouts) are caught here and become `error`
 * verdicts with their catalogue code; a check that throws anything else becomes `CheckCrashed`, with
 * its stack logged, never a pass.
 */
import type { CheckDefinition, Platform, Verdict } from '../core/check.ts';
import { isRunbookError, RunbookError } from '../core/errors.ts';
import { probeCommand } from '../core/check.ts';
import type { Registry } from '../core/registry.ts';
import { resolveHost, resolveHostsOrGroup, loadHosts } from '../inventory/resolve.ts';
import { publicHost, type Host, type PublicHost } from '../inventory/types.ts';
import { loadScenarios } from '../scenarios/load.ts';
import { openTransport } from '../transport/connect.ts';
import { DEFAULT_LIMITS, type ExecLimits, type Transport } from '../transport/types.ts';
import { createCtx, ProbeCache, type ProbeRecord } from './ctx.ts';
import { paramDocs, validateParams, type ParamDoc } from './params.ts';
import type { RunEvent, RunOptions, VerdictRecord } from './types.ts';

function limitsFor(opts: RunOptions): ExecLimits {
	return { ...DEFAULT_LIMITS, timeoutMs: (opts.timeoutSeconds ?? DEFAULT_LIMITS.timeoutMs / 1000) * 1000 };
}

/** The scenario hosts' names and platforms, for the host sources. */
async function scenarioSources(opts: RunOptions): Promise<{ scenarioNames: string[]; scenarioPlatforms: Record<string, Platform> }> {
	const scenarios = await loadScenarios(opts.scenarioDirs ?? []);
	return {
		scenarioNames: [...scenarios.keys()],
		scenarioPlatforms: Object.fromEntries([...scenarios].map(([name, s]) => [name, s.platform])),
	};
}

/** Every host the picker and `runbook hosts` offer, without secrets. */
export async function listHosts(opts: RunOptions): Promise<PublicHost[]> {
	const hosts = await loadHosts({ inventory: opts.inventory, ...(await scenarioSources(opts)) });
	return hosts.map(publicHost);
}

export async function findHost(name: string, opts: RunOptions): Promise<Host> {
	return resolveHost(name, { inventory: opts.inventory, ...(await scenarioSources(opts)) });
}

/**
 * Hosts by name, where a name may also be an inventory group (its hosts, in inventory order);
 * each host once, in the order first named. Throws `UnknownHost` before connecting to anything.
 */
export async function findHosts(names: readonly string[], opts: RunOptions): Promise<Host[]> {
	const sources = { inventory: opts.inventory, ...(await scenarioSources(opts)) };
	const out = new Map<string, Host>();
	for (const name of names) for (const host of await resolveHostsOrGroup(name, sources)) if (!out.has(host.name)) out.set(host.name, host);
	return [...out.values()];
}

/**
 * Connections for one run: one per host, opened on first use and reused by every probe of every
 * check on that host, closed together at the end. Each host also gets one `ProbeCache` for the run,
 * so a probe one check already ran there is not run again for the next (see ctx.ts).
 */
export class Sessions {
	readonly #opts: RunOptions;
	readonly #open = new Map<string, Promise<Transport>>();
	readonly #caches = new Map<string, ProbeCache>();
	constructor(opts: RunOptions) {
		this.#opts = opts;
	}
	/** The host's probe cache for this run. */
	cacheFor(host: Host): ProbeCache {
		let cache = this.#caches.get(host.name);
		if (!cache) {
			cache = new ProbeCache();
			this.#caches.set(host.name, cache);
		}
		return cache;
	}
	/** Probes answered from the cache so far, on one host or on all. */
	cacheHits(hostName?: string): number {
		if (hostName !== undefined) return this.#caches.get(hostName)?.hits ?? 0;
		let n = 0;
		for (const c of this.#caches.values()) n += c.hits;
		return n;
	}
	transportFor(host: Host): Promise<Transport> {
		let t = this.#open.get(host.name);
		if (!t) {
			const connect = openTransport(host, {
				knownHosts: this.#opts.knownHosts,
				acceptNew: this.#opts.acceptNew,
				identity: this.#opts.identity,
				connectTimeoutMs: limitsFor(this.#opts).timeoutMs,
				scenarioDirs: this.#opts.scenarioDirs,
			});
			t = connect;
			this.#open.set(host.name, t);
			// A failed connection is not cached: the next check on this host tries again.
			connect.catch(() => this.#open.delete(host.name));
		}
		return t;
	}
	async close(): Promise<void> {
		const all = [...this.#open.values()];
		this.#open.clear();
		await Promise.allSettled(all.map(async (t) => (await t).close()));
	}
}

function errorVerdict(e: RunbookError): Verdict {
	const v: Verdict = { status: 'error', summary: e.detail, evidence: [], facts: {}, code: e.code };
	if (e.hint !== undefined) v.hint = e.hint;
	return v;
}

/** Run one validated check on one resolved host, inside a session. Never throws for host problems. */
export async function runOnHost(
	check: CheckDefinition,
	params: Record<string, unknown>,
	host: Host,
	sessions: Sessions,
	opts: RunOptions,
	problem?: RunbookError,
): Promise<VerdictRecord> {
	return (await traceOnHost(check, params, host, sessions, opts, problem)).verdict;
}

/** A verdict with the probes that led to it, as run (cached answers marked). */
export interface TracedVerdict {
	verdict: VerdictRecord;
	probes: ProbeRecord[];
}

/** `runOnHost`, keeping the probe log. */
export async function traceOnHost(
	check: CheckDefinition,
	params: Record<string, unknown>,
	host: Host,
	sessions: Sessions,
	opts: RunOptions,
	problem?: RunbookError,
): Promise<TracedVerdict> {
	const started = performance.now();
	const emit = (e: RunEvent) => opts.onEvent?.(e);
	emit({ type: 'start', check: check.id, host: host.name, probes: problem ? [] : check.probes(params).map(probeCommand) });
	let verdict: Verdict;
	let hostKey: string | undefined;
	let truncated: string[] = [];
	let log: ProbeRecord[] = [];
	if (!check.platforms.includes(host.platform)) {
		verdict = {
			status: 'skip',
			summary: `${check.id} applies to ${check.platforms.join(', ')} hosts; ${host.name} is ${host.platform}.`,
			evidence: [],
			facts: {},
		};
	} else if (problem) {
		// A runbook run where this step's parameters were not given: said per check, the others still run.
		verdict = errorVerdict(problem);
	} else {
		try {
			const transport = await sessions.transportFor(host);
			hostKey = transport.hostKey?.fingerprint;
			const { ctx, probes } = createCtx(transport, limitsFor(opts), {
				onProgress: (message, fraction) =>
					emit({ type: 'progress', check: check.id, host: host.name, message, ...(fraction === undefined ? {} : { fraction }) }),
				cache: sessions.cacheFor(host),
			});
			log = probes;
			try {
				verdict = await check.run(ctx, params);
			} finally {
				truncated = probes.filter((p) => p.truncated).map((p) => p.command);
			}
		} catch (e) {
			if (isRunbookError(e)) verdict = errorVerdict(e);
			else {
				console.error(`[runbook] check ${check.id} crashed on ${host.name}:`, e);
				verdict = {
					status: 'error',
					code: 'CheckCrashed',
					summary: `${check.id} crashed: ${e instanceof Error ? e.message : String(e)}`,
					hint: 'Run the commands of this step by hand; the stack trace is in the server or CLI log.',
					evidence: [],
					facts: {},
				};
			}
		}
	}
	if (truncated.length > 0) {
		const note = `Output of ${truncated.map((c) => `\`${c}\``).join(', ')} was cut at ${DEFAULT_LIMITS.maxBytes / 1024 / 1024} MiB.`;
		verdict =
			verdict.status === 'pass'
				? {
						...verdict,
						status: 'error',
						code: 'OutputTruncated',
						summary: `${note} The check cannot pass on output it did not see whole.`,
						hint: 'Run the command by hand and read the full output.',
					}
				: { ...verdict, summary: `${verdict.summary} ${note}` };
	}
	const record: VerdictRecord = {
		check: check.id,
		host: host.name,
		status: verdict.status,
		summary: verdict.summary,
		facts: verdict.facts,
		evidence: verdict.evidence,
		durationMs: Math.round(performance.now() - started),
	};
	if (verdict.next !== undefined) record.next = verdict.next;
	if (verdict.fix !== undefined) record.fix = verdict.fix;
	if (verdict.diagram !== undefined) record.diagram = verdict.diagram;
	if (verdict.code !== undefined) record.code = verdict.code;
	if (verdict.hint !== undefined) record.hint = verdict.hint;
	if (hostKey !== undefined) record.hostKey = hostKey;
	emit({ type: 'verdict', verdict: record });
	return { verdict: record, probes: log };
}

/**
 * One check on one host by name: what `runbook check` and the API do. Throws `RunbookError` for
 * invocation errors (unknown check, host, bad params) before connecting to anything.
 */
export async function runCheck(
	registry: Registry,
	checkId: string,
	hostName: string,
	rawParams: unknown,
	opts: RunOptions,
): Promise<VerdictRecord> {
	const check = registry.get(checkId);
	const params = validateParams(check, rawParams);
	const host = await findHost(hostName, opts);
	const sessions = new Sessions(opts);
	try {
		return await runOnHost(check, params, host, sessions, opts);
	} finally {
		await sessions.close();
	}
}

export interface PlannedRun {
	check: CheckDefinition;
	params: Record<string, unknown>;
	/** Why this check cannot run as asked (missing parameters in a runbook run); it becomes its verdict. */
	problem?: RunbookError;
}

/**
 * A check of a runbook with the parameters given for it. Parameters that are missing or not valid
 * do not stop the run: the check is planned with the problem, which becomes its `error` verdict
 * (or `skip` on a platform it does not judge). `missingText` words the message for missing
 * required parameters (the CLI names its `--param` flags; the API names the fields).
 */
export function planCheck(check: CheckDefinition, raw: Record<string, unknown>, missingText?: (missing: ParamDoc[]) => string): PlannedRun {
	try {
		return { check, params: validateParams(check, raw) as Record<string, unknown> };
	} catch (e) {
		if (!isRunbookError(e) || e.code !== 'InvalidParams') throw e;
		const missing = paramDocs(check).filter((p) => p.required && raw[p.name] === undefined);
		const detail = missing.length
			? (missingText?.(missing) ??
				`${check.id} needs ${missing.map((p) => `${p.name} (${p.type})`).join(', ')} for this host (see its runbook step)`)
			: e.detail;
		return { check, params: {}, problem: new RunbookError('InvalidParams', detail) };
	}
}

/** What one host gave in a plan run. */
export interface HostRun {
	host: Host;
	/** In plan order. */
	verdicts: VerdictRecord[];
	/** The probes behind each verdict, same order. */
	probes: ProbeRecord[][];
	/** Probes on this host answered from the run's cache. */
	cacheHits: number;
}

export interface PlanResult {
	/** Host after host, each in plan order: what `runPlan` returns. */
	verdicts: VerdictRecord[];
	hosts: HostRun[];
	cacheHits: number;
}

/** Hosts run at once by default; each has its own connection. */
export const DEFAULT_HOST_CONCURRENCY = 8;

/**
 * Several checks on several resolved hosts: in plan order per host, one connection and one probe
 * cache per host, at most `concurrency` hosts at a time.
 */
export async function runPlanOn(
	plan: readonly PlannedRun[],
	hosts: readonly Host[],
	opts: RunOptions,
	concurrency = DEFAULT_HOST_CONCURRENCY,
): Promise<PlanResult> {
	const sessions = new Sessions(opts);
	const runs: HostRun[] = new Array(hosts.length);
	let nextHost = 0;
	const worker = async () => {
		while (nextHost < hosts.length) {
			const i = nextHost++;
			const host = hosts[i]!;
			const run: HostRun = { host, verdicts: [], probes: [], cacheHits: 0 };
			for (const { check, params, problem } of plan) {
				const t = await traceOnHost(check, params, host, sessions, opts, problem);
				run.verdicts.push(t.verdict);
				run.probes.push(t.probes);
			}
			run.cacheHits = sessions.cacheHits(host.name);
			runs[i] = run;
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, hosts.length)) }, worker));
		return { verdicts: runs.flatMap((r) => r.verdicts), hosts: runs, cacheHits: sessions.cacheHits() };
	} finally {
		await sessions.close();
	}
}

/** Several checks on several hosts by name, in order per host, one connection per host. */
export async function runPlan(plan: PlannedRun[], hostNames: string[], opts: RunOptions): Promise<VerdictRecord[]> {
	const hosts: Host[] = [];
	for (const name of hostNames) hosts.push(await findHost(name, opts));
	return (await runPlanOn(plan, hosts, opts)).verdicts;
}

/** Options for the site's API, from the environment `runbook serve` sets. */
export function serverRunOptions(): RunOptions {
	const env = process.env;
	const opts: RunOptions = {};
	if (env.RUNBOOK_INVENTORY) opts.inventory = env.RUNBOOK_INVENTORY;
	if (env.RUNBOOK_KNOWN_HOSTS) opts.knownHosts = env.RUNBOOK_KNOWN_HOSTS.split(':').filter(Boolean);
	if (env.RUNBOOK_ACCEPT_NEW === '1') opts.acceptNew = true;
	if (env.RUNBOOK_IDENTITY) opts.identity = env.RUNBOOK_IDENTITY;
	if (env.RUNBOOK_TIMEOUT) opts.timeoutSeconds = Number(env.RUNBOOK_TIMEOUT);
	if (env.RUNBOOK_SCENARIOS) opts.scenarioDirs = env.RUNBOOK_SCENARIOS.split(':').filter(Boolean);
	return opts;
}

export { RunbookError };
