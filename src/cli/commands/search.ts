/**
 * `runbook search "<symptom text>"`: ranked runbooks for what the engineer sees, with the same
 * index and the same ranking as the site's search box (`src/search/engine.ts`). The text may be a
 * description ("ping works but ssh hangs") or a pasted log line; `-` reads it from stdin, so
 * `dmesg | tail -n 20 | runbook search -` works.
 *
 * Exit codes: 0 at least one runbook matched, 1 none did, 2 no text was given.
 */
import { text as readStream } from 'node:stream/consumers';
import { RunbookError } from '../../core/errors.ts';
import type { SearchHit } from '../../search/engine.ts';
import { search } from '../../search/engine.ts';
import { loadSearchIndex } from '../../search/node.ts';

export const SEARCH_HELP = `
The text can be what you see ("ping works but ssh hangs") or a log line pasted whole; timestamps,
addresses and process ids in it are ignored. Use - to read it from stdin.

Output: each runbook with the symptom or signature that matched and its page (/slug/), best first.
--json prints [{ "slug", "title", "score", "matched" }], best first; a score of 1 or more means a
signature (an exact log or tool string) was recognised in the text.

Exit codes:
  0  at least one runbook matched
  1  no runbook matched
  2  no search text was given`;

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

function marked(hit: SearchHit): string {
	if (!useColour || hit.highlight.length === 0) return hit.matched;
	let out = '';
	let at = 0;
	for (const [start, end] of hit.highlight) {
		out += `${hit.matched.slice(at, start)}\x1b[1m${hit.matched.slice(start, end)}\x1b[0m`;
		at = end;
	}
	return out + hit.matched.slice(at);
}

export async function searchCommand(words: string[], o: { json?: boolean }): Promise<number> {
	const text = words.length === 1 && words[0] === '-' ? await readStream(process.stdin) : words.join(' ');
	if (text.trim() === '') {
		throw new RunbookError('InvalidArgument', 'no search text given', {
			hint: 'Type what you see, e.g. runbook search "ping works but ssh hangs", or pipe a log into runbook search -.',
		});
	}
	const { index } = await loadSearchIndex();
	const hits = search(index, text);
	if (o.json)
		process.stdout.write(
			JSON.stringify(
				hits.map(({ slug, title, score, matched }) => ({ slug, title, score, matched })),
				null,
				2,
			) + '\n',
		);
	if (hits.length === 0) {
		process.stderr.write(
			`runbook: no runbook matches "${text.trim().replace(/\s+/g, ' ').slice(0, 80)}"; try fewer or other words, or the exact error line\n`,
		);
		return 1;
	}
	if (o.json) return 0;
	const out: string[] = [];
	hits.forEach((h, i) => {
		out.push(`${i + 1}. ${h.title}`, `   ${h.slug}  /${h.slug}/`);
		out.push(h.field === 'body' ? '   matched in the body text' : `   ${h.field}: ${marked(h)}`);
	});
	process.stdout.write(out.join('\n') + '\n');
	return 0;
}
