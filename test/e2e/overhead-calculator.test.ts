/**
 * The overlay overhead calculator on /overlay-mtu/ in Chromium against the built site: without
 * JavaScript it shows the default answer (VXLAN over IPv4 on 1500: 1450, ping -s 1422) and the
 * common cases; with it, changing the inputs recomputes in place.
 */
import { describe, expect, it } from 'vitest';
import { calculatorPage } from '../support/calculator-page.ts';

const CALC = 'overhead-calculator';
const { withPage, out, ready } = calculatorPage('/overlay-mtu/', CALC);

describe('overhead calculator', () => {
	it('with JavaScript off shows the default answer, 1450 and 1422, and the common cases', () =>
		withPage(false, async (page) => {
			expect(await out(page, 'innerMtu')).toBe('1450');
			expect(await out(page, 'ping4')).toBe('1422');
			expect(await out(page, 'overhead')).toBe('50');
			expect(await out(page, 'breakdown')).toBe('20 outer IPv4 + 8 UDP + 8 VXLAN + 14 inner Ethernet = 50');
			expect(await out(page, 'commands')).toContain('ping -M do -c 3 -s 1422 192.0.2.10');
			expect(await page.locator(`${CALC} [data-nojs]`).isVisible()).toBe(true);
			expect(await page.locator(`${CALC} input[name="underlay"]`).isDisabled()).toBe(true);
			const table = await page.locator(`${CALC} table`).innerText();
			expect(table).toMatch(/gretap with key\s+IPv4\s+42\s+1458\s+1430/);
			expect(table).toMatch(/9000\s+VXLAN\s+IPv6\s+70\s+8930\s+8902/);
		}));

	it('IPv6 outer, VXLAN, underlay 9000 -> inner MTU 8930, ping size 8902', () =>
		withPage(true, async (page) => {
			await ready(page);
			expect(await page.locator(`${CALC} [data-nojs]`).isVisible()).toBe(false);
			await page.locator(`${CALC} select[name="encap"]`).selectOption('vxlan');
			await page.locator(`${CALC} input[name="outer"][value="6"]`).check();
			await page.locator(`${CALC} input[name="underlay"]`).fill('9000');
			await page.waitForFunction((sel) => document.querySelector(`${sel} [data-out="innerMtu"]`)?.textContent === '8930', CALC);
			expect(await out(page, 'ping4')).toBe('8902');
			expect(await out(page, 'ping6')).toBe('8882');
			expect(await out(page, 'breakdown')).toBe('40 outer IPv6 + 8 UDP + 8 VXLAN + 14 inner Ethernet = 70');
			expect(await out(page, 'summary')).toBe('VXLAN over IPv6 on a 9000 underlay: overhead 70, inner MTU 8930, ping -s 8902.');
			const commands = await out(page, 'commands');
			expect(commands).toContain('ip link set dev vxlan0 mtu 8930');
			expect(commands).toContain('ping -M do -c 3 -s 8902 192.0.2.10');
			expect(commands).toContain('--param expectMtu=8930');
		}));

	it('gretap with key and an inner VLAN tag, device and IPv6 peer typed in', () =>
		withPage(true, async (page) => {
			await ready(page);
			await page.locator(`${CALC} select[name="encap"]`).selectOption('gretap-key');
			await page.locator(`${CALC} input[name="vlan"]`).check();
			await page.locator(`${CALC} input[name="peer"]`).fill('2001:db8::10');
			await page.locator(`${CALC} input[name="device"]`).fill('gre-tenant');
			expect(await out(page, 'innerMtu')).toBe('1454');
			const commands = await out(page, 'commands');
			expect(commands).toContain('ip link set dev gre-tenant mtu 1454');
			expect(commands).toContain('ping -6 -M do -c 3 -s 1406 2001:db8::10');
		}));

	it('an underlay MTU out of range says why and shows no numbers', () =>
		withPage(true, async (page) => {
			await ready(page);
			await page.locator(`${CALC} input[name="underlay"]`).fill('100');
			const error = page.locator(`${CALC} [data-out="error"]`);
			await error.waitFor({ state: 'visible' });
			expect(await error.innerText()).toMatch(/576 to 9216/);
			expect(await out(page, 'innerMtu')).toBe('–');
			expect(await out(page, 'commands')).toBe('');
		}));
});
