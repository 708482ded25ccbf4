/**
 * Human output for a diagnosis. One host: after its verdicts, the likely cause with its deciding
 * lines, the fix step, what was ruled out, what could not decide, and what to try next. Several
 * hosts: the count line first, then the host by check grid (outliers starred), the outputs grouped
 * where identical, the outliers with why, and one line per host that has something to say.
 */
import type { DecidingEvidence, Diagnosis, FleetDiagnosis } from '../../diagnosis/types.ts';
import { paint } from './text.ts';

function deciding(evidence: readonly DecidingEvidence[], indent: string): string[] {
	const out: string[] = [];
	for (const e of evidence) {
		out.push(
			`${indent}$ ${e.command}${e.code !== undefined && e.code !== null && e.code !== 0 ? `   (exit ${e.code})` : ''}${e.truncated ? '   (cut)' : ''}`,
		);
		for (const l of e.lines) out.push(`${indent}> ${String(l.n).padStart(3)} | ${l.text}`);
	}
	return out;
}

export function formatDiagnosis(d: Diagnosis): string {
	const out = [`Diagnosis: ${paint(d.status, d.status.toUpperCase())} ${d.runbook.slug} on ${d.host}`, `  ${d.headline}`];
	const c = d.likelyCause;
	if (c) {
		out.push(`  likely cause: ${c.check} (${c.title}), ${c.status}`, `    ${c.summary}`);
		if (c.route.length > 1) out.push(`    found by following the verdicts: ${c.route.join(' -> ')}`);
		if (c.evidence.length) out.push(...deciding(c.evidence, '    '));
		else out.push('    (the verdict marks no lines; its evidence is printed above)');
	} else {
		out.push('  likely cause: none found by these checks');
	}
	if (d.fixStep) {
		out.push(`  next step: ${d.fixStep.href}`);
		if (d.fixStep.fix.length) out.push('  fix (run by hand after reading that step):', ...d.fixStep.fix.map((f) => `    ${f}`));
	} else if (c) {
		out.push('  next step: the verdict names none; read the runbook');
	}
	const list = (label: string, items: readonly { check: string; summary: string }[], extra: (i: number) => string[] = () => []) => {
		if (items.length === 0) {
			out.push(`  ${label}: none`);
			return;
		}
		out.push(`  ${label}:`);
		items.forEach((x, i) => out.push(`    ${x.check}: ${x.summary}`, ...extra(i)));
	};
	if (d.alsoFound.length) {
		out.push('  also found:');
		for (const x of d.alsoFound) out.push(`    ${x.check} (${x.status}): ${x.summary}`, ...(x.next ? [`      next: ${x.next}`] : []));
	}
	list('ruled out', d.ruledOut);
	if (d.skipped.length) list('not applicable (skipped)', d.skipped);
	list('could not decide', d.undecided, (i) => {
		const u = d.undecided[i]!;
		return [...(u.code ? [`      code: ${u.code}`] : []), ...(u.hint ? [`      hint: ${u.hint}`] : [])];
	});
	if (d.tryNext.length) {
		out.push('  try next:');
		for (const r of d.tryNext) out.push(`    ${r.title}: ${r.href}`);
	} else if (!c && d.undecided.length === 0 && d.steps.length > 0) {
		out.push(`  try next: no related runbook is listed for ${d.runbook.slug}`);
	}
	if (d.probeCacheHits)
		out.push(
			`  ${d.probeCacheHits} probe${d.probeCacheHits === 1 ? '' : 's'} answered from this run's cache (already run by an earlier check)`,
		);
	return out.join('\n');
}

function pad(text: string, width: number): string {
	return text + ' '.repeat(Math.max(0, width - text.length));
}

export function formatFleet(f: FleetDiagnosis): string {
	const out = [f.summary, `${f.runbook.title} (${f.runbook.slug})`, ''];
	const odd = (host: string, check: string) => f.outliers.some((o) => o.host === host && o.check === check);
	const hostWidth = Math.max(4, ...f.grid.map((r) => r.host.length)) + 2;
	const widths = f.checks.map((c) => Math.max(c.id.length, 7) + 2);
	out.push(
		pad('host', hostWidth) +
			f.checks
				.map((c, i) => pad(c.id, widths[i]!))
				.join('')
				.trimEnd(),
	);
	for (const row of f.grid) {
		const cells = f.checks.map((c, i) => {
			const s = row.cells[c.id];
			const word = s ? `${s}${odd(row.host, c.id) ? ' *' : ''}` : '-';
			// Padding is measured on the plain word; colour codes are added after.
			return s ? paint(s, word) + ' '.repeat(Math.max(0, widths[i]! - word.length)) : pad(word, widths[i]!);
		});
		out.push((pad(row.host, hostWidth) + cells.join('')).trimEnd());
	}
	if (f.outliers.length) out.push('', '* outlier: differs from most hosts (see below)');

	out.push('', 'outputs, hosts with identical output together:');
	for (const g of f.groups) {
		if (g.groups.length === 1) {
			const only = g.groups[0]!;
			out.push(
				`  ${g.check}: identical on ${only.hosts.length === 1 ? 'its one host' : `all ${only.hosts.length} hosts`}, ${only.status}: ${only.summary}`,
			);
			out.push(...deciding(only.evidence, '    '));
			continue;
		}
		out.push(`  ${g.check}: ${g.groups.length} different outputs`);
		for (const group of g.groups) {
			out.push(`    ${group.status} on ${group.hosts.join(', ')}: ${group.summary}`);
			out.push(...deciding(group.evidence, '      '));
		}
	}

	if (f.outliers.length) {
		out.push('', 'outliers:');
		for (const o of f.outliers) {
			const why = [
				...(o.statusDiffers ? [`${o.status} where most hosts are ${o.majorityStatus}`] : []),
				...o.facts.map((x) => `${x.key} ${x.value} where most have ${x.majority}`),
			];
			out.push(`  * ${o.host}  ${o.check}: ${why.join('; ')}`);
		}
	} else {
		out.push('', 'outliers: none');
	}

	out.push('', 'per host:');
	for (const d of f.hosts) out.push(`  ${d.headline}`);
	if (f.probeCacheHits)
		out.push(
			'',
			`${f.probeCacheHits} probe${f.probeCacheHits === 1 ? '' : 's'} answered from this run's cache (already run by an earlier check on the same host)`,
		);
	return out.join('\n');
}
