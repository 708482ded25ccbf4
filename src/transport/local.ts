/**
 * The `local` transport: probes run on this machine, for an engineer already logged in on the
 * affected host. The argv is spawned directly, never through a shell, in the C locale so parsers
 * see the output they were written against. It answers like a host reached over SSH would: a
 * missing program is exit 127 with `command not found`, not an exception.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { quoteArgv } from '../core/argv.ts';
import type { ExecResult } from '../core/check.ts';
import { RunbookError } from '../core/errors.ts';
import type { ExecLimits, Transport } from './types.ts';

/**
 * After a stream passes its cap, how long the command may take to exit on its own before it is
 * killed and what was kept is returned (its exit code then `null`).
 */
export const TRUNCATE_GRACE_MS = 1000;

/** Collects one output stream up to a byte cap; decodes as UTF-8 with U+FFFD for bad bytes. */
export class StreamCap {
	private readonly chunks: Buffer[] = [];
	private size = 0;
	truncated = false;
	constructor(private readonly maxBytes: number) {}

	/** Keep what fits; false once the cap has been passed. */
	push(chunk: Buffer): boolean {
		if (this.truncated) return false;
		const room = this.maxBytes - this.size;
		if (chunk.length > room) {
			this.chunks.push(chunk.subarray(0, room));
			this.size = this.maxBytes;
			this.truncated = true;
			return false;
		}
		this.chunks.push(chunk);
		this.size += chunk.length;
		return true;
	}

	text(): string {
		return new TextDecoder('utf-8').decode(Buffer.concat(this.chunks, this.size));
	}
}

/** The command as named in a timeout message. */
export function describeCommand(argv: readonly string[]): string {
	const s = quoteArgv(argv);
	return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Kill the child's process group (it was made a group leader), and the child itself. */
function killGroup(child: ChildProcess): void {
	if (child.pid !== undefined) {
		try {
			process.kill(-child.pid, 'SIGKILL');
		} catch {
			// the group is already empty
		}
	}
	child.kill('SIGKILL');
}

function runLocal(argv: readonly string[], limits: ExecLimits): Promise<ExecResult> {
	const [cmd, ...args] = argv;
	if (cmd === undefined) return Promise.reject(new Error('exec: empty argv'));
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
			// Its own process group, so a timeout kills what it started too.
			detached: true,
		});
		const out = new StreamCap(limits.maxBytes);
		const err = new StreamCap(limits.maxBytes);
		let settled = false;
		let graceTimer: NodeJS.Timeout | undefined;

		const finish = (result: ExecResult | Error) => {
			if (settled) return;
			settled = true;
			clearTimeout(deadline);
			clearTimeout(graceTimer);
			if (result instanceof Error) reject(result);
			else resolve(result);
		};
		const result = (code: number | null): ExecResult => {
			const r: ExecResult = { stdout: out.text(), stderr: err.text(), code };
			if (out.truncated || err.truncated) r.truncated = true;
			return r;
		};

		const deadline = setTimeout(() => {
			killGroup(child);
			finish(new RunbookError('ProbeTimeout', `${describeCommand(argv)} did not finish in ${limits.timeoutMs / 1000}s`));
		}, limits.timeoutMs);

		// Past the cap, output is discarded; the command gets a moment to finish, then is killed.
		const onCapped = () => {
			if (graceTimer !== undefined) return;
			graceTimer = setTimeout(() => {
				killGroup(child);
				finish(result(null));
			}, TRUNCATE_GRACE_MS);
		};
		child.stdout.on('data', (chunk: Buffer) => {
			if (!out.push(chunk)) onCapped();
		});
		child.stderr.on('data', (chunk: Buffer) => {
			if (!err.push(chunk)) onCapped();
		});

		child.on('error', (e: NodeJS.ErrnoException) => {
			// What a shell answers, so a check sees the same thing on every transport.
			if (e.code === 'ENOENT') finish({ stdout: '', stderr: `${cmd}: command not found\n`, code: 127 });
			else if (e.code === 'EACCES') finish({ stdout: '', stderr: `${cmd}: Permission denied\n`, code: 126 });
			else finish(e);
		});
		child.on('close', (code) => {
			// The leader has exited; anything it left behind in its group goes with it.
			killGroup(child);
			finish(result(code));
		});
	});
}

export function createLocalTransport(): Transport {
	return {
		label: 'local',
		exec: runLocal,
		async close() {},
	};
}
