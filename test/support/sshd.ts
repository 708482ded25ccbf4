/**
 * A real OpenSSH server for integration tests: `/usr/sbin/sshd -D -e -f <generated config>`, run
 * as root in a temp folder with its own ed25519 host key and one authorized client key, optionally
 * inside a network namespace (`ip netns exec NS`). sshd cannot listen on port 0, so a free port is
 * picked by binding :0 in node, and sshd is restarted on another if it lost the race for it.
 * Ready when sshd logs `Server listening on ...` (which also works inside a namespace).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SshdOptions {
	/** `ListenAddress`; default 127.0.0.1. */
	address?: string;
	/** Run sshd inside this network namespace (it must exist and have `address` on an interface). */
	netns?: string;
	/** Extra `sshd_config` lines. */
	config?: string[];
	/**
	 * Rewrites the sshd argv before it is spawned (inside the namespace), e.g. to run it under
	 * `unshare --mount`. The wrapper must exec sshd in the same process, so its pid stays sshd's.
	 */
	wrap?: (argv: string[]) => string[];
}

export interface Sshd {
	address: string;
	port: number;
	user: 'root';
	/** Private key (no passphrase) that sshd accepts for root. */
	clientKeyFile: string;
	hostKeyType: string;
	hostKeyBlob: Buffer;
	/** `[address]:port ssh-ed25519 AAAA...`, ready for a known_hosts file. */
	knownHostsLine: string;
	/** The temp folder holding keys and config; removed by `stop()`. */
	dir: string;
	/** What sshd has logged so far (`-e`: its log goes to stderr), for diagnosing a failing test. */
	log(): string;
	/** Write (replace) `file` with this server's known_hosts line. */
	writeKnownHosts(file: string): void;
	/** Kill every process serving a connection (not the listener): clients see the connection drop. */
	dropConnections(): Promise<void>;
	stop(): Promise<void>;
}

/** Generate a passphrase-less key pair; returns the `.pub` line's type and blob. */
export async function generateKey(
	file: string,
	type: 'ed25519' | 'ecdsa' = 'ed25519',
): Promise<{ type: string; blob: Buffer; line: string }> {
	await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'runbook-test', '-f', file]);
	const line = readFileSync(`${file}.pub`, 'utf8').trim();
	const [t, b64] = line.split(' ');
	return { type: t!, blob: Buffer.from(b64!, 'base64'), line };
}

/** A port the OS says is free on `address` now (bind :0, close). */
export function freePort(address = '127.0.0.1'): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.once('error', reject);
		srv.listen(0, address, () => {
			const addr = srv.address();
			srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
		});
	});
}

/** Pids whose parent is `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
	const out: number[] = [];
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			// `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (ppid === pid) out.push(Number(name));
		} catch {
			// exited while listed
		}
	}
	return out;
}

function descendantsOf(pid: number): number[] {
	const all: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		for (const c of childrenOf(queue.shift()!)) {
			all.push(c);
			queue.push(c);
		}
	}
	return all;
}

function killAll(pids: number[]): void {
	for (const p of pids) {
		try {
			process.kill(p, 'SIGKILL');
		} catch {
			// already gone
		}
	}
}

/** Start sshd and resolve once it listens; rejects with its log if it exits first. */
function launch(argv: string[], timeoutMs = 10_000): Promise<{ child: ChildProcess; log: () => string }> {
	const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
	let log = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`sshd did not start listening in ${timeoutMs} ms:\n${log}`));
		}, timeoutMs);
		child.stderr!.on('data', (d: Buffer) => {
			log += d.toString();
			if (/Server listening on /.test(log)) {
				clearTimeout(timer);
				resolve({ child, log: () => log });
			}
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			reject(Object.assign(new Error(`sshd exited (${code ?? signal}):\n${log}`), { log }));
		});
	});
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
	const address = opts.address ?? '127.0.0.1';
	// sshd's privilege separation directory.
	mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
	const dir = await mkdtemp(join(tmpdir(), 'runbook-sshd-'));
	try {
		const host = await generateKey(join(dir, 'ssh_host_ed25519_key'));
		const client = await generateKey(join(dir, 'client_key'));
		writeFileSync(join(dir, 'authorized_keys'), client.line + '\n', { mode: 0o600 });

		for (let attempt = 0; ; attempt++) {
			const port = opts.netns ? 20000 + Math.floor(Math.random() * 40000) : await freePort(address);
			const config = [
				`Port ${port}`,
				`ListenAddress ${address}`,
				`HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
				`PidFile ${join(dir, 'sshd.pid')}`,
				`AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
				'StrictModes no',
				'UsePAM no',
				'PermitRootLogin prohibit-password',
				'PubkeyAuthentication yes',
				'PasswordAuthentication no',
				'KbdInteractiveAuthentication no',
				'MaxStartups 64',
				'LogLevel INFO',
				...(opts.config ?? []),
			];
			const configFile = join(dir, 'sshd_config');
			writeFileSync(configFile, config.join('\n') + '\n');
			let started: Awaited<ReturnType<typeof launch>>;
			try {
				let argv = ['/usr/sbin/sshd', '-D', '-e', '-f', configFile];
				if (opts.wrap) argv = opts.wrap(argv);
				if (opts.netns) argv = ['ip', 'netns', 'exec', opts.netns, ...argv];
				started = await launch(argv);
			} catch (e) {
				const log = (e as { log?: string }).log ?? '';
				if (attempt < 5 && /Address already in use|Cannot bind any address/.test(log)) continue;
				throw e;
			}
			const { child } = started;
			const pid = child.pid!;
			const name = port === 22 ? address : `[${address}]:${port}`;
			const knownHostsLine = `${name} ${host.type} ${host.blob.toString('base64')}`;
			let stopped = false;
			return {
				address,
				port,
				user: 'root',
				clientKeyFile: join(dir, 'client_key'),
				hostKeyType: host.type,
				hostKeyBlob: host.blob,
				knownHostsLine,
				dir,
				log: started.log,
				writeKnownHosts(file: string) {
					writeFileSync(file, knownHostsLine + '\n', { mode: 0o600 });
				},
				async dropConnections() {
					killAll(descendantsOf(pid).reverse());
				},
				async stop() {
					if (stopped) return;
					stopped = true;
					const exited = new Promise<void>((resolve) => {
						if (child.exitCode !== null || child.signalCode !== null) resolve();
						else child.once('exit', () => resolve());
					});
					// Sessions before the listener, deepest first, so their parents are still there to reap them.
					killAll(descendantsOf(pid).reverse());
					child.kill('SIGTERM');
					await exited;
					rmSync(dir, { recursive: true, force: true });
				},
			};
		}
	} catch (e) {
		rmSync(dir, { recursive: true, force: true });
		throw e;
	}
}

/** Whether this machine lets us create network namespaces (root, no seccomp/container ban). */
export async function haveNetns(): Promise<boolean> {
	const name = `runbook-probe-${randomBytes(4).toString('hex')}`;
	try {
		await run('ip', ['netns', 'add', name]);
	} catch {
		return false;
	}
	await run('ip', ['netns', 'delete', name]).catch(() => {});
	return true;
}
