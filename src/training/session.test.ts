import { describe, expect, it } from 'vitest';
import {
	HEALTHY_CHOICE,
	MAX_EVENTS,
	SEARCH_COALESCE_MS,
	STATE_KEY,
	abandonSession,
	drawScenario,
	emptyState,
	formatElapsed,
	parseState,
	progress,
	recordCheck,
	recordOpened,
	recordPage,
	recordSearch,
	score,
	startSession,
	submitAnswer,
	type Result,
	type TrainingState,
} from './session.ts';

const T0 = Date.UTC(2026, 0, 5, 3, 0, 0);
const HUGE = { name: 'hugepages-too-many', brief: 'ovs-vswitchd exits at start with "EAL: Failed to remap 2 MB pages"' };
const KEY = {
	runbook: 'hugepage-map-count',
	cause: 'vm.max_map_count too low for the hugepages',
	healthy: false,
	title: 'OVS-DPDK will not start',
};

const started = (): TrainingState => startSession(emptyState(), HUGE, T0);

function result(scenario: string, right: boolean, startedAt = T0, ms = 60_000): Result {
	return {
		scenario,
		title: scenario,
		brief: '',
		startedAt,
		submittedAt: startedAt + ms,
		answer: { runbook: 'x', cause: 'y' },
		runbookRight: right,
		causeRight: right,
		events: [],
	};
}

describe('session', () => {
	it('start -> the scenario host, no events; abandon -> no session', () => {
		const s = started();
		expect(s.active).toEqual({ scenario: HUGE.name, brief: HUGE.brief, host: 'scenario:hugepages-too-many', startedAt: T0, events: [] });
		expect(abandonSession(s).active).toBeNull();
	});

	it('nothing is recorded without a session', () => {
		const s = emptyState();
		expect(recordSearch(s, 'eal', 1, T0)).toBe(s);
		expect(recordPage(s, '/x/', 'X', T0)).toBe(s);
		expect(recordCheck(s, { check: 'a.b', host: 'h', status: 'pass', summary: '' }, T0)).toBe(s);
		expect(recordOpened(s, 'x')).toBe(s);
	});

	it('keystrokes of one query are one search; a different query, or one after opening, is another', () => {
		let s = started();
		for (const [i, q] of ['E', 'EA', 'EAL', 'EAL: remap', 'EAL: rem'].entries()) s = recordSearch(s, q, 2, T0 + i * 100);
		expect(s.active!.events).toEqual([{ type: 'search', at: T0 + 400, query: 'EAL: rem', results: 2 }]);

		s = recordSearch(s, 'dpdk wont start', 3, T0 + 1000);
		expect(s.active!.events.map((e) => (e.type === 'search' ? e.query : e.type))).toEqual(['EAL: rem', 'dpdk wont start']);

		s = recordOpened(s, 'hugepage-map-count');
		s = recordSearch(s, 'dpdk wont start at all', 1, T0 + 2000);
		expect(s.active!.events).toHaveLength(3);
		expect(s.active!.events[1]).toMatchObject({ query: 'dpdk wont start', opened: 'hugepage-map-count' });
	});

	it('the same text typed again after a pause is a new search; blank text is none', () => {
		let s = recordSearch(started(), 'ssh hangs', 1, T0);
		s = recordSearch(s, 'ssh hangs', 1, T0 + SEARCH_COALESCE_MS + 1);
		s = recordSearch(s, '   ', 0, T0 + SEARCH_COALESCE_MS + 2);
		expect(s.active!.events).toHaveLength(2);
	});

	it('a reload is not a second page visit', () => {
		let s = recordPage(started(), '/hugepage-map-count/', 'OVS-DPDK', T0 + 1);
		s = recordPage(s, '/hugepage-map-count/', 'OVS-DPDK', T0 + 2);
		s = recordPage(s, '/', 'Home', T0 + 3);
		s = recordPage(s, '/hugepage-map-count/', 'OVS-DPDK', T0 + 4);
		expect(s.active!.events.map((e) => e.at)).toEqual([T0 + 1, T0 + 3, T0 + 4]);
	});

	it(`keeps the last ${MAX_EVENTS} events`, () => {
		let s = started();
		for (let i = 0; i < MAX_EVENTS + 5; i++) s = recordPage(s, `/p${i}/`, '', T0 + i);
		expect(s.active!.events).toHaveLength(MAX_EVENTS);
		expect(s.active!.events[0]).toMatchObject({ path: '/p5/' });
	});
});

describe('score and submit', () => {
	it('right runbook, right cause -> both right', () => {
		expect(score({ runbook: KEY.runbook, cause: KEY.cause }, KEY)).toEqual({ runbook: true, cause: true });
	});

	it('right runbook, "nothing is wrong" on a broken host -> cause wrong', () => {
		expect(score({ runbook: KEY.runbook, cause: HEALTHY_CHOICE }, KEY)).toEqual({ runbook: true, cause: false });
	});

	it('healthy host: only "nothing is wrong" is the right cause, whatever the scenario cause line says', () => {
		const healthy = { ...KEY, healthy: true, cause: 'vm.max_map_count raised to 262144' };
		expect(score({ runbook: KEY.runbook, cause: HEALTHY_CHOICE }, healthy)).toEqual({ runbook: true, cause: true });
		expect(score({ runbook: KEY.runbook, cause: healthy.cause }, healthy)).toEqual({ runbook: true, cause: false });
		expect(score({ runbook: 'overlay-mtu', cause: HEALTHY_CHOICE }, healthy)).toEqual({ runbook: false, cause: true });
	});

	it('submit ends the session and adds the result with the path taken', () => {
		let s = recordSearch(started(), 'EAL remap', 1, T0 + 5000);
		s = recordCheck(
			s,
			{ check: 'kernel.max-map-count', host: 'scenario:hugepages-too-many', status: 'fail', summary: 'too low' },
			T0 + 9000,
		);
		const { state, result } = submitAnswer(s, { runbook: KEY.runbook, cause: HEALTHY_CHOICE }, KEY, T0 + 60_000);
		expect(state.active).toBeNull();
		expect(state.results).toEqual([result]);
		expect(result).toMatchObject({
			scenario: HUGE.name,
			title: KEY.title,
			runbookRight: true,
			causeRight: false,
			submittedAt: T0 + 60_000,
		});
		expect(result.events.map((e) => e.type)).toEqual(['search', 'check']);
	});

	it('submit without a session throws', () => {
		expect(() => submitAnswer(emptyState(), { runbook: 'a', cause: 'b' }, KEY, T0)).toThrow(/no training session/);
	});
});

describe('stored state', () => {
	it('round-trips through JSON', () => {
		let s = recordSearch(started(), 'EAL', 1, T0 + 1);
		s = recordOpened(s, 'hugepage-map-count');
		s = recordCheck(s, { check: 'kernel.max-map-count', host: 'scenario:x', status: 'fail', summary: 's' }, T0 + 2);
		s = { ...s, results: [result('a', true)] };
		expect(parseState(JSON.stringify(s))).toEqual(s);
	});

	it('null, junk, another version -> empty; bad events and results dropped, the rest kept', () => {
		expect(parseState(null)).toEqual(emptyState());
		expect(parseState('{not json')).toEqual(emptyState());
		expect(parseState('{"version":2,"active":null,"results":[]}')).toEqual(emptyState());
		const stored = {
			version: 1,
			active: {
				...started().active,
				events: [
					{ type: 'check', at: T0, check: 'a.b', host: 'h', status: 'maybe', summary: '' },
					{ type: 'page', at: T0, path: '/', title: 'Home' },
					7,
				],
			},
			results: [result('a', false), { scenario: 'b' }],
		};
		const s = parseState(JSON.stringify(stored));
		expect(s.active?.events).toEqual([{ type: 'page', at: T0, path: '/', title: 'Home' }]);
		expect(s.results.map((r) => r.scenario)).toEqual(['a']);
	});

	it('the key is namespaced', () => {
		expect(STATE_KEY).toMatch(/^runbook-kb:/);
	});
});

describe('draw and progress', () => {
	const names = ['a', 'b', 'c'];

	it('draws among scenarios not yet answered right', () => {
		const results = [result('a', true), result('b', false)];
		for (const r of [0, 0.5, 0.999]) expect(['b', 'c']).toContain(drawScenario(names, results, () => r));
		expect(drawScenario(names, results, () => 0)).toBe('b');
		expect(drawScenario(names, results, () => 0.999)).toBe('c');
	});

	it('draws among all once every one is solved; none to draw from throws', () => {
		const all = names.map((n) => result(n, true));
		expect(drawScenario(names, all, () => 0.999)).toBe('c');
		expect(() => drawScenario([], [], Math.random)).toThrow();
	});

	it('counts attempts, scenarios, right answers, solved by latest answer, median time', () => {
		const p = progress([
			result('a', false, T0, 30_000),
			result('a', true, T0, 90_000),
			result('b', true, T0, 60_000),
			result('c', false, T0, 10_000),
		]);
		expect(p).toEqual({ attempts: 4, scenarios: 3, right: 2, solved: 2, medianMs: 45_000 });
		expect(progress([]).medianMs).toBeNull();
	});

	it('formats elapsed time', () => {
		expect([0, 42_900, 245_000, 3_725_000].map(formatElapsed)).toEqual(['0 s', '42 s', '4 min 05 s', '1 h 02 min']);
	});
});
