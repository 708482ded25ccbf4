/**
 * Host key verification, authentication and reachability of the ssh transport, against real
 * OpenSSH sshd processes: one target, one bastion for ProxyJump.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRunbookError, type RunbookError } from '../../src/core/errors.ts';
import type { SshEndpoint } from '../../src/inventory/types.ts';
import { fingerprintSha256 } from '../../src/transport/known-hosts.ts';
import { connectSsh, type SshOptions } from '../../src/transport/ssh.ts';
import { generateKey, type Sshd, startSshd } from '../support/sshd.ts';

const run = promisify(execFile);
const LIMITS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

let target: Sshd;
let bastion: Sshd;
let dir: string;
let n = 0;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'runbook-hostkeys-'));
	[target, bastion] = await Promise.all([startSshd(), startSshd()]);
});

afterAll(async () => {
	await Promise.all([target?.stop(), bastion?.stop()]);
	rmSync(dir, { recursive: true, force: true });
});

/** A fresh known_hosts path for one test (not created). */
function khPath(): string {
	return join(dir, `known_hosts_${++n}`);
}

function endpoint(s: Sshd, extra: Partial<SshEndpoint> = {}): SshEndpoint {
	return { address: s.address, port: s.port, user: s.user, identityFile: s.clientKeyFile, ...extra };
}

/** Connect, run one command, close; or return the RunbookError it failed with. */
async function tryConnect(ep: SshEndpoint, opts: SshOptions): Promise<RunbookError | string> {
	let t;
	try {
		t = await connectSsh(ep, { agent: null, ...opts });
	} catch (e) {
		if (isRunbookError(e)) return e;
		throw e;
	}
	try {
		return (await t.exec(['printf', 'connected'], LIMITS)).stdout;
	} finally {
		await t.close();
	}
}

async function refusal(ep: SshEndpoint, opts: SshOptions): Promise<RunbookError> {
	const r = await tryConnect(ep, opts);
	if (typeof r === 'string') throw new Error('connection was expected to be refused');
	return r;
}

describe('host key verification', () => {
	test('unknown key -> HostKeyUnknown naming host:port, type and fingerprint; nothing written', async () => {
		const kh = khPath();
		const other = khPath();
		writeFileSync(other, `unrelated.example ${target.knownHostsLine.split(' ').slice(1).join(' ')}\n`);
		const before = readFileSync(other, 'utf8');
		const e = await refusal(endpoint(target), { knownHosts: [kh, other] });
		expect(e.code).toBe('HostKeyUnknown');
		const fp = fingerprintSha256(target.hostKeyBlob);
		expect(e.detail).toContain(`127.0.0.1:${target.port} presented the ssh-ed25519 key ${fp}`);
		expect(e.hint).toContain(`ssh-keyscan -p ${target.port} 127.0.0.1 >> ${kh}`);
		expect(existsSync(kh)).toBe(false);
		expect(readFileSync(other, 'utf8')).toBe(before);
	});

	test('the ssh-keyscan line in the hint, run for real, makes the next connect pass', async () => {
		const kh = khPath();
		const e = await refusal(endpoint(target), { knownHosts: [kh] });
		const m = /ssh-keyscan -p (\d+) (\S+) >> (\S+)/.exec(e.hint ?? '');
		expect(m).not.toBeNull();
		const { stdout } = await run('ssh-keyscan', ['-t', 'ed25519', '-p', m![1]!, m![2]!]);
		writeFileSync(m![3]!, stdout);
		expect(await tryConnect(endpoint(target), { knownHosts: [kh] })).toBe('connected');
	});

	test('acceptNew records the key in the first file (0600); the next connect passes without it', async () => {
		const kh = khPath();
		const second = khPath();
		expect(await tryConnect(endpoint(target), { knownHosts: [kh, second], acceptNew: true })).toBe('connected');
		expect(readFileSync(kh, 'utf8')).toBe(target.knownHostsLine + '\n');
		expect(statSync(kh).mode & 0o777).toBe(0o600);
		expect(existsSync(second)).toBe(false);
		expect(await tryConnect(endpoint(target), { knownHosts: [kh, second] })).toBe('connected');
	});

	test('changed key -> HostKeyChanged naming file:line and both fingerprints, even with acceptNew', async () => {
		const kh = khPath();
		const impostor = await generateKey(join(dir, `impostor_${n}`));
		writeFileSync(kh, `# old install\n[127.0.0.1]:${target.port} ${impostor.type} ${impostor.blob.toString('base64')}\n`);
		const before = readFileSync(kh, 'utf8');
		for (const acceptNew of [false, true]) {
			const e = await refusal(endpoint(target), { knownHosts: [kh], acceptNew });
			expect(e.code).toBe('HostKeyChanged');
			expect(e.detail).toContain(`${kh}:2 holds ${fingerprintSha256(impostor.blob)}`);
			expect(e.detail).toContain(fingerprintSha256(target.hostKeyBlob));
			expect(e.hint).toContain(`ssh-keygen -R '[127.0.0.1]:${target.port}' -f ${kh}`);
		}
		expect(readFileSync(kh, 'utf8')).toBe(before);
	});

	test('a key marked @revoked is refused as changed', async () => {
		const kh = khPath();
		const key = target.knownHostsLine.split(' ').slice(1).join(' ');
		writeFileSync(kh, `${target.knownHostsLine}\n@revoked * ${key}\n`);
		const e = await refusal(endpoint(target), { knownHosts: [kh] });
		expect(e.code).toBe('HostKeyChanged');
		expect(e.detail).toContain(`${kh}:2 marks @revoked`);
	});

	test('a hashed entry (ssh-keygen -H) is accepted', async () => {
		const kh = khPath();
		target.writeKnownHosts(kh);
		await run('ssh-keygen', ['-H', '-f', kh]);
		expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|\S+\|\S+ ssh-ed25519 /);
		expect(await tryConnect(endpoint(target), { knownHosts: [kh] })).toBe('connected');
	});

	test('a host with several keys presents the type known_hosts holds, as ssh orders it', async () => {
		const ecdsaFile = join(dir, 'multi_ecdsa_key');
		const ecdsa = await generateKey(ecdsaFile, 'ecdsa');
		const multi = await startSshd({ config: [`HostKey ${ecdsaFile}`] });
		try {
			const kh = khPath();
			writeFileSync(kh, `[127.0.0.1]:${multi.port} ${ecdsa.type} ${ecdsa.blob.toString('base64')}\n`);
			const t = await connectSsh(endpoint(multi), { knownHosts: [kh], agent: null });
			try {
				expect(t.hostKey).toEqual({ type: 'ecdsa-sha2-nistp256', fingerprint: fingerprintSha256(ecdsa.blob) });
			} finally {
				await t.close();
			}
			// Unknown altogether, the server's preferred ed25519 key is the one reported.
			const e = await refusal(endpoint(multi), { knownHosts: [khPath()] });
			expect(e.detail).toContain(`ssh-ed25519 key ${fingerprintSha256(multi.hostKeyBlob)}`);
		} finally {
			await multi.stop();
		}
	});

	test('lookup is by [addr]:port: the bare address does not vouch for another port, a pattern does', async () => {
		const kh = khPath();
		const key = target.knownHostsLine.split(' ').slice(1).join(' ');
		writeFileSync(kh, `127.0.0.1 ${key}\n`);
		expect((await refusal(endpoint(target), { knownHosts: [kh] })).code).toBe('HostKeyUnknown');
		writeFileSync(kh, `[127.0.0.*]:${target.port} ${key}\n`);
		expect(await tryConnect(endpoint(target), { knownHosts: [kh] })).toBe('connected');
	});
});

describe('authentication', () => {
	test('a key sshd does not know -> AuthRejected', async () => {
		const kh = khPath();
		target.writeKnownHosts(kh);
		const stranger = join(dir, 'stranger_key');
		await generateKey(stranger);
		const e = await refusal(endpoint(target, { identityFile: stranger }), { knownHosts: [kh] });
		expect(e.code).toBe('AuthRejected');
		expect(e.detail).toContain(`root@127.0.0.1:${target.port} refused every key offered (identity file ${stranger})`);
	});

	test('no identity file and no agent -> NoCredentials, before connecting', async () => {
		const e = await refusal({ address: target.address, port: target.port, user: 'root' }, { knownHosts: [khPath()] });
		expect(e.code).toBe('NoCredentials');
	});

	test('an unreadable identity file -> NoCredentials naming it', async () => {
		const missing = join(dir, 'no-such-key');
		const e = await refusal(endpoint(target, { identityFile: missing }), { knownHosts: [khPath()] });
		expect(e.code).toBe('NoCredentials');
		expect(e.detail).toContain(missing);
	});

	test('a key held by ssh-agent is used when no identity file is given', async () => {
		const kh = khPath();
		target.writeKnownHosts(kh);
		const sock = join(dir, 'agent.sock');
		const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
		try {
			for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
			await run('ssh-add', [target.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
			const ep = { address: target.address, port: target.port, user: 'root' };
			expect(await tryConnect(ep, { knownHosts: [kh], agent: sock })).toBe('connected');
		} finally {
			agent.kill();
		}
	});
});

describe('reachability', () => {
	let silent: Server;
	let silentPort: number;
	const silentConns = new Set<Socket>();
	beforeAll(async () => {
		// Accepts TCP and never says a word: an sshd wedged before its banner.
		silent = createServer((s) => {
			silentConns.add(s);
			s.resume();
		});
		await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
		silentPort = (silent.address() as { port: number }).port;
	});
	afterAll(async () => {
		for (const s of silentConns) s.destroy();
		await new Promise((r) => silent.close(r));
	});

	test('a closed port -> HostUnreachable', async () => {
		const closed = await new Promise<number>((resolve) => {
			const s = createServer();
			s.listen(0, '127.0.0.1', () => {
				const p = (s.address() as { port: number }).port;
				s.close(() => resolve(p));
			});
		});
		const e = await refusal(endpoint(target, { port: closed }), { knownHosts: [khPath()] });
		expect(e.code).toBe('HostUnreachable');
		expect(e.detail).toBe(`127.0.0.1:${closed}: connection refused (ECONNREFUSED)`);
	});

	test('no SSH banner before the deadline -> ConnectTimeout', async () => {
		const started = Date.now();
		const e = await refusal(endpoint(target, { port: silentPort }), { knownHosts: [khPath()], connectTimeoutMs: 500 });
		expect(e.code).toBe('ConnectTimeout');
		expect(Date.now() - started).toBeLessThan(3000);
	});
});

describe('ProxyJump through a bastion', () => {
	function bothKnown(): string {
		const kh = khPath();
		writeFileSync(kh, `${bastion.knownHostsLine}\n${target.knownHostsLine}\n`);
		return kh;
	}

	test('both keys verified; commands run on the target, through the bastion', async () => {
		const kh = bothKnown();
		const t = await connectSsh(endpoint(target), { knownHosts: [kh], jump: endpoint(bastion), agent: null });
		try {
			expect(t.label).toBe(`ssh root@127.0.0.1:${target.port} via root@127.0.0.1:${bastion.port}`);
			expect(t.hostKey?.fingerprint).toBe(fingerprintSha256(target.hostKeyBlob));
			expect(await t.exec(['printf', 'on target'], LIMITS)).toEqual({ stdout: 'on target', stderr: '', code: 0 });
			// Cutting the bastion's sessions cuts the target's connection: the path really goes through it.
			await bastion.dropConnections();
			const err = await t.exec(['true'], LIMITS).catch((e: unknown) => e);
			expect(isRunbookError(err) && err.code).toBe('ConnectionLost');
		} finally {
			await t.close();
		}
	});

	test('an unknown bastion key is refused, naming the bastion', async () => {
		const kh = khPath();
		target.writeKnownHosts(kh);
		const e = await refusal(endpoint(target), { knownHosts: [kh], jump: endpoint(bastion) });
		expect(e.code).toBe('HostKeyUnknown');
		expect(e.detail).toMatch(new RegExp(`^bastion 127\\.0\\.0\\.1:${bastion.port} presented`));
	});

	test("an unknown target key behind a known bastion is refused by the target's [addr]:port", async () => {
		const kh = khPath();
		bastion.writeKnownHosts(kh);
		const e = await refusal(endpoint(target), { knownHosts: [kh], jump: endpoint(bastion) });
		expect(e.code).toBe('HostKeyUnknown');
		expect(e.detail).toMatch(new RegExp(`^127\\.0\\.0\\.1:${target.port} presented`));
		expect(e.hint).toContain(`ssh-keyscan -p ${target.port} 127.0.0.1`);
	});

	test('a target the bastion cannot reach -> HostUnreachable naming both', async () => {
		const kh = bothKnown();
		const e = await refusal(endpoint(target, { port: 1 }), { knownHosts: [kh], jump: endpoint(bastion) });
		expect(e.code).toBe('HostUnreachable');
		expect(e.detail).toContain(`bastion 127.0.0.1:${bastion.port} could not reach 127.0.0.1:1`);
	});
});
