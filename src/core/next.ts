/**
 * Where a verdict points the reader next (`Verdict.next`). Kept free of zod so the browser bundle
 * can use it.
 */

/** `#anchor` -> the same runbook; `slug#anchor` -> another runbook's step. */
export function parseNext(next: string): { slug?: string; anchor: string } {
	const i = next.indexOf('#');
	if (i <= 0) return { anchor: next.slice(i + 1) };
	return { slug: next.slice(0, i), anchor: next.slice(i + 1) };
}

/** The link for a `next`, relative to the site root; `currentSlug` resolves a same-runbook anchor. */
export function nextHref(next: string, currentSlug?: string): string {
	const { slug, anchor } = parseNext(next);
	const page = slug ?? currentSlug;
	return page ? `/${page}/#${anchor}` : `#${anchor}`;
}
