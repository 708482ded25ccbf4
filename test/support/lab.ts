/**
 * The integration lab: real hosts built from network namespaces, each with its own real sshd,
 * reached over a veth pair from the test process (DESIGN.md, "Testing").
 *
 * Host state that a check reads from procfs and sysfs (vm.max_map_count, nr_hugepages, meminfo) is
 * set per host by bind-mounting files over the real ones in a private mount namespace that sshd and
 * every session it forks live in: the host's kernel really answers with those values, and nothing
 * outside the namespace changes. Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking), so no
 * test packet can be mistaken for, or reach, a real network.
 *
 * Where namespaces are not allowed (not root, a locked-down container), the lab falls back to sshd on
 * 127.0.0.1 and says so; bind mounts then need `unshare --mount`, and hosts that need them are
 * reported as unavailable rather than silently faked.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { haveNetns, startSshd, type Sshd } from './sshd.ts';

const run = promisify(execFile);

export interface LabHostSpec {
	/** Inventory name. */
	name: string;
	/** Absolute path on the host -> contents the host's kernel will appear to have there. */
	overlay?: Record<string, string>;
}

export interface LabHost {
	name: string;
	sshd: Sshd;
	netns?: string;
}

export interface LabOptions {
	/**
	 * First letters of every name the lab makes in the root namespace (namespaces `<prefix>-...`,
	 * links `<prefix>v...`); default `rb`. `npm run lab` uses its own, so `down` can find all of it.
	 */
	prefix?: string;
}

export interface Lab {
	mode: 'netns' | 'loopback';
	hosts: Map<string, LabHost>;
	dir: string;
	stop(): Promise<void>;
}

/** `sh -c` script that bind-mounts each overlay file over its target, then execs sshd. */
function overlayWrapper(dir: string, host: string, overlay: Record<string, string>): (argv: string[]) => string[] {
	const lines: string[] = ['set -e'];
	Object.entries(overlay).forEach(([target, contents], i) => {
		const src = join(dir, `${host}-${i}`);
		writeFileSync(src, contents);
		lines.push(`mount --bind '${src}' '${target}'`);
	});
	lines.push('exec "$@"');
	return (argv) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', lines.join('\n'), 'sh', ...argv];
}

/** A 198.18.x.0/24 (x < 200) that no address of the root namespace is in yet, trying `seed` first: two labs up at once must not share one. */
async function freeOctet(seed: number): Promise<number> {
	const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']);
	const used = new Set([...stdout.matchAll(/inet 198\.18\.(\d+)\./g)].map((m) => Number(m[1])));
	for (let i = 0; i < 200; i++) if (!used.has((seed + i) % 200)) return (seed + i) % 200;
	throw new Error('no free /24 left in 198.18.0.0-198.18.199.255');
}

export async function startLab(specs: LabHostSpec[], options: LabOptions = {}): Promise<Lab> {
	const prefix = options.prefix ?? 'rb';
	const id = randomBytes(2).toString('hex');
	const dir = mkdtempSync(join(tmpdir(), 'runbook-lab-'));
	const netns = await haveNetns();
	const hosts = new Map<string, LabHost>();
	const cleanups: (() => Promise<void>)[] = [];
	const stop = async () => {
		for (const c of cleanups.reverse()) await c().catch(() => {});
		rmSync(dir, { recursive: true, force: true });
	};
	if (!netns) console.warn('[lab] network namespaces are not available here: sshd runs on 127.0.0.1 instead.');
	try {
		const octet = netns ? await freeOctet(Number.parseInt(id, 16) % 200) : 0;
		for (const [i, spec] of specs.entries()) {
			const wrap = spec.overlay ? overlayWrapper(dir, spec.name, spec.overlay) : undefined;
			if (netns) {
				const ns = `${prefix}-${id}-${i}`;
				const outside = `${prefix}v${id}${i}`;
				const subnet = `198.18.${octet}.${i * 4}`;
				const base = subnet.split('.').map(Number);
				const addr = (n: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3]! + n}`;
				await run('ip', ['netns', 'add', ns]);
				cleanups.push(() => run('ip', ['netns', 'delete', ns]).then(() => {}));
				await run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
				cleanups.push(() => run('ip', ['link', 'delete', outside]).then(() => {}));
				await run('ip', ['addr', 'add', `${addr(1)}/30`, 'dev', outside]);
				await run('ip', ['link', 'set', outside, 'up']);
				await run('ip', ['-n', ns, 'addr', 'add', `${addr(2)}/30`, 'dev', 'eth0']);
				await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
				await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
				const sshd = await startSshd({ address: addr(2), netns: ns, ...(wrap ? { wrap } : {}) });
				cleanups.push(() => sshd.stop());
				hosts.set(spec.name, { name: spec.name, sshd, netns: ns });
			} else {
				const sshd = await startSshd({ ...(wrap ? { wrap } : {}) });
				cleanups.push(() => sshd.stop());
				hosts.set(spec.name, { name: spec.name, sshd });
			}
		}
	} catch (e) {
		await stop();
		throw e;
	}
	return { mode: netns ? 'netns' : 'loopback', hosts, dir, stop };
}

/** An Ansible-style inventory naming every lab host, with its key. */
export function labInventory(lab: Lab, extra: Record<string, { sshd: Sshd }> = {}): string {
	const entries = [
		...[...lab.hosts.values()].map((h) => [h.name, h.sshd] as const),
		...Object.entries(extra).map(([n, v]) => [n, v.sshd] as const),
	];
	const lines = ['all:', '  children:', '    lab:', '      hosts:'];
	for (const [name, sshd] of entries) {
		lines.push(
			`        ${name}:`,
			`          ansible_host: ${sshd.address}`,
			`          ansible_port: ${sshd.port}`,
			`          ansible_user: root`,
			`          ansible_ssh_private_key_file: ${sshd.clientKeyFile}`,
		);
	}
	return lines.join('\n') + '\n';
}

/** Write `labInventory(lab)` and a known_hosts with every lab host's key into the lab's folder; their paths. */
export function writeLabFiles(lab: Lab): { inventory: string; knownHosts: string } {
	const inventory = join(lab.dir, 'inventory.yaml');
	writeFileSync(inventory, labInventory(lab));
	const knownHosts = join(lab.dir, 'known_hosts');
	writeFileSync(knownHosts, [...lab.hosts.values()].map((h) => h.sshd.knownHostsLine).join('\n') + '\n');
	return { inventory, knownHosts };
}

const HP2M = '/sys/kernel/mm/hugepages/hugepages-2048kB';

/** This machine's own /proc/meminfo with the hugepage counters set, so meminfo and sysfs agree. */
export function meminfoWith(pages: number): string {
	return readFileSync('/proc/meminfo', 'utf8')
		.replace(/^(HugePages_Total:\s+)\d+/m, (_, k: string) => `${k}${pages}`)
		.replace(/^(HugePages_Free:\s+)\d+/m, (_, k: string) => `${k}${pages}`);
}

export function hugepageHost(maxMapCount: number, pages: number): Record<string, string> {
	return {
		'/proc/sys/vm/max_map_count': `${maxMapCount}\n`,
		[`${HP2M}/nr_hugepages`]: `${pages}\n`,
		[`${HP2M}/free_hugepages`]: `${pages}\n`,
		'/proc/meminfo': meminfoWith(pages),
	};
}

/**
 * The two hosts of the hugepage runbook: `compute-low` (vm.max_map_count 65530 for 40960 free 2 MB
 * pages: legacy DPDK needs about 82000 mappings) and `compute-fine` (262144 for 4096), with an
 * inventory and a known_hosts that name them both.
 */
export async function startHugepageLab(options: LabOptions = {}): Promise<{ lab: Lab; inventory: string; knownHosts: string }> {
	const lab = await startLab(
		[
			{ name: 'compute-low', overlay: hugepageHost(65530, 40960) },
			{ name: 'compute-fine', overlay: hugepageHost(262144, 4096) },
		],
		options,
	);
	return { lab, ...writeLabFiles(lab) };
}
