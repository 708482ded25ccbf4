/**
 * The bond and VLAN checks over real SSH, through the real CLI, against the training scenario hosts
 * whose `ip` and `/proc` answers are captured outputs (content/scenarios/bond-*.yaml). This
 * machine's kernel has no bonding or 802.1Q module, so a scenario host is the only host that has a
 * bond to look at; the path is the production one (ssh transport, host key check, quoting, the
 * runner), the answers are the host's.
 *
 * Every check a scenario lists under `expect` must give that verdict.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../src/core/paths.ts';
import { ScenarioSchema, type Scenario } from '../../src/scenarios/schema.ts';
import { runCli } from '../support/cli.ts';

const state = mkdtempSync(join(tmpdir(), 'runbook-bond-vlan-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const env = { RUNBOOK_STATE_DIR: state };
const CHECKS = ['net.vlan-on-bond-slave', 'net.neigh-unresolved', 'bond.status'];

const dir = join(projectRoot, 'content', 'scenarios');
const scenarios: Scenario[] = readdirSync(dir)
	.filter((f) => f.endsWith('.yaml'))
	.map((f) => ScenarioSchema.parse(parseYaml(readFileSync(join(dir, f), 'utf8'))))
	.filter((s) => CHECKS.some((c) => s.expect?.[c] !== undefined));

async function check(id: string, host: string, ...more: string[]) {
	const r = await runCli(['check', id, '--host', host, '--json', ...more], env);
	let verdict: Record<string, unknown>;
	try {
		verdict = JSON.parse(r.stdout);
	} catch {
		throw new Error(`runbook check ${id} --host ${host} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
	}
	return { ...r, verdict };
}

describe('bond and VLAN scenario hosts, each expected verdict through `runbook check --json`', () => {
	it('the three scenarios are there', () => {
		expect(scenarios.map((s) => s.name).toSorted()).toEqual(['bond-lacp-unbundled', 'bond-vlan-healthy', 'bond-vlan-stray']);
	});

	for (const s of scenarios) {
		for (const id of CHECKS.filter((c) => s.expect?.[c] !== undefined)) {
			const want = s.expect![id]!;
			it(`${id} on scenario:${s.name} -> ${want}`, async () => {
				const r = await check(id, `scenario:${s.name}`);
				expect(r.verdict.status, String(r.verdict.summary)).toBe(want);
				expect(r.verdict).toMatchObject({ check: id, host: `scenario:${s.name}` });
				expect(r.verdict.hostKey).toMatch(/^SHA256:/);
				expect(r.code).toBe(want === 'pass' || want === 'skip' ? 0 : want === 'error' ? 2 : 1);
				expect(r.stderr).toBe('');
			});
		}
	}
});

describe('what the trainee sees on scenario:bond-vlan-stray', () => {
	it('the stray device, its VLAN, parent and bond, the tree with it marked, and the fix', async () => {
		const { verdict: v } = await check('net.vlan-on-bond-slave', 'scenario:bond-vlan-stray');
		expect(v.summary).toMatch(/^enp5s0f0\.53 \(VLAN 53, DOWN\) sits on enp5s0f0, a slave of bond0/);
		expect(v.facts).toMatchObject({ strays: ['enp5s0f0.53'], bonds: ['bond0'] });
		const diagram = v.diagram as { lines: string[]; marked: number[] };
		expect(diagram.marked.map((n) => diagram.lines[n - 1])).toEqual([
			'│  └─ enp5s0f0.53 (vlan 53, DOWN)  <- stray: takes VLAN 53 frames arriving on enp5s0f0',
		]);
		expect((v.fix as string[])[0]).toBe('ip link del enp5s0f0.53');
		// iproute 4.11 has no -j: the check said so and fell back to the text and /proc.
		const commands = (v.evidence as { command: string; code?: number }[]).map((e) => e.command);
		expect(commands).toEqual([
			'ip -d -j link show',
			'ip -d link show',
			'cat /proc/net/vlan/config',
			'ls /proc/net/bonding',
			'cat /proc/net/bonding/bond0',
		]);
	});

	it('with the target .253: INCOMPLETE, with the probes the kernel sent', async () => {
		const { verdict: v } = await check('net.neigh-unresolved', 'scenario:bond-vlan-stray', '--param', 'target=192.168.53.253');
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ target: '192.168.53.253', targetStates: ['bond0.53: INCOMPLETE'], probes: 5 });
	});

	it('an address that is not an IP never reaches the host', async () => {
		const r = await runCli(
			['check', 'net.neigh-unresolved', '--host', 'scenario:bond-vlan-stray', '--param', 'target=192.168.53.253;reboot'],
			env,
		);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/InvalidParams/);
		expect(r.stdout).toBe('');
	});

	it('the text report draws the tree with the stray line marked', async () => {
		const r = await runCli(['check', 'net.vlan-on-bond-slave', '--host', 'scenario:bond-vlan-stray'], env);
		expect(r.code).toBe(1);
		expect(r.stdout).toMatch(/^FAIL +net\.vlan-on-bond-slave on scenario:bond-vlan-stray/m);
		expect(r.stdout).toMatch(/^ +> │  └─ enp5s0f0\.53 \(vlan 53, DOWN\)/m);
	});
});

describe('scenario:bond-lacp-unbundled', () => {
	it('bond.status names the zero partner and the switch-side fix', async () => {
		const { verdict: v } = await check('bond.status', 'scenario:bond-lacp-unbundled');
		expect(v.summary).toMatch(/no LACP partner answers \(Partner Mac Address 00:00:00:00:00:00\)/);
		expect(v.facts).toMatchObject({ aggregators: ['enp1s0f0=1', 'enp1s0f1=2'], slavesDown: ['enp1s0f0'] });
		expect(v.next).toBe('#fix-the-switch-side-of-the-bond');
	});

	it('a bond name the host does not have -> error naming the one it has, exit 2', async () => {
		const r = await check('bond.status', 'scenario:bond-lacp-unbundled', '--param', 'bond=bond1');
		expect(r.verdict).toMatchObject({ status: 'error', code: 'InvalidParams', summary: 'No bond named bond1 on this host; it has bond0.' });
		expect(r.code).toBe(2);
	});
});
