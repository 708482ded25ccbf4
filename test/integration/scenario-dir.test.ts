/**
 * `--scenarios DIR`: a trainer's own scenario files, from a folder that carries no runbook, reached
 * through the real bin (`runbook check <id> --host scenario:<name> --scenarios DIR`), which starts the
 * scenario SSH server in-process for the run.
 *
 * A trainer's file may leave `runbook` out (a host recorded from a real incident before anyone has
 * written, or picked, the runbook that explains it): the checks still run against it. When it does
 * name one, the name must be a runbook that exists. A malformed file stops the run with exit 2 and one
 * line, `InvalidScenario: <file>: <field>: <problem>`.
 *
 * The trainer hosts are made here from real captures (checks/nic/fixtures/tx-stalled: a wedged and a
 * healthy transmit queue, each counter sampled twice, written as a list). The counters answer in
 * turn whatever the pause, so the tests pass `intervalMs=200` (the check's minimum) instead of the
 * page's 2000.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { projectRoot } from '../../src/core/paths.ts';
import { runCli } from '../support/cli.ts';

const state = mkdtempSync(join(tmpdir(), 'runbook-scenario-dir-state-'));
const dirs: string[] = [];
afterAll(() => {
	for (const d of [state, ...dirs]) rmSync(d, { recursive: true, force: true });
});

const fx = (name: string) =>
	readFileSync(join(projectRoot, 'checks', 'nic', 'fixtures', 'tx-stalled', `debian12-k6.18-veth-${name}.txt`), 'utf8');

/** A trainer's host whose eth0 counters are the real samples of one case (`wedged`, `healthy`). */
function trainerHost(name: string, kase: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
	const counter = (c: string) => [fx(`${kase}-t0.${c}`), fx(`${kase}-t1.${c}`)];
	return {
		name,
		title: `A host recorded by a trainer (${kase} transmit queue)`,
		brief: 'A VM stops answering on the network now and then',
		...extra,
		files: {
			'/sys/class/net/eth0/operstate': fx(`${kase}-t0.operstate`),
			...Object.fromEntries(
				['tx_packets', 'rx_packets', 'tx_errors', 'tx_dropped'].map((c) => [`/sys/class/net/eth0/statistics/${c}`, counter(c)]),
			),
		},
	};
}

/** A fresh folder holding `files` (name -> YAML text): nothing else, no runbook. */
function folder(files: Record<string, string>): string {
	const dir = mkdtempSync(join(tmpdir(), 'runbook-scenario-dir-'));
	dirs.push(dir);
	for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
	return dir;
}

const env = { RUNBOOK_STATE_DIR: state };
const txStalled = (host: string, dir: string) =>
	runCli(
		['check', 'nic.tx-stalled', '--host', host, '--scenarios', dir, '--param', 'iface=eth0', '--param', 'intervalMs=200', '--json'],
		env,
	);

describe('runbook check --host scenario:<name> --scenarios DIR', () => {
	it('a file without a runbook: the check runs over SSH against it (wedged queue -> fail, exit 1)', async () => {
		const dir = folder({ 'wedged-vm.yaml': stringify(trainerHost('wedged-vm', 'wedged')) });
		const r = await txStalled('scenario:wedged-vm', dir);
		expect(r.stderr).toBe('');
		const v = JSON.parse(r.stdout);
		expect(v).toMatchObject({ check: 'nic.tx-stalled', host: 'scenario:wedged-vm', status: 'fail' });
		expect(v.facts).toMatchObject({ tx_packetsDelta: 0, rx_packetsDelta: 11, intervalMs: 200 });
		expect(v.hostKey).toMatch(/^SHA256:/);
		expect(r.code).toBe(1);
	});

	it('a file naming an existing runbook, beside the built-in scenarios (healthy queue -> pass, exit 0)', async () => {
		const dir = folder({
			'busy-vm.yaml': stringify(trainerHost('busy-vm', 'healthy', { runbook: 'ufo-raw-socket-virtio', healthy: true })),
		});
		const r = await txStalled('scenario:busy-vm', dir);
		expect(r.stderr).toBe('');
		expect(JSON.parse(r.stdout)).toMatchObject({ host: 'scenario:busy-vm', status: 'pass' });
		expect(r.code).toBe(0);
		const builtin = await txStalled('scenario:ufo-weave-wedged', dir);
		expect(JSON.parse(builtin.stdout)).toMatchObject({ host: 'scenario:ufo-weave-wedged', status: 'fail' });
	});

	it('without --scenarios the trainer host is unknown: exit 2, and nothing is run', async () => {
		const r = await runCli(['check', 'nic.tx-stalled', '--host', 'scenario:wedged-vm', '--param', 'iface=eth0', '--json'], env);
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(/wedged-vm/);
	});

	/** The good file with one thing wrong. */
	const bad = (change: (host: Record<string, unknown> & { files: Record<string, unknown> }) => void): string => {
		const host = trainerHost('good-vm', 'healthy') as Record<string, unknown> & { files: Record<string, unknown> };
		change(host);
		return stringify(host);
	};
	const TX = '/sys/class/net/eth0/statistics/tx_packets';
	it.each([
		['an unknown field', bad((h) => (h.hostname = 'vm7')), '(top level): unknown field "hostname"'],
		['a missing brief', bad((h) => delete h.brief), 'brief: missing, expected string'],
		['a counter list with a number in it', bad((h) => (h.files[TX] = ['6\n', 16])), `files["${TX}"][1]: `],
		['an empty list', bad((h) => (h.files[TX] = [])), `files["${TX}"]: a list of at least one value`],
		[
			'a command answered by a bare string',
			bad((h) => (h.commands = { 'uname -r': '6.1.0' })),
			'commands["uname -r"]: an answer such as { stdout: "..." }',
		],
		[
			'a runbook that does not exist',
			bad((h) => (h.runbook = 'ufo-raw-sockets')),
			'runbook: no runbook "ufo-raw-sockets" in content/runbooks; known: ',
		],
		['a name that is not the file name', bad((h) => (h.name = 'other-vm')), 'name: "other-vm" must equal the file name "good-vm"'],
		['YAML that does not parse', `${bad(() => {})}files: [\n`, 'line '],
	])('%s -> exit 2, one line: InvalidScenario naming the file and the field', async (_, text, problem) => {
		const dir = folder({ 'good-vm.yaml': text });
		const r = await txStalled('scenario:good-vm', dir);
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		const lines = r.stderr.split('\n').filter(Boolean);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain(`InvalidScenario: ${join(dir, 'good-vm.yaml')}: ${problem}`);
	});
});
