import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { parseEthtoolDriver } from '../../src/core/parse/ethtool.ts';
import { parseKernelRelease } from '../../src/core/parse/kernel.ts';
import { expectRunbookEmbeds, fixtures, HOSTILE_TEXT, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, { ax88179Fix, parseSysfsPath, type Params } from './usb-attached.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/usb-attached/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse({ iface: 'eth0', ...p });

// --- parsers over every fixture --------------------------------------------------------------

type Want = Record<string, unknown> | null;
const driverCases: Record<string, Want> = {
	'debian12-k6.18-virtio_net.ethtool-i.txt': {
		driver: 'virtio_net',
		version: '1.0.0',
		busInfo: '0000:00:03.0',
		driverLine: 1,
		busInfoLine: 5,
	},
	'debian12-k6.18-veth.ethtool-i.txt': { driver: 'veth', version: '1.0', busInfo: '', driverLine: 1, busInfoLine: 5 },
	'debian12-k6.18-ifb.ethtool-i.txt': { driver: 'ifb', version: '6.18.44-fc-v669', busInfo: '', driverLine: 1, busInfoLine: 5 },
	'insights-rhel-virtio_net.ethtool-i.txt': {
		driver: 'virtio_net',
		version: '1.0.0',
		firmwareVersion: '',
		busInfo: '0000:00:03.0',
		busInfoLine: 4,
	},
	'mk802-asix-ax88772a.ethtool-i.txt': {
		driver: 'asix',
		firmwareVersion: 'ASIX AX88772A USB 2.0 Ethernet',
		busInfo: 'usb-sw-ehci-1.4',
		busInfoLine: 4,
	},
	'pl-blog-cdc_ether.ethtool-i.txt': { driver: 'cdc_ether', version: '22-Aug-2005', busInfo: 'usb-0000:00:1d.0-1.3', busInfoLine: 5 },
	'k6.13-cdc_ether.ethtool-i.txt': { driver: 'cdc_ether', version: '6.13.7-061307-generic', busInfo: 'usb-0000:2c:00.0-3.1' },
	'arm-rtl8153-r8152.ethtool-i.txt': {
		driver: 'r8152',
		version: 'v1.12.13',
		firmwareVersion: 'rtl8153a-4 v2 02/07/20',
		busInfo: 'usb-xhci-hcd.1-1',
	},
	'openwrt25.12-k6.12-cdc_ncm.ethtool-i.txt': {
		driver: 'cdc_ncm',
		version: '6.12.85',
		firmwareVersion: 'CDC NCM (NO ZLP)',
		busInfo: 'usb-0000:01:00.0-2',
	},
	'arranged-ax88179_178a.ethtool-i.txt': { driver: 'ax88179_178a', busInfo: 'usb-0000:00:12.2-1' },
	'debian12-k6.18-virtio_net-cut40.ethtool-i.txt': null,
	'empty.ethtool-i.txt': null,
	// Error messages where the driver information should be: a wrapper that merged the streams.
	'debian12-k6.18-lo.ethtool-i-stderr.txt': null,
	'debian12-k6.18-absent.ethtool-i-stderr.txt': null,
	'debian12-not-installed.ethtool-i-stderr.txt': null,
	'debian12-de-not-installed.ethtool-i-stderr.txt': null,
};
const sysfsCases: Record<string, { iface: string; want: Want }> = {
	'debian12-k6.18-virtio_net.readlink.txt': { iface: 'eth0', want: { exists: true, usbBus: null, virtual: false } },
	'debian12-k6.18-veth.readlink.txt': { iface: 'veth0', want: { exists: true, usbBus: null, virtual: true } },
	'debian12-k6.18-lo.readlink.txt': { iface: 'lo', want: { exists: true, usbBus: null, virtual: true } },
	'debian12-k6.18-absent.readlink.txt': { iface: 'nosuch0', want: { exists: false, usbBus: null, virtual: false } },
	'nm-udi-usb.readlink.txt': { iface: 'enp0s20u1', want: { exists: true, usbBus: 'usb2', virtual: false } },
	'debian12-k6.18-virtio_net-cut20.readlink.txt': { iface: 'eth0', want: null },
	'empty.readlink.txt': { iface: 'eth0', want: null },
};
const unameCases: Record<string, Want> = {
	'debian12-k6.18.uname.txt': {
		release: '6.18.44-fc-v669',
		major: 6,
		minor: 18,
		sublevel: 44,
		builder: 'distribution',
		sublevelKnown: true,
	},
	'centos7.0-weave2289.uname.txt': {
		major: 3,
		minor: 10,
		sublevel: 0,
		builder: 'rhel',
		sublevelKnown: false,
		rhel: { el: 7, build: [123, 4, 4] },
	},
	'raspios-rpi3452.uname.txt': { major: 4, minor: 19, sublevel: 93, builder: 'raspberrypi', sublevelKnown: true },
	'dietpi3725.uname.txt': { major: 5, minor: 4, sublevel: 51, builder: 'raspberrypi', sublevelKnown: true },
	'debian12-k6.18-cut4.uname.txt': null,
	'empty.uname.txt': null,
};
/** Listings, not parsed: shown as evidence when the interface is absent. */
const evidenceOnly = ['debian12-k6.18-netns.ls-sys-class-net.txt'];

describe('parsers over every fixture', () => {
	it('every fixture file has an expectation', () => {
		const listed = [...Object.keys(driverCases), ...Object.keys(sysfsCases), ...Object.keys(unameCases), ...evidenceOnly];
		expect(fixtureFiles.toSorted()).toEqual(listed.toSorted());
	});
	it.each(Object.entries(driverCases))('ethtool -i %s', (file, want) => {
		const got = parseEthtoolDriver(fx(file));
		if (want === null) expect(got.ok).toBe(false);
		else {
			expect(got.ok, got.ok ? '' : got.reason).toBe(true);
			if (got.ok) expect(got.value).toMatchObject(want);
		}
	});
	it.each(Object.entries(sysfsCases))('readlink %s', (file, { iface, want }) => {
		const got = parseSysfsPath(fx(file), iface);
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toMatchObject({ ok: true, value: want, lines: [1] });
	});
	it.each(Object.entries(unameCases))('uname -r %s', (file, want) => {
		const got = parseKernelRelease(fx(file));
		if (want === null) expect(got.ok).toBe(false);
		else expect(got).toMatchObject({ ok: true, value: want, lines: [1] });
	});
	it('a sysfs path outside /sys/devices or of another interface is not understood', () => {
		expect(parseSysfsPath('/sys/devices/virtual/net/eth1\n', 'eth0').ok).toBe(false);
		expect(parseSysfsPath('/tmp/eth0\n', 'eth0').ok).toBe(false);
		expect(parseSysfsPath('/sys/devices/virtual/net/lo\n/sys/devices/virtual/net/lo\n', 'lo').ok).toBe(false);
	});
	it('parsers never throw on hostile input', () => {
		for (const text of [...HOSTILE_TEXT, '\uFFFD\n', 'driver:\n', 'bus-info: usb-1\ndriver: x\n', 'driver: x\ndriver: y\nbus-info: \n']) {
			expect(parseEthtoolDriver(text).ok).toBe(false);
			expect(parseSysfsPath(text, 'eth0').ok).toBe(false);
			expect(parseKernelRelease(text).ok).toBe(false);
		}
	});
});

// --- the fix table ------------------------------------------------------------------------------

describe('ax88179_178a fix by kernel release', () => {
	it.each([
		['5.8.0', 'fixed'],
		['6.18.44-fc-v669', 'fixed'],
		['5.10.0-9-amd64', 'fixed'],
		['5.11.0-34-generic', 'fixed'],
		['5.7.7', 'fixed'],
		['5.7.19-200.fc32.x86_64', 'fixed'],
		['4.9.229', 'fixed'],
		['4.9.337', 'fixed'],
		['5.8.0-rc3', 'unknown'],
		['5.7.6', 'missing'],
		['5.7.0', 'missing'],
		['4.9.228', 'missing'],
		['5.6.19', 'missing'],
		['5.3.18', 'missing'],
		['4.15.0', 'missing'],
		['3.16.85', 'missing'],
		['5.4.44', 'missing'],
		['5.4.51-v7+', 'unknown'],
		['5.4.83', 'unknown'],
		['4.19.93-v7l+', 'unknown'],
		['4.14.180', 'unknown'],
		['4.4.230', 'unknown'],
		['3.10.0-123.4.4.el7.x86_64', 'unknown'],
		['3.10.0-1160.el7.x86_64', 'unknown'],
		['4.18.0-305.el8.x86_64', 'unknown'],
		['5.4.0-42-generic', 'unknown'],
		['4.19.0-9-amd64', 'unknown'],
		['5.6.19-300.fc32.x86_64', 'unknown'],
		['4.4.121-92.85-default', 'unknown'],
	])('%s -> %s', (release, state) => {
		const k = parseKernelRelease(`${release}\n`);
		expect(k.ok).toBe(true);
		if (k.ok) expect(ax88179Fix(k.value).state).toBe(state);
	});
	it('says a distro kernel cannot be judged from its version', () => {
		const k = parseKernelRelease('5.4.0-42-generic\n');
		if (!k.ok) throw new Error(k.reason);
		expect(ax88179Fix(k.value).why).toContain('distro kernel; cannot tell from the version whether the fix is backported');
	});
});

// --- run() through a fake host ---------------------------------------------------------------

interface HostSpec {
	iface?: string;
	readlink?: string | FakeCommand;
	ethtool?: string | FakeCommand;
	uname?: string | FakeCommand;
}
const cmd = (c: string | FakeCommand | undefined): FakeCommand | undefined => (typeof c === 'string' ? { stdout: fx(c) } : c);
function host(s: HostSpec): FakeHost {
	const iface = s.iface ?? 'eth0';
	const commands: Record<string, FakeCommand> = {};
	const put = (k: string, v: FakeCommand | undefined) => {
		if (v) commands[k] = v;
	};
	put(`readlink -f /sys/class/net/${iface}`, cmd(s.readlink));
	put(`ethtool -i ${iface}`, cmd(s.ethtool));
	put('uname -r', cmd(s.uname ?? 'debian12-k6.18.uname.txt'));
	put('ls /sys/class/net', { stdout: fx('debian12-k6.18-netns.ls-sys-class-net.txt') });
	return { commands };
}
const runOn = (h: FakeHost, p: Record<string, unknown> = {}): Promise<Verdict> => check.run(fakeCtx(h), params(p));

const usbPath = (iface: string) => ({ stdout: `/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/net/${iface}\n` });

describe('run', () => {
	const cases: { name: string; h: FakeHost; iface?: string; status: Verdict['status']; next?: string; says: string[] }[] = [
		{
			name: 'virtio_net on PCI (this machine) -> pass',
			h: host({ readlink: 'debian12-k6.18-virtio_net.readlink.txt', ethtool: 'debian12-k6.18-virtio_net.ethtool-i.txt' }),
			status: 'pass',
			next: '#check-the-mtu-of-every-link-on-the-path',
			says: ['on PCI', 'not a USB NIC', 'hypervisor'],
		},
		{
			name: 'RHEL virtio_net (old ethtool) on PCI -> pass',
			h: host({
				readlink: 'debian12-k6.18-virtio_net.readlink.txt',
				ethtool: 'insights-rhel-virtio_net.ethtool-i.txt',
				uname: 'centos7.0-weave2289.uname.txt',
			}),
			status: 'pass',
			next: '#check-the-mtu-of-every-link-on-the-path',
			says: ['0000:00:03.0'],
		},
		{
			name: 'veth -> skip (virtual, run it on the physical NIC)',
			iface: 'veth0',
			h: host({ iface: 'veth0', readlink: 'debian12-k6.18-veth.readlink.txt', ethtool: 'debian12-k6.18-veth.ethtool-i.txt' }),
			status: 'skip',
			says: ['virtual interface', 'brif'],
		},
		{
			name: 'lo (ethtool: Operation not supported) -> skip',
			iface: 'lo',
			h: host({
				iface: 'lo',
				readlink: 'debian12-k6.18-lo.readlink.txt',
				ethtool: { stderr: fx('debian12-k6.18-lo.ethtool-i-stderr.txt'), code: 71 },
			}),
			status: 'skip',
			says: ['virtual interface'],
		},
		{
			name: 'r8152 on an ARM board (bus-info usb-) -> warn, prove with a capture',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arm-rtl8153-r8152.ethtool-i.txt' }),
			status: 'warn',
			next: '#prove-the-2-extra-bytes-with-a-capture',
			says: ['USB NIC', 'bus-info usb-xhci-hcd.1-1', 'no such bug is known for r8152', '1516'],
		},
		{
			name: 'cdc_ether (bus-info alone, sysfs not USB-looking) -> warn',
			h: host({ readlink: 'debian12-k6.18-virtio_net.readlink.txt', ethtool: 'pl-blog-cdc_ether.ethtool-i.txt' }),
			status: 'warn',
			next: '#prove-the-2-extra-bytes-with-a-capture',
			says: ['bus-info usb-0000:00:1d.0-1.3', 'driver cdc_ether is a USB NIC driver'],
		},
		{
			name: 'asix on MK802 -> warn',
			h: host({ readlink: usbPath('eth0'), ethtool: 'mk802-asix-ax88772a.ethtool-i.txt' }),
			status: 'warn',
			says: ['sysfs path under /usb2/', 'asix'],
		},
		{
			name: 'cdc_ncm on OpenWrt 6.12 -> warn',
			h: host({ readlink: usbPath('eth0'), ethtool: 'openwrt25.12-k6.12-cdc_ncm.ethtool-i.txt' }),
			status: 'warn',
			says: ['cdc_ncm'],
		},
		{
			name: 'ax88179_178a on CentOS 7.0 -> warn: distro kernel, cannot tell',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: 'centos7.0-weave2289.uname.txt' }),
			status: 'warn',
			next: '#prove-the-2-extra-bytes-with-a-capture',
			says: ['distro kernel; cannot tell from the version whether the fix is backported', 'e869e7a17798', 'modinfo'],
		},
		{
			name: 'ax88179_178a on Raspberry Pi OS 4.19.93 -> warn (4.19 backport not confirmed)',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: 'raspios-rpi3452.uname.txt' }),
			status: 'warn',
			says: ['4.19.y'],
		},
		{
			name: 'ax88179_178a on upstream 5.7.6 -> fail',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: { stdout: '5.7.6\n' } }),
			status: 'fail',
			next: '#fix-a-kernel-with-the-ax88179_178a-fix',
			says: ['older than 5.7.7', '2 garbage bytes'],
		},
		{
			name: 'ax88179_178a on 5.4.44 -> fail (released before the fix existed)',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: { stdout: '5.4.44\n' } }),
			status: 'fail',
			says: ['released before the fix existed'],
		},
		{
			name: 'ax88179_178a on 6.18 -> warn, fixed but still a USB NIC',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt' }),
			status: 'warn',
			says: ['has the 2-byte trailer fix'],
		},
	];
	it.each(cases)('$name', async ({ h, iface, status, next, says }) => {
		const v = await runOn(h, iface ? { iface } : {});
		expect(v.status, v.summary).toBe(status);
		if (next) expect(v.next).toBe(next);
		for (const s of says) expect(v.summary).toContain(s);
		expect(v.evidence.length).toBeGreaterThan(0);
	});

	it('highlights the deciding lines: driver and bus-info of ethtool -i, the path, the release', async () => {
		const v = await runOn(
			host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: { stdout: '5.7.6\n' } }),
		);
		const lines = Object.fromEntries(v.evidence.map((e) => [e.command, e.lines]));
		expect(lines).toEqual({ 'readlink -f /sys/class/net/eth0': [1], 'ethtool -i eth0': [1, 5], 'uname -r': [1] });
		expect(v.facts).toMatchObject({ driver: 'ax88179_178a', bus: 'usb', kernel: '5.7.6', ax88179Fix: 'missing' });
	});

	it('an absent interface -> error InvalidParams listing the interfaces the host has', async () => {
		const v = await runOn(host({ iface: 'nosuch0', readlink: 'debian12-k6.18-absent.readlink.txt' }), { iface: 'nosuch0' });
		expect(v.status).toBe('error');
		expect(v.code).toBe('InvalidParams');
		expect(v.summary).toContain('no interface nosuch0');
		expect(v.summary).toContain('veth0');
	});

	it('ethtool saying "No such device" (interface gone meanwhile) -> error InvalidParams', async () => {
		const v = await runOn(
			host({
				readlink: 'debian12-k6.18-virtio_net.readlink.txt',
				ethtool: { stderr: fx('debian12-k6.18-absent.ethtool-i-stderr.txt'), code: 71 },
			}),
		);
		expect(v.code).toBe('InvalidParams');
	});
});

describe('run: output it cannot decide on -> error', () => {
	const base = { readlink: 'debian12-k6.18-virtio_net.readlink.txt', ethtool: 'debian12-k6.18-virtio_net.ethtool-i.txt' } as const;
	it.each([
		{
			name: 'ethtool not installed -> CommandMissing naming ethtool',
			h: host({ ...base, ethtool: { stderr: fx('debian12-not-installed.ethtool-i-stderr.txt'), code: 127 } }),
			code: 'CommandMissing',
			says: 'package ethtool',
		},
		{
			name: 'ethtool not installed, German shell -> CommandMissing',
			h: host({ ...base, ethtool: { stderr: fx('debian12-de-not-installed.ethtool-i-stderr.txt'), code: 127 } }),
			code: 'CommandMissing',
			says: 'ethtool',
		},
		{
			name: 'German error text on stdout -> OutputNotUnderstood',
			h: host({ ...base, ethtool: 'debian12-de-not-installed.ethtool-i-stderr.txt' }),
			code: 'OutputNotUnderstood',
			says: 'ethtool -i',
		},
		{ name: 'empty ethtool -i -> OutputEmpty', h: host({ ...base, ethtool: 'empty.ethtool-i.txt' }), code: 'OutputEmpty', says: 'nothing' },
		{
			name: 'cut ethtool -i -> OutputTruncated',
			h: host({ ...base, ethtool: 'debian12-k6.18-virtio_net-cut40.ethtool-i.txt' }),
			code: 'OutputTruncated',
			says: 'cut',
		},
		{
			name: 'ethtool -i cut by the transport -> OutputTruncated',
			h: host({ ...base, ethtool: { stdout: fx('debian12-k6.18-virtio_net.ethtool-i.txt'), truncated: true } }),
			code: 'OutputTruncated',
			says: 'cut',
		},
		{
			name: 'ethtool failing otherwise on a real NIC -> CommandFailed',
			h: host({ ...base, ethtool: { stderr: 'Cannot get driver information: Operation not permitted\n', code: 71 } }),
			code: 'CommandFailed',
			says: 'exited with 71',
		},
		{ name: 'empty readlink -> OutputEmpty', h: host({ ...base, readlink: 'empty.readlink.txt' }), code: 'OutputEmpty', says: 'readlink' },
		{
			name: 'cut readlink -> OutputTruncated',
			h: host({ ...base, readlink: 'debian12-k6.18-virtio_net-cut20.readlink.txt' }),
			code: 'OutputTruncated',
			says: 'readlink',
		},
		{
			name: 'readlink missing -> CommandMissing',
			h: host({ ...base, readlink: { stderr: 'bash: line 1: readlink: command not found\n', code: 127 } }),
			code: 'CommandMissing',
			says: 'coreutils',
		},
		{
			name: 'ax88179_178a and an empty uname -> OutputEmpty',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: 'empty.uname.txt' }),
			code: 'OutputEmpty',
			says: 'uname',
		},
		{
			name: 'ax88179_178a and a cut uname -> OutputTruncated',
			h: host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt', uname: 'debian12-k6.18-cut4.uname.txt' }),
			code: 'OutputTruncated',
			says: 'uname',
		},
	])('$name', async ({ h, code, says }) => {
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.summary).toContain(says);
		expect(v.hint).toBeTruthy();
		expect(v.evidence.length).toBeGreaterThan(0);
	});

	it('a garbled uname does not matter when the driver is not ax88179_178a', async () => {
		const v = await runOn(host({ ...base, uname: 'empty.uname.txt' }));
		expect(v.status).toBe('pass');
	});
});

// --- contract ------------------------------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'nic.usb-attached');
	it.each([
		[{ iface: 'eth0' }, true],
		[{ iface: 'enx00e04c680001' }, true],
		[{ iface: 'bond0.100' }, true],
		[{}, false],
		[{ iface: '' }, false],
		[{ iface: 'eth0; reboot' }, false],
		[{ iface: '$(id)' }, false],
		[{ iface: 'a'.repeat(16) }, false],
		[{ iface: 'eth0', other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});
	it('probes list every command, with the interface in place', () => {
		expect(check.probes(params({ iface: 'enp0s20u1' })).map((p) => (p.kind === 'exec' ? p.argv.join(' ') : p.path))).toEqual([
			'readlink -f /sys/class/net/enp0s20u1',
			'ethtool -i enp0s20u1',
			'uname -r',
			'ls /sys/class/net',
		]);
	});
	it('run only runs what probes announce', async () => {
		const ctx = fakeCtx(host({ iface: 'nosuch0', readlink: 'debian12-k6.18-absent.readlink.txt' }));
		await check.run(ctx, params({ iface: 'nosuch0' }));
		const ctx2 = fakeCtx(host({ readlink: usbPath('eth0'), ethtool: 'arranged-ax88179_178a.ethtool-i.txt' }));
		await check.run(ctx2, params());
		const announced = (iface: string) => check.probes(params({ iface })).map(callOf);
		for (const c of ctx.calls) expect(announced('nosuch0')).toContain(c);
		for (const c of ctx2.calls) expect(announced('eth0')).toContain(c);
	});
	it('every next step is a heading of usb-nic-trailer.mdx, which embeds this check', () => {
		expectRunbookEmbeds(check, 'usb-nic-trailer');
	});
});
