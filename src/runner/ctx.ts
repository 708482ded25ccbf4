/**
 * Builds the `Ctx` a check sees on top of a transport. This is where the three verbs become
 * commands, where per-probe limits apply, and where every probe is logged for the record.
 *
 * `read(path)` is `cat PATH` (LC_ALL=C, set by the transport): exit 0 gives the text, "No such file
 * or directory" gives `null`, "Permission denied" throws `PermissionDenied`, anything else
 * `CommandFailed`. The same `cat` works over SSH, locally and on scenario hosts.
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
}

export interface CtxHooks {
	onProgress?: (message: string, fraction?: number) => void;
	/** Lets tests and the scenario recorder see every probe with its full result. */
	onProbe?: (argv: readonly string[], result: ExecResult) => void;
}

export function createCtx(transport: Transport, limits: ExecLimits, hooks: CtxHooks = {}): { ctx: Ctx; probes: ProbeRecord[] } {
	const probes: ProbeRecord[] = [];

	async function exec(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult> {
		const started = performance.now();
		const result = await transport.exec(argv, { ...limits, timeoutMs: options?.timeoutMs ?? limits.timeoutMs });
		probes.push({
			command: quoteArgv(argv),
			code: result.code,
			truncated: result.truncated === true,
			durationMs: Math.round(performance.now() - started),
		});
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
			if (r.code === 127) throw new RunbookError('CommandMissing', `cat is not available on the host (${r.stderr.trim()})`, { hint: 'Install coreutils, or read the file by hand.' });
			throw new RunbookError('CommandFailed', `cat ${path} exited ${r.code}: ${r.stderr.trim() || '(no error output)'}`);
		},
		sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
		progress: (message, fraction) => hooks.onProgress?.(message, fraction),
	};
	return { ctx, probes };
}
