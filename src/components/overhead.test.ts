/**
 * The calculator's arithmetic against DOMAIN.md section 7 (neutron-lib constants) and the VXLAN lab
 * capture in ../shared/fixtures/07_overlay_mtu/local_vxlan_mtu_lab.txt (vx0 over a 1500 underlay:
 * mtu 1450, `ping -M do -s 1422` passes, `-s 1423` gives `message too long, mtu=1450`).
 */
import { describe, expect, it } from 'vitest';
import {
	breakdown,
	COMMON_CASES,
	commandScript,
	commandsFor,
	computeOverhead,
	DEFAULT_INPUT,
	isInterfaceName,
	isPeer,
	summaryLine,
	type OverheadInput,
	type OverheadResult,
} from './overhead.ts';

function ok(input: OverheadInput): OverheadResult {
	const r = computeOverhead(input);
	if (!r.ok) throw new Error(`expected a result for ${JSON.stringify(input)}, got: ${r.reason}`);
	return r;
}

const base = { underlayMtu: 1500, outer: 4, innerVlan: false } as const;

describe('computeOverhead: DOMAIN.md section 7 figures', () => {
	const cases: [string, OverheadInput, number, number][] = [
		['VXLAN over IPv4 -> 50, 1450 (lab: vx0 mtu 1450)', { ...base, encap: 'vxlan' }, 50, 1450],
		['VXLAN over IPv6 -> 70', { ...base, encap: 'vxlan', outer: 6 }, 70, 1430],
		['VXLAN with an inner VLAN tag -> 54', { ...base, encap: 'vxlan', innerVlan: true }, 54, 1446],
		['L3 GRE over IPv4 -> 24, 1476', { ...base, encap: 'gre' }, 24, 1476],
		['L3 GRE with key -> 28', { ...base, encap: 'gre-key' }, 28, 1472],
		['gretap over IPv4 -> 38', { ...base, encap: 'gretap' }, 38, 1462],
		['gretap with key -> 42, 1458 (neutron GRE tenant MTU)', { ...base, encap: 'gretap-key' }, 42, 1458],
		['gretap with key over IPv6 -> 62 (neutron 22 + 40)', { ...base, encap: 'gretap-key', outer: 6 }, 62, 1438],
		['Geneve minimum over IPv4 -> 30 + 20', { ...base, encap: 'geneve' }, 50, 1450],
		['Geneve minimum over IPv6 -> 30 + 40', { ...base, encap: 'geneve', outer: 6 }, 70, 1430],
		['Geneve with 8 option bytes over IPv4 -> 58', { ...base, encap: 'geneve', geneveOptions: 8 }, 58, 1442],
		['no tunnel -> 0', { ...base, encap: 'none' }, 0, 1500],
	];
	for (const [name, input, overhead, innerMtu] of cases) {
		it(name, () => {
			const r = ok(input);
			expect(r.overhead).toBe(overhead);
			expect(r.innerMtu).toBe(innerMtu);
			expect(r.parts.reduce((s, p) => s + p.bytes, 0)).toBe(overhead);
		});
	}

	it('breaks VXLAN down as neutron does: 20 + 8 + 8 + 14', () => {
		expect(breakdown(ok({ ...base, encap: 'vxlan' }))).toBe('20 outer IPv4 + 8 UDP + 8 VXLAN + 14 inner Ethernet = 50');
		expect(breakdown(ok({ ...base, encap: 'vxlan', innerVlan: true }))).toBe(
			'20 outer IPv4 + 8 UDP + 8 VXLAN + 14 inner Ethernet + 4 inner 802.1Q tag = 54',
		);
		expect(breakdown(ok({ ...base, encap: 'gretap-key' }))).toBe('20 outer IPv4 + 4 GRE + 4 GRE key + 14 inner Ethernet = 42');
		expect(breakdown(ok({ ...base, encap: 'none' }))).toBe('0 (no tunnel)');
	});

	it('Geneve names its option assumption; the OVN 58 is marked unverified', () => {
		expect(ok({ ...base, encap: 'geneve' }).notes.join(' ')).toMatch(/minimum.*unverified/);
		expect(ok({ ...base, encap: 'geneve', geneveOptions: 8 }).notes.join(' ')).toMatch(/8 bytes of Geneve options/);
	});

	it('an inner VLAN tag costs nothing where no inner Ethernet header is carried, and says why', () => {
		const gre = ok({ ...base, encap: 'gre', innerVlan: true });
		expect(gre.overhead).toBe(24);
		expect(gre.notes.join(' ')).toMatch(/not carried/);
		expect(ok({ ...base, encap: 'none', innerVlan: true }).overhead).toBe(0);
	});
});

describe('ping sizes', () => {
	it('VXLAN over a 1500 underlay: -s 1422 fills 1450 (lab), -s 1423 is one over; IPv6 -s 1402', () => {
		const r = ok({ ...base, encap: 'vxlan' });
		expect(r.pingSize4).toBe(1422);
		expect(r.pingSize6).toBe(1402);
		const c = commandsFor(r, '192.0.2.10');
		expect(c).toEqual({
			setMtu: 'ip link set dev vxlan0 mtu 1450',
			family: 4,
			ping: 'ping -M do -c 3 -s 1422 192.0.2.10',
			pingOver: 'ping -M do -c 3 -s 1423 192.0.2.10',
		});
		expect(commandsFor(r, 'peer', 'vx0').setMtu).toBe('ip link set dev vx0 mtu 1450');
	});

	it('an IPv6 peer gets the -6 pings with the 48-byte ICMPv6 overhead', () => {
		const c = commandsFor(ok({ ...base, encap: 'vxlan' }), '2001:db8::10');
		expect(c.family).toBe(6);
		expect(c.ping).toBe('ping -6 -M do -c 3 -s 1402 2001:db8::10');
		expect(c.pingOver).toBe('ping -6 -M do -c 3 -s 1403 2001:db8::10');
	});

	it('VXLAN over IPv6 on a 9000 underlay: inner 8930, -s 8902', () => {
		const r = ok({ underlayMtu: 9000, encap: 'vxlan', outer: 6, innerVlan: false });
		expect(r.innerMtu).toBe(8930);
		expect(r.pingSize4).toBe(8902);
		expect(r.pingSize6).toBe(8882);
	});

	it('below 1280 inside, there is no IPv6 ping and a note says why', () => {
		const r = ok({ underlayMtu: 1300, encap: 'vxlan', outer: 6, innerVlan: false });
		expect(r.innerMtu).toBe(1230);
		expect(r.pingSize6).toBeNull();
		expect(commandsFor(r, '2001:db8::10').ping).toBeUndefined();
		expect(commandsFor(r, '192.0.2.10').ping).toBe('ping -M do -c 3 -s 1202 192.0.2.10');
		expect(r.notes.join(' ')).toMatch(/IPv6 minimum/);
	});
});

describe('commandScript', () => {
	it('default case: set 1450, ping 1422 passes, 1423 fails, the check line with expectMtu 1450', () => {
		const text = commandScript(ok(DEFAULT_INPUT), '192.0.2.10');
		expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
			'ip link set dev vxlan0 mtu 1450',
			'ping -M do -c 3 -s 1422 192.0.2.10',
			'ping -M do -c 3 -s 1423 192.0.2.10',
			'runbook check net.path-mtu --host HOST --param target=192.0.2.10 --param expectMtu=1450',
		]);
	});
	it('no check line for a host name (the check takes an IP) or an MTU the check refuses', () => {
		expect(commandScript(ok(DEFAULT_INPUT), 'vm2.example.net')).not.toMatch(/runbook check/);
		expect(commandScript(ok({ underlayMtu: 600, encap: 'vxlan', outer: 6, innerVlan: false }), '192.0.2.10')).not.toMatch(/runbook check/);
	});
	it('an IPv6 peer too small for IPv6 gets a comment instead of a ping', () => {
		const text = commandScript(ok({ underlayMtu: 1300, encap: 'vxlan', outer: 6, innerVlan: false }), '2001:db8::10');
		expect(text).not.toMatch(/^ping/m);
		expect(text).toMatch(/below 1280/);
	});
});

describe('invalid input is refused with a reason, never computed', () => {
	const bad: [string, OverheadInput][] = [
		['MTU below 576', { ...base, underlayMtu: 575, encap: 'vxlan' }],
		['MTU above 9216', { ...base, underlayMtu: 9217, encap: 'vxlan' }],
		['MTU not a whole number', { ...base, underlayMtu: 1500.5, encap: 'vxlan' }],
		['MTU NaN (empty field)', { ...base, underlayMtu: Number.NaN, encap: 'vxlan' }],
		['unknown encapsulation', { ...base, encap: 'ipip' as never }],
		['outer IP version 5', { ...base, encap: 'vxlan', outer: 5 as never }],
		['Geneve options not a multiple of 4', { ...base, encap: 'geneve', geneveOptions: 6 }],
		['Geneve options above 252', { ...base, encap: 'geneve', geneveOptions: 256 }],
	];
	for (const [name, input] of bad) {
		it(name, () => {
			const r = computeOverhead(input);
			expect(r.ok).toBe(false);
			if (!r.ok) expect(r.reason).toMatch(/must be|Unknown/);
		});
	}
	it('Geneve options are ignored for other encapsulations', () => {
		expect(ok({ ...base, encap: 'vxlan', geneveOptions: 6 }).overhead).toBe(50);
	});
});

describe('page data', () => {
	it('the default is VXLAN over IPv4 on 1500: 1450 and 1422', () => {
		const r = ok(DEFAULT_INPUT);
		expect([r.innerMtu, r.pingSize4]).toEqual([1450, 1422]);
	});
	it('the summary line names the case and the numbers', () => {
		expect(summaryLine(ok(DEFAULT_INPUT))).toBe('VXLAN over IPv4 on a 1500 underlay: overhead 50, inner MTU 1450, ping -s 1422.');
		expect(summaryLine(ok({ ...base, encap: 'none' }))).toBe('No tunnel on a 1500 underlay: overhead 0, inner MTU 1500, ping -s 1472.');
	});
	it('every common case computes', () => {
		for (const c of COMMON_CASES) expect(computeOverhead(c).ok).toBe(true);
	});
	it('device and peer validators accept real names and refuse shell text', () => {
		expect(isInterfaceName('vxlan-1')).toBe(true);
		expect(isInterfaceName('genev_sys_6081')).toBe(true);
		expect(isInterfaceName('a;rm -rf /')).toBe(false);
		expect(isInterfaceName('sixteen-chars-xx')).toBe(false);
		expect(isPeer('2001:db8::1')).toBe(true);
		expect(isPeer('vm2.example.net')).toBe(true);
		expect(isPeer('$(id)')).toBe(false);
		expect(isPeer('')).toBe(false);
	});
});
