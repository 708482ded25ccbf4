/**
 * Training mode in Chromium against the built site and its API (issue 6): a trainee picks an
 * incident by its brief, searches the symptom, opens the runbook from the result, runs its check on
 * the scenario host over the real SSH path, comes back, submits a diagnosis and reads the debrief.
 *
 * `RUNBOOK_TRAINING_SHOTS=<dir>` also saves the training page at its start, in progress and at the
 * debrief.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { trainingCatalogue, type TrainingCatalogue } from '../../src/training/catalogue.ts';
import type { DebriefKey } from '../../src/training/debrief.ts';
import { HEALTHY_CHOICE } from '../../src/training/session.ts';
import { siteInBrowser } from '../support/browser.ts';
import { startStaticSite, type StaticSite } from '../support/site.ts';

const SCENARIO = 'hugepages-too-many';
const HOST = `scenario:${SCENARIO}`;
const RUNBOOK = 'hugepage-map-count';
const CHECK = 'kernel.max-map-count';
const QUERY = 'EAL: Failed to remap 2 MB pages';
const VERDICT_TIMEOUT = 45_000;

let catalogue: TrainingCatalogue;

beforeAll(async () => {
	catalogue = await trainingCatalogue();
});

const web = siteInBrowser({ statePrefix: 'runbook-e2e-training-' });

const scenario = () => catalogue.scenarios.find((s) => s.name === SCENARIO)!;

async function shot(page: Page, name: string): Promise<void> {
	const dir = process.env.RUNBOOK_TRAINING_SHOTS;
	if (!dir) return;
	mkdirSync(resolve(projectRoot, dir), { recursive: true });
	await page.screenshot({ path: resolve(projectRoot, dir, `training-${name}.png`), fullPage: true });
}

/** A fresh browser profile (empty localStorage) on /training/, with the incident started. */
async function startIncident(base = web.site.url): Promise<Page> {
	const context = await web.browser.newContext({ viewport: { width: 1280, height: 1000 } });
	const page = await context.newPage();
	const res = await page.goto(`${base}/training/`);
	expect(res?.status()).toBe(200);
	await page.locator(`[data-scenario="${SCENARIO}"] [data-start]:enabled`).click();
	await page.locator('[data-view="session"]').waitFor();
	return page;
}

async function submit(page: Page, runbook: string, cause: string): Promise<void> {
	const form = page.locator('[data-diagnosis]');
	await form.locator('select[name="runbook"]').selectOption(runbook);
	await form.locator('select[name="cause"]').selectOption(cause);
	await form.locator('[data-submit]').click();
	await page.locator('[data-view="debrief"] h2[data-outcome="right"], [data-view="debrief"] h2[data-outcome="wrong"]').waitFor();
}

describe('training page', () => {
	it('carries briefs only: no title, runbook or cause per scenario, and every exercise is listed', async () => {
		const html = await (await fetch(`${web.site.url}/training/`)).text();
		expect(catalogue.scenarios.length).toBeGreaterThanOrEqual(2);
		for (const s of catalogue.scenarios) {
			expect(html).toContain(`data-scenario="${s.name}"`);
			expect(html, s.name).not.toContain(s.title);
		}
		// The answer key is its own file, fetched on submit.
		const key = (await (await fetch(`${web.site.url}/training/debrief/${SCENARIO}.json`)).json()) as DebriefKey;
		expect(key).toMatchObject({ name: SCENARIO, runbook: RUNBOOK, cause: scenario().cause, healthy: false });
		expect(key.deciding.map((d) => [d.check, d.status])).toEqual([[CHECK, 'fail']]);
		expect(html).not.toContain(JSON.stringify(key.deciding));
	});

	it('a trainee works an incident end to end: brief, search, run the check, submit the right answer, debrief', async () => {
		const s = scenario();
		const page = await startIncident();
		const keyRequests: string[] = [];
		page.on('request', (r) => {
			if (r.url().includes('/training/debrief/')) keyRequests.push(r.url());
		});
		try {
			// Only its brief and its host; nothing of what it is.
			const session = page.locator('[data-view="session"]');
			expect(await session.locator('[data-session-brief]').innerText()).toBe(s.brief);
			expect(await session.locator('[data-session-host]').first().innerText()).toBe(HOST);
			const text = await page.locator('main').innerText();
			for (const other of catalogue.scenarios.filter((o) => o.brief !== s.brief)) expect(text).not.toContain(other.brief);
			expect(text).not.toContain(s.title);
			expect(text).not.toContain(s.cause);
			await shot(page, 'start');

			// The symptom search on the training page, as on the home page.
			const box = page.locator('[data-view="session"] symptom-search [data-input]:enabled');
			await box.click();
			await page.keyboard.type(QUERY);
			const hit = page.locator(`[data-view="session"] [role="option"][data-slug="${RUNBOOK}"] a`);
			await Promise.all([page.waitForURL(`${web.site.url}/${RUNBOOK}/`), hit.click()]);

			// The runbook page: the banner, and the scenario host already picked.
			const banner = page.locator('.rb-training-banner');
			expect(await banner.locator('[data-training-brief]').innerText()).toBe(s.brief);
			expect(await banner.innerText()).toContain(HOST);
			const block = page.locator(`runbook-check[data-check="${CHECK}"]`).first();
			await page.waitForFunction(([sel, host]) => document.querySelector<HTMLSelectElement>(sel!)?.value === host, [
				`runbook-check[data-check="${CHECK}"] [data-host-picker]`,
				HOST,
			] as const);
			await block.locator('[data-run]').click();
			const badge = block.locator('.rb-verdict .rb-badge');
			await badge.waitFor({ timeout: VERDICT_TIMEOUT });
			expect(await badge.getAttribute('data-status')).toBe('fail');

			await Promise.all([page.waitForURL(`${web.site.url}/training/`), banner.locator('[data-training-back]').click()]);
			expect(await page.locator('.rb-training-banner').count()).toBe(0);
			const path = page.locator('[data-session-path]');
			await path.locator('[data-event="check"]').waitFor();
			expect(await path.locator('[data-event="search"]').innerText()).toContain(QUERY);
			expect(await path.locator('[data-event="check"] .rb-badge').getAttribute('data-status')).toBe('fail');
			await shot(page, 'in-progress');

			expect(keyRequests).toEqual([]);
			await submit(page, RUNBOOK, s.cause);
			expect(keyRequests).toEqual([`${web.site.url}/training/debrief/${SCENARIO}.json`]);

			const debrief = page.locator('[data-view="debrief"]');
			expect(await debrief.locator('h2').getAttribute('data-outcome')).toBe('right');
			expect((await debrief.locator('h2').innerText()).toLowerCase()).toBe('right');
			expect(await debrief.locator('[data-mark="runbook"]').getAttribute('data-right')).toBe('true');
			expect(await debrief.locator('[data-mark="cause"]').getAttribute('data-right')).toBe('true');
			expect(await debrief.innerText()).toContain(s.title);

			// The path taken: the search text, the check and its verdict.
			const taken = debrief.locator('[data-path]');
			expect(await taken.locator('[data-search]').innerText()).toContain(QUERY);
			expect(await taken.locator('[data-search]').innerText()).toMatch(/opened/);
			expect(await taken.locator(`[data-check="${CHECK}"]`).getAttribute('data-status')).toBe('fail');
			expect(await taken.innerText()).toMatch(/from start to answer/);

			// The fastest route, and the runbook as the explanation.
			const fastest = debrief.locator(`[data-fastest] [data-check="${CHECK}"]`);
			expect(await fastest.locator('.rb-badge').getAttribute('data-status')).toBe('fail');
			expect(await fastest.innerText()).toContain('you ran it');
			const why = debrief.locator('[data-explanation]');
			const key = (await (await fetch(`${web.site.url}/training/debrief/${SCENARIO}.json`)).json()) as DebriefKey;
			expect(await why.innerText()).toContain(key.runbookSummary);
			expect(await why.locator('a').getAttribute('href')).toBe(`/${RUNBOOK}/?host=${encodeURIComponent(HOST)}`);
			await shot(page, 'debrief');

			// A reload shows the same debrief; then the progress keeps the answer.
			await page.reload();
			await page.locator('[data-view="debrief"] h2[data-outcome="right"]').waitFor();
			await page.locator('[data-again]').click();
			await page.locator('[data-view="pick"]').waitFor();
			expect(await page.locator(`[data-progress-rows] tr[data-result="${SCENARIO}"]`).getAttribute('data-right')).toBe('true');
			expect(await page.locator(`li[data-scenario="${SCENARIO}"]`).getAttribute('data-solved')).not.toBeNull();
			expect(await page.locator('[data-progress-summary]').innerText()).toMatch(/^1 of \d+ incidents answered, 1 right/);
			await shot(page, 'progress');
		} finally {
			await page.context().close();
		}
	});

	it('the right runbook with the wrong cause -> wrong, with the right cause shown', async () => {
		const s = scenario();
		const page = await startIncident();
		try {
			await submit(page, RUNBOOK, HEALTHY_CHOICE);
			const debrief = page.locator('[data-view="debrief"]');
			expect(await debrief.locator('h2').getAttribute('data-outcome')).toBe('wrong');
			expect((await debrief.locator('h2').innerText()).toLowerCase()).toMatch(/^wrong/);
			expect(await debrief.locator('[data-mark="runbook"]').getAttribute('data-right')).toBe('true');
			const cause = debrief.locator('[data-mark="cause"]');
			expect(await cause.getAttribute('data-right')).toBe('false');
			expect(await cause.locator('.rb-training__correct').innerText()).toBe(s.cause);
			expect(await cause.innerText()).toContain('nothing is wrong on this host');
			expect(await debrief.locator('[data-path]').innerText()).toContain('No check run.');
			expect(await debrief.locator(`[data-fastest] [data-check="${CHECK}"]`).innerText()).toContain('you did not run it');
		} finally {
			await page.context().close();
		}
	});
});

describe('training with only the static files', () => {
	let mirror: StaticSite;

	beforeAll(async () => {
		mirror = await startStaticSite();
	});

	afterAll(async () => {
		await mirror?.stop();
	});

	it('start, submit and debrief need no server: the answer key is a static file', async () => {
		const s = scenario();
		const page = await startIncident(mirror.url);
		try {
			await submit(page, RUNBOOK, s.cause);
			expect(await page.locator('[data-view="debrief"] h2').getAttribute('data-outcome')).toBe('right');
			expect(mirror.requests).toContain(`/training/debrief/${SCENARIO}.json`);
			expect(mirror.requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
		} finally {
			await page.context().close();
		}
	});
});
