/**
 * The scenario SSH server over real SSH: ssh2's Client (what our transport uses) and the OpenSSH
 * `ssh` client, each verifying the host key from the known_hosts the server wrote. The transport
 * contract suite is not run here: it needs a real shell (pipes, timeouts, non-UTF-8 output), which a
 * scenario host deliberately does not simulate.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2, { type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quoteArgv } from '../../src/core/argv.ts';
import { ensureScenarioServer, stopScenarioServer, type ScenarioServerInfo } from '../../src/transport/scenario-server.ts';

const { Client, utils } = ssh2;
const run = promisify(execFile);

/** What our ssh transport sends for an argv. */
const wire = (argv: string[]) => `LC_ALL=C LANG=C ${quoteArgv(argv)}`;

const EXTRA = (stdout: string) => `name: edited-host
title: A host edited while the server runs
brief: Its uname changes.
runbook: hugepage-map-count
commands:
  "uname -r": { stdout: ${JSON.stringify(stdout)} }
`;

let state: string;
let extra: string;
let info: ScenarioServerInfo;
const savedEnv = { state: process.env.RUNBOOK_STATE_DIR, port: process.env.RUNBOOK_SCENARIO_PORT };

/** The host key line the server wrote for its port, as OpenSSH would look it up. */
async function knownKey(): Promise<Buffer> {
	const lines = (await readFile(info.knownHostsFile, 'utf8')).split('\n');
	const line = lines.find((l) => l.startsWith(`[127.0.0.1]:${info.port} `));
	if (!line) throw new Error(`no known_hosts line for [127.0.0.1]:${info.port}`);
	const [, type, b64] = line.split(' ');
	expect(type).toBe('ssh-ed25519');
	return Buffer.from(b64!, 'base64');
}

interface Session {
	client: InstanceType<typeof Client>;
	exec(command: string): Promise<{ stdout: string; stderr: string; code: number | null }>;
}

/** Connect as `user` with `privateKey`, accepting only the host key in the server's known_hosts. */
async function connect(user: string, privateKey?: string | Buffer | ParsedKey): Promise<Session> {
	const expected = await knownKey();
	const key = privateKey ?? (await readFile(info.clientKeyFile));
	const config: ConnectConfig = {
		host: info.address,
		port: info.port,
		username: user,
		hostVerifier: (presented: Buffer) => presented.equals(expected),
		readyTimeout: 10_000,
	};
	// ssh2 takes an already parsed key only through an auth handler.
	if (typeof key === 'string' || Buffer.isBuffer(key)) config.privateKey = key;
	else {
		const method: PublicKeyAuthMethod = { type: 'publickey', username: user, key };
		config.authHandler = [method];
	}
	const client = new Client();
	await new Promise<void>((resolve, reject) => {
		client.once('ready', () => resolve());
		client.once('error', reject);
		client.connect(config);
	});
	return {
		client,
		exec: (command) =>
			new Promise((resolve, reject) => {
				client.exec(command, (err, stream) => {
					if (err) return reject(err);
					const out: Buffer[] = [];
					const errOut: Buffer[] = [];
					let code: number | null = null;
					stream.on('data', (d: Buffer) => out.push(d));
					stream.stderr.on('data', (d: Buffer) => errOut.push(d));
					stream.on('exit', (c: number | null) => (code = c));
					stream.on('close', () =>
						resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code }),
					);
				});
			}),
	};
}

/** One key out of what `utils.parseKey` returns (an array for the OpenSSH format). */
function parsed(pem: string | Buffer): ParsedKey {
	const k = utils.parseKey(pem);
	const key = Array.isArray(k) ? k[0] : k;
	if (key === undefined || key instanceof Error) throw new Error('unparseable key');
	return key;
}

/** The error a connection attempt ends with. */
async function refusal(user: string, privateKey?: string | Buffer | ParsedKey): Promise<Error & { level?: string }> {
	const s = await connect(user, privateKey).then(
		(ok) => {
			ok.client.end();
			return null;
		},
		(e: Error) => e,
	);
	if (s === null) throw new Error('the connection was accepted');
	return s;
}

beforeAll(async () => {
	state = await mkdtemp(join(tmpdir(), 'runbook-state-'));
	extra = await mkdtemp(join(tmpdir(), 'runbook-extra-scenarios-'));
	await writeFile(join(extra, 'edited-host.yaml'), EXTRA('1.0\n'));
	process.env.RUNBOOK_STATE_DIR = state;
	delete process.env.RUNBOOK_SCENARIO_PORT;
	info = await ensureScenarioServer({ scenarioDirs: [extra] });
});

afterAll(async () => {
	await stopScenarioServer();
	if (savedEnv.state === undefined) delete process.env.RUNBOOK_STATE_DIR;
	else process.env.RUNBOOK_STATE_DIR = savedEnv.state;
	if (savedEnv.port === undefined) delete process.env.RUNBOOK_SCENARIO_PORT;
	else process.env.RUNBOOK_SCENARIO_PORT = savedEnv.port;
	await rm(state, { recursive: true, force: true });
	await rm(extra, { recursive: true, force: true });
});

describe('scenario SSH server', () => {
	it('listens on 127.0.0.1 with its keys private in the state dir', async () => {
		expect(info.address).toBe('127.0.0.1');
		expect(info.port).toBeGreaterThan(0);
		expect(info.clientKeyFile).toBe(join(state, 'scenario_client_key'));
		expect(info.knownHostsFile).toBe(join(state, 'known_hosts'));
		expect((await stat(join(state, 'scenario_host_key'))).mode & 0o777).toBe(0o600);
		expect((await stat(info.clientKeyFile)).mode & 0o777).toBe(0o600);
		expect(await readFile(info.knownHostsFile, 'utf8')).toMatch(
			new RegExp(`^\\[127\\.0\\.0\\.1\\]:${info.port} ssh-ed25519 [A-Za-z0-9+/]+=*\\n$`),
		);
	});

	it('one server per process, shared through globalThis', async () => {
		expect(await ensureScenarioServer({})).toEqual(info);
		expect((globalThis as Record<symbol, unknown>)[Symbol.for('runbook.scenarioServer')]).toBeDefined();
	});

	describe('as hugepages-too-many', () => {
		let s: Session;
		beforeAll(async () => {
			s = await connect('hugepages-too-many');
		});
		afterAll(() => s.client.end());

		it('cat of a listed file -> its contents, 0', async () => {
			expect(await s.exec(wire(['cat', '/proc/sys/vm/max_map_count']))).toEqual({ stdout: '65530\n', stderr: '', code: 0 });
		});

		it('a listed command -> its output, 0', async () => {
			expect(await s.exec(wire(['ovs-vswitchd', '--version']))).toEqual({
				stdout: 'ovs-vswitchd (Open vSwitch) 2.9.0\nDPDK 17.11.0\n',
				stderr: '',
				code: 0,
			});
		});

		it('a listed non-zero exit -> that code, no output', async () => {
			expect(await s.exec(wire(['pidof', 'ovs-vswitchd']))).toEqual({ stdout: '', stderr: '', code: 1 });
		});

		it('an unlisted command -> command not found on stderr, 127', async () => {
			expect(await s.exec(wire(['ethtool', '-k', 'eth0']))).toEqual({
				stdout: '',
				stderr: 'bash: ethtool: command not found\n',
				code: 127,
			});
		});

		it('a missing file -> No such file or directory on stderr, 1', async () => {
			expect(await s.exec(wire(['cat', '/proc/sys/vm/nr_overcommit_memory']))).toEqual({
				stdout: '',
				stderr: 'cat: /proc/sys/vm/nr_overcommit_memory: No such file or directory\n',
				code: 1,
			});
		});

		it('a hostile path survives the quoting round trip', async () => {
			const path = '/tmp/it\'s; $(rm -rf /) `id` "q"\nnext';
			expect(await s.exec(wire(['cat', path]))).toEqual({ stdout: '', stderr: `cat: ${path}: No such file or directory\n`, code: 1 });
		});

		it('ls of a directory implied by the file paths', async () => {
			expect((await s.exec(wire(['ls', '/sys/kernel/mm/hugepages']))).stdout).toBe('hugepages-1048576kB\nhugepages-2048kB\n');
		});

		it('a shell request -> refused', async () => {
			await expect(
				new Promise((resolve, reject) => s.client.shell((err, stream) => (err ? reject(err) : resolve(stream)))),
			).rejects.toThrow();
		});
	});

	it('each connection sees its own scenario', async () => {
		const s = await connect('hugepages-healthy');
		try {
			expect((await s.exec(wire(['cat', '/proc/sys/vm/max_map_count']))).stdout).toBe('262144\n');
			expect((await s.exec(wire(['pidof', 'ovs-vswitchd']))).stdout).toBe('48131\n');
		} finally {
			s.client.end();
		}
	});

	it('another client key -> authentication refused', async () => {
		const other = utils.generateKeyPairSync('ed25519');
		const e = await refusal('hugepages-too-many', other.private);
		expect(e.level).toBe('client-authentication');
	});

	it('the accepted public key with a signature from another private key -> authentication refused', async () => {
		const accepted = parsed(await readFile(info.clientKeyFile));
		const forged = parsed(utils.generateKeyPairSync('ed25519').private);
		// Offers the accepted key's public half, signs with its own private half.
		forged.getPublicSSH = () => accepted.getPublicSSH();
		const e = await refusal('hugepages-too-many', forged);
		expect(e.level).toBe('client-authentication');
	});

	it('an unknown user name -> authentication refused', async () => {
		const e = await refusal('no-such-scenario');
		expect(e.level).toBe('client-authentication');
	});

	it('a scenario edited on disk -> the next connection sees the edit', async () => {
		const first = await connect('edited-host');
		expect((await first.exec(wire(['uname', '-r']))).stdout).toBe('1.0\n');
		first.client.end();
		await writeFile(join(extra, 'edited-host.yaml'), EXTRA('2.0\n'));
		const second = await connect('edited-host');
		expect((await second.exec(wire(['uname', '-r']))).stdout).toBe('2.0\n');
		second.client.end();
	});

	it('an edit that does not load -> the last good scenarios keep serving, the reason logged once', async () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
		try {
			await writeFile(join(extra, 'edited-host.yaml'), 'name: edited-host\ntitle: [unclosed\n');
			for (let i = 0; i < 2; i++) {
				const s = await connect('edited-host');
				expect((await s.exec(wire(['uname', '-r']))).stdout).toBe('2.0\n');
				s.client.end();
			}
			expect(warn).toHaveBeenCalledTimes(1);
			expect(String(warn.mock.calls[0]![0])).toMatch(/InvalidScenario: .*edited-host\.yaml: line \d+, column \d+: /);
		} finally {
			warn.mockRestore();
			await writeFile(join(extra, 'edited-host.yaml'), EXTRA('2.0\n'));
		}
	});

	it('OpenSSH ssh accepts the known_hosts line and the client key', async () => {
		const ssh = [
			'-F',
			'/dev/null',
			'-o',
			`UserKnownHostsFile=${info.knownHostsFile}`,
			'-o',
			'StrictHostKeyChecking=yes',
			'-o',
			'BatchMode=yes',
			'-o',
			'IdentitiesOnly=yes',
			'-i',
			info.clientKeyFile,
			'-p',
			String(info.port),
			'hugepages-too-many@127.0.0.1',
		];
		const { stdout } = await run('ssh', [...ssh, wire(['cat', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'])]);
		expect(stdout).toBe('40960\n');
		const missing = await run('ssh', [...ssh, wire(['lspci'])]).catch((e: { code: number; stderr: string }) => e);
		expect(missing).toMatchObject({ code: 127, stderr: 'bash: lspci: command not found\n' });
	});

	it('a restart on a fixed port keeps the host key and replaces only its own known_hosts line', async () => {
		const port = info.port;
		const before = await knownKey();
		await stopScenarioServer();
		const others = '# kept comment\n[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherHostKeyOtherHostKeyOtherHostKey00\n';
		await writeFile(
			info.knownHostsFile,
			`${others}[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStaleStaleStaleStaleStaleStaleStaleStale00\n`,
		);
		process.env.RUNBOOK_SCENARIO_PORT = String(port);
		try {
			info = await ensureScenarioServer({ scenarioDirs: [extra] });
		} finally {
			delete process.env.RUNBOOK_SCENARIO_PORT;
		}
		expect(info.port).toBe(port);
		expect(await knownKey()).toEqual(before);
		expect(await readFile(info.knownHostsFile, 'utf8')).toBe(`${others}[127.0.0.1]:${port} ssh-ed25519 ${before.toString('base64')}\n`);
		const s = await connect('hugepages-too-many');
		expect((await s.exec(wire(['uname', '-r']))).stdout).toBe('3.10.0-693.el7.x86_64\n');
		s.client.end();
	});

	it('RUNBOOK_SCENARIO_PORT that is not a port -> InvalidArgument', async () => {
		await stopScenarioServer();
		process.env.RUNBOOK_SCENARIO_PORT = '70000';
		try {
			await expect(ensureScenarioServer({})).rejects.toMatchObject({ code: 'InvalidArgument' });
		} finally {
			delete process.env.RUNBOOK_SCENARIO_PORT;
		}
		info = await ensureScenarioServer({ scenarioDirs: [extra] });
		expect(info.port).toBeGreaterThan(0);
	});
});
