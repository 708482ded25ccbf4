/**
 * known_hosts lookups checked against OpenSSH itself: keys come from `ssh-keygen`, hashed files
 * from `ssh-keygen -H`, and every lookup is compared with what `ssh-keygen -F` finds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
	appendKnownHost,
	fingerprintSha256,
	keyTypeOfBlob,
	knownHostsName,
	knownKeyTypes,
	lookupHost,
	matchHostPatterns,
	parseKnownHosts,
	verifyHostKey,
} from './known-hosts.ts';

interface Key {
	type: string;
	blob: Buffer;
	/** `type base64`, as in a .pub file without its comment. */
	text: string;
	pubFile: string;
}

let dir: string;
const keys: Record<string, Key> = {};

function keygen(name: string, type: 'ed25519' | 'ecdsa'): Key {
	const file = join(dir, name);
	execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
	const [t, b64] = readFileSync(`${file}.pub`, 'utf8').split(' ');
	return { type: t!, blob: Buffer.from(b64!, 'base64'), text: `${t} ${b64}`, pubFile: `${file}.pub` };
}

/** Line numbers `ssh-keygen -F name -f file` reports, without `@cert-authority` ones (marked CA). */
function sshKeygenFound(file: string, name: string): number[] {
	let out: string;
	try {
		out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
	} catch {
		return []; // exit 1: not found
	}
	return [...out.matchAll(/^# Host \S+ found: line (\d+)( CA)?/gm)].filter((m) => !m[2]).map((m) => Number(m[1]));
}

function writeFile(name: string, lines: string[]): string {
	const f = join(dir, name);
	writeFileSync(f, lines.join('\n') + '\n');
	return f;
}

/**
 * A file exercising every form: lists, wildcards, negation, ports, markers, comments, and junk
 * lines (left out when the file is to be hashed: `ssh-keygen -H` refuses a file holding them).
 */
function plainFile(junk = true): string {
	const { a, b, c, e } = keys as Record<'a' | 'b' | 'c' | 'e', Key>;
	return writeFile('known_hosts', [
		'# managed by hand',
		`web1,Web2.Example.com ${a.text} root@web1`,
		`[10.0.0.5]:2222 ${b.text}`,
		`*.lab.example.com,!bad.lab.example.com ${c.text}`,
		`@revoked * ${e.text}`,
		`@cert-authority *.example.com ${a.text}`,
		`10.0.0.? ${b.text}`,
		'',
		`[web?.example.com]:22 ${c.text}`,
		'   \t# indented comment',
		...(junk ? ['broken-line-without-key', `junk ssh-ed25519 !!notbase64!!`] : []),
		`[2001:db8::1]:2200 ${a.text}`,
		`2001:db8::1 ${c.text}`,
	]);
}

const LOOKUPS: Array<[string, number]> = [
	['web1', 22],
	['WEB1', 22],
	['web2.example.com', 22],
	['web1', 2222],
	['10.0.0.5', 2222],
	['10.0.0.5', 22],
	['10.0.0.50', 22],
	['x.lab.example.com', 22],
	['bad.lab.example.com', 22],
	['web3.example.com', 22],
	['2001:db8::1', 2200],
	['2001:db8::1', 22],
	['nowhere', 22],
];

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'runbook-kh-'));
	keys.a = keygen('a', 'ed25519');
	keys.b = keygen('b', 'ed25519');
	keys.c = keygen('c', 'ed25519');
	keys.e = keygen('e', 'ecdsa');
});

afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
});

describe('names and fingerprints', () => {
	test('port 22 looks up the bare address, any other port [address]:port', () => {
		expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
		expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
		expect(knownHostsName('Host.Example.COM', 22)).toBe('host.example.com');
	});

	test('fingerprint equals what ssh-keygen -l prints', () => {
		for (const k of Object.values(keys)) {
			const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.pubFile], { encoding: 'utf8' });
			expect(printed.split(' ')[1]).toBe(fingerprintSha256(k.blob));
		}
	});

	test('key type is read from the blob', () => {
		expect(keyTypeOfBlob(keys.a!.blob)).toBe('ssh-ed25519');
		expect(keyTypeOfBlob(keys.e!.blob)).toBe('ecdsa-sha2-nistp256');
		expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeUndefined();
	});

	test('patterns: wildcards, lists, negation wins', () => {
		expect(matchHostPatterns('a.lab.example.com', '*.lab.example.com')).toBe(true);
		expect(matchHostPatterns('bad.lab.example.com', '*.lab.example.com,!bad.lab.example.com')).toBe(false);
		expect(matchHostPatterns('bad.lab.example.com', '!bad.lab.example.com')).toBe(false);
		expect(matchHostPatterns('10.0.0.7', '10.0.0.?')).toBe(true);
		expect(matchHostPatterns('10.0.0.17', '10.0.0.?')).toBe(false);
		expect(matchHostPatterns('[h]:2222', '[h]:*')).toBe(true);
		expect(matchHostPatterns('h', '[h]:*')).toBe(false);
	});
});

describe('lookup agrees with ssh-keygen -F', () => {
	test('plain file: every name finds the lines ssh-keygen finds', () => {
		const file = plainFile();
		for (const [address, port] of LOOKUPS) {
			const ours = lookupHost([file], address, port).map((e) => e.line);
			expect(ours, `${address}:${port}`).toEqual(sshKeygenFound(file, knownHostsName(address, port)));
		}
	});

	test('hashed file (ssh-keygen -H): same lines found, hashed names matched by HMAC', () => {
		const file = plainFile(false);
		execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
		const text = readFileSync(file, 'utf8');
		expect(text).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /m);
		expect(text).not.toContain('web1,');
		for (const [address, port] of LOOKUPS) {
			const ours = lookupHost([file], address, port).map((e) => e.line);
			expect(ours, `${address}:${port}`).toEqual(sshKeygenFound(file, knownHostsName(address, port)));
		}
	});

	test('malformed lines and comments are skipped, cert-authority kept as marked', () => {
		const entries = parseKnownHosts(readFileSync(plainFile(), 'utf8'));
		expect(entries.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 9, 13, 14]);
		expect(entries.find((e) => e.line === 6)?.marker).toBe('cert-authority');
		expect(entries.find((e) => e.line === 5)?.marker).toBe('revoked');
	});
});

describe('verifyHostKey', () => {
	test('the recorded key matches, with its file and line', () => {
		const file = plainFile();
		expect(verifyHostKey([file], '10.0.0.5', 2222, 'ssh-ed25519', keys.b!.blob)).toEqual({
			status: 'match',
			file,
			line: 3,
		});
	});

	test('another key of the same type is changed, naming the old line and its fingerprint', () => {
		const file = plainFile();
		expect(verifyHostKey([file], '10.0.0.5', 2222, 'ssh-ed25519', keys.a!.blob)).toEqual({
			status: 'changed',
			file,
			line: 3,
			knownFingerprint: fingerprintSha256(keys.b!.blob),
		});
	});

	test('a host known only by a key of another type is unknown and says which types are known', () => {
		const file = plainFile();
		expect(verifyHostKey([file], 'web1', 22, 'ecdsa-sha2-nistp256', keys.c!.blob)).toEqual({
			status: 'unknown',
			otherTypes: ['ssh-ed25519'],
		});
	});

	test('a host not listed at all is unknown; [addr]:port is not the bare address', () => {
		const file = plainFile();
		expect(verifyHostKey([file], 'nowhere', 22, 'ssh-ed25519', keys.a!.blob).status).toBe('unknown');
		expect(verifyHostKey([file], '10.0.0.5', 2222, 'ssh-ed25519', keys.b!.blob).status).toBe('match');
		expect(verifyHostKey([file], '10.0.0.51', 2222, 'ssh-ed25519', keys.b!.blob).status).toBe('unknown');
	});

	test('a key under @revoked is refused even where it would otherwise match', () => {
		const file = writeFile('revoked', [`h1 ${keys.e!.text}`, `@revoked h1,h2 ${keys.e!.text}`]);
		expect(verifyHostKey([file], 'h1', 22, 'ecdsa-sha2-nistp256', keys.e!.blob)).toEqual({
			status: 'revoked',
			file,
			line: 2,
		});
	});

	test('a @cert-authority line does not make its key a host key', () => {
		const file = plainFile();
		expect(verifyHostKey([file], 'web3.example.com', 22, 'ssh-ed25519', keys.a!.blob).status).toBe('unknown');
	});

	test('several files are read as one; absent files are empty', () => {
		const first = writeFile('first', [`other ${keys.a!.text}`]);
		const second = writeFile('second', [`[127.0.0.1]:2022 ${keys.c!.text}`]);
		const r = verifyHostKey([join(dir, 'absent'), first, second], '127.0.0.1', 2022, 'ssh-ed25519', keys.c!.blob);
		expect(r).toEqual({ status: 'match', file: second, line: 1 });
		expect(knownKeyTypes([first, second], '127.0.0.1', 2022)).toEqual(['ssh-ed25519']);
	});

	test('hashed [addr]:port entry matches', () => {
		const file = writeFile('hashed-port', [`[127.0.0.1]:2022 ${keys.c!.text}`]);
		execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
		expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
		expect(verifyHostKey([file], '127.0.0.1', 2022, 'ssh-ed25519', keys.c!.blob).status).toBe('match');
		expect(verifyHostKey([file], '127.0.0.1', 22, 'ssh-ed25519', keys.c!.blob).status).toBe('unknown');
	});
});

describe('appendKnownHost', () => {
	test('creates folders 0700 and file 0600, and ssh-keygen -F finds the entry', () => {
		const file = join(dir, 'new', 'sub', 'known_hosts');
		appendKnownHost(file, '127.0.0.1', 2022, 'ssh-ed25519', keys.a!.blob);
		expect(statSync(join(dir, 'new', 'sub')).mode & 0o777).toBe(0o700);
		expect(statSync(file).mode & 0o777).toBe(0o600);
		expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2022 ${keys.a!.text}\n`);
		expect(sshKeygenFound(file, '[127.0.0.1]:2022')).toEqual([1]);
		expect(verifyHostKey([file], '127.0.0.1', 2022, 'ssh-ed25519', keys.a!.blob).status).toBe('match');
	});

	test('port 22 is written as the bare address; a missing final newline is supplied', () => {
		const file = join(dir, 'no-newline');
		writeFileSync(file, `other ${keys.b!.text}`);
		appendKnownHost(file, 'host.example', 22, 'ssh-ed25519', keys.c!.blob);
		expect(readFileSync(file, 'utf8')).toBe(`other ${keys.b!.text}\nhost.example ${keys.c!.text}\n`);
		expect(sshKeygenFound(file, 'host.example')).toEqual([2]);
	});
});
