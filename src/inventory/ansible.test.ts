import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunbookError } from '../core/errors.ts';
import { jumpFromSshArgs, loadAnsibleInventory, parseAnsibleInventory, readAnsibleInventory, splitShellWords } from './ansible.ts';
import type { Host } from './types.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const home = (p: string) => join(homedir(), p);

function thrown(f: () => unknown): RunbookError {
	try {
		f();
	} catch (e) {
		if (e instanceof RunbookError) return e;
		throw e;
	}
	throw new Error('did not throw');
}

describe('openstack.yaml: nested children, vars inheritance, nxos, bastions', () => {
	const hosts = parseAnsibleInventory(fixture('openstack.yaml'), 'openstack.yaml');
	const byName = new Map(hosts.map((h) => [h.name, h]));
	const key = home('.ssh/ops_ed25519');
	const bastion = { address: 'bastion.example.net', port: 2222, user: 'ops' };
	const inv = (name: string, rest: Omit<Host, 'name' | 'source'>): Host => ({ name, source: 'inventory', ...rest });

	it.each<[string, Host]>([
		[
			'ctl01',
			inv('ctl01', {
				transport: 'ssh',
				ssh: { address: '10.20.0.11', port: 22, user: 'ops', identityFile: key },
				jump: bastion,
				platform: 'linux',
				groups: ['openstack', 'storage', 'controllers'],
			}),
		],
		[
			'compute02.dc1.example.net',
			inv('compute02.dc1.example.net', {
				transport: 'ssh',
				ssh: { address: 'compute02.dc1.example.net', port: 22, user: 'nova', identityFile: key },
				jump: bastion,
				platform: 'linux',
				groups: ['openstack', 'compute'],
			}),
		],
		[
			'compute04.dc1.example.net',
			inv('compute04.dc1.example.net', {
				transport: 'ssh',
				ssh: { address: 'compute04.dc1.example.net', port: 2202, user: 'dpdk', identityFile: key },
				jump: bastion,
				platform: 'linux',
				groups: ['openstack', 'compute', 'compute_dpdk'],
			}),
		],
		[
			'compute05.dc1.example.net',
			inv('compute05.dc1.example.net', {
				transport: 'ssh',
				ssh: { address: 'compute05.dc1.example.net', port: 2205, user: 'dpdk', identityFile: key },
				jump: bastion,
				platform: 'linux',
				groups: ['openstack', 'compute', 'compute_dpdk'],
			}),
		],
		[
			'ceph01',
			inv('ceph01', {
				transport: 'ssh',
				ssh: { address: '10.30.0.21', port: 22, user: 'ops', identityFile: key },
				jump: { address: 'storage-gw.example.net', port: 22, user: 'admin' },
				platform: 'linux',
				groups: ['storage'],
			}),
		],
		[
			'leaf01',
			inv('leaf01', {
				transport: 'ssh',
				ssh: { address: '10.40.0.1', port: 22, user: 'netops', identityFile: key },
				platform: 'nxos',
				groups: ['network', 'leaf_switches'],
			}),
		],
		[
			'leaf02',
			inv('leaf02', {
				transport: 'ssh',
				ssh: { address: '10.40.0.2', port: 22, user: 'netops', identityFile: key },
				jump: { address: 'oob-gw.example.net', port: 22, user: 'netops' },
				platform: 'nxos',
				groups: ['network', 'leaf_switches'],
			}),
		],
		[
			'spine01',
			inv('spine01', {
				transport: 'ssh',
				ssh: { address: '2001:db8:40::1', port: 22, user: 'netops', identityFile: key },
				platform: 'nxos',
				groups: ['network', 'spine_switches'],
			}),
		],
		[
			'2001:db8:40::2',
			inv('2001:db8:40::2', {
				transport: 'ssh',
				ssh: { address: '2001:db8:40::2', port: 2222, user: 'netops', identityFile: key },
				platform: 'nxos',
				groups: ['network', 'spine_switches'],
			}),
		],
		[
			'fw01',
			inv('fw01', {
				transport: 'ssh',
				ssh: { address: '10.40.0.254', port: 22, user: 'netops', identityFile: key },
				platform: 'linux',
				groups: ['network', 'firewalls'],
			}),
		],
		['localhost', inv('localhost', { transport: 'local', platform: 'linux', groups: ['workstation'] })],
		[
			'jumpbox',
			inv('jumpbox', {
				transport: 'ssh',
				ssh: { address: '192.0.2.10', port: 22, user: 'ops', identityFile: key },
				platform: 'linux',
				groups: ['ungrouped'],
			}),
		],
		[
			'monitoring01',
			inv('monitoring01', {
				transport: 'ssh',
				ssh: { address: 'monitoring01', port: 22, user: 'ops', identityFile: key },
				platform: 'linux',
				groups: ['ungrouped'],
			}),
		],
	])('%s', (name, want) => {
		expect(byName.get(name)).toEqual(want);
	});

	it('lists every host once, in the order Ansible meets them (vars, children, then hosts of each group)', () => {
		expect(hosts.map((h) => h.name)).toEqual([
			'ctl01',
			'ctl02',
			'ctl03',
			'compute04.dc1.example.net',
			'compute05.dc1.example.net',
			'compute01.dc1.example.net',
			'compute02.dc1.example.net',
			'compute03.dc1.example.net',
			'ceph01',
			'leaf01',
			'leaf02',
			'spine01',
			'2001:db8:40::2',
			'fw01',
			'localhost',
			'jumpbox',
			'monitoring01',
		]);
	});

	it('groups hold the hosts of their descendants; all holds every host; ungrouped the rest', () => {
		const { groups } = readAnsibleInventory(fixture('openstack.yaml'), 'openstack.yaml');
		expect(groups.get('all')).toHaveLength(17);
		expect(groups.get('ungrouped')).toEqual(['jumpbox', 'monitoring01']);
		expect(groups.get('openstack')).toHaveLength(8);
		expect(groups.get('compute')).toEqual([
			'compute04.dc1.example.net',
			'compute05.dc1.example.net',
			'compute01.dc1.example.net',
			'compute02.dc1.example.net',
			'compute03.dc1.example.net',
		]);
		expect(groups.get('storage')).toEqual(['ctl01', 'ceph01']);
		expect(groups.get('network')).toEqual(['leaf01', 'leaf02', 'spine01', '2001:db8:40::2', 'fw01']);
	});
});

describe('proxyjump.yaml: every way of naming the bastion', () => {
	const hosts = new Map(parseAnsibleInventory(fixture('proxyjump.yaml'), 'proxyjump.yaml').map((h) => [h.name, h]));
	it.each<[string, Host['jump']]>([
		['eq-form', { address: 'bastion1.example.net', port: 2222, user: 'jump' }],
		['space-form', { address: 'bastion2.example.net', port: 22, user: 'jump' }],
		['quoted-space', { address: 'bastion3.example.net', port: 2200 }],
		['glued-o', { address: 'bastion4.example.net', port: 22 }],
		['dash-j', { address: 'bastion5.example.net', port: 22, user: 'jump' }],
		['glued-j', { address: 'bastion6.example.net', port: 22 }],
		['uri-form', { address: 'bastion7.example.net', port: 2022, user: 'jump' }],
		['lower-case', { address: 'bastion8.example.net', port: 22 }],
		['among-others', { address: '10.0.0.9', port: 22, user: 'jump' }],
		['extra-args', { address: 'bastion9.example.net', port: 22 }],
		['ours-wins', { address: 'bastion10.example.net', port: 2222, user: 'jump' }],
		['v6-bastion', { address: '2001:db8::9', port: 2222, user: 'jump' }],
		['jump-none', undefined],
		['no-jump', undefined],
	])('%s -> %j', (name, jump) => {
		expect(hosts.get(name)?.jump).toEqual(jump);
		expect(hosts.get(name)?.ssh).toEqual({ address: name, port: 22 });
	});
});

describe('problems.yaml: unusable hosts are kept with the reason, raised on use', () => {
	const inv = readAnsibleInventory(fixture('problems.yaml'), 'problems.yaml');
	const problems = new Map(inv.hosts.map((h) => [h.name, h.problem?.message]));
	it.each([
		[
			'templated',
			'problems.yaml: host "templated": ansible_host is a Jinja template ("{{ inventory_hostname }}.mgmt.example.net"), which runbook does not evaluate',
		],
		['vaulted', 'problems.yaml: host "vaulted": ansible_user is vault-encrypted, and runbook has no vault password'],
		[
			'two-hops',
			'problems.yaml: host "two-hops": ansible_ssh_common_args: ProxyJump "ops@hop1.example.net,ops@hop2.example.net" has 2 hops; runbook goes through one bastion only',
		],
		[
			'proxycommand',
			'problems.yaml: host "proxycommand": ansible_ssh_common_args: ProxyCommand is not supported; use -o ProxyJump=user@host:port or runbook_jump',
		],
		['winrm-host', 'problems.yaml: host "winrm-host": ansible_connection "winrm" is not supported; runbook connects over SSH or locally'],
		['bad-port', 'problems.yaml: host "bad-port": ansible_port "70000" is not a number from 1 to 65535'],
		['bad-address', 'problems.yaml: host "bad-address": ansible_host "10.9.0.9; reboot" is not a host name or IP address'],
		['good01', undefined],
		['literal-braces', undefined],
		['fixed01', undefined],
	])('%s -> %s', (name, message) => {
		expect(problems.get(name)).toBe(message);
	});

	it('problems are InvalidInventory with a hint', () => {
		const p = inv.hosts.find((h) => h.name === 'templated')?.problem;
		expect(p?.code).toBe('InvalidInventory');
		expect(p?.hint).toContain('host_vars/templated.yml');
	});

	it('!unsafe text is literal: its braces are not a template', () => {
		expect(inv.hosts.find((h) => h.name === 'literal-braces')?.target).toEqual({
			address: '10.9.0.4',
			jump: { address: 'bastion.example.net' },
		});
	});

	it('a templated group var overridden by a host var does not matter', () => {
		expect(inv.hosts.find((h) => h.name === 'fixed01')?.target).toEqual({ address: '10.9.0.10' });
	});

	it('parseAnsibleInventory is strict: the first unusable host throws', () => {
		const e = thrown(() => parseAnsibleInventory(fixture('problems.yaml'), 'problems.yaml'));
		expect(e.code).toBe('InvalidInventory');
		expect(e.message).toMatch(/^problems\.yaml: host "templated": ansible_host is a Jinja template/);
	});
});

describe('bad files -> InvalidInventory naming the file, line and place', () => {
	const want: Record<string, string> = {
		'all-as-child.yaml': 'all-as-child.yaml: line 5, all.children.web.children.all: `all` contains every group and cannot be a child',
		'bad-host-port.yaml': 'bad-host-port.yaml: line 3, all.hosts.web1:99999: port 99999 is not a number from 1 to 65535',
		'children-list.yaml':
			'children-list.yaml: line 2, all.children: is a list; children is a mapping of group names, each with its own hosts:, children:, vars:',
		'host-scalar.yaml':
			'host-scalar.yaml: line 3, all.hosts.web1: is the text "10.0.0.1"; a host\'s value is its vars, e.g. web1: {ansible_host: 10.0.0.1}',
		'hosts-list.yaml': 'hosts-list.yaml: line 4, all.children.web.hosts: is a list; hosts is a mapping of host names to their vars',
		'hosts-without-key.yaml':
			'hosts-without-key.yaml: line 4, all.children.db.db1: is not a group key; a group has only hosts:, children: and vars:',
		'inventory.ini': 'inventory.ini: line 2: this looks like an INI inventory ([web]); runbook reads the YAML format',
		'loop.yaml': 'loop.yaml: line 5, all.children.a.children.b: makes a loop: a would be inside itself',
		'plugin.yaml':
			'plugin.yaml: line 1, plugin: is an inventory plugin configuration (plugin: amazon.aws.aws_ec2); runbook reads static YAML inventories',
		'range-width.yaml':
			'range-width.yaml: line 3, all.hosts.web[01:5].example.net: range [01:5] must give begin and end with the same number of digits',
		'top-list.yaml': 'top-list.yaml: the top level is a list; an inventory is a mapping of groups, starting with all:',
		'typo-key.yaml': 'typo-key.yaml: line 4, all.children.web.host: is not a group key; a group has only hosts:, children: and vars:',
		'vars-list.yaml': 'vars-list.yaml: line 2, all.vars: is a list; vars is a mapping of variable names to values',
		'yaml-syntax.yaml': 'yaml-syntax.yaml: line 5, column 1: All mapping items must start at the same column',
	};
	it('every fixture in bad/ has an expectation', () => {
		expect(readdirSync(join(fixtures, 'bad')).sort()).toEqual(Object.keys(want).sort());
	});
	it.each(Object.entries(want))('%s', (file, message) => {
		const e = thrown(() => readAnsibleInventory(fixture(`bad/${file}`), file));
		expect(e.code).toBe('InvalidInventory');
		expect(e.message).toBe(message);
		expect(e.hint).toBeTruthy();
	});
	it('the INI and plugin cases hint at ansible-inventory to convert', () => {
		expect(thrown(() => readAnsibleInventory(fixture('bad/inventory.ini'), 'hosts.ini')).hint).toBe(
			'Convert it once: ansible-inventory -i hosts.ini --list --yaml > inventory.yaml',
		);
		expect(thrown(() => readAnsibleInventory(fixture('bad/plugin.yaml'), 'aws_ec2.yaml')).hint).toContain(
			'ansible-inventory -i aws_ec2.yaml --list --yaml',
		);
	});
});

describe('Ansible semantics on small inventories', () => {
	const read = (text: string) => readAnsibleInventory(text, 'inline.yaml');
	const one = (text: string, name: string) => read(text).hosts.find((h) => h.name === name);

	it('an empty file, a comment-only file and a bare all: have no hosts', () => {
		for (const text of ['', '# nothing yet\n', 'all:\n', 'all:\n  hosts:\n  children:\n  vars:\n']) {
			expect(read(text).hosts).toEqual([]);
		}
	});

	it('inner group vars override outer ones, host vars override both', () => {
		const text = `all:
  vars: { ansible_user: outer, ansible_port: 2201 }
  children:
    mid:
      vars: { ansible_user: mid, ansible_port: 2202 }
      children:
        inner:
          vars: { ansible_user: inner }
          hosts:
            h1:
            h2: { ansible_user: own }
`;
		expect(one(text, 'h1')?.target).toEqual({ address: 'h1', user: 'inner', port: 2202 });
		expect(one(text, 'h2')?.target).toEqual({ address: 'h2', user: 'own', port: 2202 });
		expect(one(text, 'h1')?.groups).toEqual(['mid', 'inner']);
	});

	it('at the same depth the group later by name wins, unless ansible_group_priority says otherwise', () => {
		const plain =
			'all:\n  children:\n    alpha: {vars: {ansible_user: alpha}, hosts: {h:}}\n    beta: {vars: {ansible_user: beta}, hosts: {h:}}\n';
		expect(one(plain, 'h')?.target?.user).toBe('beta');
		expect(one(plain, 'h')?.groups).toEqual(['alpha', 'beta']);
		const prioritised =
			'all:\n  children:\n    alpha: {vars: {ansible_user: alpha, ansible_group_priority: 10}, hosts: {h:}}\n    beta: {vars: {ansible_user: beta}, hosts: {h:}}\n';
		expect(one(prioritised, 'h')?.target?.user).toBe('alpha');
	});

	it('a deeper group wins over a shallower one whatever the names', () => {
		const text =
			'all:\n  children:\n    zz: {vars: {ansible_user: zz}, hosts: {h:}}\n    aa:\n      children:\n        bb: {vars: {ansible_user: bb}, hosts: {h:}}\n';
		expect(one(text, 'h')?.target?.user).toBe('bb');
		expect(one(text, 'h')?.groups).toEqual(['aa', 'zz', 'bb']);
	});

	it('a host listed twice gets the vars of both entries, the later winning', () => {
		const text =
			'all:\n  children:\n    a: {hosts: {h: {ansible_user: first, ansible_port: 2200}}}\n    b: {hosts: {h: {ansible_user: second}}}\n';
		expect(one(text, 'h')?.target).toEqual({ address: 'h', user: 'second', port: 2200 });
	});

	it('top-level keys other than all are groups too', () => {
		const inv = read('web:\n  hosts:\n    web1:\ndb:\n  hosts:\n    db1:\n');
		expect(inv.hosts.map((h) => [h.name, h.groups])).toEqual([
			['web1', ['web']],
			['db1', ['db']],
		]);
		expect(inv.groups.get('all')).toEqual(['web1', 'db1']);
	});

	it('a host listed under ungrouped and a group is not ungrouped', () => {
		const inv = read('all:\n  children:\n    ungrouped: {hosts: {h1:, h2:}}\n    web: {hosts: {h1:}}\n');
		expect(inv.groups.get('ungrouped')).toEqual(['h2']);
		expect(inv.hosts.find((h) => h.name === 'h1')?.groups).toEqual(['web']);
	});

	it.each([
		['nxos', 'nxos'],
		['cisco.nxos.nxos', 'nxos'],
		['cisco.nxos', 'nxos'],
		['NXOS', 'nxos'],
		['cisco.ios.ios', 'linux'],
		['eos', 'linux'],
	])('ansible_network_os %s -> %s', (os, platform) => {
		expect(one(`all:\n  hosts:\n    sw1: {ansible_network_os: ${os}}\n`, 'sw1')?.platform).toBe(platform);
	});

	it.each([
		['local', 'local'],
		['ansible.builtin.local', 'local'],
		['ssh', 'ssh'],
		['smart', 'ssh'],
		['paramiko', 'ssh'],
		['network_cli', 'ssh'],
		['ansible.netcommon.network_cli', 'ssh'],
	])('ansible_connection %s -> %s', (connection, transport) => {
		const h = one(`all:\n  hosts:\n    h1: {ansible_connection: ${connection}}\n`, 'h1');
		expect(h?.problem).toBeUndefined();
		expect(h?.transport).toBe(transport);
	});

	it('the old ansible_ssh_* names win over the new ones when both are set, as in the ssh plugin', () => {
		const h = one(
			'all:\n  hosts:\n    h1: {ansible_host: 10.0.0.1, ansible_ssh_host: 10.0.0.2, ansible_user: a, ansible_ssh_user: b, ansible_port: 22, ansible_ssh_port: 2222}\n',
			'h1',
		);
		expect(h?.target).toEqual({ address: '10.0.0.2', user: 'b', port: 2222 });
	});

	it('ranges: numbers with padding, letters, a step, several ranges', () => {
		const names = read('all:\n  hosts:\n    "web[08:10]":\n    "db-[a:c]":\n    "n[1:7:3]":\n    "r[1:2]-[a:b]":\n').hosts.map(
			(h) => h.name,
		);
		expect(names).toEqual(['web08', 'web09', 'web10', 'db-a', 'db-b', 'db-c', 'n1', 'n4', 'n7', 'r1-a', 'r1-b', 'r2-a', 'r2-b']);
	});

	it('a range with a port gives every host that port', () => {
		const inv = read('all:\n  hosts:\n    "sw[1:2]:2222":\n');
		expect(inv.hosts.map((h) => [h.name, h.target?.port])).toEqual([
			['sw1', 2222],
			['sw2', 2222],
		]);
	});

	it('a range of more than 10000 hosts is refused', () => {
		expect(thrown(() => read('all:\n  hosts:\n    "a[1:99999]":\n')).message).toBe(
			'inline.yaml: line 3, all.hosts.a[1:99999]: range [1:99999] gives more than 10000 hosts',
		);
	});

	it('YAML 1.1 as PyYAML reads it: yes is true, y and n are names, repeated keys: the last wins', () => {
		expect(read('all:\n  hosts:\n    y:\n    n:\n').hosts.map((h) => h.name)).toEqual(['y', 'n']);
		expect(read('all:\n  hosts:\n    web1:\n  hosts:\n    web2:\n').hosts.map((h) => h.name)).toEqual(['web2']);
	});

	it('anchors and merge keys work; an alias that contains itself is refused', () => {
		const shared = read(
			'all:\n  children:\n    x: &x\n      vars: {ansible_user: shared}\n      hosts: {h1:}\n    y: *x\n    z:\n      <<: *x\n      hosts: {h2:}\n',
		);
		expect(shared.hosts.map((h) => [h.name, h.groups, h.target?.user])).toEqual([
			['h1', ['x', 'y'], 'shared'],
			['h2', ['z'], 'shared'],
		]);
		expect(thrown(() => read('all: &a\n  children:\n    b: *a\n')).message).toBe(
			'inline.yaml: line 3, all.children.b: contains itself through a YAML alias',
		);
	});

	it('__proto__ keys stay plain names', () => {
		const inv = read('all:\n  hosts:\n    h1: {__proto__: {ansible_user: evil}}\n');
		expect(inv.hosts[0]?.target).toEqual({ address: 'h1' });
		expect(({} as Record<string, unknown>).ansible_user).toBeUndefined();
	});
});

describe('ssh argument parsing', () => {
	it.each([
		[`-o ProxyJump="a b"`, ['-o', 'ProxyJump=a b']],
		[`-o 'ProxyJump x' -C`, ['-o', 'ProxyJump x', '-C']],
		[`a\\ b "c\\"d" ''`, ['a b', 'c"d', '']],
	])('splitShellWords %s', (text, words) => {
		expect(splitShellWords(text)).toEqual(words);
	});
	it('an open quote is reported', () => {
		expect(splitShellWords(`-o 'ProxyJump=x`)).toBeUndefined();
		expect(jumpFromSshArgs(`-o 'ProxyJump=x`)).toEqual({ ok: false, reason: `"-o 'ProxyJump=x" has an unclosed quote` });
	});
	it('the first ProxyJump wins, as in ssh', () => {
		expect(jumpFromSshArgs('-J first.example.net -o ProxyJump=second.example.net')).toEqual({
			ok: true,
			jump: { address: 'first.example.net' },
		});
	});
	it('ProxyCommand=none is not a proxy', () => {
		expect(jumpFromSshArgs('-o ProxyCommand=none')).toBeUndefined();
	});
});

describe('loadAnsibleInventory with group_vars/ and host_vars/', () => {
	it('applies the folders with Ansible precedence, skipping vault files and other extensions', async () => {
		const inv = await loadAnsibleInventory(join(fixtures, 'with-vars', 'inventory.yaml'));
		expect(inv.hosts.map((h) => [h.name, h.target])).toEqual([
			// group_vars/all beats the inventory's own group vars; group_vars/compute beats group_vars/all.
			['compute01', { address: '10.1.0.1', port: 2222, user: 'from-group-vars-all', identityFile: '~/.ssh/site_key' }],
			// The host's entry in the inventory beats every group_vars file; host_vars/compute02 beats it.
			['compute02', { address: '10.1.0.2', port: 2022, user: 'from-host-entry', identityFile: '~/.ssh/site_key' }],
			['db1', { address: '10.2.0.1', user: 'from-host-vars', identityFile: '~/.ssh/site_key' }],
		]);
	});
	it('the identity file gets ~ expanded in the host model', async () => {
		const h = parseAnsibleInventory('all:\n  hosts:\n    h1: {ansible_ssh_private_key_file: ~/.ssh/k}\n', 'i.yaml')[0];
		expect(h?.ssh?.identityFile).toBe(home('.ssh/k'));
	});
	it('a missing file or a folder is InvalidInventory', async () => {
		await expect(loadAnsibleInventory(join(fixtures, 'nope.yaml'))).rejects.toMatchObject({
			code: 'InvalidInventory',
			message: `${join(fixtures, 'nope.yaml')}: no such file`,
		});
		await expect(loadAnsibleInventory(fixtures)).rejects.toMatchObject({
			code: 'InvalidInventory',
			message: `${fixtures}: is a folder; give the inventory YAML file itself`,
		});
	});
});
