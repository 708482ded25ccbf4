/**
 * Where `npm run lab` keeps its lab, and how it finds every trace of it again.
 *
 * Everything the lab makes in this machine's root namespace starts with `LAB_PREFIX`: network
 * namespaces (`rblab-...`, `rblabmtu-...`) and links (`rblabv...`, `rblabm...`); every process it
 * starts lives in one of those namespaces (sshd, traffic generators) or names the lab folder on its
 * command line (the keeper). So `down` finds all of it from the machine alone, with the state file
 * lost, and touches nothing else: no other namespace, link or process carries that prefix or path.
 *
 * The folder, `<stateDir>/lab/`:
 *   state.json       LabState, written by the keeper
 *   inventory.yaml   every lab host, grouped by runbook
 *   known_hosts      every lab host's key
 *   keeper.log       the keeper's output (sshd logs, errors)
 *   tmp/             TMPDIR of the keeper: sshd keys and configs, bind-mounted procfs values
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stateDir } from '../core/paths.ts';

const run = promisify(execFile);

/** First letters of every namespace and link of the lab. */
export const LAB_PREFIX = 'rblab';

/** The keeper's source file; a process running it is a lab keeper, and its next argument is its folder. */
export const KEEPER_PATH = fileURLToPath(new URL('./keeper.ts', import.meta.url));

export const labDir = (): string => join(stateDir(), 'lab');

/** One lab host as the inventory names it, with what is wrong on it. */
export interface LabHostInfo {
	name: string;
	/** Inventory group: the lab it belongs to. */
	group: string;
	/** Runbooks it exercises. */
	runbooks: string[];
	address: string;
	port: number;
	netns: string;
	/** sshd's own pid (the namespace and unshare wrappers exec it). */
	sshdPid: number;
	healthy: boolean;
	/** What is broken on it, or why it is a healthy look-alike. */
	what: string;
	/** `runbook check <args> --host <host>` runs that show it (inventory flags added when printed). */
	try: { host: string; args: string[] }[];
}

export interface LabState {
	prefix: string;
	keeperPid: number;
	startedAt: string;
	/** `building` until every host answers, then `up`; `failed` with `error` when the build failed. */
	phase: 'building' | 'up' | 'failed';
	error?: string;
	inventory: string;
	knownHosts: string;
	hosts: LabHostInfo[];
	/** The traffic generators of the sampled labs (redirects, ECMP flows): off until asked for. */
	traffic: 'off' | 'on';
}

export function readState(dir: string = labDir()): LabState | null {
	try {
		return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState;
	} catch {
		return null;
	}
}

export function writeState(dir: string, state: LabState): void {
	const tmp = join(dir, `state.json.${process.pid}.tmp`);
	writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
	renameSync(tmp, join(dir, 'state.json'));
}

/** The argv of a process, or null when it is gone or not readable. */
export function cmdline(pid: number): string[] | null {
	try {
		const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		return raw === '' ? null : raw.replace(/\0$/, '').split('\0');
	} catch {
		return null;
	}
}

export const alive = (pid: number): boolean => cmdline(pid) !== null;

function allPids(): number[] {
	return readdirSync('/proc')
		.filter((n) => /^\d+$/.test(n))
		.map(Number)
		.filter((p) => p !== process.pid);
}

/** Running keepers, with the folder each keeps its lab in. */
export function keepers(): { pid: number; dir: string }[] {
	const out: { pid: number; dir: string }[] = [];
	for (const pid of allPids()) {
		const argv = cmdline(pid);
		const i = argv?.indexOf(KEEPER_PATH) ?? -1;
		if (argv && i >= 0 && argv[i + 1]) out.push({ pid, dir: argv[i + 1]! });
	}
	return out;
}

export async function labNamespaces(): Promise<string[]> {
	const { stdout } = await run('ip', ['netns', 'list']);
	return stdout
		.split('\n')
		.map((l) => l.trim().split(/\s+/)[0] ?? '')
		.filter((n) => n.startsWith(LAB_PREFIX));
}

export async function labLinks(): Promise<string[]> {
	const { stdout } = await run('ip', ['-o', 'link', 'show']);
	return [...stdout.matchAll(/^\d+:\s+([^:@\s]+)[@:]/gm)].map((m) => m[1]!).filter((n) => n.startsWith(LAB_PREFIX));
}

export async function netnsPids(ns: string): Promise<number[]> {
	try {
		const { stdout } = await run('ip', ['netns', 'pids', ns]);
		return stdout.split(/\s+/).filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

export interface Traces {
	keepers: { pid: number; dir: string }[];
	namespaces: string[];
	links: string[];
	/** Processes inside the lab's namespaces, and any other naming `dir` on its command line. */
	processes: { pid: number; argv: string }[];
}

/** Every trace of a lab on this machine: namespaces and links by prefix, processes in them or naming `dir`. */
export async function findTraces(dir: string = labDir()): Promise<Traces> {
	const namespaces = await labNamespaces();
	const links = await labLinks();
	const ks = keepers();
	const pids = new Set<number>();
	for (const ns of namespaces) for (const p of await netnsPids(ns)) pids.add(p);
	for (const pid of allPids()) if (cmdline(pid)?.some((a) => a === dir || a.includes(`${dir}/`))) pids.add(pid);
	for (const k of ks) pids.delete(k.pid);
	const processes = [...pids]
		.sort((a, b) => a - b)
		.map((pid) => ({ pid, argv: cmdline(pid)?.join(' ') ?? '' }))
		.filter((p) => p.argv !== '');
	return { keepers: ks, namespaces, links, processes };
}

export const isEmpty = (t: Traces): boolean => t.keepers.length + t.namespaces.length + t.links.length + t.processes.length === 0;
