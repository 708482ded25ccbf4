/**
 * `runbook run <slug> --host <h>`: every check of a runbook, in the order its frontmatter lists
 * them, then the diagnosis. `--hosts a,b,c` (or `--host` naming an inventory group) runs it on
 * several hosts at once, at most 8 at a time, and prints the fleet view instead. `--notes` prints
 * the incident notes in Markdown instead; `--json` one verdict per line, then the diagnosis.
 */
import { userInfo } from 'node:os';
import { loadRegistry } from '../../core/registry-node.ts';
import { getRunbook, loadRunbooks } from '../../core/runbooks-node.ts';
import { RunbookError } from '../../core/errors.ts';
import { exitCodeFor } from '../../core/status.ts';
import { diagnose, hostRecordsOf, outlineRunbook } from '../../diagnosis/diagnose.ts';
import { diagnoseFleet } from '../../diagnosis/fleet.ts';
import { incidentNotes } from '../../diagnosis/notes.ts';
import { findHosts, runPlanOn } from '../../runner/run.ts';
import type { RunEvent } from '../../runner/types.ts';
import { formatDiagnosis, formatFleet } from '../reporters/diagnosis.ts';
import { formatDiagnosisJson, formatJson } from '../reporters/json.ts';
import { formatVerdict } from '../reporters/text.ts';
import { runOptions, type CommonOptions } from '../options.ts';
import { planForRunbook, printDryRun } from './plan.ts';

export interface RunCommandOptions extends CommonOptions {
	host?: string;
	/** Comma-separated host names (or inventory groups). */
	hosts?: string;
	param?: string[];
	json?: boolean;
	notes?: boolean;
}

/** The OS login name of whoever runs the command; notes name the operator by it. */
export function operatorName(): string {
	try {
		return userInfo().username;
	} catch {
		return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
	}
}

function hostNames(o: RunCommandOptions): string[] {
	if (o.host !== undefined && o.hosts !== undefined) throw new RunbookError('InvalidArgument', 'give --host or --hosts, not both');
	const names =
		o.hosts !== undefined
			? o.hosts
					.split(',')
					.map((h) => h.trim())
					.filter(Boolean)
			: o.host !== undefined
				? [o.host]
				: [];
	if (names.length === 0) throw new RunbookError('InvalidArgument', 'say where to run: --host <host or inventory group> or --hosts a,b,c');
	return names;
}

/** A status line on stderr while several hosts run, rewritten in place; only on a terminal. */
function progressLine(hostCount: number, checkCount: number): { onEvent: (e: RunEvent) => void; done: () => void } {
	if (process.stderr.isTTY !== true || hostCount < 2) return { onEvent: () => undefined, done: () => undefined };
	const finished = new Map<string, number>();
	const write = (text: string) => process.stderr.write(`\r\x1b[K${text}`);
	return {
		onEvent(e) {
			if (e.type === 'start')
				write(`${[...finished.values()].filter((n) => n === checkCount).length}/${hostCount} hosts done; ${e.host}: ${e.check}`);
			else if (e.type === 'progress')
				write(`${e.host}: ${e.check}: ${e.message}${e.fraction === undefined ? '' : ` ${Math.round(e.fraction * 100)}%`}`);
			else {
				const n = (finished.get(e.verdict.host) ?? 0) + 1;
				finished.set(e.verdict.host, n);
				const hostsDone = [...finished.values()].filter((k) => k === checkCount).length;
				write(`${hostsDone}/${hostCount} hosts done; ${e.verdict.host}: ${n}/${checkCount} checks, ${e.verdict.check} ${e.verdict.status}`);
			}
		},
		done: () => write(''),
	};
}

export async function runCommand(slug: string, o: RunCommandOptions): Promise<number> {
	const [registry, runbook, all] = await Promise.all([loadRegistry(), getRunbook(slug), loadRunbooks()]);
	const plan = runbook.checks.map((id) => planForRunbook(registry.get(id), o.param ?? []));
	const opts = runOptions(o);
	const hosts = await findHosts(hostNames(o), opts);
	if (o.dryRun) {
		hosts.forEach((host, i) => {
			if (i > 0) process.stdout.write('\n');
			printDryRun(plan, host, o.timeout);
		});
		return 0;
	}

	const at = new Date();
	const progress = progressLine(hosts.length, plan.length);
	let result;
	try {
		result = await runPlanOn(plan, hosts, { ...opts, onEvent: progress.onEvent });
	} finally {
		progress.done();
	}
	const outline = outlineRunbook(runbook, all, (id) => registry.get(id).title);
	const perHost = result.hosts.map(hostRecordsOf);
	const diagnosis =
		perHost.length === 1 ? diagnose(outline, perHost[0]!.host, perHost[0]!.records, perHost[0]!.trace) : diagnoseFleet(outline, perHost);

	const out: string[] = [];
	if (o.notes) out.push(incidentNotes(diagnosis, { at, operator: operatorName() }).trimEnd());
	else if (o.json) out.push(...result.verdicts.map(formatJson), formatDiagnosisJson(diagnosis));
	else if ('grid' in diagnosis) out.push(formatFleet(diagnosis));
	else out.push(`${runbook.title}\n`, ...result.verdicts.map((v) => `${formatVerdict(v, slug)}\n`), formatDiagnosis(diagnosis));
	process.stdout.write(`${out.join('\n')}\n`);
	return exitCodeFor(result.verdicts.map((v) => v.status));
}
