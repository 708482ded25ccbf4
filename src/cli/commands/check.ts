/** `runbook check <id> --host <h>`: one check, one host. */
import { loadRegistry } from '../../core/registry-node.ts';
import { loadRunbooks } from '../../core/runbooks-node.ts';
import { findHost, runPlan } from '../../runner/run.ts';
import { runOptions, type CommonOptions } from '../options.ts';
import { planFor, printDryRun, report } from './plan.ts';

export async function checkCommand(id: string, o: CommonOptions & { host: string; param?: string[]; json?: boolean }): Promise<number> {
	const registry = await loadRegistry();
	const plan = [planFor(registry.get(id), o.param ?? [])];
	const opts = runOptions(o);
	const host = await findHost(o.host, opts);
	if (o.dryRun) {
		printDryRun(plan, host, o.timeout);
		return 0;
	}
	// `next` is an anchor; name the runbook it is in when exactly one runbook embeds this check.
	const homes = (await loadRunbooks()).filter((r) => r.checks.includes(id));
	return report(await runPlan(plan, [o.host], opts), o.json, homes.length === 1 ? homes[0]!.slug : undefined);
}
