import { describe, expect, it } from 'vitest';
import { trainingCatalogue } from './catalogue.ts';
import { causeChoices, debriefKey, decidingChecks, decidingRun, summarisePath, type TrainingScenario } from './debrief.ts';
import { HEALTHY_CHOICE, type TrainingEvent } from './session.ts';

const T0 = Date.UTC(2026, 0, 5, 3, 0, 0);

describe('decidingChecks', () => {
	const order = ['net.neigh-unresolved', 'net.vlan-on-bond-slave', 'bond.status'];

	it('broken host: the checks that are not pass or skip, in step order', () => {
		const expect_ = { 'bond.status': 'pass', 'net.vlan-on-bond-slave': 'fail', 'net.neigh-unresolved': 'warn', 'x.y': 'skip' } as const;
		expect(decidingChecks(expect_, order, false).map((d) => `${d.check}:${d.status}`)).toEqual([
			'net.neigh-unresolved:warn',
			'net.vlan-on-bond-slave:fail',
		]);
	});

	it('healthy host: the checks that pass; an error is not "all is well"', () => {
		const expect_ = { 'bond.status': 'pass', 'net.vlan-on-bond-slave': 'pass', 'net.neigh-unresolved': 'error' } as const;
		expect(decidingChecks(expect_, order, true).map((d) => d.check)).toEqual(['net.vlan-on-bond-slave', 'bond.status']);
	});

	it('checks the runbook does not embed come last, in the scenario order; titles from titleOf', () => {
		const got = decidingChecks({ 'z.extra': 'fail', 'bond.status': 'fail', 'a.extra': 'error' }, order, false, (id) => id.toUpperCase());
		expect(got).toEqual([
			{ check: 'bond.status', title: 'BOND.STATUS', status: 'fail' },
			{ check: 'z.extra', title: 'Z.EXTRA', status: 'fail' },
			{ check: 'a.extra', title: 'A.EXTRA', status: 'error' },
		]);
	});

	it('on the shipped exercises: each has at least one deciding check, each a check of its runbook', async () => {
		const { scenarios, runbooks } = await trainingCatalogue();
		expect(scenarios.length).toBeGreaterThan(0);
		for (const s of scenarios) {
			const rb = runbooks.find((r) => r.slug === s.runbook)!;
			const deciding = decidingChecks(s.expect ?? {}, rb.checks, s.healthy);
			expect(deciding.length, s.name).toBeGreaterThan(0);
			for (const d of deciding) expect(rb.checks, `${s.name}: ${d.check}`).toContain(d.check);
		}
	});

	it('every runbook has a broken exercise and a healthy look-alike', async () => {
		const { scenarios, runbooks } = await trainingCatalogue();
		for (const rb of runbooks) {
			const mine = scenarios.filter((s) => s.runbook === rb.slug);
			expect(mine.filter((s) => !s.healthy).length, `${rb.slug}: broken`).toBeGreaterThan(0);
			expect(mine.filter((s) => s.healthy).length, `${rb.slug}: healthy`).toBeGreaterThan(0);
		}
	});

	it('bond-vlan-stray: the neighbour table first, then the VLAN device; bond.status passes so it decides nothing', async () => {
		const { scenarios, runbooks } = await trainingCatalogue();
		const s = scenarios.find((x) => x.name === 'bond-vlan-stray')!;
		const rb = runbooks.find((r) => r.slug === s.runbook)!;
		expect(decidingChecks(s.expect ?? {}, rb.checks, false).map((d) => d.check)).toEqual([
			'net.neigh-unresolved',
			'net.vlan-on-bond-slave',
		]);
	});
});

const scenario = (over: Partial<TrainingScenario>): TrainingScenario => ({
	name: 'n',
	title: 't',
	brief: 'b',
	runbook: 'hugepage-map-count',
	cause: 'c',
	healthy: false,
	...over,
});

describe('debriefKey and causeChoices', () => {
	const runbook = {
		slug: 'hugepage-map-count',
		title: 'OVS-DPDK will not start',
		summary: 'Raise vm.max_map_count.',
		checks: ['kernel.max-map-count'],
	};

	it('carries the answer, the runbook explanation and the deciding checks', () => {
		const key = debriefKey(scenario({ name: 'too-many', cause: 'limit too low', expect: { 'kernel.max-map-count': 'fail' } }), runbook);
		expect(key).toEqual({
			name: 'too-many',
			title: 't',
			runbook: 'hugepage-map-count',
			cause: 'limit too low',
			healthy: false,
			runbookTitle: 'OVS-DPDK will not start',
			runbookSummary: 'Raise vm.max_map_count.',
			expect: { 'kernel.max-map-count': 'fail' },
			deciding: [{ check: 'kernel.max-map-count', title: 'kernel.max-map-count', status: 'fail' }],
		});
	});

	it('refuses a runbook that is not the scenario one', () => {
		expect(() => debriefKey(scenario({ runbook: 'overlay-mtu' }), runbook)).toThrow(/names runbook overlay-mtu/);
	});

	it('the broken causes of that runbook once each, sorted, then "nothing is wrong"; healthy and other runbooks left out', () => {
		const all = [
			scenario({ cause: 'zz limit too low' }),
			scenario({ cause: 'aa old DPDK maps twice' }),
			scenario({ cause: 'zz limit too low ' }),
			scenario({ cause: 'limit raised', healthy: true }),
			scenario({ runbook: 'overlay-mtu', cause: 'MTU short' }),
		];
		expect(causeChoices(all, 'hugepage-map-count')).toEqual(['aa old DPDK maps twice', 'zz limit too low', HEALTHY_CHOICE]);
		expect(causeChoices(all, 'ecmp-imbalance')).toEqual([HEALTHY_CHOICE]);
	});
});

describe('summarisePath', () => {
	const session = { startedAt: T0, host: 'scenario:hugepages-too-many' };
	const events: TrainingEvent[] = [
		{ type: 'page', at: T0 + 1000, path: '/', title: 'What are you seeing?' },
		{ type: 'search', at: T0 + 8000, query: 'EAL: Failed to remap', results: 1, opened: 'hugepage-map-count' },
		{ type: 'page', at: T0 + 9000, path: '/hugepage-map-count/', title: 'OVS-DPDK will not start' },
		{ type: 'check', at: T0 + 20_000, check: 'kernel.max-map-count', host: 'scenario:hugepages-too-many', status: 'fail', summary: 'low' },
		{ type: 'page', at: T0 + 30_000, path: '/hugepage-map-count/', title: 'OVS-DPDK will not start' },
		{ type: 'check', at: T0 + 40_000, check: 'kernel.max-map-count', host: 'local', status: 'pass', summary: 'ok' },
		{ type: 'page', at: T0 + 41_000, path: '/training/', title: 'Training' },
	];
	const path = summarisePath(events, session, T0 + 65_000, new Set(['hugepage-map-count', 'overlay-mtu']));

	it('searches with what was opened, runbook pages once, checks with their host, offsets from the start', () => {
		expect(path.elapsedMs).toBe(65_000);
		expect(path.searches).toEqual([{ query: 'EAL: Failed to remap', results: 1, opened: 'hugepage-map-count', offsetMs: 8000 }]);
		expect(path.runbooks).toEqual([{ slug: 'hugepage-map-count', title: 'OVS-DPDK will not start', offsetMs: 9000 }]);
		expect(path.checks.map((c) => [c.check, c.status, c.onScenarioHost, c.offsetMs])).toEqual([
			['kernel.max-map-count', 'fail', true, 20_000],
			['kernel.max-map-count', 'pass', false, 40_000],
		]);
	});

	it('a deciding check counts as run only on the scenario host', () => {
		const deciding = [
			{ check: 'kernel.max-map-count', title: 'x', status: 'fail' as const },
			{ check: 'nic.usb-attached', title: 'y', status: 'fail' as const },
		];
		expect(decidingRun(deciding, path)).toEqual([{ ...deciding[0], ran: 'fail' }, { ...deciding[1] }]);
	});
});
