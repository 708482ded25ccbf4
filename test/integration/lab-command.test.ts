/**
 * `npm run lab`, as a trainer runs it: up (and the command returns while the lab keeps serving),
 * status, a check over SSH against a host from the printed inventory, down, and then nothing of
 * it on the machine: no namespace or link with its prefix, no sshd with its config, no folder.
 * The script is run exactly as package.json spells it, with this node.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { LAB_PREFIX } from '../../src/lab/state.ts';
import { runCheck, type CliResult } from '../support/cli.ts';
import { mtuLabUnavailable } from '../support/mtu-lab.ts';

const run = promisify(execFile);
const unavailable = await mtuLabUnavailable();
const stateDir = mkdtempSync(join(tmpdir(), 'runbook-lab-command-'));
const labFolder = join(stateDir, 'lab');

/** `npm run lab -- <args>`: the script from package.json, its `node` being this node. */
function lab(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
	const script = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.lab!;
	const [node, ...argv] = script.split(' ');
	expect(node).toBe('node');
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[...argv, ...args],
			{ cwd: projectRoot, env: { ...process.env, RUNBOOK_STATE_DIR: stateDir, ...env }, timeout: 300_000 },
			(err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
		);
	});
}

/** Processes whose command line names the lab folder (sshd -f <folder>/tmp/.../sshd_config, the keeper). */
function labProcesses(): string[] {
	const out: string[] = [];
	for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
		try {
			const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
			if (argv.includes(labFolder)) out.push(`${pid}: ${argv.replaceAll('\0', ' ')}`);
		} catch {
			// exited while listed
		}
	}
	return out;
}

afterAll(async () => {
	// A test that failed half way must not leave the lab behind.
	if (!unavailable && existsSync(labFolder)) await lab(['down']);
	rmSync(stateDir, { recursive: true, force: true });
});

describe.skipIf(unavailable !== null)(`npm run lab (skipped when ${unavailable}: the lab needs root and network namespaces)`, () => {
	let up: CliResult;
	const printed = (what: 'inventory' | 'known_hosts') => new RegExp(`^  ${what} +(\\S+)$`, 'm').exec(up.stdout)?.[1];

	it('up: builds every lab, returns, and prints the inventory, known_hosts, each host with what is broken, and example commands', async () => {
		up = await lab([]);
		expect(up.stderr).toBe('');
		expect(up.code).toBe(0);
		expect(printed('inventory')).toBe(join(labFolder, 'inventory.yaml'));
		expect(printed('known_hosts')).toBe(join(labFolder, 'known_hosts'));
		for (const host of [
			'compute-low',
			'compute-fine',
			'mtu-host',
			'mtu-bridge',
			'mtu-clean',
			'redirect-router',
			'redirect-host',
			'redirect-clean',
			'ecmp-src',
			'ecmp-src2',
			'ecmp-plain',
		]) {
			expect(up.stdout).toMatch(new RegExp(`^  ${host} +\\S+:\\d+ +(BROKEN|healthy) +\\S`, 'm'));
		}
		expect(up.stdout).toMatch(/^ {2}compute-low .* BROKEN +vm\.max_map_count 65530/m);
		expect(up.stdout).toContain(
			`npx runbook check kernel.max-map-count --host compute-low --inventory ${printed('inventory')} --known-hosts ${printed('known_hosts')}`,
		);
		expect(up.stdout).toContain(`npx runbook serve --inventory ${printed('inventory')} --known-hosts ${printed('known_hosts')}`);
		expect(up.stdout).toContain('npm run lab -- traffic on');
		const { stdout } = await run('ip', ['netns', 'list']);
		expect(stdout).toMatch(new RegExp(`^${LAB_PREFIX}-`, 'm'));
	}, 300_000);

	it('up again: says it is already up, builds nothing more', async () => {
		const { stdout: before } = await run('ip', ['netns', 'list']);
		const again = await lab(['up']);
		expect(again.code).toBe(0);
		expect(again.stdout).toMatch(/already up/);
		const { stdout: after } = await run('ip', ['netns', 'list']);
		expect(
			after
				.split('\n')
				.filter((l) => l.startsWith(LAB_PREFIX))
				.sort(),
		).toEqual(
			before
				.split('\n')
				.filter((l) => l.startsWith(LAB_PREFIX))
				.sort(),
		);
	});

	it('status: every host with its running sshd, and the namespaces and links that exist', async () => {
		const r = await lab(['status']);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^Runbook lab: up since /);
		expect(r.stdout).toMatch(/^ {2}compute-low +\S+:\d+ +netns rblab-\S+ +sshd running \(pid \d+\)$/m);
		expect(r.stdout).not.toContain('NOT RUNNING');
		expect(r.stdout).toMatch(/^ {2}\d+ network namespaces: rblab/m);
	});

	it('a check over SSH against a lab host, from the printed inventory and known_hosts, after `up` returned', async () => {
		const target = { inventory: printed('inventory')!, knownHosts: printed('known_hosts')!, stateDir: join(stateDir, 'cli') };
		const low = await runCheck(target, 'kernel.max-map-count', 'compute-low');
		expect(low.stderr).toBe('');
		expect(JSON.parse(low.stdout)).toMatchObject({ host: 'compute-low', status: 'fail', facts: { maxMapCount: 65530 } });
		expect(low.code).toBe(1);
		const bridge = await runCheck(target, 'net.mtu-chain', 'mtu-bridge');
		expect(JSON.parse(bridge.stdout)).toMatchObject({ status: 'fail', facts: { device: 'sp' } });
	});

	it('down: removes every trace; status then finds nothing', async () => {
		const r = await lab(['down']);
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^Runbook lab: down\. Removed 1 keeper, .* network namespaces, .* links, /);
		const { stdout: spaces } = await run('ip', ['netns', 'list']);
		expect(spaces.split('\n').filter((l) => l.startsWith(LAB_PREFIX))).toEqual([]);
		const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
		expect(links.split('\n').filter((l) => l.includes(LAB_PREFIX))).toEqual([]);
		expect(labProcesses()).toEqual([]);
		expect(existsSync(labFolder)).toBe(false);
		const status = await lab(['status']);
		expect(status.stdout).toBe('Runbook lab: not up; nothing of it is on this machine.\n');
		expect(status.code).toBe(1);
	}, 120_000);

	it('a command it does not know -> one line, exit 2', async () => {
		const r = await lab(['sideways']);
		expect(r.stderr).toBe('runbook lab: unknown command "sideways"; use up, status, traffic on|off or down\n');
		expect(r.code).toBe(2);
	});
});

/** Whether `nobody` can run this Node and read the project (not when either sits under a 0700 folder, as in a mktemp clone). */
function nobodyCanRunHere(): boolean {
	if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/runuser')) return false;
	try {
		execFileSync(
			'/usr/sbin/runuser',
			['-u', 'nobody', '--', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(join(projectRoot, 'package.json'))})`],
			{ stdio: 'ignore' },
		);
		return true;
	} catch {
		return false;
	}
}

describe.skipIf(!nobodyCanRunHere())(
	'npm run lab as a user who may not make namespaces (skipped unless root with runuser, and nobody may run this Node and read the project)',
	() => {
		it('up as nobody -> one line saying why, exit 2, nothing made', async () => {
			const script = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
				.lab!;
			const r = await new Promise<CliResult>((resolve) => {
				execFile(
					'/usr/sbin/runuser',
					['-u', 'nobody', '--', process.execPath, ...script.split(' ').slice(1)],
					{ cwd: projectRoot, env: { ...process.env, RUNBOOK_STATE_DIR: join(stateDir, 'nobody') } },
					(err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
				);
			});
			expect(r.stderr).toMatch(/^runbook lab: cannot build the lab here: not root: [^\n]+\n$/);
			expect(r.stdout).toBe('');
			expect(r.code).toBe(2);
			expect(existsSync(join(stateDir, 'nobody'))).toBe(false);
		});
	},
);
