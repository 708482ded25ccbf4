/**
 * Runbooks read straight from `content/runbooks/*.mdx` for the CLI (which has no Astro content
 * layer). Only the frontmatter and the headings are read.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { glob } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { RunbookError } from './errors.ts';
import { projectRoot } from './paths.ts';
import { RunbookFrontmatterSchema, type RunbookFrontmatter } from './runbook-schema.ts';

export interface RunbookInfo extends RunbookFrontmatter {
	slug: string;
	/** Anchors of the `##`/`###` headings, as the site slugs them (`#raise-the-limit`). */
	anchors: string[];
	/** Check id -> the anchor (without `#`) of the `##` step it is embedded under. */
	steps: Record<string, string>;
	body: string;
}

/** github-slugger's rule, which Astro uses for heading ids: lower case, drop punctuation, spaces to dashes. */
export function headingAnchor(text: string): string {
	return (
		'#' +
		text
			.trim()
			.toLowerCase()
			.replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
			.replace(/\s/g, '-')
	);
}

export function parseRunbook(slug: string, source: string): RunbookInfo {
	const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(source);
	if (!m) throw new Error(`content/runbooks/${slug}.mdx: no frontmatter`);
	const front = RunbookFrontmatterSchema.safeParse(parseYaml(m[1]!));
	if (!front.success)
		throw new Error(`content/runbooks/${slug}.mdx: ${front.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
	const body = m[2]!;
	const anchors: string[] = [];
	const steps: Record<string, string> = {};
	let fenced = false;
	let step: string | undefined;
	for (const line of body.split('\n')) {
		if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
		const h = !fenced && /^(#{2,6})\s+(.+?)\s*#*\s*$/.exec(line);
		if (h) {
			const anchor = headingAnchor(h[2]!.replace(/`/g, ''));
			anchors.push(anchor);
			if (h[1] === '##') step = anchor.slice(1);
		}
		for (const c of fenced ? [] : line.matchAll(/<Check\b[^>]*\bid=["']([^"']+)["']/g)) if (step !== undefined) steps[c[1]!] ??= step;
	}
	return { ...front.data, slug, anchors, steps, body };
}

export async function loadRunbooks(root: string = projectRoot): Promise<RunbookInfo[]> {
	const files = await glob('content/runbooks/*.mdx', { cwd: root });
	const out: RunbookInfo[] = [];
	for (const f of files.sort()) out.push(parseRunbook(basename(f, '.mdx'), await readFile(join(root, f), 'utf8')));
	return out;
}

export async function getRunbook(slug: string, root?: string): Promise<RunbookInfo> {
	const all = await loadRunbooks(root);
	const rb = all.find((r) => r.slug === slug);
	if (!rb) throw new RunbookError('UnknownRunbook', `no runbook "${slug}"; known: ${all.map((r) => r.slug).join(', ')}`);
	return rb;
}
