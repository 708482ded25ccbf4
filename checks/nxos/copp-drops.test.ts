import { describe, expect, it } from 'vitest';
import { expectRunbookEmbeds, fixtures, itGivesEachScenarioItsStatus, scenariosExpecting } from '../../test/support/check-tests.ts';
import { fakeCtx, type FakeCommand } from '../../test/support/fake-ctx.ts';
import check, { cirBytesPerSecond, isExceptionClass, parseCoppPolicy } from './copp-drops.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/copp-drops/', import.meta.url));
const COMMAND = 'show policy-map interface control-plane';

// --- parser over every fixture ----------------------------------------------------------------

interface Want {
	shape: 'blocks' | 'filtered';
	/** name=dropped for the classes that dropped. */
	dropping: string[];
	classes: number;
}

const cases: Record<string, Want | null> = {
	'hart2021-n9k-9.3.8-exception-punting.class-block.txt': { shape: 'blocks', dropping: [], classes: 1 },
	'hart2021-n9k-9.3.8-exception-dropping.class-block.txt': {
		shape: 'blocks',
		dropping: ['copp-system-p-class-exception=9055028'],
		classes: 1,
	},
	'hart2021-n9k-9.3.8-exception-cleared.class-block.txt': { shape: 'blocks', dropping: [], classes: 1 },
	'hart2022-n9k-10.2.3-l3uc-data-glean.class-block.txt': {
		shape: 'blocks',
		dropping: ['copp-system-p-class-l3uc-data=5798784'],
		classes: 1,
	},
	'hart2022-n9k-10.2.3-l3uc-data-scanner.class-block.txt': {
		shape: 'blocks',
		dropping: ['copp-system-p-class-l3uc-data=323259196'],
		classes: 1,
	},
	'hart2022-n9k-10.2.3-normal-clean.class-block.txt': { shape: 'blocks', dropping: [], classes: 1 },
	'hart2022-n9k-10.2.3-cleared.filtered.txt': { shape: 'filtered', dropping: [], classes: 25 },
	'hart2022-n9k-10.2.3-glean.filtered.txt': { shape: 'filtered', dropping: ['copp-system-p-class-l3uc-data=5798784'], classes: 25 },
	'hart2022-n9k-10.2.3-n9k2-arp.filtered.txt': {
		shape: 'filtered',
		dropping: ['copp-system-p-class-l3uc-data=6042828', 'copp-system-p-class-normal=485425772'],
		classes: 25,
	},
	'hart2024-ndp.filtered.txt': { shape: 'filtered', dropping: ['copp-system-p-class-ndp=1061714'], classes: 25 },
	'genieparser-bytes.class-block.txt': { shape: 'blocks', dropping: [], classes: 1 },
	'genieparser-packets.class-block.txt': { shape: 'blocks', dropping: [], classes: 1 },
	'ccnp-encor-ios.show-policy-map-control-plane.txt': null,
	'hart2021-exception-dropping-cut420.class-block.txt': null,
	'empty.show-policy-map.txt': null,
};

describe('parseCoppPolicy on every fixture', () => {
	it('every fixture file has an expectation', () => {
		expect(fixtureFiles.toSorted()).toEqual(Object.keys(cases).toSorted());
	});
	for (const [file, want] of Object.entries(cases)) {
		it(`${file} -> ${want ? `${want.shape}, ${want.dropping.length} dropping` : 'not understood'}`, () => {
			const p = parseCoppPolicy(fx(file));
			if (want === null) {
				expect(p.ok).toBe(false);
				return;
			}
			if (!p.ok) throw new Error(p.reason);
			expect({
				shape: p.value.shape,
				dropping: p.value.classes.filter((c) => c.dropped > 0).map((c) => `${c.name}=${c.dropped}`),
				classes: p.value.classes.length,
			}).toEqual(want);
		});
	}
	it('a module block: transmitted, dropped, rates and the policer', () => {
		const p = parseCoppPolicy(fx('hart2021-n9k-9.3.8-exception-dropping.class-block.txt'));
		if (!p.ok) throw new Error(p.reason);
		expect(p.value.policy).toBe('copp-system-p-policy-strict');
		expect(p.value.classes[0]).toEqual({
			name: 'copp-system-p-class-exception',
			line: 5,
			cir: { value: 150, unit: 'kbps' },
			transmitted: 892500,
			dropped: 9055028,
			unit: 'bytes',
			offeredRate: 2860,
			violateRate: 50305,
			droppedLines: [18],
		});
		expect(p.lines).toEqual([5, 18]);
	});
	it('packet counters are read as packets', () => {
		const p = parseCoppPolicy(fx('genieparser-packets.class-block.txt'));
		expect(p.ok && p.value.classes[0]).toMatchObject({ transmitted: 373977, dropped: 0, unit: 'packets' });
	});
	it('a module block cut before its dropped line says so', () => {
		const p = parseCoppPolicy(fx('hart2021-exception-dropping-cut420.class-block.txt'));
		expect(!p.ok && p.reason).toMatch(/module block on line 12 .* no "dropped N bytes;"/);
	});
	it('classes listed with their config but no counters (Nexus 9000v) are not understood', () => {
		const text = fx('hart2021-n9k-9.3.8-exception-cleared.class-block.txt').split('      module 1 :')[0]!;
		const p = parseCoppPolicy(text);
		expect(!p.ok && p.reason).toMatch(/without counters/);
	});
	it.each([
		['copp-system-p-class-exception', true],
		['copp-system-p-class-exception-TAC', true],
		['copp-system-p-class-exception-diag', false],
		['copp-system-p-class-redirect', false],
		['copp-system-p-class-l3uc-data', false],
	])('%s is the exception class: %s', (name, yes) => {
		expect(isExceptionClass(name)).toBe(yes);
	});
	it.each([
		[{ value: 150, unit: 'kbps' }, 18750],
		[{ value: 50, unit: 'mbps' }, 6250000],
		[{ value: 250, unit: 'pps' }, null],
	])('cir %j is %s bytes/sec', (cir, want) => {
		expect(cirBytesPerSecond(cir)).toBe(want);
	});
});

// --- run() through a fake switch ---------------------------------------------------------------

const runOn = (answer: FakeCommand) => check.run(fakeCtx({ commands: { [COMMAND]: answer } }), check.params.parse({}));

describe('nxos.copp-drops run()', () => {
	it('Hart 9.3(8) at 1000 pps: the exception class drops -> fail with the loss arithmetic', async () => {
		const v = await runOn({ stdout: fx('hart2021-n9k-9.3.8-exception-dropping.class-block.txt') });
		expect(v.status, v.summary).toBe('fail');
		expect(v.facts).toMatchObject({
			exceptionClass: 'copp-system-p-class-exception',
			exceptionDropped: 9055028,
			exceptionTransmitted: 892500,
			dropShareSinceClear: 0.91,
			lossNow: 0.946,
			offeredBytesPerSecond: 53165,
			cirBytesPerSecond: 18750,
		});
		expect(v.summary).toMatch(
			/dropped 9055028 bytes \(91% of the 9947528 bytes it saw since its counters were cleared; about 95% right now: 50305 of 53165 bytes\/sec/,
		);
		expect(v.summary).toMatch(/Loss ≈ 1 − policer rate \/ offered rate/);
		expect(v.summary).toMatch(/offering 25000 bytes\/sec loses 25% and one offering 37500 bytes\/sec loses 50%/);
		expect(v.summary).toMatch(/ICMP redirects/);
		expect(v.next).toBe('#turn-off-redirects');
		expect(v.evidence[0]).toMatchObject({ command: COMMAND, lines: [5, 18] });
	});

	it.each([
		['hart2022-n9k-10.2.3-l3uc-data-glean.class-block.txt', /copp-system-p-class-l3uc-data \(5798784 bytes\)/],
		['hart2022-n9k-10.2.3-l3uc-data-scanner.class-block.txt', /ARP glean/],
		['hart2022-n9k-10.2.3-glean.filtered.txt', /read from class and dropped lines only/],
		[
			'hart2022-n9k-10.2.3-n9k2-arp.filtered.txt',
			/copp-system-p-class-l3uc-data \(6042828 bytes\), copp-system-p-class-normal \(485425772 bytes\)/,
		],
		['hart2024-ndp.filtered.txt', /copp-system-p-class-ndp \(1061714 bytes\)/],
	])('%s: other classes drop -> warn, not the redirect punts', async (file, pattern) => {
		const v = await runOn({ stdout: fx(file) });
		expect(v.status, v.summary).toBe('warn');
		expect(v.summary).toMatch(pattern);
		expect(v.summary).toMatch(/not in the exception class/);
	});

	it('Hart 9.3(8) at 1 pps: punted but within the policer -> pass, and says the class is passing traffic to the CPU', async () => {
		const v = await runOn({ stdout: fx('hart2021-n9k-9.3.8-exception-punting.class-block.txt') });
		expect(v.status).toBe('pass');
		expect(v.summary).toMatch(/copp-system-p-class-exception did pass 154200 bytes to the CPU/);
	});

	it.each([
		'hart2021-n9k-9.3.8-exception-cleared.class-block.txt',
		'hart2022-n9k-10.2.3-normal-clean.class-block.txt',
		'hart2022-n9k-10.2.3-cleared.filtered.txt',
		'genieparser-bytes.class-block.txt',
		'genieparser-packets.class-block.txt',
	])('%s -> pass', async (file) => {
		const v = await runOn({ stdout: fx(file) });
		expect(v.status, v.summary).toBe('pass');
		expect(v.next).toBe('#if-every-check-passes');
	});

	it.each([
		['ccnp-encor-ios.show-policy-map-control-plane.txt', 'OutputNotUnderstood'],
		['hart2021-exception-dropping-cut420.class-block.txt', 'OutputNotUnderstood'],
		['empty.show-policy-map.txt', 'OutputEmpty'],
	])('%s -> error %s, never pass', async (file, code) => {
		const v = await runOn({ stdout: fx(file) });
		expect(v).toMatchObject({ status: 'error', code });
		expect(v.next).toBe('#on-cisco-nx-os-is-copp-dropping-them');
	});

	it('cut by the transport -> error OutputTruncated', async () => {
		expect(await runOn({ stdout: fx('hart2021-n9k-9.3.8-exception-cleared.class-block.txt'), truncated: true })).toMatchObject({
			status: 'error',
			code: 'OutputTruncated',
		});
	});

	it('a command the host does not answer -> error CommandFailed', async () => {
		const v = await check.run(fakeCtx({}), check.params.parse({}));
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
	});

	it('probes: the one raw show command, no pipe; no params', () => {
		expect(check.probes({}).map((p) => p.kind === 'exec' && p.argv.join(' '))).toEqual([COMMAND]);
		expect(check.params.safeParse({ class: 'x' }).success).toBe(false);
	});
});

describe('training scenarios that expect this check', () => {
	const scenarios = scenariosExpecting(check.id);
	it('nxos-redirects-copp and nxos-redirects-off are among them', () => {
		expect(scenarios.map((s) => s.name)).toEqual(expect.arrayContaining(['nxos-redirects-copp', 'nxos-redirects-off']));
	});
	itGivesEachScenarioItsStatus(check.id, scenarios, (h) => check.run(fakeCtx(h), check.params.parse({})));
	it('their CoPP answers are the real captures, byte for byte', () => {
		const byName = new Map(scenarios.map((s) => [s.name, [s.commands[COMMAND]!].flat()[0]!.stdout]));
		expect(byName.get('nxos-redirects-copp')).toBe(fx('hart2021-n9k-9.3.8-exception-dropping.class-block.txt'));
		expect(byName.get('nxos-redirects-off')).toBe(fx('hart2021-n9k-9.3.8-exception-cleared.class-block.txt'));
	});
});

describe('the runbook that embeds it', () => {
	it('every anchor in nextSteps is a heading of icmp-redirect-copp', () => {
		expectRunbookEmbeds(check, 'icmp-redirect-copp');
	});
});
