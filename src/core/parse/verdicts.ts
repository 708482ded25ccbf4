/**
 * What every check's `run` does when it cannot decide, in one place: stop with an `error` verdict
 * from deep inside its probes (`Undecided`, caught by `decide`); pick the code for output its parser
 * did not understand (`codeForOutput`); run a probe and record its evidence, stopping when the
 * command is missing, failed or was cut (`execRecorded`, `execWhole`, `requireWhole`); and say the
 * usual failures the same way in every check: a command that exited non-zero (`exitedWith`,
 * `commandFailed`), one that is not installed and the package that has it (`cannotRun`,
 * `PACKAGES`, `installHint`), output the transport cut (`cutByTransport`), an interface the host
 * does not have (`noSuchInterface`). It knows no particular check.
 */
import { error, evidenceOf, type Ctx, type Evidence, type ExecProbe, type ExecResult, type Probe, type Verdict } from '../check.ts';
import type { ErrorCode } from '../errors.ts';
import { firstLine } from './text.ts';

/** Thrown inside a check's `run` to stop with an `error` verdict; never leaves the check (`decide`). */
export class Undecided {
	constructor(readonly verdict: Verdict) {}
}

/**
 * `body`'s verdict, or the verdict of the `Undecided` it threw, sent to `next` when given (the step
 * that does the check by hand). Anything else it throws is a bug and goes on to the runner.
 */
export async function decide(body: () => Promise<Verdict>, next?: string): Promise<Verdict> {
	try {
		return await body();
	} catch (e) {
		if (!(e instanceof Undecided)) throw e;
		return next === undefined ? e.verdict : { ...e.verdict, next };
	}
}

/**
 * The code for output a parser did not understand: `OutputEmpty` when there is none;
 * `OutputTruncated` when it was cut (the transport says so, `truncated`; it lacks its final newline;
 * or the parser's `reason` says `cut`); else `OutputNotUnderstood`.
 */
export function codeForOutput(text: string, cut: { truncated?: boolean; reason?: string } = {}): ErrorCode {
	if (cut.truncated) return 'OutputTruncated';
	if (text.trim() === '') return 'OutputEmpty';
	if (!text.endsWith('\n') || /\bcut\b/.test(cut.reason ?? '')) return 'OutputTruncated';
	return 'OutputNotUnderstood';
}

/** Evidence of an exec: stdout then stderr, the exit status, and `truncated` when the transport cut it. */
export function execEvidence(probe: Probe | string, r: ExecResult, lines: number[] = []): Evidence {
	return evidenceOf(probe, r.stdout + r.stderr, lines, { code: r.code, ...(r.truncated ? { truncated: true } : {}) });
}

/** Run `probe` (by its own deadline, else `timeoutMs`) and add its evidence; `at` is that evidence's index. */
export async function execRecorded(
	ctx: Ctx,
	probe: ExecProbe,
	evidence: Evidence[],
	timeoutMs: number,
): Promise<ExecResult & { at: number }> {
	const r = await ctx.exec(probe.argv, { timeoutMs: probe.timeoutMs ?? timeoutMs });
	evidence.push(execEvidence(probe, r));
	return { ...r, at: evidence.length - 1 };
}

/**
 * `execRecorded`, stopping when the command is not installed (`cannotRun`, with `hint`) or the
 * transport cut its output; a non-zero exit is returned for the caller to judge.
 */
export async function execWhole(
	ctx: Ctx,
	probe: ExecProbe,
	evidence: Evidence[],
	timeoutMs: number,
	hint?: string,
): Promise<ExecResult & { at: number }> {
	const r = await execRecorded(ctx, probe, evidence, timeoutMs);
	if (r.code === 127) throw new Undecided(cannotRun(probe, { evidence, hint }));
	if (r.truncated) throw new Undecided(cutByTransport(probe.argv.join(' '), { evidence }));
	return r;
}

/** `` `ls /x` exited with 2: ls: cannot access '/x': No such file or directory ``: the first line of its stderr. */
export function exitedWith(cmd: string, r: Pick<ExecResult, 'code' | 'stderr'>): string {
	return `\`${cmd}\` exited with ${r.code ?? 'a signal'}: ${firstLine(r.stderr) || '(no error output)'}`;
}

interface ErrorExtras {
	evidence: Evidence[];
	next?: string;
	hint?: string;
}

/** `CommandFailed` for a command that exited non-zero, quoting what it said. */
export function commandFailed(cmd: string, r: Pick<ExecResult, 'code' | 'stderr'>, extras: ErrorExtras): Verdict {
	return error('CommandFailed', exitedWith(cmd, r), extras);
}

/** `OutputTruncated` for a command whose output the transport cut at its cap. */
export function cutByTransport(cmd: string, extras: ErrorExtras): Verdict {
	return error('OutputTruncated', `The output of \`${cmd}\` was cut by the transport.`, extras);
}

/** What to install for each command a check runs, Debian and RHEL families; read as `Install <this>`. */
export const PACKAGES: Readonly<Record<string, string>> = {
	ip: 'iproute2 (Debian, Ubuntu, Alpine) or iproute (RHEL, CentOS, Fedora)',
	ethtool: 'ethtool (Debian, Ubuntu, RHEL: package ethtool)',
	ping: 'iputils-ping (Debian, Ubuntu) or iputils (RHEL, CentOS, Fedora)',
	pidof: 'procps (Debian, Ubuntu: also sysvinit-utils on older releases)',
	ls: 'coreutils',
	readlink: 'coreutils',
	timeout: 'coreutils',
	uname: 'coreutils',
};

/** The package that has `cmd`, or the command itself when the table does not know it. */
export function packageOf(cmd: string): string {
	return PACKAGES[cmd] ?? cmd;
}

/** The hint for a command that is not installed: `Install <its package>, or <instead>.` */
export function installHint(cmd: string, instead = 'run the step by hand'): string {
	return `Install ${packageOf(cmd)}, or ${instead}.`;
}

/** `` `ip` is not installed on this host (exit 127)``: how every summary for exit 127 starts. */
export function notInstalled(cmd: string): string {
	return `\`${cmd}\` is not installed on this host (exit 127)`;
}

/** `CommandMissing` for a probe that exited 127: the check cannot run it. Without `hint`, the catalogue's. */
export function cannotRun(probe: ExecProbe, extras: ErrorExtras): Verdict {
	return error('CommandMissing', `${notInstalled(probe.argv[0]!)}, so the check cannot run \`${probe.argv.join(' ')}\`.`, extras);
}

/** `CommandMissing` that names the package in its summary, and hints at running the probe by hand where it is installed. */
export function installOrRunByHand(probe: ExecProbe, evidence: Evidence[]): Verdict {
	const cmd = probe.argv[0]!;
	return error('CommandMissing', `${notInstalled(cmd)}: install ${packageOf(cmd)}, or run the step by hand.`, {
		evidence,
		hint: `Install ${packageOf(cmd)}; or run \`${probe.argv.join(' ')}\` by hand where it is installed.`,
	});
}

/**
 * Stop unless `r` is a whole, successful run of `probe`: exit 127 is `cannotRun`, any other non-zero
 * exit `commandFailed`, output the transport cut `cutByTransport`. `hint` is for exit 127 only.
 */
export function requireWhole(probe: ExecProbe, r: ExecResult, extras: ErrorExtras): void {
	const cmd = probe.argv.join(' ');
	const rest = { evidence: extras.evidence, next: extras.next };
	if (r.code === 127) throw new Undecided(cannotRun(probe, extras));
	if (r.code !== 0) throw new Undecided(commandFailed(cmd, r, rest));
	if (r.truncated) throw new Undecided(cutByTransport(cmd, rest));
}

/** `ls /sys/class/net`: run only when the interface a check was given does not exist, to list those that do. */
export const interfacesProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ls', '/sys/class/net'],
	why: 'only when the interface does not exist: the interfaces this host has',
	timeoutMs: 10_000,
};

/** `InvalidParams` for an interface this host does not have, naming those it has (`interfacesProbe`, added to `evidence`). */
export async function noSuchInterface(ctx: Ctx, iface: string, evidence: Evidence[], hint: string): Promise<Verdict> {
	const r = await ctx.exec(interfacesProbe.argv, { timeoutMs: interfacesProbe.timeoutMs });
	evidence.push(evidenceOf(interfacesProbe, r.stdout + r.stderr, [], { code: r.code }));
	const list = r.code === 0 ? r.stdout.split('\n').filter(Boolean).join(', ') : '';
	return error('InvalidParams', `There is no interface ${iface} on this host${list ? ` (it has: ${list})` : ''}.`, { evidence, hint });
}
