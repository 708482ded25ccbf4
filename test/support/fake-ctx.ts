/**
 * A check `Ctx` that answers from a scenario-shaped object instead of a host, for unit tests of any
 * check's `run()`.
 *
 * The shape is a scenario file's (`content/scenarios/*.yaml`): `files` is what `ctx.read` sees (an
 * absent path reads as `null`), `commands` maps the argv joined by single spaces to what it prints.
 * A command not listed is answered by the same pure shell the scenario SSH server uses
 * (`src/transport/scenario-shell.ts`): `cat`, `ls`, `test` from `files`, anything else
 * `command not found`, exit 127. So a test and a training host give one check the same answers.
 *
 * Two extras that a scenario file cannot express, for the error paths: `unreadable` paths make
 * `read` throw `PermissionDenied` as a transport does, and a command may be marked `truncated`.
 */
import { quoteArgv } from '../../src/core/argv.ts';
import type { Ctx, ExecResult, Probe } from '../../src/core/check.ts';
import { RunbookError } from '../../src/core/errors.ts';
import { answer, ShellState } from '../../src/transport/scenario-shell.ts';

export interface FakeCommand {
	stdout?: string;
	stderr?: string;
	/** Exit status; 0 when left out. `null` for killed by a signal. */
	code?: number | null;
	/** As if the transport cut the output at its cap. */
	truncated?: boolean;
}

export interface FakeHost {
	/** Absolute path -> contents; a list is answered in order, one item per read (the last repeats), as on a scenario host. */
	files?: Record<string, string | string[]>;
	/** `argv.join(' ')` -> answer; a list likewise gives successive answers. */
	commands?: Record<string, FakeCommand | FakeCommand[]>;
	/** Paths that exist but may not be read. */
	unreadable?: string[];
}

export interface FakeCtx extends Ctx {
	/** Every read and exec, in order: `read <path>` or `exec <argv joined>`. */
	readonly calls: string[];
	/** Messages given to `progress`. */
	readonly progressed: string[];
	/** Total milliseconds `sleep` was asked for (it returns at once). */
	slept: number;
}

export function fakeCtx(host: FakeHost): FakeCtx {
	const files = host.files ?? {};
	const commands = host.commands ?? {};
	const unreadable = new Set(host.unreadable ?? []);
	// One state for the whole fake host, as the scenario server keeps one per connection.
	const state = new ShellState();
	const calls: string[] = [];
	const progressed: string[] = [];
	const ctx: FakeCtx = {
		calls,
		progressed,
		slept: 0,
		async read(path: string): Promise<string | null> {
			calls.push(`read ${path}`);
			if (unreadable.has(path)) throw new RunbookError('PermissionDenied', `${path}: Permission denied`);
			return Object.hasOwn(files, path) ? state.take(`cat ${path}`, files[path]!) : null;
		},
		async exec(argv: readonly string[]): Promise<ExecResult> {
			const key = argv.join(' ');
			calls.push(`exec ${key}`);
			const listed = Object.hasOwn(commands, key) ? state.take(key, commands[key]!) : undefined;
			if (listed) {
				const r: ExecResult = {
					stdout: listed.stdout ?? '',
					stderr: listed.stderr ?? '',
					code: listed.code === undefined ? 0 : listed.code,
				};
				if (listed.truncated) r.truncated = true;
				return r;
			}
			const shell = answer({ files, commands: {} }, quoteArgv(argv), state);
			return { stdout: shell.stdout, stderr: shell.stderr, code: shell.code };
		},
		async sleep(ms: number): Promise<void> {
			ctx.slept += ms;
		},
		progress(message: string): void {
			progressed.push(message);
		},
	};
	return ctx;
}

/** How `calls` records what a probe announces: `read <path>`, or `exec <argv joined by spaces>`. */
export function callOf(probe: Probe): string {
	return probe.kind === 'read' ? `read ${probe.path}` : `exec ${probe.argv.join(' ')}`;
}
