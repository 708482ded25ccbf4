/**
 * OpenSSH known_hosts, read the way `ssh` reads it (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT").
 *
 * One entry per line: `[@marker] hostpatterns keytype base64-key [comment]`, e.g.
 *
 *     [10.0.0.5]:2222,bastion-b ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE... root@b
 *     |1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM= ssh-rsa AAAAB3Nza...
 *     @revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO...
 *
 * The name looked up is the one `ssh` uses: the address for port 22, `[address]:port` otherwise,
 * lower-cased. Patterns are comma lists with `*` and `?`; a matching `!pattern` excludes the line.
 * A hashed name is `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. `@revoked` keys are refused
 * wherever they appear for the host; `@cert-authority` lines are ignored (no certificate support).
 * Several files are read as one, as `UserKnownHostsFile a b` is.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyCheck {
	status: HostKeyStatus;
	/** For `match`, `changed` and `revoked`: the file of the deciding line. */
	file?: string;
	/** 1-based line number in `file`. */
	line?: number;
	/** For `changed`: the fingerprint of the key known_hosts holds for this host. */
	knownFingerprint?: string;
	/** For `unknown`: key types known_hosts does hold for this host (never the presented type). */
	otherTypes?: string[];
}

export interface KnownHostEntry {
	file: string;
	line: number;
	marker: 'revoked' | 'cert-authority' | undefined;
	/** The host field as written: a pattern list or one hashed name. */
	hosts: string;
	keyType: string;
	keyBlob: Buffer;
}

/** `~/x` -> `$HOME/x`; anything else unchanged. */
export function expandHome(path: string): string {
	return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** The name OpenSSH looks a host up by: `address` on port 22, `[address]:port` elsewhere. */
export function knownHostsName(address: string, port: number): string {
	const a = address.toLowerCase();
	return port === 22 ? a : `[${a}]:${port}`;
}

/** `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
export function fingerprintSha256(blob: Buffer): string {
	return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
	if (blob.length < 4) return undefined;
	const len = blob.readUInt32BE(0);
	if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
	return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH `match_pattern`: `*` any run, `?` one character, everything else literal. */
function matchPattern(s: string, p: string): boolean {
	let si = 0;
	let pi = 0;
	let starP = -1;
	let starS = 0;
	while (si < s.length) {
		if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
			si++;
			pi++;
		} else if (pi < p.length && p[pi] === '*') {
			starP = pi++;
			starS = si;
		} else if (starP >= 0) {
			pi = starP + 1;
			si = ++starS;
		} else {
			return false;
		}
	}
	while (pi < p.length && p[pi] === '*') pi++;
	return pi === p.length;
}

/** OpenSSH `match_hostname`: true on a positive match, false on none or on a matching `!pattern`. */
export function matchHostPatterns(name: string, patterns: string): boolean {
	const host = name.toLowerCase();
	let positive = false;
	for (const raw of patterns.split(',')) {
		const negated = raw.startsWith('!');
		const p = (negated ? raw.slice(1) : raw).toLowerCase();
		if (p === '') continue;
		if (matchPattern(host, p)) {
			if (negated) return false;
			positive = true;
		}
	}
	return positive;
}

/** Whether a `|1|salt|hmac` field names `name`. */
function matchHashed(name: string, field: string): boolean {
	const parts = field.split('|');
	if (parts.length !== 4 || parts[1] !== '1') return false;
	const salt = Buffer.from(parts[2] ?? '', 'base64');
	const want = Buffer.from(parts[3] ?? '', 'base64');
	if (salt.length !== 20 || want.length !== 20) return false;
	const got = createHmac('sha1', salt).update(name.toLowerCase()).digest();
	return timingSafeEqual(got, want);
}

/** Whether an entry's host field names `name` (plain patterns or a hashed name). */
export function entryMatches(entry: Pick<KnownHostEntry, 'hosts'>, name: string): boolean {
	return entry.hosts.startsWith('|') ? matchHashed(name, entry.hosts) : matchHostPatterns(name, entry.hosts);
}

/** Parse one file's text. Malformed lines are skipped, as `ssh` skips them. */
export function parseKnownHosts(text: string, file = '<text>'): KnownHostEntry[] {
	const out: KnownHostEntry[] = [];
	const lines = text.split('\n');
	for (let i = 0; i < lines.length; i++) {
		const fields = (lines[i] ?? '').trim().split(/[ \t]+/);
		if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
		let marker: KnownHostEntry['marker'];
		if (fields[0].startsWith('@')) {
			const m = fields.shift();
			if (m === '@revoked') marker = 'revoked';
			else if (m === '@cert-authority') marker = 'cert-authority';
			else continue;
		}
		const [hosts, keyType, b64] = fields;
		if (hosts === undefined || keyType === undefined || b64 === undefined) continue;
		if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
		const keyBlob = Buffer.from(b64, 'base64');
		if (keyTypeOfBlob(keyBlob) !== keyType) continue;
		out.push({ file, line: i + 1, marker, hosts, keyType, keyBlob });
	}
	return out;
}

function readEntries(files: readonly string[]): KnownHostEntry[] {
	const out: KnownHostEntry[] = [];
	for (const f of files) {
		let text: string;
		try {
			text = readFileSync(expandHome(f), 'utf8');
		} catch {
			// Absent or unreadable: nothing is known from it, as with `ssh`.
			continue;
		}
		out.push(...parseKnownHosts(text, f));
	}
	return out;
}

/** Every entry in `files` (not `@cert-authority`) whose host field names this host. */
export function lookupHost(files: readonly string[], address: string, port: number): KnownHostEntry[] {
	const name = knownHostsName(address, port);
	return readEntries(files).filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name));
}

/** Key types known_hosts holds (not revoked) for this host, in file order, each once. */
export function knownKeyTypes(files: readonly string[], address: string, port: number): string[] {
	const types = lookupHost(files, address, port)
		.filter((e) => e.marker === undefined)
		.map((e) => e.keyType);
	return [...new Set(types)];
}

/**
 * Decide about the key a host presented: `revoked` if any matching `@revoked` line holds it,
 * else `match` if any line holds it, else `changed` if a line holds another key of the same
 * type, else `unknown`.
 */
export function verifyHostKey(files: readonly string[], address: string, port: number, keyType: string, keyBlob: Buffer): HostKeyCheck {
	const entries = lookupHost(files, address, port);
	const revoked = entries.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
	if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
	const plain = entries.filter((e) => e.marker === undefined);
	const same = plain.find((e) => e.keyType === keyType && e.keyBlob.equals(keyBlob));
	if (same) return { status: 'match', file: same.file, line: same.line };
	const old = plain.find((e) => e.keyType === keyType);
	if (old) return { status: 'changed', file: old.file, line: old.line, knownFingerprint: fingerprintSha256(old.keyBlob) };
	return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** The line `appendKnownHost` writes: `name keytype base64`. */
export function knownHostsLine(address: string, port: number, keyType: string, keyBlob: Buffer): string {
	return `${knownHostsName(address, port)} ${keyType} ${keyBlob.toString('base64')}`;
}

/**
 * Record a key (trust on first use). Creates missing folders 0700 and the file 0600; writes the
 * plain, unhashed form, on a line of its own even when the file lacks a final newline.
 */
export function appendKnownHost(file: string, address: string, port: number, keyType: string, keyBlob: Buffer): void {
	const path = expandHome(file);
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const fd = openSync(path, 'a+', 0o600);
	try {
		let prefix = '';
		const size = fstatSync(fd).size;
		if (size > 0) {
			const last = Buffer.alloc(1);
			readSync(fd, last, 0, 1, size - 1);
			if (last[0] !== 0x0a) prefix = '\n';
		}
		writeSync(fd, `${prefix}${knownHostsLine(address, port, keyType, keyBlob)}\n`);
	} finally {
		closeSync(fd);
	}
}
