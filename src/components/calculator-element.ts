/**
 * What both runbook calculators (`<overhead-calculator>`, `<rack-share-calculator>`) add to markup
 * that already answers with JavaScript off, as Starlight's Tabs.astro adds behaviour: once
 * connected, enable the inputs, hide the note that changing them needs JavaScript, and recompute on
 * every input or change. The markup it expects: a `[data-form]` holding a `[data-inputs]` fieldset
 * (disabled as rendered), an optional `[data-nojs]` note, and `[data-out="<name>"]` elements for
 * the answer. Only import it from a client `<script>`: it extends `HTMLElement`.
 */
export abstract class CalculatorElement extends HTMLElement {
	protected form!: HTMLFormElement;

	connectedCallback(): void {
		const form = this.querySelector<HTMLFormElement>('[data-form]');
		const inputs = this.querySelector<HTMLFieldSetElement>('[data-inputs]');
		if (!form || !inputs) return;
		this.form = form;
		inputs.disabled = false;
		this.querySelector<HTMLElement>('[data-nojs]')?.setAttribute('hidden', '');
		form.addEventListener('submit', (e) => e.preventDefault());
		form.addEventListener('input', () => this.update());
		form.addEventListener('change', () => this.update());
		this.connected();
		this.update();
	}

	/** Anything more to wire up once the inputs are live, before the first `update`. */
	protected connected(): void {}

	/** Recompute from the inputs and write the answer. */
	protected abstract update(): void;

	/** The form control `name` (a `RadioNodeList` for a group of radios). */
	protected field<T extends Element | RadioNodeList = HTMLInputElement>(name: string): T {
		return this.form.elements.namedItem(name) as unknown as T;
	}

	protected out(name: string): HTMLElement | null {
		return this.querySelector<HTMLElement>(`[data-out="${name}"]`);
	}

	/** Set the text of `[data-out="<name>"]`: values reach the DOM only as text. */
	protected set(name: string, text: string): void {
		const el = this.out(name);
		if (el) el.textContent = text;
	}
}
