import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadHosts, resolveHost, resolveHostsOrGroup, type HostSourceOptions } from './resolve.ts';
import type { Host } from './types.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const inventory = join(fixtures, 'resolve-inventory.yaml');
const sshConfig = join(fixtures, 'ssh_config');
const emptySshConfig = join(fixtures, 'empty_ssh_config');
const opts: HostSourceOptions = { inventory, sshConfig, scenarioNames: ['hugepages-too-many', 'mtu-blackhole'] };
// A home with the keys ssh_config names (ssh skips IdentityFile entries that do not exist).
const realHome = process.env.HOME;
const fakeHome = mkdtempSync(join(tmpdir(), 'runbook-home-'));
mkdirSync(join(fakeHome, '.ssh'));
for (const key of ['id_ed25519', 'bastion_ed25519']) writeFileSync(join(fakeHome, '.ssh', key), '');
process.env.HOME = fakeHome;
afterAll(() => {
	process.env.HOME = realHome;
	rmSync(fakeHome, { recursive: true, force: true });
});
const home = (p: string) => join(fakeHome, p);
const bastion = { address: 'bastion.example.net', port: 2222, user: 'jump', identityFile: home('.ssh/bastion_ed25519') };

let savedEnv: string | undefined;
beforeEach(() => {
	savedEnv = process.env.RUNBOOK_INVENTORY;
	delete process.env.RUNBOOK_INVENTORY;
});
afterEach(() => {
	if (savedEnv === undefined) delete process.env.RUNBOOK_INVENTORY;
	else process.env.RUNBOOK_INVENTORY = savedEnv;
});

describe('loadHosts', () => {
	it('inventory first, then ssh aliases not already defined, then local and the scenarios; unusable hosts left out', async () => {
		const hosts = await loadHosts(opts);
		expect(hosts.map((h) => `${h.name} ${h.source}`)).toEqual([
			'compute01.dc1.example.net inventory',
			'compute02.dc1.example.net inventory',
			'app01 inventory',
			'bastion inventory',
			'db-primary ssh-config',
			'db-replica ssh-config',
			'web01 ssh-config',
			'via-uri ssh-config',
			'local builtin',
			'scenario:hugepages-too-many scenario',
			'scenario:mtu-blackhole scenario',
		]);
	});

	it('with no inventory at all, the ssh aliases and built-ins remain', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'runbook-cwd-'));
		const cwd = process.cwd();
		try {
			process.chdir(dir);
			expect((await loadHosts({ sshConfig: emptySshConfig })).map((h) => h.name)).toEqual(['local']);
		} finally {
			process.chdir(cwd);
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('resolveHost', () => {
	it.each<[string, Host]>([
		['local', { name: 'local', source: 'builtin', transport: 'local', platform: 'linux', groups: [] }],
		[
			'scenario:mtu-blackhole',
			{
				name: 'scenario:mtu-blackhole',
				source: 'scenario',
				transport: 'scenario',
				scenario: 'mtu-blackhole',
				platform: 'linux',
				groups: [],
			},
		],
		[
			// The ssh config pattern `Host 10.20.*` gives user and bastion, as ssh would.
			'app01',
			{
				name: 'app01',
				source: 'inventory',
				transport: 'ssh',
				ssh: { address: '10.20.0.5', port: 22, user: 'ops', identityFile: home('.ssh/id_ed25519') },
				jump: bastion,
				platform: 'linux',
				groups: ['ungrouped'],
			},
		],
		[
			// Defined in both: the inventory wins over the ssh alias.
			'bastion',
			{
				name: 'bastion',
				source: 'inventory',
				transport: 'ssh',
				ssh: { address: '192.0.2.99', port: 22, user: 'admin', identityFile: home('.ssh/id_ed25519') },
				platform: 'linux',
				groups: ['ungrouped'],
			},
		],
		[
			'compute02.dc1.example.net',
			{
				name: 'compute02.dc1.example.net',
				source: 'inventory',
				transport: 'ssh',
				ssh: { address: 'compute02.dc1.example.net', port: 22, user: 'nova', identityFile: home('.ssh/id_ed25519') },
				platform: 'linux',
				groups: ['compute'],
			},
		],
		[
			'db-primary',
			{
				name: 'db-primary',
				source: 'ssh-config',
				transport: 'ssh',
				ssh: { address: 'db-primary.int.example.net', port: 22, user: 'postgres', identityFile: home('.ssh/id_ed25519') },
				jump: bastion,
				platform: 'linux',
				groups: [],
			},
		],
		[
			'root@10.20.0.9:2222',
			{
				name: 'root@10.20.0.9:2222',
				source: 'adhoc',
				transport: 'ssh',
				ssh: { address: '10.20.0.9', port: 2222, user: 'root', identityFile: home('.ssh/id_ed25519') },
				jump: bastion,
				platform: 'linux',
				groups: [],
			},
		],
		[
			'[2001:db8::7]:2200',
			{
				name: '[2001:db8::7]:2200',
				source: 'adhoc',
				transport: 'ssh',
				ssh: { address: '2001:db8::7', port: 2200, identityFile: home('.ssh/id_ed25519') },
				platform: 'linux',
				groups: [],
			},
		],
	])('%s', async (name, want) => {
		expect(await resolveHost(name, opts)).toEqual(want);
	});

	it('the inventory host named local is shadowed by the built-in', async () => {
		expect((await resolveHost('local', opts)).source).toBe('builtin');
	});

	it('ad hoc without any ssh config is just the address', async () => {
		expect(await resolveHost('ops@198.51.100.7', { sshConfig: emptySshConfig, inventory })).toEqual({
			name: 'ops@198.51.100.7',
			source: 'adhoc',
			transport: 'ssh',
			ssh: { address: '198.51.100.7', port: 22, user: 'ops' },
			platform: 'linux',
			groups: [],
		});
	});

	it.each([
		['compute01', 'UnknownHost', `no host "compute01" in ${inventory}, ${sshConfig} or the scenarios`],
		['host.example.net', 'UnknownHost', `no host "host.example.net" in ${inventory}, ${sshConfig} or the scenarios`],
		['compute', 'UnknownHost', `"compute" is a group of 2 hosts in ${inventory}, not a host`],
		['scenario:nope', 'UnknownHost', 'no scenario "nope" (scenarios: hugepages-too-many, mtu-blackhole)'],
		[
			'root@host;reboot',
			'UnknownHost',
			'"root@host;reboot" is not a valid ad hoc host: it contains ";", which no user, address or port has',
		],
		[
			'broken01',
			'InvalidInventory',
			`${inventory}: host "broken01": ansible_host is a Jinja template ("{{ mgmt_prefix }}.7"), which runbook does not evaluate`,
		],
		[
			'deep',
			'InvalidInventory',
			`${sshConfig}: host "deep": ProxyJump "jump1.example.net,jump2.example.net" has 2 hops; runbook goes through one bastion only`,
		],
	])('%s -> %s', async (name, code, message) => {
		await expect(resolveHost(name, opts)).rejects.toMatchObject({ code, message });
	});

	it('localhost is not a host, and the hint names the built-in local', async () => {
		await expect(resolveHost('localhost', opts)).rejects.toMatchObject({
			code: 'UnknownHost',
			hint: 'This machine is the built-in host `local`.',
		});
	});
});

describe('inventory path: option, then RUNBOOK_INVENTORY, then ./inventory.yaml', () => {
	it('RUNBOOK_INVENTORY is read when no option is given', async () => {
		process.env.RUNBOOK_INVENTORY = inventory;
		expect((await resolveHost('app01', { sshConfig: emptySshConfig })).ssh?.address).toBe('10.20.0.5');
	});

	it('the option wins over RUNBOOK_INVENTORY', async () => {
		process.env.RUNBOOK_INVENTORY = join(fixtures, 'no-such-inventory.yaml');
		expect((await resolveHost('app01', { inventory, sshConfig: emptySshConfig })).ssh?.address).toBe('10.20.0.5');
	});

	it('./inventory.yaml is read when present, and an unknown name then says so', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'runbook-cwd-'));
		const cwd = process.cwd();
		try {
			copyFileSync(inventory, join(dir, 'inventory.yaml'));
			process.chdir(dir);
			expect((await resolveHost('app01', { sshConfig: emptySshConfig })).source).toBe('inventory');
			await expect(resolveHost('nope', { sshConfig: emptySshConfig })).rejects.toMatchObject({
				message: `no host "nope" in ./inventory.yaml, ${emptySshConfig} or the scenarios`,
			});
		} finally {
			process.chdir(cwd);
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('no inventory anywhere is fine; the message says none was found', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'runbook-cwd-'));
		const cwd = process.cwd();
		try {
			process.chdir(dir);
			await expect(resolveHost('nope', { sshConfig: emptySshConfig })).rejects.toMatchObject({
				code: 'UnknownHost',
				message: `no host "nope" in the inventory (none given, no ./inventory.yaml), ${emptySshConfig} or the scenarios`,
			});
		} finally {
			process.chdir(cwd);
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it.each([
		['the option', () => ({ inventory: join(fixtures, 'no-such-inventory.yaml'), sshConfig: emptySshConfig })],
		[
			'RUNBOOK_INVENTORY',
			() => {
				process.env.RUNBOOK_INVENTORY = join(fixtures, 'no-such-inventory.yaml');
				return { sshConfig: emptySshConfig };
			},
		],
	])('a missing file given by %s is InvalidInventory', async (_how, make) => {
		await expect(loadHosts(make())).rejects.toMatchObject({
			code: 'InvalidInventory',
			message: `${join(fixtures, 'no-such-inventory.yaml')}: no such file`,
		});
	});

	it('a broken inventory fails loading, naming the file', async () => {
		await expect(loadHosts({ inventory: join(fixtures, 'bad', 'hosts-list.yaml'), sshConfig: emptySshConfig })).rejects.toMatchObject({
			code: 'InvalidInventory',
			message: `${join(fixtures, 'bad', 'hosts-list.yaml')}: line 4, all.children.web.hosts: is a list; hosts is a mapping of host names to their vars`,
		});
	});
});

describe('resolveHostsOrGroup', () => {
	it.each([
		['compute', ['compute01.dc1.example.net', 'compute02.dc1.example.net']],
		['ungrouped', ['app01', 'bastion']],
		['app01', ['app01']],
		['web01', ['web01']],
		['local', ['local']],
	])('%s -> %j', async (name, names) => {
		expect((await resolveHostsOrGroup(name, opts)).map((h) => h.name)).toEqual(names);
	});

	it('a group with an unusable member fails with that member named', async () => {
		await expect(resolveHostsOrGroup('all', opts)).rejects.toMatchObject({
			code: 'InvalidInventory',
			message: expect.stringContaining('host "broken01"'),
		});
	});

	it('an empty group is UnknownHost, not zero hosts', async () => {
		await expect(resolveHostsOrGroup('empty_group', opts)).rejects.toMatchObject({
			code: 'UnknownHost',
			message: `group "empty_group" in ${inventory} has no hosts`,
		});
	});

	it('openstack.yaml: a nested group gives every host beneath it', async () => {
		const hosts = await resolveHostsOrGroup('openstack', { inventory: join(fixtures, 'openstack.yaml'), sshConfig: emptySshConfig });
		expect(hosts).toHaveLength(8);
		expect(hosts.every((h) => h.groups.includes('openstack') && h.jump?.address === 'bastion.example.net')).toBe(true);
	});
});

describe('scenario hosts take the platform of their scenario', () => {
	it('an NX-OS scenario is an nxos host; others default to linux', async () => {
		const opts = {
			inventory: undefined,
			sshConfig: undefined,
			scenarioNames: ['switch-a', 'box'],
			scenarioPlatforms: { 'switch-a': 'nxos' as const },
		};
		expect((await resolveHost('scenario:switch-a', opts)).platform).toBe('nxos');
		expect((await resolveHost('scenario:box', opts)).platform).toBe('linux');
	});
});
