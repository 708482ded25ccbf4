/**
 * What a debrief shows, computed from a scenario, its runbook and the trainee's path.
 *
 * The answer key of a scenario (`DebriefKey`) is served by `/training/debrief/<name>.json`, built
 * once at build time and fetched only when the trainee submits, so the training page itself never
 * carries which runbook or cause a scenario has.
 */
import type { Status } from '../core/status.ts';
import { HEALTHY_CHOICE, type AnswerKey, type TrainingEvent } from './session.ts';

/** The fields of a scenario the training reads (`ScenarioSchema`). */
export interface TrainingScenario {
	name: string;
	title: string;
	brief: string;
	runbook: string;
	/** The root cause in one line, as the cause choices list it. */
	cause: string;
	/** A look-alike where nothing is wrong. */
	healthy: boolean;
	expect?: Partial<Record<string, Status>>;
}

/** The fields of a runbook the training reads (`RunbookInfo`). */
export interface TrainingRunbook {
	slug: string;
	title: string;
	summary: string;
	/** Check ids in step order. */
	checks: readonly string[];
}

export interface DecidingCheck {
	check: string;
	/** The check's title, for people. */
	title: string;
	/** The verdict it gives on the scenario host. */
	status: Status;
}

export interface DebriefKey extends AnswerKey {
	name: string;
	title: string;
	runbookTitle: string;
	/** The runbook's one-line explanation of cause and fix. */
	runbookSummary: string;
	/** Check id -> verdict on this host, as the scenario file states and its test asserts. */
	expect: Record<string, Status>;
	deciding: DecidingCheck[];
}

/**
 * The checks that decide the scenario fastest: for a broken host those whose verdict is neither
 * pass nor skip, for a healthy one those that pass (they show all is well), in the runbook's step
 * order; checks the runbook does not embed follow in the scenario's order.
 */
export function decidingChecks(
	expect: Partial<Record<string, Status>>,
	stepOrder: readonly string[],
	healthy: boolean,
	titleOf: (id: string) => string = (id) => id,
): DecidingCheck[] {
	const deciding = Object.entries(expect).filter(
		(e): e is [string, Status] => e[1] !== undefined && (healthy ? e[1] === 'pass' : e[1] !== 'pass' && e[1] !== 'skip'),
	);
	const rank = (id: string): number => {
		const i = stepOrder.indexOf(id);
		return i < 0 ? stepOrder.length : i;
	};
	return deciding
		.map(([check, status], i) => ({ check, status, i }))
		.sort((a, b) => rank(a.check) - rank(b.check) || a.i - b.i)
		.map(({ check, status }) => ({ check, title: titleOf(check), status }));
}

export function debriefKey(scenario: TrainingScenario, runbook: TrainingRunbook, titleOf?: (id: string) => string): DebriefKey {
	if (runbook.slug !== scenario.runbook)
		throw new Error(`scenario ${scenario.name} names runbook ${scenario.runbook}, not ${runbook.slug}`);
	const expect = Object.fromEntries(Object.entries(scenario.expect ?? {}).filter((e): e is [string, Status] => e[1] !== undefined));
	return {
		name: scenario.name,
		title: scenario.title,
		runbook: runbook.slug,
		cause: scenario.cause,
		healthy: scenario.healthy,
		runbookTitle: runbook.title,
		runbookSummary: runbook.summary,
		expect,
		deciding: decidingChecks(expect, runbook.checks, scenario.healthy, titleOf),
	};
}

/**
 * The root causes offered under `runbook`: every broken scenario's cause for it, once each and in
 * alphabetical order (the order must not hint which is whose), then `HEALTHY_CHOICE`.
 */
export function causeChoices(scenarios: Iterable<TrainingScenario>, runbook: string): string[] {
	const causes = new Set<string>();
	for (const s of scenarios) if (s.runbook === runbook && !s.healthy) causes.add(s.cause.trim());
	return [...[...causes].sort((a, b) => a.localeCompare(b)), HEALTHY_CHOICE];
}

// ---------------------------------------------------------------------------------------------
// The path the trainee took.

export interface PathSummary {
	elapsedMs: number;
	searches: { query: string; results: number; opened?: string; offsetMs: number }[];
	/** Each runbook page opened, at its first visit. */
	runbooks: { slug: string; title: string; offsetMs: number }[];
	checks: { check: string; host: string; status: Status; summary: string; offsetMs: number; onScenarioHost: boolean }[];
}

/** `/hugepage-map-count/` -> `hugepage-map-count`. */
const slugOfPath = (path: string): string | undefined => /^\/([^/]+)\/?$/.exec(path)?.[1];

export function summarisePath(
	events: readonly TrainingEvent[],
	session: { startedAt: number; host: string },
	endedAt: number,
	runbookSlugs: ReadonlySet<string>,
): PathSummary {
	const offset = (at: number) => Math.max(0, at - session.startedAt);
	const out: PathSummary = { elapsedMs: Math.max(0, endedAt - session.startedAt), searches: [], runbooks: [], checks: [] };
	for (const e of events) {
		if (e.type === 'search') {
			const s: PathSummary['searches'][number] = { query: e.query, results: e.results, offsetMs: offset(e.at) };
			out.searches.push(e.opened === undefined ? s : { ...s, opened: e.opened });
		} else if (e.type === 'page') {
			const slug = slugOfPath(e.path);
			if (slug !== undefined && runbookSlugs.has(slug) && !out.runbooks.some((r) => r.slug === slug))
				out.runbooks.push({ slug, title: e.title, offsetMs: offset(e.at) });
		} else {
			out.checks.push({
				check: e.check,
				host: e.host,
				status: e.status,
				summary: e.summary,
				offsetMs: offset(e.at),
				onScenarioHost: e.host === session.host,
			});
		}
	}
	return out;
}

/** Each deciding check with the verdict the trainee last got from it on the scenario host, if they ran it there. */
export function decidingRun(deciding: readonly DecidingCheck[], path: PathSummary): (DecidingCheck & { ran?: Status })[] {
	return deciding.map((d) => {
		const ran = path.checks.findLast((c) => c.check === d.check && c.onScenarioHost)?.status;
		return ran === undefined ? { ...d } : { ...d, ran };
	});
}

/** What the training page carries for its script: nothing that says which scenario is which. */
export interface TrainingPageData {
	/** Scenario names and briefs, in the order listed. */
	incidents: { name: string; brief: string }[];
	/** Every runbook with the root causes offered under it. */
	runbooks: { slug: string; title: string; causes: string[] }[];
	/** Check id -> title, for the path. */
	checks: Record<string, string>;
	/** Where `<name>.json` answer keys are served, with a trailing slash. */
	debriefBase: string;
}
