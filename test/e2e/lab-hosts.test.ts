/**
 * The runbook page against real SSH hosts (lab namespaces with their own sshd, procfs values
 * bind-mounted), picked from an inventory: the verdicts the CLI gives appear inline in Chromium.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { startHugepageLab, type Lab } from '../support/lab.ts';
import { startSite, type Site } from '../support/site.ts';

let lab: Lab;
let site: Site;
let browser: Browser;

beforeAll(async () => {
	const started = await startHugepageLab();
	lab = started.lab;
	const { inventory, knownHosts } = started;
	site = await startSite({ RUNBOOK_STATE_DIR: join(lab.dir, 'state'), RUNBOOK_INVENTORY: inventory, RUNBOOK_KNOWN_HOSTS: knownHosts });
	browser = await launchBrowser();
});

afterAll(async () => {
	await browser?.close();
	await site?.stop();
	await lab?.stop();
});

describe('runbook page against inventory hosts over SSH', () => {
	it.each([
		['compute-low', 'fail', '65530'],
		['compute-fine', 'pass', '262144'],
	])('?host=%s, Run -> %s inline with the limit %s', async (host, status, limit) => {
		const context = await browser.newContext();
		try {
			const page = await context.newPage();
			await page.goto(`${site.url}/hugepage-map-count/?host=${host}`);
			const block = page.locator('runbook-check[data-check="kernel.max-map-count"]').first();
			await page.waitForFunction((h) => document.querySelector<HTMLSelectElement>('runbook-check [data-host-picker]')?.value === h, host);
			await block.locator('[data-run]').click();
			const badge = block.locator('.rb-verdict .rb-badge');
			await badge.waitFor({ timeout: 45_000 });
			expect(await badge.getAttribute('data-status')).toBe(status);
			expect(await block.locator('.rb-verdict .rb-facts').innerText()).toContain(limit);
		} finally {
			await context.close();
		}
	});
});
