/**
 * Guided diagnosis from the terminal (issue 7): `runbook run` through the real bin against the
 * scenario hosts (served over SSH by the built-in scenario server), and against a real OpenSSH
 * `sshd` named by an inventory group whose variables look secret. Also the per-host probe cache,
 * on the local transport, where a file changed between two reads shows which answer came from the
 * host and which from the cache.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/transport/types.ts';
import { createLocalTransport } from '../../src/transport/local.ts';
import { createCtx, ProbeCache } from '../../src/runner/ctx.ts';
import { runCli } from '../support/cli.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const state = mkdtempSync(join(tmpdir(), 'runbook-diagnosis-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const run = (...args: string[]) => runCli(['run', ...args], { RUNBOOK_STATE_DIR: state });

interface JsonLine {
	check?: string;
	status?: string;
	hostKey?: string;
	diagnosis?: {
		host: string;
		status: string;
		likelyCause: { check: string } | null;
		fixStep: { href: string } | null;
		steps: { check: string; commands: string[] }[];
		probeCacheHits: number;
	};
	fleet?: { summary: string; outliers: { host: string; check: string }[]; grid: { host: string }[] };
}
const lines = (stdout: string) =>
	stdout
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l) as JsonLine);

describe('runbook run on one scenario host', () => {
	it('hugepages-too-many: the verdict, then the diagnosis naming the cause and the step that fixes it; exit 1', async () => {
		const r = await run('hugepage-map-count', '--host', 'scenario:hugepages-too-many');
		expect(r.stderr).toBe('');
		expect(r.code).toBe(1);
		expect(r.stdout).toMatch(/^FAIL +kernel\.max-map-count on scenario:hugepages-too-many/m);
		const diagnosis = r.stdout.slice(r.stdout.indexOf('\nDiagnosis: '));
		expect(diagnosis).toMatch(/^Diagnosis: FAIL hugepage-map-count on scenario:hugepages-too-many$/m);
		expect(diagnosis).toMatch(/^ {2}likely cause: kernel\.max-map-count \(.+\), fail$/m);
		expect(diagnosis).toMatch(/^ {4}> {3}1 \| 65530$/m);
		expect(diagnosis).toMatch(/^ {2}next step: \/hugepage-map-count\/#raise-the-limit$/m);
		expect(diagnosis).toMatch(/^ {4}sysctl -w vm\.max_map_count=196608$/m);
		expect(diagnosis).toMatch(/^ {2}ruled out: none$/m);
		expect(diagnosis).toMatch(/^ {2}could not decide: none$/m);
	});

	it('hugepages-healthy: every check passes, the diagnosis rules it out and says no related runbook is listed; exit 0', async () => {
		const r = await run('hugepage-map-count', '--host', 'scenario:hugepages-healthy');
		expect(r.code).toBe(0);
		expect([...r.stdout.matchAll(/^(PASS|WARN|FAIL|ERROR|SKIP) +(\S+)/gm)].map((m) => [m[1], m[2]])).toEqual([
			['PASS', 'kernel.max-map-count'],
		]);
		expect(r.stdout).toMatch(/^ {2}likely cause: none found by these checks$/m);
		expect(r.stdout).toMatch(/^ {4}kernel\.max-map-count: vm\.max_map_count 262144 covers/m);
		expect(r.stdout).toMatch(/^ {2}try next: no related runbook is listed for hugepage-map-count$/m);
	});

	it('a runbook with related runbooks: when every check passes or skips, try next lists them', async () => {
		const r = await run('icmp-redirect-copp', '--host', 'scenario:nxos-redirects-off');
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^ {2}try next:\n {4}Uneven load across equal-cost paths.*: \/ecmp-imbalance\/$/m);
		expect(r.stdout).toMatch(/^ {2}not applicable \(skipped\):$/m);
	});

	it('--json: one verdict per line as before, then one line with the whole diagnosis', async () => {
		const r = await run('hugepage-map-count', '--host', 'scenario:hugepages-too-many', '--json');
		expect(r.code).toBe(1);
		const out = lines(r.stdout);
		expect(out.slice(0, -1).map((l) => [l.check, l.status])).toEqual([['kernel.max-map-count', 'fail']]);
		const d = out.at(-1)!.diagnosis!;
		expect(Object.keys(out.at(-1)!)).toEqual(['diagnosis']);
		expect(d).toMatchObject({
			host: 'scenario:hugepages-too-many',
			status: 'fail',
			likelyCause: { check: 'kernel.max-map-count' },
			fixStep: { href: '/hugepage-map-count/#raise-the-limit' },
		});
	});

	it('--notes: Markdown with the time, the operator, the host-key fingerprint, the deciding lines and the commands, nothing of the keys', async () => {
		const before = Date.now();
		const [notes, json] = await Promise.all([
			run('hugepage-map-count', '--host', 'scenario:hugepages-too-many', '--notes'),
			run('hugepage-map-count', '--host', 'scenario:hugepages-too-many', '--json'),
		]);
		expect(notes.code).toBe(1);
		const md = notes.stdout;
		const time = /^- Time: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/m.exec(md)?.[1];
		expect(Math.abs(Date.parse(time!) - before)).toBeLessThan(60_000);
		expect(md).toContain(`- Operator: ${userInfo().username}\n`);
		const hostKey = lines(json.stdout)[0]!.hostKey!;
		expect(hostKey).toMatch(/^SHA256:/);
		expect(md).toContain(`- Host: \`scenario:hugepages-too-many\`, host key \`${hostKey}\``);
		expect(md).toContain('- Next step: /hugepage-map-count/#raise-the-limit');
		expect(md).toMatch(/```text\n {3}\$ cat \/proc\/sys\/vm\/max_map_count\n {6}1 \| 65530\n/);
		expect(md).not.toContain('MemTotal');
		expect(md).toMatch(/### Commands run\n\n```sh\ncat \/proc\/sys\/vm\/max_map_count\n[\s\S]*\npidof ovs-vswitchd\n```/);
		// The scenario server's client key lives in the state folder: no path of it in the notes.
		expect(md).not.toContain(state);
		expect(md).not.toMatch(/PRIVATE KEY|id_ed25519|client_key/);
	});

	it('probes are batched: the bond file the VLAN check read is served to the bond check from the cache', async () => {
		const r = await run('bond-vlan-stray-subinterface', '--host', 'scenario:bond-vlan-stray', '--json');
		const d = lines(r.stdout).at(-1)!.diagnosis!;
		const commands = Object.fromEntries(d.steps.map((s) => [s.check, s.commands]));
		expect(commands['net.vlan-on-bond-slave']).toContain('cat /proc/net/bonding/bond0');
		expect(commands['bond.status']).toEqual(['cat /proc/net/bonding/bond0']);
		expect(d.probeCacheHits).toBe(1);
		const text = await run('bond-vlan-stray-subinterface', '--host', 'scenario:bond-vlan-stray');
		expect(text.stdout).toMatch(/^ {2}1 probe answered from this run's cache/m);
		// Same verdicts as each check run alone, where nothing is cached.
		const alone = await runCli(['check', 'bond.status', '--host', 'scenario:bond-vlan-stray', '--json'], { RUNBOOK_STATE_DIR: state });
		const viaRun = lines(r.stdout).find((l) => l.check === 'bond.status')!;
		expect({ ...viaRun, durationMs: 0 }).toEqual({ ...(JSON.parse(alone.stdout) as JsonLine), durationMs: 0 });
	});
});

describe('runbook run on several hosts', () => {
	it('--hosts: the count line first, the grid with the outlier starred, grouped outputs, the outliers; exit 1', async () => {
		const r = await run('hugepage-map-count', '--hosts', 'scenario:hugepages-too-many,scenario:hugepages-healthy');
		expect(r.code).toBe(1);
		const out = r.stdout.split('\n');
		expect(out[0]).toBe('2 hosts: 1 fail, 1 pass');
		expect(r.stdout).toMatch(/^host +kernel\.max-map-count$/m);
		expect(r.stdout).toMatch(/^scenario:hugepages-too-many +fail \*$/m);
		expect(r.stdout).toMatch(/^scenario:hugepages-healthy +pass$/m);
		expect(r.stdout).toMatch(/^ {2}kernel\.max-map-count: 2 different outputs$/m);
		expect(r.stdout).toMatch(/^ {2}\* scenario:hugepages-too-many {2}kernel\.max-map-count: fail where most hosts are pass$/m);
		expect(r.stdout).toMatch(
			/^ {2}scenario:hugepages-too-many: likely cause kernel\.max-map-count \(fail\).*go to \/hugepage-map-count\/#raise-the-limit$/m,
		);
		// Without a terminal on stderr there is no progress line.
		expect(r.stderr).toBe('');
	});

	it('--hosts --json: the verdicts host after host, then one {"fleet": ...} line', async () => {
		const r = await run('hugepage-map-count', '--hosts', 'scenario:hugepages-too-many,scenario:hugepages-healthy', '--json');
		const out = lines(r.stdout);
		expect(out.slice(0, -1).map((l) => l.status)).toEqual(['fail', 'pass']);
		const f = out.at(-1)!.fleet!;
		expect(f.summary).toBe('2 hosts: 1 fail, 1 pass');
		expect(f.outliers.map((o) => [o.host, o.check])).toEqual([['scenario:hugepages-too-many', 'kernel.max-map-count']]);
	});

	it('--dry-run on several hosts prints what each would run and runs nothing', async () => {
		const r = await run('hugepage-map-count', '--hosts', 'scenario:hugepages-too-many,scenario:hugepages-healthy', '--dry-run');
		expect(r.code).toBe(0);
		expect(r.stdout.match(/^host scenario:hugepages-\S+ \(scenario, linux\)/gm)).toHaveLength(2);
		expect(r.stdout).toContain('nothing is run');
	});

	it.each([
		[[], /--host <host or inventory group> or --hosts/],
		[['--host', 'scenario:hugepages-healthy', '--hosts', 'scenario:hugepages-too-many'], /--host or --hosts, not both/],
		[['--hosts', 'scenario:hugepages-healthy,scenario:nope'], /UnknownHost/],
	])('bad host arguments %j: one line on stderr, exit 2, nothing run', async (args, pattern) => {
		const r = await run('hugepage-map-count', ...args);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(pattern);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
		expect(r.stdout).toBe('');
	});
});

describe('an inventory group over real SSH, with secret-looking variables', () => {
	let sshd: Sshd;
	let dir: string;
	let inventory: string;
	let knownHosts: string;
	const SECRETS = ['Tr0ub4dor-and-3', 'hunter2-db-pass', 'tok_live_5f1c9a0e'];

	beforeAll(async () => {
		sshd = await startSshd();
		dir = mkdtempSync(join(tmpdir(), 'runbook-diagnosis-inv-'));
		inventory = join(dir, 'inventory.yaml');
		knownHosts = join(dir, 'known_hosts');
		sshd.writeKnownHosts(knownHosts);
		const host = [
			`          ansible_host: ${sshd.address}`,
			`          ansible_port: ${sshd.port}`,
			'          ansible_user: root',
			`          ansible_ssh_private_key_file: ${sshd.clientKeyFile}`,
		];
		writeFileSync(
			inventory,
			[
				'all:',
				'  vars:',
				`    ansible_ssh_pass: ${SECRETS[0]}`,
				`    db_password: ${SECRETS[1]}`,
				'  children:',
				'    computes:',
				'      vars:',
				`        api_token: ${SECRETS[2]}`,
				'      hosts:',
				'        compute01:',
				...host,
				'        compute02:',
				...host,
				'',
			].join('\n'),
		);
	});
	afterAll(async () => {
		await sshd?.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it('--host <group> runs on each member; the notes carry each host key fingerprint and none of the secrets or key paths', async () => {
		const common = ['--host', 'computes', '--inventory', inventory, '--known-hosts', knownHosts];
		const [notes, json] = await Promise.all([
			run('hugepage-map-count', ...common, '--notes'),
			run('hugepage-map-count', ...common, '--json'),
		]);
		const fingerprint = `SHA256:${createHash('sha256').update(sshd.hostKeyBlob).digest('base64').replace(/=+$/, '')}`;
		expect(notes.stderr).toBe('');
		const md = notes.stdout;
		expect(md).toMatch(/^- Result: 2 hosts: /m);
		expect(md).toContain(`\`compute01\`: `);
		expect(md).toContain(`\`compute02\`: `);
		expect(md.match(new RegExp(`host key \`${fingerprint.replace(/[+/]/g, '\\$&')}\``, 'g'))).toHaveLength(2);
		expect(md).toContain('cat /proc/sys/vm/max_map_count');
		expect(
			lines(json.stdout)
				.at(-1)!
				.fleet!.grid.map((g) => g.host),
		).toEqual(['compute01', 'compute02']);
		for (const text of [md, json.stdout]) {
			for (const secret of SECRETS) expect(text).not.toContain(secret);
			expect(text).not.toContain(sshd.clientKeyFile);
			expect(text).not.toContain(dir);
			expect(text).not.toMatch(/ansible_|db_password|api_token/);
		}
	});
});

describe('the per-host probe cache, on the local transport', () => {
	let dir: string;
	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), 'runbook-probe-cache-'));
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	it('another check gets the answer already given; a check asking again (sampling) gets a fresh one, which the next check then gets', async () => {
		const file = join(dir, 'counter');
		const transport = createLocalTransport();
		const cache = new ProbeCache();
		const check = () => createCtx(transport, DEFAULT_LIMITS, { cache });
		try {
			writeFileSync(file, '1\n');
			const first = check();
			expect(await first.ctx.read(file)).toBe('1\n');

			writeFileSync(file, '2\n');
			const second = check();
			expect(await second.ctx.read(file)).toBe('1\n');
			expect(cache.hits).toBe(1);
			expect(second.probes.map((p) => p.cached === true)).toEqual([true]);
			// Its own second sample goes to the host.
			expect(await second.ctx.read(file)).toBe('2\n');
			expect(second.probes.map((p) => p.cached === true)).toEqual([true, false]);

			writeFileSync(file, '3\n');
			const third = check();
			expect(await third.ctx.read(file)).toBe('2\n');
			// An exec of the same argv is the same probe as the read.
			expect((await third.ctx.exec(['cat', file])).stdout).toBe('3\n');
			expect(cache.hits).toBe(2);
		} finally {
			await transport.close();
		}
	});

	it('a failed probe is not cached: the next check asks the host again', async () => {
		const transport = createLocalTransport();
		const cache = new ProbeCache();
		try {
			const slow = createCtx(transport, { ...DEFAULT_LIMITS, timeoutMs: 200 }, { cache });
			await expect(slow.ctx.exec(['sleep', '0.5'])).rejects.toMatchObject({ code: 'ProbeTimeout' });
			// Served the failure from the cache, this would reject at once; asked again, the host answers.
			const patient = createCtx(transport, DEFAULT_LIMITS, { cache });
			const r = await patient.ctx.exec(['sleep', '0.5']);
			expect(r.code).toBe(0);
			expect(patient.probes.map((p) => p.cached === true)).toEqual([false]);
			expect(cache.hits).toBe(0);
		} finally {
			await transport.close();
		}
	});
});
