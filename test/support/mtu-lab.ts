/**
 * The MTU lab of issue 3: real paths whose MTU is wrong, built from network namespaces, with real
 * sshd's for the checks to log in to (DESIGN.md, "Testing").
 *
 *   test process (root namespace)
 *     | mgmt veth           | mgmt veth              | mgmt veth
 *   mtu-host (h)          mtu-bridge (br)           mtu-clean (c)
 *     lan0 ---- veth ---- hp  [br0]  cp ---- veth ---- lan0
 *     vx0bad                  sp                       vx0
 *                             | veth (sp: MTU 1498)
 *                           peer-short (s): lan0
 *
 * - `peer-short` sits behind bridge port `sp` with MTU 1498, every other link is 1500: DF pings from
 *   h of 1470 bytes (IP 1498) pass, 1471 and 1472 vanish without an error. The drop is the kernel's
 *   own: with br_netfilter active (`net.bridge.bridge-nf-call-iptables=1`, per namespace, as on any
 *   Docker or Kubernetes node) a bridged IPv4 packet with DF set that is larger than the egress
 *   port's MTU is dropped without ICMP (net/bridge/br_netfilter_hooks.c, br_nf_dev_queue_xmit).
 *   Without br_netfilter the bridge forwards frames up to MTU + 14 + 4 (is_skb_forwardable's
 *   allowance for a VLAN tag), and a 1498 port passes 1500-byte packets; the lab then sets the port
 *   to 1494, which drops at exactly the same size, and says so in `shortPort.mechanism`.
 * - `peer-clean` (`c`) is reached through MTU 1500 everywhere, and runs its own sshd: its chain (a
 *   VXLAN `vx0` created with `dev lan0`, which the kernel gives MTU 1450) is consistent.
 * - `vx0bad` in h is a VXLAN created without `dev`, so the kernel left it at MTU 1500 over a 1500
 *   underlay: 50 bytes too big. (With `dev`, the kernel refuses an MTU above lower - 50; DOMAIN.md
 *   section 7.) It tunnels to `vx0` in c, so a path through it really exists.
 * - the bridge namespace runs an sshd too, since the 1498 port is only visible from there.
 *
 * Addresses come from 198.19.0.0/16 (inside RFC 2544's 198.18.0.0/15, like lab.ts, which uses
 * 198.18/16), one /24 per lab that no root-namespace address uses yet. Names carry a random id, so
 * two labs can run side by side. `stop()` removes everything it made, also after a failed start.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { haveNetns, startSshd, type Sshd } from './sshd.ts';

const run = promisify(execFile);

export interface MtuLabHost {
	/** Inventory name. */
	name: string;
	netns: string;
	sshd: Sshd;
}

export interface MtuLab {
	/** Random part of every name, e.g. `3fa1`. */
	id: string;
	dir: string;
	/** Ansible-style inventory naming `mtu-host`, `mtu-bridge` and `mtu-clean`. */
	inventory: string;
	knownHosts: string;
	/** Namespace h: where the path is measured from; holds `vx0bad`. */
	host: MtuLabHost;
	/** The bridge namespace, with the 1498 port. */
	bridge: MtuLabHost;
	/** peer-clean, whose own chain is consistent. */
	clean: MtuLabHost;
	/** Addresses as h reaches them over the bridge; `overlay` is c's `vx0`, reached through `vx0bad`. */
	peers: { short: string; clean: string; overlay: string };
	/** The bridge port in front of peer-short. */
	shortPort: { bridge: string; name: string; mtu: number; otherPorts: string[]; mechanism: 'br_netfilter' | 'bridge-allowance' };
	/** The misconfigured VXLAN in h. */
	vxlan: { name: string; mtu: number; underlay: string; underlayMtu: number };
	/** The well-made VXLAN in c. */
	goodVxlan: { name: string; mtu: number; underlay: string };
	stop(): Promise<void>;
}

/** Why this machine cannot build the lab, or null when it can. */
export async function mtuLabUnavailable(): Promise<string | null> {
	if (process.getuid?.() !== 0) return 'not root: network namespaces, veth and bridges need CAP_NET_ADMIN';
	if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd (openssh-server) is not installed';
	if (!existsSync('/usr/bin/ping') && !existsSync('/bin/ping')) return 'ping (iputils-ping) is not installed';
	if (!(await haveNetns())) return '`ip netns add` is not allowed here (container without CAP_SYS_ADMIN, or seccomp)';
	return null;
}

const ip = (...args: string[]) => run('ip', args);
const inNs = (ns: string, ...argv: string[]) => run('ip', ['netns', 'exec', ns, ...argv]);

/** A /24 of 198.19.0.0/16 that no address of the root namespace is in. */
async function freeOctet(seed: number): Promise<number> {
	const { stdout } = await ip('-4', '-o', 'addr', 'show');
	const used = new Set([...stdout.matchAll(/inet 198\.19\.(\d+)\./g)].map((m) => Number(m[1])));
	for (let i = 0; i < 250; i++) {
		const o = ((seed + i) % 250) + 1;
		if (!used.has(o)) return o;
	}
	throw new Error('no free /24 left in 198.19.0.0/16');
}

/** Build steps in order; `more-sshd` comes after the first sshd is up, before the other two. */
export type MtuLabStep = 'namespaces' | 'management' | 'bridge' | 'vxlan' | 'more-sshd';

export interface MtuLabOptions {
	/** Called before each step of the build; a test throws here to prove `stop` runs on a failed start. */
	onStep?: (step: MtuLabStep, id: string) => void | Promise<void>;
	/** First letters of every root-namespace name (namespaces `<prefix>mtu-...`, links `<prefix>m...`); default namespaces `rbmtu-`, links `mt`. */
	prefix?: string;
}

export async function startMtuLab(options: MtuLabOptions = {}): Promise<MtuLab> {
	const id = randomBytes(2).toString('hex');
	const dir = mkdtempSync(join(tmpdir(), 'runbook-mtu-lab-'));
	const cleanups: (() => Promise<unknown>)[] = [];
	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		for (const c of cleanups.reverse()) await c().catch(() => {});
		rmSync(dir, { recursive: true, force: true });
	};

	const step = async (name: MtuLabStep) => options.onStep?.(name, id);

	try {
		await step('namespaces');
		const o = await freeOctet(Number.parseInt(id, 16));
		const net = (n: number) => `198.19.${o}.${n}`;
		const nsp = `${options.prefix ?? 'rb'}mtu-${id}`;
		const ns = { h: `${nsp}-h`, br: `${nsp}-br`, s: `${nsp}-s`, c: `${nsp}-c` };
		for (const name of Object.values(ns)) {
			await ip('netns', 'add', name);
			cleanups.push(() => ip('netns', 'delete', name));
			await ip('-n', name, 'link', 'set', 'lo', 'up');
		}

		// Management links from the root namespace, one /30 each, for sshd.
		const mgmt = async (key: 'h' | 'br' | 'c', base: number): Promise<string> => {
			const outside = `${options.prefix === undefined ? 'mt' : `${options.prefix}m`}${id}${key[0]}`;
			await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', ns[key]);
			cleanups.push(() => ip('link', 'delete', outside));
			await ip('addr', 'add', `${net(base + 1)}/30`, 'dev', outside);
			await ip('link', 'set', outside, 'up');
			await ip('-n', ns[key], 'addr', 'add', `${net(base + 2)}/30`, 'dev', 'mgmt0');
			await ip('-n', ns[key], 'link', 'set', 'mgmt0', 'up');
			return net(base + 2);
		};
		await step('management');
		const hostAddr = await mgmt('h', 0);
		const bridgeAddr = await mgmt('br', 4);
		const cleanAddr = await mgmt('c', 8);

		// The bridged LAN, 198.19.o.64/26. Devices are created inside their namespaces (deleting a
		// namespace deletes its veth ends, and the peers with them).
		await step('bridge');
		const lan = { h: net(65), s: net(66), c: net(67) };
		await ip('-n', ns.br, 'link', 'add', 'br0', 'type', 'bridge');
		for (const [key, port] of [
			['h', 'hp'],
			['s', 'sp'],
			['c', 'cp'],
		] as const) {
			await ip('link', 'add', 'lan0', 'netns', ns[key], 'type', 'veth', 'peer', 'name', port, 'netns', ns.br);
			await ip('-n', ns.br, 'link', 'set', port, 'master', 'br0', 'up');
			await ip('-n', ns[key], 'addr', 'add', `${lan[key]}/26`, 'dev', 'lan0');
			await ip('-n', ns[key], 'link', 'set', 'lan0', 'up');
		}
		await ip('-n', ns.br, 'link', 'set', 'br0', 'up');

		let mechanism: MtuLab['shortPort']['mechanism'] = 'br_netfilter';
		try {
			await inNs(ns.br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1');
		} catch {
			await run('modprobe', ['br_netfilter']).catch(() => {});
			mechanism = await inNs(ns.br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1').then(
				() => 'br_netfilter' as const,
				() => 'bridge-allowance' as const,
			);
		}
		const shortMtu = mechanism === 'br_netfilter' ? 1498 : 1494;
		if (mechanism === 'bridge-allowance')
			console.warn(
				`[mtu-lab] br_netfilter is not available: port sp set to ${shortMtu}, which the bridge's own MTU + 18 allowance makes a 1498-byte path.`,
			);
		await ip('-n', ns.br, 'link', 'set', 'sp', 'mtu', String(shortMtu));

		// VXLANs: c's made right (with dev: MTU 1450), h's without dev (MTU 1500 over a 1500 underlay).
		await step('vxlan');
		const overlay = { h: net(129), c: net(130) };
		await ip(
			'-n',
			ns.c,
			'link',
			'add',
			'vx0',
			'type',
			'vxlan',
			'id',
			'4242',
			'local',
			lan.c,
			'remote',
			lan.h,
			'dstport',
			'4789',
			'dev',
			'lan0',
		);
		await ip('-n', ns.c, 'addr', 'add', `${overlay.c}/26`, 'dev', 'vx0');
		await ip('-n', ns.c, 'link', 'set', 'vx0', 'up');
		await ip('-n', ns.h, 'link', 'add', 'vx0bad', 'type', 'vxlan', 'id', '4242', 'local', lan.h, 'remote', lan.c, 'dstport', '4789');
		await ip('-n', ns.h, 'addr', 'add', `${overlay.h}/26`, 'dev', 'vx0bad');
		await ip('-n', ns.h, 'link', 'set', 'vx0bad', 'up');
		const mtuOf = async (n: string, dev: string) => Number((await inNs(n, 'cat', `/sys/class/net/${dev}/mtu`)).stdout);
		const vxMtu = await mtuOf(ns.h, 'vx0bad');
		const goodMtu = await mtuOf(ns.c, 'vx0');

		const sshdIn = async (name: string, netns: string, address: string): Promise<MtuLabHost> => {
			const sshd = await startSshd({ address, netns });
			cleanups.push(() => sshd.stop());
			return { name, netns, sshd };
		};
		const host = await sshdIn('mtu-host', ns.h, hostAddr);
		await step('more-sshd');
		const bridge = await sshdIn('mtu-bridge', ns.br, bridgeAddr);
		const clean = await sshdIn('mtu-clean', ns.c, cleanAddr);

		const inventory = join(dir, 'inventory.yaml');
		const lines = ['all:', '  children:', '    mtu_lab:', '      hosts:'];
		for (const h of [host, bridge, clean]) {
			lines.push(
				`        ${h.name}:`,
				`          ansible_host: ${h.sshd.address}`,
				`          ansible_port: ${h.sshd.port}`,
				`          ansible_user: root`,
				`          ansible_ssh_private_key_file: ${h.sshd.clientKeyFile}`,
			);
		}
		writeFileSync(inventory, lines.join('\n') + '\n');
		const knownHosts = join(dir, 'known_hosts');
		writeFileSync(knownHosts, [host, bridge, clean].map((h) => h.sshd.knownHostsLine).join('\n') + '\n');

		return {
			id,
			dir,
			inventory,
			knownHosts,
			host,
			bridge,
			clean,
			peers: { short: lan.s, clean: lan.c, overlay: overlay.c },
			shortPort: { bridge: 'br0', name: 'sp', mtu: shortMtu, otherPorts: ['hp', 'cp'], mechanism },
			vxlan: { name: 'vx0bad', mtu: vxMtu, underlay: 'lan0', underlayMtu: 1500 },
			goodVxlan: { name: 'vx0', mtu: goodMtu, underlay: 'lan0' },
			stop,
		};
	} catch (e) {
		await stop();
		throw e;
	}
}

/** Every namespace and root-namespace link of the lab with this id that still exists (for tests of `stop`). */
export async function labLeftovers(id: string): Promise<string[]> {
	const { stdout: spaces } = await ip('netns', 'list');
	const { stdout: links } = await ip('-o', 'link', 'show');
	return [...spaces.split('\n').filter((l) => l.startsWith(`rbmtu-${id}-`)), ...links.split('\n').filter((l) => l.includes(`mt${id}`))].map(
		(l) => l.trim(),
	);
}
