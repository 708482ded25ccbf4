/**
 * The uneven-racks calculator on /ecmp-imbalance/ in Chromium against the built site: without
 * JavaScript it shows the default answer (racks of 8, 8, 4: the 4-rack's servers carry 2×); with
 * it, typing other racks recomputes in place, and the weights even the load out.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { startSite, type Site } from '../support/site.ts';

const RUNBOOK = '/ecmp-imbalance/';
const CALC = 'rack-share-calculator';

let site: Site;
let browser: Browser;

beforeAll(async () => {
	site = await startSite();
	browser = await launchBrowser();
});

afterAll(async () => {
	await browser?.close();
	await site?.stop();
});

async function open(javaScriptEnabled: boolean): Promise<Page> {
	const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 1000 } });
	const page = await context.newPage();
	const res = await page.goto(`${site.url}${RUNBOOK}`);
	expect(res?.status()).toBe(200);
	return page;
}

const out = (page: Page, name: string) => page.locator(`${CALC} [data-out="${name}"]`).innerText();

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

/** The element has upgraded: it enables the inputs when it connects. */
async function ready(page: Page): Promise<void> {
	await page.waitForFunction((sel) => document.querySelector<HTMLFieldSetElement>(`${sel} [data-inputs]`)?.disabled === false, CALC);
}

describe('rack share calculator', () => {
	it('with JavaScript off shows the default answer: 8, 8, 4, the small rack at 2×, weights 2, 2, 1', async () => {
		const page = await open(false);
		try {
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
		} finally {
			await page.context().close();
		}
	});

	it('racks "10, 5": each server of the 5-rack carries twice the share of a 10-rack server', async () => {
		const page = await open(true);
		try {
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
		} finally {
			await page.context().close();
		}
	});

	it('input it cannot use says why and hides the numbers', async () => {
		const page = await open(true);
		try {
			await ready(page);
			await page.locator(`${CALC} input[name="racks"]`).fill('8, 0');
			const error = page.locator(`${CALC} [data-out="error"]`);
			await error.waitFor({ state: 'visible' });
			expect(await error.innerText()).toMatch(/Rack 2: 0 servers/);
			expect(await page.locator(`${CALC} [data-result]`).isVisible()).toBe(false);
			expect(await page.locator(`${CALC} input[name="racks"]`).getAttribute('aria-invalid')).toBe('true');
		} finally {
			await page.context().close();
		}
	});
});
