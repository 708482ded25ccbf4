/**
 * The check registry, built from whatever modules a loader found under `checks/**`.
 *
 * There is no hand-kept list: the CLI globs the folder (`registry-node.ts`), the site uses Vite's
 * `import.meta.glob` (`src/site/registry.ts`), and both hand the modules to `buildRegistry`, so the
 * same ids come out of both (a test proves it).
 */
import type { CheckDefinition } from './check.ts';
import { RunbookError } from './errors.ts';

export interface Registry {
	readonly checks: ReadonlyMap<string, CheckDefinition>;
	/** The check with this id; throws `UnknownCheck`. */
	get(id: string): CheckDefinition;
	has(id: string): boolean;
	ids(): string[];
}

/** `checks/kernel/max-map-count.ts` -> `kernel.max-map-count`; null for non-check files. */
export function checkIdFromPath(path: string): string | null {
	const m = /(?:^|\/)checks\/([a-z0-9-]+)\/([a-z0-9-]+)\.ts$/.exec(path.replaceAll('\\', '/'));
	if (!m || m[2]!.endsWith('.test')) return null;
	return `${m[1]}.${m[2]}`;
}

function isCheck(x: unknown): x is CheckDefinition {
	return (
		typeof x === 'object' && x !== null && typeof (x as CheckDefinition).id === 'string' && typeof (x as CheckDefinition).run === 'function'
	);
}

/** Modules keyed by path, each with the check as its default export. */
export function buildRegistry(modules: Record<string, unknown>): Registry {
	const checks = new Map<string, CheckDefinition>();
	for (const [path, mod] of Object.entries(modules).sort(([a], [b]) => a.localeCompare(b))) {
		const expected = checkIdFromPath(path);
		if (expected === null) continue;
		const check = (mod as { default?: unknown }).default;
		if (!isCheck(check)) throw new Error(`${path}: a check module must export default defineCheck({...})`);
		if (check.id !== expected) throw new Error(`${path}: check id "${check.id}" does not match its path (expected "${expected}")`);
		if (checks.has(check.id)) throw new Error(`${path}: duplicate check id "${check.id}"`);
		checks.set(check.id, check);
	}
	return {
		checks,
		has: (id) => checks.has(id),
		ids: () => [...checks.keys()],
		get(id) {
			const c = checks.get(id);
			if (!c) throw new RunbookError('UnknownCheck', `no check "${id}"; known: ${[...checks.keys()].join(', ')}`);
			return c;
		},
	};
}
