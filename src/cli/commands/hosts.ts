/** `runbook hosts`: every host a check can be pointed at, from every source. */
import { listHosts } from '../../runner/run.ts';
import { runOptions, type CommonOptions } from '../options.ts';

export async function hostsCommand(o: CommonOptions & { json?: boolean }): Promise<number> {
	const hosts = await listHosts(runOptions(o));
	if (o.json) process.stdout.write(JSON.stringify(hosts, null, 2) + '\n');
	else {
		const w = Math.max(...hosts.map((h) => h.name.length));
		for (const h of hosts)
			process.stdout.write(
				`${h.name.padEnd(w)}  ${h.where.padEnd(21)}  ${h.platform.padEnd(5)}  ${h.source}${h.groups.length ? `  [${h.groups.join(', ')}]` : ''}\n`,
			);
	}
	return 0;
}
