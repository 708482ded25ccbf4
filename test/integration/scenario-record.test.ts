/**
 * `runbook scenario record` against a real lab host over SSH (test/support/lab.ts: compute-low, whose
 * kernel really reports vm.max_map_count 65530 for 40960 hugepages), then the same checks against
 * the written file as `scenario:<name> --scenarios <dir>`: the verdicts must be the same. With
 * --mask, no address, MAC or name of the lab host may be left in the file.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { startHugepageLab, type Lab } from '../support/lab.ts';

const run = promisify(execFile);

let lab: Lab;
let inventory: string;
let knownHosts: string;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
	({ lab, inventory, knownHosts } = await startHugepageLab());
	dir = mkdtempSync(join(tmpdir(), 'runbook-record-'));
	env = { RUNBOOK_STATE_DIR: join(dir, 'state') };
	console.info(`[lab] mode: ${lab.mode}`);
});

afterAll(async () => {
	await lab?.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

const hostFlags = () => ['--inventory', inventory, '--known-hosts', knownHosts];
const record = (args: string[]) => runCli(['scenario', 'record', '--host', 'compute-low', ...hostFlags(), ...args], env);
/** `runbook check <id> --host scenario:<name> --scenarios <dir> --json`: the verdict. */
async function onScenario(name: string, id: string, params: string[] = []) {
	const r = await runCli(
		['check', id, '--host', `scenario:${name}`, '--scenarios', join(dir, 'out'), '--json', ...params.flatMap((p) => ['--param', p])],
		env,
	);
	expect(r.stderr).toBe('');
	return JSON.parse(r.stdout) as { status: string; facts: Record<string, unknown> };
}
async function onHost(id: string, params: string[] = []) {
	const r = await runCli(['check', id, '--host', 'compute-low', ...hostFlags(), '--json', ...params.flatMap((p) => ['--param', p])], env);
	expect(r.stderr).toBe('');
	return JSON.parse(r.stdout) as { status: string; facts: Record<string, unknown> };
}

describe('runbook scenario record from a real host over SSH', () => {
	const file = () => join(dir, 'out', 'lab-compute-low.yaml');

	it('kernel.max-map-count and net.icmp-redirects -> a scenario with files, sampled counters as lists, expect and TODO placeholders', async () => {
		const started = Date.now();
		const r = await record([
			'--check',
			'kernel.max-map-count',
			'--check',
			'net.icmp-redirects',
			'--param',
			'intervalMs=500',
			'--out',
			file(),
		]);
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(`Wrote ${file()}`);
		expect(r.stdout).toMatch(/kernel\.max-map-count +host fail +file fail +same/);
		expect(r.stdout).toMatch(/net\.icmp-redirects +host (\w+) +file \1 +same/);
		expect(r.stdout).toContain('Verdicts match.');

		const text = readFileSync(file(), 'utf8');
		const header = text.slice(0, text.indexOf('\nname:'));
		expect(header).toMatch(
			/^# Recorded by `runbook scenario record` \(runbook-kb \d+\.\d+\.\d+\) from host compute-low \(linux\) at (\S+)\.$/m,
		);
		const at = Date.parse(/ at (\S+)\.$/m.exec(header)![1]!);
		expect(at).toBeGreaterThanOrEqual(started - 1000);
		expect(header).toMatch(/^# TODO: /m);
		expect(header).toContain('net.icmp-redirects --param intervalMs=500');

		const s = parse(text);
		expect(s).toMatchObject({ name: 'lab-compute-low', runbook: 'hugepage-map-count', platform: 'linux', healthy: false });
		for (const field of ['title', 'brief', 'cause']) expect(s[field]).toMatch(/^TODO: /);
		expect(s.expect['kernel.max-map-count']).toBe('fail');
		expect(s.files['/proc/sys/vm/max_map_count']).toBe('65530\n');
		expect(s.files['/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages']).toBe('40960\n');
		// The SSH session's own packets move the namespace's IP counters between the two samples.
		expect(Array.isArray(s.files['/proc/net/snmp'])).toBe(true);
		expect(s.files['/proc/net/snmp']).toHaveLength(2);
		expect(s.files['/proc/net/snmp'][0]).not.toBe(s.files['/proc/net/snmp'][1]);
		expect(s.commands['pidof ovs-vswitchd']).toEqual({ stdout: '', code: 1 });
		expect(s.commands['ls /sys/kernel/mm/hugepages'].stdout).toContain('hugepages-2048kB\n');
	});

	it('the same checks on scenario:<name> --scenarios <dir> give the same verdicts as on the host', async () => {
		const recorded = parse(readFileSync(file(), 'utf8')).expect;
		const mapCount = await onScenario('lab-compute-low', 'kernel.max-map-count');
		expect(mapCount.status).toBe(recorded['kernel.max-map-count']);
		expect(mapCount.facts.maxMapCount).toBe(65530);
		expect((await onScenario('lab-compute-low', 'net.icmp-redirects', ['intervalMs=500'])).status).toBe(recorded['net.icmp-redirects']);
		expect((await onHost('kernel.max-map-count')).status).toBe(mapCount.status);
	});

	it('an existing file is not overwritten without --force (one line, exit 2); with --force it is', async () => {
		const before = readFileSync(file(), 'utf8');
		const r = await record(['--check', 'kernel.max-map-count', '--out', file()]);
		expect(r.stderr).toBe(`runbook: InvalidArgument: ${file()} already exists; pass --force to overwrite it (Run \`runbook --help\`.)\n`);
		expect(r.code).toBe(2);
		expect(readFileSync(file(), 'utf8')).toBe(before);
		const forced = await record(['--check', 'kernel.max-map-count', '--out', file(), '--force']);
		expect(forced.code).toBe(0);
		expect(parse(readFileSync(file(), 'utf8')).expect).toEqual({ 'kernel.max-map-count': 'fail' });
	});

	it('--mask: no address, MAC or name of the lab host in the file, and the checks decide the same on it', async () => {
		const host = lab.hosts.get('compute-low')!;
		const macs: string[] = [];
		if (host.netns) {
			const { stdout } = await run('ip', ['-n', host.netns, '-j', 'link', 'show', 'eth0']);
			macs.push((JSON.parse(stdout) as { address: string }[])[0]!.address);
		}
		const out = join(dir, 'out', 'masked.yaml');
		const r = await record([
			'--check',
			'kernel.max-map-count',
			'--check',
			'net.ecmp-routes',
			'--check',
			'net.mtu-chain',
			'--out',
			out,
			'--mask',
		]);
		expect(r.stderr).toBe('');
		expect(r.stdout).toMatch(/^Masked: \d+ IPv4 address(es)?, .*compute-low -> host1/m);
		expect(r.stdout).toContain('Masking can change what a parser decides');
		expect(r.stdout).toMatch(/net\.ecmp-routes +host (\w+) +file \1 +same/);
		expect(r.stdout).toContain('Verdicts match.');
		expect(r.code).toBe(0);

		const text = readFileSync(out, 'utf8');
		expect(text).not.toContain(host.sshd.address);
		expect(text).not.toMatch(/198\.1[89]\.\d+\.\d+/);
		expect(text).not.toContain('compute-low');
		for (const mac of macs) expect(text.toLowerCase()).not.toContain(mac.toLowerCase());
		if (lab.mode === 'netns') {
			// The addresses were there to mask: the route to the management link is in `ip route`.
			expect(text).toMatch(/192\.0\.2\.\d+/);
			expect(text).toMatch(/02:00:00:00:00:0\d/);
		}
		const s = parse(text);
		for (const [id, status] of Object.entries(s.expect)) expect((await onScenario('masked', id)).status).toBe(status);
	});

	it('bad input -> one line on stderr, exit 2, nothing written', async () => {
		const cases: [string[], RegExp][] = [
			[['--check', 'kernel.no-such-check'], /^runbook: UnknownCheck: /],
			[
				['--check', 'kernel.max-map-count', '--param', 'colour=blue'],
				/^runbook: InvalidParams: --param colour=blue: none of kernel\.max-map-count takes "colour"/,
			],
			[
				['--check', 'kernel.max-map-count', '--check', 'kernel.max-map-count'],
				/^runbook: InvalidArgument: --check kernel\.max-map-count is given twice/,
			],
			[['--check', 'kernel.max-map-count', '--name', 'Not_Kebab'], /^runbook: InvalidArgument: --name must be kebab-case/],
			[
				['--check', 'kernel.max-map-count', '--name', 'hugepages-too-many', '--out', join(dir, 'out', 'hugepages-too-many.yaml')],
				/^runbook: InvalidArgument: a scenario named hugepages-too-many already exists/,
			],
			[['--check', 'kernel.max-map-count', '--out', join(dir, 'out', 'x.txt')], /^runbook: InvalidArgument: --out must name a \.yaml file/],
		];
		for (const [args, message] of cases) {
			const r = await record(args);
			expect(r.stderr, args.join(' ')).toMatch(message);
			expect(r.stderr.trim().split('\n')).toHaveLength(1);
			expect(r.code).toBe(2);
		}
		expect(existsSync(join(dir, 'out', 'hugepages-too-many.yaml'))).toBe(false);
		const noCheck = await runCli(['scenario', 'record', '--host', 'compute-low', ...hostFlags()], env);
		expect(noCheck.stderr).toBe("runbook: required option '--check <check-id>' not specified\n");
		expect(noCheck.code).toBe(2);
	});

	it('a host whose key is not known -> HostKeyUnknown, nothing recorded, no file', async () => {
		const empty = join(dir, 'empty_known_hosts');
		writeFileSync(empty, '');
		const out = join(dir, 'out', 'unknown-key.yaml');
		const r = await runCli(
			[
				'scenario',
				'record',
				'--host',
				'compute-low',
				'--inventory',
				inventory,
				'--known-hosts',
				empty,
				'--check',
				'kernel.max-map-count',
				'--out',
				out,
			],
			env,
		);
		expect(r.stderr).toMatch(/^runbook: HostKeyUnknown: nothing recorded: kernel\.max-map-count on compute-low: /);
		expect(r.code).toBe(2);
		expect(existsSync(out)).toBe(false);
	});
});
