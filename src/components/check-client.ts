/**
 * `<runbook-check>`: the behaviour added to the HTML `Check.astro` renders. Without it the page
 * still shows every command; with it the engineer picks a host, presses Run and reads the verdict
 * under the step.
 *
 * - The host is page state: every check on the page shares it, and it lives in the URL
 *   (`?host=compute01`, kept with `history.replaceState`) so a link pasted in the incident channel
 *   opens the same view.
 * - `GET /api/hosts` fills the picker; `POST /api/checks/<id>/run` answers with NDJSON `RunEvent`
 *   lines (start, progress..., one verdict).
 * - If the API cannot be reached (static hosting, server down) each check says so in one line and
 *   the commands stay as they are.
 * - Server data only ever reaches the DOM as text (`textContent`), never as markup.
 * - Run all (run-all.ts) shares the page host and the rendering exported here, and fills each
 *   block's verdict through `RunbookCheck.begin/show/end`. Inside a `<Step>`, the block marks the
 *   branch its verdict takes (`data-outcome` on the step).
 *
 * Answers are checked by hand-written guards rather than zod: this script is on every runbook page
 * and must stay small.
 */
import { quoteArg } from '../core/argv.ts';
import type { Diagram, Evidence, Facts } from '../core/check.ts';
import { nextHref, parseNext } from '../core/next.ts';
import type { PublicHost } from '../inventory/types.ts';
import type { RunEvent, VerdictRecord } from '../runner/types.ts';
import { recordCheck, trainingHost } from './training-session.ts';

export const STATUSES = ['pass', 'warn', 'fail', 'error', 'skip'] as const;
export type Status = (typeof STATUSES)[number];

const STATUS_TEXT: Record<Status, { icon: string; label: string }> = {
	pass: { icon: '✓', label: 'pass' },
	warn: { icon: '!', label: 'warn' },
	fail: { icon: '✗', label: 'fail' },
	error: { icon: '?', label: 'error' },
	skip: { icon: '–', label: 'skip' },
};

const SOURCE_LABEL: Record<PublicHost['source'], string> = {
	inventory: 'Inventory',
	'ssh-config': '~/.ssh/config',
	adhoc: 'Ad hoc',
	builtin: 'This server',
	scenario: 'Training scenarios',
};

/** Outputs longer than this show their deciding lines first and fold the rest. */
const FOLD_LINES = 15;

export const UNREACHABLE =
	'The check server is not reachable from this page (a static copy, or the server is down): run the commands below by hand.';

export interface ApiError {
	code: string;
	message: string;
	hint?: string;
}

// ---------------------------------------------------------------------------------------------
// Page-level host state, shared by every <runbook-check>.

export type HostsAnswer = { ok: true; hosts: PublicHost[] } | { ok: false; unreachable: boolean; error?: ApiError };

const page = {
	// During a training session the scenario host is the default; a `?host=` link still wins.
	host: new URLSearchParams(location.search).get('host') ?? trainingHost() ?? '',
	listeners: new Set<(host: string) => void>(),
	hosts: undefined as Promise<HostsAnswer> | undefined,
};

/** The host every check on the page runs on (from `?host=`, a picker, or the training session). */
export function pageHost(): string {
	return page.host;
}

export function setHost(name: string): void {
	page.host = name;
	const url = new URL(location.href);
	if (name) url.searchParams.set('host', name);
	else url.searchParams.delete('host');
	history.replaceState(history.state, '', url);
	carryHost();
	for (const l of page.listeners) l(name);
}

/** Call `listener` whenever the page host changes; returns the function that stops it. */
export function onHostChange(listener: (host: string) => void): () => void {
	page.listeners.add(listener);
	return () => page.listeners.delete(listener);
}

/**
 * Links to another runbook marked `data-carry-host` (a step's branch) keep the page host, so the
 * next runbook opens on the same host.
 */
function carryHost(): void {
	for (const a of document.querySelectorAll<HTMLAnchorElement>('a[data-carry-host]')) {
		const url = new URL(a.href, location.href);
		if (page.host) url.searchParams.set('host', page.host);
		else url.searchParams.delete('host');
		a.href = `${url.pathname}${url.search}${url.hash}`;
	}
}

function isPublicHost(x: unknown): x is PublicHost {
	const h = x as PublicHost;
	return typeof h === 'object' && h !== null && typeof h.name === 'string' && typeof h.source === 'string' && typeof h.where === 'string';
}

export function asApiError(x: unknown): ApiError | undefined {
	const e = (x as { error?: ApiError } | null)?.error;
	if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string') return undefined;
	return typeof e.hint === 'string' ? { code: e.code, message: e.message, hint: e.hint } : { code: e.code, message: e.message };
}

export async function readJson(res: Response): Promise<unknown> {
	if (!(res.headers.get('content-type') ?? '').includes('application/json')) return undefined;
	try {
		return await res.json();
	} catch {
		return undefined;
	}
}

export function loadHosts(): Promise<HostsAnswer> {
	page.hosts ??= (async (): Promise<HostsAnswer> => {
		let res: Response;
		try {
			res = await fetch('/api/hosts', { headers: { accept: 'application/json' } });
		} catch {
			return { ok: false, unreachable: true };
		}
		const body = await readJson(res);
		const hosts = (body as { hosts?: unknown } | undefined)?.hosts;
		if (res.ok && Array.isArray(hosts)) return { ok: true, hosts: hosts.filter(isPublicHost) };
		const error = asApiError(body);
		// Anything that is not our API's JSON (an HTML 404 from a static host, a proxy page) means no API.
		return error ? { ok: false, unreachable: false, error } : { ok: false, unreachable: true };
	})();
	return page.hosts;
}

// ---------------------------------------------------------------------------------------------
// Reading the run stream.

export async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
	const reader = body.getReader();
	const decoder = new TextDecoder();
	let buffer = '';
	for (;;) {
		const { value, done } = await reader.read();
		if (done) break;
		buffer += decoder.decode(value, { stream: true });
		for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
			const line = buffer.slice(0, nl).trim();
			buffer = buffer.slice(nl + 1);
			if (line) yield JSON.parse(line);
		}
	}
	buffer += decoder.decode();
	if (buffer.trim()) yield JSON.parse(buffer);
}

function isEvidence(x: unknown): x is Evidence {
	const e = x as Evidence;
	return typeof e === 'object' && e !== null && typeof e.command === 'string' && typeof e.output === 'string' && Array.isArray(e.lines);
}

function isDiagram(x: unknown): x is Diagram {
	const d = x as Diagram;
	return (
		typeof d === 'object' &&
		d !== null &&
		typeof d.title === 'string' &&
		Array.isArray(d.lines) &&
		d.lines.every((l) => typeof l === 'string')
	);
}

export function asVerdict(x: unknown): VerdictRecord | undefined {
	const v = x as VerdictRecord;
	if (typeof v !== 'object' || v === null) return undefined;
	if (!STATUSES.includes(v.status) || typeof v.summary !== 'string' || typeof v.check !== 'string' || typeof v.host !== 'string')
		return undefined;
	return {
		...v,
		facts: typeof v.facts === 'object' && v.facts !== null ? v.facts : {},
		evidence: Array.isArray(v.evidence) ? v.evidence.filter(isEvidence) : [],
		fix: Array.isArray(v.fix) ? v.fix.filter((f): f is string => typeof f === 'string') : undefined,
		diagram: isDiagram(v.diagram) ? v.diagram : undefined,
	} as VerdictRecord;
}

// ---------------------------------------------------------------------------------------------
// DOM building, text only.

export function el<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	props: { class?: string; text?: string } = {},
	...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (props.class) node.className = props.class;
	if (props.text !== undefined) node.textContent = props.text;
	node.append(...children);
	return node;
}

export function badge(status: Status): HTMLElement {
	const { icon, label } = STATUS_TEXT[status];
	const b = el(
		'strong',
		{ class: `rb-badge rb-badge--${status}` },
		el('span', { class: 'rb-badge__icon', text: icon }),
		el('span', { text: label }),
	);
	b.dataset.status = status;
	b.querySelector('.rb-badge__icon')?.setAttribute('aria-hidden', 'true');
	return b;
}

export function formatDuration(ms: number): string {
	return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function factValue(v: Facts[string]): string {
	if (v === null) return '—';
	if (Array.isArray(v)) return v.join(', ');
	return String(v);
}

/** `output` split into lines, without the empty string after a final newline. */
function splitLines(output: string): string[] {
	const lines = output.split('\n');
	if (lines.length > 1 && lines.at(-1) === '') lines.pop();
	return lines;
}

function outputPre(lines: string[], numbers: number[], hits: ReadonlySet<number>): HTMLPreElement {
	const width = String(Math.max(...numbers, 1)).length;
	const pre = el('pre', { class: 'rb-output' });
	numbers.forEach((n, i) => {
		const hit = hits.has(n);
		const row = el(hit ? 'mark' : 'span', { class: hit ? 'rb-output__line rb-output__line--hit' : 'rb-output__line' });
		row.append(el('span', { class: 'rb-output__no', text: String(n).padStart(width, ' ') }), lines[i] ?? '');
		row.querySelector('.rb-output__no')?.setAttribute('aria-hidden', 'true');
		pre.append(row, i < numbers.length - 1 ? '\n' : '');
	});
	return pre;
}

function evidenceBlock(ev: Evidence): HTMLElement {
	const fig = el('figure', { class: 'rb-evidence' });
	const caption = el(
		'figcaption',
		{ class: 'rb-evidence__cmd' },
		el('span', { class: 'rb-evidence__prompt', text: '$' }),
		el('code', { text: ev.command }),
	);
	if (ev.code !== undefined && ev.code !== 0)
		caption.append(el('span', { class: 'rb-evidence__exit', text: ev.code === null ? 'killed by a signal' : `exit ${ev.code}` }));
	if (ev.truncated) caption.append(el('span', { class: 'rb-evidence__exit', text: 'output cut' }));
	fig.append(caption);

	const lines = splitLines(ev.output);
	const hits = new Set(ev.lines.filter((n) => Number.isInteger(n) && n >= 1 && n <= lines.length));
	const all = lines.map((_, i) => i + 1);
	if (ev.output === '') {
		fig.append(el('p', { class: 'rb-evidence__empty', text: '(no output)' }));
	} else if (lines.length <= FOLD_LINES) {
		fig.append(outputPre(lines, all, hits));
	} else {
		const deciding = [...hits].sort((a, b) => a - b);
		if (deciding.length > 0) {
			fig.append(
				el('p', { class: 'rb-evidence__note', text: `Deciding line${deciding.length > 1 ? 's' : ''} of ${lines.length}:` }),
				outputPre(
					deciding.map((n) => lines[n - 1] ?? ''),
					deciding,
					hits,
				),
			);
		}
		const details = el(
			'details',
			{ class: 'rb-evidence__full' },
			el('summary', { text: `Full output (${lines.length} lines)` }),
			outputPre(lines, all, hits),
		);
		fig.append(details);
	}
	return fig;
}

async function copyText(text: string, source: HTMLElement): Promise<boolean> {
	try {
		await navigator.clipboard.writeText(text);
		return true;
	} catch {
		// No clipboard API outside a secure context (plain http to a remote name): select the text instead.
		const range = document.createRange();
		range.selectNodeContents(source);
		const sel = getSelection();
		sel?.removeAllRanges();
		sel?.addRange(range);
		return false;
	}
}

export function fixBlock(fix: string[]): HTMLElement {
	const box = el(
		'div',
		{ class: 'rb-fix' },
		el('p', { class: 'rb-verdict__label', text: 'Fix: review, then run by hand (never run from here)' }),
	);
	for (const cmd of fix) {
		const code = el('code', { text: cmd });
		const button = el('button', { class: 'rb-copy', text: 'Copy' });
		button.type = 'button';
		button.setAttribute('aria-label', `Copy: ${cmd}`);
		button.addEventListener('click', async () => {
			const copied = await copyText(cmd, code);
			button.textContent = copied ? 'Copied' : 'Selected: press Ctrl+C';
			setTimeout(() => (button.textContent = 'Copy'), 2000);
		});
		box.append(el('div', { class: 'rb-fix__row' }, el('pre', {}, code), button));
	}
	return box;
}

/** Name/value pairs in a grid of columns: a check may rest on twenty numbers and they should not push the evidence off screen. */
function factsList(facts: Facts): HTMLElement | undefined {
	const entries = Object.entries(facts);
	if (entries.length === 0) return undefined;
	const list = el('dl', { class: 'rb-facts__list' });
	for (const [k, v] of entries)
		list.append(el('div', { class: 'rb-facts__item' }, el('dt', {}, el('code', { text: k })), el('dd', { text: factValue(v) })));
	return el('div', { class: 'rb-facts' }, el('p', { class: 'rb-verdict__label', text: 'Facts' }), list);
}

/** A picture drawn from the facts: monospace lines, the marked ones highlighted like evidence lines. */
function diagramView(d: Diagram): HTMLElement {
	const pre = el('pre', { class: 'rb-output rb-diagram' });
	d.lines.forEach((line, i) => {
		const marked = d.marked?.includes(i + 1) === true;
		pre.append(
			el(marked ? 'mark' : 'span', { class: marked ? 'rb-output__line rb-output__line--hit' : 'rb-output__line', text: line }),
			i < d.lines.length - 1 ? '\n' : '',
		);
	});
	return el('div', { class: 'rb-diagram-wrap' }, el('p', { class: 'rb-verdict__label', text: d.title }), pre);
}

/** `##` headings that are not steps: the rule of `NOT_STEPS` in steps.ts, which this bundle cannot import (it reads files). */
const NOT_STEPS = ['what-you-see', 'sources'];

/**
 * The step `anchor` is, or belongs to, on this page, numbered as steps.ts and runbook.css number
 * them; null on a page without `<Step>`s or for a heading outside the steps.
 */
function stepOf(anchor: string): { step: number; title: string } | null {
	const content = document.querySelector('.sl-markdown-content');
	if (!content?.querySelector('.rb-step')) return null;
	let step = 0;
	let current: { step: number; title: string } | null = null;
	for (const h of content.querySelectorAll<HTMLElement>(':scope > h2, :scope > h3, :scope > h4')) {
		if (h.tagName === 'H2') current = NOT_STEPS.includes(h.id) ? null : { step: ++step, title: h.textContent?.trim() ?? '' };
		if (h.id === anchor) {
			if (!current) return null;
			const own = h.textContent?.trim() ?? '';
			return { step: current.step, title: h.tagName === 'H2' ? own : `${current.title}: ${own}` };
		}
	}
	return null;
}

/** `step 5 (Raise the limit)` for an anchor of this page; its heading text, or the anchor, without steps. */
export function anchorLabel(anchor: string): string {
	const s = stepOf(anchor);
	if (s) return `step ${s.step} (${s.title})`;
	return document.getElementById(anchor)?.textContent?.trim() || anchor;
}

function nextLink(next: string): HTMLElement {
	const { slug, anchor } = parseNext(next);
	const here = location.pathname.replace(/^\/|\/$/g, '');
	const samePage = slug === undefined || slug === here;
	const label = samePage ? anchorLabel(anchor) : `${slug}: ${anchor.replaceAll('-', ' ')}`;
	const a = el('a', { text: `Next: ${label} →` });
	a.href = samePage ? `#${anchor}` : `${nextHref(next)}${location.search}`;
	return el('p', { class: 'rb-verdict__next' }, a);
}

function verdictView(v: VerdictRecord): HTMLElement {
	const status = v.status as Status;
	const section = el('section', { class: `rb-verdict rb-verdict--${status}` });
	section.dataset.host = v.host;
	section.dataset.status = status;
	section.setAttribute('aria-label', `Verdict of ${v.check} on ${v.host}: ${status}`);

	section.append(el('p', { class: 'rb-verdict__head' }, badge(status), el('span', { class: 'rb-verdict__summary', text: v.summary })));

	const meta = el('p', { class: 'rb-verdict__meta' }, 'on ', el('strong', { text: v.host }), ` · ${formatDuration(v.durationMs ?? 0)}`);
	if (v.hostKey) meta.append(' · host key ', el('code', { text: v.hostKey }));
	section.append(meta);
	section.append(el('p', { class: 'rb-verdict__stale', text: '' }));

	if (status === 'error' && (v.code || v.hint)) {
		const err = el('p', { class: 'rb-verdict__error' });
		if (v.code) err.append(el('code', { text: v.code }), ' ');
		if (v.hint) err.append(v.hint);
		section.append(err);
	}
	if (v.fix && v.fix.length > 0) section.append(fixBlock(v.fix));
	if (v.next) section.append(nextLink(v.next));
	if (v.diagram) section.append(diagramView(v.diagram));
	const facts = factsList(v.facts);
	if (facts) section.append(facts);
	if (v.evidence.length > 0) {
		section.append(el('p', { class: 'rb-verdict__label', text: 'Evidence' }), ...v.evidence.map(evidenceBlock));
	}
	return section;
}

export function invocationErrorView(e: ApiError): HTMLElement {
	const section = el('section', { class: 'rb-verdict rb-verdict--error' });
	section.setAttribute('aria-label', `Could not run: ${e.code}`);
	section.append(
		el(
			'p',
			{ class: 'rb-verdict__head' },
			badge('error'),
			el('span', { class: 'rb-verdict__summary', text: `Could not run: ${e.message}` }),
		),
	);
	const err = el('p', { class: 'rb-verdict__error' }, el('code', { text: e.code }));
	if (e.hint) err.append(' ', e.hint);
	section.append(err);
	return section;
}

/**
 * Options for a host `<select>`: a placeholder, `current` first when no source lists it (a
 * `?host=` link to a host this server does not know), then the hosts grouped by source.
 */
export function hostOptions(
	hosts: readonly PublicHost[],
	current: string,
	placeholder: string,
): (HTMLOptionElement | HTMLOptGroupElement)[] {
	const first = el('option', { text: hosts.length > 0 ? placeholder : 'No hosts configured' });
	first.value = '';
	const options: (HTMLOptionElement | HTMLOptGroupElement)[] = [first];
	if (current && !hosts.some((h) => h.name === current)) {
		const fromLink = el('option', { text: `${current} (from the link)` });
		fromLink.value = current;
		options.push(fromLink);
	}
	for (const source of Object.keys(SOURCE_LABEL) as PublicHost['source'][]) {
		const group = hosts.filter((h) => h.source === source);
		if (group.length === 0) continue;
		const og = el('optgroup');
		og.label = SOURCE_LABEL[source];
		for (const h of group) {
			const shown = h.where === h.name || h.where === 'scenario' || h.where === 'local' ? h.name : `${h.name} (${h.where})`;
			const o = el('option', { text: h.platform === 'linux' ? shown : `${shown} · ${h.platform}` });
			o.value = h.name;
			og.append(o);
		}
		options.push(og);
	}
	return options;
}

// ---------------------------------------------------------------------------------------------

/**
 * One check block. Besides its own Run, it takes verdicts from Run all (run-all.ts): `begin()` while
 * its turn comes, `say()` for progress, `show()` for the verdict, `end()` when the run is over.
 */
export class RunbookCheck extends HTMLElement {
	#checkId = '';
	#params: unknown = {};
	#running = false;
	#picker!: HTMLSelectElement;
	#run!: HTMLButtonElement;
	#live!: HTMLElement;
	#clock!: HTMLElement;
	#result!: HTMLElement;
	#offline!: HTMLElement;
	#cliHost: HTMLElement | null = null;
	#onHost = (host: string) => this.#showHost(host);

	get checkId(): string {
		return this.#checkId;
	}

	connectedCallback(): void {
		if (this.#checkId) return;
		this.#checkId = this.dataset.check ?? '';
		try {
			this.#params = JSON.parse(this.dataset.params ?? '{}');
		} catch {
			this.#params = {};
		}
		const q = <T extends Element>(sel: string) => this.querySelector<T>(sel)!;
		this.#picker = q('[data-host-picker]');
		this.#run = q('[data-run]');
		this.#live = q('[data-live]');
		this.#clock = q('[data-clock]');
		this.#result = q('[data-result]');
		this.#offline = q('[data-offline]');
		this.#cliHost = this.querySelector('[data-cli-host]');
		q<HTMLElement>('[data-controls]').hidden = false;

		this.#picker.addEventListener('change', () => setHost(this.#picker.value));
		this.#run.addEventListener('click', () => void this.run());
		for (const input of this.querySelectorAll<HTMLInputElement>('input[data-param]'))
			input.addEventListener('keydown', (e) => {
				if (e.key === 'Enter') void this.run();
			});
		page.listeners.add(this.#onHost);
		this.#showHost(page.host);
		carryHost();
		void this.#fillPicker();
	}

	disconnectedCallback(): void {
		page.listeners.delete(this.#onHost);
	}

	async #fillPicker(): Promise<void> {
		const answer = await loadHosts();
		if (!answer.ok) {
			this.querySelector<HTMLElement>('[data-controls]')!.hidden = true;
			this.#offline.hidden = false;
			this.#offline.textContent = answer.unreachable
				? UNREACHABLE
				: `Hosts could not be listed: ${answer.error?.code}: ${answer.error?.message}${answer.error?.hint ? ` ${answer.error.hint}` : ''}`;
			return;
		}
		this.#picker.replaceChildren(...hostOptions(answer.hosts, page.host, 'Choose a host…'));
		this.#picker.disabled = false;
		this.#showHost(page.host);
	}

	#showHost(host: string): void {
		if (this.#picker.value !== host && [...this.#picker.options].some((o) => o.value === host)) this.#picker.value = host;
		this.#run.disabled = this.#running || host === '' || this.#picker.disabled;
		if (this.#cliHost) this.#cliHost.textContent = host ? quoteArg(host) : 'HOST';
		const shown = this.#result.querySelector<HTMLElement>('.rb-verdict');
		const stale = shown?.querySelector<HTMLElement>('.rb-verdict__stale');
		if (shown?.dataset.host && stale) {
			const isStale = shown.dataset.host !== host;
			shown.classList.toggle('rb-verdict--is-stale', isStale);
			stale.textContent = isStale
				? `This result is for ${shown.dataset.host}, not the host now selected; press Run to check ${host || 'another host'}.`
				: '';
		}
		this.#markStep();
	}

	/** The step around this block shows which branch the verdicts now shown take (none when stale). */
	#markStep(): void {
		const step = this.closest<HTMLElement>('.rb-step');
		if (!step) return;
		const shown = [...step.querySelectorAll<HTMLElement>('.rb-verdict[data-status]:not(.rb-verdict--is-stale)')].map(
			(v) => v.dataset.status as Status,
		);
		const order: Status[] = ['error', 'fail', 'warn', 'pass', 'skip'];
		const outcome = order.find((s) => shown.includes(s));
		if (outcome) step.dataset.outcome = outcome;
		else delete step.dataset.outcome;
	}

	/** Progress text beside the Run button. */
	say(message: string): void {
		this.#live.textContent = message;
	}

	/**
	 * The parameters as the reader left them in the inputs, typed as the schema declares (the server
	 * validates them again); the runbook's example values when the block has no inputs.
	 */
	currentParams(): Record<string, unknown> {
		const inputs = [...this.querySelectorAll<HTMLInputElement>('input[data-param]')];
		if (inputs.length === 0)
			return typeof this.#params === 'object' && this.#params !== null ? (this.#params as Record<string, unknown>) : {};
		const out: Record<string, unknown> = {};
		for (const input of inputs) {
			const name = input.dataset.param!;
			const raw = input.value.trim();
			if (raw === '') continue;
			const kind = input.dataset.kind;
			if (kind === 'number' && Number.isFinite(Number(raw))) out[name] = Number(raw);
			else if (kind === 'boolean' && (raw === 'true' || raw === 'false')) out[name] = raw === 'true';
			else if (kind === 'array')
				out[name] = raw
					.split(',')
					.map((x) => x.trim())
					.filter(Boolean);
			else out[name] = raw;
		}
		return out;
	}

	/** Taken over by Run all: its own Run waits, the old verdict goes, `message` says what is coming. */
	begin(message: string): void {
		this.#running = true;
		this.#run.disabled = true;
		this.setAttribute('aria-busy', 'true');
		this.#result.replaceChildren();
		this.#offline.hidden = true;
		this.#markStep();
		this.say(message);
	}

	/**
	 * Show `v` under the step, as if Run had been pressed here; a training session records it unless
	 * `record` is false (a verdict shown again, not run again).
	 */
	show(v: VerdictRecord, note?: string, record = true): void {
		if (record) recordCheck(v);
		const view = verdictView(v);
		if (note) view.querySelector('.rb-verdict__meta')?.append(` · ${note}`);
		this.#result.replaceChildren(view);
		this.say(`Done: ${v.status}.`);
		this.#showHost(page.host);
	}

	/** Run all is over for this block; `message` replaces the progress text when given. */
	end(message?: string): void {
		this.#running = false;
		this.removeAttribute('aria-busy');
		this.#run.textContent = 'Run again';
		if (message !== undefined) this.say(message);
		this.#showHost(page.host);
	}

	/** Run the check on the selected host and show its verdict under the step. */
	async run(): Promise<void> {
		const host = page.host;
		if (this.#running || !host) return;
		this.#running = true;
		this.#run.disabled = true;
		this.#run.textContent = 'Running…';
		this.setAttribute('aria-busy', 'true');
		this.#result.replaceChildren();
		this.#markStep();
		const started = performance.now();
		const tick = setInterval(() => (this.#clock.textContent = formatDuration(performance.now() - started)), 250);
		this.say(`Connecting to ${host}…`);
		try {
			await this.#stream(host);
		} finally {
			clearInterval(tick);
			this.#clock.textContent = '';
			this.#running = false;
			this.#run.textContent = 'Run again';
			this.removeAttribute('aria-busy');
			this.#showHost(page.host);
		}
	}

	async #stream(host: string): Promise<void> {
		let res: Response;
		try {
			res = await fetch(`/api/checks/${encodeURIComponent(this.#checkId)}/run`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
				body: JSON.stringify({ host, params: this.currentParams() }),
			});
		} catch {
			this.say('');
			this.#offline.hidden = false;
			this.#offline.textContent = UNREACHABLE;
			return;
		}
		if (!res.ok || !res.body) {
			const error = asApiError(await readJson(res));
			this.say('');
			if (error) this.#result.replaceChildren(invocationErrorView(error));
			else {
				this.#offline.hidden = false;
				this.#offline.textContent = `The check server answered HTTP ${res.status} instead of running the check: run the commands below by hand.`;
			}
			return;
		}
		this.#offline.hidden = true;
		let verdict: VerdictRecord | undefined;
		try {
			for await (const line of ndjsonLines(res.body)) {
				const event = line as RunEvent;
				if (event.type === 'start')
					this.say(`Running ${event.probes.length} probe${event.probes.length === 1 ? '' : 's'} on ${event.host}…`);
				else if (event.type === 'progress')
					this.say(`${event.message}${event.fraction === undefined ? '' : ` (${Math.round(event.fraction * 100)} %)`}`);
				else if (event.type === 'verdict') verdict = asVerdict(event.verdict);
			}
		} catch {
			// A dropped connection or a garbled line: say so below, with whatever arrived.
		}
		if (verdict) {
			this.show(verdict);
		} else {
			this.say('');
			this.#offline.hidden = false;
			this.#offline.textContent =
				'The connection to the check server ended before a verdict arrived: run the commands below by hand, or run again.';
		}
	}
}

if (!customElements.get('runbook-check')) customElements.define('runbook-check', RunbookCheck);
