/**
 * The check contract (DESIGN.md, "Check contract").
 *
 * A check knows nothing about SSH, HTTP or the browser: it gets a `Ctx` with three verbs (read a
 * file, run an argv, sleep) and returns a `Verdict`. It is split as goss splits a test: what it
 * observes (`probes`, `parse*`), what it expects and how it compares (`evaluate`, where every
 * threshold lives), and `run`, which only sequences the two.
 */
import { z } from 'zod';
import { quoteArgv } from './argv.ts';
import { ErrorCatalogue, type ErrorCode, type ErrorData } from './errors.ts';
import type { Status } from './status.ts';

export { nextHref, parseNext } from './next.ts';

export const PlatformSchema = z.enum(['linux', 'nxos']);
/** What a host runs: `linux` by default, `nxos` for Cisco NX-OS. */
export type Platform = z.infer<typeof PlatformSchema>;

/** What one command returned. A non-zero exit code is data, not an exception. */
export interface ExecResult {
	stdout: string;
	stderr: string;
	/** Exit status; `null` when the command was killed by a signal. */
	code: number | null;
	/** True when stdout or stderr was cut at the per-probe cap. */
	truncated?: boolean;
}

export interface ExecOptions {
	/** Per-command deadline; the transport closes the channel when it passes. */
	timeoutMs?: number;
}

/** Everything a check may do to a host. Read-only by construction: there is no write verb. */
export interface Ctx {
	/** A file's contents, `null` when it does not exist. Throws `PermissionDenied` when unreadable. */
	read(path: string): Promise<string | null>;
	/** Run an argv (never a shell string). */
	exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
	/** Wait, for counters sampled twice. */
	sleep(ms: number): Promise<void>;
	/** Say how far along a long check is (sampling, binary searches). Optional to call. */
	progress(message: string, fraction?: number): void;
}

/** One thing a check will read or run, known before it runs (the page and `--dry-run` show it). */
export type Probe =
	{ kind: 'read'; path: string; why: string } | { kind: 'exec'; argv: readonly string[]; why: string; timeoutMs?: number };

export type ReadProbe = Extract<Probe, { kind: 'read' }>;
export type ExecProbe = Extract<Probe, { kind: 'exec' }>;

/** The command line a probe is shown as: `cat PATH` for a read, the quoted argv for an exec. */
export function probeCommand(probe: Probe): string {
	return probe.kind === 'read' ? quoteArgv(['cat', probe.path]) : quoteArgv(probe.argv);
}

/** The lines that prove a verdict, with the command that produced them. */
export interface Evidence {
	/** The command as run, e.g. `cat /proc/sys/vm/max_map_count`. */
	command: string;
	/** Its output, untrimmed (capped by the transport). */
	output: string;
	/** 1-based line numbers in `output` that decide the verdict; the page highlights them. */
	lines: number[];
	/** Exit status, when it matters. */
	code?: number | null;
	/** True when the transport cut the output at its cap. */
	truncated?: boolean;
}

export type Facts = Record<string, string | number | boolean | null | readonly (string | number)[]>;

export interface Verdict {
	status: Status;
	/** One or two sentences an engineer at 3 a.m. can act on. */
	summary: string;
	evidence: Evidence[];
	/** The numbers the verdict rests on. */
	facts: Facts;
	/**
	 * The runbook step to go to next: `#raise-the-limit` (a step of the runbook the check is embedded
	 * in) or `usb-nic-trailer#find-the-usb-nic` (a step of another runbook). See `parseNext`.
	 */
	next?: string;
	/** Commands to fix it, shown for copy and paste, never run. */
	fix?: string[];
	/**
	 * A picture drawn from the facts, as monospace lines (an interface tree with the culprit marked,
	 * a share of load per link). Shown as-is by the page and the CLI.
	 */
	diagram?: Diagram;
	/** For `error`: a catalogue name. */
	code?: ErrorCode;
	/** For `error`: what to do. */
	hint?: string;
}

export interface Diagram {
	title: string;
	lines: string[];
	/** 1-based lines to highlight (the stray device, the overloaded link). */
	marked?: number[];
}

interface VerdictExtras {
	evidence?: Evidence[];
	facts?: Facts;
	next?: string;
	fix?: string[];
	diagram?: Diagram;
}

function verdict(status: Status, summary: string, extras: VerdictExtras = {}): Verdict {
	const v: Verdict = { status, summary, evidence: extras.evidence ?? [], facts: extras.facts ?? {} };
	if (extras.next !== undefined) v.next = extras.next;
	if (extras.fix !== undefined) v.fix = extras.fix;
	if (extras.diagram !== undefined) v.diagram = extras.diagram;
	return v;
}

export const pass = (summary: string, extras?: VerdictExtras) => verdict('pass', summary, extras);
export const warn = (summary: string, extras?: VerdictExtras) => verdict('warn', summary, extras);
export const fail = (summary: string, extras?: VerdictExtras) => verdict('fail', summary, extras);
export const skip = (reason: string, extras?: VerdictExtras) => verdict('skip', reason, extras);

/** The check could not decide. `summary` says what on this host; the catalogue says what it means. */
export function error(code: ErrorCode, summary: string, extras: VerdictExtras & { hint?: string } = {}): Verdict {
	const v = verdict('error', summary, extras);
	v.code = code;
	const hint = extras.hint ?? (ErrorCatalogue[code] as ErrorData).hint;
	if (hint !== undefined) v.hint = hint;
	return v;
}

/** Build an evidence entry from a probe and what it returned. */
export function evidenceOf(probe: Probe | string, output: string, lines: number[] = [], extra: Partial<Evidence> = {}): Evidence {
	const command = typeof probe === 'string' ? probe : probeCommand(probe);
	return { command, output, lines, ...extra };
}

/** A parser's answer: the value with the lines it came from, or why the text was not understood. */
export type Parsed<T> = { ok: true; value: T; lines: number[] } | { ok: false; reason: string };

export const parsed = <T>(value: T, lines: number[] = []): Parsed<T> => ({ ok: true, value, lines });
export const notUnderstood = (reason: string): Parsed<never> => ({ ok: false, reason });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any strict zod object
export type ParamsSchema = z.ZodObject<any>;

export interface CheckDefinition<P extends ParamsSchema = ParamsSchema> {
	/** `<area>.<kebab-name>`, equal to its path `checks/<area>/<kebab-name>.ts`. Public API. */
	id: string;
	/** Short title for lists and the page. */
	title: string;
	/** What it detects, one paragraph. */
	description: string;
	/** Platforms it can judge; on any other it is `skip`. */
	platforms: readonly Platform[];
	/** Always false: checks only read. The conformance test enforces it. */
	mutates: false;
	/**
	 * Every `next` a verdict may name: `#anchor` must be a heading in every runbook that embeds this
	 * check; `slug#anchor` a heading of that runbook. The conformance test holds both.
	 */
	nextSteps: readonly string[];
	/** A strict zod object, JSDoc'd; every value that reaches a command passes through it. */
	params: P;
	/** The static list of what it will read or run for these params. */
	probes(params: z.infer<P>): Probe[];
	run(ctx: Ctx, params: z.infer<P>): Promise<Verdict>;
}

export function defineCheck<P extends ParamsSchema>(def: CheckDefinition<P>): CheckDefinition<P> {
	return def;
}

/**
 * Interface names as the kernel allows them (IFNAMSIZ 16 with the NUL), DESIGN.md; not starting
 * with `-`, so a name can never reach ethtool or ip as an option.
 */
export const InterfaceName = z
	.string()
	.regex(/^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/, 'an interface name: 1-15 of A-Z a-z 0-9 _ . : @ -, not starting with -');
