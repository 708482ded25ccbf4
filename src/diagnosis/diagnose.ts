/**
 * From the verdicts of one runbook on one host to what an engineer in an incident wants to hear:
 * the likely cause, the lines that show it, the step that fixes it, what was ruled out, what could
 * not be decided, and where to look next when nothing here is wrong.
 *
 * Rules, in step order (the order of the runbook's `checks`):
 * - the likely cause is the first `fail`; if none fails, the first `warn`; any other fail or warn
 *   is listed after it (`alsoFound`);
 * - `pass` is ruled out; `skip` does not apply here (listed apart, never as ruled out);
 * - `error` could not decide: listed with its hint, never counted as ruled out, since an undecided
 *   check may be hiding the cause;
 * - related runbooks are offered only when every check passed or was skipped.
 *
 * Pure, and importing only types plus `next.ts` (no zod, no node:), so the page can run it too.
 */
import type { Evidence } from '../core/check.ts';
import { nextHref } from '../core/next.ts';
import type { Status } from '../core/status.ts';
import type { HostRun } from '../runner/run.ts';
import type { VerdictRecord } from '../runner/types.ts';
import type {
	CheckNote,
	HostRecords,
	DecidingEvidence,
	Diagnosis,
	FixStep,
	LikelyCause,
	RunbookOutline,
	RunbookRef,
	RunTrace,
	StepOutcome,
	UndecidedCheck,
} from './types.ts';

/**
 * Most severe first, as `src/core/status.ts` orders it (repeated here because that module brings
 * zod, which the browser bundle should not carry for five words).
 */
export const SEVERITY: readonly Status[] = ['error', 'fail', 'warn', 'pass', 'skip'];

/** The most severe status present; `skip` for none. */
export function rollUpStatus(statuses: Iterable<Status>): Status {
	let best = SEVERITY.length - 1;
	for (const s of statuses) best = Math.min(best, SEVERITY.indexOf(s));
	return SEVERITY[best]!;
}

export const runbookHref = (slug: string): string => `/${slug}/`;

/**
 * The outline a diagnosis needs, from a runbook's frontmatter, the runbooks it may relate to, and
 * check titles. A related slug no runbook has is named by its slug.
 */
export function outlineRunbook(
	runbook: { slug: string; title: string; checks: readonly string[]; related: readonly string[]; steps?: Readonly<Record<string, string>> },
	all: readonly { slug: string; title: string }[],
	checkTitle: (id: string) => string | undefined,
): RunbookOutline {
	return {
		slug: runbook.slug,
		title: runbook.title,
		checks: runbook.checks.map((id) => {
			const c: { id: string; title: string; step?: string } = { id, title: checkTitle(id) ?? id };
			const step = runbook.steps?.[id];
			if (step !== undefined) c.step = step;
			return c;
		}),
		related: runbook.related.map((slug): RunbookRef => ({
			slug,
			title: all.find((r) => r.slug === slug)?.title ?? slug,
			href: runbookHref(slug),
		})),
	};
}

/** The highlighted lines of each evidence entry; entries with none are left out. */
export function decidingEvidence(evidence: readonly Evidence[]): DecidingEvidence[] {
	const out: DecidingEvidence[] = [];
	for (const e of evidence) {
		const text = e.output.replace(/\n$/, '').split('\n');
		const lines = [...new Set(e.lines)]
			.filter((n) => Number.isInteger(n) && n >= 1 && n <= text.length)
			.sort((a, b) => a - b)
			.map((n) => ({ n, text: text[n - 1]! }));
		if (lines.length === 0) continue;
		const d: DecidingEvidence = { command: e.command, lines };
		if (e.code !== undefined) d.code = e.code;
		if (e.truncated) d.truncated = true;
		out.push(d);
	}
	return out;
}

/** What a diagnosis takes from one host's run: its verdicts, the commands each check ran, cache hits. */
export function hostRecordsOf(run: Pick<HostRun, 'verdicts' | 'probes' | 'cacheHits'> & { host: { name: string } }): HostRecords {
	const commands: Record<string, string[]> = {};
	run.verdicts.forEach((v, i) => (commands[v.check] = (run.probes[i] ?? []).map((p) => p.command)));
	return { host: run.host.name, records: run.verdicts, trace: { commands, cacheHits: run.cacheHits } };
}

/** Records in the runbook's step order; a record for a check the outline lacks goes last. */
export function inStepOrder(outline: RunbookOutline, records: readonly VerdictRecord[]): VerdictRecord[] {
	const order = new Map(outline.checks.map((c, i) => [c.id, i]));
	return records
		.map((r, i) => ({ r, key: order.get(r.check) ?? outline.checks.length + i }))
		.sort((a, b) => a.key - b.key)
		.map(({ r }) => r);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function headlineOf(
	d: Pick<Diagnosis, 'host' | 'likelyCause' | 'fixStep' | 'ruledOut' | 'skipped' | 'undecided' | 'tryNext'>,
	total: number,
): string {
	const undecided = d.undecided.length
		? `; ${plural(d.undecided.length, 'check')} could not decide (${d.undecided.map((u) => u.check).join(', ')})`
		: '';
	if (d.likelyCause) {
		const c = d.likelyCause;
		const fix = d.fixStep ? `; go to ${d.fixStep.href}` : '';
		return `${d.host}: likely cause ${c.check} (${c.status}): ${oneLine(c.title)}${fix}${undecided}`;
	}
	if (total === 0) return `${d.host}: this runbook has no checks to run`;
	if (d.undecided.length) {
		return `${d.host}: no cause found, but ${plural(d.undecided.length, 'check')} of ${total} could not decide (${d.undecided.map((u) => u.check).join(', ')}); ${d.ruledOut.length} ruled out`;
	}
	const elsewhere = d.tryNext.length ? `try next: ${d.tryNext.map((r) => r.slug).join(', ')}` : 'no related runbook is listed';
	if (d.ruledOut.length === 0) return `${d.host}: no check of this runbook applies here (${d.skipped.length} skipped); ${elsewhere}`;
	const skipped = d.skipped.length ? `, ${d.skipped.length} skipped` : '';
	return `${d.host}: every check passed (${d.ruledOut.length} ruled out${skipped}), the cause is elsewhere; ${elsewhere}`;
}

/**
 * The diagnosis of one runbook on one host, from its verdict records (in any order; step order is
 * taken from the outline).
 */
export function diagnose(outline: RunbookOutline, host: string, records: readonly VerdictRecord[], trace: RunTrace = {}): Diagnosis {
	const ordered = inStepOrder(outline, records);
	const titleOf = (id: string) => outline.checks.find((c) => c.id === id)?.title ?? id;
	const href = (next: string | undefined) => (next === undefined ? undefined : nextHref(next, outline.slug));

	const steps: StepOutcome[] = ordered.map((r) => {
		const s: StepOutcome = {
			check: r.check,
			title: titleOf(r.check),
			status: r.status,
			summary: r.summary,
			evidence: decidingEvidence(r.evidence),
			commands: [...(trace.commands?.[r.check] ?? r.evidence.map((e) => e.command))],
			durationMs: r.durationMs,
		};
		const next = href(r.next);
		if (next !== undefined) s.next = next;
		if (r.code !== undefined) s.code = r.code;
		if (r.hint !== undefined) s.hint = r.hint;
		return s;
	});

	// The first failure (else warning) in step order, then on along `next`: when it points to a step of
	// this runbook whose check also failed or warned, that check is closer to the cause (a symptom check
	// such as "ARP stays INCOMPLETE" points to the check that finds the stray device).
	const first = ordered.find((r) => r.status === 'fail') ?? ordered.find((r) => r.status === 'warn');
	const route: string[] = [];
	let cause = first;
	while (cause && !route.includes(cause.check)) {
		route.push(cause.check);
		const target = cause.next && cause.next.startsWith('#') ? cause.next.slice(1) : undefined;
		const there = target === undefined ? undefined : outline.checks.filter((c) => c.step === target).map((c) => c.id);
		const onward =
			there && ordered.find((r) => there.includes(r.check) && !route.includes(r.check) && (r.status === 'fail' || r.status === 'warn'));
		if (!onward) break;
		cause = onward;
	}
	let likelyCause: LikelyCause | null = null;
	let fixStep: FixStep | null = null;
	if (cause) {
		const next = href(cause.next) ?? null;
		likelyCause = {
			check: cause.check,
			title: titleOf(cause.check),
			status: cause.status as 'fail' | 'warn',
			summary: cause.summary,
			evidence: decidingEvidence(cause.evidence),
			next,
			fix: [...(cause.fix ?? [])],
			route,
		};
		if (cause.diagram) likelyCause.diagram = cause.diagram;
		if (next !== null) fixStep = { check: cause.check, href: next, fix: [...(cause.fix ?? [])] };
	}

	const note = (r: VerdictRecord): CheckNote => {
		const n: CheckNote = { check: r.check, title: titleOf(r.check), summary: r.summary };
		const next = href(r.next);
		if (next !== undefined) n.next = next;
		return n;
	};
	const undecided = ordered
		.filter((r) => r.status === 'error')
		.map((r): UndecidedCheck => {
			const u: UndecidedCheck = { check: r.check, title: titleOf(r.check), summary: r.summary };
			if (r.code !== undefined) u.code = r.code;
			if (r.hint !== undefined) u.hint = r.hint;
			return u;
		});
	const allClear = ordered.length > 0 && ordered.every((r) => r.status === 'pass' || r.status === 'skip');

	const parts = {
		likelyCause,
		fixStep,
		alsoFound: ordered
			.filter((r) => r !== cause && (r.status === 'fail' || r.status === 'warn'))
			.map((r) => ({ ...note(r), status: r.status as 'fail' | 'warn' })),
		ruledOut: ordered.filter((r) => r.status === 'pass').map(note),
		skipped: ordered.filter((r) => r.status === 'skip').map(note),
		undecided,
		tryNext: allClear ? outline.related.map((r) => ({ ...r })) : [],
	};
	return {
		runbook: { slug: outline.slug, title: outline.title, href: runbookHref(outline.slug) },
		host,
		hostKey: ordered.find((r) => r.hostKey !== undefined)?.hostKey ?? null,
		status: rollUpStatus(ordered.map((r) => r.status)),
		headline: headlineOf({ host, ...parts }, ordered.length),
		...parts,
		steps,
		probeCacheHits: trace.cacheHits ?? 0,
	};
}
