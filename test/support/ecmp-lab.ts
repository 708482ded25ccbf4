/**
 * The ECMP lab: hosts with a real two-next-hop multipath route, each with its own real sshd
 * (DOMAIN.md section 6, issue 4 "Real hosts in the tests").
 *
 * Three lab hosts from `startLab` (test/support/lab.ts: a network namespace, a management veth from
 * the test process, sshd on it), named as the hosts:
 * - `src`: a multipath route to DST over two routers, `net.ipv4.fib_multipath_hash_policy = 0` and
 *   `net.ipv6.fib_multipath_hash_policy = 0` (L3: every flow between one pair of hosts on one path);
 * - `src2`: the same, with both policies at 1 (L4: ports in the hash, flows spread);
 * - `plain`: no multipath route at all.
 *
 * Behind `src` and `src2` (namespaces of their own, per host):
 *
 * ```
 *   src [lo 198.19.0.1]  up1 198.19.1.1 ---- 198.19.1.2 south  r1  north 198.19.3.1 ---- 198.19.3.2 in1  dst
 *                        up2 198.19.2.1 ---- 198.19.2.2 south  r2  north 198.19.4.1 ---- 198.19.4.2 in2  [lo 198.19.9.9]
 *   198.19.9.9/32 nexthop via 198.19.1.2 dev up1 weight 1 nexthop via 198.19.2.2 dev up2 weight 1
 *   2001:2:0:9::9/128 nexthop via 2001:2:0:1::2 dev up1 nexthop via 2001:2:0:2::2 dev up2
 * ```
 *
 * The routers forward to `dst` and back (dst answers over r1 only, with rp_filter off), so the flows
 * are real forwarded traffic. Addresses are RFC 2544 / RFC 5180 benchmarking space (198.18.0.0/15,
 * 2001:2::/48); every inner address lives only inside the lab's namespaces.
 *
 * `startFlows(host)` runs a traffic generator inside the host's namespace: FLOWS UDP sockets bound to
 * the same source address (198.19.0.1, so one src/dst IP pair) on as many source ports, each sending
 * one small datagram to DST per tick. With policy 0 one uplink carries all of it; with policy 1 the
 * flows split about evenly (DOMAIN.md: 400 flows gave 0/400 and 194/206).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startLab, writeLabFiles, type Lab, type LabOptions } from './lab.ts';

const run = promisify(execFile);

/** Where the multipath routes lead. */
export const DST = '198.19.9.9';
export const DST6 = '2001:2:0:9::9';
/** The source address every generated flow uses (on the host's loopback). */
export const SRC = '198.19.0.1';
/** The two members of the multipath route on `src` and `src2`. */
export const UPLINKS = ['up1', 'up2'] as const;
/** UDP flows the generator keeps going, one per source port. */
export const FLOWS = 400;
/** Destination port of every generated flow. */
export const DPORT = 9999;
/** Milliseconds between two rounds of FLOWS datagrams (400 every 100 ms: 4000 packets/s). */
const TICK_MS = 100;

export type EcmpHostName = 'src' | 'src2' | 'plain';

export interface EcmpLabHost {
	name: EcmpHostName;
	netns: string;
	/** fib_multipath_hash_policy set for IPv4 and IPv6; null on `plain` (left at the kernel default). */
	policy: 0 | 1 | null;
}

export interface Flows {
	/** Datagrams sent so far, as the generator last reported them. */
	sent(): number;
	stop(): Promise<void>;
}

export interface EcmpLab {
	lab: Lab;
	hosts: Record<EcmpHostName, EcmpLabHost>;
	inventory: string;
	knownHosts: string;
	/** Start the UDP flows inside `host`'s namespace; resolves once the first round is out. */
	startFlows(host: EcmpHostName): Promise<Flows>;
	/** Stop every generator, remove every namespace and veth, stop every sshd. */
	stop(): Promise<void>;
}

const ip = (...args: string[]) => run('ip', args).then(() => {});
const inNs = (ns: string, ...argv: string[]) => run('ip', ['netns', 'exec', ns, ...argv]).then(() => {});

/** Routers r1, r2 and the destination behind `ns`, and the multipath routes on it. */
async function buildPaths(ns: string, policy: 0 | 1, extra: string[]): Promise<void> {
	const r1 = `${ns}-r1`;
	const r2 = `${ns}-r2`;
	const d = `${ns}-d`;
	for (const n of [r1, r2, d]) {
		await ip('netns', 'add', n);
		extra.push(n);
		await ip('-n', n, 'link', 'set', 'lo', 'up');
	}
	// Before any link exists, so every interface of dst inherits the default: replies go back over r1 only.
	await inNs(d, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
	for (const r of [r1, r2]) await inNs(r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');

	await ip('-n', ns, 'link', 'add', 'up1', 'type', 'veth', 'peer', 'name', 'south', 'netns', r1);
	await ip('-n', ns, 'link', 'add', 'up2', 'type', 'veth', 'peer', 'name', 'south', 'netns', r2);
	await ip('-n', r1, 'link', 'add', 'north', 'type', 'veth', 'peer', 'name', 'in1', 'netns', d);
	await ip('-n', r2, 'link', 'add', 'north', 'type', 'veth', 'peer', 'name', 'in2', 'netns', d);

	const addr = async (n: string, dev: string, v4: string, v6: string) => {
		await ip('-n', n, 'addr', 'add', v4, 'dev', dev);
		await ip('-n', n, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
		await ip('-n', n, 'link', 'set', 'dev', dev, 'up');
	};
	await addr(ns, 'up1', '198.19.1.1/30', '2001:2:0:1::1/64');
	await addr(ns, 'up2', '198.19.2.1/30', '2001:2:0:2::1/64');
	await addr(r1, 'south', '198.19.1.2/30', '2001:2:0:1::2/64');
	await addr(r2, 'south', '198.19.2.2/30', '2001:2:0:2::2/64');
	await addr(r1, 'north', '198.19.3.1/30', '2001:2:0:3::1/64');
	await addr(r2, 'north', '198.19.4.1/30', '2001:2:0:4::1/64');
	await addr(d, 'in1', '198.19.3.2/30', '2001:2:0:3::2/64');
	await addr(d, 'in2', '198.19.4.2/30', '2001:2:0:4::2/64');
	await ip('-n', ns, 'addr', 'add', `${SRC}/32`, 'dev', 'lo');
	await ip('-n', d, 'addr', 'add', `${DST}/32`, 'dev', 'lo');
	await ip('-n', d, '-6', 'addr', 'add', `${DST6}/128`, 'dev', 'lo');

	await ip('-n', r1, 'route', 'add', `${DST}/32`, 'via', '198.19.3.2');
	await ip('-n', r2, 'route', 'add', `${DST}/32`, 'via', '198.19.4.2');
	await ip('-n', r1, 'route', 'add', `${SRC}/32`, 'via', '198.19.1.1');
	await ip('-n', r2, 'route', 'add', `${SRC}/32`, 'via', '198.19.2.1');
	await ip('-n', d, 'route', 'add', `${SRC}/32`, 'via', '198.19.3.1');

	await inNs(ns, 'sysctl', '-qw', `net.ipv4.fib_multipath_hash_policy=${policy}`, `net.ipv6.fib_multipath_hash_policy=${policy}`);
	await ip(
		'-n',
		ns,
		'route',
		'add',
		`${DST}/32`,
		'nexthop',
		'via',
		'198.19.1.2',
		'dev',
		'up1',
		'weight',
		'1',
		'nexthop',
		'via',
		'198.19.2.2',
		'dev',
		'up2',
		'weight',
		'1',
	);
	await ip(
		'-n',
		ns,
		'-6',
		'route',
		'add',
		`${DST6}/128`,
		'nexthop',
		'via',
		'2001:2:0:1::2',
		'dev',
		'up1',
		'nexthop',
		'via',
		'2001:2:0:2::2',
		'dev',
		'up2',
	);
}

/**
 * The generator, run by node inside the namespace: FLOWS sockets on SRC, one datagram each per tick,
 * and a line `sent N` on stdout after every round so the test can tell it is running.
 */
const GENERATOR = `
const dgram = require('node:dgram');
const [src, dst, dport, flows, tick] = process.argv.slice(1);
const payload = Buffer.alloc(32, 0x61);
const sockets = [];
let bound = 0;
let sent = 0;
for (let i = 0; i < Number(flows); i++) {
	const s = dgram.createSocket('udp4');
	s.on('error', (e) => { console.error(String(e)); process.exit(3); });
	s.bind({ address: src, port: 0 }, () => { if (++bound === Number(flows)) start(); });
	sockets.push(s);
}
function round() {
	for (const s of sockets) s.send(payload, Number(dport), dst, () => { sent++; });
	setTimeout(() => process.stdout.write('sent ' + sent + '\\n'), 5);
}
function start() { round(); setInterval(round, Number(tick)); }
`;

async function startGenerator(ns: string): Promise<Flows> {
	const child: ChildProcess = spawn(
		'ip',
		['netns', 'exec', ns, process.execPath, '-e', GENERATOR, SRC, DST, String(DPORT), String(FLOWS), String(TICK_MS)],
		{
			stdio: ['ignore', 'pipe', 'pipe'],
		},
	);
	let sent = 0;
	let err = '';
	child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`flow generator in ${ns} sent nothing in 10 s: ${err}`)), 10_000);
		child.stdout!.on('data', (d: Buffer) => {
			const last = /sent (\d+)\n$/.exec(d.toString());
			if (last) sent = Number(last[1]);
			if (sent > 0) {
				clearTimeout(timer);
				resolve();
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`flow generator in ${ns} exited (${code}): ${err}`));
		});
	});
	let stopped = false;
	return {
		sent: () => sent,
		async stop() {
			if (stopped) return;
			stopped = true;
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited;
		},
	};
}

export async function startEcmpLab(options: LabOptions = {}): Promise<EcmpLab> {
	const lab = await startLab([{ name: 'src' }, { name: 'src2' }, { name: 'plain' }], options);
	const extra: string[] = [];
	const flows: Flows[] = [];
	const stop = async () => {
		for (const f of flows) await f.stop().catch(() => {});
		// Deleting a namespace destroys its veths, and with them their peers in the hosts' namespaces.
		for (const n of extra.reverse()) await ip('netns', 'delete', n).catch(() => {});
		await lab.stop();
	};
	try {
		if (lab.mode !== 'netns') throw new Error('the ECMP lab needs network namespaces (run as root where `ip netns add` is allowed)');
		const nsOf = (name: EcmpHostName) => lab.hosts.get(name)!.netns!;
		const hosts: Record<EcmpHostName, EcmpLabHost> = {
			src: { name: 'src', netns: nsOf('src'), policy: 0 },
			src2: { name: 'src2', netns: nsOf('src2'), policy: 1 },
			plain: { name: 'plain', netns: nsOf('plain'), policy: null },
		};
		await buildPaths(hosts.src.netns, 0, extra);
		await buildPaths(hosts.src2.netns, 1, extra);

		const { inventory, knownHosts } = writeLabFiles(lab);
		return {
			lab,
			hosts,
			inventory,
			knownHosts,
			async startFlows(host) {
				const f = await startGenerator(hosts[host].netns);
				flows.push(f);
				return f;
			},
			stop,
		};
	} catch (e) {
		await stop();
		throw e;
	}
}
