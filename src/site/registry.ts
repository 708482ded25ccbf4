/**
 * The check registry as the site sees it: Vite's `import.meta.glob` over the same files the CLI
 * globs (`src/core/registry-node.ts`), handed to the same `buildRegistry`. Used at build time by
 * `<Check>` and at request time by the API, which runs only what is in here.
 */
import { buildRegistry, type Registry } from '../core/registry.ts';

export const registry: Registry = buildRegistry(import.meta.glob(['/checks/*/*.ts', '!/checks/*/*.test.ts'], { eager: true }));
