/**
 * Every source of hosts merged into one list, and the lookup of a name given on the command line, in a
 * URL (`?host=`) or by the API.
 *
 * A name is looked up, first match wins:
 * 1. the built-ins: `local`, and `scenario:<name>` for each scenario name the caller passes (these names
 *    are reserved: an inventory host or ssh alias with the same name is not offered);
 * 2. the inventory (`opts.inventory`, else `RUNBOOK_INVENTORY`, else `./inventory.yaml` if present);
 * 3. `Host` aliases of `~/.ssh/config` not defined in the inventory;
 * 4. an ad hoc address, only if the text has `@` or `:` or is digits and dots (`looksAdhoc`); a bare
 *    word found nowhere is `UnknownHost`, never sent to DNS.
 * Every SSH host gets what `~/.ssh/config` says for its address where its own source is silent, as
 * `ssh` would give it (see ssh-config.ts).
 */
import type { Platform } from '../core/check.ts';
import { existsSync } from 'node:fs';
import { RunbookError } from '../core/errors.ts';
import { parseAdhocTarget, looksAdhoc } from './adhoc.ts';
import { ansibleHostEntry, loadAnsibleInventory } from './ansible.ts';
import { applySshConfig, readSshConfig, sshConfigEntries, type SshConfigFile } from './ssh-config.ts';
import type { Host } from './types.ts';

/** A defined name: the host, or why it cannot be used (raised only when it is asked for). */
export type HostEntry = { name: string; host: Host; problem?: undefined } | { name: string; host?: undefined; problem: RunbookError };

export interface HostSourceOptions {
	/** Ansible YAML inventory; default `RUNBOOK_INVENTORY`, else `./inventory.yaml` when it exists. */
	inventory?: string | undefined;
	/** Default `~/.ssh/config` (absent is fine); a path given must exist. */
	sshConfig?: string | undefined;
	/** Names of the training scenarios, each offered as `scenario:<name>`. */
	scenarioNames?: readonly string[] | undefined;
	/** Platform of a scenario whose simulated host is not Linux (e.g. an NX-OS switch); default `linux`. */
	scenarioPlatforms?: Readonly<Record<string, Platform>> | undefined;
}

export const DEFAULT_INVENTORY = './inventory.yaml';

/** The inventory file to read, and whether it was asked for (a missing one is then an error). */
export function inventoryPath(opts: HostSourceOptions = {}): { path: string; explicit: boolean } | undefined {
	const given = opts.inventory || process.env.RUNBOOK_INVENTORY || undefined;
	if (given) return { path: given, explicit: true };
	return existsSync(DEFAULT_INVENTORY) ? { path: DEFAULT_INVENTORY, explicit: false } : undefined;
}

interface Sources {
	/** How messages name the inventory. */
	inventoryLabel: string;
	ssh: SshConfigFile;
	builtins: Map<string, Host>;
	/** Inventory then ssh-config entries, in that order. */
	entries: Map<string, HostEntry>;
	/** Inventory groups -> member host names. */
	groups: Map<string, string[]>;
	scenarioNames: readonly string[];
}

function builtins(scenarioNames: readonly string[], platforms: Readonly<Record<string, Platform>> = {}): Map<string, Host> {
	const out = new Map<string, Host>();
	out.set('local', { name: 'local', source: 'builtin', transport: 'local', platform: 'linux', groups: [] });
	for (const s of scenarioNames) {
		const name = `scenario:${s}`;
		out.set(name, { name, source: 'scenario', transport: 'scenario', scenario: s, platform: platforms[s] ?? 'linux', groups: [] });
	}
	return out;
}

async function loadSources(opts: HostSourceOptions): Promise<Sources> {
	const inv = inventoryPath(opts);
	const [inventory, ssh] = await Promise.all([inv ? loadAnsibleInventory(inv.path) : undefined, readSshConfig(opts.sshConfig)]);
	const scenarioNames = opts.scenarioNames ?? [];
	const fixed = builtins(scenarioNames, opts.scenarioPlatforms);
	const entries = new Map<string, HostEntry>();
	for (const h of inventory?.hosts ?? []) {
		if (!fixed.has(h.name)) entries.set(h.name, ansibleHostEntry(h, ssh, inventory!.file));
	}
	for (const e of sshConfigEntries(ssh)) {
		if (!fixed.has(e.name) && !entries.has(e.name)) entries.set(e.name, e);
	}
	return {
		inventoryLabel: inv?.path ?? `the inventory (none given, no ${DEFAULT_INVENTORY})`,
		ssh,
		builtins: fixed,
		entries,
		groups: inventory?.groups ?? new Map(),
		scenarioNames,
	};
}

function usable(entry: HostEntry): Host {
	if (entry.problem) throw entry.problem;
	return entry.host;
}

function resolveIn(src: Sources, name: string): Host {
	const builtin = src.builtins.get(name);
	if (builtin) return builtin;
	if (name.startsWith('scenario:')) {
		const known = src.scenarioNames.length ? src.scenarioNames.join(', ') : 'none loaded';
		throw new RunbookError('UnknownHost', `no scenario ${JSON.stringify(name.slice('scenario:'.length))} (scenarios: ${known})`, {
			hint: 'Scenario files live in content/scenarios/; --scenarios DIR adds another folder.',
		});
	}
	const entry = src.entries.get(name);
	if (entry) return usable(entry);
	if (looksAdhoc(name)) {
		const spec = parseAdhocTarget(name);
		const { ssh, jump } = applySshConfig(src.ssh, spec, `host ${JSON.stringify(name)}`);
		return { name, source: 'adhoc', transport: 'ssh', ssh, ...(jump ? { jump } : {}), platform: 'linux', groups: [] };
	}
	const members = src.groups.get(name);
	if (members) {
		throw new RunbookError(
			'UnknownHost',
			`${JSON.stringify(name)} is a group of ${members.length} hosts in ${src.inventoryLabel}, not a host`,
			{
				hint: 'Give one of its hosts (`runbook hosts` lists them), or run the check across the group.',
			},
		);
	}
	throw new RunbookError('UnknownHost', `no host ${JSON.stringify(name)} in ${src.inventoryLabel}, ${src.ssh.label} or the scenarios`, {
		hint:
			name === 'localhost'
				? 'This machine is the built-in host `local`.'
				: 'Run `runbook hosts` to list known hosts, or give an address as user@address:port.',
	});
}

/** Every usable host: inventory, then ssh-config aliases, then `local` and the scenarios. */
export async function loadHosts(opts: HostSourceOptions = {}): Promise<Host[]> {
	const src = await loadSources(opts);
	const out: Host[] = [];
	for (const e of src.entries.values()) if (e.host) out.push(e.host);
	out.push(...src.builtins.values());
	return out;
}

/**
 * The host a name means (lookup order in the header). Throws `UnknownHost` for a name found nowhere
 * or an invalid address, `InvalidInventory` for a defined host that cannot be used or a bad file.
 */
export async function resolveHost(name: string, opts: HostSourceOptions = {}): Promise<Host> {
	return resolveIn(await loadSources(opts), name);
}

/**
 * An inventory group's hosts (`all` and `ungrouped` included), in inventory order, plus a host of the
 * same name if one is defined elsewhere (Ansible's patterns match both); otherwise `[resolveHost(name)]`.
 * One unusable member fails the whole group with its error, naming the host.
 */
export async function resolveHostsOrGroup(nameOrGroup: string, opts: HostSourceOptions = {}): Promise<Host[]> {
	const src = await loadSources(opts);
	const members = src.groups.get(nameOrGroup);
	if (!members) return [resolveIn(src, nameOrGroup)];
	const hosts = members.filter((m) => src.entries.has(m)).map((m) => usable(src.entries.get(m)!));
	const same = src.entries.get(nameOrGroup);
	if (same && !members.includes(nameOrGroup)) hosts.push(usable(same));
	if (hosts.length === 0) {
		throw new RunbookError('UnknownHost', `group ${JSON.stringify(nameOrGroup)} in ${src.inventoryLabel} has no hosts`, {
			hint: 'Run `runbook hosts` to see each host and its groups.',
		});
	}
	return hosts;
}
