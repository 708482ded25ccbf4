/**
 * Human output for a terminal: the verdict first (status, check, host), then the summary, the facts,
 * the deciding evidence lines (marked `>`), the fix and where to read next. Full outputs stay short:
 * a few lines around the deciding ones, with a count of what was folded.
 */
import type { VerdictRecord } from '../../runner/types.ts';
import type { Status } from '../../core/status.ts';
import { nextHref } from '../../core/next.ts';

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const COLOUR: Record<Status, string> = { pass: '32', warn: '33', fail: '31', error: '35', skip: '90' };
export const paint = (s: Status, text: string) => (useColour ? `\x1b[${COLOUR[s]};1m${text}\x1b[0m` : text);

const CONTEXT = 2;
const MAX_UNMARKED = 12;

function evidenceLines(output: string, marked: number[]): string[] {
	const lines = output.replace(/\n$/, '').split('\n');
	const show = new Set<number>();
	if (marked.length === 0 || lines.length <= MAX_UNMARKED) lines.forEach((_, i) => show.add(i + 1));
	for (const m of marked) for (let i = m - CONTEXT; i <= m + CONTEXT; i++) if (i >= 1 && i <= lines.length) show.add(i);
	const out: string[] = [];
	let skipped = 0;
	lines.forEach((line, i) => {
		const n = i + 1;
		if (!show.has(n) || (marked.length === 0 && out.length >= MAX_UNMARKED)) {
			skipped++;
			return;
		}
		if (skipped) out.push(`      … ${skipped} line${skipped > 1 ? 's' : ''}`);
		skipped = 0;
		out.push(`    ${marked.includes(n) ? '>' : ' '} ${String(n).padStart(3)} | ${line}`);
	});
	if (skipped) out.push(`      … ${skipped} line${skipped > 1 ? 's' : ''}`);
	return out;
}

export function formatVerdict(v: VerdictRecord, runbookSlug?: string): string {
	const out = [`${paint(v.status, v.status.toUpperCase().padEnd(5))} ${v.check} on ${v.host} (${v.durationMs} ms)`, `  ${v.summary}`];
	if (v.code) out.push(`  code: ${v.code}`);
	if (v.hint) out.push(`  hint: ${v.hint}`);
	const facts = Object.entries(v.facts);
	if (facts.length) out.push(`  facts: ${facts.map(([k, x]) => `${k}=${Array.isArray(x) ? x.join(',') : String(x)}`).join(' ')}`);
	if (v.diagram) {
		out.push(`  ${v.diagram.title}:`);
		v.diagram.lines.forEach((line, i) => out.push(`    ${v.diagram!.marked?.includes(i + 1) ? '>' : ' '} ${line}`));
	}
	for (const e of v.evidence) {
		out.push(`  $ ${e.command}${e.code !== undefined && e.code !== 0 ? `   (exit ${e.code})` : ''}${e.truncated ? '   (cut)' : ''}`);
		out.push(...evidenceLines(e.output, e.lines));
	}
	if (v.fix?.length) {
		out.push('  fix (run by hand after reading the runbook step):');
		for (const f of v.fix) out.push(`    ${f}`);
	}
	if (v.next) out.push(`  next: ${nextHref(v.next, runbookSlug)}`);
	if (v.hostKey) out.push(`  host key: ${v.hostKey}`);
	return out.join('\n');
}
