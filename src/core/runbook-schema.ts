/**
 * Runbook frontmatter (ours; Starlight's `docsSchema()` is extended with it in
 * `src/content.config.ts`, and the CLI validates the same fields when it reads the MDX directly).
 */
import { z } from 'zod';

export const RunbookFrontmatterSchema = z.object({
	/** Page title: the failure as the engineer sees it, e.g. "OVS-DPDK will not start: EAL: Failed to remap 2 MB pages". */
	title: z.string().min(1),
	/** One line: the cause and the fix, for lists and search results. */
	summary: z.string().min(1),
	/** How people describe what they see, several phrasings; the home page and search lead with these. */
	symptoms: z.array(z.string().min(1)).min(1),
	/** Exact strings from logs and tools (error lines, counter names) that identify this failure. */
	signatures: z.array(z.string().min(1)).default([]),
	/** Areas (dpdk, kernel, mtu, ...). */
	tags: z.array(z.string()).default([]),
	/** Check ids this runbook embeds, in step order. */
	checks: z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/)).default([]),
	/** Slugs of runbooks with overlapping symptoms. */
	related: z.array(z.string()).default([]),
});
export type RunbookFrontmatter = z.infer<typeof RunbookFrontmatterSchema>;
