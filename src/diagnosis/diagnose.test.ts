import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decidingEvidence, diagnose, outlineRunbook, rollUpStatus } from './diagnose.ts';
import { evidence, OUTLINE, realOutline, record, recorded } from './fixtures/records.ts';

describe('diagnose, hand-built verdicts', () => {
	it('the first fail in step order is the likely cause, even after a warn and whatever order the records come in', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.three', 'fail', { next: '#third-fix' }),
			record('net.one', 'warn', { next: '#first' }),
			record('net.two', 'fail', { next: '#raise-it', fix: ['sysctl -w x=1'] }),
		]);
		expect(d.steps.map((s) => s.check)).toEqual(['net.one', 'net.two', 'net.three']);
		expect(d.likelyCause).toMatchObject({
			check: 'net.two',
			title: 'Second check',
			status: 'fail',
			next: '/packet-loss/#raise-it',
			fix: ['sysctl -w x=1'],
		});
		expect(d.fixStep).toEqual({ check: 'net.two', href: '/packet-loss/#raise-it', fix: ['sysctl -w x=1'] });
		expect(d.alsoFound.map((x) => [x.check, x.status])).toEqual([
			['net.one', 'warn'],
			['net.three', 'fail'],
		]);
		expect(d.status).toBe('fail');
	});

	it('no fail: the first warn is the cause', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.one', 'pass'),
			record('net.two', 'warn', { next: '#close' }),
			record('net.three', 'warn'),
		]);
		expect(d.likelyCause?.check).toBe('net.two');
		expect(d.likelyCause?.status).toBe('warn');
		expect(d.ruledOut.map((r) => r.check)).toEqual(['net.one']);
	});

	it('a next in another runbook links there', () => {
		const d = diagnose(OUTLINE, 'web1', [record('net.one', 'fail', { next: 'usb-nic-trailer#find-the-usb-nic' })]);
		expect(d.fixStep?.href).toBe('/usb-nic-trailer/#find-the-usb-nic');
	});

	it('a cause whose verdict names no step has no fix step, and says so in the headline by leaving it out', () => {
		const d = diagnose(OUTLINE, 'web1', [record('net.one', 'fail')]);
		expect(d.likelyCause?.next).toBeNull();
		expect(d.fixStep).toBeNull();
		expect(d.headline).not.toContain('go to');
	});

	it('errors could not decide: listed with code and hint, never ruled out, and no runbook is offered instead', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.one', 'pass'),
			record('net.two', 'error', { code: 'CommandMissing', hint: 'Install iproute2.' }),
			record('net.three', 'skip'),
		]);
		expect(d.likelyCause).toBeNull();
		expect(d.undecided).toEqual([
			{ check: 'net.two', title: 'Second check', summary: 'net.two is error.', code: 'CommandMissing', hint: 'Install iproute2.' },
		]);
		expect(d.ruledOut.map((r) => r.check)).toEqual(['net.one']);
		expect(d.skipped.map((r) => r.check)).toEqual(['net.three']);
		expect(d.tryNext).toEqual([]);
		expect(d.status).toBe('error');
		expect(d.headline).toBe('web1: no cause found, but 1 check of 3 could not decide (net.two); 1 ruled out');
	});

	it('an error beside a fail: the fail is the cause, the error still listed, the roll-up is error', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.one', 'error', { code: 'ProbeTimeout' }),
			record('net.two', 'fail', { next: '#fix' }),
		]);
		expect(d.likelyCause?.check).toBe('net.two');
		expect(d.undecided.map((u) => u.check)).toEqual(['net.one']);
		expect(d.status).toBe('error');
		expect(d.headline).toContain('1 check could not decide (net.one)');
	});

	it('every check passed or skipped: related runbooks to try next, in the headline too', () => {
		const d = diagnose(OUTLINE, 'web1', [
			record('net.one', 'pass', { next: '#if-every-check-passes' }),
			record('net.two', 'skip'),
			record('net.three', 'pass'),
		]);
		expect(d.tryNext).toEqual([{ slug: 'ecmp-imbalance', title: 'Uneven load across equal-cost paths', href: '/ecmp-imbalance/' }]);
		expect(d.ruledOut.map((r) => r.check)).toEqual(['net.one', 'net.three']);
		expect(d.ruledOut[0]!.next).toBe('/packet-loss/#if-every-check-passes');
		expect(d.status).toBe('pass');
		expect(d.headline).toBe('web1: every check passed (2 ruled out, 1 skipped), the cause is elsewhere; try next: ecmp-imbalance');
	});

	it('every check passed and nothing is related: the headline says none is listed', () => {
		const d = diagnose({ ...OUTLINE, related: [] }, 'web1', [record('net.one', 'pass')]);
		expect(d.tryNext).toEqual([]);
		expect(d.headline).toContain('no related runbook is listed');
	});

	it('every check skipped: nothing applies here', () => {
		const d = diagnose(OUTLINE, 'web1', [record('net.one', 'skip'), record('net.two', 'skip')]);
		expect(d.status).toBe('skip');
		expect(d.ruledOut).toEqual([]);
		expect(d.headline).toMatch(/^web1: no check of this runbook applies here \(2 skipped\)/);
	});

	it('the headline is one line even when a title has newlines', () => {
		const d = diagnose({ ...OUTLINE, checks: [{ id: 'net.one', title: 'Two\nlines' }] }, 'web1', [
			record('net.one', 'fail', { next: '#x' }),
		]);
		expect(d.headline).not.toContain('\n');
	});

	it('host key and commands: from the records and the trace; without a trace, the evidence commands', () => {
		const recs = [
			record('net.one', 'pass', { hostKey: 'SHA256:abc', evidence: [evidence('cat /a', 'x\n')] }),
			record('net.two', 'pass', { evidence: [evidence('ip -j link', '[]\n')] }),
		];
		const d = diagnose(OUTLINE, 'web1', recs, { commands: { 'net.one': ['cat /a', 'cat /b'] }, cacheHits: 2 });
		expect(d.hostKey).toBe('SHA256:abc');
		expect(d.steps.map((s) => s.commands)).toEqual([['cat /a', 'cat /b'], ['ip -j link']]);
		expect(d.probeCacheHits).toBe(2);
		expect(diagnose(OUTLINE, 'local', [record('net.one', 'pass')]).hostKey).toBeNull();
	});
});

describe('decidingEvidence', () => {
	it('keeps only highlighted lines, in order, once; drops entries with none and line numbers past the end', () => {
		const out = decidingEvidence([
			{ ...evidence('cat /proc/meminfo', 'MemTotal: 1\nHugePages_Total: 5\nHugePages_Free: 5\n', [3, 2, 3, 9]), code: 0 },
			evidence('uname -r', '6.1.0\n'),
			{ ...evidence('ls /nope', 'ls: cannot access\n', [1]), code: 2, truncated: true },
		]);
		expect(out).toEqual([
			{
				command: 'cat /proc/meminfo',
				code: 0,
				lines: [
					{ n: 2, text: 'HugePages_Total: 5' },
					{ n: 3, text: 'HugePages_Free: 5' },
				],
			},
			{ command: 'ls /nope', code: 2, truncated: true, lines: [{ n: 1, text: 'ls: cannot access' }] },
		]);
	});
});

describe('rollUpStatus', () => {
	it('error > fail > warn > pass > skip; skip for none', () => {
		expect(rollUpStatus(['pass', 'fail', 'warn'])).toBe('fail');
		expect(rollUpStatus(['fail', 'error'])).toBe('error');
		expect(rollUpStatus(['skip', 'pass'])).toBe('pass');
		expect(rollUpStatus([])).toBe('skip');
	});
});

describe('outlineRunbook', () => {
	it('titles from the registry and the related runbooks; an unknown related slug is named by its slug', () => {
		const o = outlineRunbook(
			{ slug: 'a', title: 'A', checks: ['x.one'], related: ['b', 'gone'] },
			[
				{ slug: 'a', title: 'A' },
				{ slug: 'b', title: 'B runbook' },
			],
			(id) => (id === 'x.one' ? 'One' : undefined),
		);
		expect(o).toEqual({
			slug: 'a',
			title: 'A',
			checks: [{ id: 'x.one', title: 'One' }],
			related: [
				{ slug: 'b', title: 'B runbook', href: '/b/' },
				{ slug: 'gone', title: 'gone', href: '/gone/' },
			],
		});
	});
});

describe('diagnose, verdicts recorded from the training scenarios', () => {
	it('hugepages-too-many: the limit is the cause, with its deciding lines and the fix step', async () => {
		const run = recorded('hugepage-map-count', 'hugepages-too-many');
		const d = diagnose(await realOutline('hugepage-map-count'), run.host, run.records, run.trace);
		expect(d.status).toBe('fail');
		expect(d.likelyCause?.check).toBe('kernel.max-map-count');
		expect(d.fixStep?.href).toBe('/hugepage-map-count/#raise-the-limit');
		expect(d.fixStep?.fix.join('\n')).toMatch(/sysctl -w vm\.max_map_count=196608/);
		const limit = d.likelyCause!.evidence.find((e) => e.command === 'cat /proc/sys/vm/max_map_count');
		expect(limit?.lines).toEqual([{ n: 1, text: '65530' }]);
		// Only highlighted lines: meminfo's MemTotal is in the output but does not decide anything.
		expect(JSON.stringify(d.likelyCause!.evidence)).not.toContain('MemTotal');
		expect(d.steps[0]!.commands).toContain('pidof ovs-vswitchd');
		expect(d.hostKey).toMatch(/^SHA256:/);
		expect(d.headline).toBe(
			'scenario:hugepages-too-many: likely cause kernel.max-map-count (fail): vm.max_map_count against the hugepages DPDK will map; go to /hugepage-map-count/#raise-the-limit',
		);
	});

	it('hugepages-healthy: ruled out, and the runbook lists no related one', async () => {
		const run = recorded('hugepage-map-count', 'hugepages-healthy');
		const d = diagnose(await realOutline('hugepage-map-count'), run.host, run.records, run.trace);
		expect(d.likelyCause).toBeNull();
		expect(d.ruledOut.map((r) => [r.check, r.next])).toEqual([['kernel.max-map-count', '/hugepage-map-count/#if-the-check-passes']]);
		expect(d.tryNext).toEqual([]);
		expect(d.headline).toContain('every check passed');
	});

	it('nxos-redirects-off: Linux checks skip, NX-OS checks pass, so try the related ECMP runbook', async () => {
		const run = recorded('icmp-redirect-copp', 'nxos-redirects-off');
		const d = diagnose(await realOutline('icmp-redirect-copp'), run.host, run.records, run.trace);
		expect(d.skipped.map((s) => s.check)).toEqual(['net.icmp-redirects', 'net.redirect-route']);
		expect(d.ruledOut.map((s) => s.check)).toEqual(['nxos.ip-redirects', 'nxos.copp-drops']);
		expect(d.tryNext.map((r) => r.slug)).toEqual(['ecmp-imbalance']);
		expect(d.tryNext[0]!.title).toMatch(/^Uneven load across equal-cost paths/);
	});

	it('bond-vlan-stray: the unresolved neighbour leads on to the stray VLAN device, the cause; the bond ruled out; one probe from the cache', async () => {
		const run = recorded('bond-vlan-stray-subinterface', 'bond-vlan-stray');
		const d = diagnose(await realOutline('bond-vlan-stray-subinterface'), run.host, run.records, run.trace);
		expect(d.likelyCause?.check).toBe('net.vlan-on-bond-slave');
		expect(d.likelyCause?.route).toEqual(['net.neigh-unresolved', 'net.vlan-on-bond-slave']);
		expect(d.fixStep?.href).toBe('/bond-vlan-stray-subinterface/#delete-the-stray-device');
		expect(d.alsoFound.map((x) => [x.check, x.next])).toEqual([
			['net.neigh-unresolved', '/bond-vlan-stray-subinterface/#look-for-a-vlan-device-on-a-bond-slave'],
		]);
		expect(d.ruledOut.map((x) => x.check)).toEqual(['bond.status']);
		expect(d.probeCacheHits).toBe(1);
	});
});

describe('following the verdicts', () => {
	const outline = {
		slug: 'rb',
		title: 'RB',
		related: [],
		checks: [
			{ id: 'net.symptom', title: 'Symptom', step: 'see-it' },
			{ id: 'net.cause', title: 'Cause', step: 'find-it' },
			{ id: 'net.other', title: 'Other', step: 'elsewhere' },
		],
	};
	it('a failing symptom whose next step holds another failing check leads on to it', () => {
		const d = diagnose(outline, 'h', [
			record('net.symptom', 'fail', { next: '#find-it' }),
			record('net.cause', 'fail', { next: '#fix-it', fix: ['ip link del x'] }),
		]);
		expect(d.likelyCause?.check).toBe('net.cause');
		expect(d.likelyCause?.route).toEqual(['net.symptom', 'net.cause']);
		expect(d.fixStep?.href).toBe('/rb/#fix-it');
	});
	it('stops where the next step passed, and never loops', () => {
		const passed = diagnose(outline, 'h', [record('net.symptom', 'fail', { next: '#find-it' }), record('net.cause', 'pass')]);
		expect(passed.likelyCause?.route).toEqual(['net.symptom']);
		const loop = diagnose(outline, 'h', [
			record('net.symptom', 'fail', { next: '#find-it' }),
			record('net.cause', 'fail', { next: '#see-it' }),
		]);
		expect(loop.likelyCause?.route).toEqual(['net.symptom', 'net.cause']);
	});
});

describe('the diagnosis modules load in the browser', () => {
	it('import nothing but types, each other and next.ts: no zod, no node:', () => {
		const dir = import.meta.dirname;
		const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
		expect(files).toEqual(expect.arrayContaining(['diagnose.ts', 'fleet.ts', 'notes.ts', 'types.ts']));
		const values: string[] = [];
		for (const file of files) {
			const text = readFileSync(join(dir, file), 'utf8');
			for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) if (!m[1]) values.push(`${file}: ${m[2]}`);
		}
		expect(values.filter((v) => !/: (\.\/[a-z-]+\.ts|\.\.\/core\/next\.ts)$/.test(v))).toEqual([]);
	});
});
