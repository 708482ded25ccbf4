/**
 * nic.tx-stalled over real SSH, through the CLI, against a lab host whose second interface really
 * stops transmitting: `w0` in the host's namespace, its veth peer `w1` in a namespace of its own
 * pinging it, and a token bucket on `w0` whose 10-byte burst is smaller than any frame, so tbf
 * refuses every packet at enqueue (senders get "No buffer space available"): frames keep arriving
 * and none leave, the counter signature of weave#2289's wedged virtio queue (see
 * checks/nic/fixtures/tx-stalled/SOURCES.md). A larger burst would let a queued frame leak out each
 * time the bucket refills, and the sample could catch it. `eth0`, which carries the SSH session, is the
 * healthy case: the check's own reads make it transmit between the samples.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../support/cli.ts';
import { startLab, writeLabFiles, type Lab } from '../support/lab.ts';

const run = promisify(execFile);

let lab: Lab;
let inventory: string;
let knownHosts: string;
let peerNs: string | undefined;
let pinger: ChildProcess | undefined;
/** RFC 2544 addresses outside the lab's own 198.18.0.0/16 block. */
const VM_ADDR = '198.19.255.1';
const PEER_ADDR = '198.19.255.2';

beforeAll(async () => {
	lab = await startLab([{ name: 'vm' }]);
	({ inventory, knownHosts } = writeLabFiles(lab));
	const ns = lab.hosts.get('vm')!.netns;
	if (!ns) return;
	peerNs = `rb-peer-${randomBytes(2).toString('hex')}`;
	const inNs = (n: string, ...argv: string[]) => run('ip', ['netns', 'exec', n, ...argv]);
	await run('ip', ['netns', 'add', peerNs]);
	await run('ip', ['-n', ns, 'link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1', 'netns', peerNs]);
	for (const [n, dev, addr] of [
		[ns, 'w0', VM_ADDR],
		[peerNs, 'w1', PEER_ADDR],
	] as const) {
		await inNs(n, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`);
		await run('ip', ['-n', n, 'addr', 'add', `${addr}/30`, 'dev', dev]);
		await run('ip', ['-n', n, 'link', 'set', dev, 'up']);
	}
	await inNs(ns, 'tc', 'qdisc', 'add', 'dev', 'w0', 'root', 'tbf', 'rate', '8bit', 'burst', '10', 'limit', '3000');
	pinger = spawn('ip', ['netns', 'exec', peerNs, 'ping', '-q', '-i', '0.2', VM_ADDR], { stdio: 'ignore' });
	await new Promise((r) => setTimeout(r, 600));
	console.info(`[lab] mode: ${lab.mode}`);
});

afterAll(async () => {
	pinger?.kill();
	if (peerNs) await run('ip', ['netns', 'delete', peerNs]).catch(() => {});
	await lab?.stop();
});

const check = (...params: string[]) =>
	runCheck({ inventory, knownHosts, stateDir: join(lab.dir, 'state') }, 'nic.tx-stalled', 'vm', params);

describe('nic.tx-stalled over SSH, through the CLI', () => {
	it('eth0, carrying the SSH session -> pass, exit 0', async () => {
		const r = await check('iface=eth0', 'intervalMs=1000');
		const v = JSON.parse(r.stdout);
		expect(v.status, v.summary).toBe('pass');
		expect(v.facts.tx_packetsDelta).toBeGreaterThan(0);
		expect(r.code).toBe(0);
	});

	it('w0, receiving pings but sending nothing -> fail, exit 1', async (ctx) => {
		if (!peerNs) ctx.skip('network namespaces are not available here: the loopback fallback has no second interface to stop');
		const r = await check('iface=w0', 'intervalMs=1500');
		const v = JSON.parse(r.stdout);
		expect(v.status, v.summary).toBe('fail');
		expect(v.next).toBe('#recover-the-wedged-vm');
		expect(v.facts.tx_packetsDelta).toBe(0);
		expect(v.facts.rx_packetsDelta).toBeGreaterThan(0);
		expect(v.evidence).toHaveLength(9);
		expect(r.code).toBe(1);
	});

	it('an interface the host does not have -> error InvalidParams, exit 2', async () => {
		const r = await check('iface=nosuch0');
		const v = JSON.parse(r.stdout);
		expect(v).toMatchObject({ status: 'error', code: 'InvalidParams' });
		expect(v.summary).toContain('eth0');
		expect(r.code).toBe(2);
	});

	it('an interval out of bounds is refused before anything runs, exit 2', async () => {
		const r = await check('iface=eth0', 'intervalMs=50');
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/intervalMs/);
	});
});
