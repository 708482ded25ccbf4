// The site: Starlight for the docs shell (sidebar, dark mode, Pagefind search), runbook pages
// prerendered to static HTML so they load instantly and work with the check server down, and
// `/api/*` rendered on demand by the node adapter's standalone server (each API route sets
// `export const prerender = false`).
import mdx from '@astrojs/mdx';
import node from '@astrojs/node';
import starlight from '@astrojs/starlight';
import { defineConfig } from 'astro/config';
import { loadRunbooks } from './src/core/runbooks-node.ts';

// Starlight's `autogenerate` only understands its own `src/content/docs/` folder, and runbooks live
// in `content/runbooks/`, so the sidebar is built here from the same files, one link per runbook.
const runbooks = await loadRunbooks();

export default defineConfig({
	server: { host: '127.0.0.1' },
	adapter: node({ mode: 'standalone' }),
	integrations: [
		starlight({
			title: 'Runbook KB',
			description: 'Incident runbooks whose steps run read-only checks over SSH and show the verdict inline.',
			favicon: '/favicon.svg',
			pagefind: true,
			customCss: ['./src/styles/runbook.css'],
			// The symptom search box in the header of every page, beside Starlight's own search.
			components: { Search: './src/components/HeaderSearch.astro' },
			sidebar: [
				{ label: 'By symptom', link: '/' },
				{ label: 'Training', link: '/training/' },
				{
					label: 'Runbooks',
					items: runbooks.toSorted((a, b) => a.title.localeCompare(b.title)).map((r) => ({ slug: r.slug })),
				},
			],
		}),
		// Listed after Starlight, as its docs ask; Starlight then skips adding its own copy.
		mdx(),
	],
});
