/**
 * Debian's Chromium driven by playwright-core (no browser download). `chromium.launch` starts it
 * with a fresh temporary user-data-dir that playwright deletes on close, so no cache, cookie or
 * service worker leaks between runs; each test then takes its own context.
 */
import { chromium, type Browser } from 'playwright-core';

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
