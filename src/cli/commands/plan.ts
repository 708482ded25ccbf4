/** Shared by `check` and `run`: turn arguments into a plan, print it for --dry-run, print verdicts. */
import type { CheckDefinition } from '../../core/check.ts';
import { isRunbookError } from '../../core/errors.ts';
import { probeCommand } from '../../core/check.ts';
import { exitCodeFor } from '../../core/status.ts';
import type { Host } from '../../inventory/types.ts';
import { paramsFromPairs, paramDocs, validateParams } from '../../runner/params.ts';
import { planCheck, type PlannedRun } from '../../runner/run.ts';
import { DEFAULT_LIMITS } from '../../transport/types.ts';
import type { VerdictRecord } from '../../runner/types.ts';
import { formatJson } from '../reporters/json.ts';
import { formatVerdict } from '../reporters/text.ts';

/** `--param` pairs for one check; bad or missing parameters throw `InvalidParams`. */
export function planFor(check: CheckDefinition, pairs: readonly string[]): PlannedRun {
	return { check, params: validateParams(check, paramsFromPairs(check, pairs)) as Record<string, unknown> };
}

/**
 * For a runbook run: each check takes the `--param` pairs it has a parameter for. A check whose
 * required parameters are still missing does not stop the others: it is planned with its problem,
 * which becomes its `error` verdict (or `skip` on a platform it does not judge).
 */
export function planForRunbook(check: CheckDefinition, pairs: readonly string[]): PlannedRun {
	const known = new Set(paramDocs(check).map((p) => p.name));
	const mine = pairs.filter((p) => known.has(p.slice(0, p.indexOf('='))));
	let raw: Record<string, unknown>;
	try {
		raw = paramsFromPairs(check, mine);
	} catch (e) {
		if (!isRunbookError(e) || e.code !== 'InvalidParams') throw e;
		return { check, params: {}, problem: e };
	}
	return planCheck(
		check,
		raw,
		(missing) => `${check.id} needs ${missing.map((p) => `--param ${p.name}=<${p.type}>`).join(' ')} for this host (see its runbook step)`,
	);
}

export function printDryRun(plan: PlannedRun[], host: Host, timeoutSeconds: number | undefined): void {
	const where =
		host.transport === 'ssh' && host.ssh
			? `ssh ${host.ssh.user ? `${host.ssh.user}@` : ''}${host.ssh.address}:${host.ssh.port}${host.jump ? ` via ${host.jump.address}:${host.jump.port}` : ''}`
			: host.transport;
	const out = [
		`host ${host.name} (${where}, ${host.platform}); per-command timeout ${timeoutSeconds ?? DEFAULT_LIMITS.timeoutMs / 1000}s; nothing is run.`,
	];
	for (const { check, params, problem } of plan) {
		out.push(`${check.id}${Object.keys(params).length ? ` ${JSON.stringify(params)}` : ''}`);
		if (!check.platforms.includes(host.platform)) out.push(`  skip: applies to ${check.platforms.join(', ')} only`);
		else if (problem) out.push(`  not run: ${problem.detail}`);
		else for (const p of check.probes(params)) out.push(`  ${probeCommand(p)}    # ${p.why}`);
	}
	process.stdout.write(out.join('\n') + '\n');
}

export function report(verdicts: VerdictRecord[], json: boolean | undefined, slug?: string): number {
	for (const v of verdicts) process.stdout.write((json ? formatJson(v) : formatVerdict(v, slug) + '\n') + '\n');
	return exitCodeFor(verdicts.map((v) => v.status));
}
