/** Spawn the real `runbook` bin, as a user would, and collect what it printed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[join(projectRoot, 'bin', 'runbook.js'), ...args],
			{ cwd: projectRoot, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
			(err, stdout, stderr) => {
				const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
				resolve({ code, stdout, stderr });
			},
		);
	});
}

/** How `runbook check` reaches lab hosts over SSH: an inventory and a known_hosts that name them, and a state folder of its own. */
export interface CheckTarget {
	inventory: string;
	knownHosts: string;
	stateDir: string;
}

/** `runbook check <id> --host <host> --inventory ... --known-hosts ... --json`, a `--param` for each of `params`, then `args`. */
export function runCheck(
	target: CheckTarget,
	id: string,
	host: string,
	params: readonly string[] = [],
	args: readonly string[] = [],
): Promise<CliResult> {
	const hostArgs = ['--host', host, '--inventory', target.inventory, '--known-hosts', target.knownHosts];
	return runCli(['check', id, ...hostArgs, '--json', ...params.flatMap((p) => ['--param', p]), ...args], {
		RUNBOOK_STATE_DIR: target.stateDir,
	});
}

/** `runCheck` for a run that must say nothing on stderr: its exit code and the verdict it printed. */
export async function checkVerdict(target: CheckTarget, id: string, host: string, params: readonly string[] = []) {
	const r = await runCheck(target, id, host, params);
	expect(r.stderr).toBe('');
	return { code: r.code, v: JSON.parse(r.stdout) };
}
