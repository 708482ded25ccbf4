/** `runbook list`: runbooks and the checks they embed, then every check with its parameters. */
import { loadRegistry } from '../../core/registry-node.ts';
import { loadRunbooks } from '../../core/runbooks-node.ts';
import { paramDocs } from '../../runner/params.ts';

export async function listCommand(o: { json?: boolean }): Promise<number> {
	const [registry, runbooks] = await Promise.all([loadRegistry(), loadRunbooks()]);
	const checks = registry.ids().map((id) => {
		const c = registry.get(id);
		return { id, title: c.title, platforms: c.platforms, params: paramDocs(c) };
	});
	if (o.json) {
		process.stdout.write(
			JSON.stringify(
				{ runbooks: runbooks.map(({ slug, title, summary, checks: ids, tags }) => ({ slug, title, summary, checks: ids, tags })), checks },
				null,
				2,
			) + '\n',
		);
		return 0;
	}
	const out: string[] = ['Runbooks'];
	for (const r of runbooks) {
		out.push(`  ${r.slug}`, `    ${r.title}`);
		if (r.checks.length) out.push(`    checks: ${r.checks.join(', ')}`);
	}
	out.push('', 'Checks');
	for (const c of checks) {
		out.push(`  ${c.id}  ${c.title}${c.platforms.join() === 'linux' ? '' : `  [${c.platforms.join(', ')}]`}`);
		for (const p of c.params) {
			const def = p.default === undefined ? '' : ` (default ${JSON.stringify(p.default)})`;
			out.push(`    --param ${p.name}=<${p.type}>${p.required ? '' : def || ' (optional)'}${p.description ? `  ${p.description}` : ''}`);
		}
	}
	process.stdout.write(out.join('\n') + '\n');
	return 0;
}
