/**
 * The uneven-racks arithmetic: each rack gets 1/R of the flows, each server in rack i 1/(R × n_i);
 * weights proportional to the server counts even it out.
 */
import { describe, expect, it } from 'vitest';
import {
	computeShares,
	DEFAULT_RACKS,
	evenWeights,
	formatPercent,
	formatRatio,
	isEven,
	parseRacks,
	racksText,
	summaryLine,
	weightsLine,
	type Outcome,
	type RackShareResult,
} from './rack-share.ts';

function ok(r: Outcome): RackShareResult {
	if (!r.ok) throw new Error(`expected a result, got: ${r.reason}`);
	return r;
}

const shares = (r: RackShareResult) => r.racks.map((x) => x.serverShare);

describe('computeShares: plain ECMP, one next hop per rack', () => {
	it('equal racks -> equal shares, ratio 1', () => {
		const r = ok(computeShares([8, 8, 8, 8]));
		for (const s of shares(r)) expect(s).toBeCloseTo(1 / 32, 12);
		expect(r.ratio).toBeCloseTo(1, 12);
		expect(isEven(r)).toBe(true);
		expect(r.busiest).toEqual([1, 2, 3, 4]);
	});

	it('three equal racks: 1/3 each is still even despite rounding', () => {
		const r = ok(computeShares([5, 5, 5]));
		expect(isEven(r)).toBe(true);
		expect(summaryLine(r)).toBe('Even: every server carries 6.7% of the flows.');
	});

	it('8, 8, 4 -> each rack 1/3; the 4-rack servers carry 2× the others', () => {
		const r = ok(computeShares([8, 8, 4]));
		for (const row of r.racks) expect(row.rackShare).toBeCloseTo(1 / 3, 12);
		expect(r.racks[0]!.serverShare).toBeCloseTo(1 / 24, 12);
		expect(r.racks[2]!.serverShare).toBeCloseTo(1 / 12, 12);
		expect(r.racks[2]!.serverShare / r.racks[0]!.serverShare).toBeCloseTo(2, 12);
		expect(r.ratio).toBeCloseTo(2, 12);
		expect(r.busiest).toEqual([3]);
		expect(r.idlest).toEqual([1, 2]);
		expect(r.evenShare).toBeCloseTo(1 / 20, 12);
		// Against an even 5%: 4.2% is 0.83×, 8.3% is 1.67×.
		expect(r.racks[0]!.relative).toBeCloseTo(20 / 24, 12);
		expect(r.racks[2]!.relative).toBeCloseTo(20 / 12, 12);
	});

	it('10, 5 -> the 5-rack servers carry twice the share (10% against 5%)', () => {
		const r = ok(computeShares([10, 5]));
		expect(r.racks.map((x) => formatPercent(x.serverShare))).toEqual(['5%', '10%']);
		expect(r.ratio).toBeCloseTo(2, 12);
	});

	it('the ratio is the largest rack over the smallest: 16, 12, 3 -> 16/3', () => {
		expect(ok(computeShares([16, 12, 3])).ratio).toBeCloseTo(16 / 3, 12);
	});

	it('shares add up to 1 over all servers', () => {
		const r = ok(computeShares([7, 3, 11, 1, 40]));
		expect(r.racks.reduce((s, x) => s + x.serverShare * x.servers, 0)).toBeCloseTo(1, 12);
	});
});

describe('weighted ECMP', () => {
	it('weights ∝ servers -> every server carries 1/N', () => {
		for (const racks of [
			[8, 8, 4],
			[10, 5],
			[16, 12, 3],
			[7, 3, 11, 1, 40],
		]) {
			const r = ok(computeShares(racks, racks));
			for (const s of shares(r)) expect(s).toBeCloseTo(1 / r.totalServers, 12);
			expect(isEven(r)).toBe(true);
		}
	});

	it('the recommended weights are the server counts in lowest terms, and they even it out', () => {
		expect(evenWeights([8, 8, 4])).toEqual([2, 2, 1]);
		expect(evenWeights([10, 5])).toEqual([2, 1]);
		expect(evenWeights([7, 3])).toEqual([7, 3]);
		expect(evenWeights([6, 6])).toEqual([1, 1]);
		const r = ok(computeShares([8, 8, 4]));
		expect(r.evenWeights).toEqual([2, 2, 1]);
		expect(isEven(ok(computeShares([8, 8, 4], r.evenWeights)))).toBe(true);
	});

	it('the largest reduced weight fits a Linux nexthop weight (at most 256)', () => {
		expect(Math.max(...evenWeights([256, 255]))).toBeLessThanOrEqual(256);
	});

	it('weights of the wrong count or not whole are refused', () => {
		expect(computeShares([8, 4], [1]).ok).toBe(false);
		expect(computeShares([8, 4], [1, 0]).ok).toBe(false);
		expect(computeShares([8, 4], [1, 1.5]).ok).toBe(false);
	});
});

describe('parseRacks', () => {
	it('reads commas, spaces and semicolons', () => {
		for (const text of ['8, 8, 4', '8 8 4', '8;8;4', ' 8,8 ,4 ', '8,\n8,\t4'])
			expect(parseRacks(text)).toEqual({ ok: true, value: [8, 8, 4] });
	});

	const bad: [string, string, RegExp][] = [
		['empty', '', /Type the number/],
		['one rack', '12', /At least 2 racks/],
		['a zero', '8, 0, 4', /Rack 2: 0 servers/],
		['too many servers', '8, 300', /Rack 2: 300 servers/],
		['a fraction', '8, 4.5', /Rack 2: "4.5" is not a whole number/],
		['a negative', '8, -4', /Rack 2: "-4"/],
		['text', '8, eight', /Rack 2: "eight"/],
		['markup', '8, <b>4</b>', /is not a whole number/],
		['65 racks', Array(65).fill('2').join(','), /At most 64 racks/],
	];
	for (const [name, text, reason] of bad) {
		it(`${name} -> refused with a reason`, () => {
			const r = parseRacks(text);
			expect(r.ok).toBe(false);
			if (!r.ok) expect(r.reason).toMatch(reason);
		});
	}

	it('computeShares refuses the same shapes without the parser', () => {
		expect(computeShares([8]).ok).toBe(false);
		expect(computeShares([8, 0]).ok).toBe(false);
		expect(computeShares([8, 2.5]).ok).toBe(false);
	});
});

describe('text for the page', () => {
	it('the default is 8, 8, 4 and its summary names the hot rack and the ratio', () => {
		expect(racksText(DEFAULT_RACKS)).toBe('8, 8, 4');
		const r = ok(computeShares(DEFAULT_RACKS));
		expect(summaryLine(r)).toBe(
			'Each server of rack 3 carries 8.3% of the flows, 2× the 4.2% of each server of racks 1 and 2; an even split would be 5% each.',
		);
		expect(weightsLine(r)).toBe('rack 1: 2, rack 2: 2, rack 3: 1');
	});

	it('a lone server in a rack is "the server"', () => {
		expect(summaryLine(ok(computeShares([4, 1])))).toMatch(/^The server of rack 2 carries 50% of the flows, 4× the 12.5%/);
	});

	it('equal racks need no weights', () => {
		expect(weightsLine(ok(computeShares([4, 4])))).toBe('Equal weights already give an even split.');
	});

	it('percentages and ratios', () => {
		expect(formatPercent(1 / 24)).toBe('4.2%');
		expect(formatPercent(0.5)).toBe('50%');
		expect(formatPercent(1 / (64 * 256))).toBe('0.0061%');
		expect(formatRatio(2)).toBe('2×');
		expect(formatRatio(4 / 3)).toBe('1.33×');
		expect(formatRatio(1.5)).toBe('1.5×');
	});
});
