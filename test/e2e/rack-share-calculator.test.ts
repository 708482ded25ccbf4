/**
 * The uneven-racks calculator on /ecmp-imbalance/ in Chromium against the built site: without
 * JavaScript it shows the default answer (racks of 8, 8, 4: the 4-rack's servers carry 2×); with
 * it, typing other racks recomputes in place, and the weights even the load out.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { calculatorPage } from '../support/calculator-page.ts';

const CALC = 'rack-share-calculator';
const { withPage, out, ready } = calculatorPage('/ecmp-imbalance/', CALC);

/** Each rack's row: its server count and the share of each of its servers, as the page prints them. */
async function rows(page: Page): Promise<{ servers: number; share: number; text: string }[]> {
	const found = [];
	for (const row of await page.locator(`${CALC} tbody tr`).all()) {
		const share = await row.locator('[data-cell="server"]').innerText();
		expect(share).toMatch(/^\d+(\.\d+)?%$/);
		found.push({
			servers: Number(await row.locator('[data-cell="servers"]').innerText()),
			share: Number.parseFloat(share),
			text: await row.innerText(),
		});
	}
	return found;
}

describe('rack share calculator', () => {
	it('with JavaScript off shows the default answer: 8, 8, 4, the small rack at 2×, weights 2, 2, 1', () =>
		withPage(false, async (page) => {
			expect(await page.locator(`${CALC} input[name="racks"]`).inputValue()).toBe('8, 8, 4');
			expect(await page.locator(`${CALC} input[name="racks"]`).isDisabled()).toBe(true);
			expect(await page.locator(`${CALC} [data-nojs]`).isVisible()).toBe(true);
			expect(await rows(page)).toEqual([
				expect.objectContaining({ servers: 8, share: 4.2 }),
				expect.objectContaining({ servers: 8, share: 4.2 }),
				expect.objectContaining({ servers: 4, share: 8.3 }),
			]);
			expect(await out(page, 'ratio')).toBe('2×');
			expect(await out(page, 'weights')).toBe('rack 1: 2, rack 2: 2, rack 3: 1');
			expect(await out(page, 'summary')).toMatch(/rack 3 carries 8\.3% .* 2× /);
		}));

	it('racks "10, 5": each server of the 5-rack carries twice the share of a 10-rack server', () =>
		withPage(true, async (page) => {
			await ready(page);
			expect(await page.locator(`${CALC} [data-nojs]`).isVisible()).toBe(false);
			await page.locator(`${CALC} input[name="racks"]`).fill('10, 5');
			await page.waitForFunction((sel) => document.querySelectorAll(`${sel} tbody tr`).length === 2, CALC);
			const [big, small] = await rows(page);
			expect(big).toMatchObject({ servers: 10, share: 5 });
			expect(small).toMatchObject({ servers: 5, share: 10 });
			expect(small!.share / big!.share).toBe(2);
			expect(await out(page, 'ratio')).toBe('2×');
			expect(await out(page, 'weights')).toBe('rack 1: 2, rack 2: 1');

			// The spine with those weights: every server at the even share.
			await page.locator(`${CALC} input[name="weighted"]`).check();
			await page.waitForFunction((sel) => document.querySelector(`${sel} [data-out="ratio"]`)?.textContent === '1×', CALC);
			expect((await rows(page)).map((r) => r.share)).toEqual([6.7, 6.7]);
			expect(await out(page, 'summary')).toBe('Even: every server carries 6.7% of the flows.');
		}));

	it('input it cannot use says why and hides the numbers', () =>
		withPage(true, async (page) => {
			await ready(page);
			await page.locator(`${CALC} input[name="racks"]`).fill('8, 0');
			const error = page.locator(`${CALC} [data-out="error"]`);
			await error.waitFor({ state: 'visible' });
			expect(await error.innerText()).toMatch(/Rack 2: 0 servers/);
			expect(await page.locator(`${CALC} [data-result]`).isVisible()).toBe(false);
			expect(await page.locator(`${CALC} input[name="racks"]`).getAttribute('aria-invalid')).toBe('true');
		}));
});
