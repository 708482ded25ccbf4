/**
 * Builds the `Ctx` a check sees on top of a transport. This is where the three verbs become
 * commands, where per-probe limits apply, and where every probe is logged for the record.
 *
 * `read(path)` is `cat PATH` (LC_ALL=C, set by the transport): exit 0 gives the text, "No such file
 * or directory" gives `null`, "Permission denied" throws `PermissionDenied`, anything else
 * `CommandFailed`. The same `cat` works over SSH, locally and on scenario hosts.
 *
 * Probes are batched per host through a `ProbeCache` (one per host per run, kept by `Sessions`):
 * a command line another check already ran on this host in this run is answered from the cache,
 * so a runbook's checks do not ask a host the same thing twice. A check that asks its own probe
 * again (sampled counters: read, sleep, read) always gets a fresh answer, which then replaces the
 * cached one. Failed probes (timeouts, lost connections) are not cached. Known limit: a check whose
 * FIRST sample of a counter was answered from the cache measures its delta from when the earlier
 * check read it, a longer interval than it slept; no runbook today has two checks sampling the same
 * counter.
 */
import type { Ctx, ExecResult } from '../core/check.ts';
import { quoteArgv } from '../core/argv.ts';
import { RunbookError } from '../core/errors.ts';
import type { ExecLimits, Transport } from '../transport/types.ts';

export interface ProbeRecord {
	command: string;
	code: number | null;
	truncated: boolean;
	durationMs: number;
	/** True when the answer came from the run's cache: another check ran it on this host already. */
	cached?: boolean;
}

/** Answers one host gave during one run, by command line (`cat PATH` for reads). */
export class ProbeCache {
	readonly #answers = new Map<string, Promise<ExecResult>>();
	#hits = 0;

	/** How many probes were answered from the cache. */
	get hits(): number {
		return this.#hits;
	}

	/** The answer already given to `command`, counting the hit; undefined when there is none. */
	lookup(command: string): Promise<ExecResult> | undefined {
		const answer = this.#answers.get(command);
		if (answer) this.#hits++;
		return answer;
	}

	/** Remember an answer in flight; forgotten again if it fails. */
	store(command: string, answer: Promise<ExecResult>): void {
		this.#answers.set(command, answer);
		answer.catch(() => {
			if (this.#answers.get(command) === answer) this.#answers.delete(command);
		});
	}
}

export interface CtxHooks {
	onProgress?: (message: string, fraction?: number) => void;
	/** Lets tests and the scenario recorder see every probe with its full result. */
	onProbe?: (argv: readonly string[], result: ExecResult) => void;
	/** The host's cache for this run; without it every probe goes to the host. */
	cache?: ProbeCache;
}

export function createCtx(transport: Transport, limits: ExecLimits, hooks: CtxHooks = {}): { ctx: Ctx; probes: ProbeRecord[] } {
	const probes: ProbeRecord[] = [];
	/** Command lines this check has asked: asking one again is sampling, and goes to the host. */
	const asked = new Set<string>();

	async function exec(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult> {
		const started = performance.now();
		const command = quoteArgv(argv);
		const again = asked.has(command);
		asked.add(command);
		const earlier = again ? undefined : hooks.cache?.lookup(command);
		let answer = earlier;
		if (!answer) {
			answer = transport.exec(argv, { ...limits, timeoutMs: options?.timeoutMs ?? limits.timeoutMs });
			hooks.cache?.store(command, answer);
		}
		const result = await answer;
		const record: ProbeRecord = {
			command,
			code: result.code,
			truncated: result.truncated === true,
			durationMs: Math.round(performance.now() - started),
		};
		if (earlier) record.cached = true;
		probes.push(record);
		hooks.onProbe?.(argv, result);
		return result;
	}

	const ctx: Ctx = {
		exec,
		async read(path) {
			if (!path.startsWith('/')) throw new Error(`ctx.read needs an absolute path, got "${path}"`);
			const r = await exec(['cat', path]);
			if (r.code === 0) return r.stdout;
			if (/No such file or directory/.test(r.stderr)) return null;
			if (/Permission denied|Operation not permitted/.test(r.stderr)) {
				throw new RunbookError('PermissionDenied', `cannot read ${path}: ${r.stderr.trim()}`);
			}
			if (r.code === 127)
				throw new RunbookError('CommandMissing', `cat is not available on the host (${r.stderr.trim()})`, {
					hint: 'Install coreutils, or read the file by hand.',
				});
			throw new RunbookError('CommandFailed', `cat ${path} exited ${r.code}: ${r.stderr.trim() || '(no error output)'}`);
		},
		sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
		progress: (message, fraction) => hooks.onProgress?.(message, fraction),
	};
	return { ctx, probes };
}
