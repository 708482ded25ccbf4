/**
 * nic.usb-attached: is this NIC on USB, and is its driver the ax88179_178a that adds 2 bytes to every
 * received frame?
 *
 * Failure (DOMAIN.md section 1): USB NICs carry frames inside USB transfers with per-packet headers
 * and padding the driver must strip. ax88179_178a (ASIX AX88179/AX88178A) set the frame length from a
 * hardware field that includes a 2-byte alignment pad, so every received frame kept 2 garbage bytes
 * at its end (Wireshark: "VSS-Monitoring ethernet trailer"). Small frames do not care; a full-size
 * frame becomes 1516 bytes and is dropped by OVS ("dropped over-mtu packet") or a switch, so ping
 * works and SSH hangs. Fixed by Jeremy Kerr, "net: usb: ax88179_178a: fix packet alignment padding",
 * upstream commit e869e7a17798 (Linux 5.8).
 *
 * Reads: `readlink -f /sys/class/net/IFACE` (a USB NIC sits under `/usbN/`), `ethtool -i IFACE`
 * (driver, `bus-info: usb-...`), `uname -r`; `ls /sys/class/net` only when IFACE does not exist.
 *
 * Rules, all in `evaluate` and `ax88179Fix`:
 * - USB when any of: bus-info starts with `usb-` (usb_make_path(), drivers/usb/core/usb.c), the
 *   sysfs path has a `/usbN/` element, the driver is one of drivers/net/usb (`USB_DRIVERS`).
 *   USB -> warn, next: prove the 2 bytes with a capture. PCI or platform -> pass. Virtual (veth,
 *   bridge, bond, tun: `/sys/devices/virtual/net/`) -> skip: it has no bus; its ports do.
 * - ax88179_178a on a kernel without e869e7a17798 -> fail. Counted as fixed: upstream >= 5.8; stable
 *   5.7.7+ and 4.9.229+ (stable announcements: 5.7.7 diffstat, 4.9.229-rc1 review, both in
 *   DOMAIN.md); a distribution kernel based on 5.8 or later. Counted as missing: upstream builds of
 *   trees no longer maintained when the fix landed (June 2020; every tree but 4.4, 4.9, 4.14, 4.19,
 *   5.4 and 5.7), 5.7.0-5.7.6, 4.9.0-4.9.228, and 5.4.0-5.4.44 (5.4.44 was released on 2020-06-03,
 *   before the fix was posted on 2020-06-15). Undecided, so `warn` with the reason: 5.4.45+
 *   (Raspberry Pi's 5.4 kernels carry a backport, raspberrypi/linux#3452, from a sublevel not
 *   confirmed here), 4.4.y (an AUTOSEL backport was posted on 2020-07-01; its release not confirmed),
 *   4.14.y and 4.19.y (no evidence either way), 5.8 release candidates, and every distribution kernel
 *   below 5.8 ("distro kernel; cannot tell from the version whether the fix is backported": SUSE,
 *   for one, backported it into 4.4-based SLES 12 SP2 in 2022, bsc#1196018).
 * - ASIX's own out-of-tree driver also registers as `ax88179_178a` and prints the same `ethtool -i`
 *   (it uses usbnet_get_drvinfo); the summary says so rather than guessing.
 * - An IFACE that does not exist is `error` InvalidParams, not `skip`: skip rolls up as "not
 *   applicable" (exit 0), so a mistyped interface name would read as a healthy host in a fleet table.
 *
 * Serves content/runbooks/usb-nic-trailer.mdx, step "Find the USB NIC and its driver".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	fail,
	InterfaceName,
	notUnderstood,
	parsed,
	pass,
	skip,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type Verdict,
} from '../../src/core/check.ts';
import { busKind, ethtoolNoDevice, parseEthtoolDriver, type DriverInfo } from '../../src/core/parse/ethtool.ts';
import { atLeast, compareVersions, parseKernelRelease, type KernelRelease } from '../../src/core/parse/kernel.ts';
import {
	codeForOutput,
	commandFailed,
	cutByTransport,
	decide,
	execRecorded,
	installOrRunByHand,
	interfacesProbe,
	noSuchInterface,
	Undecided,
} from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/** The network interface to examine, as `ip link` names it: the NIC the VMs' traffic enters by. */
	iface: InterfaceName.describe('the network interface to examine, e.g. eth0 or enx00e04c680001'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** The driver with the 2-byte RX trailer. */
export const TRAILER_DRIVER = 'ax88179_178a';

/**
 * Drivers of drivers/net/usb, by the name they register (what `ethtool -i` prints as `driver:`).
 * Any of them means the NIC is on USB even when bus-info and sysfs are not at hand.
 */
export const USB_DRIVERS: ReadonlySet<string> = new Set([
	'aqc111',
	'asix',
	'ax88179_178a',
	'catc',
	'cdc_eem',
	'cdc_ether',
	'cdc_mbim',
	'cdc_ncm',
	'cdc_subset',
	'ch9200',
	'cx82310_eth',
	'dm9601',
	'gl620a',
	'huawei_cdc_ncm',
	'int51x1',
	'ipheth',
	'kalmia',
	'kaweth',
	'lan78xx',
	'mcs7830',
	'net1080',
	'pegasus',
	'plusb',
	'qmi_wwan',
	'r8152',
	'r8153_ecm',
	'rndis_host',
	'rtl8150',
	'sierra_net',
	'smsc75xx',
	'smsc95xx',
	'sr9700',
	'sr9800',
	'zaurus',
]);

/** Upstream release with the fix (commit e869e7a17798). */
const FIXED_MAINLINE = [5, 8] as const;
/** Stable trees with the backport and the first sublevel that has it (stable announcements, DOMAIN.md). */
const FIXED_STABLE: Readonly<Record<string, number>> = { '5.7': 7, '4.9': 229 };
/**
 * Stable trees still maintained when the fix landed in June 2020, whose first fixed sublevel is not
 * confirmed; the value is the last sublevel known to predate the fix (null: none known).
 */
const UNCONFIRMED_STABLE: Readonly<Record<string, { before: number | null; why: string }>> = {
	'5.4': {
		before: 44,
		why: "Raspberry Pi's 5.4 kernels carry a backport (raspberrypi/linux#3452), but the first 5.4.y with it is not confirmed here",
	},
	'4.4': {
		before: null,
		why: 'an AUTOSEL backport to 4.4 was posted on 2020-07-01, but the 4.4.y release that took it is not confirmed here',
	},
	'4.14': { before: null, why: '4.14.y was maintained when the fix landed (June 2020), but no backport to it is confirmed here' },
	'4.19': { before: null, why: '4.19.y was maintained when the fix landed (June 2020), but no backport to it is confirmed here' },
};

export type FixState = 'fixed' | 'missing' | 'unknown';

/** Whether a kernel has e869e7a17798, and why it is judged so. See the header for the sources. */
export function ax88179Fix(k: KernelRelease): { state: FixState; why: string } {
	const tree = `${k.major}.${k.minor}`;
	const upstreamLike = k.builder === 'upstream' || k.builder === 'raspberrypi';
	if (compareVersions([k.major, k.minor], FIXED_MAINLINE) > 0 || (atLeast(k, FIXED_MAINLINE) && k.rc === null)) {
		return { state: 'fixed', why: `${k.release} is based on Linux ${tree}, and the fix is in 5.8 and later` };
	}
	if (atLeast(k, FIXED_MAINLINE)) {
		return { state: 'unknown', why: `${k.release} is a 5.8 release candidate; which -rc first had the fix is not confirmed here` };
	}
	const first = FIXED_STABLE[tree];
	if (first !== undefined && k.sublevelKnown && k.sublevel >= first) {
		return { state: 'fixed', why: `${k.release} is based on ${tree}.${k.sublevel}, and stable ${tree}.${first} has the backport` };
	}
	if (!upstreamLike) {
		return {
			state: 'unknown',
			why: `${k.release} (based on ${tree}, older than 5.8): distro kernel; cannot tell from the version whether the fix is backported`,
		};
	}
	if (first !== undefined) {
		return { state: 'missing', why: `${k.release} is older than ${tree}.${first}, the first ${tree}.y with the fix` };
	}
	const unconfirmed = UNCONFIRMED_STABLE[tree];
	if (unconfirmed) {
		if (unconfirmed.before !== null && k.sublevel <= unconfirmed.before) {
			return {
				state: 'missing',
				why: `${k.release} is ${tree}.${k.sublevel}, released before the fix existed (${tree}.${unconfirmed.before} came out on 2020-06-03, the fix was posted on 2020-06-15)`,
			};
		}
		return { state: 'unknown', why: `${k.release}: ${unconfirmed.why}` };
	}
	return {
		state: 'missing',
		why: `${k.release} is from the ${tree} series, which was no longer maintained when the fix landed in Linux 5.8 (June 2020)`,
	};
}

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 10_000;

const readlinkProbe = (iface: string): ExecProbe => ({
	kind: 'exec',
	argv: ['readlink', '-f', `/sys/class/net/${iface}`],
	why: 'where the interface sits in sysfs: a USB NIC is under /usbN/, a virtual one under /sys/devices/virtual/',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const ethtoolProbe = (iface: string): ExecProbe => ({
	kind: 'exec',
	argv: ['ethtool', '-i', iface],
	why: 'driver and bus: bus-info "usb-..." is a USB NIC; driver ax88179_178a is the one with the 2-byte trailer',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const unameProbe: ExecProbe = {
	kind: 'exec',
	argv: ['uname', '-r'],
	why: 'kernel release: ax88179_178a is fixed in 5.8 and in some stable trees',
	timeoutMs: EXEC_TIMEOUT_MS,
};

// --- parsers -----------------------------------------------------------------------------------

export interface SysfsPath {
	/** What `readlink -f` printed. */
	path: string;
	/** False when the path did not resolve: `readlink -f` prints a missing last element unchanged. */
	exists: boolean;
	/** The `usbN` element, e.g. `usb2`, when the device hangs off a USB bus. */
	usbBus: string | null;
	/** Under /sys/devices/virtual/: veth, bridge, bond, tun, lo. */
	virtual: boolean;
}

/**
 * `readlink -f /sys/class/net/IFACE`: one absolute path, e.g.
 * `/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/net/enp0s20u1` (USB),
 * `/sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0` (virtio on PCI),
 * `/sys/devices/virtual/net/lo`. An interface that does not exist comes back as
 * `/sys/class/net/IFACE` itself.
 */
export function parseSysfsPath(text: string, iface: string): Parsed<SysfsPath> {
	if (text.trim() === '') return notUnderstood('readlink printed nothing');
	if (!text.endsWith('\n')) return notUnderstood('readlink output does not end with a newline, so it may have been cut');
	const m = /^(\/\S*)\n$/.exec(text);
	if (!m) return notUnderstood(`readlink: expected one absolute path, got ${JSON.stringify(text.slice(0, 80))}`);
	const path = m[1]!;
	if (path === `/sys/class/net/${iface}`) return parsed({ path, exists: false, usbBus: null, virtual: false }, [1]);
	if (!path.startsWith('/sys/devices/') || !path.endsWith(`/net/${iface}`)) {
		return notUnderstood(`readlink: ${path} is neither /sys/devices/.../net/${iface} nor /sys/class/net/${iface}`);
	}
	const usb = /\/(usb\d+)\//.exec(path);
	return parsed({ path, exists: true, usbBus: usb ? usb[1]! : null, virtual: path.startsWith('/sys/devices/virtual/') }, [1]);
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	iface: string;
	sysfs: SysfsPath;
	/** Null when ethtool could not say (a virtual device without driver information). */
	driver: DriverInfo | null;
	/** Null when `uname -r` was not understood; only ax88179_178a needs it. */
	kernel: KernelRelease | null;
	/** Why `kernel` is null. */
	kernelProblem: string | null;
	evidence: Evidence[];
}

const WHY_USB =
	'USB NICs carry frames inside USB transfers with per-packet headers and padding that the driver must strip; a driver that strips them wrong hands the stack frames with extra bytes, and a full-size frame has no room for them (1500 bytes of IP become a 1516-byte frame that OVS and switches drop, while small packets pass)';

/** Judge the observation. Pure; every rule is here or in `ax88179Fix`. */
export function evaluate(obs: Observation): Verdict {
	const { sysfs, driver, iface } = obs;
	const bus = driver ? busKind(driver.busInfo) : 'none';
	const reasons: string[] = [];
	if (bus === 'usb') reasons.push(`bus-info ${driver!.busInfo}`);
	if (sysfs.usbBus) reasons.push(`sysfs path under /${sysfs.usbBus}/`);
	if (driver && USB_DRIVERS.has(driver.driver)) reasons.push(`driver ${driver.driver} is a USB NIC driver`);
	const usb = reasons.length > 0;
	const facts: Facts = {
		iface,
		sysfsPath: sysfs.path,
		driver: driver?.driver ?? null,
		driverVersion: driver?.version ?? null,
		firmwareVersion: driver?.firmwareVersion ?? null,
		busInfo: driver?.busInfo ?? null,
		bus: usb ? 'usb' : sysfs.virtual ? 'virtual' : bus === 'pci' ? 'pci' : bus === 'none' ? 'unknown' : 'platform',
		usbEvidence: reasons,
		kernel: obs.kernel?.release ?? null,
		ax88179Fix: null,
	};
	const extras = { evidence: obs.evidence, facts };

	if (!usb) {
		if (sysfs.virtual) {
			return skip(
				`${iface} is a virtual interface (${driver ? `driver ${driver.driver}, ` : ''}${sysfs.path}): it has no bus of its own. Run this check on the physical NIC under it (bridge ports: ls /sys/class/net/${iface}/brif; bond members: cat /sys/class/net/${iface}/bonding/slaves).`,
				extras,
			);
		}
		const where = bus === 'pci' ? `on PCI (bus-info ${driver!.busInfo})` : `not on USB (${sysfs.path})`;
		const vm =
			driver?.driver === 'virtio_net'
				? ' It is a VM NIC: if the VMs lose full-size frames, the USB NIC to look for is on the hypervisor (run this check there on its uplink).'
				: '';
		return pass(
			`${iface} is ${where}, driver ${driver?.driver ?? 'unknown'}: not a USB NIC, so it does not add the USB trailer.${vm} Check the MTU of every link on the path next.`,
			{ ...extras, next: '#check-the-mtu-of-every-link-on-the-path' },
		);
	}

	const usbPart = `${iface} is a USB NIC (${reasons.join('; ')}).`;
	if (driver?.driver !== TRAILER_DRIVER) {
		return warn(
			`${usbPart} ${WHY_USB}. The known case is ax88179_178a before Linux 5.8; no such bug is known for ${driver?.driver ?? 'this driver'}, so prove it with a capture before blaming the adapter.`,
			{ ...extras, next: '#prove-the-2-extra-bytes-with-a-capture' },
		);
	}

	if (!obs.kernel) {
		// Only reached through run(), which stops with an error first; kept for direct callers.
		return warn(`${usbPart} Its driver is ax88179_178a, but the kernel release could not be read (${obs.kernelProblem ?? 'unknown'}).`, {
			...extras,
			next: '#prove-the-2-extra-bytes-with-a-capture',
		});
	}
	const fix = ax88179Fix(obs.kernel);
	facts.ax88179Fix = fix.state;
	const vendor =
		" (If ASIX's own out-of-tree driver is installed, it registers under the same name; `modinfo ax88179_178a` shows which module loads.)";
	if (fix.state === 'missing') {
		return fail(
			`${usbPart} Its driver ax88179_178a leaves 2 garbage bytes at the end of every received frame on kernels without commit e869e7a17798, and this kernel lacks it: ${fix.why}. Full-size frames arrive 2 bytes too long and are dropped downstream.${vendor}`,
			{ ...extras, next: '#fix-a-kernel-with-the-ax88179_178a-fix' },
		);
	}
	if (fix.state === 'unknown') {
		return warn(
			`${usbPart} Its driver ax88179_178a adds 2 bytes to every received frame unless the kernel has commit e869e7a17798 (Linux 5.8): ${fix.why}. Prove it with a capture.${vendor}`,
			{ ...extras, next: '#prove-the-2-extra-bytes-with-a-capture' },
		);
	}
	return warn(
		`${usbPart} Its driver ax88179_178a has the 2-byte trailer fix (${fix.why}), but ${WHY_USB}. Prove it with a capture if full-size frames still vanish.`,
		{ ...extras, next: '#prove-the-2-extra-bytes-with-a-capture' },
	);
}

// --- run ---------------------------------------------------------------------------------------

async function execProbe(ctx: Ctx, probe: ExecProbe, evidence: Evidence[]) {
	const r = await execRecorded(ctx, probe, evidence, EXEC_TIMEOUT_MS);
	if (r.code === 127) throw new Undecided(installOrRunByHand(probe, evidence));
	return r;
}

const absent = (ctx: Ctx, iface: string, evidence: Evidence[]) =>
	noSuchInterface(ctx, iface, evidence, 'Run the check again with iface set to the NIC the traffic enters by (`ip -br link` lists them).');

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	const { iface } = params;

	ctx.progress('locating the interface in sysfs', 0.1);
	const rl = await execProbe(ctx, readlinkProbe(iface), evidence);
	if (rl.code !== 0) throw new Undecided(commandFailed(`readlink -f /sys/class/net/${iface}`, rl, { evidence }));
	const sp = parseSysfsPath(rl.stdout, iface);
	if (!sp.ok) throw new Undecided(error(codeForOutput(rl.stdout, { truncated: rl.truncated }), `${sp.reason}.`, { evidence }));
	evidence.at(-1)!.lines = sp.lines;
	if (!sp.value.exists) throw new Undecided(await absent(ctx, iface, evidence));

	ctx.progress('reading the driver', 0.4);
	const et = await execProbe(ctx, ethtoolProbe(iface), evidence);
	const ethtoolEvidence = evidence.at(-1)!;
	let driver: DriverInfo | null = null;
	if (et.code === 0) {
		const d = parseEthtoolDriver(et.stdout);
		if (!d.ok) throw new Undecided(error(codeForOutput(et.stdout, { truncated: et.truncated }), `${d.reason}.`, { evidence }));
		if (et.truncated) throw new Undecided(cutByTransport(`ethtool -i ${iface}`, { evidence }));
		driver = d.value;
		ethtoolEvidence.lines = d.lines;
	} else if (ethtoolNoDevice(et.stderr)) {
		throw new Undecided(await absent(ctx, iface, evidence));
	} else if (!sp.value.virtual) {
		throw new Undecided(commandFailed(`ethtool -i ${iface}`, et, { evidence }));
	}

	ctx.progress('reading the kernel release', 0.7);
	const un = await execProbe(ctx, unameProbe, evidence);
	const k = un.code === 0 ? parseKernelRelease(un.stdout) : notUnderstood(`uname -r exited with ${un.code ?? 'a signal'}`);
	if (k.ok) evidence.at(-1)!.lines = k.lines;
	if (!k.ok && driver?.driver === TRAILER_DRIVER) {
		throw new Undecided(
			error(
				un.code === 0 ? codeForOutput(un.stdout, { truncated: un.truncated }) : 'CommandFailed',
				`${k.reason}; the kernel release decides whether ax88179_178a has its fix.`,
				{
					evidence,
				},
			),
		);
	}
	return {
		iface,
		sysfs: sp.value,
		driver,
		kernel: k.ok ? k.value : null,
		kernelProblem: k.ok ? null : k.reason,
		evidence,
	};
}

export default defineCheck({
	id: 'nic.usb-attached',
	title: 'USB NIC and the ax88179_178a 2-byte trailer',
	description:
		'Finds whether a network interface is a USB NIC (ethtool bus-info, sysfs path, driver) and, for the ASIX AX88179 driver ax88179_178a, whether the kernel has the fix for the 2 garbage bytes it adds to every received frame (commit e869e7a17798, Linux 5.8). Fails on ax88179_178a without the fix, warns on any other USB NIC.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [
		'#fix-a-kernel-with-the-ax88179_178a-fix',
		'#prove-the-2-extra-bytes-with-a-capture',
		'#check-the-mtu-of-every-link-on-the-path',
	],
	params: ParamsSchema,
	probes(params) {
		return [readlinkProbe(params.iface), ethtoolProbe(params.iface), unameProbe, interfacesProbe];
	},
	run(ctx, params) {
		return decide(async () => evaluate(await observe(ctx, params)));
	},
});
