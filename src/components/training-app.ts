/**
 * `<training-app>`: the training page's three views over the state in localStorage.
 *
 * - pick: the incidents by brief, "draw one at random", the progress table;
 * - session: the brief, the host, the clock, the path so far, the diagnosis form;
 * - debrief: right or wrong (runbook and cause apart), the checks that decide it fastest, the
 *   runbook's explanation, the path taken. Shown after a submit and from the progress table; the
 *   URL keeps it (`#debrief-<submittedAt>`) so a reload shows the same debrief.
 *
 * The answer key comes from `/training/debrief/<name>.json`, fetched on submit (and for an older
 * debrief from the progress table). Other tabs write the same state (a check run on a runbook
 * page), so the view is redrawn on `storage` events and when the page comes back from the
 * back-forward cache. Text reaches the DOM only through `textContent`.
 */
import type { Status } from '../core/status.ts';
import { decidingRun, summarisePath, type DebriefKey, type PathSummary, type TrainingPageData } from '../training/debrief.ts';
import {
	HEALTHY_CHOICE,
	STATE_KEY,
	abandonSession,
	drawScenario,
	formatElapsed,
	isRight,
	progress,
	startSession,
	submitAnswer,
	type Result,
	type Session,
	type TrainingEvent,
	type TrainingState,
} from '../training/session.ts';
import { readTraining, writeTraining } from './training-session.ts';

const STATUSES: readonly Status[] = ['pass', 'warn', 'fail', 'error', 'skip'];
const STATUS_ICON: Record<Status, string> = { pass: '✓', warn: '!', fail: '✗', error: '?', skip: '–' };
const HASH = /^#debrief-(\d+)$/;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; text?: string } = {}, ...children: (Node | string)[]) {
	const node = document.createElement(tag);
	if (props.class) node.className = props.class;
	if (props.text !== undefined) node.textContent = props.text;
	node.append(...children);
	return node;
}

function badge(status: Status): HTMLElement {
	const b = el(
		'strong',
		{ class: `rb-badge rb-badge--${status}` },
		el('span', { text: STATUS_ICON[status] }),
		el('span', { text: status }),
	);
	b.dataset.status = status;
	b.firstElementChild?.setAttribute('aria-hidden', 'true');
	return b;
}

/** `+4:05` from the start of the session. */
const at = (ms: number): HTMLElement => {
	const s = Math.floor(ms / 1000);
	return el('span', { class: 'rb-training__at', text: `+${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` });
};

/**
 * One line of a path or check list: a lead (the time, or a badge) in its own column, what happened
 * beside it, and an optional note under that.
 */
function row(lead: HTMLElement, what: (Node | string)[], ...notes: string[]): HTMLLIElement {
	const body = el('div', { class: 'rb-training__what' }, el('span', {}, ...what));
	for (const n of notes) body.append(el('span', { class: 'rb-training__aside', text: n }));
	return el('li', {}, lead, body);
}

function isKey(x: unknown, name: string): x is DebriefKey {
	const k = x as DebriefKey;
	return (
		typeof k === 'object' &&
		k !== null &&
		k.name === name &&
		typeof k.title === 'string' &&
		typeof k.runbook === 'string' &&
		typeof k.cause === 'string' &&
		typeof k.healthy === 'boolean' &&
		typeof k.runbookTitle === 'string' &&
		typeof k.runbookSummary === 'string' &&
		Array.isArray(k.deciding) &&
		k.deciding.every((d) => typeof d?.check === 'string' && typeof d.title === 'string' && STATUSES.includes(d.status))
	);
}

class TrainingApp extends HTMLElement {
	#data!: TrainingPageData;
	#keys = new Map<string, Promise<DebriefKey>>();
	#tick: ReturnType<typeof setInterval> | undefined;
	#view: 'pick' | 'session' | 'debrief' = 'pick';

	connectedCallback(): void {
		if (this.#data) return;
		const script = this.querySelector('script[data-training-data]');
		this.#data = JSON.parse(script?.textContent ?? '{}') as TrainingPageData;

		if (!writeTraining(readTraining())) this.#q('[data-storage-warning]').hidden = false;
		for (const b of this.querySelectorAll<HTMLButtonElement>('[data-start], [data-draw]')) b.disabled = false;

		this.addEventListener('click', (e) => this.#click(e));
		const form = this.#q<HTMLFormElement>('[data-diagnosis]');
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			void this.#submit(form);
		});
		(form.elements.namedItem('runbook') as HTMLSelectElement).addEventListener('change', () => this.#fillCauses(form));
		window.addEventListener('storage', (e) => {
			if (e.key === STATE_KEY || e.key === null) this.#render();
		});
		window.addEventListener('pageshow', (e) => {
			if (e.persisted) this.#render();
		});
		window.addEventListener('hashchange', () => this.#render());
		this.#render();
	}

	#q<T extends HTMLElement = HTMLElement>(sel: string): T {
		return this.querySelector<T>(sel)!;
	}

	#runbookTitle(slug: string): string {
		return this.#data.runbooks.find((r) => r.slug === slug)?.title ?? slug;
	}

	#checkTitle(id: string): string {
		return this.#data.checks[id] ?? id;
	}

	// -------------------------------------------------------------------------------------------
	// Views.

	#show(view: 'pick' | 'session' | 'debrief', focus = false): void {
		const changed = this.#view !== view;
		this.#view = view;
		for (const s of this.querySelectorAll<HTMLElement>('[data-view]')) s.hidden = s.dataset.view !== view;
		clearInterval(this.#tick);
		this.#tick = undefined;
		if (focus && changed) {
			this.#q(`[data-view="${view}"] h2`).focus();
			this.scrollIntoView({ block: 'start' });
		}
	}

	#render(focus = false): void {
		const state = readTraining();
		const debriefOf = HASH.exec(location.hash)?.[1];
		if (state.active) this.#renderSession(state.active, focus);
		else if (debriefOf && state.results.some((r) => r.submittedAt === Number(debriefOf)))
			void this.#renderDebrief(
				state.results.find((r) => r.submittedAt === Number(debriefOf))!,
				focus,
			);
		else this.#renderPick(state, focus);
	}

	#renderPick(state: TrainingState, focus: boolean): void {
		this.#show('pick', focus);
		const latest = new Map<string, Result>();
		for (const r of state.results) latest.set(r.scenario, r);
		for (const li of this.querySelectorAll<HTMLElement>('[data-scenario]')) {
			const r = latest.get(li.dataset.scenario!);
			li.toggleAttribute('data-solved', r !== undefined && isRight(r));
			li.querySelector('[data-done]')!.textContent = r === undefined ? '' : isRight(r) ? 'Answered right' : 'Answered wrong: try again';
			li.querySelector('[data-start]')!.textContent = r === undefined ? 'Start' : 'Again';
		}

		const p = progress(state.results);
		this.#q('[data-progress-summary]').textContent =
			p.attempts === 0
				? 'No incident answered yet in this browser.'
				: `${p.scenarios} of ${this.#data.incidents.length} incidents answered, ${p.solved} right on the latest try; ` +
					`${p.right} of ${p.attempts} answer${p.attempts === 1 ? '' : 's'} right, median time ${formatElapsed(p.medianMs ?? 0)}.`;
		const rows = [...state.results].reverse().map((r) => {
			const mark = (right: boolean) => el('td', { text: right ? '✓ right' : '✗ wrong' });
			const open = el('button', { class: 'rb-training__button rb-training__button--quiet', text: 'Debrief' });
			open.type = 'button';
			open.dataset.openDebrief = String(r.submittedAt);
			const tr = el(
				'tr',
				{},
				el('td', { text: r.title }),
				mark(r.runbookRight),
				mark(r.causeRight),
				el('td', { text: formatElapsed(r.submittedAt - r.startedAt) }),
				el('td', { text: new Date(r.submittedAt).toLocaleString() }),
				el('td', {}, open),
			);
			tr.dataset.result = r.scenario;
			tr.dataset.right = String(isRight(r));
			return tr;
		});
		this.#q('[data-progress-rows]').replaceChildren(...rows);
		this.#q('[data-progress]').hidden = rows.length === 0;
		this.#q('[data-progress-actions]').hidden = rows.length === 0;
	}

	#renderSession(session: Session, focus: boolean): void {
		this.#show('session', focus);
		this.#q('[data-session-brief]').textContent = session.brief;
		for (const c of this.querySelectorAll('[data-session-host]')) c.textContent = session.host;
		this.#q('[data-session-started]').textContent = new Date(session.startedAt).toLocaleTimeString();
		const clock = this.#q('[data-session-elapsed]');
		const tick = () => (clock.textContent = formatElapsed(Date.now() - session.startedAt));
		tick();
		this.#tick = setInterval(tick, 1000);

		const items = session.events.flatMap((e) => this.#eventItem(e, session));
		this.#q('[data-session-path]').replaceChildren(...items);
		this.#q('[data-session-empty]').hidden = items.length > 0;

		const form = this.#q<HTMLFormElement>('[data-diagnosis]');
		if (focus) form.reset();
		// A redraw (another tab recorded a check) keeps the cause already chosen.
		if (
			(form.elements.namedItem('cause') as HTMLSelectElement).dataset.for !==
			(form.elements.namedItem('runbook') as HTMLSelectElement).value
		)
			this.#fillCauses(form);
		if (focus) this.#q('[data-submit-error]').hidden = true;
	}

	#eventItem(e: TrainingEvent, session: Session): HTMLElement[] {
		const when = at(e.at - session.startedAt);
		let li: HTMLLIElement;
		if (e.type === 'search') {
			const note = e.opened ? `opened ${this.#runbookTitle(e.opened)}` : `${e.results} runbook${e.results === 1 ? '' : 's'} listed`;
			li = row(when, ['Searched ', el('q', { text: e.query })], note);
		} else if (e.type === 'page') {
			const slug = /^\/([^/]+)\/?$/.exec(e.path)?.[1];
			if (!slug || !this.#data.runbooks.some((r) => r.slug === slug)) return [];
			const a = el('a', { text: this.#runbookTitle(slug) });
			a.href = e.path;
			li = row(when, ['Read ', a]);
		} else {
			const notes = e.host === session.host ? [e.summary] : [`on ${e.host}, not the incident host`, e.summary];
			li = row(
				when,
				['Ran ', el('strong', { text: this.#checkTitle(e.check) }), ' ', el('code', { text: e.check }), ' ', badge(e.status)],
				...notes,
			);
		}
		li.dataset.event = e.type;
		return [li];
	}

	#fillCauses(form: HTMLFormElement): void {
		const runbook = (form.elements.namedItem('runbook') as HTMLSelectElement).value;
		const select = form.elements.namedItem('cause') as HTMLSelectElement;
		const causes = this.#data.runbooks.find((r) => r.slug === runbook)?.causes ?? [];
		const first = el('option', { text: runbook ? 'Choose the root cause…' : 'Choose the runbook first' });
		first.value = '';
		select.replaceChildren(
			first,
			...causes.map((c) => {
				const o = el('option', { text: c === HEALTHY_CHOICE ? `Nothing is wrong on this host` : c });
				o.value = c;
				return o;
			}),
		);
		select.disabled = !runbook;
		select.dataset.for = runbook;
	}

	// -------------------------------------------------------------------------------------------
	// Actions.

	#click(e: MouseEvent): void {
		const target = (e.target as Element).closest<HTMLElement>('button');
		if (!target || !this.contains(target)) return;
		const state = readTraining();
		if (target.matches('[data-start]')) {
			const name = target.closest<HTMLElement>('[data-scenario]')?.dataset.scenario;
			if (name) this.#start(state, name);
		} else if (target.matches('[data-draw]')) {
			this.#start(
				state,
				drawScenario(
					this.#data.incidents.map((i) => i.name),
					state.results,
					Math.random,
				),
			);
		} else if (target.matches('[data-abandon]')) {
			if (!confirm('Abandon this incident? It is not counted in your progress.')) return;
			writeTraining(abandonSession(state));
			this.#render(true);
		} else if (target.matches('[data-again]')) {
			history.replaceState(history.state, '', location.pathname + location.search);
			this.#render(true);
		} else if (target.matches('[data-open-debrief]')) {
			location.hash = `debrief-${target.dataset.openDebrief}`;
		} else if (target.matches('[data-clear]')) {
			if (!confirm('Clear every answer kept in this browser?')) return;
			writeTraining({ ...state, results: [] });
			this.#render();
		}
	}

	#start(state: TrainingState, name: string): void {
		const incident = this.#data.incidents.find((i) => i.name === name);
		if (!incident) return;
		writeTraining(startSession(state, incident, Date.now()));
		history.replaceState(history.state, '', location.pathname + location.search);
		this.#render(true);
	}

	#key(name: string): Promise<DebriefKey> {
		let key = this.#keys.get(name);
		if (!key) {
			key = (async () => {
				const url = `${this.#data.debriefBase}${encodeURIComponent(name)}.json`;
				const res = await fetch(url, { headers: { accept: 'application/json' } });
				if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
				const body: unknown = await res.json();
				if (!isKey(body, name)) throw new Error(`${url} is not an answer key`);
				return body;
			})();
			key.catch(() => this.#keys.delete(name));
			this.#keys.set(name, key);
		}
		return key;
	}

	async #submit(form: HTMLFormElement): Promise<void> {
		const runbook = (form.elements.namedItem('runbook') as HTMLSelectElement).value;
		const cause = (form.elements.namedItem('cause') as HTMLSelectElement).value;
		const error = this.#q('[data-submit-error]');
		const button = this.#q<HTMLButtonElement>('[data-submit]');
		const state = readTraining();
		if (!state.active || !runbook || !cause) return;
		button.disabled = true;
		error.hidden = true;
		let key: DebriefKey;
		try {
			key = await this.#key(state.active.scenario);
		} catch (e) {
			error.hidden = false;
			error.textContent = `The answer key could not be loaded (${(e as Error).message}); your session is kept, submit again.`;
			return;
		} finally {
			button.disabled = false;
		}
		// Events recorded in another tab while the key was loading count too.
		const { state: next, result } = submitAnswer(readTraining(), { runbook, cause }, key, Date.now());
		writeTraining(next);
		history.replaceState(history.state, '', `#debrief-${result.submittedAt}`);
		await this.#renderDebrief(result, true);
	}

	async #renderDebrief(result: Result, focus: boolean): Promise<void> {
		this.#show('debrief', focus);
		const heading = this.#q('[data-outcome]');
		const body = this.#q('[data-debrief]');
		heading.textContent = 'Debrief';
		heading.dataset.outcome = '';
		body.replaceChildren(el('p', { class: 'rb-training__note', text: 'Loading the answer…' }));
		let key: DebriefKey;
		try {
			key = await this.#key(result.scenario);
		} catch (e) {
			body.replaceChildren(
				el('p', {
					class: 'rb-training__note rb-training__note--warn',
					text: `The answer key could not be loaded: ${(e as Error).message}.`,
				}),
			);
			return;
		}
		if (this.#view !== 'debrief') return;

		const right = isRight(result);
		heading.dataset.outcome = right ? 'right' : 'wrong';
		heading.textContent = right ? 'Right' : result.runbookRight || result.causeRight ? 'Wrong, in part' : 'Wrong';

		const host = `scenario:${result.scenario}`;
		const path = summarisePath(
			result.events,
			{ startedAt: result.startedAt, host },
			result.submittedAt,
			new Set(this.#data.runbooks.map((r) => r.slug)),
		);

		const intro = el('p', {}, 'The incident: ', el('strong', { text: key.title }), ' on ', el('code', { text: host }), '. ');
		intro.append(`Answered in ${formatElapsed(path.elapsedMs)}.`);

		const causeText = (c: string) => (c === HEALTHY_CHOICE ? 'nothing is wrong on this host' : c);
		const rightCause = key.healthy ? HEALTHY_CHOICE : key.cause;
		const marks = el(
			'ul',
			{ class: 'rb-training__marks' },
			this.#mark('runbook', result.runbookRight, 'Runbook', this.#runbookTitle(result.answer.runbook), key.runbookTitle),
			this.#mark('cause', result.causeRight, 'Root cause', causeText(result.answer.cause), causeText(rightCause)),
		);

		const link = el('a', { text: key.runbookTitle });
		link.href = `${this.#runbookHref(key.runbook)}?host=${encodeURIComponent(host)}`;
		const why = el('div', { class: 'rb-training__why' }, el('h3', { text: 'What was going on' }));
		// Healthy causes are written "Healthy: <what is fine>"; the label says it already.
		if (key.healthy)
			why.append(
				el(
					'p',
					{},
					el('strong', { text: 'Nothing is wrong on this host. ' }),
					key.cause.replace(/^healthy:\s*(.)/i, (_, c: string) => c.toUpperCase()),
				),
			);
		else why.append(el('p', {}, el('strong', { text: 'Root cause: ' }), key.cause));
		why.append(el('p', {}, link, ': ', key.runbookSummary));
		why.dataset.explanation = '';

		body.replaceChildren(intro, marks, why, this.#fastest(key, path, host), this.#pathView(path, host));
	}

	#runbookHref(slug: string): string {
		const base = this.dataset.base ?? '/';
		return `${base.endsWith('/') ? base : `${base}/`}${slug}/`;
	}

	#mark(which: string, right: boolean, label: string, chosen: string, correct: string): HTMLElement {
		const li = el('li', {}, el('strong', { text: `${right ? '✓' : '✗'} ${label}: ${right ? 'right' : 'wrong'}` }), ' ');
		li.dataset.mark = which;
		li.dataset.right = String(right);
		if (right) li.append('— ', el('span', { text: correct }));
		else li.append('— you said ', el('q', { text: chosen }), '; it is ', el('q', { class: 'rb-training__correct', text: correct }), '.');
		return li;
	}

	#fastest(key: DebriefKey, path: PathSummary, host: string): HTMLElement {
		const box = el('div', {}, el('h3', { text: 'The checks that decide it fastest' }));
		box.dataset.fastest = '';
		if (key.deciding.length === 0) {
			box.append(el('p', { class: 'rb-training__note', text: 'This scenario names no deciding check.' }));
			return box;
		}
		box.append(
			el('p', {
				class: 'rb-training__note',
				text: key.healthy
					? `On ${host} these pass, in the runbook's step order: together they show all is well.`
					: `In the runbook's step order, with the verdict each gives on ${host}:`,
			}),
		);
		const list = el('ol', { class: 'rb-training__list rb-training__list--badges' });
		for (const d of decidingRun(key.deciding, path)) {
			const ran =
				d.ran === undefined ? 'you did not run it on this host' : d.ran === d.status ? 'you ran it' : `you ran it and got ${d.ran}`;
			const li = row(badge(d.status), [el('strong', { text: d.title }), ' ', el('code', { text: d.check })], ran);
			li.dataset.check = d.check;
			list.append(li);
		}
		box.append(list);
		return box;
	}

	#pathView(path: PathSummary, host: string): HTMLElement {
		const box = el('div', {}, el('h3', { text: 'Your path' }));
		box.dataset.path = '';
		box.append(el('p', { text: `${formatElapsed(path.elapsedMs)} from start to answer.` }));

		const section = (title: string, items: HTMLElement[], none: string) => {
			box.append(el('h4', { text: title }));
			box.append(items.length ? el('ol', { class: 'rb-training__list' }, ...items) : el('p', { class: 'rb-training__note', text: none }));
		};
		section(
			'Searches',
			path.searches.map((x) => {
				const li = row(
					at(x.offsetMs),
					[el('q', { text: x.query })],
					x.opened ? `opened ${this.#runbookTitle(x.opened)}` : `${x.results} listed, none opened`,
				);
				li.dataset.search = x.query;
				return li;
			}),
			'No symptom search.',
		);
		section(
			'Runbooks opened',
			path.runbooks.map((r) => {
				const a = el('a', { text: this.#runbookTitle(r.slug) });
				a.href = this.#runbookHref(r.slug);
				return row(at(r.offsetMs), [a]);
			}),
			'No runbook page opened.',
		);
		section(
			'Checks run',
			path.checks.map((c) => {
				const notes = c.onScenarioHost ? [c.summary] : [`on ${c.host}, not ${host}`, c.summary];
				const what = [el('strong', { text: this.#checkTitle(c.check) }), ' ', el('code', { text: c.check }), ' ', badge(c.status)];
				const li = row(at(c.offsetMs), what, ...notes);
				li.dataset.check = c.check;
				li.dataset.status = c.status;
				return li;
			}),
			'No check run.',
		);
		return box;
	}
}

if (!customElements.get('training-app')) customElements.define('training-app', TrainingApp);
