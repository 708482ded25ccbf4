/**
 * A calculator element on a runbook page of the built site, in Chromium: what the calculator e2e
 * tests share. `calculatorPage` starts the site and the browser before the tests of the file that
 * calls it and stops both after them; each test gets its own browser context.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { siteInBrowser } from './browser.ts';

export interface CalculatorPage {
	/** Open the runbook in a new context, with JavaScript on or off, and give the page to `body`; the context is closed after. */
	withPage(javaScriptEnabled: boolean, body: (page: Page) => Promise<void>): Promise<void>;
	/** The text of the element's `[data-out="<name>"]`. */
	out(page: Page, name: string): Promise<string>;
	/** Wait until the element has upgraded: it enables the inputs when it connects. */
	ready(page: Page): Promise<void>;
}

/** The calculator `<tag>` on the runbook at `path` (e.g. `/overlay-mtu/`). */
export function calculatorPage(path: string, tag: string): CalculatorPage {
	const web = siteInBrowser();

	return {
		async withPage(javaScriptEnabled, body) {
			const context = await web.browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 1000 } });
			try {
				const page = await context.newPage();
				const res = await page.goto(`${web.site.url}${path}`);
				expect(res?.status()).toBe(200);
				await body(page);
			} finally {
				await context.close();
			}
		},
		out: (page, name) => page.locator(`${tag} [data-out="${name}"]`).innerText(),
		async ready(page) {
			await page.waitForFunction((sel) => document.querySelector<HTMLFieldSetElement>(`${sel} [data-inputs]`)?.disabled === false, tag);
		},
	};
}
