/** Shared by `check` and `run`: turn arguments into a plan, print it for --dry-run, print verdicts. */
import type { CheckDefinition } from '../../core/check.ts';
import { probeCommand } from '../../core/check.ts';
import { exitCodeFor } from '../../core/status.ts';
import type { Host } from '../../inventory/types.ts';
import { paramsFromPairs, paramDocs, validateParams } from '../../runner/params.ts';
import type { PlannedRun } from '../../runner/run.ts';
import { DEFAULT_LIMITS } from '../../transport/types.ts';
import type { VerdictRecord } from '../../runner/types.ts';
import { formatJson } from '../reporters/json.ts';
import { formatVerdict } from '../reporters/text.ts';

/** `--param` pairs for one check. With `onlyKnown`, pairs naming parameters the check lacks are left out (runbook runs). */
export function planFor(check: CheckDefinition, pairs: readonly string[], onlyKnown = false): PlannedRun {
	const known = new Set(paramDocs(check).map((p) => p.name));
	const mine = onlyKnown ? pairs.filter((p) => known.has(p.slice(0, p.indexOf('=')))) : pairs;
	return { check, params: validateParams(check, paramsFromPairs(check, mine)) as Record<string, unknown> };
}

export function printDryRun(plan: PlannedRun[], host: Host, timeoutSeconds: number | undefined): void {
	const where = host.transport === 'ssh' && host.ssh ? `ssh ${host.ssh.user ? `${host.ssh.user}@` : ''}${host.ssh.address}:${host.ssh.port}${host.jump ? ` via ${host.jump.address}:${host.jump.port}` : ''}` : host.transport;
	const out = [`host ${host.name} (${where}, ${host.platform}); per-command timeout ${timeoutSeconds ?? DEFAULT_LIMITS.timeoutMs / 1000}s; nothing is run.`];
	for (const { check, params } of plan) {
		out.push(`${check.id}${Object.keys(params).length ? ` ${JSON.stringify(params)}` : ''}`);
		if (!check.platforms.includes(host.platform)) out.push(`  skip: applies to ${check.platforms.join(', ')} only`);
		else for (const p of check.probes(params)) out.push(`  ${probeCommand(p)}    # ${p.why}`);
	}
	process.stdout.write(out.join('\n') + '\n');
}

export function report(verdicts: VerdictRecord[], json: boolean | undefined, slug?: string): number {
	for (const v of verdicts) process.stdout.write((json ? formatJson(v) : formatVerdict(v, slug) + '\n') + '\n');
	return exitCodeFor(verdicts.map((v) => v.status));
}
