/**
 * ECMP for real, over SSH, through the CLI: `net.ecmp-routes` and `net.link-balance` against the hosts
 * of test/support/ecmp-lab.ts. `src` has a two-next-hop multipath route and L3 hashing, `src2` the
 * same with L4 hashing, `plain` no multipath. The link-balance cases run the lab's 400 UDP flows of
 * one address pair while the check samples the two uplinks, and stop them afterwards.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVerdict } from '../support/cli.ts';
import { DST, FLOWS, startEcmpLab, UPLINKS, type EcmpHostName, type EcmpLab } from '../support/ecmp-lab.ts';
import { haveNetns } from '../support/sshd.ts';

const netns = await haveNetns();

// Two multipath routes and a hash policy per host need network namespaces; loopback sshd cannot fake them.
describe.skipIf(!netns)('ECMP lab over SSH, through the CLI', () => {
	let lab: EcmpLab;

	beforeAll(async () => {
		lab = await startEcmpLab();
	});

	afterAll(async () => {
		await lab?.stop();
	});

	const check = (id: string, host: EcmpHostName, ...params: string[]) =>
		checkVerdict({ ...lab, stateDir: join(lab.lab.dir, 'state') }, id, host, params);

	/** Run `net.link-balance` on `host` while the lab's flows run there. */
	const balanceUnderLoad = async (host: EcmpHostName) => {
		const flows = await lab.startFlows(host);
		try {
			return await check('net.link-balance', host, `ifaces=${UPLINKS.join(',')}`, 'intervalMs=1000');
		} finally {
			await flows.stop();
			expect(flows.sent()).toBeGreaterThan(FLOWS);
		}
	};

	describe('net.ecmp-routes', () => {
		it('src: multipath route, L3 hashing -> warn with the fix and the mtr modes, exit 1', async () => {
			const { code, v } = await check('net.ecmp-routes', 'src');
			expect(v).toMatchObject({ check: 'net.ecmp-routes', host: 'src', status: 'warn', next: '#hash-on-ports' });
			expect(v.facts).toMatchObject({
				multipath4: 1,
				multipath6: 1,
				hashPolicy4: 0,
				hashPolicy6: 0,
				spreadsHostPairs4: false,
				routeSource4: 'ip -j route show',
			});
			expect(v.facts.multipathRoutes[0]).toBe(`${DST}: via 198.19.1.2 dev up1 weight 1, via 198.19.2.2 dev up2 weight 1`);
			expect(v.summary).toContain('every flow between one pair of hosts takes the same next hop');
			expect(v.summary).toContain('mtr --tcp');
			expect(v.fix).toContain('sysctl -w net.ipv4.fib_multipath_hash_policy=1');
			const routes = v.evidence.find((e: { command: string }) => e.command === 'ip -j route show');
			expect(routes.output).toContain('"nexthops"');
			expect(routes.lines).toEqual([1]);
			expect(code).toBe(1);
		});

		it('src2: the same route, L4 hashing -> pass, exit 0', async () => {
			const { code, v } = await check('net.ecmp-routes', 'src2');
			expect(v.status).toBe('pass');
			expect(v.facts).toMatchObject({ multipath4: 1, hashPolicy4: 1, spreadsHostPairs4: true, spreadsHostPairs6: true });
			expect(v.summary).toContain('hashed on ports');
			expect(code).toBe(0);
		});

		it('plain: no multipath -> pass, exit 0', async () => {
			const { code, v } = await check('net.ecmp-routes', 'plain');
			expect(v.status).toBe('pass');
			expect(v.facts).toMatchObject({ multipath4: 0, multipath6: 0 });
			expect(v.summary).toContain('No equal-cost routes here');
			expect(code).toBe(0);
		});

		it('src with dst: the next hop its own traffic takes now', async () => {
			const { v } = await check('net.ecmp-routes', 'src', `dst=${DST}`);
			expect(v.status).toBe('warn');
			expect(v.facts.dstPath).toMatch(/^via 198\.19\.[12]\.2 dev up[12]$/);
			expect(v.evidence.some((e: { command: string }) => e.command === `ip route get ${DST}`)).toBe(true);
		});

		it('plain with dst: no route there -> skip', async () => {
			const { code, v } = await check('net.ecmp-routes', 'plain', `dst=${DST}`);
			expect(v.status).toBe('skip');
			expect(v.summary).toContain('Network is unreachable');
			expect(code).toBe(0);
		});
	});

	describe('net.link-balance under 400 flows of one address pair', () => {
		it('src (L3 hashing): one uplink carries them all -> fail, exit 1', async () => {
			const { code, v } = await balanceUnderLoad('src');
			expect(v.status).toBe('fail');
			expect(v.facts.ifaces).toEqual([...UPLINKS]);
			const [a, b] = v.facts.txPackets as number[];
			expect(Math.max(a!, b!)).toBeGreaterThan(1000);
			expect(Math.min(a!, b!)).toBeLessThan(Math.max(a!, b!) / 50);
			expect(v.facts.ratio).toBeGreaterThan(1.9);
			expect(v.next).toBe('#per-hop-hashing');
			expect(code).toBe(1);
		});

		it('src2 (L4 hashing): the flows split -> pass, exit 0', async () => {
			const { code, v } = await balanceUnderLoad('src2');
			expect(v.status).toBe('pass');
			const [a, b] = v.facts.txPackets as number[];
			expect(Math.min(a!, b!)).toBeGreaterThan(Math.max(a!, b!) / 2);
			expect(v.facts.ratio).toBeLessThan(1.3);
			expect(code).toBe(0);
		});

		it('no traffic -> warn, too little to judge', async () => {
			const { v } = await check('net.link-balance', 'src2', `ifaces=${UPLINKS.join(',')}`, 'intervalMs=300');
			expect(v.status).toBe('warn');
			expect(v.facts.totalPackets).toBeLessThan(100);
		});

		it('an interface the host does not have -> error naming it, exit 2', async () => {
			const { code, v } = await check('net.link-balance', 'plain', 'ifaces=eth0,up1', 'intervalMs=200');
			expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
			expect(v.summary).toContain('no interface up1');
			expect(code).toBe(2);
		});
	});
});
