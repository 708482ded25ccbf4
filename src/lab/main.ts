/**
 * `npm run lab`: the integration tests' live lab for hands-on sessions, where the machine allows
 * network namespaces (Linux, root).
 *
 *   npm run lab                  build it (hugepage hosts, MTU lab, redirect lab, ECMP lab), print
 *                                its inventory, known_hosts, hosts and example commands, and return;
 *                                a detached keeper process (keeper.ts) holds the sshd's
 *   npm run lab -- status        what of it exists
 *   npm run lab -- traffic on    start the traffic the sampled checks need (off by default)
 *   npm run lab -- traffic off
 *   npm run lab -- down          remove every trace: namespaces, links, processes, the folder
 *
 * Exit codes: 0 done (status: the lab is up); 1 status: not up, or down left something behind;
 * 2 wrong invocation, or the machine cannot build the lab, with one line saying why.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mtuLabUnavailable } from '../../test/support/mtu-lab.ts';
import { quoteArgv } from '../core/argv.ts';
import {
	alive,
	cmdline,
	findTraces,
	isEmpty,
	KEEPER_PATH,
	labDir,
	labLinks,
	labNamespaces,
	LAB_PREFIX,
	readState,
	type LabState,
	type Traces,
} from './state.ts';

const run = promisify(execFile);

class Refusal extends Error {
	constructor(
		message: string,
		readonly code = 2,
	) {
		super(message);
	}
}

const out = (lines: string[]) => process.stdout.write(lines.join('\n') + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(test: () => boolean | Promise<boolean>, ms: number, every = 200): Promise<boolean> {
	const until = Date.now() + ms;
	for (;;) {
		if (await test()) return true;
		if (Date.now() > until) return false;
		await sleep(every);
	}
}

function kill(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(pid, signal);
	} catch {
		// already gone
	}
}

/** Why this machine cannot hold the lab, or null. */
async function unavailable(): Promise<string | null> {
	if (process.platform !== 'linux') return `the lab needs Linux network namespaces; this is ${process.platform}`;
	return mtuLabUnavailable();
}

function describe(st: LabState, dir: string, headline: string): string[] {
	const flags = ['--inventory', st.inventory, '--known-hosts', st.knownHosts];
	const lines = [headline, '', `  inventory    ${st.inventory}`, `  known_hosts  ${st.knownHosts}`, ''];
	const groups = [...new Set(st.hosts.map((h) => h.group))];
	const w = Math.max(...st.hosts.map((h) => h.name.length));
	const aw = Math.max(...st.hosts.map((h) => `${h.address}:${h.port}`.length));
	for (const g of groups) {
		const hosts = st.hosts.filter((h) => h.group === g);
		lines.push(`${g} (${hosts[0]!.runbooks.join(', ')})`);
		for (const h of hosts)
			lines.push(`  ${h.name.padEnd(w)}  ${`${h.address}:${h.port}`.padEnd(aw)}  ${h.healthy ? 'healthy' : 'BROKEN '}  ${h.what}`);
	}
	lines.push('', 'Try:');
	const seen = new Set<string>();
	for (const h of st.hosts) {
		for (const t of h.try) {
			const cmd = `npx runbook check ${quoteArgv([...t.args.slice(0, 1), '--host', t.host, ...t.args.slice(1), ...flags])}`;
			if (!seen.has(cmd)) lines.push(`  ${cmd}`);
			seen.add(cmd);
		}
	}
	lines.push(
		`  npx runbook serve ${quoteArgv(flags)}    (after npm run build: every page's host picker lists the lab hosts)`,
		'',
		st.traffic === 'on'
			? 'Traffic is on (pings through the hairpin, 400 UDP flows on ecmp-src and ecmp-src2): npm run lab -- traffic off stops it.'
			: 'Traffic for the sampled checks (net.icmp-redirects, net.link-balance) is off: npm run lab -- traffic on starts it.',
		`Status: npm run lab -- status. Remove everything: npm run lab -- down. Keeper log: ${join(dir, 'keeper.log')}`,
	);
	return lines;
}

function traceLines(t: Traces): string[] {
	const lines: string[] = [];
	if (t.keepers.length) lines.push(`  keeper ${t.keepers.map((k) => `pid ${k.pid} (${k.dir})`).join(', ')}`);
	if (t.namespaces.length) lines.push(`  ${t.namespaces.length} network namespaces: ${t.namespaces.join(' ')}`);
	if (t.links.length) lines.push(`  ${t.links.length} links in this namespace: ${t.links.join(' ')}`);
	for (const p of t.processes) {
		const argv = p.argv.replace(/\s+/g, ' ');
		lines.push(`  pid ${p.pid}: ${argv.length > 110 ? `${argv.slice(0, 110)}…` : argv}`);
	}
	return lines;
}

async function up(): Promise<number> {
	const why = await unavailable();
	if (why) throw new Refusal(`cannot build the lab here: ${why}`);
	const dir = labDir();
	const running = (await findTraces(dir)).keepers[0];
	if (running) {
		const st = readState(running.dir);
		if (st?.phase === 'up') {
			out(describe(st, running.dir, `Runbook lab: already up since ${st.startedAt} (keeper pid ${running.pid}).`));
			return 0;
		}
		throw new Refusal(
			`a lab keeper (pid ${running.pid}, ${running.dir}) is running but its lab is not up; run npm run lab -- down, then try again`,
		);
	}
	const traces = await findTraces(dir);
	if (!isEmpty(traces))
		throw new Refusal(
			`an earlier lab left ${traces.namespaces.length} namespaces, ${traces.links.length} links and ${traces.processes.length} processes behind; run npm run lab -- down first`,
		);

	rmSync(dir, { recursive: true, force: true });
	mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
	const log = openSync(join(dir, 'keeper.log'), 'a');
	process.stdout.write('Building the lab in network namespaces (hugepage hosts, MTU lab, redirect lab, ECMP lab)...\n');
	const keeper = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), KEEPER_PATH, dir], {
		detached: true,
		stdio: ['ignore', log, log],
		env: { ...process.env, TMPDIR: join(dir, 'tmp') },
	});
	closeSync(log);
	let exited: number | null | undefined;
	keeper.once('exit', (code) => (exited = code));
	const settled = await waitFor(() => exited !== undefined || ['up', 'failed'].includes(readState(dir)?.phase ?? ''), 300_000);
	const st = readState(dir);
	if (st?.phase === 'up' && exited === undefined) {
		keeper.unref();
		out(
			describe(
				st,
				dir,
				`Runbook lab: up, ${st.hosts.length} hosts in network namespaces (prefix ${LAB_PREFIX}), keeper pid ${keeper.pid}.`,
			),
		);
		return 0;
	}
	if (!settled) kill(keeper.pid!, 'SIGTERM');
	await waitFor(() => exited !== undefined, 60_000);
	throw new Refusal(
		`the lab did not come up: ${st?.error ?? (settled ? `the keeper exited (${exited})` : 'timed out after 300 s')}; see ${join(dir, 'keeper.log')}, then npm run lab -- down`,
	);
}

async function status(): Promise<number> {
	const dir = labDir();
	const t = await findTraces(dir);
	const keeper = t.keepers[0];
	const st = keeper ? readState(keeper.dir) : null;
	if (keeper && st) {
		const lines = [
			`Runbook lab: ${st.phase}${st.error ? ` (${st.error})` : ''} since ${st.startedAt}, keeper pid ${keeper.pid}, folder ${keeper.dir}, traffic ${st.traffic}.`,
		];
		const w = Math.max(...st.hosts.map((h) => h.name.length));
		const aw = Math.max(...st.hosts.map((h) => `${h.address}:${h.port}`.length));
		const nw = Math.max(...st.hosts.map((h) => h.netns.length));
		for (const h of st.hosts) {
			const sshd = cmdline(h.sshdPid)?.some((a) => a.includes('sshd')) === true;
			const where = `${h.address}:${h.port}`.padEnd(aw);
			lines.push(
				`  ${h.name.padEnd(w)}  ${where}  netns ${h.netns.padEnd(nw)}  sshd ${sshd ? `running (pid ${h.sshdPid})` : 'NOT RUNNING'}`,
			);
		}
		lines.push(`  inventory ${st.inventory}`, `  known_hosts ${st.knownHosts}`, 'What exists:', ...traceLines(t));
		out(lines);
		return st.phase === 'up' ? 0 : 1;
	}
	if (isEmpty(t)) {
		out(['Runbook lab: not up; nothing of it is on this machine.']);
		return 1;
	}
	out(['Runbook lab: not running, but traces of it remain (npm run lab -- down removes them):', ...traceLines(t)]);
	return 1;
}

async function traffic(mode: string | undefined): Promise<number> {
	if (mode !== 'on' && mode !== 'off') throw new Refusal(`traffic takes on or off, got ${mode === undefined ? 'nothing' : `"${mode}"`}`);
	const keeper = (await findTraces(labDir())).keepers[0];
	const st = keeper ? readState(keeper.dir) : null;
	if (!keeper || st?.phase !== 'up') throw new Refusal('no lab is up; npm run lab starts one');
	kill(keeper.pid, mode === 'on' ? 'SIGUSR1' : 'SIGUSR2');
	if (!(await waitFor(() => readState(keeper.dir)?.traffic === mode, 60_000)))
		throw new Refusal(`the keeper did not turn traffic ${mode} within 60 s; see ${join(keeper.dir, 'keeper.log')}`);
	out([
		mode === 'on'
			? 'Traffic on: redirect-host pings through the hairpin (the router sends redirects), 400 UDP flows run on ecmp-src and ecmp-src2. net.icmp-redirects and net.link-balance now have something to measure.'
			: 'Traffic off.',
	]);
	return 0;
}

async function down(): Promise<number> {
	if (process.getuid?.() !== 0) throw new Refusal('removing the lab needs root (network namespaces, links)');
	const dir = labDir();
	const before = await findTraces(dir);
	const st = readState(dir);
	// The keeper first, so it stops its own sshd's and generators the way they were started.
	for (const k of before.keepers) kill(k.pid, 'SIGTERM');
	if (!(await waitFor(() => before.keepers.every((k) => !alive(k.pid)), 60_000))) for (const k of before.keepers) kill(k.pid, 'SIGKILL');

	const t = await findTraces(dir);
	const pids = new Set([...t.keepers.map((k) => k.pid), ...t.processes.map((p) => p.pid)]);
	// Recorded sshd pids, when still sshd's of this lab (a pid may have been reused since).
	for (const h of st?.hosts ?? []) if (cmdline(h.sshdPid)?.some((a) => a.includes(`${dir}/`))) pids.add(h.sshdPid);
	for (const pid of pids) kill(pid, 'SIGKILL');
	await waitFor(() => [...pids].every((p) => !alive(p)), 10_000);
	for (const ns of await labNamespaces()) await run('ip', ['netns', 'delete', ns]).catch(() => {});
	// Deleting a namespace takes its veth ends, and their peers here, with it, but not at once.
	await waitFor(async () => (await labLinks()).length === 0, 5_000);
	for (const link of await labLinks()) await run('ip', ['link', 'delete', link]).catch(() => {});
	for (const d of new Set([dir, ...before.keepers.map((k) => k.dir)])) rmSync(d, { recursive: true, force: true });

	let left: Traces = t;
	await waitFor(async () => isEmpty((left = await findTraces(dir))), 10_000, 500);
	const removed = [
		`${before.keepers.length} keeper${before.keepers.length === 1 ? '' : 's'}`,
		`${pids.size - t.keepers.length} other processes`,
		`${before.namespaces.length} network namespaces`,
		`${before.links.length} links`,
		dir,
	];
	if (!isEmpty(left)) {
		out([`Runbook lab: removed what it could, but some remains:`, ...traceLines(left)]);
		return 1;
	}
	out([
		isEmpty(before) && st === null ? 'Runbook lab: nothing to remove; no lab was up.' : `Runbook lab: down. Removed ${removed.join(', ')}.`,
	]);
	return 0;
}

const HELP = `usage: npm run lab [-- up | status | traffic on|off | down]
  up (default)    build the lab and print its inventory, hosts and example commands
  status          what of the lab exists on this machine
  traffic on|off  start or stop the traffic the sampled checks need (off at first)
  down            remove every trace: namespaces, links, processes, ${labDir()}`;

const [command = 'up', ...rest] = process.argv.slice(2);
try {
	let code: number;
	if (command === 'up' && rest.length === 0) code = await up();
	else if (command === 'status' && rest.length === 0) code = await status();
	else if (command === 'down' && rest.length === 0) code = await down();
	else if (command === 'traffic' && rest.length <= 1) code = await traffic(rest[0]);
	else if (command === 'help' || command === '--help' || command === '-h') {
		out([HELP]);
		code = 0;
	} else throw new Refusal(`unknown command "${[command, ...rest].join(' ')}"; use up, status, traffic on|off or down`);
	process.exitCode = code;
} catch (e) {
	if (e instanceof Refusal) {
		process.stderr.write(`runbook lab: ${e.message}\n`);
		process.exitCode = e.code;
	} else {
		process.stderr.write(`runbook lab: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
		process.exitCode = 2;
	}
}
