/**
 * The redirect checks end to end over real SSH, through the CLI: a Linux router in a network
 * namespace that really hairpins traffic and sends ICMP redirects, the host that receives them, a
 * clean host (test/support/redirect-lab.ts), and the NX-OS training switches served by the scenario
 * SSH server. Platforms: Linux checks skip on an NX-OS host and the reverse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../support/cli.ts';
import { startRedirectLab, type RedirectLab } from '../support/redirect-lab.ts';

let lab: RedirectLab;
let state: string;

beforeAll(async () => {
	state = mkdtempSync(join(tmpdir(), 'runbook-redirects-state-'));
	lab = await startRedirectLab();
});

afterAll(async () => {
	await lab?.stop();
	if (state) rmSync(state, { recursive: true, force: true });
});

interface Record_ {
	check: string;
	host: string;
	status: string;
	summary: string;
	facts: Record<string, unknown>;
	evidence: { command: string; output: string; lines: number[] }[];
	next?: string;
	fix?: string[];
	code?: string;
}

async function check(id: string, host: string, params: string[] = []): Promise<{ v: Record_; code: number }> {
	const r = await runCheck({ ...lab, stateDir: state }, id, host, params);
	if (r.stdout.trim() === '') throw new Error(`runbook check ${id} --host ${host} printed nothing (exit ${r.code}): ${r.stderr}`);
	return { v: JSON.parse(r.stdout) as Record_, code: r.code };
}

describe('the lab really hairpins (checked from outside, not through the checks)', () => {
	it('the router sends redirects and the host receives them while the traffic runs', async () => {
		const before = { router: await lab.redirects('router'), host: await lab.redirects('host') };
		const traffic = await lab.startTraffic();
		await new Promise((r) => setTimeout(r, 1000));
		const after = { router: await lab.redirects('router'), host: await lab.redirects('host') };
		await traffic.stop();
		expect(after.router.outRedirects).toBeGreaterThan(before.router.outRedirects);
		expect(after.host.inRedirects).toBeGreaterThan(before.host.inRedirects);
	});
});

describe('net.icmp-redirects over SSH', () => {
	it('while the host pings through the hairpin: router -> fail, host -> warn (sampled at the same time)', async () => {
		const traffic = await lab.startTraffic();
		let router: Awaited<ReturnType<typeof check>>;
		let host: Awaited<ReturnType<typeof check>>;
		try {
			[router, host] = await Promise.all([
				check('net.icmp-redirects', 'router', ['intervalMs=3000']),
				check('net.icmp-redirects', 'host', ['intervalMs=3000']),
			]);
		} finally {
			await traffic.stop();
		}

		expect(router.v.status, router.v.summary).toBe('fail');
		expect(router.v.facts.ipForward).toBe(1);
		expect(router.v.facts.outRedirects).toBeGreaterThan(0);
		expect(router.v.facts.forwardedDatagrams).toBeGreaterThan(0);
		expect(router.v.facts.sendRedirectsOn).toContain(lab.iif);
		expect(router.v.summary).toMatch(/hairpin/);
		expect(router.v.next).toBe('#which-route-hairpins');
		expect(router.v.fix).toContain('sysctl -w net.ipv4.conf.all.send_redirects=0');
		expect(router.v.evidence.filter((e) => e.command === 'cat /proc/net/snmp')).toHaveLength(2);
		expect(router.code).toBe(1);

		expect(host.v.status, host.v.summary).toBe('warn');
		expect(host.v.facts.ipForward).toBe(0);
		expect(host.v.facts.inRedirects).toBeGreaterThan(0);
		expect(host.v.facts.acceptRedirectsOn).toEqual([]);
		expect(host.v.summary).toMatch(/told again and again that its next hop is wrong/);
		expect(host.code).toBe(1);
	});

	it('the clean host -> pass, exit 0', async () => {
		const { v, code } = await check('net.icmp-redirects', 'clean', ['intervalMs=1000']);
		expect(v.status, v.summary).toBe('pass');
		expect(v.facts).toMatchObject({ outRedirects: 0, inRedirects: 0, ipForward: 0 });
		expect(code).toBe(0);
	});

	it('the router with no traffic flowing -> pass, but the redirects it sent earlier are mentioned', async () => {
		const { v } = await check('net.icmp-redirects', 'router', ['intervalMs=1000']);
		expect(v.status, v.summary).toBe('pass');
		expect(v.summary).toMatch(/a hairpin happened before, not now/);
	});
});

describe('net.redirect-route over SSH', () => {
	it('the hairpinned destination -> fail, cache <redirect> in the evidence', async () => {
		const { v, code } = await check('net.redirect-route', 'router', [`dst=${lab.hairpinDst}`, `src=${lab.hostAddr}`, `iif=${lab.iif}`]);
		expect(v.status, v.summary).toBe('fail');
		expect(v.facts).toMatchObject({ outDev: lab.iif, gateway: lab.router2Addr, cacheFlags: ['redirect'], hairpin: true });
		expect(v.evidence[0]!.command).toBe(`ip -j route get ${lab.hairpinDst} from ${lab.hostAddr} iif ${lab.iif}`);
		expect(v.evidence[0]!.output).toContain('"cache":["redirect"]');
		expect(v.next).toBe('#remove-the-hairpin');
		expect(code).toBe(1);
	});

	it('a destination behind another interface -> pass', async () => {
		const { v, code } = await check('net.redirect-route', 'router', [`dst=${lab.cleanDst}`, `src=${lab.hostAddr}`, `iif=${lab.iif}`]);
		expect(v.status, v.summary).toBe('pass');
		expect(v.facts).toMatchObject({ outDev: 'eth2', hairpin: false });
		expect(code).toBe(0);
	});

	it('asked on the host, which does not forward -> error that says so, exit 2', async () => {
		const { v, code } = await check('net.redirect-route', 'host', [`dst=${lab.hairpinDst}`, `src=${lab.router2Addr}`, 'iif=eth1']);
		expect(v.status, v.summary).toBe('error');
		expect(v.summary).toMatch(/RTNETLINK answers: No route to host/);
		expect(v.summary).toMatch(/does not forward packets arriving on eth1/);
		expect(code).toBe(2);
	});
});

describe('platforms: NX-OS training switches and Linux lab hosts', () => {
	it.each(['nxos.ip-redirects', 'nxos.copp-drops'])(
		'%s on scenario:nxos-redirects-copp -> fail over the scenario SSH server',
		async (id) => {
			const { v, code } = await check(id, 'scenario:nxos-redirects-copp');
			expect(v.status, v.summary).toBe('fail');
			expect(code).toBe(1);
			if (id === 'nxos.ip-redirects') expect(v.facts.punting).toEqual(['Vlan1']);
			else expect(v.facts.exceptionDropped).toBe(9055028);
		},
	);

	it.each(['nxos.ip-redirects', 'nxos.copp-drops'])('%s on scenario:nxos-redirects-off -> pass', async (id) => {
		const { v, code } = await check(id, 'scenario:nxos-redirects-off');
		expect(v.status, v.summary).toBe('pass');
		expect(code).toBe(0);
	});

	it.each([
		['net.icmp-redirects', []],
		['net.redirect-route', ['dst=192.168.1.200', 'src=192.168.1.100', 'iif=eth0']],
	] as const)('%s on scenario:nxos-redirects-copp -> skip, nothing run', async (id, params) => {
		const { v, code } = await check(id, 'scenario:nxos-redirects-copp', [...params]);
		expect(v.status).toBe('skip');
		expect(v.summary).toMatch(/nxos/);
		expect(v.evidence).toEqual([]);
		expect(code).toBe(0);
	});

	it.each(['nxos.ip-redirects', 'nxos.copp-drops'])('%s on the Linux router -> skip', async (id) => {
		const { v, code } = await check(id, 'router');
		expect(v.status).toBe('skip');
		expect(v.summary).toMatch(/linux/);
		expect(code).toBe(0);
	});
});
