/**
 * One runbook on several hosts: a host by check grid, a one-line count first ("3 hosts: 1 fail,
 * 2 pass"), identical outputs grouped, and the hosts that stand out marked.
 *
 * Grouping: per check, hosts whose evidence (every command and its whole output) is byte-identical
 * form one group; biggest group first.
 *
 * Outliers, per check, among the hosts that have a verdict for it (at least two):
 * - status: the majority status is the most common one; a tie goes to the healthier status
 *   (pass, skip, warn, fail, error in that order), since in a fleet the healthy hosts are the
 *   baseline. A host with another status is an outlier.
 * - facts: compared only among hosts whose check decided (pass, warn or fail), after dropping
 *   what is host-specific by nature: a key whose last word names a thing (address, addr, mac, ip,
 *   host, name, pid, uuid, serial, iface, interface, dev, device, slave, time, date, uptime, since:
 *   `partnerMac`, `ifaces`, `pid`), and a key where any host's value holds an IPv4, IPv6 or MAC
 *   address (or a time of day) or is an interface-like name (`eth0`, `bond0.53`, `Ethernet1/1`).
 *   A list of `name=value` items labelled by such names compares by its sorted values, so NICs
 *   named differently still compare. Numbers, and lists of numbers of one length, agree when within
 *   10% of the hosts' median (10% of its largest element, for a list), so sampled rates and mapping
 *   counts do not mark every host; anything else must be equal. A host is marked only where more
 *   than half of the compared hosts agree and it does not: with two hosts, or with values all over
 *   the place, no fact marks anyone. So one link carrying all the load (`net.link-balance`
 *   `sharePercent` 100,0 where the others are about 50,50) or a bond whose slaves sit in two
 *   aggregators (`bond.status` `aggregators` 1,2 where the others are 1,1) is marked, while
 *   counters that differ everywhere are not.
 *
 * Pure, types only from elsewhere, so the page can run it too.
 */
import type { Facts } from '../core/check.ts';
import type { Status } from '../core/status.ts';
import type { VerdictRecord } from '../runner/types.ts';
import { decidingEvidence, diagnose, rollUpStatus, runbookHref, SEVERITY } from './diagnose.ts';
import type { FactDifference, FleetDiagnosis, HostRecords, OutputGroup, Outlier, RunbookOutline } from './types.ts';

/** Healthiest first: the tie-break for the majority status. */
const HEALTH: readonly Status[] = ['pass', 'skip', 'warn', 'fail', 'error'];

const HOST_SPECIFIC_WORDS = new Set([
	'addr',
	'address',
	'addresses',
	'mac',
	'macs',
	'lladdr',
	'ip',
	'ips',
	'host',
	'hosts',
	'hostname',
	'name',
	'names',
	'pid',
	'pids',
	'uuid',
	'serial',
	'iface',
	'ifaces',
	'interface',
	'interfaces',
	'dev',
	'device',
	'devices',
	'slave',
	'slaves',
	'time',
	'timestamp',
	'date',
	'uptime',
	'since',
]);

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/;
/** A token of hex groups and at least two colons: an IPv6 address (or a MAC, or a time of day). */
const IPV6_TOKEN = /(?:^|[\s,=\[(])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:$|[\s,/\])%])/i;
/** eth0, ens3f1, bond0.53, vlan10, Ethernet1/1, port-channel10: a letter, later a digit, no spaces. */
const INTERFACE_LIKE = /^[A-Za-z][A-Za-z_-]*\d[\w.:@/-]*$/;

const RELATIVE_TOLERANCE = 0.1;

function lastWord(key: string): string {
	const words = key
		.replace(/([a-z0-9])([A-Z])/g, '$1 $2')
		.split(/[\s_.-]+/)
		.filter(Boolean);
	return (words.at(-1) ?? key).toLowerCase();
}

function looksHostSpecific(value: Facts[string]): boolean {
	const items: unknown[] = Array.isArray(value) ? value : [value];
	return items.some((v) => typeof v === 'string' && (IPV4.test(v) || IPV6_TOKEN.test(v) || INTERFACE_LIKE.test(v)));
}

/** The fact keys worth comparing across these hosts' facts (see the header). */
export function comparableKeys(facts: readonly Facts[]): string[] {
	const keys = new Set<string>();
	for (const f of facts) for (const k of Object.keys(f)) keys.add(k);
	return [...keys].filter(
		(k) => !HOST_SPECIFIC_WORDS.has(lastWord(k)) && !facts.some((f) => k in f && looksHostSpecific(comparable(f[k]!))),
	);
}

/** `eth0=1`: a value labelled with an interface-like name. */
const LABELLED = /^([A-Za-z][A-Za-z_-]*\d[\w.:@/-]*)=(.*)$/;

/**
 * A fact as compared across hosts: in a list of `name=value` items labelled by interface-like
 * names (`aggregators: [eth0=1, eth1=2]`), the names are dropped and the values sorted, so hosts
 * whose NICs are named differently still compare (`1,2` against `1,1`).
 */
export function comparable(value: Facts[string]): Facts[string] {
	if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && LABELLED.test(v))) return value;
	const values = (value as string[]).map((v) => LABELLED.exec(v)![2]!);
	return values.every((v) => /^-?\d+(\.\d+)?$/.test(v)) ? values.map(Number).sort((a, b) => a - b) : values.sort();
}

type Numeric = number[];

function numeric(value: Facts[string] | undefined): Numeric | null {
	if (typeof value === 'number' && Number.isFinite(value)) return [value];
	if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return value as number[];
	return null;
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const mid = s.length >> 1;
	return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const showNumber = (n: number) => String(Math.round(n * 1000) / 1000);
const showValue = (v: Facts[string] | undefined) => (Array.isArray(v) ? v.join(',') : String(v));

/** For one key: the hosts that part from a clear majority, with what the majority has. */
function factOutliers(values: { host: string; value: Facts[string] }[], key: string): Map<string, FactDifference> {
	const out = new Map<string, FactDifference>();
	if (values.length < 3) return out;
	const nums = values.map((v) => numeric(v.value));
	const width = nums[0]?.length;
	if (nums.every((n) => n !== null && n.length === width)) {
		const mid = Array.from({ length: width! }, (_, i) => median(nums.map((n) => n![i]!)));
		const tolerance = RELATIVE_TOLERANCE * Math.max(...mid.map(Math.abs)) + 1e-9;
		const agrees = nums.map((n) => n!.every((x, i) => Math.abs(x - mid[i]!) <= tolerance));
		if (agrees.filter(Boolean).length * 2 <= values.length) return out;
		values.forEach((v, i) => {
			if (!agrees[i]) out.set(v.host, { key, value: showValue(v.value), majority: mid.map(showNumber).join(',') });
		});
		return out;
	}
	const counts = new Map<string, number>();
	for (const v of values) counts.set(JSON.stringify(v.value), (counts.get(JSON.stringify(v.value)) ?? 0) + 1);
	const [top, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
	if (n * 2 <= values.length) return out;
	const majority = showValue(JSON.parse(top) as Facts[string]);
	for (const v of values) if (JSON.stringify(v.value) !== top) out.set(v.host, { key, value: showValue(v.value), majority });
	return out;
}

/** The most common status; a tie goes to the healthier one. */
export function majorityStatus(statuses: readonly Status[]): Status {
	const counts = new Map<Status, number>();
	for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
	return [...counts].sort((a, b) => b[1] - a[1] || HEALTH.indexOf(a[0]) - HEALTH.indexOf(b[0]))[0]![0];
}

/** Hosts grouped by byte-identical evidence for one check, biggest group first. */
export function groupOutputs(rows: readonly { host: string; record: VerdictRecord }[]): OutputGroup[] {
	const groups = new Map<string, { host: string; record: VerdictRecord }[]>();
	for (const row of rows) {
		const key = JSON.stringify(row.record.evidence.map((e) => [e.command, e.output]));
		const g = groups.get(key);
		if (g) g.push(row);
		else groups.set(key, [row]);
	}
	return [...groups.values()]
		.sort((a, b) => b.length - a.length)
		.map((g) => ({
			hosts: g.map((r) => r.host),
			status: rollUpStatus(g.map((r) => r.record.status)),
			summary: g[0]!.record.summary,
			evidence: decidingEvidence(g[0]!.record.evidence),
		}));
}

/** The outliers of one check across hosts (see the header). */
export function findOutliers(check: string, rows: readonly { host: string; record: VerdictRecord }[]): Outlier[] {
	if (rows.length < 2) return [];
	const majority = majorityStatus(rows.map((r) => r.record.status));
	const decided = rows.filter((r) => r.record.status === 'pass' || r.record.status === 'warn' || r.record.status === 'fail');
	const facts = new Map<string, FactDifference[]>();
	for (const key of comparableKeys(decided.map((r) => r.record.facts))) {
		const values = decided.filter((r) => key in r.record.facts).map((r) => ({ host: r.host, value: comparable(r.record.facts[key]!) }));
		for (const [host, diff] of factOutliers(values, key)) facts.set(host, [...(facts.get(host) ?? []), diff]);
	}
	return rows
		.filter((r) => r.record.status !== majority || facts.has(r.host))
		.map((r) => ({
			check,
			host: r.host,
			status: r.record.status,
			majorityStatus: majority,
			statusDiffers: r.record.status !== majority,
			facts: facts.get(r.host) ?? [],
		}));
}

/** `3 hosts: 1 fail, 2 pass`, most severe first. */
export function countLine(hostStatuses: readonly Status[]): string {
	const counts = SEVERITY.map((s) => [s, hostStatuses.filter((x) => x === s).length] as const).filter(([, n]) => n > 0);
	const n = hostStatuses.length;
	return `${n} host${n === 1 ? '' : 's'}: ${counts.map(([s, k]) => `${k} ${s}`).join(', ') || 'nothing run'}`;
}

/** The diagnosis of one runbook across hosts, each host's own diagnosis included. */
export function diagnoseFleet(outline: RunbookOutline, perHost: readonly HostRecords[]): FleetDiagnosis {
	const hosts = perHost.map((h) => diagnose(outline, h.host, h.records, h.trace));
	const checks = outline.checks.map((c) => ({ ...c }));
	for (const h of perHost)
		for (const r of h.records) if (!checks.some((c) => c.id === r.check)) checks.push({ id: r.check, title: r.check });

	const grid = hosts.map((d, i) => ({
		host: d.host,
		status: d.status,
		hostKey: d.hostKey,
		cells: Object.fromEntries(perHost[i]!.records.map((r) => [r.check, r.status])) as Record<string, Status>,
	}));
	const counts: Partial<Record<Status, number>> = {};
	for (const d of hosts) counts[d.status] = (counts[d.status] ?? 0) + 1;

	const groups: FleetDiagnosis['groups'] = [];
	const outliers: Outlier[] = [];
	for (const c of checks) {
		const rows = perHost.flatMap((h) => h.records.filter((r) => r.check === c.id).map((record) => ({ host: h.host, record })));
		if (rows.length === 0) continue;
		groups.push({ check: c.id, groups: groupOutputs(rows) });
		outliers.push(...findOutliers(c.id, rows));
	}

	const summary = countLine(hosts.map((d) => d.status));
	const marked = [...new Set(outliers.map((o) => o.host))];
	const why = (o: Outlier) => `${o.check} ${o.statusDiffers ? o.status : o.facts.map((x) => x.key).join('/')}`;
	const headline = marked.length
		? `${summary}; stands out: ${marked
				.map(
					(h) =>
						`${h} (${outliers
							.filter((o) => o.host === h)
							.map(why)
							.join(', ')})`,
				)
				.join('; ')}`
		: `${summary}; no host stands out`;
	return {
		runbook: { slug: outline.slug, title: outline.title, href: runbookHref(outline.slug) },
		status: rollUpStatus(perHost.flatMap((h) => h.records.map((r) => r.status))),
		counts,
		summary,
		headline,
		checks,
		grid,
		groups,
		outliers,
		hosts,
		probeCacheHits: hosts.reduce((n, d) => n + d.probeCacheHits, 0),
	};
}
