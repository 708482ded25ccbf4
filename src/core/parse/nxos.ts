/**
 * One NX-OS `show` command, run and read the way every NX-OS check does. Refused is a non-zero exit
 * or output the check's `refused` pattern matches (`% Invalid ...`, `Syntax error`): `CommandFailed`
 * quoting the first line said. Cut by the transport is `OutputTruncated`; output the parser does not
 * understand is `OutputEmpty` when there is none, else `OutputNotUnderstood`.
 */
import { error, type Ctx, type ExecProbe, type Parsed, type Verdict } from '../check.ts';
import { firstLine } from './text.ts';
import { cutByTransport, execEvidence } from './verdicts.ts';

export interface ShowCommand<T> {
	/** Output that means the switch refused the command, as a multiline pattern. */
	refused: RegExp;
	/** What to do when it is refused. */
	hint: string;
	/** The step every error verdict points to (the one that runs the command by hand). */
	next: string;
	parse(text: string): Parsed<T>;
}

/** The parsed output with the command line and what it printed, or the `error` verdict that says why not. */
export async function runShow<T>(
	ctx: Ctx,
	probe: ExecProbe,
	show: ShowCommand<T>,
): Promise<{ value: T; command: string; output: string } | Verdict> {
	const command = probe.argv.join(' ');
	ctx.progress(`running ${command}`, 0.1);
	const r = await ctx.exec(probe.argv, { timeoutMs: probe.timeoutMs });
	const output = r.stdout + r.stderr;
	const evidence = [execEvidence(probe, r)];
	const { next } = show;
	if (r.code !== 0 || show.refused.test(output)) {
		const exit = r.code !== 0 ? ` (exit ${r.code ?? 'signal'})` : '';
		return error('CommandFailed', `\`${command}\` was refused${exit}: ${firstLine(output) || '(no output)'}`, {
			evidence,
			next,
			hint: show.hint,
		});
	}
	if (r.truncated) return cutByTransport(command, { evidence, next });
	const p = show.parse(r.stdout);
	if (!p.ok)
		return error(r.stdout.trim() === '' ? 'OutputEmpty' : 'OutputNotUnderstood', `\`${command}\`: ${p.reason}.`, { evidence, next });
	return { value: p.value, command, output };
}
