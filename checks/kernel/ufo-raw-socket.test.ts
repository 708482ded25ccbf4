import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { parseEthtoolDriver, parseEthtoolFeatures, UFO_FEATURE } from '../../src/core/parse/ethtool.ts';
import { parseKernelRelease, type KernelRelease } from '../../src/core/parse/kernel.ts';
import { expectRunbookEmbeds, fixtures, HOSTILE_TEXT, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, { evaluate, parseProcNetRaw, parseSsRaw, PROC_NET_RAW, ufoKernel, type Observation, type Params } from './ufo-raw-socket.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/ufo-raw-socket/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse({ iface: 'eth0', ...p });
const kernel = (release: string): KernelRelease => {
	const k = parseKernelRelease(`${release}\n`);
	if (!k.ok) throw new Error(k.reason);
	return k.value;
};

// --- parsers over every fixture --------------------------------------------------------------

type Want = Record<string, unknown> | null;
/** For ethtool -k: the UFO line as parsed, `absent` when the output has none. */
const featureCases: Record<string, { ufo: Record<string, unknown> | 'absent'; headerIface: string } | null> = {
	'debian12-k6.18-virtio_net.ethtool-k.txt': { ufo: 'absent', headerIface: 'eth0' },
	'debian12-k6.18-veth.ethtool-k.txt': { ufo: 'absent', headerIface: 'veth0' },
	'insights-rhel-bond0.ethtool-k.txt': { ufo: { on: false, fixed: true, requested: null, line: 17 }, headerIface: 'bond0' },
	'hustcat-flannel.ethtool-k.txt': { ufo: { on: true, fixed: false, requested: null, line: 16 }, headerIface: 'flannel.1' },
	// Excerpts quoted in documents: no header line, or `...` where lines were left out.
	'dpdk-dts-virtio-excerpt.ethtool-k.txt': null,
	'salt-k4.18-excerpt.ethtool-k.txt': null,
	'debian12-k6.18-virtio_net-cut300.ethtool-k.txt': null,
	'empty.ethtool-k.txt': null,
	'debian12-k6.18-absent.ethtool-k-stderr.txt': null,
	'debian12-not-installed.ethtool-stderr.txt': null,
	'debian12-de-not-installed.ethtool-stderr.txt': null,
};
const driverCases: Record<string, Want> = {
	'debian12-k6.18-virtio_net.ethtool-i.txt': { driver: 'virtio_net', busInfo: '0000:00:03.0' },
	'debian12-k6.18-veth.ethtool-i.txt': { driver: 'veth', busInfo: '' },
	'insights-rhel-virtio_net.ethtool-i.txt': { driver: 'virtio_net', busInfo: '0000:00:03.0' },
	'debian12-k6.18-absent.ethtool-i-stderr.txt': null,
};
const rawCases: Record<string, { protocols: number[]; lines: number[] } | null> = {
	'debian12-k6.18-none.proc-net-raw.txt': { protocols: [], lines: [] },
	'debian12-k6.18-udp-connected.proc-net-raw.txt': { protocols: [17], lines: [2] },
	'debian12-k6.18-udp-unconnected.proc-net-raw.txt': { protocols: [17], lines: [2] },
	'debian12-k6.18-icmp.proc-net-raw.txt': { protocols: [1], lines: [2] },
	'debian12-k6.18-mixed.proc-net-raw.txt': { protocols: [1, 17, 17], lines: [2, 3, 4] },
	'debian12-k6.18-mixed-cut200.proc-net-raw.txt': null,
	'empty.proc-net-raw.txt': null,
};
const ssCases: Record<string, { ports: string[]; names: string[] } | null> = {
	'debian12-k6.18-none.ss.txt': { ports: [], names: [] },
	'debian12-k6.18-udp-connected.ss.txt': { ports: ['17'], names: ['python3'] },
	'debian12-k6.18-udp-unconnected.ss.txt': { ports: ['17'], names: ['python3'] },
	'debian12-k6.18-icmp.ss.txt': { ports: ['1', '58'], names: ['python3', 'python3'] },
	'debian12-k6.18-mixed.ss.txt': { ports: ['1', '17', '17', '58', '17'], names: ['python3', 'python3', 'python3', 'python3', 'python3'] },
	'netdev2021-ss4.9.0-k4.19.ss.txt': { ports: ['icmp', 'ipv6-icmp'], names: ['ping', 'ping'] },
	'netdev2021-ss5.10.0-k4.19.ss.txt': { ports: ['icmp', 'ipv6-icmp'], names: ['ping', 'ping'] },
	'debian12-not-installed.ss-stderr.txt': null,
};
const unameCases: Record<string, Want> = {
	'debian12-k6.18.uname.txt': { major: 6, minor: 18 },
	'centos7.0-weave2289.uname.txt': { major: 3, minor: 10, rhel: { el: 7, build: [123, 4, 4] } },
	'empty.uname.txt': null,
};
const evidenceOnly = ['debian12-k6.18-netns.ls-sys-class-net.txt'];

describe('parsers over every fixture', () => {
	it('every fixture file has an expectation', () => {
		const listed = [featureCases, driverCases, rawCases, ssCases, unameCases].flatMap((c) => Object.keys(c));
		expect(fixtureFiles.toSorted()).toEqual([...listed, ...evidenceOnly].toSorted());
	});
	it.each(Object.entries(featureCases))('ethtool -k %s', (file, want) => {
		const got = parseEthtoolFeatures(fx(file));
		if (want === null) return expect(got.ok).toBe(false);
		expect(got.ok, got.ok ? '' : got.reason).toBe(true);
		if (!got.ok) return;
		expect(got.value.iface).toBe(want.headerIface);
		const ufo = got.value.features.get(UFO_FEATURE);
		if (want.ufo === 'absent') expect(ufo).toBeUndefined();
		else expect(ufo).toMatchObject(want.ufo);
	});
	it('ethtool -k reads [requested on] and nested features', () => {
		const got = parseEthtoolFeatures(fx('insights-rhel-bond0.ethtool-k.txt'));
		if (!got.ok) throw new Error(got.reason);
		expect(got.value.features.get('generic-segmentation-offload')).toMatchObject({ on: false, fixed: false, requested: true });
		expect(got.value.features.get('tx-checksum-unneeded')).toMatchObject({ on: true, fixed: true });
	});
	it.each(Object.entries(driverCases))('ethtool -i %s', (file, want) => {
		const got = parseEthtoolDriver(fx(file));
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toMatchObject({ ok: true, value: want });
	});
	it.each(Object.entries(rawCases))('%s', (file, want) => {
		const got = parseProcNetRaw(fx(file));
		if (want === null) return expect(got.ok).toBe(false);
		expect(got.ok, got.ok ? '' : got.reason).toBe(true);
		if (got.ok) {
			expect(got.value.map((s) => s.protocol)).toEqual(want.protocols);
			expect(got.lines).toEqual(want.lines);
		}
	});
	it('/proc/net/raw addresses and state: a connected socket (as weave dials its probe) and an unbound one', () => {
		const c = parseProcNetRaw(fx('debian12-k6.18-udp-connected.proc-net-raw.txt'));
		const u = parseProcNetRaw(fx('debian12-k6.18-udp-unconnected.proc-net-raw.txt'));
		expect(c).toMatchObject({
			ok: true,
			value: [{ local: '127.0.0.1', remote: '127.0.0.1', protocol: 17, state: 1, uid: 0, inode: 182196 }],
		});
		expect(u).toMatchObject({ ok: true, value: [{ local: '0.0.0.0', remote: '0.0.0.0', protocol: 17, state: 7 }] });
	});
	it.each(Object.entries(ssCases))('ss -w %s', (file, want) => {
		const got = parseSsRaw(fx(file));
		if (want === null) return expect(got.ok).toBe(false);
		expect(got.ok, got.ok ? '' : got.reason).toBe(true);
		if (!got.ok) return;
		expect(got.value.map((s) => s.port)).toEqual(want.ports);
		expect(got.value.flatMap((s) => s.processes.map((p) => p.name))).toEqual(want.names);
	});
	it.each(Object.entries(unameCases))('uname -r %s', (file, want) => {
		const got = parseKernelRelease(fx(file));
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toMatchObject({ ok: true, value: want });
	});
	it('parsers never throw on hostile input', () => {
		for (const text of [...HOSTILE_TEXT, '\uFFFD\n', 'Features for eth0:\n', 'Features for eth0:\nufo: maybe\n']) {
			expect(parseEthtoolFeatures(text).ok).toBe(false);
			expect(parseProcNetRaw(text).ok).toBe(false);
			expect(parseSsRaw(text).ok).toBe(false);
		}
	});
});

// --- the kernel eras --------------------------------------------------------------------------

describe('kernel eras', () => {
	it.each([
		['6.18.44-fc-v669', 'no-ufo'],
		['4.14.0', 'no-ufo'],
		['4.18.0-305.el8.x86_64', 'no-ufo'],
		['3.10.0-123.el7.x86_64', 'el7-at-risk'],
		['3.10.0-123.4.4.el7.x86_64', 'el7-at-risk'],
		['3.10.0-229.el7.x86_64', 'el7-later'],
		['3.10.0-1160.el7.x86_64', 'el7-later'],
		['4.4.0-210-generic', 'other-with-ufo'],
		['2.6.32-754.el6.x86_64', 'other-with-ufo'],
		['4.13.16', 'other-with-ufo'],
	])('%s -> %s', (release, era) => {
		expect(ufoKernel(kernel(release)).era).toBe(era);
	});
	it('later el7 kernels say the fix is UNVERIFIED', () => {
		expect(ufoKernel(kernel('3.10.0-1160.el7.x86_64')).why).toContain('UNVERIFIED');
	});
});

// --- evaluate: every state of the UFO line -------------------------------------------------------

function obs(o: {
	kernel: string;
	driver?: string;
	ufo: 'on' | 'off' | 'off [fixed]' | 'off [requested on]' | null;
	senders?: number;
	owners?: string[] | null;
}): Observation {
	const ufo =
		o.ufo === null
			? null
			: {
					name: UFO_FEATURE,
					on: o.ufo === 'on',
					fixed: o.ufo === 'off [fixed]',
					requested: o.ufo === 'off [requested on]' ? true : null,
					line: 2,
				};
	const raw = { local: '0.0.0.0', remote: '10.32.0.2', protocol: 17, state: 1, uid: 0, inode: 1, line: 2 };
	return {
		iface: 'eth0',
		kernel: kernel(o.kernel),
		driver: {
			driver: o.driver ?? 'virtio_net',
			version: '1.0.0',
			firmwareVersion: '',
			busInfo: '0000:00:03.0',
			driverLine: 1,
			busInfoLine: 4,
		},
		ufo,
		rawUdp: Array.from({ length: o.senders ?? 0 }, () => raw),
		owners: o.owners === undefined ? [] : o.owners,
		ownersProblem: o.owners === null ? 'ss is not installed' : null,
		evidence: [],
	};
}

describe('evaluate', () => {
	const c70 = '3.10.0-123.4.4.el7.x86_64';
	it.each([
		{
			name: '7.0 virtio UFO on + weave sender -> fail',
			o: obs({ kernel: c70, ufo: 'on', senders: 1, owners: ['weaver (pid 2210)'] }),
			status: 'fail',
			next: '#turn-ufo-off',
			says: ["weave's sleeve", 'Turn UFO off now'],
		},
		{
			name: '7.0 virtio UFO on, owner unknown -> fail',
			o: obs({ kernel: c70, ufo: 'on', senders: 2, owners: null }),
			status: 'fail',
			next: '#turn-ufo-off',
			says: ['owner unknown', '2 IPv4 raw UDP sockets'],
		},
		{
			name: '7.0 virtio UFO on, no sender -> warn',
			o: obs({ kernel: c70, ufo: 'on' }),
			status: 'warn',
			next: '#turn-ufo-off',
			says: ['No IPv4 raw UDP socket is open right now'],
		},
		{
			name: '7.0 virtio UFO off -> warn, only the workaround',
			o: obs({ kernel: c70, ufo: 'off', senders: 1 }),
			status: 'warn',
			next: '#upgrade-the-kernel',
			says: ['Only the workaround protects this host', 'reboot or a reset NIC config', 'UNVERIFIED'],
		},
		{
			name: '7.0 virtio UFO off [requested on] -> warn',
			o: obs({ kernel: c70, ufo: 'off [requested on]' }),
			status: 'warn',
			next: '#upgrade-the-kernel',
			says: ['requested on', 'comes back'],
		},
		{
			name: '7.0 virtio UFO off [fixed] -> pass',
			o: obs({ kernel: c70, ufo: 'off [fixed]', senders: 1 }),
			status: 'pass',
			next: '#if-it-is-not-ufo',
			says: ['does not offer UFO'],
		},
		{
			name: '7.0 veth UFO on + sender -> pass (virtio only)',
			o: obs({ kernel: c70, driver: 'veth', ufo: 'on', senders: 1 }),
			status: 'pass',
			next: '#if-it-is-not-ufo',
			says: ['not virtio_net'],
		},
		{
			name: '7.9 virtio UFO on + sender -> warn UNVERIFIED',
			o: obs({ kernel: '3.10.0-1160.el7.x86_64', ufo: 'on', senders: 1 }),
			status: 'warn',
			next: '#turn-ufo-off',
			says: ['UNVERIFIED'],
		},
		{
			name: '7.9 virtio UFO on, no sender -> pass UNVERIFIED',
			o: obs({ kernel: '3.10.0-1160.el7.x86_64', ufo: 'on' }),
			status: 'pass',
			next: '#if-it-is-not-ufo',
			says: ['UNVERIFIED'],
		},
		{
			name: 'Ubuntu 4.4 virtio UFO on + sender -> warn UNVERIFIED',
			o: obs({ kernel: '4.4.0-210-generic', ufo: 'on', senders: 1 }),
			status: 'warn',
			says: ['UNVERIFIED', 'mainline'],
		},
		{
			name: '6.18, no UFO line -> pass',
			o: obs({ kernel: '6.18.44-fc-v669', ufo: null, senders: 1 }),
			status: 'pass',
			next: '#if-it-is-not-ufo',
			says: ['removed in 4.14', 'no udp-fragmentation-offload line'],
		},
		{
			name: '4.18 with old ethtool, plain off -> pass',
			o: obs({ kernel: '4.18.0-305.el8.x86_64', ufo: 'off', senders: 1 }),
			status: 'pass',
			says: ['udp-fragmentation-offload: off'],
		},
	])('$name', ({ o, status, next, says }) => {
		const v = evaluate(o);
		expect(v.status, v.summary).toBe(status);
		if (next) expect(v.next).toBe(next);
		for (const s of says) expect(v.summary).toContain(s);
	});
	it('fail and warn-with-UFO-on carry the fix commands, persisted via ifcfg', () => {
		const v = evaluate(obs({ kernel: c70, ufo: 'on', senders: 1 }));
		expect(v.fix).toEqual([
			'ethtool -K eth0 ufo off',
			`echo 'ETHTOOL_OPTS="-K eth0 ufo off"' >> /etc/sysconfig/network-scripts/ifcfg-eth0`,
		]);
	});
	it('UFO on with a kernel >= 4.14 is not understood', () => {
		expect(evaluate(obs({ kernel: '5.4.0-42-generic', ufo: 'on' }))).toMatchObject({ status: 'error', code: 'OutputNotUnderstood' });
	});
	it('no UFO line with a kernel < 4.14 is not understood', () => {
		expect(evaluate(obs({ kernel: c70, ufo: null }))).toMatchObject({ status: 'error', code: 'OutputNotUnderstood' });
	});
});

// --- run() through a fake host ---------------------------------------------------------------

interface HostSpec {
	uname?: string | FakeCommand;
	driver?: string | FakeCommand;
	features?: string | FakeCommand;
	raw?: string | null;
	ss?: string | FakeCommand;
}
const cmd = (c: string | FakeCommand | undefined): FakeCommand | undefined => (typeof c === 'string' ? { stdout: fx(c) } : c);
function host(s: HostSpec): FakeHost {
	const commands: Record<string, FakeCommand> = {};
	const put = (k: string, v: FakeCommand | undefined) => {
		if (v) commands[k] = v;
	};
	put('uname -r', cmd(s.uname ?? 'centos7.0-weave2289.uname.txt'));
	put('ethtool -i eth0', cmd(s.driver ?? 'insights-rhel-virtio_net.ethtool-i.txt'));
	put('ethtool -k eth0', cmd(s.features ?? 'hustcat-flannel.ethtool-k.txt'));
	put('ss -w -a -n -p', cmd(s.ss ?? 'debian12-k6.18-udp-connected.ss.txt'));
	put('ls /sys/class/net', { stdout: fx('debian12-k6.18-netns.ls-sys-class-net.txt') });
	const raw = s.raw === undefined ? 'debian12-k6.18-udp-connected.proc-net-raw.txt' : s.raw;
	return { commands, files: raw === null ? {} : { [PROC_NET_RAW]: fx(raw) } };
}
const runOn = (h: FakeHost): Promise<Verdict> => check.run(fakeCtx(h), params());

describe('run', () => {
	it.each([
		{
			name: 'this machine: 6.18 virtio_net, netlink ethtool (no UFO line) -> pass',
			h: host({
				uname: 'debian12-k6.18.uname.txt',
				driver: 'debian12-k6.18-virtio_net.ethtool-i.txt',
				features: 'debian12-k6.18-virtio_net.ethtool-k.txt',
				raw: 'debian12-k6.18-none.proc-net-raw.txt',
				ss: 'debian12-k6.18-none.ss.txt',
			}),
			status: 'pass',
			next: '#if-it-is-not-ufo',
		},
		{
			name: 'this machine with a raw UDP socket open -> still pass (no UFO)',
			h: host({
				uname: 'debian12-k6.18.uname.txt',
				driver: 'debian12-k6.18-virtio_net.ethtool-i.txt',
				features: 'debian12-k6.18-virtio_net.ethtool-k.txt',
				raw: 'debian12-k6.18-mixed.proc-net-raw.txt',
				ss: 'debian12-k6.18-mixed.ss.txt',
			}),
			status: 'pass',
		},
		{
			name: 'CentOS 7.0 virtio_net, UFO on, raw UDP socket open -> fail',
			h: host({}),
			status: 'fail',
			next: '#turn-ufo-off',
		},
		{
			name: 'CentOS 7.0, UFO on, only an ICMP raw socket -> warn',
			h: host({ raw: 'debian12-k6.18-icmp.proc-net-raw.txt', ss: 'debian12-k6.18-icmp.ss.txt' }),
			status: 'warn',
			next: '#turn-ufo-off',
		},
		{
			name: 'CentOS 7.0, UFO off [fixed] -> pass',
			h: host({ features: 'insights-rhel-bond0.ethtool-k.txt' }),
			status: 'pass',
		},
		{
			name: 'CentOS 7.0, not virtio_net -> pass',
			h: host({ driver: 'debian12-k6.18-veth.ethtool-i.txt' }),
			status: 'pass',
		},
		{
			name: 'ss missing changes nothing but the owner',
			h: host({ ss: { stderr: fx('debian12-not-installed.ss-stderr.txt'), code: 127 } }),
			status: 'fail',
		},
		{
			name: 'old ss format (no -n names, 4.9.0) is read for owners',
			h: host({ ss: 'netdev2021-ss4.9.0-k4.19.ss.txt' }),
			status: 'fail',
		},
	])('$name', async ({ h, status, next }) => {
		const v = await runOn(h);
		expect(v.status, v.summary).toBe(status);
		if (next) expect(v.next).toBe(next);
		expect(v.evidence.map((e) => e.command)).toEqual([
			'uname -r',
			'ethtool -i eth0',
			'ethtool -k eth0',
			`cat ${PROC_NET_RAW}`,
			'ss -w -a -n -p',
		]);
	});

	it('the fail names the owner and highlights the deciding lines', async () => {
		const v = await runOn(host({}));
		expect(v.summary).toContain('python3 (pid 27232)');
		const lines = Object.fromEntries(v.evidence.map((e) => [e.command, e.lines]));
		expect(lines).toEqual({
			'uname -r': [1],
			'ethtool -i eth0': [1, 4],
			'ethtool -k eth0': [1, 16],
			[`cat ${PROC_NET_RAW}`]: [2],
			'ss -w -a -n -p': [2],
		});
		expect(v.facts).toMatchObject({ kernelEra: 'el7-at-risk', driver: 'virtio_net', ufo: 'on', rawUdpSockets: 1 });
	});

	it('without ss the summary says the owner is unknown and why', async () => {
		const v = await runOn(host({ ss: { stderr: fx('debian12-not-installed.ss-stderr.txt'), code: 127 } }));
		expect(v.summary).toContain('owner unknown: ss is not installed (package iproute2 on Debian, iproute on RHEL)');
	});

	it('an absent interface -> error InvalidParams listing the interfaces', async () => {
		const v = await runOn(host({ driver: { stderr: fx('debian12-k6.18-absent.ethtool-i-stderr.txt'), code: 71 } }));
		expect(v).toMatchObject({ status: 'error', code: 'InvalidParams' });
		expect(v.summary).toContain('veth0');
	});
});

describe('run: output it cannot decide on -> error', () => {
	it.each([
		{
			name: 'ethtool not installed -> CommandMissing naming the package',
			h: host({ driver: { stderr: fx('debian12-not-installed.ethtool-stderr.txt'), code: 127 } }),
			code: 'CommandMissing',
			says: 'package ethtool',
		},
		{
			name: 'ethtool not installed, German shell -> CommandMissing',
			h: host({ driver: { stderr: fx('debian12-de-not-installed.ethtool-stderr.txt'), code: 127 } }),
			code: 'CommandMissing',
			says: 'ethtool',
		},
		{
			name: 'German error text as ethtool -k output -> OutputNotUnderstood',
			h: host({ features: 'debian12-de-not-installed.ethtool-stderr.txt' }),
			code: 'OutputNotUnderstood',
			says: 'Features for',
		},
		{
			name: 'an excerpt with ... -> OutputNotUnderstood',
			h: host({ features: 'salt-k4.18-excerpt.ethtool-k.txt' }),
			code: 'OutputNotUnderstood',
			says: 'ethtool -k',
		},
		{ name: 'empty ethtool -k -> OutputEmpty', h: host({ features: 'empty.ethtool-k.txt' }), code: 'OutputEmpty', says: 'nothing' },
		{
			name: 'cut ethtool -k -> OutputTruncated',
			h: host({ features: 'debian12-k6.18-virtio_net-cut300.ethtool-k.txt' }),
			code: 'OutputTruncated',
			says: 'cut',
		},
		{
			name: 'ethtool -k cut by the transport -> OutputTruncated',
			h: host({ features: { stdout: fx('hustcat-flannel.ethtool-k.txt'), truncated: true } }),
			code: 'OutputTruncated',
			says: 'cut',
		},
		{
			name: 'ethtool -k interface vanished (netlink) -> InvalidParams',
			h: host({ features: { stderr: fx('debian12-k6.18-absent.ethtool-k-stderr.txt'), code: 1 } }),
			code: 'InvalidParams',
			says: 'no interface eth0',
		},
		{ name: 'empty uname -> OutputEmpty', h: host({ uname: 'empty.uname.txt' }), code: 'OutputEmpty', says: 'uname' },
		{ name: 'empty /proc/net/raw -> OutputEmpty', h: host({ raw: 'empty.proc-net-raw.txt' }), code: 'OutputEmpty', says: PROC_NET_RAW },
		{
			name: 'cut /proc/net/raw -> OutputTruncated',
			h: host({ raw: 'debian12-k6.18-mixed-cut200.proc-net-raw.txt' }),
			code: 'OutputTruncated',
			says: PROC_NET_RAW,
		},
		{ name: 'no /proc/net/raw -> CommandFailed', h: host({ raw: null }), code: 'CommandFailed', says: PROC_NET_RAW },
		{
			name: 'kernel 3.10 and no UFO line -> OutputNotUnderstood',
			h: host({ features: 'debian12-k6.18-virtio_net.ethtool-k.txt' }),
			code: 'OutputNotUnderstood',
			says: 'no udp-fragmentation-offload line',
		},
	])('$name', async ({ h, code, says }) => {
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.summary).toContain(says);
		expect(v.hint).toBeTruthy();
		expect(v.evidence.length).toBeGreaterThan(0);
	});
});

// --- contract ------------------------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'kernel.ufo-raw-socket');
	it.each([
		[{ iface: 'eth0' }, true],
		[{ iface: 'ens3' }, true],
		[{}, false],
		[{ iface: 'eth0 -K' }, false],
		[{ iface: 'eth0', x: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});
	it('probes list every command and file', () => {
		expect(check.probes(params()).map(callOf)).toEqual([
			'exec uname -r',
			'exec ethtool -i eth0',
			'exec ethtool -k eth0',
			`read ${PROC_NET_RAW}`,
			'exec ss -w -a -n -p',
			'exec ls /sys/class/net',
		]);
	});
	it('run only reads and runs what probes announce', async () => {
		const announced = check.probes(params()).map(callOf);
		for (const h of [host({}), host({ driver: { stderr: fx('debian12-k6.18-absent.ethtool-i-stderr.txt'), code: 71 } })]) {
			const ctx = fakeCtx(h);
			await check.run(ctx, params());
			for (const c of ctx.calls) expect(announced).toContain(c);
		}
	});
	it('every next step is a heading of ufo-raw-socket-virtio.mdx, which embeds this check', () => {
		expectRunbookEmbeds(check, 'ufo-raw-socket-virtio');
	});
});
