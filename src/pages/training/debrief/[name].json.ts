/**
 * `/training/debrief/<scenario>.json`: a scenario's answer key and explanation (`DebriefKey`),
 * written once per scenario at build time. The training page fetches it only when the trainee
 * submits, so which runbook and cause a scenario has is not in the page while they work (a
 * training tool, not an exam: keeping it out of sight is enough).
 */
import type { APIRoute, GetStaticPaths } from 'astro';
import { registry } from '../../../site/registry.ts';
import { trainingCatalogue } from '../../../training/catalogue.ts';
import { debriefKey, type DebriefKey } from '../../../training/debrief.ts';

export const prerender = true;

export const getStaticPaths = (async () => {
	const { scenarios, runbooks } = await trainingCatalogue();
	const titleOf = (id: string) => (registry.has(id) ? registry.get(id).title : id);
	return scenarios.map((s) => ({
		params: { name: s.name },
		props: {
			key: debriefKey(
				s,
				runbooks.find((r) => r.slug === s.runbook)!,
				titleOf,
			),
		},
	}));
}) satisfies GetStaticPaths;

export const GET: APIRoute<{ key: DebriefKey }> = ({ props }) => Response.json(props.key);
