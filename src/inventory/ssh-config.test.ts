import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RunbookError } from '../core/errors.ts';
import { applySshConfig, expandPath, parseJump, parseSshConfig, readSshConfig, SshConfigFile } from './ssh-config.ts';
import type { Host } from './types.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const configText = readFileSync(join(fixtures, 'ssh_config'), 'utf8');

// A home with the keys the fixture names, since ssh skips IdentityFile entries that do not exist.
const realHome = process.env.HOME;
const fakeHome = mkdtempSync(join(tmpdir(), 'runbook-home-'));
mkdirSync(join(fakeHome, '.ssh'));
for (const key of ['id_ed25519', 'bastion_ed25519', 'web_deploy']) writeFileSync(join(fakeHome, '.ssh', key), '');
process.env.HOME = fakeHome;
afterAll(() => {
	process.env.HOME = realHome;
	rmSync(fakeHome, { recursive: true, force: true });
});
const home = (p: string) => join(fakeHome, p);
const MATCH_EXEC_MARKER = '/tmp/runbook-inventory-match-exec-ran';

describe('ssh_config fixture: aliases become hosts', () => {
	rmSync(MATCH_EXEC_MARKER, { force: true });
	const entries = parseSshConfig(configText, 'ssh_config');
	const byName = new Map(entries.map((e) => [e.name, e]));
	const bastion = { address: 'bastion.example.net', port: 2222, user: 'jump', identityFile: home('.ssh/bastion_ed25519') };
	const alias = (name: string, rest: Pick<Host, 'ssh' | 'jump'>): Host => ({
		name,
		source: 'ssh-config',
		transport: 'ssh',
		...rest,
		platform: 'linux',
		groups: [],
	});

	it('every alias without wildcards or negation, in file order; patterns and Include are not hosts', () => {
		expect(entries.map((e) => e.name)).toEqual(['bastion', 'db-primary', 'db-replica', 'web01', 'deep', 'legacy', 'via-uri']);
	});

	it.each<[string, Host]>([
		['bastion', alias('bastion', { ssh: bastion })],
		[
			'db-primary',
			alias('db-primary', {
				ssh: { address: 'db-primary.int.example.net', port: 22, user: 'postgres', identityFile: home('.ssh/id_ed25519') },
				jump: bastion,
			}),
		],
		[
			'db-replica',
			alias('db-replica', {
				ssh: { address: 'db-replica.int.example.net', port: 22, user: 'postgres', identityFile: home('.ssh/id_ed25519') },
				jump: bastion,
			}),
		],
		['web01', alias('web01', { ssh: { address: '10.50.0.11', port: 2201, user: 'deploy', identityFile: home('.ssh/web_deploy') } })],
		[
			'via-uri',
			alias('via-uri', {
				ssh: { address: '10.80.0.1', port: 22, identityFile: home('.ssh/id_ed25519') },
				jump: { address: 'gw.example.net', port: 2022, user: 'ops', identityFile: home('.ssh/id_ed25519') },
			}),
		],
	])('%s', (name, want) => {
		expect(byName.get(name)?.host).toEqual(want);
	});

	it.each([
		['deep', 'ssh_config: host "deep": ProxyJump "jump1.example.net,jump2.example.net" has 2 hops; runbook goes through one bastion only'],
		['legacy', 'ssh_config: host "legacy": ProxyCommand "ssh -W %h:%p bastion" in ssh_config is not supported'],
	])('%s is listed as unusable, not a parse failure: %s', (name, message) => {
		const e = byName.get(name);
		expect(e?.host).toBeUndefined();
		expect(e?.problem).toBeInstanceOf(RunbookError);
		expect(e?.problem?.code).toBe('InvalidInventory');
		expect(e?.problem?.message).toBe(message);
		expect(e?.problem?.hint).toBeTruthy();
	});

	it('Match exec is never run', () => {
		expect(existsSync(MATCH_EXEC_MARKER)).toBe(false);
		expect(byName.get('web01')?.host?.ssh?.user).toBe('deploy');
	});
});

describe('applySshConfig: the config fills in what the source left unset', () => {
	const config = SshConfigFile.parse(configText, '~/.ssh/config');
	const who = 'inv.yaml: host "h"';

	it('a pattern gives user and bastion to an address the source names', () => {
		expect(applySshConfig(config, { address: '10.20.0.5' }, who)).toEqual({
			ssh: { address: '10.20.0.5', port: 22, user: 'ops', identityFile: home('.ssh/id_ed25519') },
			jump: { address: 'bastion.example.net', port: 2222, user: 'jump', identityFile: home('.ssh/bastion_ed25519') },
		});
	});

	it('settings from the source win, as ssh command-line options do', () => {
		expect(applySshConfig(config, { address: 'web01', port: 22, user: 'root', identityFile: '~/.ssh/mine' }, who)).toEqual({
			ssh: { address: '10.50.0.11', port: 22, user: 'root', identityFile: home('.ssh/mine') },
		});
	});

	it('a bastion from the source is itself looked up in the config; its own port and user win', () => {
		expect(applySshConfig(config, { address: '10.20.0.5', jump: { address: 'bastion', user: 'other' } }, who).jump).toEqual({
			address: 'bastion.example.net',
			port: 2222,
			user: 'other',
			identityFile: home('.ssh/bastion_ed25519'),
		});
	});

	it("jump 'none' from the source overrides the config's ProxyJump", () => {
		expect(applySshConfig(config, { address: '10.20.0.5', jump: 'none' }, who).jump).toBeUndefined();
	});

	it('a bastion that itself needs a ProxyJump is two hops: refused naming both', () => {
		const c = SshConfigFile.parse('Host inner\n  ProxyJump outer\nHost *\n  User x\n', 'cfg');
		expect(() => applySshConfig(c, { address: '10.0.0.1', jump: { address: 'inner' } }, who)).toThrow(
			'inv.yaml: host "h": its bastion "inner" itself has ProxyJump "outer" in cfg: two hops',
		);
	});

	it('a multi-hop ProxyJump reached from another source names the config it came from', () => {
		expect(() => applySshConfig(config, { address: 'deep' }, who)).toThrow(
			'inv.yaml: host "h": ProxyJump "jump1.example.net,jump2.example.net" has 2 hops; runbook goes through one bastion only (from ~/.ssh/config)',
		);
	});

	it('a bad Port or HostName in the config is refused when the host is used', () => {
		const c = SshConfigFile.parse('Host p\n  Port 99999\nHost n\n  HostName "bad host"\n', 'cfg');
		expect(() => applySshConfig(c, { address: 'p' }, who)).toThrow('Port "99999" for "p" in cfg is not a number from 1 to 65535');
		expect(() => applySshConfig(c, { address: 'n' }, who)).toThrow('HostName "bad host" for "n" in cfg is not a host name or IP address');
	});

	it('IdentityFile entries that do not exist are skipped; none existing leaves it unset', () => {
		const c = SshConfigFile.parse(
			'Host a\n  IdentityFile ~/.ssh/missing\nHost *\n  IdentityFile ~/.ssh/id_ed25519\nHost b\n  IdentityFile ~/.ssh/missing\n',
			'cfg',
		);
		expect(applySshConfig(c, { address: 'a' }, who).ssh.identityFile).toBe(home('.ssh/id_ed25519'));
		const none = SshConfigFile.parse('Host b\n  IdentityFile ~/.ssh/missing\n', 'cfg');
		expect(applySshConfig(none, { address: 'b' }, who)).toEqual({ ssh: { address: 'b', port: 22 } });
	});

	it('an identity file named by the source is kept even if missing, so the transport can say so', () => {
		expect(applySshConfig(config, { address: '10.0.0.1', identityFile: '~/.ssh/missing' }, who).ssh.identityFile).toBe(
			home('.ssh/missing'),
		);
	});

	it('IdentityFile none means no identity file', () => {
		const c = SshConfigFile.parse('Host a\n  IdentityFile none\n', 'cfg');
		expect(applySshConfig(c, { address: 'a' }, who)).toEqual({ ssh: { address: 'a', port: 22 } });
	});
});

describe('parseJump', () => {
	it.each([
		['bastion', { ok: true, jump: { address: 'bastion' } }],
		['ops@bastion:2222', { ok: true, jump: { user: 'ops', address: 'bastion', port: 2222 } }],
		['ssh://ops@bastion:2222', { ok: true, jump: { user: 'ops', address: 'bastion', port: 2222 } }],
		['ops@[2001:db8::1]:22', { ok: true, jump: { user: 'ops', address: '2001:db8::1', port: 22 } }],
		['NONE', { ok: true, jump: 'none' }],
		['a,b,c', { ok: false, reason: 'ProxyJump "a,b,c" has 3 hops; runbook goes through one bastion only' }],
		[
			'ops@bastion:0',
			{ ok: false, reason: 'ProxyJump "ops@bastion:0" is not [user@]host[:port]: port "0" is not a number from 1 to 65535' },
		],
	])('%s', (text, want) => {
		expect(parseJump(text)).toEqual(want);
	});
});

describe('expandPath', () => {
	it('expands ~, ssh tokens and ${VAR}', () => {
		process.env.RUNBOOK_TEST_KEYDIR = '/keys';
		try {
			expect(expandPath('~/.ssh/id_%h_%r_%p%%', { host: 'db1', user: 'pg', port: 2222 })).toBe(home('.ssh/id_db1_pg_2222%'));
			expect(expandPath('%d/k_%u')).toBe(`${homedir()}/k_${userInfo().username}`);
			expect(expandPath('${RUNBOOK_TEST_KEYDIR}/k')).toBe('/keys/k');
			expect(expandPath('/abs/~/x')).toBe('/abs/~/x');
		} finally {
			delete process.env.RUNBOOK_TEST_KEYDIR;
		}
	});
});

describe('readSshConfig', () => {
	let dir: string | undefined;
	const savedHome = fakeHome;
	afterEach(() => {
		process.env.HOME = savedHome;
		if (dir) rmSync(dir, { recursive: true, force: true });
		dir = undefined;
	});

	it('no ~/.ssh/config is an empty config', async () => {
		dir = mkdtempSync(join(tmpdir(), 'runbook-home-'));
		process.env.HOME = dir;
		const c = await readSshConfig();
		expect(c.label).toBe('~/.ssh/config');
		expect(c.aliases()).toEqual([]);
	});

	it('a path that was given must exist', async () => {
		const missing = join(fixtures, 'no_such_ssh_config');
		await expect(readSshConfig(missing)).rejects.toMatchObject({ code: 'InvalidInventory', message: `${missing}: no such file` });
	});

	it('text the package cannot parse is InvalidInventory naming the file', () => {
		expect(() => SshConfigFile.parse('Host a\n  User "unterminated\n', 'cfg')).toThrow(RunbookError);
		expect(() => SshConfigFile.parse('Host a\n  User "unterminated\n', 'cfg')).toThrow(/^cfg: /);
	});
});
