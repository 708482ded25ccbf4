/**
 * What the training page and its debrief endpoint are built from: the built-in scenarios
 * (`content/scenarios/`) and the runbooks (`content/runbooks/`), read by the same loaders as the CLI.
 * Build time only (node:fs).
 *
 * An exercise is a scenario that names its runbook and its cause: without both there is nothing to
 * mark an answer against, so such a scenario is a host to practise checks on, not an incident to
 * diagnose, and is left out here. A runbook that does not exist fails the build.
 */
import { loadRunbooks } from '../core/runbooks-node.ts';
import { loadScenarios } from '../scenarios/load.ts';
import type { TrainingRunbook, TrainingScenario } from './debrief.ts';

export interface TrainingCatalogue {
	/** By name. */
	scenarios: TrainingScenario[];
	/** By title, as the diagnosis form lists them. */
	runbooks: TrainingRunbook[];
}

export async function trainingCatalogue(): Promise<TrainingCatalogue> {
	const [scenarios, runbooks] = await Promise.all([loadScenarios(), loadRunbooks()]);
	const slugs = new Set(runbooks.map((r) => r.slug));
	const out: TrainingScenario[] = [];
	for (const s of [...scenarios.values()].sort((a, b) => a.name.localeCompare(b.name))) {
		if (s.runbook === undefined || s.cause === undefined) continue;
		if (!slugs.has(s.runbook))
			throw new Error(`content/scenarios/${s.name}.yaml: runbook "${s.runbook}" does not exist; known: ${[...slugs].join(', ')}`);
		out.push({
			name: s.name,
			title: s.title,
			brief: s.brief,
			runbook: s.runbook,
			cause: s.cause,
			healthy: s.healthy,
			...(s.expect ? { expect: s.expect } : {}),
		});
	}
	return {
		scenarios: out,
		runbooks: runbooks
			.map(({ slug, title, summary, checks }) => ({ slug, title, summary, checks }))
			.sort((a, b) => a.title.localeCompare(b.title)),
	};
}
