/**
 * `ip route get ADDRESS [from SRC iif DEV]`, text form (iproute2), shared by every check that asks
 * the kernel where a packet would go. Real examples (this machine, DOMAIN.md section 5 and 7):
 *
 *     192.168.50.1 from 10.0.0.10 via 10.0.0.2 dev eth0
 *         cache <redirect> iif eth0
 *     192.0.2.2 dev u1 src 192.0.2.1 uid 0
 *         cache expires 596sec mtu 1450
 *     2001:db8::2 from :: dev u1 proto kernel src 2001:db8::1 metric 256 pref medium
 *
 * The first line is the route (an optional route type such as `local` or `unreachable`, the
 * address, then key/value words); indented continuation lines carry the cache entry: flags in
 * angle brackets (`<redirect>`: a redirect would be sent; `<redirected>`: one was accepted), and a
 * learned path MTU (`mtu 1450`, `mtu lock 1450`) with its expiry.
 */
import { notUnderstood, parsed, type Parsed } from '../check.ts';
import { incomplete, linesOf } from './text.ts';

export interface RouteGet {
	/** Route type when printed (`local`, `broadcast`, `unreachable` ...); null for a plain unicast route. */
	type: string | null;
	dst: string;
	/** `from`: the source asked about, when the question named one. */
	from: string | null;
	/** `iif`: the input interface asked about (echoed on the route or the cache line). */
	iif: string | null;
	/** `via`: the next hop; null when the destination is on-link. */
	gateway: string | null;
	dev: string;
	src: string | null;
	/** A learned path MTU exception (`cache ... mtu N`). */
	mtu: number | null;
	expiresSec: number | null;
	/** Cache flags: `redirect`, `redirected` ... */
	cache: string[];
	/** Whether a `cache` line was printed at all (IPv4 always prints one for a routed lookup). */
	cacheLine: boolean;
}

const ROUTE_TYPES = new Set([
	'local',
	'broadcast',
	'multicast',
	'unicast',
	'anycast',
	'blackhole',
	'unreachable',
	'prohibit',
	'throw',
	'nat',
]);
/** An IPv4 dotted quad (each octet <= 255) or an IPv6 address (hex groups and colons, optional dotted tail). */
function isAddress(s: string): boolean {
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
	if (v4) return v4.slice(1).every((o) => Number(o) <= 255);
	return /^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:\d{1,3}(?:\.\d{1,3}){3})?$/.test(s) && s.includes(':');
}

export function parseRouteGet(text: string): Parsed<RouteGet> {
	const cut = incomplete(text, 'ip route get');
	if (cut) return notUnderstood(cut);
	const lines = linesOf(text);
	const words = lines[0]!.trim().split(/\s+/);
	let k = 0;
	const type = ROUTE_TYPES.has(words[0]!) ? words[k++]! : null;
	const dst = words[k];
	if (dst === undefined || !isAddress(dst))
		return notUnderstood(`ip route get: line 1 does not start with an address: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
	for (const [i, l] of lines.slice(1).entries()) {
		if (!/^\s/.test(l)) return notUnderstood(`ip route get: line ${i + 2} is not an indented continuation (more than one route?)`);
	}
	const value = (ws: string[], key: string, from = 0) => {
		const i = ws.indexOf(key, from);
		return i >= 0 && i + 1 < ws.length ? ws[i + 1]! : null;
	};
	const gateway = value(words, 'via', k + 1);
	if (gateway !== null && !isAddress(gateway)) return notUnderstood(`ip route get: "via ${gateway}" is not an address`);
	const dev = value(words, 'dev', k + 1);
	if (dev === null) return notUnderstood('ip route get: no "dev" on line 1');
	if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(dev)) return notUnderstood(`ip route get: "${dev}" is not an interface name`);

	// IPv4 prints the cache entry on indented lines below the route; IPv6 prints `expires` and `mtu` on the route line.
	const decided = [1];
	let mtu: number | null = null;
	let expiresSec: number | null = null;
	const cache: string[] = [];
	let cacheLine = false;
	let iif = value(words, 'iif', k + 1);
	lines.forEach((line, i) => {
		const ws = line.trim().split(/\s+/);
		let hit = false;
		if (i > 0 && ws[0] === 'cache') {
			cacheLine = true;
			iif ??= value(ws, 'iif');
		}
		if (i > 0)
			for (const flags of line.matchAll(/<([^>]*)>/g)) {
				cache.push(...flags[1]!.split(',').filter(Boolean));
				hit = true;
			}
		const m = /\bmtu (?:lock )?(\d+)\b/.exec(line);
		if (m && mtu === null) {
			mtu = Number(m[1]);
			hit = true;
		}
		const e = value(ws, 'expires');
		if (e !== null && /^\d+sec$/.test(e) && expiresSec === null) expiresSec = Number(e.slice(0, -3));
		if (hit && i > 0) decided.push(i + 1);
	});
	return parsed(
		{ type, dst, from: value(words, 'from', k + 1), iif, gateway, dev, src: value(words, 'src', k + 1), mtu, expiresSec, cache, cacheLine },
		decided,
	);
}
