import { describe, expect, it } from 'vitest';
import { expectRunbookEmbeds, fixtures, itGivesEachScenarioItsStatus, scenariosExpecting } from '../../test/support/check-tests.ts';
import { fakeCtx, type FakeCommand } from '../../test/support/fake-ctx.ts';
import check, { interfaceKind, parseShowIpInterface, type Params } from './ip-redirects.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/ip-redirects/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse(p);

// --- parser over every fixture ----------------------------------------------------------------

/** name:redirects:forwarded for every interface, or null for "not understood". */
const cases: Record<string, string[] | null> = {
	'ntc-vrf-all.show-ip-interface.txt': [
		'Vlan10:disabled:0',
		'Vlan100:disabled:1840111',
		'loopback10:enabled:0',
		'port-channel10:disabled:0',
		'Ethernet1/1:disabled:3316',
		'Ethernet1/2:disabled:556',
		'mgmt0:disabled:0',
		'Ethernet2/1:enabled:0',
	],
	'ntc-flush-left.show-ip-interface.txt': ['Vlan123:disabled:0'],
	'ntc-unnumbered-loopback.show-ip-interface.txt': ['loopback0:enabled:0'],
	'ntc-svi-secondaries.show-ip-interface.txt': ['Vlan249:disabled:530', 'Vlan783:disabled:3319'],
	'ntc-down-redirects-on.show-ip-interface.txt': ['Vlan155:enabled:0', 'Ethernet1/5:enabled:0'],
	'napalm-vrf-all.show-ip-interface.txt': ['Ethernet2/1:enabled:0', 'Ethernet2/2:disabled:0', 'Ethernet2/3:enabled:0', 'mgmt0:enabled:0'],
	'genie-aci-leaf.show-ip-interface.txt': null,
	'ios-fastethernet.show-ip-interface.txt': null,
	'ntc-svi-secondaries-cut600.show-ip-interface.txt': null,
	'ntc-svi-secondaries-cut1500.show-ip-interface.txt': null,
	'empty.show-ip-interface.txt': null,
};

describe('parseShowIpInterface on every fixture', () => {
	it('every fixture file has an expectation', () => {
		expect(fixtureFiles.toSorted()).toEqual(Object.keys(cases).toSorted());
	});
	for (const [file, want] of Object.entries(cases)) {
		it(`${file} -> ${want ? `${want.length} interfaces` : 'not understood'}`, () => {
			const p = parseShowIpInterface(fx(file));
			expect(p.ok ? p.value.map((f) => `${f.name}:${f.redirects}:${f.unicast.forwarded}`) : null, p.ok ? '' : p.reason).toEqual(want);
		});
	}
	it('reads VRF, status, primary address and last reset; CRLF captures keep their line numbers', () => {
		const p = parseShowIpInterface(fx('ntc-vrf-all.show-ip-interface.txt'));
		if (!p.ok) throw new Error(p.reason);
		const e21 = p.value.find((f) => f.name === 'Ethernet2/1')!;
		expect(e21).toMatchObject({
			vrf: 'TEST',
			status: 'protocol-up/link-up/admin-up',
			up: true,
			address: '172.20.1.94/24',
			lastReset: 'never',
		});
		expect(fx('ntc-vrf-all.show-ip-interface.txt').split('\r\n')[e21.redirectsLine - 1]).toBe('  IP icmp redirects: enabled');
		expect(p.value.find((f) => f.name === 'Vlan100')!.unicast).toEqual({
			sent: 363766868,
			received: 434448766,
			forwarded: 1840111,
			originated: 361926757,
			consumed: 435257628,
		});
	});
	it('a down interface is read as down', () => {
		const p = parseShowIpInterface(fx('ntc-down-redirects-on.show-ip-interface.txt'));
		expect(p.ok && p.value.map((f) => f.up)).toEqual([false, false]);
	});
	it('the reasons say what is missing', () => {
		const aci = parseShowIpInterface(fx('genie-aci-leaf.show-ip-interface.txt'));
		expect(!aci.ok && aci.reason).toMatch(/eth1\/16\.16 .* no "IP icmp redirects:" line/);
		const ios = parseShowIpInterface(fx('ios-fastethernet.show-ip-interface.txt'));
		expect(!ios.ok && ios.reason).toMatch(/not NX-OS/);
		const cut = parseShowIpInterface(fx('ntc-svi-secondaries-cut600.show-ip-interface.txt'));
		expect(!cut.ok && cut.reason).toMatch(/Vlan249 .* no "Unicast packets/);
	});
	it.each([
		['Vlan1', 'svi'],
		['Ethernet1/1', 'routed'],
		['Ethernet1/1.100', 'routed'],
		['port-channel10', 'routed'],
		['eth1/16.16', 'routed'],
		['loopback0', 'loopback'],
		['lo5', 'loopback'],
		['mgmt0', 'mgmt'],
		['tunnel-te11', 'other'],
		['mti18', 'other'],
	])('%s is %s', (name, kind) => {
		expect(interfaceKind(name)).toBe(kind);
	});
});

// --- run() through a fake switch ---------------------------------------------------------------

const runOn = async (commands: Record<string, FakeCommand>, p: Record<string, unknown> = {}) => {
	const ctx = fakeCtx({ commands });
	return { v: await check.run(ctx, params(p)), ctx };
};
const show = (file: string) => ({ 'show ip interface': { stdout: fx(file) } });

describe('nxos.ip-redirects run()', () => {
	it('ntc vrf-all capture: Ethernet2/1 has redirects on and nothing punted -> warn; loopback10 (on) is not judged', async () => {
		const { v } = await runOn(show('ntc-vrf-all.show-ip-interface.txt'));
		expect(v.status, v.summary).toBe('warn');
		expect(v.facts).toMatchObject({ redirectsEnabledOn: ['Ethernet2/1'], punting: [], softwareForwarded: ['Ethernet2/1=0'] });
		expect(v.facts.ignored).toEqual(['loopback10 (loopback)', 'mgmt0 (mgmt)']);
		expect(v.next).toBe('#turn-off-redirects');
		expect(v.fix).toEqual([
			'configure terminal',
			'interface Ethernet2/1',
			'  no ip redirects',
			'  no ipv6 redirects',
			'end',
			'copy running-config startup-config',
		]);
		expect(v.evidence[0]!.command).toBe('show ip interface');
		const text = fx('ntc-vrf-all.show-ip-interface.txt').split('\r\n');
		const header = text.findIndex((l) => l.startsWith('Ethernet2/1, Interface status')) + 1;
		expect(v.evidence[0]!.lines).toEqual([header, header + 9, header + 18]);
	});

	it('napalm capture: two routed ports with redirects on -> warn naming both with their addresses', async () => {
		const { v } = await runOn(show('napalm-vrf-all.show-ip-interface.txt'));
		expect(v.status).toBe('warn');
		expect(v.summary).toMatch(/Ethernet2\/1 \(1\.1\.1\.1\/24\), Ethernet2\/3 \(4\.4\.4\.4\/16\)/);
	});

	it('down interfaces with redirects on (the default) -> warn', async () => {
		const { v } = await runOn(show('ntc-down-redirects-on.show-ip-interface.txt'));
		expect(v.status).toBe('warn');
		expect(v.facts.redirectsEnabledOn).toEqual(['Vlan155', 'Ethernet1/5']);
	});

	it.each([
		['ntc-svi-secondaries.show-ip-interface.txt', /disabled on Vlan249, Vlan783/],
		['ntc-flush-left.show-ip-interface.txt', /disabled on Vlan123/],
		['ntc-unnumbered-loopback.show-ip-interface.txt', /No SVI or routed port in the output \(only loopback0\)/],
	])('%s -> pass', async (file, pattern) => {
		const { v } = await runOn(show(file));
		expect(v.status, v.summary).toBe('pass');
		expect(v.summary).toMatch(pattern);
		expect(v.next).toBe('#if-every-check-passes');
	});

	it('software-forwarded traffic on an SVI with redirects disabled is no redirect punt -> pass', async () => {
		const { v } = await runOn(show('ntc-svi-secondaries.show-ip-interface.txt'));
		expect(v.facts.punting).toEqual([]);
	});

	it('iface names an interface the default rules skip: it is judged', async () => {
		const { v } = await runOn(
			{ 'show ip interface loopback0': { stdout: fx('ntc-unnumbered-loopback.show-ip-interface.txt') } },
			{ iface: 'loopback0' },
		);
		expect(v.status).toBe('warn');
		expect(v.facts.redirectsEnabledOn).toEqual(['loopback0']);
	});

	it.each([
		['genie-aci-leaf.show-ip-interface.txt', 'OutputNotUnderstood'],
		['ios-fastethernet.show-ip-interface.txt', 'OutputNotUnderstood'],
		['ntc-svi-secondaries-cut600.show-ip-interface.txt', 'OutputNotUnderstood'],
		['ntc-svi-secondaries-cut1500.show-ip-interface.txt', 'OutputNotUnderstood'],
		['empty.show-ip-interface.txt', 'OutputEmpty'],
	])('%s -> error %s, never pass', async (file, code) => {
		const { v } = await runOn(show(file));
		expect(v).toMatchObject({ status: 'error', code });
		expect(v.next).toBe('#on-cisco-nx-os-are-redirects-enabled');
	});

	it('output cut by the transport -> error OutputTruncated', async () => {
		const { v } = await runOn({ 'show ip interface': { stdout: fx('ntc-svi-secondaries.show-ip-interface.txt'), truncated: true } });
		expect(v).toMatchObject({ status: 'error', code: 'OutputTruncated' });
	});

	it('a command the switch (or training host) does not answer -> error CommandFailed with its message', async () => {
		const { v } = await runOn({}, { iface: 'Vlan10' });
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toMatch(/show ip interface Vlan10/);
		expect(v.summary).toMatch(/command not found/);
	});

	it('probes: the raw show command, the interface appended when given', () => {
		expect(check.probes(params()).map((p) => p.kind === 'exec' && p.argv.join(' '))).toEqual(['show ip interface']);
		expect(check.probes(params({ iface: 'Ethernet1/1.100' })).map((p) => p.kind === 'exec' && p.argv.join(' '))).toEqual([
			'show ip interface Ethernet1/1.100',
		]);
	});

	it.each([
		'Vlan10',
		'vlan4094',
		'Ethernet1/1',
		'Ethernet1/1/4',
		'Eth1/49.100',
		'port-channel10',
		'po10.5',
		'loopback0',
		'mgmt0',
		'Tunnel1',
	])('iface %s accepted', (iface) => {
		expect(check.params.safeParse({ iface }).success).toBe(true);
	});
	it.each(['Vlan0', 'Vlan4095', 'Vlan10 | include', 'eth0', 'Ethernet1/1;', 'Gi0/1', "Vlan1'", '', 'Ethernet1/1 brief'])(
		'iface %j refused',
		(iface) => {
			expect(check.params.safeParse({ iface }).success).toBe(false);
		},
	);
});

describe('training scenarios that expect this check', () => {
	const scenarios = scenariosExpecting(check.id);
	it('nxos-redirects-copp and nxos-redirects-off are among them, both nxos', () => {
		expect(scenarios.map((s) => s.name)).toEqual(expect.arrayContaining(['nxos-redirects-copp', 'nxos-redirects-off']));
		for (const s of scenarios) expect(s.platform).toBe('nxos');
	});
	itGivesEachScenarioItsStatus(check.id, scenarios, (h) => check.run(fakeCtx(h), params()));
	it('nxos-redirects-copp (simulated show ip interface): Vlan1 punting 4398 packets -> fail, next CoPP', async () => {
		const s = scenarios.find((x) => x.name === 'nxos-redirects-copp')!;
		const v = await check.run(fakeCtx({ commands: s.commands }), params());
		expect(v.facts).toMatchObject({ punting: ['Vlan1'], softwareForwarded: ['Vlan1=4398'] });
		expect(v.summary).toMatch(/Vlan1 \(192\.168\.1\.1\/24\) forwarded 4398 unicast packets in software/);
		expect(v.next).toBe('#on-cisco-nx-os-is-copp-dropping-them');
		expect(v.fix).toContain('interface Vlan1');
	});
	it('nxos-redirects-off answers with the real ntc capture, byte for byte', () => {
		const s = scenarios.find((x) => x.name === 'nxos-redirects-off')!;
		expect([s.commands['show ip interface']!].flat()[0]!.stdout).toBe(fx('ntc-svi-secondaries.show-ip-interface.txt'));
	});
});

describe('the runbook that embeds it', () => {
	it('every anchor in nextSteps is a heading of icmp-redirect-copp', () => {
		expectRunbookEmbeds(check, 'icmp-redirect-copp');
	});
});
