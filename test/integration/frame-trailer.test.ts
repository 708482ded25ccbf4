/**
 * `capture.frame-trailer` for real, over SSH, through the CLI. Two network namespaces stand for a
 * hypervisor and the peer behind its USB NIC:
 *
 *   test process --veth--> [host: eth0, sshd | usbnic0] --veth--> [peer: eth0]
 *
 * The check runs on `host` and captures on `usbnic0`. For the broken NIC, a python3 sender in `peer`
 * writes ICMP echo requests with an AF_PACKET socket whose Ethernet frames carry 2 bytes (0x96 0x1f,
 * as in Jeremy Kerr's ax88179_178a capture) after the IP datagram, so `usbnic0` really receives
 * 1400-byte pings as frames 2 bytes too long, and the host's kernel answers them. For the healthy
 * one, plain `ping -s 1400` from the peer. IPv6 is off on the pair so the quiet case stays quiet.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVerdict } from '../support/cli.ts';
import { haveNetns, startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const netns = await haveNetns();

/** Sends ICMP echo requests of `size` data bytes with `trailer` extra bytes, every 50 ms, until killed. */
const SENDER = `
import socket, struct, sys, time
iface, dst_mac, src, dst, size, trailer = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src_mac = s.getsockname()[4]
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
seq = 0
while True:
    seq = (seq + 1) & 0xffff
    icmp = struct.pack('!BBHHH', 8, 0, 0, 0x1234, seq) + bytes(i & 0xff for i in range(size))
    icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), seq, 0x4000, 64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    eth = bytes.fromhex(dst_mac.replace(':', '')) + src_mac + b'\\x08\\x00'
    s.send(eth + ip + icmp + (b'\\x96\\x1f' * 4)[:trailer])
    time.sleep(0.05)
`;

// Two namespaces and an AF_PACKET sender need root and netns; loopback sshd cannot fake a second link.
describe.skipIf(!netns)('capture.frame-trailer over SSH, on a NIC that really receives 2 extra bytes', () => {
	const id = randomBytes(3).toString('hex');
	const hostNs = `rbft-${id}-h`;
	const peerNs = `rbft-${id}-p`;
	const outside = `rbft${id}`;
	// 198.18.0.0/15 (RFC 2544): a /30 for SSH from outside, a /30 for the NIC and its peer.
	const octet = 128 + (Number.parseInt(id.slice(0, 2), 16) % 128);
	const base = (Number.parseInt(id.slice(2, 4), 16) % 32) * 8;
	const addr = (n: number) => `198.19.${octet}.${base + n}`;
	const sshAddr = addr(2);
	const nicAddr = addr(5);
	const peerAddr = addr(6);

	let dir: string;
	let sshd: Sshd | undefined;
	let inventory: string;
	let knownHosts: string;
	let nicMac: string;
	const cleanups: (() => Promise<unknown>)[] = [];

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'runbook-frame-trailer-'));
		cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
		const ip = (...args: string[]) => run('ip', args);
		await ip('netns', 'add', hostNs);
		cleanups.push(() => ip('netns', 'delete', hostNs));
		await ip('netns', 'add', peerNs);
		cleanups.push(() => ip('netns', 'delete', peerNs));
		// Deleting the namespaces takes their veth ends and so the peers with them.
		await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs);
		await ip('addr', 'add', `${addr(1)}/30`, 'dev', outside);
		await ip('link', 'set', outside, 'up');
		await ip('-n', hostNs, 'addr', 'add', `${sshAddr}/30`, 'dev', 'eth0');
		await ip('-n', hostNs, 'link', 'set', 'eth0', 'up');
		await ip('-n', hostNs, 'link', 'set', 'lo', 'up');
		await ip('-n', hostNs, 'link', 'add', 'usbnic0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs);
		for (const [ns, dev, a] of [
			[hostNs, 'usbnic0', nicAddr],
			[peerNs, 'eth0', peerAddr],
		] as const) {
			await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
			await ip('-n', ns, 'addr', 'add', `${a}/30`, 'dev', dev);
			await ip('-n', ns, 'link', 'set', dev, 'up');
		}
		nicMac = (await run('ip', ['netns', 'exec', hostNs, 'cat', '/sys/class/net/usbnic0/address'])).stdout.trim();

		sshd = await startSshd({ netns: hostNs, address: sshAddr });
		cleanups.push(() => sshd!.stop());
		inventory = join(dir, 'inventory.yaml');
		writeFileSync(
			inventory,
			[
				'all:',
				'  hosts:',
				'    hypervisor:',
				`      ansible_host: ${sshd.address}`,
				`      ansible_port: ${sshd.port}`,
				'      ansible_user: root',
				`      ansible_ssh_private_key_file: ${sshd.clientKeyFile}`,
				'',
			].join('\n'),
		);
		knownHosts = join(dir, 'known_hosts');
		sshd.writeKnownHosts(knownHosts);
		writeFileSync(join(dir, 'sender.py'), SENDER);
	});

	afterAll(async () => {
		for (const c of cleanups.reverse()) await c().catch(() => {});
	});

	/** A process in the peer namespace, stopped (and awaited) by the returned function. */
	function inPeer(argv: string[]): () => Promise<void> {
		const child: ChildProcess = spawn('ip', ['netns', 'exec', peerNs, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
		let err = '';
		child.stderr!.on('data', (d: Buffer) => (err += d));
		return async () => {
			// Gone before we stop it means the traffic never flowed.
			if (child.exitCode !== null || child.signalCode !== null)
				throw new Error(`${argv.join(' ')} exited early (${child.exitCode ?? child.signalCode}): ${err}`);
			const gone = new Promise((r) => child.once('exit', r));
			child.kill('SIGTERM');
			await gone;
		};
	}

	const check = (...params: string[]) =>
		checkVerdict({ inventory, knownHosts, stateDir: join(dir, 'state') }, 'capture.frame-trailer', 'hypervisor', params);

	/** The check, run while `argv` sends traffic from the peer; the traffic is stopped after. */
	const checkDuring = async (argv: string[], ...params: string[]) => {
		const stop = inPeer(argv);
		try {
			return await check(...params);
		} finally {
			await stop();
		}
	};

	it('pings arriving with 2 extra bytes -> fail, trailer 2, next: the kernel fix, exit 1', async () => {
		const sender = ['python3', join(dir, 'sender.py'), 'eth0', nicMac, peerAddr, nicAddr, '1400', '2'];
		const { code, v } = await checkDuring(sender, 'iface=usbnic0', 'count=10', 'seconds=15');
		expect(v).toMatchObject({
			check: 'capture.frame-trailer',
			host: 'hypervisor',
			status: 'fail',
			next: '#fix-a-kernel-with-the-ax88179_178a-fix',
		});
		expect(v.facts).toMatchObject({
			iface: 'usbnic0',
			trailerBytes: 2,
			trailerSizes: [2],
			ownMac: nicMac,
			stoppedBy: 'count',
			largestFrame: 1444,
		});
		// The requests arrive with the trailer; the host's replies leave clean.
		expect(v.facts.framesWithTrailer).toBeGreaterThanOrEqual(4);
		expect(v.facts.framesJudgedSent).toBeGreaterThanOrEqual(3);
		expect(v.summary).toMatch(/carry 2 extra bytes after the IP datagram/);
		expect(v.summary).toContain('1444 - 14 - 1428 = 2');
		const capture = v.evidence.at(-1);
		expect(capture.command).toBe("timeout 15 tcpdump -p -e -nn -vv -l -c 10 -i usbnic0 'ip or ip6 or (vlan and (ip or ip6))'");
		expect(capture.lines.length).toBe(v.facts.framesWithTrailer);
		const lines = capture.output.split('\n');
		for (const n of capture.lines) expect(lines[n - 1]).toMatch(/length 1444: \(tos .* length 1428\)$/);
		expect(capture.output).toMatch(/^10 packets captured$/m);
		expect(code).toBe(1);
	});

	it('plain ping -s 1400 -> pass, frames add up exactly, exit 0', async () => {
		const { code, v } = await checkDuring(['ping', '-i', '0.1', '-s', '1400', nicAddr], 'iface=usbnic0', 'count=10', 'seconds=15');
		expect(v).toMatchObject({ status: 'pass', next: '#check-the-mtu-of-every-link-on-the-path' });
		expect(v.facts).toMatchObject({ trailerBytes: 0, framesWithTrailer: 0, largestFrame: 1442 });
		expect(v.facts.framesJudgedReceived).toBeGreaterThanOrEqual(4);
		expect(code).toBe(0);
	});

	it('a quiet link -> error OutputEmpty that says to generate full-size traffic, exit 2', async () => {
		const { code, v } = await check('iface=usbnic0', 'seconds=2');
		expect(v).toMatchObject({ status: 'error', code: 'OutputEmpty', next: '#prove-the-2-extra-bytes-with-a-capture' });
		expect(v.summary).toMatch(/^No full-size traffic seen on usbnic0: 0 frames in 2 s/);
		expect(v.facts).toMatchObject({ stoppedBy: 'time', packetsCaptured: 0 });
		expect(code).toBe(2);
	});

	it('an interface the host does not have -> error CommandFailed before any capture', async () => {
		const { code, v } = await check('iface=nosuch0');
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toMatch(/no interface nosuch0/);
		expect(v.evidence.map((e: { command: string }) => e.command)).toEqual(['cat /sys/class/net/nosuch0/address']);
		expect(code).toBe(2);
	});
});
