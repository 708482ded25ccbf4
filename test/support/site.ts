/**
 * The built site, served as `runbook serve` serves it: `node dist/server/entry.mjs` (the node
 * adapter's standalone server) on 127.0.0.1 and a free port. `npm test` builds before vitest runs;
 * when `dist/` is missing (a lone `vitest run --project e2e`) it is built here first.
 * `startStaticSite` serves only the static files of the same build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { projectRoot } from '../../src/core/paths.ts';
import { freePort } from './sshd.ts';

export interface Site {
	/** Base URL, `http://127.0.0.1:<port>`, no trailing slash. */
	url: string;
	/** What the server printed, for failure messages. */
	log(): string;
	stop(): Promise<void>;
}

const entry = join(projectRoot, 'dist', 'server', 'entry.mjs');

export function ensureBuilt(): void {
	if (existsSync(entry)) return;
	const r = spawnSync(process.execPath, [join(projectRoot, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build'], {
		cwd: projectRoot,
		stdio: 'inherit',
	});
	if (r.status !== 0 || !existsSync(entry)) throw new Error(`astro build failed (exit ${r.status}); see its output above`);
}

function exited(child: ChildProcess): Promise<void> {
	return child.exitCode !== null || child.signalCode !== null
		? Promise.resolve()
		: new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Start the built server with `env` added to this process's environment; resolves once it answers. */
export async function startSite(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Site> {
	ensureBuilt();
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	const child = spawn(process.execPath, [entry], {
		cwd: projectRoot,
		env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), ASTRO_NODE_LOGGING: 'disabled' },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
	child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGTERM');
			const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited(child);
			clearTimeout(killer);
		}
	};

	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`the site server exited with ${child.exitCode} before answering:\n${output}`);
		try {
			const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
			await res.body?.cancel();
			if (res.ok) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`the site server did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
		}
		await new Promise((r) => setTimeout(r, 150));
	}
	return { url, log: () => output, stop };
}

export interface StaticSite {
	/** Base URL, `http://127.0.0.1:<port>`, no trailing slash. */
	url: string;
	/** Every path asked for, in order, decoded. */
	requests: string[];
	stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
	'.html': 'text/html',
	'.js': 'text/javascript',
	'.css': 'text/css',
	'.json': 'application/json',
	'.svg': 'image/svg+xml',
};

/**
 * A plain file server over `dist/client` on 127.0.0.1 and a free port: no Astro server, no `/api`.
 * What a static mirror of the site serves when the check server is down.
 */
export async function startStaticSite(): Promise<StaticSite> {
	ensureBuilt();
	const root = join(projectRoot, 'dist', 'client');
	const requests: string[] = [];
	const server = createServer((req, res) => {
		const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
		requests.push(path);
		let file = normalize(join(root, path));
		if (!file.startsWith(root)) return void res.writeHead(403).end();
		if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
		if (!existsSync(file)) return void res.writeHead(404).end();
		res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
		createReadStream(file).pipe(res);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		requests,
		stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
