/**
 * The transport contract (pytest-testinfra's idea): one suite every backend must pass, so a check
 * sees the same thing whether it runs locally, over SSH or against a scenario host. Only POSIX
 * tools every Linux host has are used: `sh`, `printf`, `sleep`, `head`, `yes`, `true`, `false`.
 */
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRunbookError } from '../../src/core/errors.ts';
import type { ExecLimits, Transport } from '../../src/transport/types.ts';

const LIMITS: ExecLimits = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

export interface ContractOptions {
	/**
	 * Why this backend cannot kill a command on the host at its deadline, only stop waiting for it;
	 * given, the test that checks the process is gone is skipped and its title carries the reason.
	 */
	cannotKill?: string;
}

export function defineTransportContract(name: string, factory: () => Promise<Transport>, options: ContractOptions = {}): void {
	describe(`transport contract: ${name}`, () => {
		let t: Transport;
		beforeAll(async () => {
			t = await factory();
		});
		afterAll(async () => {
			await t?.close();
		});

		test('exit codes 0, 1 and 42 come back as data', async () => {
			expect((await t.exec(['true'], LIMITS)).code).toBe(0);
			expect((await t.exec(['false'], LIMITS)).code).toBe(1);
			const r = await t.exec(['sh', '-c', 'exit 42'], LIMITS);
			expect(r).toEqual({ stdout: '', stderr: '', code: 42 });
		});

		test('stdout and stderr are kept apart', async () => {
			const r = await t.exec(['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out'], LIMITS);
			expect(r.stdout).toBe('to-out\nmore-out\n');
			expect(r.stderr).toBe('to-err\n');
			expect(r.code).toBe(0);
		});

		test('a missing command exits 127 and says not found', async () => {
			const r = await t.exec(['runbook-no-such-command', '--version'], LIMITS);
			expect(r.code).toBe(127);
			expect(r.stdout).toBe('');
			expect(r.stderr).toMatch(/runbook-no-such-command: .*not found/);
		});

		test('hostile argv arrives intact and nothing in it is interpreted', async () => {
			const marker = join(tmpdir(), `runbook-contract-${process.pid}-${Date.now()}`);
			const args = [
				'two words',
				'semi;colon',
				`; touch ${marker}-semi`,
				`$(touch ${marker}-subst)`,
				`\`touch ${marker}-tick\``,
				'$(id)',
				'$HOME',
				"it's",
				'say "hi"',
				'line one\nline two',
				'*',
				'',
				'back\\slash',
				'tab\there',
				'-n',
				'| cat',
				'> /dev/null',
				'é ü 日本',
			];
			try {
				const r = await t.exec(['printf', '%s\\n', ...args], LIMITS);
				expect(r.stdout).toBe(args.map((a) => `${a}\n`).join(''));
				expect(r.code).toBe(0);
				for (const suffix of ['-semi', '-subst', '-tick']) expect(existsSync(marker + suffix), suffix).toBe(false);
			} finally {
				for (const suffix of ['-semi', '-subst', '-tick']) rmSync(marker + suffix, { force: true });
			}
		});

		test('bytes that are not UTF-8 become U+FFFD, not a crash', async () => {
			const r = await t.exec(['printf', 'a\\377b\\n'], LIMITS);
			expect(r.stdout).toBe('a\uFFFDb\n');
			expect(r.code).toBe(0);
		});

		test('output is not trimmed', async () => {
			const r = await t.exec(['sh', '-c', "printf '\\n  lead and trail  \\n\\n'; printf ' e \\n' >&2"], LIMITS);
			expect(r.stdout).toBe('\n  lead and trail  \n\n');
			expect(r.stderr).toBe(' e \n');
		});

		test('commands run in the C locale', async () => {
			const r = await t.exec(['sh', '-c', 'echo "$LC_ALL/$LANG"'], LIMITS);
			expect(r.stdout).toBe('C/C\n');
		});

		test('a command past its deadline throws ProbeTimeout quickly; the transport still works', async () => {
			const started = Date.now();
			const err = await t.exec(['sleep', '5'], { timeoutMs: 500, maxBytes: LIMITS.maxBytes }).catch((e: unknown) => e);
			const elapsed = Date.now() - started;
			expect(isRunbookError(err) && err.code).toBe('ProbeTimeout');
			expect((err as Error).message).toMatch(/sleep 5 did not finish in 0.5s/);
			expect(elapsed).toBeLessThan(2500);
			expect(await t.exec(['printf', 'alive'], LIMITS)).toEqual({ stdout: 'alive', stderr: '', code: 0 });
		});

		const killed = 'the command is killed on the host at its deadline, not left running';
		test.skipIf(options.cannotKill !== undefined)(options.cannotKill ? `${killed} (skipped: ${options.cannotKill})` : killed, async () => {
			const pidFile = join(tmpdir(), `runbook-contract-${process.pid}-${Date.now()}.pid`);
			try {
				const err = await t
					.exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], { timeoutMs: 500, maxBytes: 1024 })
					.catch((e: unknown) => e);
				expect(isRunbookError(err) && err.code).toBe('ProbeTimeout');
				const pid = (await t.exec(['cat', pidFile], LIMITS)).stdout.trim();
				expect(pid).toMatch(/^\d+$/);
				let alive = true;
				for (let i = 0; i < 20 && alive; i++) {
					alive = (await t.exec(['sh', '-c', 'kill -0 "$1" 2>/dev/null', 'sh', pid], LIMITS)).code === 0;
					if (alive) await new Promise((r) => setTimeout(r, 100));
				}
				expect(alive).toBe(false);
			} finally {
				await t.exec(['rm', '-f', pidFile], LIMITS);
			}
		});

		test('stdin is closed: a command reading it sees end of file at once', async () => {
			const r = await t.exec(['cat'], { timeoutMs: 5000, maxBytes: 1024 });
			expect(r).toEqual({ stdout: '', stderr: '', code: 0 });
		});

		test('output over maxBytes is cut and marked truncated', async () => {
			const r = await t.exec(['head', '-c', '50000', '/dev/zero'], { timeoutMs: 10_000, maxBytes: 1000 });
			expect(r.stdout.length).toBe(1000);
			expect(r.truncated).toBe(true);
			const small = await t.exec(['printf', 'x'], { timeoutMs: 10_000, maxBytes: 1000 });
			expect(small.truncated).toBeUndefined();
		});

		test('endless output is cut at maxBytes and the command stopped', async () => {
			const r = await t.exec(['yes', 'spam'], { timeoutMs: 10_000, maxBytes: 4096 });
			expect(r.truncated).toBe(true);
			expect(r.stdout.length).toBe(4096);
			expect(r.stdout.startsWith('spam\nspam\n')).toBe(true);
			expect(r.code).toBeNull();
		});

		test('stderr has its own cap', async () => {
			const r = await t.exec(['sh', '-c', 'head -c 3000 /dev/zero >&2; printf ok'], { timeoutMs: 10_000, maxBytes: 1000 });
			expect(r.stderr.length).toBe(1000);
			expect(r.stdout).toBe('ok');
			expect(r.truncated).toBe(true);
		});

		test('many commands, in sequence and at once, share one transport', async () => {
			for (let i = 0; i < 10; i++) expect((await t.exec(['printf', '%s', String(i)], LIMITS)).stdout).toBe(String(i));
			// More at once than OpenSSH's default MaxSessions (10) lets one connection open.
			const many = await Promise.all(Array.from({ length: 12 }, (_, i) => t.exec(['sh', '-c', `printf ${i}; exit ${i}`], LIMITS)));
			expect(many.map((r) => [r.stdout, r.code])).toEqual(Array.from({ length: 12 }, (_, i) => [String(i), i]));
		});
	});
}
