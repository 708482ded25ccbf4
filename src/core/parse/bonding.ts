/**
 * `/proc/net/bonding/<bond>` and the listing of `/proc/net/bonding`, for bond.status and
 * net.vlan-on-bond-slave.
 *
 * The file is printed by the bonding driver (drivers/net/bonding/bond_procfs.c): a master part
 * (`Bonding Mode:`, `MII Status:`, for 802.3ad an `802.3ad info` section with `Active Aggregator
 * Info:`), then one block per slave starting `Slave Interface:`. The field set varies by driver
 * version (`Speed`/`Duplex` since 3.x, churn state and `details actor lacp pdu:` blocks since 4.x,
 * `Peer Notification Delay` since 5.3), so unknown `Key: value` lines are kept out of the way rather
 * than refused. Since Linux 5.x the 802.3ad system and partner details (`System priority`, `Active
 * Aggregator Info`, `Permanent HW addr`, the LACP PDU blocks) are printed only to readers with
 * CAP_NET_ADMIN; a non-root read shows `Aggregator ID` per slave and nothing about the partner.
 */
import { notUnderstood, parsed, type Parsed } from '../check.ts';
import { linesOf } from './text.ts';

export type BondMode = 'balance-rr' | 'active-backup' | 'balance-xor' | 'broadcast' | '802.3ad' | 'balance-tlb' | 'balance-alb';

/** `Bonding Mode:` texts (bond_main.c bond_mode_name), by prefix: active-backup may add ` (fail_over_mac active)`. */
const MODE_NAMES: readonly (readonly [string, BondMode])[] = [
	['load balancing (round-robin)', 'balance-rr'],
	['fault-tolerance (active-backup)', 'active-backup'],
	['load balancing (xor)', 'balance-xor'],
	['fault-tolerance (broadcast)', 'broadcast'],
	['IEEE 802.3ad Dynamic link aggregation', '802.3ad'],
	['transmit load balancing', 'balance-tlb'],
	['adaptive load balancing', 'balance-alb'],
];

/** The iproute2 / sysfs name of a `Bonding Mode:` text, or null when it is none of the seven. */
export function bondModeOf(text: string): BondMode | null {
	return MODE_NAMES.find(([prefix]) => text === prefix || text.startsWith(`${prefix} `))?.[1] ?? null;
}

export interface ActiveAggregator {
	id: number;
	ports: number | null;
	partnerKey: number | null;
	/** `00:00:00:00:00:00` when no LACP partner answered. */
	partnerMac: string;
	/** Lines of `Aggregator ID`, `Number of ports` and `Partner Mac Address`. */
	lines: number[];
	partnerMacLine: number;
}

export interface BondSlave {
	name: string;
	/** Line of `Slave Interface:`. */
	line: number;
	/** `up`, `down`, `going back`, `going down`. */
	miiStatus: string;
	miiLine: number;
	speed: string | null;
	duplex: string | null;
	/** Link failures since the slave was enslaved (bond_miimon_commit counts every down). */
	linkFailureCount: number | null;
	linkFailureLine: number | null;
	/** 802.3ad: the aggregator this port is in; null for `N/A` (no aggregator) or other modes. */
	aggregatorId: number | null;
	aggregatorLine: number | null;
	/** The partner system MAC from `details partner lacp pdu:` (root readers, Linux 4.x+). */
	partnerMac: string | null;
	partnerMacLine: number | null;
}

export interface BondStatus {
	/** `v3.7.1 (April 27, 2011)`, `v6.1.0-13-amd64`; null when the first line is missing. */
	driver: string | null;
	mode: BondMode;
	/** The `Bonding Mode:` text as printed. */
	modeText: string;
	modeLine: number;
	hashPolicy: string | null;
	/** `Currently Active Slave:` (active-backup, tlb, alb); null for `None` or other modes. */
	activeSlave: string | null;
	activeSlaveLine: number | null;
	/** `up` or `down`: whether the bond itself has carrier. */
	miiStatus: string;
	miiLine: number;
	/** 802.3ad only. */
	lacpRate: string | null;
	/** 802.3ad: the aggregator the bond uses, null when it has none or it is hidden. */
	activeAggregator: ActiveAggregator | null;
	/** 802.3ad: line of `bond X has no active aggregator`, when printed. */
	noAggregatorLine: number | null;
	/** 802.3ad read without CAP_NET_ADMIN: aggregator and partner details are not printed. */
	partnerHidden: boolean;
	slaves: BondSlave[];
}

const KEY_VALUE = /^(\t| {4,8})?([A-Za-z0-9][A-Za-z0-9 ./()_+-]*?):(?: (.*))?$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

const intOf = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null);

/**
 * `/proc/net/bonding/<bond>`. Example (802.3ad, Linux 5.x as root):
 * ```
 * Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)
 *
 * Bonding Mode: IEEE 802.3ad Dynamic link aggregation
 * MII Status: up
 * ...
 * 802.3ad info
 * LACP rate: fast
 * Active Aggregator Info:
 * 	Aggregator ID: 1
 * 	Number of ports: 2
 * 	Partner Mac Address: 01:e0:52:00:00:01
 *
 * Slave Interface: enp5s0f1
 * MII Status: up
 * Link Failure Count: 0
 * Aggregator ID: 1
 * details partner lacp pdu:
 *     system mac address: 01:e0:52:00:00:01
 *     port state: 61
 * ```
 * Refused: empty or cut text (no final newline, a slave without `MII Status`, a LACP PDU block
 * without its `port state`), no `Bonding Mode:`, a mode the driver does not have, a line that is not
 * `Key: value` or a known section title.
 */
export function parseProcBonding(text: string): Parsed<BondStatus> {
	if (text.trim() === '') return notUnderstood('/proc/net/bonding file is empty');
	if (!text.endsWith('\n')) return notUnderstood('/proc/net/bonding file does not end with a newline, so it was cut');
	let driver: string | null = null;
	let mode: { mode: BondMode; text: string; line: number } | null = null;
	let hashPolicy: string | null = null;
	let active: { name: string | null; line: number } | null = null;
	let mii: { status: string; line: number } | null = null;
	let lacpRate: string | null = null;
	let agg: (Partial<ActiveAggregator> & { lines: number[] }) | null = null;
	let noAggregatorLine: number | null = null;
	let inAdInfo = false;
	const slaves: BondSlave[] = [];
	let slave: BondSlave | null = null;
	/** The LACP PDU block being read: whose, and whether its `port state` line came. */
	let pdu: { who: 'actor' | 'partner'; line: number; done: boolean } | null = null;
	const lines = linesOf(text);
	const endPdu = (): string | null => {
		if (pdu && !pdu.done)
			return `the "details ${pdu.who} lacp pdu:" block at line ${pdu.line} has no "port state:" line, so the file was cut`;
		pdu = null;
		return null;
	};
	for (const [i, line] of lines.entries()) {
		const n = i + 1;
		if (line.trim() === '') {
			const bad = endPdu();
			if (bad) return notUnderstood(bad);
			continue;
		}
		const d = /^Ethernet Channel Bonding Driver: (.+)$/.exec(line);
		if (d && n <= 2) {
			driver = d[1]!;
			continue;
		}
		if (line === '802.3ad info') {
			inAdInfo = true;
			continue;
		}
		const none = /^bond (\S+) has no active aggregator$/.exec(line);
		if (none) {
			noAggregatorLine = n;
			continue;
		}
		const details = /^details (actor|partner) lacp pdu:$/.exec(line);
		if (details) {
			const bad = endPdu();
			if (bad) return notUnderstood(bad);
			if (!slave) return notUnderstood(`line ${n}: a LACP PDU block before any "Slave Interface:"`);
			pdu = { who: details[1] as 'actor' | 'partner', line: n, done: false };
			continue;
		}
		if (pdu && /^ {4}\S/.test(line)) {
			const m = /^ {4}([a-z ]+): (\S+)$/.exec(line);
			if (!m) return notUnderstood(`line ${n} in a LACP PDU block is not "name: value": ${JSON.stringify(line.slice(0, 80))}`);
			if (m[1] === 'system mac address' && pdu.who === 'partner' && slave) {
				slave.partnerMac = m[2]!.toLowerCase();
				slave.partnerMacLine = n;
			}
			if (m[1] === 'port state') pdu.done = true;
			continue;
		}
		{
			const bad = endPdu();
			if (bad) return notUnderstood(bad);
		}
		const kv = KEY_VALUE.exec(line);
		if (!kv) return notUnderstood(`line ${n} is not "Key: value": ${JSON.stringify(line.slice(0, 80))}`);
		const indented = kv[1] !== undefined;
		const key = kv[2]!;
		const value = (kv[3] ?? '').trim();
		if (key === 'Slave Interface') {
			if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(value)) return notUnderstood(`line ${n}: "${value}" is not an interface name`);
			if (slaves.some((s) => s.name === value)) return notUnderstood(`line ${n}: slave ${value} is listed twice`);
			if (slave && slave.miiLine === 0) return notUnderstood(`slave ${slave.name} (line ${slave.line}) has no "MII Status:" line`);
			slave = {
				name: value,
				line: n,
				miiStatus: '',
				miiLine: 0,
				speed: null,
				duplex: null,
				linkFailureCount: null,
				linkFailureLine: null,
				aggregatorId: null,
				aggregatorLine: null,
				partnerMac: null,
				partnerMacLine: null,
			};
			slaves.push(slave);
			continue;
		}
		if (slave) {
			switch (key) {
				case 'MII Status':
					slave.miiStatus = value;
					slave.miiLine = n;
					break;
				case 'Speed':
					slave.speed = value;
					break;
				case 'Duplex':
					slave.duplex = value;
					break;
				case 'Link Failure Count':
					slave.linkFailureCount = intOf(value);
					if (slave.linkFailureCount === null) return notUnderstood(`line ${n}: link failure count "${value}" is not a number`);
					slave.linkFailureLine = n;
					break;
				case 'Aggregator ID':
					if (value !== 'N/A') {
						slave.aggregatorId = intOf(value);
						if (slave.aggregatorId === null) return notUnderstood(`line ${n}: aggregator id "${value}" is not a number`);
					}
					slave.aggregatorLine = n;
					break;
			}
			continue;
		}
		if (indented && agg) {
			if (key === 'Aggregator ID') {
				agg.id = intOf(value) ?? undefined;
				agg.lines.push(n);
			} else if (key === 'Number of ports') {
				agg.ports = intOf(value);
				agg.lines.push(n);
			} else if (key === 'Partner Key') {
				agg.partnerKey = intOf(value);
			} else if (key === 'Partner Mac Address') {
				if (!MAC.test(value.toLowerCase())) return notUnderstood(`line ${n}: partner MAC "${value}" is not a MAC address`);
				agg.partnerMac = value.toLowerCase();
				agg.partnerMacLine = n;
				agg.lines.push(n);
			}
			continue;
		}
		switch (key) {
			case 'Bonding Mode': {
				const m = bondModeOf(value);
				if (!m) return notUnderstood(`line ${n}: unknown bonding mode "${value}"`);
				mode = { mode: m, text: value, line: n };
				break;
			}
			case 'Transmit Hash Policy':
				hashPolicy = value.replace(/\s*\(\d+\)$/, '');
				break;
			case 'Currently Active Slave':
				active = { name: value === 'None' || value === '' ? null : value, line: n };
				break;
			case 'MII Status':
				mii = { status: value, line: n };
				break;
			case 'LACP rate':
				if (inAdInfo) lacpRate = value;
				break;
			case 'Active Aggregator Info':
				agg = { lines: [] };
				break;
		}
	}
	{
		const bad = endPdu();
		if (bad) return notUnderstood(bad);
	}
	if (!mode) return notUnderstood('no "Bonding Mode:" line: not a /proc/net/bonding file');
	if (!mii) return notUnderstood('no "MII Status:" line for the bond itself');
	if (slave && slave.miiLine === 0)
		return notUnderstood(`slave ${slave.name} (line ${slave.line}) has no "MII Status:" line, so the file was cut`);
	let activeAggregator: ActiveAggregator | null = null;
	if (agg) {
		if (agg.id === undefined || agg.partnerMac === undefined || agg.partnerMacLine === undefined)
			return notUnderstood('"Active Aggregator Info:" lacks its "Aggregator ID" or "Partner Mac Address": the file was cut');
		activeAggregator = {
			id: agg.id,
			ports: agg.ports ?? null,
			partnerKey: agg.partnerKey ?? null,
			partnerMac: agg.partnerMac,
			lines: agg.lines,
			partnerMacLine: agg.partnerMacLine,
		};
	}
	const is8023ad = mode.mode === '802.3ad';
	return parsed(
		{
			driver,
			mode: mode.mode,
			modeText: mode.text,
			modeLine: mode.line,
			hashPolicy,
			activeSlave: active?.name ?? null,
			activeSlaveLine: active?.line ?? null,
			miiStatus: mii.status,
			miiLine: mii.line,
			lacpRate,
			activeAggregator,
			noAggregatorLine,
			partnerHidden: is8023ad && activeAggregator === null && noAggregatorLine === null,
			slaves,
		},
		[mode.line, mii.line],
	);
}

/**
 * `ls /proc/net/bonding`: one bond name per line (`bond0`), nothing when the bonding driver is
 * loaded with no bond.
 */
export function parseBondingList(text: string): Parsed<string[]> {
	if (text !== '' && !text.endsWith('\n')) return notUnderstood('ls /proc/net/bonding does not end with a newline, so it was cut');
	const names: string[] = [];
	for (const [i, line] of linesOf(text).entries()) {
		if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(line))
			return notUnderstood(`ls /proc/net/bonding line ${i + 1} is not a bond name: ${JSON.stringify(line.slice(0, 80))}`);
		names.push(line);
	}
	return parsed(
		names,
		names.map((_, i) => i + 1),
	);
}

/** `ls` stderr for a missing directory under LC_ALL=C (GNU coreutils): the bonding driver is not loaded. */
export function isNoSuchDirectory(stderr: string): boolean {
	return /^ls: cannot access '?\/proc\/net\/bonding'?: No such file or directory$/m.test(stderr);
}
