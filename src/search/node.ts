/**
 * The search index for Node (the CLI, tests, the benchmark). The site's build writes it to
 * `dist/client/search-index.json` (`src/pages/search-index.json.ts`); that file is used when it was
 * built from the runbooks as they are now. Otherwise (no build yet, or a runbook edited since) the
 * same `buildIndex` builds it in memory from `content/runbooks`, so the terminal ranks exactly as a
 * freshly built site would.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../core/paths.ts';
import { loadRunbooks, type RunbookInfo } from '../core/runbooks-node.ts';
import {
	buildIndex,
	byCodeUnit,
	INDEX_FORMAT,
	loadIndex,
	sourceHash,
	type SearchIndex,
	type SearchIndexData,
	type SearchSource,
} from './engine.ts';

export function searchSource(r: RunbookInfo): SearchSource {
	return { slug: r.slug, title: r.title, summary: r.summary, symptoms: r.symptoms, signatures: r.signatures, body: r.body };
}

export async function searchSources(root: string = projectRoot): Promise<SearchSource[]> {
	return (await loadRunbooks(root)).map(searchSource).sort((a, b) => byCodeUnit(a.slug, b.slug));
}

export function builtIndexPath(root: string = projectRoot): string {
	return join(root, 'dist', 'client', 'search-index.json');
}

export interface LoadedIndex {
	index: SearchIndex;
	/** `built`: read from the site build; `memory`: built from content/runbooks just now. */
	from: 'built' | 'memory';
}

export async function loadSearchIndex(root: string = projectRoot): Promise<LoadedIndex> {
	const sources = await searchSources(root);
	let built: SearchIndexData | undefined;
	try {
		built = JSON.parse(await readFile(builtIndexPath(root), 'utf8')) as SearchIndexData;
	} catch {
		// not built, or unreadable: build in memory below
	}
	if (built && built.format === INDEX_FORMAT && built.sourceHash === sourceHash(sources)) return { index: loadIndex(built), from: 'built' };
	return { index: loadIndex(buildIndex(sources)), from: 'memory' };
}
