/**
 * `ethtool -i` (driver information) and `ethtool -k` (features), as every ethtool since 2.6.x prints
 * them. Neither is translated: the keys are fixed strings in ethtool's source, so output in any other
 * shape is not ethtool's answer (an error message, a cut stream) and is refused.
 */
import { notUnderstood, parsed, type Parsed } from '../check.ts';
import { incomplete, linesOf } from './text.ts';

// --- ethtool -i ----------------------------------------------------------------------------------

export interface DriverInfo {
	/** `virtio_net`, `ax88179_178a`, `r8152`. */
	driver: string;
	/** Driver version: its own string, or the kernel release for drivers that have none; may be empty. */
	version: string;
	firmwareVersion: string;
	/** `usb-0000:00:14.0-1`, `0000:00:03.0`, empty for virtual devices. */
	busInfo: string;
	/** 1-based lines of `driver:` and `bus-info:`. */
	driverLine: number;
	busInfoLine: number;
}

/**
 * `ethtool -i IFACE`: `key: value` lines, `driver:` first, e.g.
 * `driver: r8152` / `version: v1.12.13` / `firmware-version: rtl8156a-2 v2 04/27/23` /
 * `bus-info: usb-0000:00:14.0-1`. Older ethtool leaves out `expansion-rom-version`; an empty value
 * may or may not keep its blank after the colon.
 */
export function parseEthtoolDriver(text: string): Parsed<DriverInfo> {
	const cut = incomplete(text, 'ethtool -i');
	if (cut) return notUnderstood(cut);
	const values = new Map<string, { value: string; line: number }>();
	const lines = linesOf(text);
	for (const [i, line] of lines.entries()) {
		const m = /^([a-z][a-z-]*):(?: (.*))?$/.exec(line);
		if (!m) return notUnderstood(`ethtool -i line ${i + 1} is not "key: value": ${JSON.stringify(line.slice(0, 80))}`);
		if (values.has(m[1]!)) return notUnderstood(`ethtool -i: "${m[1]}" appears twice`);
		values.set(m[1]!, { value: (m[2] ?? '').trimEnd(), line: i + 1 });
	}
	if (!lines[0]?.startsWith('driver:')) return notUnderstood('ethtool -i: the first line is not "driver: ..."');
	const driver = values.get('driver')!;
	const bus = values.get('bus-info');
	if (driver.value === '') return notUnderstood('ethtool -i: the driver name is empty');
	if (!bus) return notUnderstood('ethtool -i: no "bus-info:" line');
	return parsed(
		{
			driver: driver.value,
			version: values.get('version')?.value ?? '',
			firmwareVersion: values.get('firmware-version')?.value ?? '',
			busInfo: bus.value,
			driverLine: driver.line,
			busInfoLine: bus.line,
		},
		[driver.line, bus.line],
	);
}

/** Where `bus-info` says the device sits. */
export type BusKind = 'usb' | 'pci' | 'none' | 'other';

/**
 * `usb-<host controller>-<port path>` is what `usb_make_path()` writes for every usbnet driver
 * (drivers/usb/core/usb.c); PCI devices print their `domain:bus:device.function`; virtual devices
 * (veth, bridge, bond, tun) print nothing; platform devices their device name.
 */
export function busKind(busInfo: string): BusKind {
	if (busInfo.startsWith('usb-')) return 'usb';
	if (/^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(busInfo)) return 'pci';
	if (busInfo === '' || busInfo === 'N/A') return 'none';
	return 'other';
}

// --- ethtool -k ----------------------------------------------------------------------------------

export interface Feature {
	name: string;
	/** What is in effect now. */
	on: boolean;
	/** `[fixed]`: the device cannot change it. */
	fixed: boolean;
	/** `[requested on]` / `[requested off]`: asked for, but not in effect (a dependency is off); null when in effect as asked. */
	requested: boolean | null;
	/** 1-based line. */
	line: number;
}

export interface Features {
	/** From the first line, `Features for eth0:`. */
	iface: string;
	/** Every feature line, nested (indented) ones included. */
	features: Map<string, Feature>;
	headerLine: number;
}

const FEATURE_LINE = /^\s*([a-z0-9][a-z0-9_-]*): (on|off)(?: \[(fixed|requested on|requested off)\])?$/;

/**
 * `ethtool -k IFACE`: a header (`Features for eth0:`; `Offload parameters for eth0:` from
 * ethtool < 3.x), then one `name: on|off[ [fixed]|[requested on]|[requested off]]` per line, with
 * sub-features indented by a tab or spaces. Example: `udp-fragmentation-offload: off [fixed]`.
 */
export function parseEthtoolFeatures(text: string): Parsed<Features> {
	const cut = incomplete(text, 'ethtool -k');
	if (cut) return notUnderstood(cut);
	const lines = linesOf(text);
	const header = /^(?:Features|Offload parameters) for (\S+):$/.exec(lines[0] ?? '');
	if (!header)
		return notUnderstood(`ethtool -k: the first line is not "Features for IFACE:": ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
	const features = new Map<string, Feature>();
	for (const [i, line] of lines.entries()) {
		if (i === 0 || line.trim() === '') continue;
		const m = FEATURE_LINE.exec(line);
		if (!m) return notUnderstood(`ethtool -k line ${i + 1} is not "feature: on|off": ${JSON.stringify(line.slice(0, 80))}`);
		const note = m[3];
		features.set(m[1]!, {
			name: m[1]!,
			on: m[2] === 'on',
			fixed: note === 'fixed',
			requested: note === 'requested on' ? true : note === 'requested off' ? false : null,
			line: i + 1,
		});
	}
	if (features.size === 0) return notUnderstood('ethtool -k: a header but no feature lines');
	return parsed({ iface: header[1]!, features, headerLine: 1 }, [1]);
}

/** The legacy name ethtool prints for NETIF_F_UFO (`ufo` on the command line). */
export const UFO_FEATURE = 'udp-fragmentation-offload';

// --- failures ------------------------------------------------------------------------------------

/**
 * True when ethtool failed because the interface does not exist: `Cannot get driver information: No
 * such device` (ioctl, exit 71) or `netlink error: no device matches name` (netlink, exit 1). The
 * transport runs commands under LC_ALL=C, so strerror() is English.
 */
export function ethtoolNoDevice(stderr: string): boolean {
	return /No such device|no device matches name/.test(stderr);
}
