/**
 * The walking skeleton end to end over real SSH: `kernel.max-map-count` through the CLI against lab
 * hosts whose kernel really reports a limit that is too low and one that is fine (procfs and sysfs
 * values bind-mounted in each host's mount namespace), plus hosts whose key is unknown or changed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { runCheck, runCli } from '../support/cli.ts';
import { labInventory, startHugepageLab, type Lab } from '../support/lab.ts';
import { freePort, startSshd, type Sshd } from '../support/sshd.ts';

let lab: Lab;
let stranger: Sshd;
let inventory: string;
let knownHosts: string;
let changedKnownHosts: string;

beforeAll(async () => {
	({ lab, inventory, knownHosts } = await startHugepageLab());
	// A host whose key nobody recorded, on loopback.
	stranger = await startSshd();
	writeFileSync(inventory, labInventory(lab, { stranger: { sshd: stranger } }));
	// The stranger's address recorded with another host's key: a changed key.
	changedKnownHosts = join(lab.dir, 'known_hosts.changed');
	const other = lab.hosts.get('compute-fine')!.sshd;
	writeFileSync(changedKnownHosts, `[${stranger.address}]:${stranger.port} ${other.hostKeyType} ${other.hostKeyBlob.toString('base64')}\n`);
	console.info(`[lab] mode: ${lab.mode}`);
});

afterAll(async () => {
	await stranger?.stop();
	await lab?.stop();
});

const check = (host: string, kh: string, ...more: string[]) =>
	runCheck({ inventory, knownHosts: kh, stateDir: join(lab.dir, 'state') }, 'kernel.max-map-count', host, [], more);

describe('kernel.max-map-count over SSH, through the CLI', () => {
	it('limit too low for the pages -> fail with the numbers and the fix, exit 1', async () => {
		const r = await check('compute-low', knownHosts);
		expect(r.stderr).toBe('');
		const v = JSON.parse(r.stdout);
		expect(v).toMatchObject({ check: 'kernel.max-map-count', host: 'compute-low', status: 'fail' });
		expect(v.facts.maxMapCount).toBe(65530);
		expect(v.facts.required).toBeGreaterThan(65530);
		expect(v.fix.join('\n')).toMatch(/sysctl -w vm\.max_map_count=\d+/);
		expect(v.fix.join('\n')).toMatch(/\/etc\/sysctl\.d\//);
		expect(v.hostKey).toMatch(/^SHA256:/);
		expect(v.evidence.some((e: { command: string }) => e.command === 'cat /proc/sys/vm/max_map_count')).toBe(true);
		expect(r.code).toBe(1);
	});

	it('limit well above the pages -> pass, exit 0', async () => {
		const r = await check('compute-fine', knownHosts);
		const v = JSON.parse(r.stdout);
		expect(v.status).toBe('pass');
		expect(v.facts.maxMapCount).toBe(262144);
		expect(r.code).toBe(0);
	});

	it('host key not in known_hosts -> error HostKeyUnknown, exit 2, known_hosts untouched', async () => {
		const before = readFileSync(knownHosts, 'utf8');
		const r = await check('stranger', knownHosts);
		const v = JSON.parse(r.stdout);
		expect(v).toMatchObject({ status: 'error', code: 'HostKeyUnknown' });
		expect(v.summary).toContain(`${stranger.port}`);
		expect(v.hint).toContain('ssh-keyscan');
		expect(r.code).toBe(2);
		expect(readFileSync(knownHosts, 'utf8')).toBe(before);
	});

	it('host key changed -> error HostKeyChanged, exit 2', async () => {
		const r = await check('stranger', changedKnownHosts);
		expect(JSON.parse(r.stdout)).toMatchObject({ status: 'error', code: 'HostKeyChanged' });
		expect(r.code).toBe(2);
	});

	it('runbook run gives the same verdict in text, with the next step', async () => {
		const r = await runCli(['run', 'hugepage-map-count', '--host', 'compute-low', '--inventory', inventory, '--known-hosts', knownHosts]);
		expect(r.stdout).toMatch(/^FAIL +kernel\.max-map-count on compute-low/m);
		expect(r.stdout).toContain('/hugepage-map-count/#raise-the-limit');
		expect(r.code).toBe(1);
	});

	it('--dry-run prints the commands and connects to nothing', async () => {
		const r = await check('stranger', knownHosts, '--dry-run');
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('cat /proc/sys/vm/max_map_count');
		expect(r.stdout).toContain('nothing is run');
	});
});

describe('bad input: one line on stderr, exit 2, nothing run', () => {
	it.each([
		[['check', 'kernel.max-map-count', '--host', 'no-such-host'], /UnknownHost/],
		[['check', 'kernel.no-such-check', '--host', 'local'], /UnknownCheck/],
		[['check', 'kernel.max-map-count', '--host', 'local', '--param', 'bogus=1'], /InvalidParams/],
		[['check', 'kernel.max-map-count', '--host', 'local', '--param', 'process=x;rm -rf /'], /InvalidParams/],
		[['run', 'no-such-runbook', '--host', 'local'], /UnknownRunbook/],
		[['check', 'kernel.max-map-count', '--host', 'local', '--timeout', 'soon'], /--timeout/],
		[['check', 'kernel.max-map-count'], /--host/],
		[['check', 'kernel.max-map-count', '--host', 'x', '--inventory', '/nonexistent/inventory.yaml'], /InvalidInventory/],
	])('%j', async (args, pattern) => {
		const r = await runCli(args, { RUNBOOK_STATE_DIR: join(lab.dir, 'state') });
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(pattern);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
		expect(r.stdout).toBe('');
	});
});

describe('kernel.max-map-count over SSH, through `runbook serve` and its API', () => {
	let server: ChildProcess;
	let url: string;

	beforeAll(async () => {
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		server = spawn(
			process.execPath,
			['bin/runbook.js', 'serve', '--port', String(port), '--inventory', inventory, '--known-hosts', knownHosts],
			{
				cwd: projectRoot,
				env: { ...process.env, RUNBOOK_STATE_DIR: join(lab.dir, 'state'), ASTRO_NODE_LOGGING: 'disabled' },
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		let out = '';
		server.stdout!.on('data', (d: Buffer) => (out += d));
		server.stderr!.on('data', (d: Buffer) => (out += d));
		for (let i = 0; ; i++) {
			const ok = await fetch(`${url}/api/hosts`).then(
				(r) => r.ok,
				() => false,
			);
			if (ok) break;
			if (i > 100 || server.exitCode !== null) throw new Error(`runbook serve did not come up:\n${out}`);
			await new Promise((r) => setTimeout(r, 200));
		}
	});

	afterAll(async () => {
		if (server && server.exitCode === null) {
			const gone = new Promise((r) => server.once('exit', r));
			server.kill('SIGTERM');
			await gone;
		}
	});

	async function runViaApi(host: string): Promise<{ events: { type: string; verdict?: Record<string, unknown> }[] }> {
		const res = await fetch(`${url}/api/checks/kernel.max-map-count/run`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ host }),
		});
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toContain('application/x-ndjson');
		const events = (await res.text())
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		return { events };
	}

	it('GET /api/hosts lists the inventory hosts and never a key path', async () => {
		const body = await (await fetch(`${url}/api/hosts`)).text();
		const names = JSON.parse(body).hosts.map((h: { name: string }) => h.name);
		expect(names).toEqual(expect.arrayContaining(['compute-low', 'compute-fine', 'stranger', 'local', 'scenario:hugepages-too-many']));
		expect(body).not.toContain('client_key');
	});

	it.each([
		['compute-low', 'fail'],
		['compute-fine', 'pass'],
		['stranger', 'error'],
	])('POST run on %s streams start, then the verdict %s', async (host, status) => {
		const { events } = await runViaApi(host);
		expect(events[0]!.type).toBe('start');
		const verdicts = events.filter((e) => e.type === 'verdict');
		expect(verdicts).toHaveLength(1);
		expect(verdicts[0]!.verdict).toMatchObject({ host, status });
		if (host === 'stranger') expect(verdicts[0]!.verdict!.code).toBe('HostKeyUnknown');
		if (host === 'compute-low') expect((verdicts[0]!.verdict!.facts as Record<string, number>).maxMapCount).toBe(65530);
	});

	it('an unknown host is refused before anything runs', async () => {
		const res = await fetch(`${url}/api/checks/kernel.max-map-count/run`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ host: 'nowhere' }),
		});
		expect(res.status).toBe(404);
		expect((await res.json()).error.code).toBe('UnknownHost');
	});
});
