/**
 * Debian's Chromium driven by playwright-core (no browser download). `chromium.launch` starts it
 * with a fresh temporary user-data-dir that playwright deletes on close, so no cache, cookie or
 * service worker leaks between runs; each test then takes its own context. `siteInBrowser` is the
 * set-up of the e2e files: the built site and Chromium, for all the tests of a file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startSite, type Site } from './site.ts';

const ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
	return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS, headless: true });
}

export interface SiteInBrowser {
	/** The built site; there from the file's first test on. */
	readonly site: Site;
	readonly browser: Browser;
	/** The site's `RUNBOOK_STATE_DIR` (a fresh temporary directory) when `statePrefix` was given. */
	readonly stateDir: string;
}

/**
 * Start the built site and Chromium before the tests of the file that calls it, and stop both after
 * them. With `statePrefix`, the site keeps its state in a fresh temporary directory of that name
 * prefix (e.g. `runbook-e2e-guided-`), removed after the tests; without, in its default place.
 */
export function siteInBrowser(options: { statePrefix?: string } = {}): SiteInBrowser {
	let site: Site | undefined;
	let browser: Browser | undefined;
	let stateDir: string | undefined;

	beforeAll(async () => {
		if (options.statePrefix !== undefined) stateDir = mkdtempSync(join(tmpdir(), options.statePrefix));
		site = await startSite(stateDir === undefined ? {} : { RUNBOOK_STATE_DIR: stateDir });
		browser = await launchBrowser();
	});

	afterAll(async () => {
		await browser?.close();
		await site?.stop();
		if (stateDir) rmSync(stateDir, { recursive: true, force: true });
	});

	return {
		get site() {
			return site!;
		},
		get browser() {
			return browser!;
		},
		get stateDir() {
			return stateDir!;
		},
	};
}
