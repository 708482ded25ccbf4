/** `runbook run <slug> --host <h>`: every check of a runbook, in the order its frontmatter lists them. */
import { loadRegistry } from '../../core/registry-node.ts';
import { getRunbook } from '../../core/runbooks-node.ts';
import { findHost, runPlan } from '../../runner/run.ts';
import { runOptions, type CommonOptions } from '../options.ts';
import { planForRunbook, printDryRun, report } from './plan.ts';

export async function runCommand(slug: string, o: CommonOptions & { host: string; param?: string[]; json?: boolean }): Promise<number> {
	const [registry, runbook] = await Promise.all([loadRegistry(), getRunbook(slug)]);
	const plan = runbook.checks.map((id) => planForRunbook(registry.get(id), o.param ?? []));
	const opts = runOptions(o);
	const host = await findHost(o.host, opts);
	if (o.dryRun) {
		printDryRun(plan, host, o.timeout);
		return 0;
	}
	if (!o.json) process.stdout.write(`${runbook.title}\n\n`);
	return report(await runPlan(plan, [o.host], opts), o.json, slug);
}
