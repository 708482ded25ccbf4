/**
 * `runbook serve`: the built site and its API, with the scenario hosts ready. The Astro node adapter's
 * standalone server reads HOST and PORT; the API reads the RUNBOOK_* variables set here (one process,
 * so credentials stay in it and never reach the browser).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunbookError } from '../../core/errors.ts';
import { projectRoot } from '../../core/paths.ts';
import { listHosts } from '../../runner/run.ts';
import { ensureScenarioServer } from '../../transport/scenario-server.ts';
import { runOptions, type CommonOptions } from '../options.ts';

export async function serveCommand(o: CommonOptions & { port: number; listen: string }): Promise<number> {
	const entry = join(projectRoot, 'dist', 'server', 'entry.mjs');
	if (!existsSync(entry))
		throw new RunbookError('InvalidArgument', `the site is not built (${entry} is missing)`, {
			hint: 'Run `npm run build` first, or `npm start`, which builds and serves.',
		});
	if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)
		throw new RunbookError('InvalidArgument', `--port must be 1-65535, got "${o.port}"`);
	const env = process.env;
	if (o.inventory) env.RUNBOOK_INVENTORY = o.inventory;
	if (o.knownHosts?.length) env.RUNBOOK_KNOWN_HOSTS = o.knownHosts.join(':');
	if (o.acceptNew) env.RUNBOOK_ACCEPT_NEW = '1';
	if (o.identity) env.RUNBOOK_IDENTITY = o.identity;
	if (o.timeout) env.RUNBOOK_TIMEOUT = String(o.timeout);
	if (o.scenarios?.length) env.RUNBOOK_SCENARIOS = o.scenarios.join(':');
	env.HOST = o.listen;
	env.PORT = String(o.port);
	const scenario = await ensureScenarioServer({ scenarioDirs: o.scenarios ?? [] });
	const hosts = await listHosts(runOptions(o));
	await import(pathToFileURL(entry).href);
	process.stdout.write(
		`Runbook KB: http://${o.listen.includes(':') ? `[${o.listen}]` : o.listen}:${o.port}/\n` +
			`  scenario SSH server on ${scenario.address}:${scenario.port}\n` +
			`  hosts: ${hosts.map((h) => h.name).join(', ')}\n`,
	);
	return new Promise<number>(() => {});
}
