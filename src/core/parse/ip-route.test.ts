import { describe, expect, it } from 'vitest';
import { parseRouteGet } from './ip-route.ts';

// Verbatim from the shared lab captures (DOMAIN.md sections 5 and 7; fixtures of net.path-mtu and net.redirect-route).
describe('parseRouteGet', () => {
	it('a route marked for redirect', () => {
		const r = parseRouteGet('192.168.50.1 from 10.0.0.10 via 10.0.0.2 dev eth0 \n    cache <redirect> iif eth0 \n');
		expect(r).toEqual({
			ok: true,
			lines: [1, 2],
			value: {
				type: null,
				dst: '192.168.50.1',
				from: '10.0.0.10',
				iif: 'eth0',
				gateway: '10.0.0.2',
				dev: 'eth0',
				src: null,
				mtu: null,
				expiresSec: null,
				cache: ['redirect'],
				cacheLine: true,
			},
		});
	});
	it('an accepted redirect with its expiry', () => {
		const r = parseRouteGet('192.168.50.1 via 10.0.0.2 dev eth0 src 10.0.0.10 uid 0 \n    cache <redirected> expires 297sec \n');
		expect(r.ok && r.value).toMatchObject({ gateway: '10.0.0.2', src: '10.0.0.10', cache: ['redirected'], expiresSec: 297 });
	});
	it('a learned path MTU', () => {
		const r = parseRouteGet('192.0.2.2 dev u1 src 192.0.2.1 uid 0 \n    cache expires 596sec mtu 1450 \n');
		expect(r.ok && r.value).toMatchObject({ dev: 'u1', gateway: null, mtu: 1450, expiresSec: 596 });
	});
	it('IPv6 on one line', () => {
		const r = parseRouteGet('2001:db8::2 from :: dev u1 proto kernel src 2001:db8::1 metric 256 pref medium\n');
		expect(r.ok && r.value).toMatchObject({ dst: '2001:db8::2', dev: 'u1', src: '2001:db8::1', mtu: null });
	});
	it('a local route keeps its type', () => {
		const r = parseRouteGet('local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n');
		expect(r.ok && r.value).toMatchObject({ type: 'local', dev: 'lo', cache: ['local'] });
	});
	it.each([
		['', /empty/],
		['192.0.2.2 dev u1 src', /cut/],
		['RTNETLINK answers: Network is unreachable\n', /address/],
		['192.0.2.2 via 10.0.0.1\n', /no "dev"/],
		['192.0.2.2 dev a\n192.0.2.3 dev b\n', /continuation/],
	])('%j is not understood', (text, why) => {
		const r = parseRouteGet(text);
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(why);
	});
});

describe('parseRouteGet, IPv6 cache entry on the route line', () => {
	it('reads expires and mtu from line 1', () => {
		const r = parseRouteGet(
			'2001:db8:2::1 from :: via 2001:db8:1::fe dev ar src 2001:db8:1::1 metric 1024 expires 598sec mtu 1400 pref medium\n',
		);
		expect(r.ok && r.value).toMatchObject({ dev: 'ar', gateway: '2001:db8:1::fe', mtu: 1400, expiresSec: 598 });
	});
	it('refuses a device that is not an interface name', () => {
		expect(parseRouteGet('1.2.3.4 dev ../../etc src 1.2.3.5\n').ok).toBe(false);
	});
});
