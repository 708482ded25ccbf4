/**
 * The symptom search box in Chromium against the built site: on the home page first, in the header
 * of every page, keyboard only (an ARIA combobox), the same order as `runbook search --json`, and
 * working from the static files alone (no Astro server, no API).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteInBrowser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { startStaticSite, type StaticSite } from '../support/site.ts';

const HOME_BOX = 'symptom-search[data-variant="home"]';
const HEADER_BOX = 'symptom-search[data-variant="header"]';

const web = siteInBrowser();

async function open(base: string, path: string): Promise<Page> {
	const context = await web.browser.newContext({ viewport: { width: 1280, height: 1000 } });
	const page = await context.newPage();
	const res = await page.goto(`${base}${path}`);
	expect(res?.status()).toBe(200);
	// The box is enabled by its script; until then keys would go nowhere.
	await page.waitForFunction(() =>
		[...document.querySelectorAll<HTMLInputElement>('symptom-search [data-input]')].every((i) => !i.disabled),
	);
	return page;
}

/** Slugs of the options shown, in order, once the list for the current text is up. */
async function shown(page: Page, box: string): Promise<string[]> {
	await page.locator(`${box} [role="option"]`).first().waitFor();
	return page.locator(`${box} [role="option"]`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.slug!));
}

async function cliOrder(text: string): Promise<string[]> {
	const r = await runCli(['search', text, '--json']);
	expect(r.code, r.stderr).toBe(0);
	return (JSON.parse(r.stdout) as { slug: string }[]).map((h) => h.slug);
}

describe('symptom search, home page', () => {
	it('is the first thing in the page content', async () => {
		const page = await open(web.site.url, '/');
		try {
			const first = await page.evaluate(() => document.querySelector('.sl-markdown-content')?.firstElementChild?.tagName.toLowerCase());
			expect(first).toBe('symptom-search');
			expect(await page.locator(`${HOME_BOX} label`).innerText()).toMatch(/type what you see/i);
		} finally {
			await page.context().close();
		}
	});

	it('keyboard only: "/" focuses, type, the right runbook first with the phrase marked, ArrowDown, Enter opens it', async () => {
		const page = await open(web.site.url, '/');
		try {
			await page.keyboard.press('/');
			expect(await page.evaluate(() => document.activeElement?.id)).toBe('rb-search-home');
			await page.keyboard.type('vms ping fine but ssh hangs');
			const slugs = await shown(page, HOME_BOX);
			expect(slugs[0]).toBe('usb-nic-trailer');

			const input = page.locator('#rb-search-home');
			expect(await input.getAttribute('role')).toBe('combobox');
			expect(await input.getAttribute('aria-expanded')).toBe('true');
			const listId = await input.getAttribute('aria-controls');
			expect(await page.locator(`#${listId}`).getAttribute('role')).toBe('listbox');

			const first = page.locator(`${HOME_BOX} [role="option"]`).first();
			const marks = await first.locator('.rb-search__matched mark').allInnerTexts();
			expect(marks.length).toBeGreaterThan(0);
			const matched = await first.locator('.rb-search__matched').innerText();
			for (const m of marks) expect(matched).toContain(m);
			expect(await first.locator('.rb-search__title').innerText()).toBe('VMs ping each other but SSH hangs');
			expect(await first.locator('.rb-search__summary').innerText()).toMatch(/^A USB Ethernet adapter/);

			await page.keyboard.press('ArrowDown');
			expect(await first.getAttribute('aria-selected')).toBe('true');
			expect(await input.getAttribute('aria-activedescendant')).toBe(await first.getAttribute('id'));
			await page.keyboard.press('ArrowDown');
			await page.keyboard.press('ArrowUp');
			expect(await first.getAttribute('aria-selected')).toBe('true');

			await Promise.all([page.waitForURL(`${web.site.url}/usb-nic-trailer/`), page.keyboard.press('Enter')]);
		} finally {
			await page.context().close();
		}
	});

	it('shows the same runbooks in the same order as `runbook search --json`', async () => {
		const page = await open(web.site.url, '/');
		try {
			for (const text of [
				'2016-05-12T10:01:02Z ovs-vswitchd[1234]: EAL: Failed to remap 2 MB pages',
				'loss on the link between two hosts',
				'ecmp not balancng',
			]) {
				await page.locator('#rb-search-home').fill('');
				await page.locator('#rb-search-home').focus();
				await page.keyboard.type(text);
				// Wait for the list of this text (the last keystroke), not an earlier one.
				const want = await cliOrder(text);
				await page.waitForFunction(
					([sel, order]) =>
						[...document.querySelectorAll<HTMLElement>(`${sel} [role="option"]`)].map((e) => e.dataset.slug).join() === order,
					[HOME_BOX, want.join()] as const,
					{ timeout: 5000 },
				);
				expect(await shown(page, HOME_BOX), text).toEqual(want);
			}
		} finally {
			await page.context().close();
		}
	});

	it('Escape clears the text and closes the list', async () => {
		const page = await open(web.site.url, '/');
		try {
			await page.keyboard.press('/');
			await page.keyboard.type('arp incomplete');
			await shown(page, HOME_BOX);
			await page.keyboard.press('Escape');
			expect(await page.locator('#rb-search-home').inputValue()).toBe('');
			expect(await page.locator('#rb-search-home').getAttribute('aria-expanded')).toBe('false');
			expect(await page.locator(`${HOME_BOX} [role="listbox"]`).isHidden()).toBe(true);
		} finally {
			await page.context().close();
		}
	});
});

describe('symptom search, header of a runbook page', () => {
	it('finds and opens a runbook from another runbook, and Starlight search stays', async () => {
		const page = await open(web.site.url, '/overlay-mtu/');
		try {
			expect(await page.locator('site-search button[data-open-modal]').count()).toBe(1);
			await page.keyboard.press('/');
			expect(await page.evaluate(() => document.activeElement?.id)).toBe('rb-search-header');
			await page.keyboard.type('dpdk wont start after adding hugepages');
			expect((await shown(page, HEADER_BOX))[0]).toBe('hugepage-map-count');
			await Promise.all([page.waitForURL(`${web.site.url}/hugepage-map-count/`), page.keyboard.press('Enter')]);
		} finally {
			await page.context().close();
		}
	});
});

describe('symptom search with only the static files', () => {
	let mirror: StaticSite;

	beforeAll(async () => {
		mirror = await startStaticSite();
	});

	afterAll(async () => {
		await mirror?.stop();
	});

	it('ranks from /search-index.json and never calls the API', async () => {
		const page = await open(mirror.url, '/');
		try {
			await page.keyboard.press('/');
			await page.keyboard.type('ping: sendmsg: No buffer space available');
			expect((await shown(page, HOME_BOX))[0]).toBe('ufo-raw-socket-virtio');
			expect(mirror.requests).toContain('/search-index.json');
			expect(mirror.requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
		} finally {
			await page.context().close();
		}
	});
});
