/**
 * `runbook scenario record`: turn what checks read and ran on a real host into a training scenario
 * (DESIGN.md, "Training scenarios"), so a trainer can make an exercise out of a real incident.
 *
 * - Every probe goes through the transport; a wrapper around it sees each argv with its whole
 *   result, below the `Ctx`, so the runner's own verdict logic (platform skips, timeouts, error
 *   mapping) is the one that decides the verdicts recorded as `expect`.
 * - `cat PATH` that printed the file becomes `files[PATH]`; a file that was absent is left out (absent
 *   means absent on the scenario host too); any other answer of `cat` (permission denied, a
 *   directory) and every other argv becomes `commands["argv joined by spaces"]`.
 * - The same probe answered differently on successive runs (a counter sampled twice) is recorded as
 *   the list of its answers in order; answered the same every time, as one value.
 * - Masking (`Masker`) rewrites addresses, MACs, host names and secrets consistently across every
 *   file, command and parameter: the same original always gets the same replacement.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Document, isScalar, visit } from 'yaml';
import type { ExecResult } from '../core/check.ts';
import { RunbookError, type ErrorCode } from '../core/errors.ts';
import type { Host } from '../inventory/types.ts';
import { runOnHost, Sessions, type PlannedRun } from '../runner/run.ts';
import type { RunOptions, VerdictRecord } from '../runner/types.ts';
import type { Transport } from '../transport/types.ts';
import { parseScenario } from './load.ts';
import type { CommandAnswer, CommandValue, FileValue, Scenario } from './schema.ts';

// --- recording -----------------------------------------------------------------------------------

/** One probe as it ran: the argv the transport got and everything it answered. */
export interface ProbeCall {
	argv: readonly string[];
	result: ExecResult;
}

/** Errors that mean the host was never really asked: recording them would make a scenario of nothing. */
const TRANSPORT_ERRORS: ReadonlySet<ErrorCode> = new Set([
	'HostKeyUnknown',
	'HostKeyChanged',
	'AuthRejected',
	'NoCredentials',
	'HostUnreachable',
	'ConnectTimeout',
	'ProbeTimeout',
	'ConnectionLost',
]);

/** Sessions whose transports log every probe into `calls`. */
class RecordingSessions extends Sessions {
	readonly calls: ProbeCall[] = [];
	override async transportFor(host: Host): Promise<Transport> {
		const inner = await super.transportFor(host);
		const calls = this.calls;
		return {
			label: inner.label,
			...(inner.hostKey ? { hostKey: inner.hostKey } : {}),
			async exec(argv, limits) {
				const result = await inner.exec(argv, limits);
				calls.push({ argv: [...argv], result: { ...result } });
				return result;
			},
			close: () => inner.close(),
		};
	}
}

/**
 * Run `plan` on `host` in order, one connection, and return the verdicts with every probe they made.
 * Throws the transport's own error (`HostKeyUnknown`, `HostUnreachable` ...) when a check could not
 * reach the host at all: nothing is worth recording then.
 */
export async function recordChecks(
	plan: readonly PlannedRun[],
	host: Host,
	opts: RunOptions,
): Promise<{ verdicts: VerdictRecord[]; calls: ProbeCall[] }> {
	const sessions = new RecordingSessions(opts);
	const verdicts: VerdictRecord[] = [];
	try {
		for (const { check, params, problem } of plan) {
			const v = await runOnHost(check, params, host, sessions, opts, problem);
			if (v.code !== undefined && TRANSPORT_ERRORS.has(v.code)) {
				throw new RunbookError(
					v.code,
					`nothing recorded: ${v.check} on ${host.name}: ${v.summary}`,
					v.hint === undefined ? {} : { hint: v.hint },
				);
			}
			verdicts.push(v);
		}
	} finally {
		await sessions.close();
	}
	return { verdicts, calls: sessions.calls };
}

// --- from probes to files and commands -----------------------------------------------------------

export interface ScenarioContent {
	files: Record<string, FileValue>;
	commands: Record<string, CommandValue>;
}

/** The path rule of the scenario schema: absolute, no `//`, no `.` or `..` segment, no trailing slash. */
function isScenarioPath(p: string): boolean {
	return /^(?:\/[^/\0]+)+$/.test(p) && !p.split('/').some((s) => s === '.' || s === '..');
}

/** `null` exit (killed by a signal) is kept as 128 + SIGKILL, what a shell reports for it. */
function answerOf(r: ExecResult): CommandAnswer {
	return { stdout: r.stdout, stderr: r.stderr, code: r.code ?? 137 };
}

const sameAnswer = (a: CommandAnswer, b: CommandAnswer) => a.stdout === b.stdout && a.stderr === b.stderr && a.code === b.code;

/** One value when every answer is the same, else the list in the order they came. */
function collapse<T>(values: T[], same: (a: T, b: T) => boolean): T | T[] {
	return values.every((v) => same(v, values[0]!)) ? values[0]! : values;
}

/**
 * Files and commands from what the checks read and ran, in the order they first ran. An argv whose
 * joined form the scenario schema cannot hold as a key (leading or trailing blanks) is refused.
 */
export function scenarioContent(calls: readonly ProbeCall[]): ScenarioContent {
	const byKey = new Map<string, { argv: readonly string[]; results: ExecResult[] }>();
	for (const c of calls) {
		const key = c.argv.join(' ');
		const seen = byKey.get(key);
		if (seen) seen.results.push(c.result);
		else byKey.set(key, { argv: c.argv, results: [c.result] });
	}
	const files: Record<string, FileValue> = {};
	const commands: Record<string, CommandValue> = {};
	for (const [key, { argv, results }] of byKey) {
		if (key.trim() !== key || key === '') {
			throw new RunbookError(
				'InvalidArgument',
				`cannot record the command ${JSON.stringify(argv)}: a scenario keys commands by their argv joined by spaces, and this one begins or ends with a blank`,
			);
		}
		if (argv.length === 2 && argv[0] === 'cat' && isScenarioPath(argv[1]!)) {
			const read = results.every((r) => r.code === 0 && r.stderr === '');
			const absent = results.every((r) => r.code !== 0 && r.stdout === '' && /No such file or directory/.test(r.stderr));
			if (read) {
				files[argv[1]!] = collapse(
					results.map((r) => r.stdout),
					(a, b) => a === b,
				);
				continue;
			}
			if (absent) continue;
		}
		commands[key] = collapse(results.map(answerOf), sameAnswer);
	}
	return { files, commands };
}

// --- masking -------------------------------------------------------------------------------------

/** What `--mask` replaced, original -> replacement, for the report. */
export interface MaskSummary {
	ipv4: Map<string, string>;
	ipv6: Map<string, string>;
	mac: Map<string, string>;
	hostnames: Map<string, string>;
	secrets: number;
	/** Names given that were left alone because they read like ordinary words (`src`, `router`). */
	skippedNames: string[];
}

const DOC_NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

/** Octets of a dotted quad, or null when it is not one. */
function octets(s: string): number[] | null {
	if (!isIPv4(s)) return null;
	return s.split('.').map(Number);
}

/** Addresses that identify nothing and that parsers may rely on: unspecified, loopback, multicast, broadcast, netmasks, documentation. */
function keepIPv4(o: number[]): boolean {
	const [a, b, c] = o as [number, number, number, number];
	if (a === 0 || a === 127 || a >= 224) return true;
	if (DOC_NETS.includes(`${a}.${b}.${c}` as (typeof DOC_NETS)[number])) return true;
	if (a === 255) {
		// A netmask: ones then zeros.
		const bits = o.reduce((acc, x) => acc * 256 + x, 0);
		const inv = 0xffffffff - bits;
		return (inv & (inv + 1)) === 0;
	}
	return false;
}

/** Eight 16-bit groups of an IPv6 address (no zone), or null. */
function groups6(s: string): number[] | null {
	if (!isIPv6(s) || s.includes('.')) return null;
	const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
	const h = head === '' ? [] : head.split(':');
	const t = tail === undefined || tail === '' ? [] : tail.split(':');
	const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
	return [...h, ...zeros, ...t].map((g) => Number.parseInt(g, 16));
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`. */
function format6(g: number[]): string {
	let best = -1;
	let bestLen = 1;
	for (let i = 0; i < 8;) {
		if (g[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && g[j] === 0) j++;
		if (j - i > bestLen) {
			best = i;
			bestLen = j - i;
		}
		i = j;
	}
	const hex = g.map((x) => x.toString(16));
	if (best === -1) return hex.join(':');
	return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Unspecified, loopback, multicast and documentation addresses identify nothing. */
function keepIPv6(g: number[]): boolean {
	if (g.slice(0, 7).every((x) => x === 0) && g[7]! <= 1) return true;
	if (g[0]! >> 8 === 0xff) return true;
	return g[0] === 0x2001 && g[1] === 0x0db8;
}

/** A name worth masking: it has a digit, a dot or a dash, or is long; `src` or `router` would also rewrite ordinary words of every output. */
function maskableName(n: string): boolean {
	return n.length >= 3 && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(n) && (/[0-9.-]/.test(n) || n.length >= 8) && !isIPv4(n) && !isIPv6(n);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const SECRET_KEYS = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|community)[A-Za-z0-9_.-]*`;

/** Secret-looking text, each with what replaces it. */
const SECRET_PATTERNS: readonly [RegExp, string | ((...m: string[]) => string)][] = [
	[/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, (_m, kind) => `-----BEGIN ${kind}-----\nREDACTED\n-----END ${kind}-----`],
	[/\b(ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+)(\s+)AAAA[0-9A-Za-z+/]+=*/g, '$1$2REDACTED'],
	[
		new RegExp(String.raw`\b(${SECRET_KEYS})(\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"']+)`, 'gi'),
		(_m, k, sep, v) => `${k}${sep}${v.startsWith('"') ? '"REDACTED"' : v.startsWith("'") ? "'REDACTED'" : 'REDACTED'}`,
	],
	[/\b(Authorization:\s*(?:Bearer|Basic|Token)|Bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1$2REDACTED'],
	[/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, '$1REDACTED@'],
	[/\bAKIA[0-9A-Z]{16}\b/g, 'REDACTED'],
	[/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, 'REDACTED'],
	[/\bglpat-[A-Za-z0-9_-]{20,}\b/g, 'REDACTED'],
	[/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, 'REDACTED'],
	[/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, 'REDACTED'],
];

const IPV4_RE = /(?<![0-9.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![0-9]|\.\d)/g;
const IPV6_RE = /(?<![0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Za-z.:]|:[0-9A-Fa-f])/g;
const MAC_RE = /(?<![0-9A-Fa-f](?::)?)([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?!:?[0-9A-Fa-f])/g;
/** /proc/net socket tables: `ADDRESS:PORT` in hex, IPv4 as 8 digits in host (little-endian) order, IPv6 as 32 digits, four little-endian words. */
const PROC_SOCKET4 = /^\/proc\/net\/(?:tcp|udp|raw|udplite|icmp)$/;
const PROC_SOCKET6 = /^\/proc\/net\/(?:tcp6|udp6|raw6|udplite6|icmp6)$/;
const HEX_SOCKET_RE = /(?<![0-9A-Fa-f])([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})(?![0-9A-Fa-f])/g;

/**
 * Replaces addresses, MACs, host names and secrets, the same original always by the same
 * replacement, in everything it is given (call `reserve` on every text first, so a documentation
 * address already present is never handed out for another one).
 *
 * - IPv4: each /24 seen gets one of 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 while they last,
 *   keeping the last octet (gateways stay .1, a /30's ends stay its ends); past three /24s, or on a
 *   clash, the next free documentation address.
 * - IPv6: each /64 gets 2001:db8:0:N::/64 (link-local stays fe80::/64); an interface id of 0xffff or
 *   less (`::1`, `::2`: numbered by hand) is kept, a longer one (EUI-64 from the MAC, random) is
 *   numbered from ::100.
 * - MAC: 02:00:00:00:00:01 onwards (locally administered); group and broadcast MACs are kept.
 * - Host names: `host1`, `host2` ... (`hostN.example.net` for a dotted name, whose first label maps
 *   to the same `hostN`).
 * - Secrets: PEM blocks, SSH public key blobs, `password=` / `token:` style values, bearer tokens,
 *   URL credentials, well-known token formats: `REDACTED`.
 */
export class Masker {
	readonly summary: MaskSummary = { ipv4: new Map(), ipv6: new Map(), mac: new Map(), hostnames: new Map(), secrets: 0, skippedNames: [] };
	readonly #v4Nets = new Map<string, string>();
	readonly #v4Taken = new Set<string>();
	readonly #v6Nets = new Map<string, number[]>();
	readonly #v6Reserved = new Map<string, Set<number>>();
	readonly #v6Next = new Map<string, number>();
	readonly #macTaken = new Set<string>();
	#macNext = 1;
	#names: { re: RegExp; to: string }[] = [];
	#hostNext = 1;

	constructor(hostnames: Iterable<string> = []) {
		for (const n of hostnames) this.addHostname(n);
	}

	/** Mask `name` wherever it appears as a whole word (case-insensitive); a dotted name's first label too. */
	addHostname(name: string): void {
		const n = name.trim().replace(/\.$/, '');
		// An address is masked as an address wherever it appears.
		if (n === '' || isIPv4(n) || isIPv6(n) || this.summary.hostnames.has(n.toLowerCase())) return;
		if (!maskableName(n)) {
			if (!this.summary.skippedNames.includes(n)) this.summary.skippedNames.push(n);
			return;
		}
		const short = n.split('.')[0]!;
		let shortTo = this.summary.hostnames.get(short.toLowerCase());
		if (!shortTo) {
			shortTo = `host${this.#hostNext++}`;
			if (maskableName(short)) this.summary.hostnames.set(short.toLowerCase(), shortTo);
		}
		if (n !== short) this.summary.hostnames.set(n.toLowerCase(), `${shortTo}.example.net`);
		// Longest first, so a full name is replaced whole before its first label is.
		this.#names = [...this.summary.hostnames]
			.sort((a, b) => b[0].length - a[0].length)
			.map(([from, to]) => ({ re: new RegExp(`(?<![A-Za-z0-9_.-])${escapeRe(from)}(?![A-Za-z0-9_-])`, 'gi'), to }));
	}

	/** Note what `text` already holds that a replacement must not collide with. */
	reserve(text: string): void {
		for (const m of text.matchAll(IPV4_RE)) {
			const o = octets(m[1]!);
			if (o && keepIPv4(o)) this.#v4Taken.add(m[1]!);
		}
		for (const m of text.matchAll(IPV6_RE)) {
			const g = groups6(m[1]!);
			if (!g || keepIPv6(g)) continue;
			const iid = g.slice(4);
			if (iid.slice(0, 3).every((x) => x === 0) && iid[3]! <= 0xffff) {
				const net = g.slice(0, 4).join(':');
				const set = this.#v6Reserved.get(net) ?? new Set<number>();
				set.add(iid[3]!);
				this.#v6Reserved.set(net, set);
			}
		}
		for (const m of text.matchAll(MAC_RE)) {
			const mac = m[1]!.toLowerCase();
			if (mac.startsWith('02:00:00:')) this.#macTaken.add(mac);
		}
	}

	ipv4(addr: string): string {
		const o = octets(addr);
		if (!o || keepIPv4(o)) return addr;
		const done = this.summary.ipv4.get(addr);
		if (done) return done;
		const net = o.slice(0, 3).join('.');
		let doc = this.#v4Nets.get(net);
		if (doc === undefined) {
			const free = DOC_NETS.find((d) => ![...this.#v4Nets.values()].includes(d));
			if (free) {
				doc = free;
				this.#v4Nets.set(net, doc);
			}
		}
		let to = doc === undefined ? undefined : `${doc}.${o[3]}`;
		if (to === undefined || this.#v4Taken.has(to)) to = this.#nextFreeIPv4();
		this.#v4Taken.add(to);
		this.summary.ipv4.set(addr, to);
		return to;
	}

	/** From the top of the last documentation network down, away from the kept-octet mappings that fill from below. */
	#nextFreeIPv4(): string {
		for (const d of [...DOC_NETS].reverse()) {
			for (let h = 254; h >= 1; h--) if (!this.#v4Taken.has(`${d}.${h}`)) return `${d}.${h}`;
		}
		throw new RunbookError(
			'InvalidArgument',
			`--mask ran out of documentation addresses: more than ${DOC_NETS.length * 254} distinct IPv4 addresses`,
			{
				hint: 'Record fewer checks at a time, or without --mask.',
			},
		);
	}

	ipv6(addr: string): string {
		const g = groups6(addr);
		if (!g || keepIPv6(g)) return addr;
		const key = format6(g);
		const done = this.summary.ipv6.get(key);
		if (done) return done;
		const net = g.slice(0, 4).join(':');
		const linkLocal = (g[0]! & 0xffc0) === 0xfe80;
		let prefix = linkLocal ? [0xfe80, 0, 0, 0] : this.#v6Nets.get(net);
		if (!prefix) {
			prefix = [0x2001, 0x0db8, 0, this.#v6Nets.size + 1];
			this.#v6Nets.set(net, prefix);
		}
		const iid = g.slice(4);
		let out: number[];
		if (iid.slice(0, 3).every((x) => x === 0) && iid[3]! <= 0xffff) out = [...prefix, ...iid];
		else {
			const reserved = this.#v6Reserved.get(net) ?? new Set<number>();
			let n = this.#v6Next.get(net) ?? 0x100;
			while (reserved.has(n)) n++;
			this.#v6Next.set(net, n + 1);
			out = [...prefix, 0, 0, 0, n];
		}
		const to = format6(out);
		this.summary.ipv6.set(key, to);
		return to;
	}

	mac(addr: string): string {
		const mac = addr.toLowerCase();
		const first = Number.parseInt(mac.slice(0, 2), 16);
		if (first & 1 || mac === '00:00:00:00:00:00' || mac.startsWith('02:00:00:')) return addr;
		const done = this.summary.mac.get(mac);
		if (done) return done;
		let to: string;
		do {
			const n = this.#macNext++;
			to = `02:00:00:${[(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
		} while (this.#macTaken.has(to));
		this.#macTaken.add(to);
		this.summary.mac.set(mac, to);
		return to;
	}

	/** Everything masked in `text`. `path` is the file it came from, for the hex forms of /proc/net. */
	text(text: string, path?: string): string {
		let out = text;
		for (const [re, to] of SECRET_PATTERNS) {
			out = out.replace(re, (...m: unknown[]) => {
				this.summary.secrets++;
				const groups = m.slice(0, -2).map(String);
				return typeof to === 'string' ? to.replace(/\$(\d)/g, (_, i: string) => groups[Number(i)] ?? '') : to(...groups);
			});
		}
		for (const { re, to } of this.#names)
			out = out.replace(re, (m) => (/^[A-Z0-9.-]+$/.test(m) && /[A-Z]/.test(m) ? to.toUpperCase() : to));
		out = out.replace(IPV6_RE, (m: string) => (groups6(m) ? this.ipv6(m) : m));
		out = out.replace(IPV4_RE, (m: string) => this.ipv4(m));
		out = out.replace(MAC_RE, (m: string) => this.mac(m));
		if (path !== undefined) out = this.#procNetHex(out, path);
		return out;
	}

	/**
	 * The hex addresses of /proc/net tables: socket tables (`0100007F:0016`), `route` (Destination,
	 * Gateway and Mask columns, little-endian), `if_inet6` and `ipv6_route` (network order). Only
	 * those columns: the same tables hold hex queue sizes and decimal counters that must stay as they are.
	 */
	#procNetHex(text: string, path: string): string {
		const le = (hex: string) => hex.match(/../g)!.reverse().join('');
		const v4 = (hex: string) => {
			const addr = le(hex)
				.match(/../g)!
				.map((b) => Number.parseInt(b, 16))
				.join('.');
			const to = this.ipv4(addr);
			return to === addr
				? hex
				: le(
						to
							.split('.')
							.map((x) => Number(x).toString(16).padStart(2, '0'))
							.join(''),
					).toUpperCase();
		};
		const v6 = (hex: string, words: boolean) => {
			const net = words ? hex.match(/.{8}/g)!.map(le).join('') : hex;
			const g = net.match(/.{4}/g)!.map((x) => Number.parseInt(x, 16));
			const to = groups6(this.ipv6(format6(g)))!
				.map((x) => x.toString(16).padStart(4, '0'))
				.join('');
			const out = words ? to.match(/.{8}/g)!.map(le).join('') : to;
			return hex === hex.toUpperCase() ? out.toUpperCase() : out;
		};
		if (PROC_SOCKET4.test(path) || PROC_SOCKET6.test(path)) {
			return text.replace(HEX_SOCKET_RE, (_m: string, a: string, port: string) => `${a.length === 8 ? v4(a) : v6(a, true)}:${port}`);
		}
		const columns =
			path === '/proc/net/route' ? [1, 2, 7] : path === '/proc/net/ipv6_route' ? [0, 2, 4] : path === '/proc/net/if_inet6' ? [0] : [];
		if (columns.length === 0) return text;
		const sep = path === '/proc/net/route' ? '\t' : ' ';
		return text
			.split('\n')
			.map((line) => {
				const f = line.split(sep);
				for (const i of columns) {
					const x = f[i];
					if (x !== undefined && /^[0-9A-F]{8}$/.test(x)) f[i] = v4(x);
					else if (x !== undefined && /^[0-9a-fA-F]{32}$/.test(x)) f[i] = v6(x, false);
				}
				return f.join(sep);
			})
			.join('\n');
	}

	/** Masked files and commands: paths, keys and every output. */
	content(c: ScenarioContent): ScenarioContent {
		for (const [p, v] of Object.entries(c.files)) for (const s of [p, ...[v].flat()]) this.reserve(s);
		for (const [k, v] of Object.entries(c.commands)) for (const a of [v].flat()) for (const s of [k, a.stdout, a.stderr]) this.reserve(s);
		const files: Record<string, FileValue> = {};
		for (const [p, v] of Object.entries(c.files)) {
			const path = this.text(p);
			files[path] = Array.isArray(v) ? v.map((s) => this.text(s, p)) : this.text(v, p);
		}
		const commands: Record<string, CommandValue> = {};
		const one = (a: CommandAnswer): CommandAnswer => ({ stdout: this.text(a.stdout), stderr: this.text(a.stderr), code: a.code });
		for (const [k, v] of Object.entries(c.commands)) commands[this.text(k)] = Array.isArray(v) ? v.map(one) : one(v);
		return { files, commands };
	}

	/** A check's parameters with every string in them masked the same way (so the replay asks for what the file holds). */
	params(p: Record<string, unknown>): Record<string, unknown> {
		const m = (v: unknown): unknown => (typeof v === 'string' ? this.text(v) : Array.isArray(v) ? v.map(m) : v);
		return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, m(v)]));
	}
}

/** Host names a probe printed: `uname -n`, `uname -a`, `hostname`, /etc/hostname, /proc/sys/kernel/hostname. */
export function hostnamesIn(calls: readonly ProbeCall[]): string[] {
	const out = new Set<string>();
	for (const { argv, result } of calls) {
		if (result.code !== 0) continue;
		const key = argv.join(' ');
		const first = result.stdout.trim().split(/\s+/);
		if (
			key === 'uname -n' ||
			/^hostname(?: -[fsA])?$/.test(key) ||
			key === 'cat /etc/hostname' ||
			key === 'cat /proc/sys/kernel/hostname'
		) {
			if (first[0]) out.add(first[0]);
		} else if (key === 'uname -a' && first[1]) out.add(first[1]);
	}
	return [...out];
}

// --- the file --------------------------------------------------------------------------------------

/** The scenario as a file: `header` lines as a comment on top, then the fields in the schema's order. */
export function renderScenario(scenario: Record<string, unknown>, header: readonly string[]): string {
	const doc = new Document(scenario);
	// One line with its newline reads better as "65530\n" than as a one-line block.
	visit(doc, {
		Scalar(_key, node) {
			if (isScalar(node) && typeof node.value === 'string' && /^[^\n]*\n$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
		},
	});
	doc.commentBefore = header.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
	return doc.toString({ lineWidth: 0, blockQuote: 'literal', commentString: (c) => c.replace(/^/gm, '#') });
}

/**
 * Parse `text` back as `runbook` will (YAML, `ScenarioSchema`, the name rule) and make sure it holds
 * exactly `expected`: a value the YAML writer could not carry (a stray control character, a key the
 * schema refuses) stops here, before anything is written.
 */
export function validateRendered(file: string, text: string, expected: ScenarioContent): Scenario {
	const scenario = parseScenario(file, text);
	const norm = (v: CommandValue) => [v].flat().map((a) => ({ stdout: a.stdout, stderr: a.stderr, code: a.code }));
	const same =
		JSON.stringify(scenario.files) === JSON.stringify(expected.files) &&
		JSON.stringify(Object.entries(scenario.commands).map(([k, v]) => [k, norm(v as CommandValue)])) ===
			JSON.stringify(Object.entries(expected.commands).map(([k, v]) => [k, norm(v)]));
	if (!same)
		throw new RunbookError('InvalidScenario', `${file}: the written YAML does not read back as what was recorded`, {
			hint: 'Report this with the host outputs; record without the offending check meanwhile.',
		});
	return scenario;
}

/** Answers in the file's short form: `stdout` always, `stderr` and `code` only when not empty or 0. */
export function compactContent(c: ScenarioContent): Record<string, unknown> {
	const one = (a: CommandAnswer) => ({
		stdout: a.stdout,
		...(a.stderr === '' ? {} : { stderr: a.stderr }),
		...(a.code === 0 ? {} : { code: a.code }),
	});
	return {
		files: c.files,
		commands: Object.fromEntries(Object.entries(c.commands).map(([k, v]) => [k, Array.isArray(v) ? v.map(one) : one(v)])),
	};
}
