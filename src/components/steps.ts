/**
 * The steps of a runbook as the site numbers them, and its `<Step>` tags, read from the MDX body
 * without compiling it. `<Step>` and `<RunAll>` use it at build time; the conformance test uses it
 * to check every runbook the same way.
 *
 * Numbering: every `##` heading is a step, in page order, except "What you see" (the symptoms) and
 * "Sources" (references): `NOT_STEPS`. A `###` heading belongs to the step above it. The page
 * numbers its headings with a CSS counter over the same rule (runbook.css), so "go to step 5" and
 * the "5." in front of the heading agree.
 *
 * A `<Step>` tag: `<Step fail="#raise-the-limit" pass="#if-the-check-passes">`, attributes named
 * after verdict statuses, each one or more targets separated by spaces: `#anchor` on this runbook
 * or `slug#anchor` on another, as a verdict's `next` (src/core/next.ts). It wraps its step's
 * `<Check>` blocks and closes with `</Step>`; its step is the `##` heading above it. Tags in fenced
 * code blocks and inline code spans are text and are skipped.
 */
import { embeddedChecks, proseOnly } from '../core/embedded-checks.ts';
import { parseNext } from '../core/next.ts';
import { headingAnchor, type RunbookInfo } from '../core/runbooks-node.ts';

/** Anchors of `##` headings that are not steps. */
export const NOT_STEPS: readonly string[] = ['what-you-see', 'sources'];

/** The statuses a step may branch on, in the order the branches are shown. */
export const BRANCHES = ['fail', 'warn', 'pass', 'skip', 'error'] as const;
export type Branch = (typeof BRANCHES)[number];

export interface Heading {
	level: number;
	/** Without `#`; repeated titles get `-1`, `-2` as the page's ids do (github-slugger). */
	anchor: string;
	title: string;
	/** The number of the step it is or belongs to; null before the first step, and for "What you see" and "Sources". */
	step: number | null;
	/** The title of that step's `##` heading. */
	stepTitle: string | null;
	/** Where the heading line starts in the body. */
	offset: number;
}

export interface StepTag {
	/** The tag as written, for messages. */
	tag: string;
	branches: Partial<Record<Branch, string[]>>;
	/** Check ids of the `<Check>` blocks it wraps, in page order. */
	checks: string[];
	/** The `##` heading above it; null when there is none. */
	heading: Heading | null;
	offset: number;
}

/** Every heading of the body, numbered by step (see the header). */
export function headingsOf(body: string): Heading[] {
	const text = proseOnly(body);
	const lines = body.split('\n');
	const seen = new Map<string, number>();
	const out: Heading[] = [];
	let step = 0;
	let current: { step: number; title: string } | null = null;
	let offset = 0;
	for (const [i, line] of text.split('\n').entries()) {
		const h = /^(#{2,6})\s+(.+?)\s*#*\s*$/.exec(line);
		if (h) {
			// The blanked copy hides inline code; the title comes from the original line.
			const original = /^(#{2,6})\s+(.+?)\s*#*\s*$/.exec(lines[i]!)!;
			const title = original[2]!.replace(/`/g, '');
			const base = headingAnchor(title).slice(1);
			let anchor = base;
			while (seen.has(anchor)) {
				seen.set(base, seen.get(base)! + 1);
				anchor = `${base}-${seen.get(base)}`;
			}
			seen.set(anchor, 0);
			const level = h[1]!.length;
			if (level === 2) current = NOT_STEPS.includes(anchor) ? null : { step: ++step, title };
			out.push({ level, anchor, title, step: current?.step ?? null, stepTitle: current?.title ?? null, offset });
		}
		offset += line.length + 1;
	}
	return out;
}

const ATTRIBUTE = /^([A-Za-z]+)=(?:"([^"]*)"|'([^']*)')/;

/** Every `<Step ...>...</Step>` of the body, in page order. Throws, naming the tag, on one it cannot read. */
export function stepTags(body: string): StepTag[] {
	const text = proseOnly(body);
	const headings = headingsOf(body).filter((h) => h.level === 2);
	const out: StepTag[] = [];
	const open = /<Step(?=[\s>])/g;
	for (let m = open.exec(text); m !== null; m = open.exec(text)) {
		const end = text.indexOf('>', m.index);
		const tag = body.slice(m.index, end + 1);
		const bad = (why: string): never => {
			throw new Error(`${tag.replace(/\s+/g, ' ') || '<Step'}: ${why}`);
		};
		if (end < 0) bad('the tag is not closed');
		if (tag.endsWith('/>')) bad('a <Step> wraps the <Check> blocks of its step: write <Step ...> ... </Step>');
		const branches: Partial<Record<Branch, string[]>> = {};
		for (let rest = tag.slice('<Step'.length, -1).trim(); rest !== ''; rest = rest.trim()) {
			const a = ATTRIBUTE.exec(rest);
			if (!a) bad(`cannot read "${/^\S{1,40}/.exec(rest)?.[0]}": a <Step> takes fail="...", warn, pass, skip and error, each quoted`);
			const name = a![1]!;
			if (!(BRANCHES as readonly string[]).includes(name))
				bad(`"${name}" is not a verdict status; a <Step> branches on ${BRANCHES.join(', ')}`);
			if (branches[name as Branch]) bad(`${name} given twice`);
			const targets = (a![2] ?? a![3]!).split(/\s+/).filter(Boolean);
			if (targets.length === 0) bad(`${name}="" names no step`);
			for (const t of targets) if (!/^([a-z0-9-]+)?#[\w-]+$/.test(t)) bad(`"${t}" is not #anchor or runbook-slug#anchor`);
			branches[name as Branch] = targets;
			rest = rest.slice(a![0].length);
		}
		if (Object.keys(branches).length === 0) bad('no branch: say where a verdict leads, e.g. fail="#fix-it" pass="#if-every-check-passes"');
		const close = text.indexOf('</Step>', end);
		if (close < 0) bad('no </Step> closes it');
		const next = text.slice(end + 1, close).search(/<Step(?=[\s>])/);
		if (next >= 0) bad('a <Step> inside a <Step>: close the first with </Step> before the next step');
		const inner = body.slice(end + 1, close);
		const checks = embeddedChecks(inner).map((c) => c.id);
		if (checks.length === 0) bad('it wraps no <Check>: a <Step> holds the check(s) its branches are about');
		const heading = headings.filter((h) => h.offset < m!.index).at(-1) ?? null;
		out.push({ tag, branches, checks, heading, offset: m.index });
		open.lastIndex = close;
	}
	return out;
}

/** Where a branch leads, resolved against the runbooks. */
export interface BranchTarget {
	/** As written: `#raise-the-limit` or `overlay-mtu#fix-the-overlay-mtu`. */
	target: string;
	slug: string;
	anchor: string;
	/** Site-relative: `/hugepage-map-count/#raise-the-limit`. */
	href: string;
	sameRunbook: boolean;
	runbookTitle: string;
	/** The step it is or belongs to; null for a heading outside the numbered steps. */
	step: number | null;
	title: string;
	stepTitle: string | null;
}

/**
 * A branch target resolved from runbook `here`; throws when the runbook or the heading does not
 * exist (headings as `RunbookInfo.anchors` lists them).
 */
export function resolveTarget(target: string, here: string, runbooks: readonly RunbookInfo[]): BranchTarget {
	const { slug = here, anchor } = parseNext(target);
	const rb = runbooks.find((r) => r.slug === slug);
	if (!rb)
		throw new Error(`"${target}" names runbook "${slug}", which does not exist. Runbooks: ${runbooks.map((r) => r.slug).join(', ')}`);
	if (!rb.anchors.includes(`#${anchor}`)) {
		throw new Error(
			`"${target}": #${anchor} is not a heading of ${slug === here ? 'this runbook' : `runbook ${slug}`} (content/runbooks/${slug}.mdx). Its headings: ${rb.anchors.join(' ')}`,
		);
	}
	const h = headingsOf(rb.body).find((x) => x.anchor === anchor);
	return {
		target,
		slug,
		anchor,
		href: `/${slug}/#${anchor}`,
		sameRunbook: slug === here,
		runbookTitle: rb.title,
		step: h?.step ?? null,
		title: h?.title ?? anchor,
		stepTitle: h?.stepTitle ?? null,
	};
}

/** `step 5 (Raise the limit)`; a `###` heading names its step too: `step 6 (Delete the stray device: Verify)`. */
export function targetLabel(t: BranchTarget): string {
	const title = t.step !== null && t.stepTitle !== null && t.stepTitle !== t.title ? `${t.stepTitle}: ${t.title}` : t.title;
	return t.step === null ? title : `step ${t.step} (${title})`;
}

/** The start of a branch sentence: "If it fails", ... */
export const BRANCH_LEAD: Record<Branch, string> = {
	fail: 'If it fails',
	warn: 'If it warns',
	pass: 'If it passes',
	skip: 'If it does not apply here (skip)',
	error: 'If it cannot decide (error)',
};
