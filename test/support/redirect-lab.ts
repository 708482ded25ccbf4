/**
 * The redirect lab: a Linux router that hairpins traffic and sends ICMP redirects, a host that
 * receives them, and a clean host, each with its own real sshd (DOMAIN.md section 5, issue 4 "Real
 * hosts in the tests").
 *
 * Three lab hosts from `startLab` (test/support/lab.ts: a network namespace each, a management veth
 * eth0 from the test process, sshd on it), plus two namespaces of its own:
 *
 * ```
 *                      [switch: bridge br0]
 *            eth1 |               | eth1               | eth1
 *   host 198.18.Y.10/24    router 198.18.Y.1/24    router2 198.18.Y.2/24   lo 198.19.Y.1 (HAIRPIN_DST)
 *   (+ .11-.250,           ip_forward 1            ip_forward 0
 *    default via .1,       198.19.Y.0/25 via 198.18.Y.2   <- back out eth1: the hairpin
 *    accept_redirects 0)   eth2 198.19.Y.129/25 ---- eth1 198.19.Y.130/25  clean (CLEAN_DST)
 * ```
 *
 * The host reaches 198.19.Y.1 through its gateway, the router, which routes it back out eth1 to
 * router2 on the same LAN: every packet is forwarded and the sender gets an ICMP redirect
 * (`ip route get 198.19.Y.1 from 198.18.Y.10 iif eth1` on the router prints `cache <redirect>`).
 * The host has accept_redirects off, as a router-like host would, so it keeps sending through the
 * hairpin. 198.19.Y.130 (the clean host) leaves the router by eth2: no hairpin.
 *
 * Y is picked from 200-249, so the LAN never overlaps the /30 management links `startLab` takes from
 * 198.18.0-199.x; every lab address lives only inside the lab's namespaces.
 *
 * `startTraffic()` runs the pings that make the counters move. The kernel rate-limits redirects per
 * sender (net/ipv4/route.c ip_rt_send_redirect: at most route.redirect_number = 9, each after a
 * doubling wait, then none until the sender has been quiet for route.redirect_silence = 5120 jiffies,
 * 20.48 s at HZ 250; init_net values, not settable in a namespace). A single sender would show a few
 * redirects and then silence, so the generator rotates over the host's 240 source addresses, two
 * pings each, one address every 100 ms: 24 s per round, longer than the silence, so every address
 * starts afresh and the router sends about 20 redirects a second for as long as it runs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLab, writeLabFiles, type Lab, type LabOptions } from './lab.ts';

const run = promisify(execFile);

export type RedirectHostName = 'router' | 'host' | 'clean';

export interface RedirectLab {
	lab: Lab;
	/** Network namespace of each lab host. */
	netns: Record<RedirectHostName, string>;
	/** The host's address on the LAN (the redirects' destination). */
	hostAddr: string;
	routerAddr: string;
	router2Addr: string;
	/** The router's LAN interface: where the hairpinned traffic arrives and leaves. */
	iif: 'eth1';
	/** Behind router2, reached through the router and back out the LAN: the hairpin. */
	hairpinDst: string;
	/** The clean host, behind the router's eth2: no hairpin. */
	cleanDst: string;
	inventory: string;
	knownHosts: string;
	/** Icmp InRedirects / OutRedirects of a lab host, read from its /proc/net/snmp. */
	redirects(name: RedirectHostName): Promise<{ inRedirects: number; outRedirects: number }>;
	/** Start the rotating pings host -> hairpinDst; resolves once the router's OutRedirects rose. */
	startTraffic(): Promise<Traffic>;
	/** Stop every generator, remove every namespace and veth, stop every sshd. */
	stop(): Promise<void>;
}

export interface Traffic {
	stop(): Promise<void>;
}

/** Source addresses on the host beyond its own .10: .11 to .250. */
const FIRST_SOURCE = 11;
const LAST_SOURCE = 250;

const ip = (...args: string[]) => run('ip', args).then(() => {});
const inNs = (ns: string, ...argv: string[]) => run('ip', ['netns', 'exec', ns, ...argv]);

async function readRedirects(ns: string): Promise<{ inRedirects: number; outRedirects: number }> {
	const { stdout } = await inNs(ns, 'cat', '/proc/net/snmp');
	const [head, values] = stdout.split('\n').filter((l) => l.startsWith('Icmp: '));
	if (!head || !values) throw new Error(`no Icmp lines in /proc/net/snmp of ${ns}`);
	const names = head.split(' ');
	const nums = values.split(' ');
	const get = (n: string) => Number(nums[names.indexOf(n)]);
	return { inRedirects: get('InRedirects'), outRedirects: get('OutRedirects') };
}

/** A LAN third octet no address of this machine's own namespace uses yet. */
async function freeOctet(): Promise<number> {
	const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
	for (let i = 0; i < 50; i++) {
		const y = randomInt(200, 250);
		if (!stdout.includes(`198.18.${y}.`) && !stdout.includes(`198.19.${y}.`)) return y;
	}
	throw new Error('no free 198.18.200-249.0/24 for the redirect lab');
}

export async function startRedirectLab(options: LabOptions = {}): Promise<RedirectLab> {
	const lab = await startLab([{ name: 'router' }, { name: 'host' }, { name: 'clean' }], options);
	const extra: string[] = [];
	const generators: Traffic[] = [];
	const stop = async () => {
		for (const g of generators) await g.stop().catch(() => {});
		// Deleting a namespace destroys its veths, and with them their peers in the hosts' namespaces.
		for (const n of extra.reverse()) await ip('netns', 'delete', n).catch(() => {});
		await lab.stop();
	};
	try {
		if (lab.mode !== 'netns') throw new Error('the redirect lab needs network namespaces (run as root where `ip netns add` is allowed)');
		const netns = { router: lab.hosts.get('router')!.netns!, host: lab.hosts.get('host')!.netns!, clean: lab.hosts.get('clean')!.netns! };
		const y = await freeOctet();
		const lan = (n: number) => `198.18.${y}.${n}`;
		const sw = `${netns.router}-sw`;
		const r2 = `${netns.router}-r2`;
		for (const n of [sw, r2]) {
			await ip('netns', 'add', n);
			extra.push(n);
			await ip('-n', n, 'link', 'set', 'lo', 'up');
		}

		// Redirect settings before the LAN links exist, so `default` carries them onto eth1.
		await inNs(
			netns.router,
			'sysctl',
			'-qw',
			'net.ipv4.ip_forward=1',
			'net.ipv4.conf.all.send_redirects=1',
			'net.ipv4.conf.default.send_redirects=1',
		);
		// eth0, the management link, already exists: it gets its own 0.
		await inNs(
			netns.host,
			'sysctl',
			'-qw',
			'net.ipv4.conf.all.accept_redirects=0',
			'net.ipv4.conf.default.accept_redirects=0',
			'net.ipv4.conf.eth0.accept_redirects=0',
		);

		await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
		await ip('-n', sw, 'link', 'set', 'br0', 'up');
		for (const [i, n] of [netns.host, netns.router, r2].entries()) {
			await ip('-n', n, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw);
			await ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
			await ip('-n', n, 'link', 'set', 'eth1', 'up');
		}
		await ip('-n', netns.router, 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', netns.clean);

		await ip('-n', netns.host, 'addr', 'add', `${lan(10)}/24`, 'dev', 'eth1');
		const batch = [];
		for (let n = FIRST_SOURCE; n <= LAST_SOURCE; n++) batch.push(`addr add ${lan(n)}/24 dev eth1`);
		const batchFile = join(lab.dir, 'host-addresses.batch');
		writeFileSync(batchFile, batch.join('\n') + '\n');
		await ip('-n', netns.host, '-batch', batchFile);
		await ip('-n', netns.router, 'addr', 'add', `${lan(1)}/24`, 'dev', 'eth1');
		await ip('-n', r2, 'addr', 'add', `${lan(2)}/24`, 'dev', 'eth1');
		await ip('-n', r2, 'addr', 'add', `198.19.${y}.1/32`, 'dev', 'lo');
		await ip('-n', netns.router, 'addr', 'add', `198.19.${y}.129/25`, 'dev', 'eth2');
		await ip('-n', netns.router, 'link', 'set', 'eth2', 'up');
		await ip('-n', netns.clean, 'addr', 'add', `198.19.${y}.130/25`, 'dev', 'eth1');
		await ip('-n', netns.clean, 'link', 'set', 'eth1', 'up');

		await ip('-n', netns.host, 'route', 'add', 'default', 'via', lan(1));
		await ip('-n', netns.router, 'route', 'add', `198.19.${y}.0/25`, 'via', lan(2));

		const { inventory, knownHosts } = writeLabFiles(lab);

		const hairpinDst = `198.19.${y}.1`;
		const self: RedirectLab = {
			lab,
			netns,
			hostAddr: lan(10),
			routerAddr: lan(1),
			router2Addr: lan(2),
			iif: 'eth1',
			hairpinDst,
			cleanDst: `198.19.${y}.130`,
			inventory,
			knownHosts,
			redirects: (name) => readRedirects(netns[name]),
			async startTraffic() {
				const before = (await readRedirects(netns.router)).outRedirects;
				const script = [
					'while :; do',
					`  for n in $(seq ${FIRST_SOURCE} ${LAST_SOURCE}); do`,
					`    ping -q -n -c 2 -i 0.05 -W 1 -I 198.18.${y}.$n ${hairpinDst} >/dev/null 2>&1 &`,
					'    sleep 0.1',
					'  done',
					'done',
				].join('\n');
				// Its own process group, so stop() ends the loop and every ping it started, and nothing else.
				const child: ChildProcess = spawn('ip', ['netns', 'exec', netns.host, 'sh', '-c', script], { stdio: 'ignore', detached: true });
				const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
				let stopped = false;
				const traffic: Traffic = {
					async stop() {
						if (stopped) return;
						stopped = true;
						try {
							process.kill(-child.pid!, 'SIGTERM');
						} catch {
							// already gone
						}
						await exited;
					},
				};
				generators.push(traffic);
				for (let i = 0; ; i++) {
					if ((await readRedirects(netns.router)).outRedirects > before) return traffic;
					if (i > 50 || child.exitCode !== null) {
						await traffic.stop();
						throw new Error(`no ICMP redirect from the router within 5 s of starting the traffic (${hairpinDst} via ${lan(1)})`);
					}
					await new Promise((r) => setTimeout(r, 100));
				}
			},
			stop,
		};
		return self;
	} catch (e) {
		await stop();
		throw e;
	}
}
