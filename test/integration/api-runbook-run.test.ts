/**
 * `POST /api/runbooks/<slug>/run` against the built server (`node dist/server/entry.mjs`), on the
 * scenario hosts: every check of the runbook streamed in step order per host, then one diagnosis
 * (or fleet) line; invocation errors answered before anything runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnosis, FleetDiagnosis, RunbookRunEvent } from '../../src/diagnosis/types.ts';
import { startSite, type Site } from '../support/site.ts';

let site: Site;
const state = mkdtempSync(join(tmpdir(), 'runbook-api-runbook-'));

beforeAll(async () => {
	site = await startSite({ RUNBOOK_STATE_DIR: state });
});
afterAll(async () => {
	await site?.stop();
	rmSync(state, { recursive: true, force: true });
});

function post(slug: string, body: unknown, contentType = 'application/json'): Promise<Response> {
	return fetch(`${site.url}/api/runbooks/${slug}/run`, {
		method: 'POST',
		headers: { 'content-type': contentType },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
}

async function stream(slug: string, body: unknown): Promise<RunbookRunEvent[]> {
	const res = await post(slug, body);
	expect(res.status, site.log()).toBe(200);
	expect(res.headers.get('content-type')).toContain('application/x-ndjson');
	return (await res.text())
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l) as RunbookRunEvent);
}

const verdicts = (events: RunbookRunEvent[]) =>
	events.flatMap((e) => (e.type === 'verdict' ? [[e.verdict.host, e.verdict.check, e.verdict.status]] : []));

describe('POST /api/runbooks/<slug>/run', () => {
	it('one host: start and verdict for the check, then the diagnosis naming the cause and the fix step', async () => {
		const events = await stream('hugepage-map-count', { hosts: ['scenario:hugepages-too-many'] });
		expect(events[0]).toMatchObject({ type: 'start', check: 'kernel.max-map-count', host: 'scenario:hugepages-too-many' });
		expect(verdicts(events)).toEqual([['scenario:hugepages-too-many', 'kernel.max-map-count', 'fail']]);
		const last = events.at(-1)!;
		expect(last.type).toBe('diagnosis');
		const d = (last as { diagnosis: Diagnosis }).diagnosis;
		expect(d.likelyCause?.check).toBe('kernel.max-map-count');
		expect(d.fixStep?.href).toBe('/hugepage-map-count/#raise-the-limit');
		expect(d.hostKey).toMatch(/^SHA256:/);
		expect(d.steps[0]!.commands).toContain('cat /proc/sys/vm/max_map_count');
		expect(events.filter((e) => e.type === 'diagnosis' || e.type === 'fleet')).toHaveLength(1);
	});

	it('every check of a multi-check runbook in step order, one session per host so the cache answers the repeated probe', async () => {
		const events = await stream('bond-vlan-stray-subinterface', { hosts: ['scenario:bond-vlan-stray'] });
		expect(events.filter((e) => e.type === 'start').map((e) => (e.type === 'start' ? e.check : ''))).toEqual([
			'net.neigh-unresolved',
			'net.vlan-on-bond-slave',
			'bond.status',
		]);
		expect(verdicts(events).map(([, check, status]) => [check, status])).toEqual([
			['net.neigh-unresolved', 'fail'],
			['net.vlan-on-bond-slave', 'fail'],
			['bond.status', 'pass'],
		]);
		const d = (events.at(-1) as { diagnosis: Diagnosis }).diagnosis;
		expect(d.probeCacheHits).toBe(1);
		// The unresolved neighbour leads on to the stray VLAN device, the cause; the symptom is "also found".
		expect(d.likelyCause?.check).toBe('net.vlan-on-bond-slave');
		expect(d.alsoFound.map((x) => x.check)).toEqual(['net.neigh-unresolved']);
	});

	it('several hosts: every check on each, then one fleet line with the count, the grid and the outlier', async () => {
		const events = await stream('hugepage-map-count', { hosts: ['scenario:hugepages-too-many', 'scenario:hugepages-healthy'] });
		expect(verdicts(events).sort()).toEqual([
			['scenario:hugepages-healthy', 'kernel.max-map-count', 'pass'],
			['scenario:hugepages-too-many', 'kernel.max-map-count', 'fail'],
		]);
		const last = events.at(-1)!;
		expect(last.type).toBe('fleet');
		const f = (last as { fleet: FleetDiagnosis }).fleet;
		expect(f.summary).toBe('2 hosts: 1 fail, 1 pass');
		expect(f.grid.map((r) => [r.host, r.cells['kernel.max-map-count']])).toEqual([
			['scenario:hugepages-too-many', 'fail'],
			['scenario:hugepages-healthy', 'pass'],
		]);
		expect(f.outliers.map((o) => o.host)).toEqual(['scenario:hugepages-too-many']);
	});

	it("params per check: missing required ones are that check's error naming them; given, the check runs", async () => {
		const host = 'scenario:bond-vlan-healthy';
		const without = await stream('icmp-redirect-copp', { hosts: [host] });
		const route = without.find((e) => e.type === 'verdict' && e.verdict.check === 'net.redirect-route');
		expect(route).toMatchObject({ verdict: { status: 'error', code: 'InvalidParams' } });
		expect(route!.type === 'verdict' && route!.verdict.summary).toMatch(
			/net\.redirect-route needs dst \(string\), src \(string\), iif \(string\)/,
		);
		expect(
			verdicts(without)
				.map(([, c, s]) => [c, s])
				.filter(([c]) => c!.startsWith('nxos.')),
		).toEqual([
			['nxos.ip-redirects', 'skip'],
			['nxos.copp-drops', 'skip'],
		]);
		const withParams = await stream('icmp-redirect-copp', {
			hosts: [host],
			params: { 'net.redirect-route': { dst: '10.0.0.2', src: '10.0.0.1', iif: 'bond0' } },
		});
		const ran = withParams.find((e) => e.type === 'verdict' && e.verdict.check === 'net.redirect-route');
		expect(ran!.type === 'verdict' && ran!.verdict.code).not.toBe('InvalidParams');
		expect(withParams.at(-1)!.type).toBe('diagnosis');
	});

	it.each([
		['unknown runbook', 'no-such-runbook', { hosts: ['scenario:hugepages-healthy'] }, 404, 'UnknownRunbook'],
		[
			'unknown host, even beside a known one',
			'hugepage-map-count',
			{ hosts: ['scenario:hugepages-healthy', 'nowhere'] },
			404,
			'UnknownHost',
		],
		['no hosts', 'hugepage-map-count', { hosts: [] }, 400, 'InvalidParams'],
		['33 hosts', 'hugepage-map-count', { hosts: Array.from({ length: 33 }, (_, i) => `h${i}`) }, 400, 'InvalidParams'],
		['an unknown field', 'hugepage-map-count', { hosts: ['local'], host: 'local' }, 400, 'InvalidParams'],
		[
			'params for a check the runbook does not have',
			'hugepage-map-count',
			{ hosts: ['local'], params: { 'net.path-mtu': {} } },
			400,
			'InvalidParams',
		],
		['not JSON', 'hugepage-map-count', '{hosts:', 400, 'InvalidParams'],
	])('%s: answered with an error before anything runs', async (_, slug, body, status, code) => {
		const res = await post(slug, body);
		expect(res.status).toBe(status);
		expect(res.headers.get('content-type')).toContain('application/json');
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
	});

	it('a body not sent as JSON is refused, even when it parses as JSON', async () => {
		const res = await post('hugepage-map-count', JSON.stringify({ hosts: ['local'] }), 'application/yaml');
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: { message: string } }).error.message).toContain('Content-Type: application/json');
	});
});
