/**
 * A training session and the trainee's progress, as kept in the browser's localStorage (no account).
 *
 * One JSON value under `STATE_KEY`:
 *
 * ```json
 * { "version": 1,
 *   "active": { "scenario": "hugepages-too-many", "brief": "ovs-vswitchd exits ...", "host": "scenario:hugepages-too-many",
 *               "startedAt": 1767225600000, "events": [{ "type": "search", "at": 1767225612000, "query": "EAL remap", "results": 3 }] },
 *   "results": [] }
 * ```
 *
 * Every function here is pure: it takes a state and returns a new one. The browser side
 * (`src/components/training-session.ts`) reads and writes the value; the pages call these.
 * What comes back from storage was written by some earlier version or by hand, so `parseState`
 * keeps what it understands and drops the rest instead of throwing.
 */
import type { Status } from '../core/status.ts';

export const STATE_KEY = 'runbook-kb:training';

/** The root-cause choice for a healthy look-alike, offered under every runbook. */
export const HEALTHY_CHOICE = 'nothing is wrong on this host';

/** Consecutive edits of one query within this long are one search, not one per keystroke. */
export const SEARCH_COALESCE_MS = 30_000;

/** Results kept; the oldest are dropped beyond this. */
export const MAX_RESULTS = 200;

/** Events kept per session; a runaway loop must not fill the browser's quota. */
export const MAX_EVENTS = 500;

const STATUSES: readonly Status[] = ['pass', 'warn', 'fail', 'error', 'skip'];

export type TrainingEvent =
	/** A symptom search: the text as last typed, how many runbooks it listed, and the one opened from it. */
	| { type: 'search'; at: number; query: string; results: number; opened?: string }
	/** A page of the site opened during the session (runbooks, the home page ...). */
	| { type: 'page'; at: number; path: string; title: string }
	/** A check run from a runbook page and its verdict. */
	| { type: 'check'; at: number; check: string; host: string; status: Status; summary: string };

export interface Session {
	/** Scenario name; the host is `scenario:<name>`. */
	scenario: string;
	/** What the trainee is told, shown on every page while the session runs. */
	brief: string;
	host: string;
	/** `Date.now()` when it began. */
	startedAt: number;
	events: TrainingEvent[];
}

export interface Answer {
	/** Runbook slug. */
	runbook: string;
	/** One of the runbook's causes, or `HEALTHY_CHOICE`. */
	cause: string;
}

/** What a debrief needs to mark an answer: the right runbook and cause of one scenario. */
export interface AnswerKey {
	runbook: string;
	cause: string;
	healthy: boolean;
}

export interface Result {
	scenario: string;
	/** The scenario's title, known once the answer is in. */
	title: string;
	brief: string;
	startedAt: number;
	submittedAt: number;
	answer: Answer;
	runbookRight: boolean;
	causeRight: boolean;
	events: TrainingEvent[];
}

export interface TrainingState {
	version: 1;
	active: Session | null;
	/** Oldest first. */
	results: Result[];
}

export const emptyState = (): TrainingState => ({ version: 1, active: null, results: [] });

// ---------------------------------------------------------------------------------------------
// Reading what storage holds.

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isString = (x: unknown): x is string => typeof x === 'string';
const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function asEvent(x: unknown): TrainingEvent | undefined {
	if (!isObject(x) || !isTime(x.at)) return undefined;
	if (x.type === 'search' && isString(x.query) && typeof x.results === 'number') {
		const e: TrainingEvent = { type: 'search', at: x.at, query: x.query, results: x.results };
		return isString(x.opened) ? { ...e, opened: x.opened } : e;
	}
	if (x.type === 'page' && isString(x.path) && isString(x.title)) return { type: 'page', at: x.at, path: x.path, title: x.title };
	if (x.type === 'check' && isString(x.check) && isString(x.host) && STATUSES.includes(x.status as Status) && isString(x.summary))
		return { type: 'check', at: x.at, check: x.check, host: x.host, status: x.status as Status, summary: x.summary };
	return undefined;
}

function asEvents(x: unknown): TrainingEvent[] {
	return Array.isArray(x) ? x.map(asEvent).filter((e): e is TrainingEvent => e !== undefined) : [];
}

function asSession(x: unknown): Session | null {
	if (!isObject(x) || !isString(x.scenario) || !isString(x.brief) || !isString(x.host) || !isTime(x.startedAt)) return null;
	return { scenario: x.scenario, brief: x.brief, host: x.host, startedAt: x.startedAt, events: asEvents(x.events) };
}

function asResult(x: unknown): Result | undefined {
	if (!isObject(x) || !isString(x.scenario) || !isString(x.title) || !isString(x.brief)) return undefined;
	if (!isTime(x.startedAt) || !isTime(x.submittedAt) || typeof x.runbookRight !== 'boolean' || typeof x.causeRight !== 'boolean')
		return undefined;
	const a = x.answer;
	if (!isObject(a) || !isString(a.runbook) || !isString(a.cause)) return undefined;
	return {
		scenario: x.scenario,
		title: x.title,
		brief: x.brief,
		startedAt: x.startedAt,
		submittedAt: x.submittedAt,
		answer: { runbook: a.runbook, cause: a.cause },
		runbookRight: x.runbookRight,
		causeRight: x.causeRight,
		events: asEvents(x.events),
	};
}

/** The state in `text` (what `localStorage.getItem(STATE_KEY)` gave); an empty state for null or junk. */
export function parseState(text: string | null): TrainingState {
	if (text === null) return emptyState();
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		return emptyState();
	}
	if (!isObject(data) || data.version !== 1) return emptyState();
	const results = Array.isArray(data.results) ? data.results.map(asResult).filter((r): r is Result => r !== undefined) : [];
	return { version: 1, active: asSession(data.active), results };
}

// ---------------------------------------------------------------------------------------------
// The session.

export const scenarioHost = (name: string): string => `scenario:${name}`;

/** Begin a session on `scenario`; one already running is dropped (the training page asks first). */
export function startSession(state: TrainingState, scenario: { name: string; brief: string }, now: number): TrainingState {
	return {
		...state,
		active: { scenario: scenario.name, brief: scenario.brief, host: scenarioHost(scenario.name), startedAt: now, events: [] },
	};
}

export function abandonSession(state: TrainingState): TrainingState {
	return { ...state, active: null };
}

function withEvents(state: TrainingState, events: TrainingEvent[]): TrainingState {
	if (!state.active) return state;
	return { ...state, active: { ...state.active, events: events.slice(-MAX_EVENTS) } };
}

const sameQuery = (a: string, b: string): boolean => {
	const x = a.trim().toLowerCase();
	const y = b.trim().toLowerCase();
	return x.startsWith(y) || y.startsWith(x);
};

/**
 * A symptom search as the box ran it. The box searches on every keystroke; while the text only
 * grows or shrinks (one query being typed or corrected) within `SEARCH_COALESCE_MS` and nothing was
 * opened from it, the last search is updated rather than a new one added.
 */
export function recordSearch(state: TrainingState, query: string, results: number, now: number): TrainingState {
	if (!state.active || query.trim() === '') return state;
	const events = state.active.events;
	const last = events.at(-1);
	const event: TrainingEvent = { type: 'search', at: now, query: query.trim(), results };
	if (last?.type === 'search' && last.opened === undefined && now - last.at <= SEARCH_COALESCE_MS && sameQuery(last.query, query))
		return withEvents(state, [...events.slice(0, -1), event]);
	return withEvents(state, [...events, event]);
}

/** The runbook opened from the search results: marked on the latest search. */
export function recordOpened(state: TrainingState, slug: string): TrainingState {
	if (!state.active) return state;
	const events = [...state.active.events];
	for (let i = events.length - 1; i >= 0; i--) {
		const e = events[i]!;
		if (e.type === 'search') {
			events[i] = { ...e, opened: slug };
			return withEvents(state, events);
		}
	}
	return state;
}

/** A page opened; a reload of the page just recorded is not a second visit. */
export function recordPage(state: TrainingState, path: string, title: string, now: number): TrainingState {
	if (!state.active) return state;
	const events = state.active.events;
	const last = events.at(-1);
	if (last?.type === 'page' && last.path === path) return state;
	return withEvents(state, [...events, { type: 'page', at: now, path, title }]);
}

export function recordCheck(
	state: TrainingState,
	verdict: { check: string; host: string; status: Status; summary: string },
	now: number,
): TrainingState {
	if (!state.active) return state;
	const { check, host, status, summary } = verdict;
	return withEvents(state, [...state.active.events, { type: 'check', at: now, check, host, status, summary }]);
}

// ---------------------------------------------------------------------------------------------
// Submitting.

/** Runbook and cause judged apart: the right runbook with the wrong cause is still half a diagnosis. */
export function score(answer: Answer, key: AnswerKey): { runbook: boolean; cause: boolean } {
	return {
		runbook: answer.runbook === key.runbook,
		cause: key.healthy ? answer.cause === HEALTHY_CHOICE : answer.cause === key.cause,
	};
}

/** End the active session with `answer`: its result is added to the progress and returned. */
export function submitAnswer(
	state: TrainingState,
	answer: Answer,
	key: AnswerKey & { title: string },
	now: number,
): { state: TrainingState; result: Result } {
	const session = state.active;
	if (!session) throw new Error('no training session is running');
	const marks = score(answer, key);
	const result: Result = {
		scenario: session.scenario,
		title: key.title,
		brief: session.brief,
		startedAt: session.startedAt,
		submittedAt: now,
		answer,
		runbookRight: marks.runbook,
		causeRight: marks.cause,
		events: session.events,
	};
	return { state: { ...state, active: null, results: [...state.results, result].slice(-MAX_RESULTS) }, result };
}

export const isRight = (r: Pick<Result, 'runbookRight' | 'causeRight'>): boolean => r.runbookRight && r.causeRight;

// ---------------------------------------------------------------------------------------------
// Choosing and progress.

/**
 * A scenario for "draw one at random": among those never answered right when there are any, else
 * among all. `random` is `Math.random` or a stand-in returning [0, 1).
 */
export function drawScenario(names: readonly string[], results: readonly Result[], random: () => number): string {
	if (names.length === 0) throw new Error('no training scenarios to draw from');
	const solved = new Set(results.filter(isRight).map((r) => r.scenario));
	const open = names.filter((n) => !solved.has(n));
	const pool = open.length > 0 ? open : names;
	return pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))]!;
}

export interface Progress {
	/** Answers given, retries included. */
	attempts: number;
	/** Scenarios answered at least once. */
	scenarios: number;
	/** Answers with runbook and cause right. */
	right: number;
	/** Scenarios whose latest answer is right. */
	solved: number;
	/** Median time from start to answer, ms; null with no answers. */
	medianMs: number | null;
}

export function progress(results: readonly Result[]): Progress {
	const latest = new Map<string, Result>();
	for (const r of results) latest.set(r.scenario, r);
	const times = results.map((r) => r.submittedAt - r.startedAt).sort((a, b) => a - b);
	const mid = times.length >> 1;
	return {
		attempts: results.length,
		scenarios: latest.size,
		right: results.filter(isRight).length,
		solved: [...latest.values()].filter(isRight).length,
		medianMs: times.length === 0 ? null : times.length % 2 ? times[mid]! : Math.round((times[mid - 1]! + times[mid]!) / 2),
	};
}

/** `42 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatElapsed(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
	return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
