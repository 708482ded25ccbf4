/** Where the project and the tool's own state live. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walk up from `start` to the folder whose package.json is this project's. */
function findRoot(start: string): string {
	for (let dir = start; ; dir = dirname(dir)) {
		const pkg = join(dir, 'package.json');
		if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'runbook-kb') return dir;
		if (dirname(dir) === dir) return process.cwd();
	}
}

/**
 * The project root; found by walking up, so it is right from source (tsx, vitest) and from the
 * bundled server under `dist/server/`. `RUNBOOK_ROOT` overrides.
 */
export const projectRoot: string = process.env.RUNBOOK_ROOT ?? findRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * The tool's own state: the scenario server's host key and the known_hosts it writes for it.
 * `RUNBOOK_STATE_DIR`, else `$XDG_STATE_HOME/runbook`, else `~/.local/state/runbook`.
 */
export function stateDir(): string {
	if (process.env.RUNBOOK_STATE_DIR) return process.env.RUNBOOK_STATE_DIR;
	const xdg = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
	return join(xdg, 'runbook');
}
