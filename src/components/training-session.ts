/**
 * The running training session as every page sees it: read and write it in localStorage, record
 * what the trainee does (searches, runbooks opened, checks run), and show the training banner.
 *
 * Loaded on every page through the header symptom search (symptom-search.ts) and on runbook pages
 * through the check block (check-client.ts); both only call the `record*` functions and
 * `trainingHost`. On load it records the page and, while a session runs, puts the banner
 * "Training: <brief> · host scenario:x · back to training" at the top of the page, on every page
 * but the training page itself (which shows the session in full).
 *
 * Storage may be missing or full (private windows, quotas): then nothing is recorded and nothing
 * breaks. The brief reaches the DOM only as text.
 */
import type { Status } from '../core/status.ts';
import {
	STATE_KEY,
	parseState,
	recordCheck as addCheck,
	recordOpened as addOpened,
	recordPage as addPage,
	recordSearch as addSearch,
	type TrainingState,
} from '../training/session.ts';

/** Where the training page lives; the banner links back to it and is not shown on it. */
export const TRAINING_PATH = '/training/';

export function readTraining(): TrainingState {
	try {
		return parseState(localStorage.getItem(STATE_KEY));
	} catch {
		return parseState(null);
	}
}

/** Store `state`; false when the browser refused (no storage, quota). */
export function writeTraining(state: TrainingState): boolean {
	try {
		localStorage.setItem(STATE_KEY, JSON.stringify(state));
		return true;
	} catch {
		return false;
	}
}

function update(change: (state: TrainingState) => TrainingState): void {
	const state = readTraining();
	if (!state.active) return;
	const next = change(state);
	if (next !== state) writeTraining(next);
}

/** The scenario host of the running session, for the host picker's default. */
export function trainingHost(): string | undefined {
	return readTraining().active?.host;
}

export function recordSearch(query: string, results: number): void {
	update((s) => addSearch(s, query, results, Date.now()));
}

export function recordOpened(slug: string): void {
	update((s) => addOpened(s, slug));
}

export function recordCheck(verdict: { check: string; host: string; status: Status; summary: string }): void {
	update((s) => addCheck(s, verdict, Date.now()));
}

const onTrainingPage = (): boolean => location.pathname.replace(/\/?$/, '/') === TRAINING_PATH;

const BANNER_CSS = `
.rb-training-banner {
	display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 0.75rem;
	padding: 0.5rem var(--sl-nav-pad-x, 1rem);
	background: var(--sl-color-accent-low); color: var(--sl-color-white);
	border-bottom: 1px solid var(--sl-color-accent);
	font-size: var(--sl-text-sm); line-height: 1.4;
}
.rb-training-banner__kicker { font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em; font-size: var(--sl-text-xs); }
.rb-training-banner__brief { flex: 1 1 20rem; }
.rb-training-banner code { font-size: var(--sl-text-code-sm); }
.rb-training-banner a { color: var(--sl-color-white); font-weight: 600; }
@media print { .rb-training-banner { display: none; } }
`;

function showBanner(brief: string, host: string): void {
	if (document.querySelector('.rb-training-banner')) return;
	const style = document.createElement('style');
	style.textContent = BANNER_CSS;
	const banner = document.createElement('aside');
	banner.className = 'rb-training-banner';
	banner.setAttribute('aria-label', 'Training session');
	const kicker = document.createElement('span');
	kicker.className = 'rb-training-banner__kicker';
	kicker.textContent = 'Training';
	const text = document.createElement('span');
	text.className = 'rb-training-banner__brief';
	text.dataset.trainingBrief = '';
	text.textContent = brief;
	const hostLine = document.createElement('span');
	const code = document.createElement('code');
	code.textContent = host;
	hostLine.append('host ', code);
	const back = document.createElement('a');
	back.href = TRAINING_PATH;
	back.dataset.trainingBack = '';
	back.textContent = 'Back to training →';
	banner.append(kicker, text, hostLine, back);
	// At the top of the content column: under the header, clear of the fixed table of contents.
	const column = document.querySelector('main') ?? document.body;
	column.prepend(style, banner);
}

function onLoad(): void {
	const state = readTraining();
	if (!state.active || onTrainingPage()) return;
	const title = document.querySelector('main h1')?.textContent?.trim() ?? document.title;
	writeTraining(addPage(state, location.pathname, title, Date.now()));
	showBanner(state.active.brief, state.active.host);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', onLoad, { once: true });
else onLoad();
