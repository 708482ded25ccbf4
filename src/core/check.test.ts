import { describe, expect, it } from 'vitest';
import { InterfaceName, nextHref, parseNext } from './check.ts';

describe('InterfaceName', () => {
	it.each(['eth0', 'enp0s20u1', 'bond0.700', 'eth0.700@eth0'.slice(0, 9), 'vxlan_sys_4789'.slice(0, 15), 'br-int'])('accepts %s', (n) => {
		expect(InterfaceName.safeParse(n).success).toBe(true);
	});
	it.each(['', '-i', '--version', 'eth0;id', 'a b', 'x'.repeat(16), 'eth0\n'])('refuses %j', (n) => {
		expect(InterfaceName.safeParse(n).success).toBe(false);
	});
});

describe('next', () => {
	it('an anchor stays on the page; slug#anchor names another runbook', () => {
		expect(parseNext('#raise-the-limit')).toEqual({ anchor: 'raise-the-limit' });
		expect(parseNext('usb-nic-trailer#fix')).toEqual({ slug: 'usb-nic-trailer', anchor: 'fix' });
		expect(nextHref('#raise-the-limit', 'hugepage-map-count')).toBe('/hugepage-map-count/#raise-the-limit');
		expect(nextHref('overlay-mtu#fix-the-overlay-mtu', 'usb-nic-trailer')).toBe('/overlay-mtu/#fix-the-overlay-mtu');
		expect(nextHref('#x')).toBe('#x');
	});
});
