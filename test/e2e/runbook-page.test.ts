/**
 * The runbook page in Chromium against the built site and its API, with scenario hosts served by
 * the built-in scenario SSH server: the real path from button to sshd and back.
 *
 * `RUNBOOK_SCREENSHOT=docs/screenshot.png` also saves the page with a fail verdict (for the README).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { siteInBrowser } from '../support/browser.ts';

const RUNBOOK = '/hugepage-map-count/';
const CHECK = 'runbook-check[data-check="kernel.max-map-count"]';
const VERDICT_TIMEOUT = 45_000;

const web = siteInBrowser({ statePrefix: 'runbook-e2e-state-' });

async function openPage(path: string, height = 1000): Promise<Page> {
	const context = await web.browser.newContext({ viewport: { width: 1280, height } });
	const page = await context.newPage();
	const res = await page.goto(`${web.site.url}${path}`);
	expect(res?.status()).toBe(200);
	return page;
}

/** Wait until the picker of the first check is filled from the API and shows `host`. */
async function pickerShows(page: Page, host: string): Promise<void> {
	await page.waitForFunction(([sel, h]) => document.querySelector<HTMLSelectElement>(sel!)?.value === h, [
		`${CHECK} [data-host-picker]`,
		host,
	] as const);
}

/** Press Run in `block` and wait for its verdict badge; returns the verdict section. */
async function runAndWait(block: Locator): Promise<Locator> {
	await block.locator('[data-run]').click();
	const verdict = block.locator('.rb-verdict');
	await verdict.locator('.rb-badge').waitFor({ timeout: VERDICT_TIMEOUT });
	return verdict;
}

describe('runbook page', () => {
	it('with JavaScript off shows every command of the check, and no Run button', async () => {
		const context = await web.browser.newContext({ javaScriptEnabled: false });
		try {
			const page = await context.newPage();
			const res = await page.goto(`${web.site.url}${RUNBOOK}`);
			expect(res?.status()).toBe(200);
			const block = page.locator(CHECK).first();
			expect(await block.innerText()).toContain('cat /proc/sys/vm/max_map_count');
			expect(await block.locator('[data-run]').isVisible()).toBe(false);
		} finally {
			await context.close();
		}
	});

	it('?host=scenario:hugepages-too-many, Run -> fail inline under the step, with the numbers and the fix', async () => {
		// Tall enough that the screenshot shows the verdict down to its facts and first evidence.
		const page = await openPage(`${RUNBOOK}?host=scenario:hugepages-too-many`, 1500);
		try {
			const block = page.locator(CHECK).first();
			await pickerShows(page, 'scenario:hugepages-too-many');
			const verdict = await runAndWait(block);
			const badge = verdict.locator('.rb-badge');
			expect(await badge.getAttribute('data-status')).toBe('fail');
			expect((await badge.innerText()).toLowerCase()).toContain('fail');
			expect(await verdict.locator('.rb-facts').innerText()).toContain('65530');
			expect(await verdict.locator('.rb-output__line--hit').first().innerText()).toContain('65530');
			const fix = await verdict.locator('.rb-fix pre').allInnerTexts();
			expect(fix.join('\n')).toMatch(/vm\.max_map_count/);
			expect(await verdict.locator('.rb-verdict__meta').innerText()).toContain('scenario:hugepages-too-many');

			const shot = process.env.RUNBOOK_SCREENSHOT;
			if (shot) {
				// From the step's heading down: the check, its verdict, then the commands.
				await block.evaluate((el) => {
					const before = [...document.querySelectorAll('main h2, main h3')].filter(
						(h) => h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING,
					);
					(before.at(-1) ?? el).scrollIntoView({ block: 'start' });
					window.scrollBy(0, -80);
				});
				const path = resolve(projectRoot, shot);
				mkdirSync(dirname(path), { recursive: true });
				await page.screenshot({ path });
			}
		} finally {
			await page.context().close();
		}
	});

	it('picking a host puts it in the URL, a reload keeps it, and Run -> pass', async () => {
		const page = await openPage(RUNBOOK);
		try {
			const block = page.locator(CHECK).first();
			await block.locator('[data-host-picker]').selectOption('scenario:hugepages-healthy');
			expect(new URL(page.url()).searchParams.get('host')).toBe('scenario:hugepages-healthy');

			await page.reload();
			await pickerShows(page, 'scenario:hugepages-healthy');
			for (const picker of await page.locator('runbook-check [data-host-picker]').all())
				expect(await picker.inputValue()).toBe('scenario:hugepages-healthy');

			const verdict = await runAndWait(page.locator(CHECK).first());
			expect(await verdict.locator('.rb-badge').getAttribute('data-status')).toBe('pass');
		} finally {
			await page.context().close();
		}
	});

	it('with the check server unreachable says so in one line and keeps the commands', async () => {
		const context = await web.browser.newContext();
		try {
			await context.route('**/api/**', (route) => route.abort('connectionrefused'));
			const page = await context.newPage();
			await page.goto(`${web.site.url}${RUNBOOK}?host=scenario:hugepages-too-many`);
			const block = page.locator(CHECK).first();
			const offline = block.locator('[data-offline]');
			await offline.waitFor({ state: 'visible' });
			expect(await offline.innerText()).toMatch(/not reachable/);
			expect(await block.locator('[data-run]').isVisible()).toBe(false);
			expect(await block.innerText()).toContain('cat /proc/sys/vm/max_map_count');
		} finally {
			await context.close();
		}
	});
});

describe('check API', () => {
	const post = (path: string, body: unknown, type = 'application/json') =>
		fetch(`${web.site.url}${path}`, {
			method: 'POST',
			headers: { 'content-type': type },
			body: typeof body === 'string' ? body : JSON.stringify(body),
		});

	it('streams start, then exactly one verdict, as NDJSON', async () => {
		const res = await post('/api/checks/kernel.max-map-count/run', { host: 'scenario:hugepages-too-many' });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
		const events = (await res.text())
			.split('\n')
			.filter(Boolean)
			.map((l) => JSON.parse(l) as { type: string; verdict?: { status: string; check: string } });
		expect(events[0]?.type).toBe('start');
		expect(events.filter((e) => e.type === 'verdict')).toHaveLength(1);
		expect(events.at(-1)?.verdict).toMatchObject({ check: 'kernel.max-map-count', status: 'fail' });
	});

	it('answers invocation errors with a status and a catalogue code, before running anything', async () => {
		const cases: [Response, number, string][] = [
			[await post('/api/checks/no.such-check/run', { host: 'local' }), 404, 'UnknownCheck'],
			[await post('/api/checks/kernel.max-map-count/run', { host: 'no-such-host-xyz' }), 404, 'UnknownHost'],
			[await post('/api/checks/kernel.max-map-count/run', { host: 'local', params: { process: '-x' } }), 400, 'InvalidParams'],
			[await post('/api/checks/kernel.max-map-count/run', { host: 'local', extra: 1 }), 400, 'InvalidParams'],
			[await post('/api/checks/kernel.max-map-count/run', '{"host":'), 400, 'InvalidParams'],
		];
		for (const [res, status, code] of cases) {
			expect(res.status).toBe(status);
			expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
		}
	});

	it('lists hosts with their public fields only', async () => {
		const { hosts } = (await (await fetch(`${web.site.url}/api/hosts`)).json()) as { hosts: Record<string, unknown>[] };
		expect(hosts.map((h) => h.name)).toContain('scenario:hugepages-too-many');
		for (const h of hosts) expect(Object.keys(h).sort()).toEqual(['groups', 'name', 'platform', 'source', 'where']);
	});
});

describe('parameters on the page', () => {
	it('a value typed into a parameter input is what the server runs, and a bad one is refused in one line', async () => {
		const page = await openPage(`${RUNBOOK}?host=scenario:hugepages-too-many`);
		try {
			const block = page.locator(CHECK).first();
			await pickerShows(page, 'scenario:hugepages-too-many');
			const process = block.locator('input[data-param="process"]');
			expect(await process.inputValue()).toBe('ovs-vswitchd');

			await process.fill('x;id');
			await block.locator('[data-run]').click();
			const refused = block.locator('.rb-verdict');
			await refused.waitFor({ timeout: VERDICT_TIMEOUT });
			expect(await refused.innerText()).toContain('InvalidParams');

			// Judged by a DPDK version given on the page: 21.11 maps each page once, so the same host passes.
			await process.fill('ovs-vswitchd');
			await block.locator('input[data-param="dpdkVersion"]').fill('21.11');
			const verdict = await runAndWait(block);
			expect(await verdict.locator('.rb-badge').getAttribute('data-status')).not.toBe('fail');
			expect(await verdict.innerText()).toContain('21.11');
		} finally {
			await page.context().close();
		}
	});
});
