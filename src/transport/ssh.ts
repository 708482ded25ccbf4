/**
 * The `ssh` transport: one SSH connection per transport, one session channel per command.
 *
 * Why ssh2's Client directly rather than node-ssh's wrapper (STYLE.md, "node-ssh / ssh2"): its
 * `exec` trims output and throws on stderr, has no per-command timeout, and accepts every host key
 * without a verifier; its `connect` also rejects on the first `error` event (ssh2 emits one for an
 * unusable agent and then carries on authenticating) and leaves none listening once ready, so a
 * later socket error would crash the process. Here:
 *
 * - the host key is verified against every known_hosts file by the address actually connected to
 *   (`[address]:port` off port 22), with `HostKeyUnknown` / `HostKeyChanged` refusals that name the
 *   fingerprint, the file and line, and the command to run; `acceptNew` records an unknown key;
 * - host key algorithms whose key known_hosts already holds are offered first, as `ssh` does, so a
 *   host with several keys presents the one we know;
 * - each command is `LC_ALL=C LANG=C ` + the quoted argv (`quoteArgv`, the one place quoting
 *   happens), or the bare quoted argv for network OSes with no POSIX shell (`rawCommands`);
 * - stdout and stderr are kept apart, untrimmed, decoded as UTF-8 with U+FFFD, each capped;
 * - a command past its deadline gets `signal KILL` and its channel closed (`ProbeTimeout`); the
 *   connection stays usable. OpenSSH refuses signals on root sessions (it runs them without
 *   privilege separation), so there the command is left to finish or die of SIGPIPE on its own;
 * - at most MAX_CHANNELS commands run at once on the connection, the rest wait their turn;
 * - one bastion (ProxyJump): a `direct-tcpip` channel from the bastion carries the target's SSH
 *   session; both keys are verified, each by its own address and port.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import ssh2, { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { quoteArgv } from '../core/argv.ts';
import type { ExecResult } from '../core/check.ts';
import { RunbookError } from '../core/errors.ts';
import type { SshEndpoint } from '../inventory/types.ts';
import {
	appendKnownHost,
	expandHome,
	fingerprintSha256,
	keyTypeOfBlob,
	knownHostsName,
	knownKeyTypes,
	verifyHostKey,
} from './known-hosts.ts';
import { StreamCap, TRUNCATE_GRACE_MS, describeCommand } from './local.ts';
import type { ExecLimits, HostKeyInfo, Transport } from './types.ts';

export interface SshOptions {
	/** known_hosts files, read as one; an accepted new key is appended to the first. */
	knownHosts: string[];
	/** Trust on first use: record an unknown key instead of refusing it. A changed key is still refused. */
	acceptNew?: boolean;
	/** One bastion to go through; its key is verified the same way. */
	jump?: SshEndpoint | undefined;
	/** Send the bare quoted argv, without the `LC_ALL=C LANG=C` prefix (NX-OS and other non-POSIX shells). */
	rawCommands?: boolean;
	/** Deadline for TCP connect, key exchange and authentication, per hop. Default 15 s. */
	connectTimeoutMs?: number;
	/** Identity used for a hop whose endpoint names none (the CLI's `--identity`). */
	identityFile?: string | undefined;
	/** ssh-agent socket; default `SSH_AUTH_SOCK`; `null` to use no agent. */
	agent?: string | null;
	/** Overrides the transport's label (the scenario hosts name themselves). */
	label?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

/**
 * Commands running at once on one connection; more wait their turn. OpenSSH's `MaxSessions`
 * defaults to 10 and refuses the eleventh channel; two are left for channels still closing.
 */
const MAX_CHANNELS = 8;

/** ssh2's own default order, used after the algorithms of keys known_hosts already holds. */
const HOST_KEY_ALGORITHMS = [
	'ssh-ed25519',
	'ecdsa-sha2-nistp256',
	'ecdsa-sha2-nistp384',
	'ecdsa-sha2-nistp521',
	'rsa-sha2-512',
	'rsa-sha2-256',
	'ssh-rsa',
];

/** Signature algorithms that present a key of this type. */
function algorithmsForKeyType(type: string): string[] {
	if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
	return HOST_KEY_ALGORITHMS.includes(type) ? [type] : [];
}

function hostKeyOrder(knownTypes: readonly string[]): string[] | undefined {
	if (knownTypes.length === 0) return undefined;
	const first = knownTypes.flatMap(algorithmsForKeyType);
	return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

/** `address:port`, with an IPv6 address in brackets. */
function where(ep: SshEndpoint): string {
	return ep.address.includes(':') ? `[${ep.address}]:${ep.port ?? 22}` : `${ep.address}:${ep.port ?? 22}`;
}

function userOf(ep: SshEndpoint): string {
	return ep.user ?? userInfo().username;
}

interface Credentials {
	privateKey?: Buffer;
	agent?: string;
	/** What was offered, for the `AuthRejected` message. */
	offered: string[];
}

function credentialsFor(ep: SshEndpoint, opts: SshOptions, role: string): Credentials {
	const agent = opts.agent === undefined ? process.env.SSH_AUTH_SOCK || undefined : (opts.agent ?? undefined);
	const identity = ep.identityFile ?? opts.identityFile;
	const creds: Credentials = { offered: [] };
	if (identity !== undefined) {
		let key: Buffer;
		try {
			key = readFileSync(expandHome(identity));
		} catch (e) {
			throw new RunbookError(
				'NoCredentials',
				`${role}identity file ${identity} cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`,
				{
					cause: e,
				},
			);
		}
		const parsed = ssh2.utils.parseKey(key);
		if (parsed instanceof Error) {
			if (agent === undefined) {
				const encrypted = /passphrase|encrypted/i.test(parsed.message);
				throw new RunbookError(
					'NoCredentials',
					encrypted
						? `${role}identity file ${identity} is protected by a passphrase and no ssh-agent is running`
						: `${role}identity file ${identity} is not a private key ssh2 can read: ${parsed.message}`,
					encrypted ? { hint: `Load it into ssh-agent (\`eval $(ssh-agent); ssh-add ${identity}\`) and retry.` } : undefined,
				);
			}
			// A passphrase-protected key is usually also loaded in the agent; offer the agent's keys.
		} else {
			creds.privateKey = key;
			creds.offered.push(`identity file ${identity}`);
		}
	}
	if (agent !== undefined) {
		creds.agent = agent;
		creds.offered.push(`ssh-agent ${agent}`);
	}
	if (creds.offered.length === 0) {
		throw new RunbookError(
			'NoCredentials',
			`${role}no identity file for ${userOf(ep)}@${where(ep)} and no ssh-agent (SSH_AUTH_SOCK is not set)`,
		);
	}
	return creds;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'EHOSTDOWN']);

type Ssh2Error = Error & { level?: string; code?: string };

function mapConnectError(e: Ssh2Error, ep: SshEndpoint, role: string, creds: Credentials, timeoutMs: number): RunbookError {
	const at = where(ep);
	if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
		return new RunbookError('ConnectTimeout', `${role}${at} did not complete the SSH handshake in ${timeoutMs / 1000}s`, { cause: e });
	}
	if (e.level === 'client-authentication') {
		return new RunbookError('AuthRejected', `${role}${userOf(ep)}@${at} refused every key offered (${creds.offered.join(', ')})`, {
			cause: e,
		});
	}
	if (e.code !== undefined && UNREACHABLE.has(e.code)) {
		const what = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'no such host name' : e.message;
		return new RunbookError('HostUnreachable', `${role}${at}: ${what} (${e.code})`, { cause: e });
	}
	return new RunbookError('HostUnreachable', `${role}SSH to ${at} failed: ${e.message}`, { cause: e });
}

/** Clients whose connection has closed: ending them again would wait for a `close` that never comes. */
const closedClients = new WeakSet<Client>();

/**
 * Send `signal KILL` for the channel's command. ssh2's `Channel.signal()` refuses once our side has
 * sent EOF, though RFC 4254 allows channel requests until CLOSE, and stdin is closed at once here;
 * so the request goes through ssh2's protocol object. Without it the channel is still closed.
 */
function killRemote(ch: ClientChannel): void {
	const c = ch as unknown as {
		outgoing?: { id: number; state: string };
		_client?: { _protocol?: { signal?: (id: number, name: string) => void } };
	};
	if (c.outgoing?.state !== 'open' && c.outgoing?.state !== 'eof') return;
	try {
		c._client?._protocol?.signal?.(c.outgoing.id, 'KILL');
	} catch {
		// the connection is going away; closing the channel below is all that is left
	}
}

interface Hop {
	client: Client;
	hostKey: HostKeyInfo;
}

/**
 * Open and authenticate one SSH connection, verifying the host key by `ep`'s address and port.
 * `sock` carries it through a bastion; `role` prefixes messages (`bastion `) for the first hop.
 */
function connectHop(ep: SshEndpoint, opts: SshOptions, role: string, sock?: Duplex): Promise<Hop> {
	const port = ep.port ?? 22;
	const at = where(ep);
	const files = opts.knownHosts;
	const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
	const creds = credentialsFor(ep, opts, role);

	let refusal: RunbookError | undefined;
	let hostKey: HostKeyInfo | undefined;
	let agentError: Error | undefined;

	const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void): void => {
		const type = keyTypeOfBlob(blob) ?? 'unknown';
		const fingerprint = fingerprintSha256(blob);
		const check = verifyHostKey(files, ep.address, port, type, blob);
		const presented = `${role}${at} presented the ${type} key ${fingerprint}`;
		if (check.status === 'match') {
			hostKey = { type, fingerprint };
			return verify(true);
		}
		if (check.status === 'changed') {
			refusal = new RunbookError('HostKeyChanged', `${presented}, but ${check.file}:${check.line} holds ${check.knownFingerprint} for it`, {
				hint: `This can be an attack or a reinstalled host. Confirm the new fingerprint out of band before removing the old key: ssh-keygen -R '${knownHostsName(ep.address, port)}' -f ${check.file}`,
			});
			return verify(false);
		}
		if (check.status === 'revoked') {
			refusal = new RunbookError('HostKeyChanged', `${presented}, which ${check.file}:${check.line} marks @revoked`, {
				hint: 'A revoked key must never be trusted again. Find out why the host still presents it before connecting.',
			});
			return verify(false);
		}
		const first = files[0];
		if (opts.acceptNew && first !== undefined) {
			try {
				appendKnownHost(first, ep.address, port, type, blob);
			} catch (e) {
				refusal = new RunbookError('HostKeyUnknown', `${presented}, which could not be recorded in ${first}: ${(e as Error).message}`, {
					cause: e,
				});
				return verify(false);
			}
			hostKey = { type, fingerprint };
			return verify(true);
		}
		const others = check.otherTypes?.length ? ` (it holds only ${check.otherTypes.join(', ')} keys for this host)` : '';
		const target = first ?? '~/.ssh/known_hosts';
		refusal = new RunbookError('HostKeyUnknown', `${presented}, which is not in ${files.join(' or ') || 'any known_hosts file'}${others}`, {
			hint: `Check the fingerprint out of band, then record the key: ssh-keyscan -p ${port} ${ep.address} >> ${target} (or pass --accept-new to trust it on first use, or --known-hosts FILE).`,
		});
		return verify(false);
	};

	const config: ConnectConfig = {
		host: ep.address,
		port,
		username: userOf(ep),
		readyTimeout: timeoutMs,
		keepaliveInterval: 15_000,
		keepaliveCountMax: 3,
		hostVerifier,
	};
	if (sock !== undefined) config.sock = sock;
	if (creds.privateKey !== undefined) config.privateKey = creds.privateKey;
	if (creds.agent !== undefined) config.agent = creds.agent;
	const order = hostKeyOrder(knownKeyTypes(files, ep.address, port));
	if (order !== undefined) config.algorithms = { serverHostKey: order as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };

	const client = new Client();
	client.on('close', () => closedClients.add(client));
	return new Promise<Hop>((resolve, reject) => {
		let done = false;
		const fail = (err: RunbookError) => {
			if (done) return;
			done = true;
			client.end();
			reject(err);
		};
		client.on('error', (e: Ssh2Error) => {
			if (done) return;
			// ssh2 reports an unusable agent and carries on with the next method.
			if (e.level === 'agent') {
				agentError = e;
				return;
			}
			if (refusal) return fail(refusal);
			if (e.level === 'client-authentication' && agentError && creds.privateKey === undefined) {
				return fail(
					new RunbookError('NoCredentials', `${role}ssh-agent ${creds.agent} could not be used: ${agentError.message}`, {
						cause: agentError,
					}),
				);
			}
			fail(mapConnectError(e, ep, role, creds, timeoutMs));
		});
		client.on('close', () => {
			fail(refusal ?? new RunbookError('HostUnreachable', `${role}${at} closed the connection before SSH was ready`));
		});
		client.on('ready', () => {
			if (done) return;
			done = true;
			resolve({ client, hostKey: hostKey! });
		});
		try {
			client.connect(config);
			// Each command is a few small request/reply packets; Nagle would hold each one back.
			client.setNoDelay(true);
		} catch (e) {
			fail(new RunbookError('HostUnreachable', `${role}SSH to ${at} could not start: ${(e as Error).message}`, { cause: e }));
		}
	});
}

/** Open a `direct-tcpip` channel from the bastion to the target. */
function forwardThrough(bastion: Client, jump: SshEndpoint, target: SshEndpoint): Promise<Duplex> {
	return new Promise((resolve, reject) => {
		bastion.forwardOut('127.0.0.1', 0, target.address, target.port ?? 22, (err, stream) => {
			if (err) {
				reject(
					new RunbookError('HostUnreachable', `bastion ${where(jump)} could not reach ${where(target)}: ${err.message}`, { cause: err }),
				);
			} else {
				resolve(stream);
			}
		});
	});
}

function endClient(client: Client): Promise<void> {
	if (closedClients.has(client)) return Promise.resolve();
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			client.destroy();
			resolve();
		}, 2000);
		client.once('close', () => {
			clearTimeout(timer);
			resolve();
		});
		client.end();
	});
}

interface Pending {
	fail(err: RunbookError): void;
}

class SshTransport implements Transport {
	readonly label: string;
	readonly hostKey: HostKeyInfo;
	private lost: RunbookError | undefined;
	private readonly pending = new Set<Pending>();
	private active = 0;
	private readonly waiting: (() => void)[] = [];

	constructor(
		private readonly client: Client,
		private readonly bastion: Client | undefined,
		hostKey: HostKeyInfo,
		label: string,
		private readonly raw: boolean,
	) {
		this.label = label;
		this.hostKey = hostKey;
		// Listeners for the life of the connection: without one, an `error` after `ready` would crash the process.
		for (const c of [client, bastion]) {
			c?.on('error', (e: Error) => this.drop(`${label}: ${e.message}`));
			c?.on('close', () => this.drop(`${label}: the connection closed`));
		}
	}

	private drop(detail: string): void {
		if (this.lost) return;
		this.lost = new RunbookError('ConnectionLost', detail);
		for (const p of this.pending) p.fail(this.lost);
		this.pending.clear();
		for (const wake of this.waiting.splice(0)) wake();
	}

	async exec(argv: readonly string[], limits: ExecLimits): Promise<ExecResult> {
		if (argv.length === 0) throw new Error('exec: empty argv');
		if (this.active >= MAX_CHANNELS) await new Promise<void>((wake) => this.waiting.push(wake));
		if (this.lost) throw this.lost;
		this.active++;
		try {
			return await this.run(argv, limits);
		} finally {
			this.active--;
			this.waiting.shift()?.();
		}
	}

	private run(argv: readonly string[], limits: ExecLimits): Promise<ExecResult> {
		const command = (this.raw ? '' : 'LC_ALL=C LANG=C ') + quoteArgv(argv);
		return new Promise<ExecResult>((resolve, reject) => {
			const out = new StreamCap(limits.maxBytes);
			const err = new StreamCap(limits.maxBytes);
			let channel: ClientChannel | undefined;
			let settled = false;
			let graceTimer: NodeJS.Timeout | undefined;
			let code: number | null = null;

			const stop = () => {
				if (!channel) return;
				killRemote(channel);
				channel.close();
			};
			const result = (): ExecResult => {
				const r: ExecResult = { stdout: out.text(), stderr: err.text(), code };
				if (out.truncated || err.truncated) r.truncated = true;
				return r;
			};
			const finish = (r: ExecResult | RunbookError) => {
				if (settled) return;
				settled = true;
				clearTimeout(deadline);
				clearTimeout(graceTimer);
				this.pending.delete(pending);
				if (r instanceof RunbookError) reject(r);
				else resolve(r);
			};
			const pending: Pending = {
				fail: (e) => finish(new RunbookError('ConnectionLost', `${e.detail} while running ${describeCommand(argv)}`)),
			};
			this.pending.add(pending);

			const deadline = setTimeout(() => {
				stop();
				finish(new RunbookError('ProbeTimeout', `${describeCommand(argv)} did not finish in ${limits.timeoutMs / 1000}s on ${this.label}`));
			}, limits.timeoutMs);
			// Past the cap, output is discarded; the command gets a moment to finish, then is killed.
			const onCapped = () => {
				if (graceTimer !== undefined) return;
				graceTimer = setTimeout(() => {
					stop();
					code = null;
					finish(result());
				}, TRUNCATE_GRACE_MS);
			};

			const onOpen = (e: Error | undefined, ch: ClientChannel) => {
				if (e) {
					finish(
						new RunbookError('ConnectionLost', `${this.label}: could not open a session for ${describeCommand(argv)}: ${e.message}`, {
							cause: e,
						}),
					);
					return;
				}
				channel = ch;
				if (settled) {
					stop();
					return;
				}
				// No input: a command that reads stdin sees end of file at once, as with the local transport.
				ch.eof();
				ch.on('data', (chunk: Buffer) => {
					if (!out.push(chunk)) onCapped();
				});
				ch.stderr.on('data', (chunk: Buffer) => {
					if (!err.push(chunk)) onCapped();
				});
				ch.on('exit', (c: number | null) => {
					code = typeof c === 'number' ? c : null;
				});
				ch.on('close', () => {
					// ssh2 emits `close` once stdout has ended; stderr may still hold a chunk.
					if (ch.stderr.readableEnded || ch.stderr.destroyed) finish(result());
					else ch.stderr.once('end', () => finish(result()));
				});
			};
			try {
				this.client.exec(command, onOpen);
			} catch (e) {
				finish(
					new RunbookError('ConnectionLost', `${this.label}: ${(e as Error).message} while running ${describeCommand(argv)}`, { cause: e }),
				);
			}
		});
	}

	async close(): Promise<void> {
		this.drop(`${this.label}: the transport was closed`);
		await endClient(this.client);
		if (this.bastion) await endClient(this.bastion);
	}
}

/**
 * Connect (through `opts.jump` when given), verify host keys, authenticate, and return a transport
 * that runs every command over this one connection until `close()`.
 */
export async function connectSsh(target: SshEndpoint, opts: SshOptions): Promise<Transport> {
	const tgt = { ...target, port: target.port ?? 22 };
	let label = opts.label ?? `ssh ${userOf(tgt)}@${where(tgt)}`;
	if (!opts.jump) {
		const hop = await connectHop(tgt, opts, '');
		return new SshTransport(hop.client, undefined, hop.hostKey, label, opts.rawCommands ?? false);
	}
	const jump = { ...opts.jump, port: opts.jump.port ?? 22 };
	if (opts.label === undefined) label += ` via ${userOf(jump)}@${where(jump)}`;
	const bastion = await connectHop(jump, opts, 'bastion ');
	try {
		const stream = await forwardThrough(bastion.client, jump, tgt);
		const hop = await connectHop(tgt, opts, '', stream);
		return new SshTransport(hop.client, bastion.client, hop.hostKey, label, opts.rawCommands ?? false);
	} catch (e) {
		await endClient(bastion.client);
		throw e;
	}
}
