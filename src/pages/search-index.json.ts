/**
 * `/search-index.json`: the symptom search index, written once at build time to
 * `dist/client/search-index.json`. The site's search box fetches it as a static file (so search
 * works whatever state the check server is in), and `runbook search` reads the same file
 * (`src/search/node.ts`). Built from `content/runbooks` through the same reader as the CLI
 * (`loadRunbooks`), not the content collection, so an in-memory rebuild by the CLI gives a
 * byte-identical index.
 */
import type { APIRoute } from 'astro';
import { buildIndex } from '../search/engine.ts';
import { searchSources } from '../search/node.ts';

export const prerender = true;

export const GET: APIRoute = async () => Response.json(buildIndex(await searchSources()));
