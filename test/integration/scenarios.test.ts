/**
 * Every training scenario against its runbook, over the real scenario SSH server and the runner: each
 * check the runbook page embeds (`<Check id params />`, read by `embeddedChecks`), run with exactly
 * the params the page embeds, gives the verdict the scenario's `expect` names. Each check runs twice:
 * alone, on a connection of its own, as Run on the page does it; and with the runbook's other checks
 * in step order on one connection, as "run all" does it (a sampled counter must decide the same way
 * both times).
 *
 * A check made for another platform is `skip` on the host and need not be listed in `expect`; any
 * other embedded check must be. A command a check sends that the scenario does not list would be
 * answered `command not found` and could decide a verdict by accident, so every one must be listed.
 *
 * The sampled checks run with the page's intervals (net.icmp-redirects waits 10 s); all scenarios run
 * at once, so the file takes about as long as the slowest check.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckDefinition } from '../../src/core/check.ts';
import { embeddedChecks, type EmbeddedCheck } from '../../src/core/embedded-checks.ts';
import { projectRoot } from '../../src/core/paths.ts';
import { loadRegistry } from '../../src/core/registry-node.ts';
import { loadRunbooks, type RunbookInfo } from '../../src/core/runbooks-node.ts';
import type { Status } from '../../src/core/status.ts';
import { validateParams } from '../../src/runner/params.ts';
import { runCheck, runPlan } from '../../src/runner/run.ts';
import type { VerdictRecord } from '../../src/runner/types.ts';
import { loadScenarios } from '../../src/scenarios/load.ts';
import type { Scenario } from '../../src/scenarios/schema.ts';
import { stopScenarioServer, watchScenarioExecs, type ScenarioExec } from '../../src/transport/scenario-server.ts';

const registry = await loadRegistry();
const runbooks = new Map<string, RunbookInfo>((await loadRunbooks()).map((r) => [r.slug, r]));
const scenarios: Scenario[] = [...(await loadScenarios([])).values()];
const embedded = new Map<string, EmbeddedCheck[]>([...runbooks].map(([slug, rb]) => [slug, embeddedChecks(rb.body)]));

/** The verdict `check` must give on `s`: what it lists, else `skip` for a check made for another platform. */
function expected(s: Scenario, check: CheckDefinition): Status | undefined {
	return s.expect?.[check.id] ?? (check.platforms.includes(s.platform) ? undefined : 'skip');
}

const checksOf = (s: Scenario) => embedded.get(s.runbook!) ?? [];

describe('the scenarios in content/scenarios', () => {
	it('there are some, and each names a runbook that exists, its cause and a brief', () => {
		expect(scenarios.length).toBeGreaterThan(0);
		for (const s of scenarios) {
			expect(runbooks.has(s.runbook ?? ''), `${s.name}: runbook ${s.runbook}`).toBe(true);
			expect(s.cause, `${s.name}: cause`).toMatch(/\S/);
			expect(s.brief, s.name).toMatch(/\S/);
		}
	});

	it.each([...runbooks.keys()])('%s has at least one broken and one healthy scenario', (slug) => {
		const mine = scenarios.filter((s) => s.runbook === slug);
		expect(mine.filter((s) => !s.healthy).map((s) => s.name)).not.toEqual([]);
		expect(mine.filter((s) => s.healthy).map((s) => s.name)).not.toEqual([]);
	});

	it.each(scenarios.map((s) => [s.name, s] as const))('%s: expect covers every check its runbook embeds, and only those', (_, s) => {
		const ids = checksOf(s).map((c) => c.id);
		expect(ids.length).toBeGreaterThan(0);
		for (const id of ids) {
			const check = registry.get(id);
			const want = expected(s, check);
			expect(want, `${s.name} lists no verdict for ${id}`).toBeDefined();
			if (!check.platforms.includes(s.platform)) expect(want, `${id} is for ${check.platforms.join(', ')}`).toBe('skip');
		}
		expect(Object.keys(s.expect ?? {}).filter((id) => !ids.includes(id))).toEqual([]);
	});

	it.each(scenarios.map((s) => [s.name, s] as const))(
		'%s: a healthy look-alike expects only pass and skip; a broken one some warn or fail',
		(_, s) => {
			const verdicts = checksOf(s).map((c) => expected(s, registry.get(c.id)));
			if (s.healthy) expect(verdicts.filter((v) => v !== 'pass' && v !== 'skip')).toEqual([]);
			else expect(verdicts.filter((v) => v === 'warn' || v === 'fail')).not.toEqual([]);
		},
	);

	it.each(scenarios.map((s) => [s.name, s] as const))('%s: the brief does not give away the runbook title', (_, s) => {
		const title = runbooks.get(s.runbook!)!.title.toLowerCase();
		expect(s.brief.toLowerCase()).not.toContain(title);
	});
});

describe('every embedded check against every scenario, over SSH', () => {
	const state = mkdtempSync(join(tmpdir(), 'runbook-scenarios-'));
	const saved = process.env.RUNBOOK_STATE_DIR;
	/** `<scenario> <check>` -> the verdict of that check run alone, as the page's Run does. */
	const alone = new Map<string, VerdictRecord>();
	/** `<scenario>` -> the verdicts of its runbook's checks run in step order on one connection. */
	const together = new Map<string, VerdictRecord[]>();
	/** `<scenario>` -> commands it answered with `command not found` because it does not list them. */
	const unlisted = new Map<string, Set<string>>();
	let stopWatching = () => {};

	beforeAll(async () => {
		process.env.RUNBOOK_STATE_DIR = state;
		stopWatching = watchScenarioExecs((e: ScenarioExec) => {
			if (e.answer.source !== 'missing') return;
			const set = unlisted.get(e.scenario) ?? new Set<string>();
			set.add(e.command.replace(/^(?:[A-Z_]+=\S* )+/, ''));
			unlisted.set(e.scenario, set);
		});
		const page = (s: Scenario) =>
			checksOf(s).map(({ id, params }) => ({ check: registry.get(id), params: validateParams(registry.get(id), params) }));
		await Promise.all(
			scenarios.flatMap((s) => [
				...checksOf(s).map(async ({ id, params }) =>
					alone.set(`${s.name} ${id}`, await runCheck(registry, id, `scenario:${s.name}`, params, {})),
				),
				(async () => together.set(s.name, await runPlan(page(s), [`scenario:${s.name}`], {})))(),
			]),
		);
	}, 120_000);

	afterAll(async () => {
		stopWatching();
		await stopScenarioServer();
		if (saved === undefined) delete process.env.RUNBOOK_STATE_DIR;
		else process.env.RUNBOOK_STATE_DIR = saved;
		rmSync(state, { recursive: true, force: true });
	});

	const cases = scenarios.flatMap((s) => checksOf(s).map((c, step) => [`${s.name}`, c.id, s, c, step] as const));

	it.each(cases)('%s: %s -> its expected verdict, alone and in a run of the whole runbook', (name, id, s, _, step) => {
		const want = expected(s, registry.get(id));
		const one = alone.get(`${name} ${id}`)!;
		expect(one.status, `${id} on scenario:${name} alone: ${one.summary}`).toBe(want);
		expect(one.host).toBe(`scenario:${name}`);
		const inPlan = together.get(name)![step]!;
		expect(inPlan.check).toBe(id);
		expect(inPlan.status, `${id} on scenario:${name} in a runbook run: ${inPlan.summary}`).toBe(want);
	});

	it.each(scenarios.map((s) => [s.name] as const))(
		'%s: every command its checks sent is listed (or a cat, ls or test of its files)',
		(name) => {
			expect([...(unlisted.get(name) ?? [])]).toEqual([]);
		},
	);

	it('a scenario host goes through the SSH path: its verdicts carry the host key the server presented', () => {
		const linux = [...alone.values()].find((v) => v.status !== 'skip')!;
		expect(linux.hostKey).toMatch(/^SHA256:/);
	});
});

describe('scenarios composed from fixtures hold the captures byte for byte', () => {
	const fx = (rel: string) => readFileSync(join(projectRoot, 'checks', rel), 'utf8');
	const get = (name: string) => scenarios.find((s) => s.name === name)!;
	const stdout = (v: unknown) => [v].flat().map((a) => (a as { stdout: string }).stdout);

	it('ufo-weave-wedged: the wedged counters in the order they were sampled, the real ethtool and uname', () => {
		const s = get('ufo-weave-wedged');
		const tx = 'nic/fixtures/tx-stalled/debian12-k6.18-veth-wedged';
		expect(s.files['/sys/class/net/eth0/statistics/rx_packets']).toEqual([fx(`${tx}-t0.rx_packets.txt`), fx(`${tx}-t1.rx_packets.txt`)]);
		// The same in both samples: one value.
		expect(s.files['/sys/class/net/eth0/statistics/tx_packets']).toBe(fx(`${tx}-t0.tx_packets.txt`));
		expect(stdout(s.commands['uname -r'])).toEqual([fx('kernel/fixtures/ufo-raw-socket/centos7.0-weave2289.uname.txt')]);
		expect(stdout(s.commands['ethtool -i eth0'])).toEqual([fx('kernel/fixtures/ufo-raw-socket/insights-rhel-virtio_net.ethtool-i.txt')]);
	});

	it('usb-trailer-ax88179: the black-hole run with only the peer address replaced, and the 2-byte capture split into its streams', () => {
		const s = get('usb-trailer-ax88179');
		const pm = (f: string) => fx(`net/fixtures/path-mtu/debian12-bridge1498-${f}.ping.txt`).replaceAll('198.19.250.2', '192.0.2.10');
		expect(stdout(s.commands['ping -M do -s 1472 -c 1 -W 1 -n 192.0.2.10'])).toEqual([pm('s1472'), pm('s1472-try2')]);
		expect(stdout(s.commands['ping -M do -s 1470 -c 1 -W 1 -n 192.0.2.10'])).toEqual([pm('s1470')]);
		const cap = [s.commands['timeout 30 tcpdump -p -e -nn -vv -l -c 50 -i eth0 ip or ip6 or (vlan and (ip or ip6))']].flat()[0]!;
		expect(cap.stdout + cap.stderr).toBe(
			fx('capture/fixtures/frame-trailer/debian12-trailer2-tcp-udp.tcpdump.txt').replace('listening on vB,', 'listening on eth0,'),
		);
	});
});
