/**
 * Incident notes: Markdown to paste into a ticket or the incident channel. They say when, who, which
 * runbook on which hosts (with the host-key fingerprint each presented), every check's verdict and
 * summary, the highlighted evidence lines under the command that printed them, the diagnosis, the
 * fix step, and every command run.
 *
 * Built only from a `Diagnosis` or `FleetDiagnosis` and the operator's name, which the caller passes
 * (the CLI uses the OS user name). Nothing in those carries an identity file, a user or an inventory
 * variable, so nothing secret can reach the notes. Pure; the page uses it for its copy button.
 */
import type { Status } from '../core/status.ts';
import type { DecidingEvidence, Diagnosis, FleetDiagnosis, StepOutcome } from './types.ts';

export interface NotesMeta {
	/** When the run started; written as ISO 8601 UTC. */
	at: Date | string | number;
	/** Who ran it: a login name, never a credential. */
	operator: string;
	/** Prefix for site links (`https://runbooks.example.net`); links stay site-relative without it. */
	baseUrl?: string;
}

const WORD: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR', skip: 'SKIP' };

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const code = (s: string) => {
	const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
	const tick = '`'.repeat(longest + 1);
	return longest ? `${tick} ${s} ${tick}` : `${tick}${s}${tick}`;
};

/** A fenced block that no backtick run inside it can close. */
function fenced(lang: string, lines: readonly string[]): string[] {
	const longest = Math.max(0, ...lines.flatMap((l) => [...l.matchAll(/`+/g)].map((m) => m[0].length)));
	const fence = '`'.repeat(Math.max(3, longest + 1));
	return [`${fence}${lang}`, ...lines, fence];
}

function evidenceBlock(evidence: readonly DecidingEvidence[]): string[] {
	if (evidence.length === 0) return [];
	const lines: string[] = [];
	for (const e of evidence) {
		const exit = e.code !== undefined && e.code !== null && e.code !== 0 ? `   # exit ${e.code}` : '';
		lines.push(`$ ${e.command}${exit}${e.truncated ? '   # output cut at the cap' : ''}`);
		for (const l of e.lines) lines.push(`${String(l.n).padStart(4)} | ${l.text}`);
	}
	return ['', ...fenced('text', lines)];
}

function utc(at: NotesMeta['at']): string {
	return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const link = (href: string, meta: NotesMeta) => `${(meta.baseUrl ?? '').replace(/\/$/, '')}${href}`;

const keyText = (hostKey: string | null) => (hostKey ? `host key ${code(hostKey)}` : 'no host key (local, or not connected)');

/** Every command run, each once, in the order first run; with several hosts, where not on all. */
function commandsRun(perHost: readonly { host: string; steps: readonly StepOutcome[] }[]): string[] {
	const where = new Map<string, string[]>();
	for (const h of perHost) {
		for (const s of h.steps) {
			for (const c of s.commands) {
				const hosts = where.get(c) ?? [];
				if (!hosts.includes(h.host)) hosts.push(h.host);
				where.set(c, hosts);
			}
		}
	}
	if (where.size === 0) return ['', 'None: no check reached a host.'];
	const lines = [...where].map(([c, hosts]) =>
		perHost.length > 1 && hosts.length < perHost.length ? `${c}   # on ${hosts.join(', ')}` : c,
	);
	return ['', ...fenced('sh', lines)];
}

function hostNotes(d: Diagnosis, meta: NotesMeta): string[] {
	const out = [
		`## Incident notes: ${oneLine(d.runbook.title)}`,
		'',
		`- Time: ${utc(meta.at)}`,
		`- Operator: ${oneLine(meta.operator)}`,
		`- Runbook: [${oneLine(d.runbook.title)}](${link(d.runbook.href, meta)}) (${code(d.runbook.slug)})`,
		`- Host: ${code(d.host)}, ${keyText(d.hostKey)}`,
		`- Result: ${WORD[d.status]}`,
		`- Diagnosis: ${oneLine(d.headline)}`,
	];
	if (d.fixStep) out.push(`- Next step: ${link(d.fixStep.href, meta)}`);
	if (d.tryNext.length) out.push(`- Try next: ${d.tryNext.map((r) => `[${oneLine(r.title)}](${link(r.href, meta)})`).join(', ')}`);
	out.push('', '### Verdicts');
	d.steps.forEach((s, i) => {
		out.push('', `${i + 1}. **${WORD[s.status]}** ${code(s.check)} (${oneLine(s.title)}): ${oneLine(s.summary)}`);
		if (s.status === 'error' && s.hint) out.push(`   Hint: ${oneLine(s.hint)}`);
		out.push(...evidenceBlock(s.evidence).map((l) => (l ? `   ${l}` : l)));
	});
	out.push('', '### Commands run', ...commandsRun([{ host: d.host, steps: d.steps }]));
	return out;
}

function fleetNotes(f: FleetDiagnosis, meta: NotesMeta): string[] {
	const out = [
		`## Incident notes: ${oneLine(f.runbook.title)}`,
		'',
		`- Time: ${utc(meta.at)}`,
		`- Operator: ${oneLine(meta.operator)}`,
		`- Runbook: [${oneLine(f.runbook.title)}](${link(f.runbook.href, meta)}) (${code(f.runbook.slug)})`,
		`- Result: ${f.summary}`,
		`- Diagnosis: ${oneLine(f.headline)}`,
		'- Hosts:',
		...f.grid.map((row) => `  - ${code(row.host)}: ${WORD[row.status]}, ${keyText(row.hostKey)}`),
		'',
		'### Grid',
		'',
		`| host | ${f.checks.map((c) => code(c.id)).join(' | ')} |`,
		`| --- | ${f.checks.map(() => '---').join(' | ')} |`,
		...f.grid.map((row) => {
			const cell = (id: string) => {
				const s = row.cells[id];
				if (!s) return '';
				const odd = f.outliers.some((o) => o.host === row.host && o.check === id);
				return `${WORD[s]}${odd ? ' (outlier)' : ''}`;
			};
			return `| ${code(row.host)} | ${f.checks.map((c) => cell(c.id)).join(' | ')} |`;
		}),
	];
	if (f.outliers.length) {
		out.push('', '### Outliers', '');
		for (const o of f.outliers) {
			const why = [
				...(o.statusDiffers ? [`${o.status} where most hosts are ${o.majorityStatus}`] : []),
				...o.facts.map((x) => `${x.key} ${x.value} where most have ${x.majority}`),
			];
			out.push(`- ${code(o.host)}, ${code(o.check)}: ${why.join('; ')}`);
		}
	}
	const causes = f.hosts.filter((d) => d.likelyCause || d.undecided.length);
	if (causes.length) {
		out.push('', '### Per host', '');
		for (const d of causes) out.push(`- ${oneLine(d.headline)}`);
	}
	out.push('', '### Verdicts, hosts with identical output together');
	f.groups.forEach((g, i) => {
		const title = f.checks.find((c) => c.id === g.check)?.title ?? g.check;
		out.push('', `${i + 1}. ${code(g.check)} (${oneLine(title)})`);
		for (const group of g.groups) {
			out.push('', `   **${WORD[group.status]}** on ${group.hosts.map(code).join(', ')}: ${oneLine(group.summary)}`);
			out.push(...evidenceBlock(group.evidence).map((l) => (l ? `   ${l}` : l)));
		}
	});
	out.push('', '### Commands run', ...commandsRun(f.hosts.map((d) => ({ host: d.host, steps: d.steps }))));
	return out;
}

/** The notes for one host or a fleet, Markdown, ending in a newline. */
export function incidentNotes(d: Diagnosis | FleetDiagnosis, meta: NotesMeta): string {
	const lines = 'grid' in d ? fleetNotes(d, meta) : hostNotes(d, meta);
	return `${lines.join('\n')}\n`;
}
