/**
 * What the unit test of every check repeats: its fixture folder, the hostile text every parser must
 * refuse, the read-only contract, its `nextSteps` held against the runbook that embeds it, and the
 * training scenarios that expect a status from it (run through a fake ctx built from the scenario,
 * as the scenario SSH server would answer).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Verdict } from '../../src/core/check.ts';
import { parseRunbook, type RunbookInfo } from '../../src/core/runbooks-node.ts';
import { ScenarioSchema, type Scenario } from '../../src/scenarios/schema.ts';
import type { FakeHost } from './fake-ctx.ts';

const RUNBOOKS = new URL('../../content/runbooks/', import.meta.url);
const SCENARIOS = new URL('../../content/scenarios/', import.meta.url);

/** Text every parser must refuse without throwing: nothing, a blank line, a NUL, 100 000 bytes and no newline. */
export const HOSTILE_TEXT: readonly string[] = ['', '\n', '\0\n', 'x'.repeat(100_000)];

/** The contract every Linux check keeps: read-only, Linux only, and `id`, which equals its path. */
export function itIsReadOnlyOnLinux(check: { id: string; mutates: boolean; platforms: readonly string[] }, id: string): void {
	it('is read-only, linux-only, with an id matching its path', () => {
		expect(check.id).toBe(id);
		expect(check.mutates).toBe(false);
		expect(check.platforms).toEqual(['linux']);
	});
}

/** A check's fixture folder: `fx(name)` reads one capture as it was taken, `fixtureFiles` names every `.txt` in it. */
export function fixtures(folder: URL): { fx: (name: string) => string; fixtureFiles: string[] } {
	return {
		fx: (name) => readFileSync(new URL(name, folder), 'utf8'),
		fixtureFiles: readdirSync(folder).filter((f) => f.endsWith('.txt')),
	};
}

/**
 * content/runbooks/<slug>.mdx, once it is asserted to list `check` and to have a heading for every
 * step of its `nextSteps` that points into it (`#anchor`, or `<slug>#anchor`); returned for any
 * further assertion.
 */
export function expectRunbookEmbeds(check: { id: string; nextSteps: readonly string[] }, slug: string): RunbookInfo {
	const rb = parseRunbook(slug, readFileSync(new URL(`${slug}.mdx`, RUNBOOKS), 'utf8'));
	expect(rb.checks).toContain(check.id);
	for (const next of check.nextSteps) {
		const [where, anchor] = next.split('#') as [string, string];
		if (where === '' || where === slug) expect(rb.anchors).toContain(`#${anchor}`);
	}
	return rb;
}

/** The training scenarios (content/scenarios/*.yaml) that expect a status from the check `id`. */
export function scenariosExpecting(id: string): Scenario[] {
	return readdirSync(SCENARIOS)
		.filter((f) => f.endsWith('.yaml'))
		.map((f) => ScenarioSchema.parse(parseYaml(readFileSync(new URL(f, SCENARIOS), 'utf8'))))
		.filter((s) => s.expect?.[id] !== undefined);
}

/** One test per scenario: `run` on the scenario's files and commands gives the status it expects from `id`. */
export function itGivesEachScenarioItsStatus(id: string, scenarios: readonly Scenario[], run: (host: FakeHost) => Promise<Verdict>): void {
	for (const s of scenarios) {
		it(`${s.name} -> ${s.expect![id]}`, async () => {
			const v = await run({ files: s.files, commands: s.commands });
			expect(v.status, v.summary).toBe(s.expect![id]);
		});
	}
}

/** The training scenarios that expect a status from `id`: there is at least one, and `run` on each gives it. */
export function describeTrainingScenarios(id: string, run: (host: FakeHost) => Promise<Verdict>): void {
	describe('training scenarios that expect this check', () => {
		const scenarios = scenariosExpecting(id);
		it('there is at least one', () => {
			expect(scenarios.length).toBeGreaterThan(0);
		});
		itGivesEachScenarioItsStatus(id, scenarios, run);
	});
}
