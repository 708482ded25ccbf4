/**
 * `runbook run <slug>`: every check of a runbook in step order on one host, through the real bin.
 * A check the host's platform does not judge is `skip`; a check whose required parameters were not
 * given is its own `error` verdict while the others still run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const state = mkdtempSync(join(tmpdir(), 'runbook-cli-run-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const run = (...args: string[]) => runCli(['run', ...args, '--json'], { RUNBOOK_STATE_DIR: state });
// One object per verdict, then one final `{"diagnosis": ...}` line.
const verdicts = (stdout: string) =>
	stdout
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l) as { check?: string; status: string; code?: string; summary: string })
		.filter((v): v is { check: string; status: string; code?: string; summary: string } => typeof v.check === 'string');

describe('runbook run', () => {
	it('an NX-OS scenario host: the Linux checks skip, the NX-OS checks fail, in step order, exit 1', async () => {
		const r = await run('icmp-redirect-copp', '--host', 'scenario:nxos-redirects-copp');
		expect(verdicts(r.stdout).map((v) => [v.check, v.status])).toEqual([
			['net.icmp-redirects', 'skip'],
			['net.redirect-route', 'skip'],
			['nxos.ip-redirects', 'fail'],
			['nxos.copp-drops', 'fail'],
		]);
		// Redirects enabled and punting point on to CoPP, which is dropping them: the cause at the end of the route.
		expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).diagnosis.likelyCause).toMatchObject({
			check: 'nxos.copp-drops',
			route: ['nxos.ip-redirects', 'nxos.copp-drops'],
		});
		expect(r.code).toBe(1);
	});

	it('a check missing its required parameters is an error naming them; the rest still run; exit 2', async () => {
		const r = await run('icmp-redirect-copp', '--host', 'local');
		const v = verdicts(r.stdout);
		expect(v.map((x) => x.check)).toEqual(['net.icmp-redirects', 'net.redirect-route', 'nxos.ip-redirects', 'nxos.copp-drops']);
		const route = v.find((x) => x.check === 'net.redirect-route')!;
		expect(route).toMatchObject({ status: 'error', code: 'InvalidParams' });
		expect(route.summary).toContain('--param dst=');
		expect(v.find((x) => x.check === 'net.icmp-redirects')!.status).not.toBe('error');
		expect(r.code).toBe(2);
	});
});
