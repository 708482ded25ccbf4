/**
 * `POST /api/runbooks/<slug>/run` with `{ hosts: string[] (1 to 32), params?: { <check-id>: {...} } }`
 * (a name may be an inventory group; the hosts it comes to must still be 32 at most)
 * -> `application/x-ndjson`: every check of the runbook in step order on each host, one connection
 * and one probe cache per host, at most 8 hosts at a time. Lines are the runner's `RunEvent`s
 * (`start`, `progress`..., `verdict` per check and host; hosts interleave, each line names its host),
 * then exactly one last line: `{ type: 'diagnosis', diagnosis }` for one host, `{ type: 'fleet',
 * fleet }` for several.
 *
 * Answered before the stream starts, as JSON `{ error: { code, message, hint } }`: 404
 * `UnknownRunbook`, 404 `UnknownHost` (any host, before anything runs), 400 `InvalidParams` for a
 * body that is not valid or params for a check the runbook does not have. Parameters that are missing
 * or not valid for a check do not stop the run: that check's verdict is the `error` naming them.
 */
import type { APIRoute } from 'astro';
import { z } from 'zod';
import { isRunbookError, RunbookError } from '../../../../core/errors.ts';
import { getRunbook, loadRunbooks } from '../../../../core/runbooks-node.ts';
import { diagnose, hostRecordsOf, outlineRunbook } from '../../../../diagnosis/diagnose.ts';
import { diagnoseFleet } from '../../../../diagnosis/fleet.ts';
import type { HostRecords, RunbookOutline, RunbookRunEvent } from '../../../../diagnosis/types.ts';
import type { Host } from '../../../../inventory/types.ts';
import { findHosts, planCheck, runPlanOn, serverRunOptions, type PlannedRun } from '../../../../runner/run.ts';
import type { VerdictRecord } from '../../../../runner/types.ts';
import { brokenRun, errorResponse, ndjsonStream, readJsonBody } from '../../../../site/api.ts';
import { registry } from '../../../../site/registry.ts';

export const prerender = false;

const MAX_HOSTS = 32;

const RunbookRunRequestSchema = z.strictObject({
	/** Host names from `GET /api/hosts`, `user@address:port`, or inventory groups; each host runs once, in this order. */
	hosts: z.array(z.string().min(1).max(255)).min(1).max(MAX_HOSTS),
	/** Per check id, that check's parameters; each check's own zod schema validates them. */
	params: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

const USAGE = 'Send {"hosts": ["<name>", ...], "params": {"<check-id>": {...}}}.';

export const POST: APIRoute = async ({ params, request }) => {
	const slug = params.slug ?? '';
	const opts = serverRunOptions();
	let plan: PlannedRun[];
	let hosts: Host[];
	let outline: RunbookOutline;
	try {
		const [runbook, all] = await Promise.all([getRunbook(slug), loadRunbooks()]);
		const body = await readJsonBody(request, RunbookRunRequestSchema, USAGE);
		const stray = Object.keys(body.params ?? {}).filter((id) => !runbook.checks.includes(id));
		if (stray.length) {
			throw new RunbookError(
				'InvalidParams',
				`runbook ${slug} has no check ${stray.join(', ')}; its checks: ${runbook.checks.join(', ')}`,
				{ hint: USAGE },
			);
		}
		plan = runbook.checks.map((id) =>
			planCheck(
				registry.get(id),
				body.params?.[id] ?? {},
				(missing) =>
					`${id} needs ${missing.map((p) => `${p.name} (${p.type})`).join(', ')} for this host: fill them in on this step and run again`,
			),
		);
		outline = outlineRunbook(runbook, all, (id) => registry.get(id).title);
		hosts = await findHosts(body.hosts, opts);
		if (hosts.length > MAX_HOSTS) {
			throw new RunbookError(
				'InvalidParams',
				`the hosts and groups named come to ${hosts.length} hosts; one run takes at most ${MAX_HOSTS}`,
				{
					hint: 'Split the group, or name fewer hosts.',
				},
			);
		}
	} catch (e) {
		if (isRunbookError(e)) return errorResponse(e, 'UnknownRunbook');
		throw e;
	}

	const { response, send, close } = ndjsonStream<RunbookRunEvent>();

	const seen = new Map<string, VerdictRecord[]>(hosts.map((h) => [h.name, []]));
	void runPlanOn(plan, hosts, {
		...opts,
		onEvent: (e) => {
			if (e.type === 'verdict') seen.get(e.verdict.host)?.push(e.verdict);
			send(e);
		},
	})
		.then(
			(result) => result.hosts.map(hostRecordsOf),
			(e: unknown) => {
				console.error(`[runbook] run of runbook ${slug} failed:`, e);
				// Every check that has no verdict yet gets one saying the run broke, then the diagnosis of what there is.
				return hosts.map((h): HostRecords => {
					const records = seen.get(h.name)!;
					for (const { check } of plan) {
						if (records.some((r) => r.check === check.id)) continue;
						const v = brokenRun(check.id, h.name, e);
						records.push(v);
						send({ type: 'verdict', verdict: v });
					}
					return { host: h.name, records };
				});
			},
		)
		.then((perHost) => {
			if (perHost.length === 1)
				send({ type: 'diagnosis', diagnosis: diagnose(outline, perHost[0]!.host, perHost[0]!.records, perHost[0]!.trace) });
			else send({ type: 'fleet', fleet: diagnoseFleet(outline, perHost) });
		})
		.finally(close);

	return response;
};
