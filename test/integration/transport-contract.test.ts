/**
 * The transport contract against `local` and against `ssh` to a real OpenSSH sshd, plus what only
 * the ssh transport can do wrong: the locale prefix, a connection dropped mid-command, and an sshd
 * inside a network namespace.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRunbookError } from '../../src/core/errors.ts';
import { type Host, HostSchema } from '../../src/inventory/types.ts';
import { openTransport } from '../../src/transport/connect.ts';
import { createLocalTransport } from '../../src/transport/local.ts';
import { stopScenarioServer } from '../../src/transport/scenario-server.ts';
import { connectSsh } from '../../src/transport/ssh.ts';
import type { Transport } from '../../src/transport/types.ts';
import { haveNetns, type Sshd, startSshd } from '../support/sshd.ts';
import { defineTransportContract } from '../support/transport-contract.ts';

const run = promisify(execFile);
const netns = await haveNetns();
const LIMITS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

let sshd: Sshd;
let dir: string;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'runbook-contract-'));
	sshd = await startSshd();
	sshd.writeKnownHosts(join(dir, 'known_hosts'));
});

afterAll(async () => {
	await sshd?.stop();
	rmSync(dir, { recursive: true, force: true });
});

function connect(opts: { rawCommands?: boolean } = {}): Promise<Transport> {
	return connectSsh(
		{ address: sshd.address, port: sshd.port, user: sshd.user, identityFile: sshd.clientKeyFile },
		{ knownHosts: [join(dir, 'known_hosts')], agent: null, ...opts },
	);
}

defineTransportContract('local', async () => createLocalTransport());
defineTransportContract('ssh to a real sshd', () => connect(), {
	// OpenSSH serves root sessions without privilege separation and then refuses `signal` requests
	// (session.c, session_signal_req); the harness can only log in as root.
	cannotKill: 'sshd refuses signal requests on root sessions',
});

describe('ssh transport specifics', () => {
	test('label and verified host key are reported', async () => {
		const t = await connect();
		try {
			expect(t.label).toBe(`ssh root@127.0.0.1:${sshd.port}`);
			expect(t.hostKey?.type).toBe('ssh-ed25519');
			const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(sshd.dir, 'ssh_host_ed25519_key.pub')]);
			expect(t.hostKey?.fingerprint).toBe(stdout.split(' ')[1]);
		} finally {
			await t.close();
		}
	});

	test('rawCommands sends the quoted argv without the locale prefix', async () => {
		const t = await connect({ rawCommands: true });
		try {
			// The login shell runs it: the bare `printf` gets the quoted args, and no LC_ALL is set by us.
			const r = await t.exec(['sh', '-c', 'printf "%s|" "${LC_ALL-unset}" "$1"', 'sh', 'a b'], LIMITS);
			expect(r.stdout).toBe('unset|a b|');
		} finally {
			await t.close();
		}
	});

	test('at the deadline sshd is asked to KILL the command (OpenSSH refuses it for root, and logs that)', async () => {
		const t = await connect();
		try {
			const err = await t.exec(['sleep', '5'], { timeoutMs: 300, maxBytes: 1024 }).catch((e: unknown) => e);
			expect(isRunbookError(err) && err.code).toBe('ProbeTimeout');
			for (let i = 0; i < 20 && !sshd.log().includes('session_signal_req'); i++) await new Promise((r) => setTimeout(r, 50));
			expect(sshd.log()).toContain('session_signal_req: session signalling requires privilege separation');
		} finally {
			await t.close();
		}
	});

	test('a connection dropped mid-command throws ConnectionLost, and later execs too', async () => {
		const t = await connect();
		try {
			const pending = t.exec(['sleep', '5'], LIMITS).catch((e: unknown) => e);
			await new Promise((r) => setTimeout(r, 300));
			await sshd.dropConnections();
			const err = await pending;
			expect(isRunbookError(err) && err.code).toBe('ConnectionLost');
			expect((err as Error).message).toMatch(/sleep 5/);
			const after = await t.exec(['true'], LIMITS).catch((e: unknown) => e);
			expect(isRunbookError(after) && after.code).toBe('ConnectionLost');
		} finally {
			await t.close();
		}
	});

	test('close() ends the connection: sshd has no session left', async () => {
		const t = await connect();
		await t.exec(['true'], LIMITS);
		await t.close();
		const err = await t.exec(['true'], LIMITS).catch((e: unknown) => e);
		expect(isRunbookError(err) && err.code).toBe('ConnectionLost');
	});
});

describe('openTransport', () => {
	const savedStateDir = process.env.RUNBOOK_STATE_DIR;
	let stateDir: string;
	beforeAll(() => {
		// The default known_hosts list ends with <stateDir>/known_hosts; the scenario server keeps its keys there too.
		stateDir = join(dir, 'state');
		process.env.RUNBOOK_STATE_DIR = stateDir;
	});
	afterAll(async () => {
		await stopScenarioServer();
		if (savedStateDir === undefined) delete process.env.RUNBOOK_STATE_DIR;
		else process.env.RUNBOOK_STATE_DIR = savedStateDir;
	});

	function sshHost(identityFile?: string): Host {
		return HostSchema.parse({
			name: 'lab',
			source: 'adhoc',
			transport: 'ssh',
			ssh: { address: sshd.address, port: sshd.port, user: 'root', ...(identityFile ? { identityFile } : {}) },
		});
	}

	test('local host -> local transport', async () => {
		const t = await openTransport(HostSchema.parse({ name: 'local', source: 'builtin', transport: 'local' }));
		expect(t.label).toBe('local');
		expect((await t.exec(['printf', 'here'], LIMITS)).stdout).toBe('here');
		await t.close();
	});

	test('ssh host: --identity is used when the host names none; known_hosts defaults include <stateDir>/known_hosts', async () => {
		sshd.writeKnownHosts(join(dir, 'for-state'));
		rmSync(stateDir, { recursive: true, force: true });
		mkdirSync(stateDir, { recursive: true });
		copyFileSync(join(dir, 'for-state'), join(stateDir, 'known_hosts'));
		const t = await openTransport(sshHost(), { identity: sshd.clientKeyFile });
		try {
			expect(t.label).toBe(`ssh root@127.0.0.1:${sshd.port}`);
			expect((await t.exec(['printf', 'there'], LIMITS)).stdout).toBe('there');
		} finally {
			await t.close();
		}
	});

	test("ssh host: the host's own identity file wins over --identity", async () => {
		const t = await openTransport(sshHost(sshd.clientKeyFile), {
			identity: join(dir, 'no-such-key'),
			knownHosts: [join(dir, 'known_hosts')],
		});
		await t.close();
		const e = await openTransport(sshHost(join(dir, 'no-such-key')), {
			identity: sshd.clientKeyFile,
			knownHosts: [join(dir, 'known_hosts')],
		}).catch((err: unknown) => err);
		expect(isRunbookError(e) && e.code).toBe('NoCredentials');
	});

	test('scenario host -> SSH to the built-in scenario server, its key verified', async () => {
		const host = HostSchema.parse({
			name: 'scenario:hugepages-healthy',
			source: 'scenario',
			transport: 'scenario',
			scenario: 'hugepages-healthy',
		});
		const t = await openTransport(host);
		try {
			expect(t.label).toBe('scenario hugepages-healthy');
			expect(t.hostKey?.type).toBe('ssh-ed25519');
			expect(await t.exec(['cat', '/etc/redhat-release'], LIMITS)).toEqual({
				stdout: 'CentOS Linux release 7.4.1708 (Core) \n',
				stderr: '',
				code: 0,
			});
		} finally {
			await t.close();
		}
	});
});

describe('ssh into a network namespace', () => {
	const id = randomBytes(3);
	const ns = `runbook-ct-${id.toString('hex')}`;
	const hostIf = `rbh${id.toString('hex')}`;
	// A /30 from 10.254.0.0/16 picked at random, so parallel runs on one machine do not collide.
	const net = `10.254.${id[0]}.${(id[1]! & 0x3f) * 4}`;
	const [a, b, c, d] = net.split('.').map(Number);
	const hostIp = `${a}.${b}.${c}.${d! + 1}`;
	const nsIp = `${a}.${b}.${c}.${d! + 2}`;
	let inner: Sshd | undefined;

	beforeAll(async () => {
		if (!netns) return;
		await run('ip', ['netns', 'add', ns]);
		await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
		await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
		await run('ip', ['link', 'set', hostIf, 'up']);
		await run('ip', ['-n', ns, 'addr', 'add', `${nsIp}/30`, 'dev', 'eth0']);
		await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
		await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
		inner = await startSshd({ address: nsIp, netns: ns });
	});

	afterAll(async () => {
		if (!netns) return;
		await inner?.stop();
		await run('ip', ['link', 'del', hostIf]).catch(() => {});
		await run('ip', ['netns', 'delete', ns]).catch(() => {});
	});

	// Skipped where `ip netns add` is refused (unprivileged container): the loopback sshd above still runs.
	test.skipIf(!netns)('reaches sshd on a veth address inside the namespace', async () => {
		const known = join(dir, 'known_hosts_netns');
		inner!.writeKnownHosts(known);
		const t = await connectSsh(
			{ address: nsIp, port: inner!.port, user: 'root', identityFile: inner!.clientKeyFile },
			{ knownHosts: [known], agent: null },
		);
		try {
			const r = await t.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'], LIMITS);
			expect(r.stdout).toContain(`inet ${nsIp}/30`);
		} finally {
			await t.close();
		}
	});
});
