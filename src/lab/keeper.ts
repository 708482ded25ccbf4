/**
 * The lab keeper: the process `npm run lab` leaves running. It builds the integration tests' labs
 * (test/support) under one name prefix, writes the inventory, known_hosts and `state.json` into its
 * folder, then holds them: their sshd's are its children. Signals drive it:
 *
 * - SIGUSR1 starts the traffic generators of the sampled labs (the redirect lab's rotating pings,
 *   the ECMP lab's 400 UDP flows on `ecmp-src` and `ecmp-src2`), SIGUSR2 stops them;
 * - SIGTERM, SIGINT, SIGHUP stop everything it made, then it exits.
 *
 * Run as `node --import tsx src/lab/keeper.ts <folder>`, detached, with TMPDIR inside the folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEcmpLab, DST, FLOWS, UPLINKS, type Flows } from '../../test/support/ecmp-lab.ts';
import { startHugepageLab, type LabHost } from '../../test/support/lab.ts';
import { startMtuLab } from '../../test/support/mtu-lab.ts';
import { startRedirectLab, type Traffic } from '../../test/support/redirect-lab.ts';
import type { Sshd } from '../../test/support/sshd.ts';
import { LAB_PREFIX, writeState, type LabHostInfo, type LabState } from './state.ts';

const dir = process.argv[2];
if (!dir) {
	process.stderr.write('usage: keeper.ts <lab folder>\n');
	process.exit(2);
}

const stops: (() => Promise<void>)[] = [];
const generators: (Traffic | Flows)[] = [];
const sshds = new Map<string, Sshd>();
const state: LabState = {
	prefix: LAB_PREFIX,
	keeperPid: process.pid,
	startedAt: new Date().toISOString(),
	phase: 'building',
	inventory: join(dir, 'inventory.yaml'),
	knownHosts: join(dir, 'known_hosts'),
	hosts: [],
	traffic: 'off',
};
const save = () => writeState(dir, state);

type HostDescription = Omit<LabHostInfo, 'address' | 'port' | 'netns' | 'sshdPid' | 'try'> & {
	/** Check id and arguments, run on this host unless `host` says another (a router judged for a destination behind this host). */
	try: (string[] | { host: string; args: string[] })[];
};

function add(info: HostDescription, host: { sshd: Sshd; netns?: string }): void {
	const tries = info.try.map((t) => (Array.isArray(t) ? { host: info.name, args: t } : t));
	state.hosts.push({ ...info, try: tries, address: host.sshd.address, port: host.sshd.port, netns: host.netns ?? '', sshdPid: 0 });
	sshds.set(info.name, host.sshd);
}

/** sshd -D still writes its PidFile, a moment after it logs that it listens. */
async function readPids(): Promise<void> {
	for (const h of state.hosts) {
		const file = join(sshds.get(h.name)!.dir, 'sshd.pid');
		for (let i = 0; h.sshdPid === 0; i++) {
			try {
				h.sshdPid = Number(readFileSync(file, 'utf8'));
			} catch (e) {
				if (i > 100) throw new Error(`${h.name}: sshd wrote no ${file} in 10 s`, { cause: e });
				await new Promise((r) => setTimeout(r, 100));
			}
		}
	}
}

async function build(): Promise<void> {
	const options = { prefix: LAB_PREFIX };

	const hp = await startHugepageLab(options);
	stops.push(() => hp.lab.stop());
	if (hp.lab.mode !== 'netns') throw new Error('network namespaces are not available: the lab needs them');
	const hpHost = (n: string): LabHost => hp.lab.hosts.get(n)!;
	add(
		{
			name: 'compute-low',
			group: 'hugepage',
			runbooks: ['hugepage-map-count'],
			healthy: false,
			what: 'vm.max_map_count 65530 for 40960 free 2 MB hugepages: legacy DPDK maps each twice, about 82000 mappings',
			try: [['kernel.max-map-count']],
		},
		hpHost('compute-low'),
	);
	add(
		{
			name: 'compute-fine',
			group: 'hugepage',
			runbooks: ['hugepage-map-count'],
			healthy: true,
			what: 'vm.max_map_count 262144 for 4096 hugepages',
			try: [['kernel.max-map-count']],
		},
		hpHost('compute-fine'),
	);

	const mtu = await startMtuLab(options);
	stops.push(() => mtu.stop());
	add(
		{
			name: 'mtu-host',
			group: 'mtu',
			runbooks: ['usb-nic-trailer', 'overlay-mtu'],
			healthy: false,
			what: `the path to ${mtu.peers.short} crosses bridge port ${mtu.shortPort.name} at MTU ${mtu.shortPort.mtu}: DF pings over 1470 bytes vanish without an error; VXLAN ${mtu.vxlan.name} is MTU ${mtu.vxlan.mtu} over a ${mtu.vxlan.underlayMtu} underlay (50 too big)`,
			try: [
				['net.path-mtu', '--param', `target=${mtu.peers.short}`],
				['net.mtu-chain'],
				['net.path-mtu', '--param', `target=${mtu.peers.clean}`],
			],
		},
		mtu.host,
	);
	add(
		{
			name: 'mtu-bridge',
			group: 'mtu',
			runbooks: ['usb-nic-trailer', 'overlay-mtu'],
			healthy: false,
			what: `bridge ${mtu.shortPort.bridge}: port ${mtu.shortPort.name} at MTU ${mtu.shortPort.mtu}, ${mtu.shortPort.otherPorts.join(' and ')} at 1500`,
			try: [['net.mtu-chain']],
		},
		mtu.bridge,
	);
	add(
		{
			name: 'mtu-clean',
			group: 'mtu',
			runbooks: ['usb-nic-trailer', 'overlay-mtu'],
			healthy: true,
			what: `VXLAN ${mtu.goodVxlan.name} made with dev ${mtu.goodVxlan.underlay}: MTU ${mtu.goodVxlan.mtu} over 1500`,
			try: [['net.mtu-chain']],
		},
		mtu.clean,
	);

	const redirect = await startRedirectLab(options);
	stops.push(() => redirect.stop());
	const rHost = (n: 'router' | 'host' | 'clean') => redirect.lab.hosts.get(n)!;
	add(
		{
			name: 'redirect-router',
			group: 'redirect',
			runbooks: ['icmp-redirect-copp'],
			healthy: false,
			what: `routes ${redirect.hairpinDst} from ${redirect.hostAddr} back out ${redirect.iif}, the interface it came in on, and sends ICMP redirects while traffic runs`,
			try: [
				[
					'net.redirect-route',
					'--param',
					`dst=${redirect.hairpinDst}`,
					'--param',
					`src=${redirect.hostAddr}`,
					'--param',
					`iif=${redirect.iif}`,
				],
				['net.icmp-redirects'],
			],
		},
		rHost('router'),
	);
	add(
		{
			name: 'redirect-host',
			group: 'redirect',
			runbooks: ['icmp-redirect-copp'],
			healthy: false,
			what: `sends to ${redirect.hairpinDst} through the hairpin and is told again and again (accept_redirects 0) while traffic runs`,
			try: [['net.icmp-redirects']],
		},
		rHost('host'),
	);
	add(
		{
			name: 'redirect-clean',
			group: 'redirect',
			runbooks: ['icmp-redirect-copp'],
			healthy: true,
			what: `${redirect.cleanDst}, behind the router's other interface: no hairpin`,
			try: [
				['net.icmp-redirects'],
				{
					host: 'redirect-router',
					args: [
						'net.redirect-route',
						'--param',
						`dst=${redirect.cleanDst}`,
						'--param',
						`src=${redirect.hostAddr}`,
						'--param',
						`iif=${redirect.iif}`,
					],
				},
			],
		},
		rHost('clean'),
	);

	const ecmp = await startEcmpLab(options);
	stops.push(() => ecmp.stop());
	const eHost = (n: 'src' | 'src2' | 'plain') => ecmp.lab.hosts.get(n)!;
	const ifaces = `ifaces=${UPLINKS.join(',')}`;
	add(
		{
			name: 'ecmp-src',
			group: 'ecmp',
			runbooks: ['ecmp-imbalance'],
			healthy: false,
			what: `two next hops to ${DST}, fib_multipath_hash_policy 0 (L3): with traffic on, all ${FLOWS} flows of one address pair take one link`,
			try: [['net.ecmp-routes'], ['net.link-balance', '--param', ifaces]],
		},
		eHost('src'),
	);
	add(
		{
			name: 'ecmp-src2',
			group: 'ecmp',
			runbooks: ['ecmp-imbalance'],
			healthy: true,
			what: `the same route, policy 1 (L4): the flows spread over ${UPLINKS.join(' and ')}`,
			try: [['net.ecmp-routes'], ['net.link-balance', '--param', ifaces]],
		},
		eHost('src2'),
	);
	add(
		{
			name: 'ecmp-plain',
			group: 'ecmp',
			runbooks: ['ecmp-imbalance'],
			healthy: true,
			what: 'no multipath route at all',
			try: [['net.ecmp-routes']],
		},
		eHost('plain'),
	);

	trafficOn = async () => {
		generators.push(await redirect.startTraffic(), await ecmp.startFlows('src'), await ecmp.startFlows('src2'));
	};
}

let trafficOn: (() => Promise<void>) | undefined;

function writeFiles(): void {
	const groups = new Map<string, LabHostInfo[]>();
	for (const h of state.hosts) groups.set(h.group, [...(groups.get(h.group) ?? []), h]);
	const lines = ['# Written by `npm run lab`; removed by `npm run lab -- down`.', 'all:', '  children:'];
	for (const [group, hosts] of groups) {
		lines.push(`    ${group}:`, '      hosts:');
		for (const h of hosts) {
			lines.push(
				`        ${h.name}:`,
				`          ansible_host: ${h.address}`,
				`          ansible_port: ${h.port}`,
				'          ansible_user: root',
				`          ansible_ssh_private_key_file: ${sshds.get(h.name)!.clientKeyFile}`,
			);
		}
	}
	writeFileSync(state.inventory, lines.join('\n') + '\n');
	writeFileSync(state.knownHosts, [...sshds.values()].map((s) => s.knownHostsLine).join('\n') + '\n');
}

async function stopTraffic(): Promise<void> {
	for (const g of generators.splice(0)) await g.stop().catch(() => {});
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
	if (!stopping) {
		stopping = true;
		await stopTraffic();
		for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('[lab] stop:', e));
	}
	process.exit(code);
}

/** Signals run one at a time, in order. */
let queue: Promise<void> = Promise.resolve();
const serially = (task: () => Promise<void>) => {
	queue = queue.then(task).catch((e: unknown) => console.error('[lab]', e));
};

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void shutdown(0));
process.on('SIGUSR1', () =>
	serially(async () => {
		if (state.traffic === 'on' || !trafficOn || stopping) return;
		await trafficOn();
		state.traffic = 'on';
		save();
		console.info('[lab] traffic on');
	}),
);
process.on('SIGUSR2', () =>
	serially(async () => {
		await stopTraffic();
		state.traffic = 'off';
		save();
		console.info('[lab] traffic off');
	}),
);
process.on('uncaughtException', (e) => console.error('[lab] uncaught:', e));
process.on('unhandledRejection', (e) => console.error('[lab] unhandled rejection:', e));

save();
try {
	await build();
	await readPids();
	writeFiles();
	state.phase = 'up';
	save();
	console.info(`[lab] up: ${state.hosts.map((h) => `${h.name} ${h.address}:${h.port}`).join(', ')}`);
} catch (e) {
	state.phase = 'failed';
	state.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
	save();
	console.error('[lab] build failed:', e);
	await shutdown(1);
}
// The sshd children keep the event loop alive; this keeps it alive should they all die, until `down`.
setInterval(() => {}, 1 << 30);
