/**
 * Registry loader for Node (the CLI and tests): globs `checks/<area>/<name>.ts` under the project
 * root and imports each. The site builds the same registry through `import.meta.glob`.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { buildRegistry, type Registry } from './registry.ts';
import { projectRoot } from './paths.ts';

let cached: Promise<Registry> | undefined;

export function loadRegistry(root: string = projectRoot): Promise<Registry> {
	if (root === projectRoot && cached) return cached;
	const p = (async () => {
		const files = await glob(['checks/*/*.ts', '!checks/*/*.test.ts'], { cwd: root });
		const modules: Record<string, unknown> = {};
		for (const f of files.sort()) modules[f] = await import(pathToFileURL(join(root, f)).href);
		return buildRegistry(modules);
	})();
	if (root === projectRoot) cached = p;
	return p;
}
