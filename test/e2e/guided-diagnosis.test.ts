/**
 * Guided diagnosis in Chromium against the built site and its API (issue 7), with scenario hosts
 * served over the real SSH path by the built-in scenario server: "Run all" on the hugepage runbook
 * against a broken host names the cause and links the fix step, the incident notes are copied, and
 * after switching to the healthy host every check passes and the page says what changed. Then a
 * runbook on two hosts (the grid, the outlier marked), and every runbook with JavaScript off (the
 * steps' commands and branches as text).
 *
 * `RUNBOOK_GUIDED_SHOTS=<dir>` also saves the Run-all result for one host and for the grid.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/core/paths.ts';
import { loadRunbooks } from '../../src/core/runbooks-node.ts';
import type { Diagnosis } from '../../src/diagnosis/types.ts';
import { siteInBrowser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';

const BROKEN = 'scenario:hugepages-too-many';
const HEALTHY = 'scenario:hugepages-healthy';
const RUN_TIMEOUT = 60_000;

const web = siteInBrowser({ statePrefix: 'runbook-e2e-guided-' });

async function shot(target: Page | Locator, name: string): Promise<void> {
	const dir = process.env.RUNBOOK_GUIDED_SHOTS;
	if (!dir) return;
	mkdirSync(resolve(projectRoot, dir), { recursive: true });
	await target.screenshot({ path: resolve(projectRoot, dir, `guided-${name}.png`) });
}

/** Press "Run all" and wait for the summary of the run on `hosts` (the one before it is replaced). */
async function runAll(page: Page, hosts: string[]): Promise<Locator> {
	const box = page.locator('run-all');
	await box.locator('[data-run]:not([disabled])').click();
	const summary =
		hosts.length === 1 ? box.locator(`[data-result] > .rb-diagnosis[data-host="${hosts[0]}"]`) : box.locator('[data-result] > .rb-fleet');
	await summary.waitFor({ timeout: RUN_TIMEOUT });
	await page.waitForFunction(() => document.querySelector('run-all')?.getAttribute('aria-busy') !== 'true');
	return summary;
}

describe('Run all on the hugepage runbook', () => {
	it('broken host: the cause and its fix step, notes copied; healthy host: every check passes and the page says what changed', async () => {
		const context = await web.browser.newContext({ viewport: { width: 1280, height: 1400 } });
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: web.site.url });
		const page = await context.newPage();
		try {
			await page.goto(`${web.site.url}/hugepage-map-count/?host=${BROKEN}`);
			const box = page.locator('run-all');
			expect(await box.locator('[data-hosts]').inputValue()).toBe(BROKEN);

			// Every text the progress line shows, kept as it changes.
			await page.evaluate(() => {
				const live = document.querySelector('run-all [data-live]')!;
				const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
				new MutationObserver(() => seen.push(live.textContent ?? '')).observe(live, {
					childList: true,
					characterData: true,
					subtree: true,
				});
			});
			const summary = await runAll(page, [BROKEN]);
			const progress = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
			expect(progress).toContainEqual(
				expect.stringMatching(/^Check 1 of 1, kernel\.max-map-count, on scenario:hugepages-too-many: .+ · 0 of 1 done$/),
			);
			expect(progress).toContainEqual('1 of 1 done · kernel.max-map-count on scenario:hugepages-too-many: fail');
			expect(await summary.getAttribute('data-status')).toBe('fail');
			const head = await summary.locator('.rb-diagnosis__head').innerText();
			expect(head).toMatch(/Likely cause/);
			expect(head).toContain('kernel.max-map-count');
			const cause = await summary.locator('.rb-diagnosis__cause').innerText();
			expect(cause).toContain('65530');
			expect(cause).toContain('82920');
			expect(await summary.locator('.rb-output__line--hit').allInnerTexts()).toContainEqual(expect.stringContaining('65530'));
			const fix = summary.locator('.rb-diagnosis__fix a');
			expect(await fix.getAttribute('href')).toBe('#raise-the-limit');
			expect(await fix.innerText()).toContain('step 5 (Raise the limit)');
			expect(await summary.locator('.rb-fix pre').first().innerText()).toMatch(/vm\.max_map_count/);
			expect(await box.locator('[data-live]').innerText()).toMatch(/^Done: 1 of 1/);
			expect(await summary.locator('.rb-compare__note').innerText()).toMatch(/First run/);

			// The verdict also stands under its step, as if Run had been pressed there, and the step marks its branch.
			const block = page.locator('runbook-check[data-check="kernel.max-map-count"]');
			expect(await block.locator('.rb-verdict .rb-badge').getAttribute('data-status')).toBe('fail');
			expect(await block.locator('.rb-verdict__meta').innerText()).toContain('from Run all');
			expect(await page.locator('.rb-step').getAttribute('data-outcome')).toBe('fail');
			const hostKey = (await block.locator('.rb-verdict__meta code').innerText()).trim();
			expect(hostKey).toMatch(/^SHA256:/);
			await shot(box, 'one-host-fail');

			// Notes: the operator is asked once (default "on-call") and kept; the copy is the whole Markdown.
			const operator = box.locator('.rb-notes__operator');
			expect(await operator.inputValue()).toBe('on-call');
			await operator.fill('jdoe');
			await box.locator('[data-copy-notes]').click();
			await box.locator('.rb-notes [role="status"]').filter({ hasText: 'Copied' }).waitFor();
			const notes = await page.evaluate(() => navigator.clipboard.readText());
			expect(notes).toMatch(/^## Incident notes: OVS-DPDK will not start/);
			expect(notes).toMatch(/^- Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
			expect(notes).toMatch(/^- Operator: jdoe$/m);
			expect(notes).toContain(`- Host: \`${BROKEN}\`, host key \`${hostKey}\``);
			expect(notes).toMatch(/^\s+1 \| 65530$/m);
			expect(notes).toContain('cat /proc/sys/vm/max_map_count');
			expect(notes).toContain(`${web.site.url}/hugepage-map-count/#raise-the-limit`);
			expect(await box.locator('.rb-notes__text').inputValue()).toBe(notes);
			expect(await page.evaluate(() => localStorage.getItem('runbook-kb:operator'))).toBe('jdoe');

			// The terminal gives the same diagnosis.
			const cli = await runCli(['run', 'hugepage-map-count', '--host', BROKEN, '--json'], { RUNBOOK_STATE_DIR: web.stateDir });
			expect(cli.code, cli.stderr).toBe(1);
			const { diagnosis } = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { diagnosis: Diagnosis };
			expect(diagnosis.likelyCause?.check).toBe('kernel.max-map-count');
			expect(diagnosis.fixStep?.href).toBe('/hugepage-map-count/#raise-the-limit');
			expect(diagnosis.hostKey).toBe(hostKey);
			expect(notes).toContain(`- Diagnosis: ${diagnosis.headline}`);

			// After the fix, or here its healthy twin: pick the other host on the page and run all again.
			await block.locator('[data-host-picker]').selectOption(HEALTHY);
			expect(await box.locator('[data-hosts]').inputValue()).toBe(HEALTHY);
			const after = await runAll(page, [HEALTHY]);
			expect(await after.getAttribute('data-status')).toBe('pass');
			expect(await after.locator('.rb-diagnosis__head').innerText()).toMatch(/Every check passed/);
			expect(await after.locator('.rb-diagnosis__list').first().innerText()).toContain('kernel.max-map-count');
			const compare = await after.locator('.rb-compare').innerText();
			expect(compare).toContain(`${BROKEN}`);
			expect(compare).toContain(`${HEALTHY}`);
			expect(compare).toMatch(/kernel\.max-map-count: fail → pass/);
			expect(compare).toMatch(/Another host than last time/);
			expect(await after.locator('.rb-diagnosis__try').innerText()).toMatch(/No related runbook is listed/);
			expect(await block.locator('.rb-verdict .rb-badge').getAttribute('data-status')).toBe('pass');
			expect(await page.locator('.rb-step').getAttribute('data-outcome')).toBe('pass');
			expect(new URL(page.url()).searchParams.get('host')).toBe(HEALTHY);
			expect(await box.locator('.rb-notes__operator').inputValue()).toBe('jdoe');
			expect(await box.locator('.rb-notes__text').inputValue()).toMatch(/### What changed[\s\S]*kernel\.max-map-count: fail → pass/);
			await shot(box, 'one-host-pass');

			// Reloaded, the same host again: the comparison is with its own last run.
			await page.reload();
			const again = await runAll(page, [HEALTHY]);
			const same = await again.locator('.rb-compare').innerText();
			expect(same).toContain(`Since the last run on ${HEALTHY}`);
			expect(same).toContain('Nothing changed');
		} finally {
			await context.close();
		}
	});
});

describe('Run all when something is missing', () => {
	it('no clipboard API (plain http to a remote name): the notes are opened and selected for Ctrl+C', async () => {
		const context = await web.browser.newContext();
		await context.addInitScript(() =>
			Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new Error('not a secure context')) } }),
		);
		const page = await context.newPage();
		try {
			await page.goto(`${web.site.url}/hugepage-map-count/?host=${BROKEN}`);
			await runAll(page, [BROKEN]);
			const box = page.locator('run-all');
			await box.locator('[data-copy-notes]').click();
			expect(await box.locator('.rb-notes [role="status"]').innerText()).toMatch(/Selected below: press Ctrl\+C/);
			expect(await box.locator('.rb-notes__details').getAttribute('open')).not.toBeNull();
			const selection = await box
				.locator('.rb-notes__text')
				.evaluate((t: HTMLTextAreaElement) => [document.activeElement === t, t.selectionStart, t.selectionEnd, t.value.length]);
			expect(selection[0]).toBe(true);
			expect(selection[1]).toBe(0);
			expect(selection[2]).toBe(selection[3]);
		} finally {
			await context.close();
		}
	});

	it('the check server unreachable: Run all says so in one line, and the steps and the terminal command stay', async () => {
		const context = await web.browser.newContext();
		try {
			await context.route('**/api/**', (route) => route.abort('connectionrefused'));
			const page = await context.newPage();
			await page.goto(`${web.site.url}/hugepage-map-count/?host=${BROKEN}`);
			const box = page.locator('run-all');
			const offline = box.locator('[data-offline]');
			await offline.waitFor({ state: 'visible' });
			expect(await offline.innerText()).toMatch(/not reachable .* run each step by hand/);
			expect(await box.locator('[data-controls]').isVisible()).toBe(false);
			expect(await box.innerText()).toContain('runbook run hugepage-map-count --host HOST');
			expect(await box.locator('[data-plan] a').getAttribute('href')).toBe('#check-the-limit-against-the-hugepages');
		} finally {
			await context.close();
		}
	});
});

describe('Run all on several hosts', () => {
	it('bond-vlan-stray-subinterface on a stray and a healthy host: the count line first, the grid, the stray host marked', async () => {
		const context = await web.browser.newContext({ viewport: { width: 1280, height: 1600 } });
		const page = await context.newPage();
		try {
			const stray = 'scenario:bond-vlan-stray';
			const healthy = 'scenario:bond-vlan-healthy';
			await page.goto(`${web.site.url}/bond-vlan-stray-subinterface/?host=${healthy}`);
			const box = page.locator('run-all');
			// Added from the host list, after the page host already in the field.
			await box.locator('[data-add-host]:not([disabled])').selectOption(stray);
			expect(await box.locator('[data-hosts]').inputValue()).toBe(`${healthy}, ${stray}`);
			expect(await box.locator('[data-run]').innerText()).toBe('Run all on 2 hosts');

			const fleet = await runAll(page, [healthy, stray]);
			expect(await fleet.locator(':scope > *').first().locator('.rb-fleet__count').innerText()).toBe('2 hosts: 1 fail, 1 pass');
			expect(await box.locator('[data-live]').innerText()).toMatch(/^Done: 6 of 6/);
			const rows = fleet.locator('.rb-grid tbody tr');
			expect(await rows.count()).toBe(2);
			const strayRow = rows.filter({ hasText: stray });
			const healthyRow = rows.filter({ hasText: healthy });
			expect(await strayRow.locator('td[data-outlier]').count()).toBeGreaterThan(0);
			expect(await healthyRow.locator('td[data-outlier]').count()).toBe(0);
			const vlanColumn = await fleet.locator('.rb-grid thead th').allInnerTexts();
			const vlan = vlanColumn.findIndex((t) => t.includes('net.vlan-on-bond-slave'));
			const cell = strayRow.locator('td').nth(vlan - 1);
			expect(await cell.locator('.rb-badge').getAttribute('data-status')).toBe('fail');
			expect(await cell.innerText()).toContain('outlier');
			expect(await fleet.innerText()).toContain('Stands out: scenario:bond-vlan-stray');

			// The page host's verdicts fill the check blocks; a grid cell shows another host's under its step.
			const block = page.locator('runbook-check[data-check="net.vlan-on-bond-slave"]');
			expect(await block.locator('.rb-verdict').getAttribute('data-host')).toBe(healthy);
			await shot(box, 'grid');
			// Each host's own diagnosis follows the verdicts from the likely cause to the step that fixes it.
			const strayDiagnosis = fleet.locator(`.rb-fleet__host .rb-diagnosis[data-host="${stray}"]`);
			await strayDiagnosis.locator('xpath=..').locator('summary').click();
			expect(await strayDiagnosis.locator('.rb-diagnosis__route').innerText()).toMatch(
				/step 1 net\.neigh-unresolved\s*✗\s*fail\s*→\s*step 2 net\.vlan-on-bond-slave\s*✗\s*fail\s*→\s*step 5 \(Delete the stray device\)/i,
			);
			expect(await strayDiagnosis.locator('.rb-diagnosis__fix a').getAttribute('href')).toBe('#delete-the-stray-device');
			expect(await strayDiagnosis.locator('.rb-fix pre').first().innerText()).toContain('ip link del enp5s0f0.53');

			await cell.locator('button').click();
			expect(await block.locator('.rb-verdict').getAttribute('data-host')).toBe(stray);
			expect(await block.locator('.rb-verdict .rb-badge').getAttribute('data-status')).toBe('fail');
			expect(new URL(page.url()).searchParams.get('host')).toBe(stray);
			expect(await block.locator('.rb-verdict').getAttribute('class')).not.toContain('is-stale');
		} finally {
			await context.close();
		}
	});
});

describe('with JavaScript off', () => {
	it('every runbook shows each step’s commands and its branches as text, numbered as its headings', async () => {
		const context = await web.browser.newContext({ javaScriptEnabled: false });
		try {
			const page = await context.newPage();
			for (const r of (await loadRunbooks()).filter((x) => x.checks.length > 0)) {
				const res = await page.goto(`${web.site.url}/${r.slug}/`);
				expect(res?.status(), r.slug).toBe(200);
				const steps = page.locator('.rb-step');
				expect(await steps.count(), r.slug).toBe(r.checks.length);
				for (const step of await steps.all()) {
					expect(await step.locator('runbook-check').count(), r.slug).toBeGreaterThan(0);
					expect(await step.locator('runbook-check .expressive-code').first().innerText(), r.slug).not.toBe('');
					const branches = await step.locator('.rb-step__branch').allInnerTexts();
					expect(branches.length, r.slug).toBeGreaterThan(0);
					for (const b of branches) expect(b, r.slug).toMatch(/^If .+, (go to|the cause is elsewhere: see) .*step \d+ \(.+\)/);
				}
				// The number a step shows is the one its heading gets: the ## headings but "What you see" and "Sources", in order.
				const numbering = await page.evaluate(() => {
					const h2 = [...document.querySelectorAll('.sl-markdown-content > h2')].filter(
						(h) => h.id !== 'what-you-see' && h.id !== 'sources',
					);
					return [...document.querySelectorAll<HTMLElement>('.rb-step')].map((s) => [
						Number(s.dataset.step),
						h2.findIndex((h) => h.id === s.dataset.stepAnchor) + 1,
						s.previousElementSibling?.id ?? null,
					]);
				});
				for (const [shown, counted, above] of numbering) {
					expect(shown, r.slug).toBe(counted);
					expect(above, r.slug).not.toBeNull();
				}
				const runAllBox = page.locator('run-all');
				expect(await runAllBox.locator('[data-controls]').isVisible()).toBe(false);
				expect(await runAllBox.innerText()).toContain(`runbook run ${r.slug} --host HOST`);
				expect(await runAllBox.locator('[data-plan] li').count()).toBe(r.checks.length);
			}

			await page.goto(`${web.site.url}/hugepage-map-count/`);
			const step = page.locator('.rb-step');
			expect(await step.locator('runbook-check').innerText()).toContain('cat /proc/sys/vm/max_map_count');
			const text = await step.locator('.rb-step__branches').innerText();
			expect(text).toMatch(/^Step 2: where the verdict leads$/im);
			expect(text).toContain('If it fails, go to step 5 (Raise the limit).');
			expect(text).toContain('If it passes, go to step 7 (If the check passes).');
			expect(await step.locator('.rb-step__branch[data-on="fail"] a').getAttribute('href')).toBe('#raise-the-limit');
			await page.goto(`${web.site.url}/overlay-mtu/`);
			const overlay = await page.locator('.rb-step').first().locator('.rb-step__branches').innerText();
			expect(overlay).toMatch(/, “[^”]+”, step 2 \(Find the USB NIC and its driver\) or step 3 /);
		} finally {
			await context.close();
		}
	});
});
