/**
 * net.mtu-chain end to end over SSH, through the real `runbook` bin, against the MTU lab
 * (test/support/mtu-lab.ts): `mtu-host` has a VXLAN created without `dev`, 50 bytes too big for its
 * underlay; the 1498 bridge port is in another namespace, invisible from there, so `mtu-bridge` (an
 * sshd inside the bridge namespace) is where that mismatch must show; `mtu-clean` has a VXLAN made
 * right (MTU 1450 over 1500).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../support/cli.ts';
import { labLeftovers, mtuLabUnavailable, startMtuLab, type MtuLab } from '../support/mtu-lab.ts';

const unavailable = await mtuLabUnavailable();

describe.skipIf(unavailable !== null)(
	`net.mtu-chain over SSH against the MTU lab${unavailable === null ? '' : ` (skipped: ${unavailable})`}`,
	() => {
		let lab: MtuLab;

		beforeAll(async () => {
			lab = await startMtuLab();
		});

		afterAll(async () => {
			if (!lab) return;
			await lab.stop();
			expect(await labLeftovers(lab.id)).toEqual([]);
		});

		const check = (host: string, ...more: string[]) =>
			runCheck({ ...lab, stateDir: join(lab.dir, 'state') }, 'net.mtu-chain', host, [], more);

		it('mtu-host: the VXLAN without dev is 50 bytes too big for its underlay -> fail naming it, exit 1', async () => {
			const r = await check('mtu-host');
			expect(r.stderr).toBe('');
			const v = JSON.parse(r.stdout);
			expect(v).toMatchObject({ check: 'net.mtu-chain', host: 'mtu-host', status: 'fail' });
			expect(v.facts).toMatchObject({
				device: lab.vxlan.name,
				mtu: lab.vxlan.mtu,
				expectedMtu: lab.vxlan.underlayMtu - 50,
				difference: 50,
				rule: 'tunnel-underlay',
			});
			expect(v.facts.offenders).toEqual([lab.vxlan.name]);
			expect(v.summary).toContain(lab.vxlan.name);
			expect(v.summary).toContain(lab.vxlan.underlay);
			expect(v.next).toBe('overlay-mtu#fix-the-overlay-mtu');
			expect(v.fix).toEqual([`ip link set dev ${lab.vxlan.name} mtu ${lab.vxlan.underlayMtu - 50}`]);
			// The bridge and its 1498 port live in another namespace: nothing here names them.
			expect(v.summary).not.toContain(lab.shortPort.name);
			expect(r.code).toBe(1);
		});

		it('mtu-host, only the chain of the VXLAN (iface=vx0bad) -> the same failure', async () => {
			const r = await check('mtu-host', '--param', `iface=${lab.vxlan.name}`);
			const v = JSON.parse(r.stdout);
			expect(v.status).toBe('fail');
			expect(v.facts).toMatchObject({ scope: lab.vxlan.name, device: lab.vxlan.name });
			expect(r.code).toBe(1);
		});

		it('mtu-bridge: the port in front of peer-short differs from the others -> fail naming it and the bridge, exit 1', async () => {
			const r = await check('mtu-bridge');
			const v = JSON.parse(r.stdout);
			expect(v.status).toBe('fail');
			expect(v.facts).toMatchObject({ device: lab.shortPort.name, mtu: lab.shortPort.mtu, expectedMtu: 1500, rule: 'bridge-ports' });
			expect(v.facts.offenders).toEqual([lab.shortPort.name]);
			expect(v.summary).toContain(lab.shortPort.bridge);
			for (const other of lab.shortPort.otherPorts) expect(v.summary).toContain(other);
			expect(r.code).toBe(1);
		});

		it('mtu-clean: a VXLAN with dev (1450 over 1500) -> pass, exit 0', async () => {
			const r = await check('mtu-clean');
			const v = JSON.parse(r.stdout);
			expect(v.status).toBe('pass');
			expect(v.facts.failures).toEqual([]);
			expect(v.facts.consistent.join(' ')).toContain(`${lab.goodVxlan.name} ${lab.goodVxlan.mtu}`);
			expect(v.next).toBe('#if-the-path-is-clean');
			expect(r.code).toBe(0);
		});
	},
);
