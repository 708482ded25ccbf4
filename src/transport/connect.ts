/**
 * From a host to a transport: `local` runs here, `ssh` connects (through its bastion if any), and a
 * training scenario connects over SSH to the built-in scenario server, so training takes the same
 * path as production, host key check included.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RunbookError } from '../core/errors.ts';
import { stateDir } from '../core/paths.ts';
import type { Host } from '../inventory/types.ts';
import { createLocalTransport } from './local.ts';
import { ensureScenarioServer } from './scenario-server.ts';
import { connectSsh } from './ssh.ts';
import type { Transport } from './types.ts';

export interface ConnectOptions {
	/** known_hosts files, read as one; default `defaultKnownHosts()`. */
	knownHosts?: string[] | undefined;
	/** Record an unknown host key (in the first known_hosts file) instead of refusing it. */
	acceptNew?: boolean | undefined;
	/** Identity file for hosts whose definition names none (`--identity`). */
	identity?: string | undefined;
	/** Deadline for connecting, per hop. */
	connectTimeoutMs?: number | undefined;
	/** Extra scenario folders (`--scenarios`). */
	scenarioDirs?: string[] | undefined;
}

/** `~/.ssh/known_hosts`, then the tool's own (`<stateDir>/known_hosts`). */
export function defaultKnownHosts(): string[] {
	return [join(homedir(), '.ssh', 'known_hosts'), join(stateDir(), 'known_hosts')];
}

export async function openTransport(host: Host, opts: ConnectOptions = {}): Promise<Transport> {
	const rawCommands = host.platform !== 'linux';
	const timeout = opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs };
	switch (host.transport) {
		case 'local':
			return createLocalTransport();
		case 'ssh': {
			if (!host.ssh) throw new RunbookError('InvalidInventory', `host ${host.name} has no SSH address`);
			const target = { ...host.ssh, identityFile: host.ssh.identityFile ?? opts.identity };
			return connectSsh(target, {
				knownHosts: opts.knownHosts ?? defaultKnownHosts(),
				acceptNew: opts.acceptNew ?? false,
				jump: host.jump,
				rawCommands,
				identityFile: opts.identity,
				...timeout,
			});
		}
		case 'scenario': {
			if (!host.scenario) throw new RunbookError('InvalidScenario', `host ${host.name} names no scenario`);
			const server = await ensureScenarioServer(opts.scenarioDirs ? { scenarioDirs: opts.scenarioDirs } : {});
			return connectSsh(
				{ address: server.address, port: server.port, user: host.scenario, identityFile: server.clientKeyFile },
				{
					knownHosts: [server.knownHostsFile],
					acceptNew: false,
					agent: null,
					rawCommands,
					label: `scenario ${host.scenario}`,
					...timeout,
				},
			);
		}
	}
}
