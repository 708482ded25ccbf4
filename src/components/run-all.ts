/**
 * `<run-all>`: the behaviour added to the HTML `RunAll.astro` renders. One button runs every check
 * of the runbook, in step order, on the page host or on several hosts, and says what is wrong.
 *
 * - Hosts: a comma list (host names, `user@address:port`, inventory groups), filled with the page
 *   host (`?host=`, shared with every check block) and kept in step with it while it names one host;
 *   "Add a host…" appends from `GET /api/hosts`. Running on one host makes it the page host.
 * - `POST /api/runbooks/<slug>/run` with `{hosts, params}`, each check's params read from its block's
 *   inputs as its own Run would send them. The NDJSON answer is the runner's events (per check and
 *   host: start, progress, verdict), then one `diagnosis` (one host) or `fleet` (several) line.
 * - Live: which check runs on which host, done/total, and each verdict in its own check block as if
 *   Run had been pressed there (with several hosts, the page host's if it is one of them, else the
 *   first host's; a grid cell shows another's).
 * - Then the summary at the top: the likely cause, its deciding lines, the step its verdicts lead to
 *   (followed through the steps of other checks that ran: `followVerdicts`) with the fix commands,
 *   what was ruled out, what could not decide, related runbooks when everything passed; for several
 *   hosts the count line, the host by check grid with outliers marked, identical outputs grouped.
 * - Incident notes (src/diagnosis/notes.ts) to copy, with the operator's name asked once and kept in
 *   localStorage (`runbook-kb:operator`, default "on-call"); nothing else about the user.
 * - Re-run to verify: the last run per (runbook, host set) is kept in localStorage
 *   (`runbook-kb:runs`). A new run is compared with the previous run of this runbook in this browser
 *   whatever its hosts, since "broken host, fix, run again" and "broken host, then its healthy twin"
 *   both ask what changed; when the hosts differ the comparison names both, and adds the comparison
 *   with the last run on the same hosts when there is one.
 *
 * Server data reaches the DOM only as text. Storage may be missing or full: then nothing is kept
 * and nothing breaks.
 */
import { nextHref } from '../core/next.ts';
import { incidentNotes } from '../diagnosis/notes.ts';
import type { DecidingEvidence, Diagnosis, FleetDiagnosis } from '../diagnosis/types.ts';
import type { PublicHost } from '../inventory/types.ts';
import type { RunEvent, VerdictRecord } from '../runner/types.ts';
import {
	anchorLabel,
	asApiError,
	asVerdict,
	badge,
	el,
	fixBlock,
	formatDuration,
	hostOptions,
	invocationErrorView,
	loadHosts,
	ndjsonLines,
	onHostChange,
	pageHost,
	readJson,
	RunbookCheck,
	setHost,
	STATUSES,
	UNREACHABLE,
	type Status,
} from './check-client.ts';

interface Outline {
	slug: string;
	title: string;
	checks: { id: string; title: string; step: number | null; anchor: string | null; stepTitle: string | null }[];
	related: { slug: string; title: string; href: string }[];
	/** Per site-relative link a verdict may point to, its label ("step 5 (Raise the limit)") and runbook when another. */
	targets: Record<string, { label: string; runbook: string | null }>;
}

const OPERATOR_KEY = 'runbook-kb:operator';
const RUNS_KEY = 'runbook-kb:runs';
const DEFAULT_OPERATOR = 'on-call';
/** Runs kept across all runbooks; the oldest go first. */
const MAX_RUNS = 50;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------------
// Storage: the operator's name and the last runs.

/** A login name or a role: one line, at most 64 characters; anything else is cut. */
function cleanOperator(raw: string): string {
	return raw.replace(/\s+/g, ' ').trim().slice(0, 64);
}

function readOperator(): string {
	try {
		return cleanOperator(localStorage.getItem(OPERATOR_KEY) ?? '') || DEFAULT_OPERATOR;
	} catch {
		return DEFAULT_OPERATOR;
	}
}

function writeOperator(name: string): void {
	try {
		localStorage.setItem(OPERATOR_KEY, name);
	} catch {
		// Not kept; the notes still use it for this page.
	}
}

/** One run as kept for comparison: its statuses only (host -> check -> status). */
interface StoredRun {
	runbook: string;
	/** As run, in order; compared as a set. */
	hosts: string[];
	at: number;
	cells: Record<string, Record<string, Status>>;
}

const hostSet = (hosts: readonly string[]) => [...new Set(hosts)].sort().join('\n');

function isStoredRun(x: unknown): x is StoredRun {
	const r = x as StoredRun;
	return (
		typeof r === 'object' &&
		r !== null &&
		typeof r.runbook === 'string' &&
		typeof r.at === 'number' &&
		Array.isArray(r.hosts) &&
		r.hosts.every((h) => typeof h === 'string') &&
		typeof r.cells === 'object' &&
		r.cells !== null &&
		Object.values(r.cells).every(
			(row) =>
				typeof row === 'object' && row !== null && Object.values(row).every((s) => (STATUSES as readonly string[]).includes(s as string)),
		)
	);
}

function readRuns(): StoredRun[] {
	try {
		const parsed = JSON.parse(localStorage.getItem(RUNS_KEY) ?? '[]') as unknown;
		return Array.isArray(parsed) ? parsed.filter(isStoredRun) : [];
	} catch {
		return [];
	}
}

/** Keep `run` as the last one for its (runbook, host set). */
function keepRun(run: StoredRun): void {
	const runs = readRuns().filter((r) => !(r.runbook === run.runbook && hostSet(r.hosts) === hostSet(run.hosts)));
	runs.push(run);
	try {
		localStorage.setItem(RUNS_KEY, JSON.stringify(runs.slice(-MAX_RUNS)));
	} catch {
		// Not kept: the next run has nothing to compare with.
	}
}

// ---------------------------------------------------------------------------------------------
// Comparing two runs.

interface Change {
	/** Set when the runs are compared host by host. */
	host?: string;
	check: string;
	from: Status | null;
	to: Status | null;
}

interface Comparison {
	since: StoredRun;
	now: StoredRun;
	/** Both runs name the same hosts. */
	sameHosts: boolean;
	changes: Change[];
	unchanged: number;
	/** Hosts of one run only (when the runs are compared host by host). */
	added: string[];
	gone: string[];
}

/**
 * What changed from `since` to `now`. Two single-host runs compare check by check, whatever their
 * hosts; otherwise the hosts both runs have compare check by check, and the others are listed.
 */
function compareRuns(since: StoredRun, now: StoredRun, checkOrder: readonly string[]): Comparison {
	const order = (ids: Iterable<string>) => [...new Set(ids)].sort((a, b) => rank(a) - rank(b));
	const rank = (id: string) => (checkOrder.includes(id) ? checkOrder.indexOf(id) : checkOrder.length);
	const changes: Change[] = [];
	let unchanged = 0;
	const diff = (a: Record<string, Status>, b: Record<string, Status>, host?: string) => {
		for (const check of order([...Object.keys(a), ...Object.keys(b)])) {
			const from = a[check] ?? null;
			const to = b[check] ?? null;
			if (from === to) unchanged++;
			else changes.push(host === undefined ? { check, from, to } : { host, check, from, to });
		}
	};
	const single = since.hosts.length === 1 && now.hosts.length === 1;
	let added: string[] = [];
	let gone: string[] = [];
	if (single) diff(since.cells[since.hosts[0]!] ?? {}, now.cells[now.hosts[0]!] ?? {});
	else {
		for (const h of now.hosts) if (since.hosts.includes(h)) diff(since.cells[h] ?? {}, now.cells[h] ?? {}, h);
		added = now.hosts.filter((h) => !since.hosts.includes(h));
		gone = since.hosts.filter((h) => !now.hosts.includes(h));
	}
	return { since, now, sameHosts: hostSet(since.hosts) === hostSet(now.hosts), changes, unchanged, added, gone };
}

function when(at: number): string {
	const d = new Date(at);
	const today = new Date().toDateString() === d.toDateString();
	return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : d.toLocaleString();
}

const hostsText = (hosts: readonly string[]) => hosts.join(', ');

function changeText(c: Change): string {
	return `${c.host ? `${c.host} · ` : ''}${c.check}: ${c.from ?? 'not run'} → ${c.to ?? 'not run'}`;
}

function comparisonHead(c: Comparison): string {
	return c.sameHosts
		? `Since the last run on ${hostsText(c.now.hosts)} (${when(c.since.at)})`
		: `Since the last run on this page: ${hostsText(c.since.hosts)} (${when(c.since.at)}) → ${hostsText(c.now.hosts)} (now)`;
}

function comparisonView(c: Comparison, sameHosts: Comparison | null): HTMLElement {
	const box = el('section', { class: 'rb-compare' });
	box.setAttribute('aria-label', 'What changed since the last run');
	box.append(el('p', { class: 'rb-compare__head', text: `${comparisonHead(c)}:` }));
	if (!c.sameHosts)
		box.append(
			el('p', {
				class: 'rb-compare__note',
				text: 'Another host than last time: a change may be the difference between the hosts, not a fix.',
			}),
		);
	const list = (comparison: Comparison) => {
		if (comparison.changes.length === 0)
			return el('p', { class: 'rb-compare__same', text: 'Nothing changed: every check gave the same verdict.' });
		const ul = el('ul', { class: 'rb-compare__list' });
		for (const ch of comparison.changes) {
			const li = el('li', {}, ...(ch.host ? [el('strong', { text: ch.host }), ' · '] : []), el('code', { text: ch.check }), ': ');
			const word = (s: Status | null) =>
				el('span', { class: `rb-compare__status rb-compare__status--${s ?? 'none'}`, text: s ?? 'not run' });
			li.append(word(ch.from), ' → ', word(ch.to));
			ul.append(li);
		}
		return ul;
	};
	box.append(list(c));
	const rest = [
		...(c.changes.length && c.unchanged ? [`${plural(c.unchanged, 'verdict')} unchanged.`] : []),
		...(c.added.length ? [`Not in the last run: ${hostsText(c.added)}.`] : []),
		...(c.gone.length ? [`Not run this time: ${hostsText(c.gone)}.`] : []),
	];
	if (rest.length) box.append(el('p', { class: 'rb-compare__note', text: rest.join(' ') }));
	if (sameHosts) {
		box.append(el('p', { class: 'rb-compare__head', text: `${comparisonHead(sameHosts)}:` }), list(sameHosts));
	}
	return box;
}

function comparisonMarkdown(c: Comparison, sameHosts: Comparison | null): string {
	const part = (x: Comparison) => [
		`${comparisonHead(x)}:`,
		'',
		...(x.changes.length ? x.changes.map((ch) => `- ${changeText(ch)}`) : ['- nothing changed']),
	];
	const out = ['', '### What changed', '', ...part(c)];
	if (sameHosts) out.push('', ...part(sameHosts));
	return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Reading the answer.

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const isStatus = (x: unknown): x is Status => (STATUSES as readonly unknown[]).includes(x);

function asDiagnosis(x: unknown): Diagnosis | undefined {
	if (!isObject(x) || typeof x.host !== 'string' || typeof x.headline !== 'string' || !isStatus(x.status)) return undefined;
	const lists = ['steps', 'alsoFound', 'ruledOut', 'skipped', 'undecided', 'tryNext'];
	return lists.every((k) => Array.isArray(x[k])) ? (x as unknown as Diagnosis) : undefined;
}

function asFleet(x: unknown): FleetDiagnosis | undefined {
	if (!isObject(x) || typeof x.summary !== 'string' || !isStatus(x.status)) return undefined;
	if (!['checks', 'grid', 'groups', 'outliers', 'hosts'].every((k) => Array.isArray(x[k]))) return undefined;
	return (x.hosts as unknown[]).every((d) => asDiagnosis(d) !== undefined) ? (x as unknown as FleetDiagnosis) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rendering the summary.

/** The deciding lines under the command that printed each, in one block: `$ command`, then `  n | line`. */
function decidingView(evidence: readonly DecidingEvidence[]): HTMLElement[] {
	if (evidence.length === 0) return [];
	const width = String(Math.max(1, ...evidence.flatMap((e) => e.lines.map((l) => l.n)))).length;
	const pre = el('pre', { class: 'rb-output rb-deciding' });
	evidence.forEach((e, i) => {
		const cmd = el(
			'span',
			{ class: 'rb-output__line rb-deciding__cmd' },
			el('span', { class: 'rb-evidence__prompt', text: '$ ' }),
			e.command,
		);
		if (e.code !== undefined && e.code !== 0)
			cmd.append(el('span', { class: 'rb-evidence__exit', text: e.code === null ? 'killed by a signal' : `exit ${e.code}` }));
		if (e.truncated) cmd.append(el('span', { class: 'rb-evidence__exit', text: 'output cut' }));
		pre.append(cmd, '\n');
		e.lines.forEach((l, j) => {
			const row = el(
				'mark',
				{ class: 'rb-output__line rb-output__line--hit' },
				el('span', { class: 'rb-output__no', text: String(l.n).padStart(width, ' ') }),
				l.text,
			);
			row.querySelector('.rb-output__no')?.setAttribute('aria-hidden', 'true');
			pre.append(row, i < evidence.length - 1 || j < e.lines.length - 1 ? '\n' : '');
		});
	});
	return [pre];
}

function targetLink(outline: Outline, href: string, prefix: string): HTMLElement {
	const here = `/${outline.slug}/#`;
	const known = outline.targets[href];
	const a = el('a');
	if (href.startsWith(here)) {
		const anchor = href.slice(here.length);
		a.href = `#${anchor}`;
		a.textContent = `${prefix}${known?.label ?? anchorLabel(anchor)} →`;
	} else {
		a.href = `${href.replace(/#.*$/, '')}${location.search}${href.replace(/^[^#]*/, '')}`;
		a.textContent = `${prefix}${known ? `“${known.runbook ?? ''}”, ${known.label}` : href} →`;
	}
	return a;
}

function stepLink(outline: Outline, check: string): HTMLElement | string {
	const c = outline.checks.find((x) => x.id === check);
	if (!c?.anchor) return '';
	const a = el('a', { class: 'rb-diagnosis__verdict-link', text: `verdict under step ${c.step}` });
	a.href = `#${c.anchor}`;
	return a;
}

function noteList(
	outline: Outline,
	label: string,
	items: readonly { check: string; title: string; summary: string; status?: Status; code?: string; hint?: string }[],
	status: Status,
): HTMLElement | null {
	if (items.length === 0) return null;
	const ul = el('ul', { class: 'rb-diagnosis__list' });
	for (const x of items) {
		const li = el(
			'li',
			{},
			badge(x.status ?? status),
			' ',
			el('strong', { text: x.title }),
			' ',
			el('code', { class: 'rb-check__id', text: x.check }),
			' · ',
			stepLink(outline, x.check),
		);
		li.append(el('span', { class: 'rb-diagnosis__summary', text: x.summary }));
		if (x.code || x.hint) {
			const err = el('span', { class: 'rb-verdict__error' });
			if (x.code) err.append(el('code', { text: x.code }), ' ');
			if (x.hint) err.append(x.hint);
			li.append(err);
		}
		ul.append(li);
	}
	return el('div', { class: 'rb-diagnosis__part' }, el('p', { class: 'rb-verdict__label', text: `${label} (${items.length})` }), ul);
}

/**
 * Where following the verdicts from `start` leads, as a reader would: its `next`, and while that is
 * the step of another check that ran, that check's verdict and its `next`, until a step without a
 * check (usually the fix). The diagnosis names the first fail as the likely cause; this shows where
 * the runbook sends the reader from there (a symptom check points to the check that finds the cause).
 */
function followVerdicts(
	outline: Outline,
	verdicts: ReadonlyMap<string, VerdictRecord>,
	start: string,
): { route: VerdictRecord[]; href: string | null; fix: string[] } {
	const checkAt = new Map(outline.checks.filter((c) => c.anchor).map((c) => [`/${outline.slug}/#${c.anchor}`, c.id]));
	const route: VerdictRecord[] = [];
	for (let v = verdicts.get(start); v && !route.includes(v);) {
		route.push(v);
		const href = v.next ? nextHref(v.next, outline.slug) : null;
		const next = href ? checkAt.get(href) : undefined;
		if (!href || !next || !verdicts.has(next)) return { route, href, fix: v.fix ?? [] };
		v = verdicts.get(next);
	}
	const last = route.at(-1);
	return { route, href: last?.next ? nextHref(last.next, outline.slug) : null, fix: last?.fix ?? [] };
}

function diagnosisView(
	d: Diagnosis,
	outline: Outline,
	extra: { durationMs?: number; compare?: HTMLElement | null; verdicts?: ReadonlyMap<string, VerdictRecord> } = {},
): HTMLElement {
	const box = el('section', { class: `rb-diagnosis rb-diagnosis--${d.status}` });
	box.dataset.status = d.status;
	box.dataset.host = d.host;
	box.setAttribute('aria-label', `Diagnosis on ${d.host}`);
	const c = d.likelyCause;
	const head = el('p', { class: 'rb-diagnosis__head' }, badge(d.status));
	if (c)
		head.append(
			el('span', { class: 'rb-diagnosis__title' }, 'Likely cause: ', el('strong', { text: c.title }), ' ', el('code', { text: c.check })),
		);
	else if (d.undecided.length)
		head.append(
			el('span', {
				class: 'rb-diagnosis__title',
				text: `No cause found, but ${plural(d.undecided.length, 'check')} could not decide: the cause may hide there`,
			}),
		);
	else if (d.steps.length && d.ruledOut.length === 0)
		head.append(el('span', { class: 'rb-diagnosis__title', text: 'No check of this runbook applies to this host' }));
	else head.append(el('span', { class: 'rb-diagnosis__title', text: 'Every check passed: the cause is elsewhere' }));
	box.append(head);

	const meta = el('p', { class: 'rb-verdict__meta' }, 'on ', el('strong', { text: d.host }));
	if (d.hostKey) meta.append(' · host key ', el('code', { text: d.hostKey }));
	meta.append(` · ${plural(d.steps.length, 'check')}`);
	if (extra.durationMs !== undefined) meta.append(` in ${formatDuration(extra.durationMs)}`);
	if (d.probeCacheHits) meta.append(` · ${plural(d.probeCacheHits, 'probe')} answered from the run's cache`);
	box.append(meta);
	if (extra.compare) box.append(extra.compare);

	if (c) {
		box.append(
			el(
				'p',
				{ class: 'rb-diagnosis__cause' },
				el('span', { class: 'rb-verdict__summary', text: c.summary }),
				' ',
				stepLink(outline, c.check),
			),
		);
		// The diagnosis already followed the verdicts to its cause (c.route); start the page's route where it started.
		const followed = extra.verdicts ? followVerdicts(outline, extra.verdicts, c.route?.[0] ?? c.check) : null;
		const end = followed?.route.at(-1);
		const href = followed ? followed.href : (d.fixStep?.href ?? null);
		const fix = followed ? followed.fix : (d.fixStep?.fix ?? []);
		const fixing = !end || end.status === 'fail' || end.status === 'warn';
		if (href) box.append(el('p', { class: 'rb-diagnosis__fix' }, targetLink(outline, href, fixing ? 'Fix: go to ' : 'Next: go to ')));
		else box.append(el('p', { class: 'rb-diagnosis__fix', text: 'The verdict names no step to go to: read its step in full.' }));
		if (followed && followed.route.length > 1) {
			const route = el('p', { class: 'rb-diagnosis__route' }, 'Following the verdicts: ');
			for (const v of followed.route) {
				const o = outline.checks.find((x) => x.id === v.check);
				route.append(o?.step ? `step ${o.step} ` : '', el('code', { text: v.check }), ' ', badge(v.status as Status), ' → ');
			}
			route.append(href ? (outline.targets[href]?.label ?? href) : 'no further step');
			box.append(route);
		}
		if (c.evidence.length) box.append(el('p', { class: 'rb-verdict__label', text: 'Deciding evidence' }), ...decidingView(c.evidence));
		else
			box.append(el('p', { class: 'rb-compare__note', text: 'The verdict marks no deciding line: its full evidence is under its step.' }));
		if (fix.length) box.append(fixBlock(fix));
	}
	if (d.alsoFound.length) {
		const part = noteList(outline, 'Also found', d.alsoFound, 'fail');
		if (part) box.append(part);
	}
	for (const part of [
		noteList(outline, 'Ruled out', d.ruledOut, 'pass'),
		noteList(outline, 'Could not decide', d.undecided, 'error'),
		noteList(outline, 'Does not apply here', d.skipped, 'skip'),
	])
		if (part) box.append(part);

	if (!c && d.undecided.length === 0 && d.steps.length > 0) {
		const next = el('div', { class: 'rb-diagnosis__part rb-diagnosis__try' }, el('p', { class: 'rb-verdict__label', text: 'Try next' }));
		if (d.tryNext.length) {
			const ul = el('ul', { class: 'rb-diagnosis__list' });
			for (const r of d.tryNext) {
				const a = el('a', { text: r.title });
				a.href = `${r.href}${location.search}`;
				ul.append(el('li', {}, a));
			}
			next.append(el('p', { text: 'Runbooks with overlapping symptoms:' }), ul);
		} else {
			const home = el('a', { text: 'search by symptom' });
			home.href = '/';
			next.append(
				el(
					'p',
					{},
					'No related runbook is listed for this one: the cause is outside what its checks look at. Read its last step, or ',
					home,
					'.',
				),
			);
		}
		box.append(next);
	}
	return box;
}

function fleetView(
	f: FleetDiagnosis,
	outline: Outline,
	extra: {
		durationMs?: number;
		compare?: HTMLElement | null;
		verdicts: ReadonlyMap<string, ReadonlyMap<string, VerdictRecord>>;
		onShow: (host: string, check?: string) => void;
	},
): HTMLElement {
	const box = el('section', { class: `rb-diagnosis rb-fleet rb-diagnosis--${f.status}` });
	box.dataset.status = f.status;
	box.setAttribute('aria-label', `Diagnosis on ${plural(f.grid.length, 'host')}`);
	box.append(
		el(
			'p',
			{ class: 'rb-diagnosis__head' },
			badge(f.status),
			el('span', { class: 'rb-diagnosis__title rb-fleet__count', text: f.summary }),
		),
	);
	const marked = [...new Set(f.outliers.map((o) => o.host))];
	const meta = el('p', { class: 'rb-verdict__meta', text: marked.length ? `Stands out: ${marked.join(', ')}` : 'No host stands out.' });
	if (extra.durationMs !== undefined)
		meta.append(` · ${plural(f.grid.length * f.checks.length, 'verdict')} in ${formatDuration(extra.durationMs)}`);
	box.append(meta);
	if (extra.compare) box.append(extra.compare);

	const table = el('table', { class: 'rb-grid' });
	const headRow = el('tr', {}, el('th', { text: 'Host' }));
	for (const c of f.checks) {
		const o = outline.checks.find((x) => x.id === c.id);
		// A break allowed after the area's dot, not inside a word: `net.` / `icmp-redirects`.
		const dot = c.id.indexOf('.') + 1;
		const id = el('code', {}, c.id.slice(0, dot), el('wbr'), c.id.slice(dot));
		const th = el('th', {}, ...(o?.step ? [el('span', { class: 'rb-grid__step', text: `Step ${o.step}` })] : []), id);
		th.title = c.title;
		headRow.append(th);
	}
	table.append(el('thead', {}, headRow));
	const body = el('tbody');
	for (const row of f.grid) {
		const hostButton = el('button', { class: 'rb-grid__host', text: row.host });
		hostButton.type = 'button';
		hostButton.title = `Show the verdicts of ${row.host} under the steps`;
		hostButton.addEventListener('click', () => extra.onShow(row.host));
		const tr = el('tr', {}, el('th', { class: 'rb-grid__row' }, el('div', { class: 'rb-grid__hostcell' }, hostButton, badge(row.status))));
		if (marked.includes(row.host)) tr.classList.add('rb-grid__tr--outlier');
		for (const c of f.checks) {
			const s = row.cells[c.id];
			const td = el('td', { class: 'rb-grid__cell' });
			if (s) {
				const odd = f.outliers.find((o) => o.host === row.host && o.check === c.id);
				const b = el('button', { class: 'rb-grid__verdict' }, badge(s));
				b.type = 'button';
				b.title = `Show this verdict under step ${outline.checks.find((x) => x.id === c.id)?.step ?? ''}`;
				b.addEventListener('click', () => extra.onShow(row.host, c.id));
				td.append(b);
				if (odd) {
					td.classList.add('rb-grid__cell--outlier');
					td.dataset.outlier = '';
					td.append(el('span', { class: 'rb-grid__outlier', text: '★ outlier' }));
				}
			} else td.append('—');
			tr.append(td);
		}
		body.append(tr);
	}
	table.append(body);
	box.append(
		el('div', { class: 'rb-grid__wrap' }, table),
		el('p', {
			class: 'rb-grid__legend',
			text: '★ outlier: differs from most hosts. Press a host or a verdict to show it under the steps.',
		}),
	);

	if (f.outliers.length) {
		const ul = el('ul', { class: 'rb-diagnosis__list' });
		for (const o of f.outliers) {
			const why = [
				...(o.statusDiffers ? [`${o.status} where most hosts are ${o.majorityStatus}`] : []),
				...o.facts.map((x) => `${x.key} ${x.value} where most have ${x.majority}`),
			];
			ul.append(el('li', {}, el('strong', { text: `★ ${o.host}` }), ' · ', el('code', { text: o.check }), `: ${why.join('; ')}`));
		}
		box.append(el('div', { class: 'rb-diagnosis__part' }, el('p', { class: 'rb-verdict__label', text: 'Outliers' }), ul));
	}

	const outputs = el(
		'div',
		{ class: 'rb-diagnosis__part' },
		el('p', { class: 'rb-verdict__label', text: 'Outputs, hosts with identical output together' }),
	);
	for (const g of f.groups) {
		const o = outline.checks.find((c) => c.id === g.check);
		const same = g.groups.length === 1;
		const head = el(
			'summary',
			{},
			...(o?.step ? [`Step ${o.step} `] : []),
			el('code', { text: g.check }),
			same
				? `: identical on ${g.groups[0]!.hosts.length === 1 ? 'its one host' : `all ${g.groups[0]!.hosts.length} hosts`}`
				: `: ${g.groups.length} different outputs`,
		);
		const item = el('details', { class: 'rb-fleet__check' }, head);
		for (const group of g.groups) {
			item.append(
				el(
					'p',
					{ class: 'rb-fleet__group' },
					badge(group.status),
					` on ${hostsText(group.hosts)}: `,
					el('span', { class: 'rb-diagnosis__summary', text: group.summary }),
				),
				...decidingView(group.evidence),
			);
		}
		outputs.append(item);
	}
	box.append(outputs);

	const perHost = el('div', { class: 'rb-diagnosis__part' }, el('p', { class: 'rb-verdict__label', text: 'Each host' }));
	for (const d of f.hosts) {
		const details = el(
			'details',
			{ class: 'rb-fleet__host' },
			el('summary', { text: d.headline }),
			diagnosisView(d, outline, { verdicts: extra.verdicts.get(d.host) }),
		);
		perHost.append(details);
	}
	box.append(perHost);
	return box;
}

// ---------------------------------------------------------------------------------------------

interface Run {
	hosts: string[];
	startedAt: number;
	started: number;
	/** Whose verdicts fill the check blocks. */
	shown: string;
	verdicts: Map<string, Map<string, VerdictRecord>>;
	total: number;
	done: number;
	final?: Diagnosis | FleetDiagnosis;
}

class RunAllElement extends HTMLElement {
	#outline!: Outline;
	#hosts!: HTMLInputElement;
	#addHost!: HTMLSelectElement;
	#run!: HTMLButtonElement;
	#live!: HTMLElement;
	#clock!: HTMLElement;
	#result!: HTMLElement;
	#offline!: HTMLElement;
	#known: PublicHost[] = [];
	#running = false;
	#last: Run | null = null;
	#stopListening: (() => void) | null = null;

	connectedCallback(): void {
		if (this.#stopListening) return;
		try {
			this.#outline = JSON.parse(this.dataset.outline ?? '') as Outline;
		} catch {
			return;
		}
		const q = <T extends Element>(sel: string) => this.querySelector<T>(sel)!;
		this.#hosts = q('[data-hosts]');
		this.#addHost = q('[data-add-host]');
		this.#run = q('[data-run]');
		this.#live = q('[data-live]');
		this.#clock = q('[data-clock]');
		this.#result = q('[data-result]');
		this.#offline = q('[data-offline]');
		q<HTMLElement>('[data-controls]').hidden = false;

		this.#hosts.value = pageHost();
		this.#stopListening = onHostChange((host) => {
			// Follow the page host while the field names one host (or none); a list stays as typed.
			if (this.#hostList().length <= 1) this.#hosts.value = host;
			this.#update();
		});
		this.#hosts.addEventListener('input', () => this.#update());
		this.#hosts.addEventListener('keydown', (e) => {
			if (e.key === 'Enter') void this.run();
		});
		this.#addHost.addEventListener('change', () => {
			const name = this.#addHost.value;
			this.#addHost.value = '';
			if (!name) return;
			const list = this.#hostList();
			if (!list.includes(name)) this.#hosts.value = [...list, name].join(', ');
			this.#update();
		});
		this.#run.addEventListener('click', () => void this.run());
		this.#update();
		void this.#fillHosts();
	}

	disconnectedCallback(): void {
		this.#stopListening?.();
		this.#stopListening = null;
	}

	async #fillHosts(): Promise<void> {
		const answer = await loadHosts();
		if (!answer.ok) {
			this.querySelector<HTMLElement>('[data-controls]')!.hidden = true;
			this.#offline.hidden = false;
			this.#offline.textContent = answer.unreachable
				? UNREACHABLE.replace('the commands below', 'each step')
				: `Hosts could not be listed: ${answer.error?.code}: ${answer.error?.message}`;
			return;
		}
		this.#known = answer.hosts;
		const options = hostOptions(answer.hosts, '', 'Add a host…');
		const groups = [...new Set(answer.hosts.flatMap((h) => h.groups))].sort();
		if (groups.length) {
			const og = el('optgroup');
			og.label = 'Inventory groups';
			for (const g of groups) {
				const o = el('option', { text: `${g} (${answer.hosts.filter((h) => h.groups.includes(g)).length} hosts)` });
				o.value = g;
				og.append(o);
			}
			options.push(og);
		}
		this.#addHost.replaceChildren(...options);
		this.#addHost.disabled = false;
		this.#update();
	}

	#hostList(): string[] {
		return [
			...new Set(
				this.#hosts.value
					.split(',')
					.map((h) => h.trim())
					.filter(Boolean),
			),
		];
	}

	/** Names as the server will run them: an inventory group becomes its hosts, so progress counts right. */
	#expand(names: readonly string[]): string[] {
		const out: string[] = [];
		for (const n of names) {
			const members = this.#known.some((h) => h.name === n) ? [n] : this.#known.filter((h) => h.groups.includes(n)).map((h) => h.name);
			for (const m of members.length ? members : [n]) if (!out.includes(m)) out.push(m);
		}
		return out;
	}

	#update(): void {
		const n = this.#hostList().length;
		this.#run.disabled = this.#running || n === 0;
		this.#run.textContent = this.#running ? 'Running…' : n > 1 ? `Run all on ${n} hosts` : 'Run all';
	}

	#blocks(): RunbookCheck[] {
		return [...document.querySelectorAll('runbook-check')].filter(
			(b): b is RunbookCheck => b instanceof RunbookCheck && this.#outline.checks.some((c) => c.id === b.checkId),
		);
	}

	#params(): Record<string, Record<string, unknown>> {
		const out: Record<string, Record<string, unknown>> = {};
		for (const b of this.#blocks()) out[b.checkId] ??= b.currentParams();
		return out;
	}

	#planItem(check: string): HTMLElement | null {
		return this.querySelector<HTMLElement>(`[data-plan] [data-check="${CSS.escape(check)}"]`);
	}

	#setState(check: string, text: string, running = false): void {
		const item = this.#planItem(check);
		const state = item?.querySelector<HTMLElement>('[data-state]');
		if (!item || !state) return;
		state.textContent = text;
		item.classList.toggle('rb-runall__item--running', running);
	}

	#setCell(run: Run, v: VerdictRecord): void {
		const cells = this.#planItem(v.check)?.querySelector<HTMLElement>('[data-cells]');
		if (!cells) return;
		const cell = el('span', { class: 'rb-runall__cell' }, badge(v.status));
		cell.dataset.host = v.host;
		if (run.hosts.length > 1) cell.append(el('span', { class: 'rb-runall__cell-host', text: v.host }));
		else cell.append(el('span', { class: 'rb-runall__cell-host', text: formatDuration(v.durationMs) }));
		cells.querySelector(`[data-host="${CSS.escape(v.host)}"]`)?.remove();
		// In the order the hosts were given, whatever order their verdicts come in.
		const later = [...cells.children].find((c) => run.hosts.indexOf((c as HTMLElement).dataset.host ?? '') > run.hosts.indexOf(v.host));
		cells.insertBefore(cell, later ?? null);
		const mine = [...run.verdicts.values()].filter((m) => m.has(v.check)).length;
		if (mine >= run.hosts.length) this.#setState(v.check, '');
	}

	#say(message: string): void {
		this.#live.textContent = message;
	}

	/** Fill the check blocks with the verdicts of `host` from the last run; scroll to `check`'s when given. */
	#showHost(host: string, check?: string): void {
		const run = this.#last;
		if (!run) return;
		setHost(host);
		run.shown = host;
		for (const b of this.#blocks()) {
			const v = run.verdicts.get(host)?.get(b.checkId);
			if (v) b.show(v, 'from Run all', false);
		}
		if (check)
			this.#blocks()
				.find((b) => b.checkId === check)
				?.scrollIntoView({ block: 'start' });
	}

	/** Run every check of the runbook on the hosts in the field. */
	async run(): Promise<void> {
		const names = this.#hostList();
		if (this.#running || names.length === 0) return;
		const hosts = this.#expand(names);
		const shown = hosts.includes(pageHost()) ? pageHost() : hosts[0]!;
		if (pageHost() !== shown) setHost(shown);
		const run: Run = {
			hosts,
			startedAt: Date.now(),
			started: performance.now(),
			shown,
			verdicts: new Map(hosts.map((h) => [h, new Map()])),
			total: hosts.length * this.#outline.checks.length,
			done: 0,
		};
		this.#running = true;
		this.#update();
		this.setAttribute('aria-busy', 'true');
		this.#offline.hidden = true;
		const bar = el('progress', { class: 'rb-runall__bar' });
		bar.max = run.total;
		bar.value = 0;
		this.#result.replaceChildren(bar);
		for (const item of this.querySelectorAll<HTMLElement>('[data-plan] [data-cells]')) item.replaceChildren();
		for (const c of this.#outline.checks) this.#setState(c.id, 'waiting');
		const blocks = this.#blocks();
		for (const b of blocks) b.begin(`Run all: waiting for its turn on ${shown}…`);
		const tick = setInterval(() => (this.#clock.textContent = formatDuration(performance.now() - run.started)), 250);
		this.#say(`Connecting to ${hostsText(hosts)}…`);
		try {
			await this.#stream(run, names, bar);
		} finally {
			clearInterval(tick);
			this.#clock.textContent = '';
			for (const b of blocks) b.end(run.verdicts.get(run.shown)?.has(b.checkId) ? undefined : '');
			for (const c of this.#outline.checks) if (!run.verdicts.get(run.shown)?.has(c.id)) this.#setState(c.id, '');
			this.#running = false;
			this.removeAttribute('aria-busy');
			this.#update();
		}
	}

	async #stream(run: Run, names: string[], bar: HTMLProgressElement): Promise<void> {
		let res: Response;
		try {
			res = await fetch(`/api/runbooks/${encodeURIComponent(this.#outline.slug)}/run`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
				body: JSON.stringify({ hosts: names, params: this.#params() }),
			});
		} catch {
			this.#say('');
			this.#result.replaceChildren();
			this.#offline.hidden = false;
			this.#offline.textContent = UNREACHABLE.replace('the commands below', 'the commands of each step');
			return;
		}
		if (!res.ok || !res.body) {
			const error = asApiError(await readJson(res));
			this.#say('');
			if (error) this.#result.replaceChildren(invocationErrorView(error));
			else {
				this.#result.replaceChildren();
				this.#offline.hidden = false;
				this.#offline.textContent = `The check server answered HTTP ${res.status} instead of running the runbook: run each step's commands by hand.`;
			}
			return;
		}
		const blocksOf = (check: string) => this.#blocks().filter((b) => b.checkId === check);
		const position = (check: string) => this.#outline.checks.findIndex((c) => c.id === check) + 1;
		const total = this.#outline.checks.length;
		try {
			for await (const line of ndjsonLines(res.body)) {
				const event = line as RunEvent | { type: 'diagnosis'; diagnosis: unknown } | { type: 'fleet'; fleet: unknown };
				if (event.type === 'start' || event.type === 'progress') {
					const what = event.type === 'start' ? 'running' : event.message;
					this.#setState(event.check, run.hosts.length > 1 ? `${what} on ${event.host}…` : `${what}…`, true);
					this.#say(
						`Check ${position(event.check)} of ${total}, ${event.check}, on ${event.host}: ${what} · ${run.done} of ${run.total} done`,
					);
					if (event.host === run.shown)
						for (const b of blocksOf(event.check))
							b.say(
								event.type === 'start'
									? `Run all: running on ${event.host}…`
									: `Run all: ${event.message}${event.fraction === undefined ? '' : ` (${Math.round(event.fraction * 100)} %)`}`,
							);
				} else if (event.type === 'verdict') {
					const v = asVerdict(event.verdict);
					if (!v) continue;
					if (!run.verdicts.has(v.host)) {
						run.verdicts.set(v.host, new Map());
						run.hosts.push(v.host);
						run.total += total;
						bar.max = run.total;
					}
					run.verdicts.get(v.host)!.set(v.check, v);
					run.done++;
					bar.value = run.done;
					this.#setCell(run, v);
					this.#say(`${run.done} of ${run.total} done · ${v.check} on ${v.host}: ${v.status}`);
					if (v.host === run.shown)
						for (const b of blocksOf(v.check)) {
							b.show(v, 'from Run all');
							b.end();
						}
				} else if (event.type === 'diagnosis') {
					run.final = asDiagnosis(event.diagnosis);
				} else if (event.type === 'fleet') {
					run.final = asFleet(event.fleet);
				}
			}
		} catch {
			// A dropped connection or a garbled line: said below, with whatever arrived.
		}
		this.#finish(run);
	}

	#finish(run: Run): void {
		const durationMs = performance.now() - run.started;
		this.#last = run;
		if (!run.final) {
			this.#say('');
			this.#result.replaceChildren(
				el('p', {
					class: 'rb-check__offline',
					text: `The run ended before its diagnosis arrived: ${run.done} of ${run.total} verdicts came, and they are under their steps. Run all again, or go step by step.`,
				}),
			);
			return;
		}
		this.#say(`Done: ${run.done} of ${run.total} in ${formatDuration(durationMs)}.`);

		const stored: StoredRun = {
			runbook: this.#outline.slug,
			hosts: run.hosts,
			at: run.startedAt,
			cells: Object.fromEntries([...run.verdicts].map(([h, m]) => [h, Object.fromEntries([...m].map(([c, v]) => [c, v.status]))])),
		};
		const order = this.#outline.checks.map((c) => c.id);
		const previous = readRuns().filter((r) => r.runbook === stored.runbook);
		const last = previous.at(-1);
		const sameSet = previous.filter((r) => hostSet(r.hosts) === hostSet(stored.hosts)).at(-1);
		const comparison = last ? compareRuns(last, stored, order) : null;
		const sameHosts = sameSet && sameSet !== last ? compareRuns(sameSet, stored, order) : null;
		keepRun(stored);
		const compare = comparison
			? comparisonView(comparison, sameHosts)
			: el('p', {
					class: 'rb-compare__note',
					text: 'First run of this runbook in this browser: after a fix, Run all again to see what changed.',
				});

		const final = run.final;
		const view =
			'grid' in final
				? fleetView(final, this.#outline, {
						durationMs,
						compare,
						verdicts: run.verdicts,
						onShow: (host, check) => this.#showHost(host, check),
					})
				: diagnosisView(final, this.#outline, { durationMs, compare, verdicts: run.verdicts.get(final.host) });
		const notes = this.#notes(
			final,
			run.startedAt,
			comparison ? comparisonMarkdown(comparison, sameHosts) : '',
			'grid' in final ? undefined : run.verdicts.get(final.host),
		);
		this.#result.replaceChildren(view, notes);
	}

	/**
	 * "Copy incident notes", the operator's name, and the notes themselves in a collapsible block.
	 * For one host whose verdicts lead past the likely cause, the notes say where they lead too, as
	 * the summary does; `extra` (what changed) goes at the end.
	 */
	#notes(final: Diagnosis | FleetDiagnosis, at: number, extra: string, verdicts?: ReadonlyMap<string, VerdictRecord>): HTMLElement {
		let route: string | null = null;
		if (!('grid' in final) && final.likelyCause && verdicts) {
			const f = followVerdicts(this.#outline, verdicts, final.likelyCause.check);
			if (f.route.length > 1)
				route = `- Following the verdicts: ${f.route.map((v) => `\`${v.check}\` ${v.status}`).join(' → ')} → ${f.href ? `${location.origin}${f.href}` : 'no further step'}`;
		}
		const withRoute = (md: string) => {
			if (!route) return md;
			const lines = md.split('\n');
			const header = lines.findIndex((l) => l === '### Verdicts');
			const after = lines.slice(0, header < 0 ? lines.length : header).findLastIndex((l) => /^- (Next step|Diagnosis): /.test(l));
			lines.splice(after + 1, 0, route);
			return lines.join('\n');
		};
		const operator = el('input', { class: 'rb-notes__operator' });
		operator.id = 'rb-runall-operator';
		operator.value = readOperator();
		operator.maxLength = 64;
		operator.spellcheck = false;
		operator.autocomplete = 'off';
		operator.title = 'Your name or role, as the notes should give it; kept in this browser';
		const text = el('textarea', { class: 'rb-notes__text' });
		text.readOnly = true;
		text.rows = 18;
		text.spellcheck = false;
		text.setAttribute('aria-label', 'Incident notes, Markdown');
		const render = () => {
			text.value =
				withRoute(incidentNotes(final, { at, operator: cleanOperator(operator.value) || DEFAULT_OPERATOR, baseUrl: location.origin })) +
				extra;
		};
		render();
		operator.addEventListener('input', render);
		operator.addEventListener('change', () => {
			const name = cleanOperator(operator.value) || DEFAULT_OPERATOR;
			operator.value = name;
			writeOperator(name);
			render();
		});
		const details = el('details', { class: 'rb-notes__details' }, el('summary', { text: 'Incident notes (Markdown)' }), text);
		const state = el('span', { class: 'rb-check__live' });
		state.setAttribute('role', 'status');
		const copy = el('button', { class: 'rb-check__run', text: 'Copy incident notes' });
		copy.type = 'button';
		copy.dataset.copyNotes = '';
		copy.addEventListener('click', async () => {
			writeOperator(cleanOperator(operator.value) || DEFAULT_OPERATOR);
			render();
			try {
				await navigator.clipboard.writeText(text.value);
				state.textContent = 'Copied: paste them into the ticket or the incident channel.';
			} catch {
				// No clipboard API outside a secure context (plain http to a remote name): select the text instead.
				details.open = true;
				text.focus();
				text.select();
				state.textContent = 'Selected below: press Ctrl+C (⌘C) to copy.';
			}
		});
		const label = el('label', { class: 'rb-notes__label', text: 'Operator' });
		label.htmlFor = operator.id;
		return el('section', { class: 'rb-notes' }, el('div', { class: 'rb-notes__bar' }, copy, label, operator, state), details);
	}
}

if (!customElements.get('run-all')) customElements.define('run-all', RunAllElement);
