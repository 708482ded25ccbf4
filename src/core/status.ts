/**
 * The five outcomes of a check and their precedence.
 *
 * Roll-up (run all, fleet tables, exit codes) takes the most severe status present, in the order
 * `error > fail > warn > pass > skip`, as InSpec orders its outcomes: a check that could not decide
 * outranks one that decided "broken", because an undecided check may be hiding the real failure.
 */
import { z } from 'zod';

export const StatusSchema = z.enum(['pass', 'warn', 'fail', 'error', 'skip']);
export type Status = z.infer<typeof StatusSchema>;

/** Most severe first. */
export const SEVERITY: readonly Status[] = ['error', 'fail', 'warn', 'pass', 'skip'];

/** The most severe status in `statuses`; `skip` for none. */
export function rollUp(statuses: Iterable<Status>): Status {
	let best = SEVERITY.length - 1;
	for (const s of statuses) best = Math.min(best, SEVERITY.indexOf(s));
	return SEVERITY[best]!;
}

/** CLI exit code for a set of verdicts: 0 all pass/skip, 1 any warn/fail, 2 any error. */
export function exitCodeFor(statuses: Iterable<Status>): 0 | 1 | 2 {
	const worst = rollUp(statuses);
	if (worst === 'error') return 2;
	if (worst === 'fail' || worst === 'warn') return 1;
	return 0;
}
