/**
 * Every check and every runbook keeps the contract (DESIGN.md, STYLE.md). Adding a check adds its
 * module, its test and its fixtures and nothing else; this suite is what keeps that true.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry-node.ts';
import { loadRunbooks } from '../../src/core/runbooks-node.ts';
import { projectRoot } from '../../src/core/paths.ts';
import { paramDocs } from '../../src/runner/params.ts';
import { parseNext } from '../../src/core/next.ts';

const registry = await loadRegistry();
const runbooks = await loadRunbooks();

describe('checks', () => {
	it('there is at least one', () => {
		expect(registry.ids().length).toBeGreaterThan(0);
	});

	for (const id of registry.ids()) {
		const check = registry.get(id);
		const [area, name] = id.split('.') as [string, string];
		const file = join(projectRoot, 'checks', area, `${name}.ts`);
		const source = readFileSync(file, 'utf8');

		describe(id, () => {
			it('id is <area>.<kebab-name> and equals its path', () => {
				expect(id).toMatch(/^[a-z0-9]+\.[a-z0-9]+(-[a-z0-9]+)*$/);
				expect(existsSync(file)).toBe(true);
			});
			it('never mutates', () => {
				expect(check.mutates).toBe(false);
			});
			it('params schema is strict: unknown keys are refused', () => {
				expect(check.params.safeParse({ zzUnknownParam: 1 }).success).toBe(false);
			});
			it('describes every parameter (the text `runbook list` prints)', () => {
				for (const p of paramDocs(check)) expect(p.description, `${id} param ${p.name}`).toBeTruthy();
			});
			it('declares its platforms', () => {
				expect(check.platforms.length).toBeGreaterThan(0);
			});
			it('has a unit test and at least two real fixtures', () => {
				expect(existsSync(join(projectRoot, 'checks', area, `${name}.test.ts`))).toBe(true);
				const dir = join(projectRoot, 'checks', area, 'fixtures', name);
				expect(existsSync(dir)).toBe(true);
				expect(readdirSync(dir).filter((f) => f.endsWith('.txt')).length).toBeGreaterThanOrEqual(2);
			});
			it('starts with a header comment', () => {
				expect(source.trimStart().startsWith('/**')).toBe(true);
			});
			it('imports only zod and src/core', () => {
				const imports = [...source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
				for (const spec of imports) expect(spec === 'zod' || /^(\.\.\/)+src\/core\//.test(spec) || /^\.\//.test(spec), `${id} imports ${spec}`).toBe(true);
			});
			it('its next steps exist: #anchor in every runbook that lists it, slug#anchor in that runbook', () => {
				const users = runbooks.filter((r) => r.checks.includes(id));
				expect(users.length, `${id} is embedded in no runbook`).toBeGreaterThan(0);
				for (const next of check.nextSteps) {
					const { slug, anchor } = parseNext(next);
					const where = slug === undefined ? users : runbooks.filter((r) => r.slug === slug);
					expect(where.length, `${id}: next ${next} names no runbook`).toBeGreaterThan(0);
					for (const r of where) expect(r.anchors, `${r.slug} lacks heading #${anchor}`).toContain(`#${anchor}`);
				}
			});
		});
	}
});

describe('runbooks', () => {
	it('there is at least one', () => {
		expect(runbooks.length).toBeGreaterThan(0);
	});
	for (const r of runbooks) {
		describe(r.slug, () => {
			it('slug is kebab-case', () => {
				expect(r.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
			});
			it('every check it lists exists', () => {
				for (const id of r.checks) expect(registry.has(id), `${r.slug} lists unknown check ${id}`).toBe(true);
			});
			it('every <Check id> in the body is registered and listed in the frontmatter', () => {
				const embedded = [...r.body.matchAll(/<Check\b[^>]*\bid=["']([^"']+)["']/g)].map((m) => m[1]!);
				expect(embedded.length).toBeGreaterThan(0);
				for (const id of embedded) {
					expect(registry.has(id), `${r.slug} embeds unknown check ${id}`).toBe(true);
					expect(r.checks).toContain(id);
				}
			});
			it('related runbooks exist', () => {
				for (const s of r.related) expect(runbooks.map((x) => x.slug)).toContain(s);
			});
		});
	}
});
