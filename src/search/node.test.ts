import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../core/paths.ts';
import { buildIndex, search } from './engine.ts';
import { builtIndexPath, loadSearchIndex, searchSources } from './node.ts';

let root: string;

beforeAll(() => {
	root = mkdtempSync(join(tmpdir(), 'runbook-search-'));
	cpSync(join(projectRoot, 'content', 'runbooks'), join(root, 'content', 'runbooks'), { recursive: true });
});

afterAll(() => {
	if (root) rmSync(root, { recursive: true, force: true });
});

describe('loadSearchIndex', () => {
	it('builds in memory when the site is not built', async () => {
		const { from, index } = await loadSearchIndex(root);
		expect(from).toBe('memory');
		expect(search(index, 'EAL: Failed to remap 2 MB pages')[0]?.slug).toBe('hugepage-map-count');
	});

	it('reads the built index when it was built from the runbooks as they are', async () => {
		const file = builtIndexPath(root);
		mkdirSync(dirname(file), { recursive: true });
		writeFileSync(file, JSON.stringify(buildIndex(await searchSources(root))));
		expect((await loadSearchIndex(root)).from).toBe('built');
	});

	it('rebuilds in memory when a runbook changed since the build, and ranks with the change', async () => {
		const mdx = join(root, 'content', 'runbooks', 'ecmp-imbalance.mdx');
		writeFileSync(mdx, readFileSync(mdx, 'utf8').replace('symptoms:\n', 'symptoms:\n  - the quokka counter keeps climbing\n'));
		const { from, index } = await loadSearchIndex(root);
		expect(from).toBe('memory');
		expect(search(index, 'quokka counter')[0]?.slug).toBe('ecmp-imbalance');
	});

	it('ignores a built file it cannot read', async () => {
		writeFileSync(builtIndexPath(root), '{ not json');
		expect((await loadSearchIndex(root)).from).toBe('memory');
	});
});
