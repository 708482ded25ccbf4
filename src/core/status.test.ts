import { describe, expect, it } from 'vitest';
import { exitCodeFor, rollUp } from './status.ts';
import { quoteArgv } from './argv.ts';

describe('rollUp', () => {
	it.each([
		[[], 'skip'],
		[['pass', 'skip'], 'pass'],
		[['pass', 'warn'], 'warn'],
		[['warn', 'fail', 'pass'], 'fail'],
		[['fail', 'error'], 'error'],
		[['skip', 'skip'], 'skip'],
	] as const)('%j -> %s', (statuses, want) => {
		expect(rollUp(statuses)).toBe(want);
	});
	it('exit codes: 0 pass/skip, 1 warn/fail, 2 error', () => {
		expect(exitCodeFor(['pass', 'skip'])).toBe(0);
		expect(exitCodeFor(['pass', 'warn'])).toBe(1);
		expect(exitCodeFor(['fail'])).toBe(1);
		expect(exitCodeFor(['fail', 'error'])).toBe(2);
	});
});

describe('quoteArgv', () => {
	it('leaves plain words alone and single-quotes the rest', () => {
		expect(quoteArgv(['cat', '/proc/sys/vm/max_map_count'])).toBe('cat /proc/sys/vm/max_map_count');
		expect(quoteArgv(['printf', '%s\n', "it's", '', '$(id)'])).toBe(`printf '%s\n' 'it'\\''s' '' '$(id)'`);
	});
	it('refuses an empty argv', () => {
		expect(() => quoteArgv([])).toThrow();
	});
});

describe('quoteArgv first word', () => {
	it('quotes a first word that would read as an assignment', () => {
		expect(quoteArgv(['A=b', 'c'])).toBe(`'A=b' c`);
		expect(quoteArgv(['env', 'A=b'])).toBe('env A=b');
	});
});
