import { describe, expect, it } from 'vitest';
import { diagnose } from './diagnose.ts';
import { diagnoseFleet } from './fleet.ts';
import { evidence, OUTLINE, realOutline, record, recorded } from './fixtures/records.ts';
import { incidentNotes } from './notes.ts';

const AT = new Date(Date.UTC(2025, 2, 14, 3, 7, 9, 512));

/** The lines of the fenced blocks of `md`, without the fences. */
function fencedLines(md: string): string[] {
	const out: string[] = [];
	let fence: string | null = null;
	for (const raw of md.split('\n')) {
		const line = raw.trimStart();
		const m = /^(`{3,})/.exec(line);
		if (m && (fence === null || m[1] === fence)) {
			fence = fence === null ? m[1]! : null;
			continue;
		}
		if (fence !== null) out.push(line);
	}
	return out;
}

describe('incident notes for one host, from the recorded hugepages-too-many run', async () => {
	const run = recorded('hugepage-map-count', 'hugepages-too-many');
	const d = diagnose(await realOutline('hugepage-map-count'), run.host, run.records, run.trace);
	const md = incidentNotes(d, { at: AT, operator: 'alice' });

	it('time in UTC, operator, runbook, host with its host-key fingerprint, result and diagnosis', () => {
		expect(md).toContain('- Time: 2025-03-14T03:07:09Z');
		expect(md).toContain('- Operator: alice');
		expect(md).toContain(
			'- Runbook: [OVS-DPDK will not start: EAL: Failed to remap 2 MB pages](/hugepage-map-count/) (`hugepage-map-count`)',
		);
		expect(md).toContain(`- Host: \`scenario:hugepages-too-many\`, host key \`${run.records[0]!.hostKey}\``);
		expect(md).toContain('- Result: FAIL');
		expect(md).toContain(`- Diagnosis: ${d.headline}`);
		expect(md).toContain('- Next step: /hugepage-map-count/#raise-the-limit');
	});

	it("each check's verdict and summary, then only the deciding lines under their command, fenced", () => {
		expect(md).toContain(
			`1. **FAIL** \`kernel.max-map-count\` (vm.max_map_count against the hugepages DPDK will map): ${run.records[0]!.summary}`,
		);
		const block = fencedLines(md.slice(md.indexOf('### Verdicts'), md.indexOf('### Commands run')));
		expect(block.slice(0, 2)).toEqual(['$ cat /proc/sys/vm/max_map_count', '1 | 65530']);
		expect(block).toContain('36 | HugePages_Total:   40960');
		expect(md).not.toContain('MemTotal');
	});

	it('every command run, once, pidof included though it decides nothing', () => {
		const commands = fencedLines(md.slice(md.indexOf('### Commands run')));
		expect(commands).toEqual(run.trace!.commands!['kernel.max-map-count']);
		expect(commands).toContain('pidof ovs-vswitchd');
	});

	it('links take a site prefix when given', () => {
		const withBase = incidentNotes(d, { at: AT, operator: 'alice', baseUrl: 'https://kb.example.net/' });
		expect(withBase).toContain('- Next step: https://kb.example.net/hugepage-map-count/#raise-the-limit');
	});
});

describe('incident notes, hand-built cases', () => {
	it('an output holding backticks gets a longer fence, so the block cannot close early', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.one', 'fail', { evidence: [evidence('cat /etc/motd', 'say ```hi```\n', [1])], next: '#x' }),
		]);
		const md = incidentNotes(d, { at: AT, operator: 'bob' });
		expect(md).toContain('   ````text\n   $ cat /etc/motd\n      1 | say ```hi```\n   ````');
	});

	it('an undecided check carries its hint; no host key reads as such', () => {
		const d = diagnose(OUTLINE, 'local', [
			record('net.one', 'error', { host: 'local', code: 'CommandMissing', hint: 'Install iproute2.' }),
		]);
		const md = incidentNotes(d, { at: AT, operator: 'bob' });
		expect(md).toContain('1. **ERROR** `net.one` (First check): net.one is error.\n   Hint: Install iproute2.');
		expect(md).toContain('no host key (local, or not connected)');
		expect(md).toContain('None: no check reached a host.');
	});

	it('every check passed: the runbooks to try next are linked', () => {
		const md = incidentNotes(diagnose(OUTLINE, 'web1', [record('net.one', 'pass')]), { at: '2025-01-02T03:04:05.000Z', operator: 'bob' });
		expect(md).toContain('- Try next: [Uneven load across equal-cost paths](/ecmp-imbalance/)');
		expect(md).toContain('- Time: 2025-01-02T03:04:05Z');
	});
});

describe('incident notes for a fleet, from recorded runs', async () => {
	const runs = [
		recorded('bond-vlan-stray-subinterface', 'bond-vlan-stray'),
		recorded('bond-vlan-stray-subinterface', 'bond-vlan-healthy'),
		recorded('bond-vlan-stray-subinterface', 'bond-lacp-unbundled'),
	];
	const f = diagnoseFleet(await realOutline('bond-vlan-stray-subinterface'), runs);
	const md = incidentNotes(f, { at: AT, operator: 'carol' });

	it('the count line, every host with its fingerprint, the grid with outliers marked', () => {
		expect(md).toContain('- Result: 3 hosts: 2 fail, 1 pass');
		for (const r of runs)
			expect(md).toContain(
				`\`${r.host}\`: ${r.records.some((x) => x.status === 'fail') ? 'FAIL' : 'PASS'}, host key \`${r.records[0]!.hostKey}\``,
			);
		expect(md).toContain('| host | `net.neigh-unresolved` | `net.vlan-on-bond-slave` | `bond.status` |');
		expect(md).toContain('| `scenario:bond-lacp-unbundled` | PASS (outlier) | PASS | FAIL (outlier) |');
		expect(md).toContain('- `scenario:bond-lacp-unbundled`, `bond.status`: fail where most hosts are pass;');
	});

	it('identical outputs once, naming their hosts; commands once for all hosts', () => {
		expect(md).toContain('**PASS** on `scenario:bond-vlan-stray`, `scenario:bond-vlan-healthy`: bond0 (802.3ad');
		const commands = fencedLines(md.slice(md.indexOf('### Commands run')));
		expect(commands).toEqual([
			'ip -j neigh show',
			'ip neigh show',
			'ip -d -j link show',
			'ip -d link show',
			'cat /proc/net/vlan/config',
			'ls /proc/net/bonding',
			'cat /proc/net/bonding/bond0',
		]);
	});
});
