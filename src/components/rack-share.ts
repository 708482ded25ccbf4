/**
 * Uneven-racks arithmetic for the calculator on the ecmp-imbalance runbook: pure, no DOM, so the
 * page renders the default answer at build time, the `<rack-share-calculator>` element recomputes it
 * in the browser, and the unit test checks both.
 *
 * The model (ecmp-imbalance, "Uneven racks"): the spine knows one equal-cost next hop per rack (per
 * leaf) and hashes flows evenly over them, so with R racks each rack gets 1/R of the flows, whatever
 * it holds; inside the rack the flows split evenly over its n_i servers, so each gets 1/(R × n_i).
 * With weights w_i on the next hops (weighted ECMP, UCMP) rack i gets w_i / Σw instead; weights
 * proportional to n_i give every server 1/N. Shares are of flows, not bytes: it assumes many flows
 * of similar size, as a hash only evens out flows.
 */

export const RACKS_MIN = 2;
export const RACKS_MAX = 64;
export const SERVERS_MIN = 1;
/** Also the largest Linux multipath weight (`ip route ... nexthop ... weight 1..256`), so the reduced weights always fit. */
export const SERVERS_MAX = 256;

/** What the page shows before the reader types anything. */
export const DEFAULT_RACKS: readonly number[] = [8, 8, 4];

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Servers per rack as people type them: `8, 8, 4`, `8 8 4`, `8;8;4`. Every entry a whole number
 * from SERVERS_MIN to SERVERS_MAX, RACKS_MIN to RACKS_MAX entries.
 */
export function parseRacks(text: string): Parsed<number[]> {
	const items = text
		.split(/[\s,;]+/)
		.map((s) => s.trim())
		.filter((s) => s !== '');
	if (items.length === 0) return { ok: false, reason: 'Type the number of servers in each rack, e.g. 8, 8, 4.' };
	const value: number[] = [];
	for (const [i, item] of items.entries()) {
		if (!/^\d+$/.test(item)) return { ok: false, reason: `Rack ${i + 1}: "${item.slice(0, 12)}" is not a whole number of servers.` };
		const n = Number(item);
		if (n < SERVERS_MIN || n > SERVERS_MAX)
			return { ok: false, reason: `Rack ${i + 1}: ${n} servers; a rack must have ${SERVERS_MIN} to ${SERVERS_MAX}.` };
		value.push(n);
	}
	const shape = checkShape(value);
	return shape === null ? { ok: true, value } : { ok: false, reason: shape };
}

function checkShape(servers: readonly number[]): string | null {
	if (servers.length < RACKS_MIN) return `At least ${RACKS_MIN} racks: with one there is nothing to split.`;
	if (servers.length > RACKS_MAX) return `At most ${RACKS_MAX} racks.`;
	for (const [i, n] of servers.entries())
		if (!Number.isInteger(n) || n < SERVERS_MIN || n > SERVERS_MAX)
			return `Rack ${i + 1}: servers must be a whole number from ${SERVERS_MIN} to ${SERVERS_MAX}.`;
	return null;
}

export interface RackRow {
	/** 1-based, in the order typed. */
	rack: number;
	servers: number;
	/** Next-hop weight the spine uses for this rack (1 for plain ECMP). */
	weight: number;
	/** Fraction of all flows this rack gets: weight / Σ weights. */
	rackShare: number;
	/** Fraction of all flows each server of this rack gets: rackShare / servers. */
	serverShare: number;
	/** serverShare against an even split (1 / all servers): 2 means twice its fair part. */
	relative: number;
}

export interface RackShareResult {
	ok: true;
	racks: RackRow[];
	totalServers: number;
	/** 1 / totalServers: what every server would carry if the load were even. */
	evenShare: number;
	maxShare: number;
	minShare: number;
	/** maxShare / minShare: the busiest server against the idlest. 1 when even. */
	ratio: number;
	/** Racks whose servers carry the most, and the least (1-based). */
	busiest: number[];
	idlest: number[];
	/** Weights ∝ servers, reduced to the smallest whole numbers: the spine's next-hop weights that even it out. */
	evenWeights: number[];
}

export type Outcome = RackShareResult | { ok: false; reason: string };

function gcd(a: number, b: number): number {
	while (b !== 0) [a, b] = [b, a % b];
	return a;
}

/** Weights proportional to the server counts, in lowest terms (8, 8, 4 -> 2, 2, 1). */
export function evenWeights(servers: readonly number[]): number[] {
	const g = servers.reduce((a, b) => gcd(a, b));
	return servers.map((n) => n / g);
}

/** Relative shares are compared with a tolerance so 1/3 + 1/3 + 1/3 counts as even. */
const EPSILON = 1e-9;

/**
 * Each server's share of the flows. Without `weights`, plain ECMP (every rack weight 1); with them,
 * weighted ECMP (one positive whole weight per rack).
 */
export function computeShares(servers: readonly number[], weights?: readonly number[]): Outcome {
	const shape = checkShape(servers);
	if (shape !== null) return { ok: false, reason: shape };
	const w = weights ?? servers.map(() => 1);
	if (w.length !== servers.length) return { ok: false, reason: `${w.length} weights for ${servers.length} racks.` };
	if (w.some((x) => !Number.isInteger(x) || x < 1)) return { ok: false, reason: 'Weights must be whole numbers of 1 or more.' };
	const totalWeight = w.reduce((a, b) => a + b, 0);
	const totalServers = servers.reduce((a, b) => a + b, 0);
	const evenShare = 1 / totalServers;
	const racks: RackRow[] = servers.map((n, i) => {
		const rackShare = w[i]! / totalWeight;
		const serverShare = rackShare / n;
		return { rack: i + 1, servers: n, weight: w[i]!, rackShare, serverShare, relative: serverShare / evenShare };
	});
	const shares = racks.map((r) => r.serverShare);
	const maxShare = Math.max(...shares);
	const minShare = Math.min(...shares);
	const near = (a: number, b: number) => Math.abs(a - b) <= EPSILON * Math.max(a, b);
	return {
		ok: true,
		racks,
		totalServers,
		evenShare,
		maxShare,
		minShare,
		ratio: maxShare / minShare,
		busiest: racks.filter((r) => near(r.serverShare, maxShare)).map((r) => r.rack),
		idlest: racks.filter((r) => near(r.serverShare, minShare)).map((r) => r.rack),
		evenWeights: evenWeights(servers),
	};
}

/** True when every server carries the same share, within rounding. */
export function isEven(r: RackShareResult): boolean {
	return r.ratio - 1 <= 1e-9;
}

/** A fraction as a percentage people can compare at a glance: 0.0417 -> "4.2%", 0.00061 -> "0.061%". */
export function formatPercent(fraction: number): string {
	const p = fraction * 100;
	if (p >= 0.1) return `${trim(p.toFixed(1))}%`;
	return `${Number(p.toPrecision(2))}%`;
}

/** A ratio as "2×", "1.33×". */
export function formatRatio(r: number): string {
	return `${trim(r.toFixed(2))}×`;
}

function trim(fixed: string): string {
	return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function rackList(racks: number[]): string {
	const names = racks.map(String);
	if (names.length === 1) return `rack ${names[0]}`;
	return `racks ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** One sentence with the answer, for the top of the result. */
export function summaryLine(r: RackShareResult): string {
	if (isEven(r)) return `Even: every server carries ${formatPercent(r.evenShare)} of the flows.`;
	const hot = r.racks[r.busiest[0]! - 1]!;
	const cold = r.racks[r.idlest[0]! - 1]!;
	const each = (rows: number[]) => (rows.length === 1 && r.racks[rows[0]! - 1]!.servers === 1 ? 'The server' : 'Each server');
	return `${each(r.busiest)} of ${rackList(r.busiest)} carries ${formatPercent(hot.serverShare)} of the flows, ${formatRatio(r.ratio)} the ${formatPercent(cold.serverShare)} of each server of ${rackList(r.idlest)}; an even split would be ${formatPercent(r.evenShare)} each.`;
}

/** The weights line: what to give each rack's next hop so the load is even. */
export function weightsLine(r: RackShareResult): string {
	if (r.evenWeights.every((w) => w === 1)) return 'Equal weights already give an even split.';
	return r.racks.map((row) => `rack ${row.rack}: ${r.evenWeights[row.rack - 1]}`).join(', ');
}

/** The input text for a list of racks, as the field shows it. */
export function racksText(servers: readonly number[]): string {
	return servers.join(', ');
}
