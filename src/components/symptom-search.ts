/**
 * `<symptom-search>`: the behaviour added to the box `SymptomSearch.astro` renders. It fetches the
 * index built at build time (`/search-index.json`, a static file, so search works whatever the
 * check server is doing) once per page, and ranks with the same module as `runbook search`, so the
 * page and the terminal list the same runbooks in the same order for the same text.
 *
 * An ARIA 1.2 combobox: the input owns a listbox of runbooks; the active option is
 * `aria-activedescendant` (focus stays in the input, so typing goes on). ArrowDown/ArrowUp move,
 * Enter opens the active runbook (the first when none is active), Escape closes the list and clears
 * the text. "/" from anywhere outside a text field jumps to the box.
 *
 * Runbook text reaches the DOM only through `textContent`; the highlighted parts are `<mark>`
 * elements built here, never parsed markup.
 */
import type { SearchHit, SearchIndex } from '../search/engine.ts';
import { recordOpened, recordSearch } from './training-session.ts';

interface Ready {
	index: SearchIndex;
	search: typeof import('../search/engine.ts').search;
}

let ready: Promise<Ready> | undefined;

/**
 * The ranking code and the index, fetched together on first use (focus or typing) and shared by the
 * header box and the home page box: every page carries this small element, only a search pays for
 * MiniSearch and the index.
 */
function load(url: string): Promise<Ready> {
	ready ??= Promise.all([
		import('../search/engine.ts'),
		fetch(url).then((res) => {
			if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
			return res.json();
		}),
	]).then(([engine, data]) => ({ index: engine.loadIndex(data), search: engine.search }));
	ready.catch(() => (ready = undefined));
	return ready;
}

/** `text` with the [start, end) spans wrapped in <mark>. */
function highlighted(text: string, spans: [number, number][]): DocumentFragment {
	const frag = document.createDocumentFragment();
	let at = 0;
	for (const [start, end] of spans) {
		if (start > at) frag.append(text.slice(at, start));
		const mark = document.createElement('mark');
		mark.textContent = text.slice(start, end);
		frag.append(mark);
		at = end;
	}
	if (at < text.length) frag.append(text.slice(at));
	return frag;
}

const FIELD_LABEL: Record<SearchHit['field'], string> = {
	signature: 'In the logs',
	symptom: 'Symptom',
	title: 'Title',
	summary: 'Summary',
	body: 'In the text',
};

class SymptomSearch extends HTMLElement {
	#input!: HTMLInputElement;
	#list!: HTMLUListElement;
	#status!: HTMLElement;
	#hits: SearchHit[] = [];
	#active = -1;
	#seq = 0;

	connectedCallback(): void {
		this.#input = this.querySelector<HTMLInputElement>('[data-input]')!;
		this.#list = this.querySelector<HTMLUListElement>('[data-list]')!;
		this.#status = this.querySelector<HTMLElement>('[data-status]')!;
		this.#input.disabled = false;
		this.#input.addEventListener('input', () => void this.#run());
		this.#input.addEventListener('keydown', (e) => this.#key(e));
		this.#input.addEventListener('focus', () => {
			void load(this.#indexUrl).catch(() => {});
			if (this.#hits.length) this.#open(true);
		});
		this.addEventListener('focusout', (e) => {
			if (!this.contains(e.relatedTarget as Node | null)) this.#open(false);
		});
		this.querySelector('form')?.addEventListener('submit', (e) => e.preventDefault());
		this.#list.addEventListener('click', (e) => {
			const slug = (e.target as Element).closest<HTMLElement>('[data-slug]')?.dataset.slug;
			if (slug) recordOpened(slug);
		});
		if (this.#input.value.trim()) void this.#run();
	}

	get #indexUrl(): string {
		return this.dataset.index ?? '/search-index.json';
	}

	async #run(): Promise<void> {
		const seq = ++this.#seq;
		const text = this.#input.value;
		if (!text.trim()) {
			this.#render([]);
			this.#status.textContent = '';
			return;
		}
		let engine: Ready;
		try {
			engine = await load(this.#indexUrl);
		} catch {
			this.#status.textContent = 'The search index could not be loaded. The home page lists every symptom.';
			return;
		}
		// A newer keystroke has already started its own search.
		if (seq !== this.#seq) return;
		const hits = engine.search(engine.index, text);
		recordSearch(text, hits.length);
		this.#render(hits);
		this.#status.textContent = hits.length
			? `${hits.length} runbook${hits.length > 1 ? 's' : ''}, best first. Up and down to choose, Enter to open.`
			: 'No runbook matches. Try other words, or paste the exact error line.';
	}

	#render(hits: SearchHit[]): void {
		this.#hits = hits;
		this.#active = -1;
		this.#input.removeAttribute('aria-activedescendant');
		const items = hits.map((hit, i) => {
			const li = document.createElement('li');
			li.id = `${this.#list.id}-${i}`;
			li.setAttribute('role', 'option');
			li.setAttribute('aria-selected', 'false');
			li.className = 'rb-search__option';
			li.dataset.slug = hit.slug;
			const a = document.createElement('a');
			a.href = this.#href(hit.slug);
			a.tabIndex = -1;
			const title = document.createElement('span');
			title.className = 'rb-search__title';
			title.textContent = hit.title;
			a.append(title);
			if (hit.field !== 'title' && hit.field !== 'body') {
				const matched = document.createElement('span');
				matched.className = 'rb-search__matched';
				matched.dataset.field = hit.field;
				const label = document.createElement('span');
				label.className = 'rb-search__field';
				label.textContent = `${FIELD_LABEL[hit.field]}: `;
				matched.append(label);
				const text = document.createElement(hit.field === 'signature' ? 'code' : 'span');
				text.append(highlighted(hit.matched, hit.highlight));
				matched.append(text);
				a.append(matched);
			} else if (hit.field === 'title') {
				title.replaceChildren(highlighted(hit.title, hit.highlight));
			}
			if (hit.field !== 'summary') {
				const summary = document.createElement('span');
				summary.className = 'rb-search__summary';
				summary.textContent = firstSentence(hit.summary);
				a.append(summary);
			}
			li.append(a);
			return li;
		});
		this.#list.replaceChildren(...items);
		this.#open(items.length > 0);
	}

	#href(slug: string): string {
		const base = this.dataset.base ?? '/';
		return `${base.endsWith('/') ? base : `${base}/`}${slug}/`;
	}

	#open(open: boolean): void {
		const show = open && this.#hits.length > 0;
		this.#list.hidden = !show;
		this.#input.setAttribute('aria-expanded', String(show));
		if (!show) this.#select(-1);
	}

	#select(i: number): void {
		const options = this.#list.querySelectorAll<HTMLElement>('[role="option"]');
		options.forEach((o, k) => o.setAttribute('aria-selected', String(k === i)));
		this.#active = i;
		const active = options[i];
		if (active) {
			this.#input.setAttribute('aria-activedescendant', active.id);
			active.scrollIntoView({ block: 'nearest' });
		} else this.#input.removeAttribute('aria-activedescendant');
	}

	#key(e: KeyboardEvent): void {
		const n = this.#hits.length;
		switch (e.key) {
			case 'ArrowDown':
			case 'ArrowUp': {
				if (!n) return;
				e.preventDefault();
				if (this.#list.hidden) {
					this.#open(true);
					this.#select(e.key === 'ArrowDown' ? 0 : n - 1);
				} else this.#select(e.key === 'ArrowDown' ? (this.#active + 1) % n : this.#active <= 0 ? n - 1 : this.#active - 1);
				return;
			}
			case 'Enter': {
				if (!n) return;
				e.preventDefault();
				const hit = this.#hits[this.#active >= 0 ? this.#active : 0]!;
				recordOpened(hit.slug);
				window.location.assign(this.#href(hit.slug));
				return;
			}
			case 'Escape': {
				if (!this.#input.value && this.#list.hidden) return;
				e.preventDefault();
				this.#input.value = '';
				this.#seq++;
				this.#render([]);
				this.#status.textContent = '';
				return;
			}
		}
	}
}

/** The summary's first sentence: one line under the title. */
function firstSentence(summary: string): string {
	const m = /^.*?[.!?](?=\s|$)/.exec(summary);
	return m ? m[0] : summary;
}

if (!customElements.get('symptom-search')) customElements.define('symptom-search', SymptomSearch);

// "/" jumps to the search box (the one in the page body when there is one), as on GitHub and
// Starlight's own Ctrl+K; not while typing in a field.
document.addEventListener('keydown', (e) => {
	if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
	const t = e.target as HTMLElement | null;
	if (t && (t.isContentEditable || /^(input|textarea|select)$/i.test(t.tagName))) return;
	const boxes = [...document.querySelectorAll<HTMLInputElement>('symptom-search [data-input]')].filter((i) => i.offsetParent !== null);
	const box = boxes.find((i) => i.closest('[data-variant="home"]')) ?? boxes[0];
	if (!box) return;
	e.preventDefault();
	box.focus();
});
