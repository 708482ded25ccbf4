/**
 * One host model, whatever it came from (DESIGN.md, "Hosts and inventory"): an Ansible-style
 * inventory, an `~/.ssh/config` alias, an ad hoc `user@address:port`, the built-in `local`, or a
 * training scenario `scenario:<name>`.
 */
import { z } from 'zod';
import { PlatformSchema } from '../core/check.ts';

export const SshEndpointSchema = z.object({
	/** Address actually connected to (IP or DNS name); known_hosts is looked up by it. */
	address: z.string().min(1),
	port: z.number().int().min(1).max(65535).default(22),
	/** Login user; default: the local user name. */
	user: z.string().min(1).optional(),
	/** Private key file; otherwise ssh-agent. */
	identityFile: z.string().optional(),
});
export type SshEndpoint = z.infer<typeof SshEndpointSchema>;

export const HostSchema = z.object({
	/** Name used on the command line, in URLs (`?host=`) and in the host picker. */
	name: z.string().min(1),
	/** Where the definition came from. */
	source: z.enum(['inventory', 'ssh-config', 'adhoc', 'builtin', 'scenario']),
	/** How probes reach it. */
	transport: z.enum(['local', 'ssh', 'scenario']),
	/** For `ssh`: the target. */
	ssh: SshEndpointSchema.optional(),
	/** One bastion to go through (ProxyJump); its key is verified like the target's. */
	jump: SshEndpointSchema.optional(),
	/** `linux` unless the inventory says `ansible_network_os: nxos` (or `cisco.nxos.nxos`). */
	platform: PlatformSchema.default('linux'),
	/** Inventory groups it belongs to, innermost last. */
	groups: z.array(z.string()).default([]),
	/** For scenario hosts: the scenario name. */
	scenario: z.string().optional(),
});
export type Host = z.infer<typeof HostSchema>;

/** What the browser may see of a host: no key paths, no users beyond the name. */
export interface PublicHost {
	name: string;
	source: Host['source'];
	platform: Host['platform'];
	groups: string[];
	/** `address:port` or `local` or `scenario`. */
	where: string;
}

export function publicHost(h: Host): PublicHost {
	const where = h.transport === 'ssh' && h.ssh ? `${h.ssh.address}:${h.ssh.port}` : h.transport;
	return { name: h.name, source: h.source, platform: h.platform, groups: h.groups, where };
}
