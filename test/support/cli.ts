/** Spawn the real `runbook` bin, as a user would, and collect what it printed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/core/paths.ts';

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
	return new Promise((resolve) => {
		execFile(process.execPath, [join(projectRoot, 'bin', 'runbook.js'), ...args], { cwd: projectRoot, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
			const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
			resolve({ code, stdout, stderr });
		});
	});
}
