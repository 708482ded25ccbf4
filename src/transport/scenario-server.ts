/**
 * The built-in SSH server behind the `scenario:<name>` hosts (DESIGN.md, "Training scenarios"), so
 * training goes through the same SSH transport, host key check and key authentication as production.
 *
 * - One per process, kept on `globalThis[Symbol.for('runbook.scenarioServer')]`: the CLI (through
 *   tsx) and the Astro server bundle each carry a copy of this module, and both must reach the same
 *   server, port and keys.
 * - Listens on 127.0.0.1 only, on `RUNBOOK_SCENARIO_PORT` or a port the OS picks.
 * - Keys live in `stateDir()`: an ed25519 host key, made once, whose line
 *   `[127.0.0.1]:<port> ssh-ed25519 <base64>` is written to `<stateDir>/known_hosts` (replacing an
 *   older line for the same port, keeping every other line); and an ed25519 client key, the only key
 *   it accepts. The user name picks the scenario; an unknown name fails authentication.
 * - Exec requests are answered by `answer()` (scenario-shell.ts) with one `ShellState` per
 *   connection, so a counter a scenario answers with a list moves between two reads of one check
 *   run, and starts again on the next connection. Shell, pty and subsystem requests are refused.
 *   Scenario files are re-read for each connection, so an edited YAML file counts without a
 *   restart; if the edit does not load, the last good set keeps serving and the reason is logged
 *   once.
 * - `watchScenarioExecs()` tells a listener every request and where its answer came from, so a
 *   test (or a trainer writing a scenario) sees the commands a scenario does not list.
 * - The listening socket is unref'd: it never keeps a finished CLI run alive on its own.
 */
import { timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2, { type Connection, type ParsedKey } from 'ssh2';
import { RunbookError } from '../core/errors.ts';
import { stateDir } from '../core/paths.ts';
import { loadScenarios } from '../scenarios/load.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { answer, ShellState, type ShellAnswer } from './scenario-shell.ts';

const { Server, utils } = ssh2;

export interface ScenarioServerInfo {
	/** Always `127.0.0.1`. */
	address: string;
	port: number;
	/** `<stateDir>/known_hosts`, holding this server's `[127.0.0.1]:<port>` line. */
	knownHostsFile: string;
	/** `<stateDir>/scenario_client_key`: the private key the server accepts, for every scenario user. */
	clientKeyFile: string;
}

export interface ScenarioServerOptions {
	/** Scenario folders besides `content/scenarios`; added to those of earlier calls. */
	scenarioDirs?: readonly string[];
}

interface SharedState {
	dirs: Set<string>;
	started: Promise<ScenarioServerInfo>;
	server?: InstanceType<typeof Server>;
	connections: Set<Connection>;
	/** The last set of scenarios that loaded, served while an edit does not load. */
	lastGood?: Map<string, Scenario>;
	lastWarning?: string;
}

/** One exec request a scenario host answered. */
export interface ScenarioExec {
	/** The scenario (SSH user) that answered. */
	scenario: string;
	/** The exec string as it arrived (`LC_ALL=C LANG=C cat /proc/...`). */
	command: string;
	answer: ShellAnswer;
}

const STATE_KEY = Symbol.for('runbook.scenarioServer');
const WATCHERS_KEY = Symbol.for('runbook.scenarioServer.watchers');
const ADDRESS = '127.0.0.1';

const registry = globalThis as typeof globalThis & { [STATE_KEY]?: SharedState; [WATCHERS_KEY]?: Set<(e: ScenarioExec) => void> };

function watchers(): Set<(e: ScenarioExec) => void> {
	registry[WATCHERS_KEY] ??= new Set();
	return registry[WATCHERS_KEY];
}

/** Call `listener` (which must not throw) for every exec request any scenario host of this process answers; returns the way to stop. */
export function watchScenarioExecs(listener: (e: ScenarioExec) => void): () => void {
	watchers().add(listener);
	return () => watchers().delete(listener);
}

/** Start the scenario server, or return the one this process already runs. */
export function ensureScenarioServer(opts: ScenarioServerOptions = {}): Promise<ScenarioServerInfo> {
	const existing = registry[STATE_KEY];
	if (existing) {
		for (const dir of opts.scenarioDirs ?? []) existing.dirs.add(dir);
		return existing.started;
	}
	const shared: SharedState = { dirs: new Set(opts.scenarioDirs ?? []), connections: new Set(), started: undefined as never };
	shared.started = start(shared).catch((e: unknown) => {
		if (registry[STATE_KEY] === shared) delete registry[STATE_KEY];
		throw e;
	});
	registry[STATE_KEY] = shared;
	return shared.started;
}

/** Close the server and its connections (tests; a later `ensureScenarioServer` starts afresh). */
export async function stopScenarioServer(): Promise<void> {
	const shared = registry[STATE_KEY];
	if (!shared) return;
	delete registry[STATE_KEY];
	await shared.started.catch(() => undefined);
	for (const client of shared.connections) client.end();
	const server = shared.server;
	// ssh2's Server wraps a net.Server without its `listening`; close() on a closed one just calls back with an error.
	if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}

function configuredPort(): number {
	const raw = process.env.RUNBOOK_SCENARIO_PORT;
	if (raw === undefined || raw === '') return 0;
	const port = Number(raw);
	if (!/^\d+$/.test(raw) || port > 65535) {
		throw new RunbookError('InvalidArgument', `RUNBOOK_SCENARIO_PORT must be a port number 0-65535, got "${raw}"`, {
			hint: 'Unset it to let the OS pick a free port.',
		});
	}
	return port;
}

/** Create `file` with `contents` only if it does not exist yet, atomically (two processes may race). */
async function createExclusive(file: string, contents: string): Promise<boolean> {
	const tmp = `${file}.${process.pid}.tmp`;
	await writeFile(tmp, contents, { mode: 0o600 });
	try {
		await link(tmp, file);
		return true;
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw e;
	} finally {
		await unlink(tmp).catch(() => undefined);
	}
}

/** The ed25519 private key in `file`, generated on first use. */
async function ensureKey(file: string): Promise<{ pem: string; key: ParsedKey }> {
	let pem: string;
	try {
		pem = await readFile(file, 'utf8');
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
		const pair = utils.generateKeyPairSync('ed25519', { comment: 'runbook scenario server' });
		if (await createExclusive(file, pair.private)) await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
		pem = await readFile(file, 'utf8');
	}
	const parsed = utils.parseKey(pem);
	const key = Array.isArray(parsed) ? parsed[0] : parsed;
	if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
		throw new Error(
			`${file} is not a private key this server can read${key instanceof Error ? ` (${key.message})` : ''}; delete it and a new one is made`,
		);
	}
	return { pem, key };
}

/** `[127.0.0.1]:2222`, as OpenSSH names a host on a port other than 22. */
const knownHostsName = (port: number): string => (port === 22 ? ADDRESS : `[${ADDRESS}]:${port}`);

/** Put `line` in `file` in place of any line for the same host name; every other line is kept. */
async function writeKnownHost(file: string, port: number, key: ParsedKey): Promise<void> {
	const name = knownHostsName(port);
	const line = `${name} ${key.type} ${key.getPublicSSH().toString('base64')}`;
	let text = '';
	try {
		text = await readFile(file, 'utf8');
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
	}
	const lines = text.split('\n');
	if (lines.at(-1) === '') lines.pop();
	const kept = lines.filter((l) => l.trim().split(/\s+/)[0] !== name);
	if (kept.length === lines.length - 1 && lines.includes(line)) return;
	const tmp = `${file}.${process.pid}.tmp`;
	await writeFile(tmp, [...kept, line].join('\n') + '\n', { mode: 0o644 });
	await rename(tmp, file);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Re-read the scenario files; on a bad edit keep serving the last set that loaded. */
async function currentScenarios(shared: SharedState): Promise<Map<string, Scenario>> {
	try {
		shared.lastGood = await loadScenarios([...shared.dirs]);
		shared.lastWarning = undefined;
	} catch (e) {
		if (!shared.lastGood) throw e;
		const why = e instanceof RunbookError ? `${e.code}: ${e.detail}` : String(e);
		if (why !== shared.lastWarning) console.warn(`[runbook] scenario SSH server: still serving the last scenarios that loaded; ${why}`);
		shared.lastWarning = why;
	}
	return shared.lastGood;
}

function serveConnection(client: Connection, shared: SharedState, clientKey: ParsedKey): void {
	shared.connections.add(client);
	client.on('close', () => shared.connections.delete(client));
	// A client that drops mid-handshake emits ECONNRESET; it concerns that client only.
	client.on('error', () => client.end());
	const loading = currentScenarios(shared);
	loading.catch(() => undefined);
	const allowedBlob = clientKey.getPublicSSH();
	let scenario: Scenario | undefined;
	let name = '';
	const shell = new ShellState();

	client.on('authentication', (ctx) => {
		void loading.then(
			(scenarios) => {
				const candidate = scenarios.get(ctx.username);
				if (ctx.method !== 'publickey' || candidate === undefined) return ctx.reject(['publickey']);
				if (ctx.key.algo !== clientKey.type || !sameBytes(ctx.key.data, allowedBlob)) return ctx.reject(['publickey']);
				// Without a signature the client only asks whether this key would do.
				if (ctx.signature !== undefined && clientKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true)
					return ctx.reject(['publickey']);
				if (ctx.signature !== undefined) {
					scenario = candidate;
					name = ctx.username;
				}
				ctx.accept();
			},
			() => ctx.reject(['publickey']),
		);
	});

	client.on('ready', () => {
		client.on('session', (acceptSession) => {
			const session = acceptSession();
			session.on('pty', (_accept, reject) => reject?.());
			session.on('shell', (_accept, reject) => reject());
			session.on('subsystem', (_accept, reject) => reject());
			session.on('exec', (acceptExec, _reject, info) => {
				const result = answer(scenario!, info.command, shell);
				for (const listener of watchers()) listener({ scenario: name, command: info.command, answer: result });
				const stream = acceptExec();
				if (result.stdout !== '') stream.write(result.stdout);
				if (result.stderr !== '') stream.stderr.write(result.stderr);
				stream.exit(result.code);
				stream.end();
			});
		});
	});
}

async function start(shared: SharedState): Promise<ScenarioServerInfo> {
	const port = configuredPort();
	const dir = stateDir();
	await mkdir(dir, { recursive: true, mode: 0o700 });
	const host = await ensureKey(join(dir, 'scenario_host_key'));
	const clientKeyFile = join(dir, 'scenario_client_key');
	const client = await ensureKey(clientKeyFile);
	// A scenario folder that does not load stops the start here, with its one-line reason.
	await currentScenarios(shared);

	const server = new Server({ hostKeys: [host.pem] }, (conn) => serveConnection(conn, shared, client.key));
	shared.server = server;
	await new Promise<void>((resolve, reject) => {
		server.once('error', (e: NodeJS.ErrnoException) => {
			if (port !== 0 && e.code === 'EADDRINUSE') {
				reject(
					new RunbookError('InvalidArgument', `the scenario SSH server cannot listen on ${ADDRESS}:${port}: the port is in use`, {
						hint: 'Set RUNBOOK_SCENARIO_PORT to a free port, or unset it to let the OS pick one.',
					}),
				);
			} else reject(e);
		});
		server.listen(port, ADDRESS, () => resolve());
	});
	server.on('error', (e: Error) => console.error('[runbook] scenario SSH server:', e));
	server.unref();
	const bound = (server.address() as AddressInfo).port;
	const knownHostsFile = join(dir, 'known_hosts');
	try {
		await writeKnownHost(knownHostsFile, bound, host.key);
	} catch (e) {
		server.close();
		throw e;
	}
	return { address: ADDRESS, port: bound, knownHostsFile, clientKeyFile };
}
