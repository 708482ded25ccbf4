/**
 * net.path-mtu end to end: the real `runbook` bin logs in over SSH to `mtu-host`, a network
 * namespace of the MTU lab (test/support/mtu-lab.ts), and pings across a real Linux bridge. Behind
 * the bridge port with MTU 1498 the path is 2 bytes short and drops silently, as with the USB NIC
 * trailer; peer-clean is 1500 all the way; the overlay address is reached through a VXLAN created
 * without `dev`. Also: the lab leaves nothing behind, even when its start fails halfway.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck, runCli } from '../support/cli.ts';
import { labLeftovers, mtuLabUnavailable, startMtuLab, type MtuLab } from '../support/mtu-lab.ts';

const run = promisify(execFile);
const unavailable = await mtuLabUnavailable();
const skipped = unavailable === null ? '' : ` (skipped: ${unavailable})`;

describe.skipIf(unavailable !== null)(`net.path-mtu over SSH against the MTU lab${skipped}`, () => {
	let lab: MtuLab;

	beforeAll(async () => {
		lab = await startMtuLab();
		console.info(`[mtu-lab] ${lab.id}: bridge port ${lab.shortPort.name} MTU ${lab.shortPort.mtu} (${lab.shortPort.mechanism})`);
	});

	afterAll(async () => {
		if (!lab) return;
		await lab.stop();
		expect(await labLeftovers(lab.id)).toEqual([]);
	});

	const check = (target: string, ...more: string[]) =>
		runCheck({ ...lab, stateDir: join(lab.dir, 'state') }, 'net.path-mtu', 'mtu-host', [`target=${target}`], more);

	it('peer behind the 1498 bridge port -> fail, pathMtu 1498, shortBy 2, black-hole, exit 1', async () => {
		const r = await check(lab.peers.short);
		expect(r.stderr).toBe('');
		const v = JSON.parse(r.stdout);
		expect(v).toMatchObject({ check: 'net.path-mtu', host: 'mtu-host', status: 'fail' });
		expect(v.facts).toMatchObject({ pathMtu: 1498, maxPayload: 1470, shortBy: 2, failureMode: 'black-hole', expectedMtu: 1500 });
		// 1472 and 1471 lost and retried, 1470 answered: the short search the trailer signature allows.
		expect(v.facts.tried).toEqual(['1472 lost x2', '1470 reply', '1471 lost x2']);
		expect(v.summary).toMatch(/USB NIC trailer/);
		expect(v.next).toBe('usb-nic-trailer#find-the-usb-nic-and-its-driver');
		expect(v.evidence.map((e: { command: string }) => e.command)).toContain(`ping -M do -s 1470 -c 1 -W 1 -n ${lab.peers.short}`);
		expect(r.code).toBe(1);
	});

	it('peer-clean, 1500 everywhere -> pass, exit 0', async () => {
		const r = await check(lab.peers.clean);
		const v = JSON.parse(r.stdout);
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ pathMtu: 1500, shortBy: 0, failureMode: 'none' });
		expect(v.next).toBe('#if-the-path-is-clean');
		expect(r.code).toBe(0);
	});

	it('through the VXLAN without dev -> fail, pathMtu 1450, shortBy 50, the overlay step, exit 1', async () => {
		const r = await check(lab.peers.overlay);
		const v = JSON.parse(r.stdout);
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ pathMtu: 1450, shortBy: 50, egressDev: lab.vxlan.name, egressMtu: lab.vxlan.mtu });
		expect(v.next).toBe('overlay-mtu#fix-the-overlay-mtu');
		expect(r.code).toBe(1);
	});

	it('expectMtu 1400 on the short path -> pass, exit 0', async () => {
		const r = await check(lab.peers.short, '--param', 'expectMtu=1400');
		expect(JSON.parse(r.stdout)).toMatchObject({ status: 'pass', facts: { expectedMtu: 1400, pathMtu: 1400 } });
		expect(r.code).toBe(0);
	});
});

describe('net.path-mtu refuses a bad target before anything runs', () => {
	it.each([['1.2.3.4;id'], ['$(id)'], ['host.example'], ['1.2.3.4 -c 1000']])('target=%s -> exit 2 InvalidParams', async (target) => {
		const r = await runCli(['check', 'net.path-mtu', '--host', 'local', '--param', `target=${target}`, '--json']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/InvalidParams/);
		expect(r.stderr).toMatch(/an IPv4 or IPv6 address/);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
		expect(r.stdout).toBe('');
	});

	it('expectMtu=20000 -> exit 2 InvalidParams', async () => {
		const r = await runCli(['check', 'net.path-mtu', '--host', 'local', '--param', 'target=198.19.0.1', '--param', 'expectMtu=20000']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/InvalidParams/);
	});
});

describe.skipIf(unavailable !== null)(`the MTU lab cleans up after a failed start${skipped}`, () => {
	it('a start that fails after the first sshd leaves no namespace, link or sshd behind', async () => {
		let id = '';
		let sshdPids: number[] = [];
		const start = startMtuLab({
			onStep: async (step, labId) => {
				id = labId;
				if (step !== 'more-sshd') return;
				const { stdout } = await run('ip', ['netns', 'pids', `rbmtu-${labId}-h`]);
				sshdPids = stdout.split('\n').filter(Boolean).map(Number);
				throw new Error('injected failure');
			},
		});
		await expect(start).rejects.toThrow('injected failure');
		expect(id).not.toBe('');
		expect(sshdPids.length).toBeGreaterThan(0);
		expect(await labLeftovers(id)).toEqual([]);
		for (const pid of sshdPids) expect(() => process.kill(pid, 0), `pid ${pid} still runs`).toThrow();
	});
});
