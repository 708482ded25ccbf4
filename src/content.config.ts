/**
 * The `docs` collection Starlight renders: one runbook per `content/runbooks/<slug>.mdx`, served at
 * `/<slug>/` (slugs are public API: alert links point at them). The frontmatter is Starlight's own
 * extended with ours (`src/core/runbook-schema.ts`), so a runbook missing its symptoms fails the build.
 */
import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { docsSchema } from '@astrojs/starlight/schema';
import { RunbookFrontmatterSchema } from './core/runbook-schema.ts';

export const collections = {
	docs: defineCollection({
		loader: glob({ base: './content/runbooks', pattern: '**/*.mdx' }),
		schema: docsSchema({ extend: RunbookFrontmatterSchema.omit({ title: true }) }),
	}),
};
