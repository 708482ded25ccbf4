/**
 * Ad hoc hosts given on the command line, and the `[user@]address[:port]` grammar the other sources
 * share for bastions (`ProxyJump`, `-J`, `runbook_jump`).
 *
 * Accepted forms: `address`, `user@address`, `address:port`, `user@address:port`, `[v6addr]:port`,
 * `user@[v6addr]:port`, and a bare IPv6 address (more than one colon, no port). As in OpenSSH the user
 * ends at the last `@`. Nothing here reaches a shell, but the text comes from a URL or a terminal, so
 * anything that is not a plain user name, host name, IP address or port is refused rather than
 * passed on (a leading `-` would read as an ssh option, spaces and `;$\`|&` as shell syntax).
 */
import { isIP } from 'node:net';
import { RunbookError } from '../core/errors.ts';
import type { Host } from './types.ts';

/** An endpoint as written: the port is absent when the text gave none. */
export interface EndpointSpec {
	user?: string;
	address: string;
	port?: number;
}

export type EndpointParse = { ok: true; endpoint: EndpointSpec } | { ok: false; reason: string };

/** RFC 1123 labels; `_` too, since internal DNS and /etc/hosts use it. */
const HOSTNAME =
	/^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** POSIX portable names plus `@` for directory logins such as `alice@corp.example`. */
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;

/** A host name or an IP address (IPv6 possibly with a zone, `fe80::1%eth0`). */
export function isValidAddress(text: string): boolean {
	if (isIP(text) !== 0) return true;
	// Digits and dots only is an IPv4 address or a typo of one, never a host name.
	if (/^[0-9.]+$/.test(text)) return false;
	return HOSTNAME.test(text);
}

export function isValidUser(text: string): boolean {
	return USER.test(text);
}

/** `1`..`65535`, digits only; `undefined` for anything else. */
export function parsePort(text: string): number | undefined {
	if (!/^[0-9]{1,5}$/.test(text)) return undefined;
	const n = Number(text);
	return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parses `[user@]address[:port]` (forms in the header); never throws. */
export function parseEndpoint(text: string): EndpointParse {
	if (text.length === 0) return { ok: false, reason: 'it is empty' };
	if (/[\s\0-\x1f\x7f]/.test(text)) return { ok: false, reason: 'it contains spaces or control characters' };
	const bad = /[;&|$`'"\\<>(){}*?!#~^,=]/.exec(text);
	if (bad) return { ok: false, reason: `it contains ${JSON.stringify(bad[0])}, which no user, address or port has` };

	const at = text.lastIndexOf('@');
	const user = at >= 0 ? text.slice(0, at) : undefined;
	const hostPort = at >= 0 ? text.slice(at + 1) : text;
	if (user !== undefined && !isValidUser(user)) {
		return { ok: false, reason: user === '' ? 'the user before "@" is empty' : `${JSON.stringify(user)} is not a valid user name` };
	}

	let address: string;
	let portText: string | undefined;
	if (hostPort.startsWith('[')) {
		const close = hostPort.indexOf(']');
		if (close < 0) return { ok: false, reason: 'a "[" has no matching "]"' };
		address = hostPort.slice(1, close);
		const rest = hostPort.slice(close + 1);
		if (rest !== '') {
			if (!rest.startsWith(':')) return { ok: false, reason: `unexpected ${JSON.stringify(rest)} after "]"` };
			portText = rest.slice(1);
		}
		if (isIP(address) !== 6) return { ok: false, reason: `${JSON.stringify(address)} in brackets is not an IPv6 address` };
	} else {
		const colons = hostPort.split(':').length - 1;
		if (colons === 0) {
			address = hostPort;
		} else if (colons === 1) {
			const i = hostPort.indexOf(':');
			address = hostPort.slice(0, i);
			portText = hostPort.slice(i + 1);
		} else {
			// Several colons: a bare IPv6 address, which cannot carry a port without brackets.
			address = hostPort;
			if (isIP(address) !== 6) {
				return { ok: false, reason: `${JSON.stringify(address)} is not an IPv6 address (write [address]:port for one with a port)` };
			}
		}
	}

	if (address === '') return { ok: false, reason: 'the address is empty' };
	if (!isValidAddress(address)) return { ok: false, reason: `${JSON.stringify(address)} is not a host name or IP address` };
	const endpoint: EndpointSpec = { address };
	if (user !== undefined) endpoint.user = user;
	if (portText !== undefined) {
		const port = parsePort(portText);
		if (port === undefined) return { ok: false, reason: `port ${JSON.stringify(portText)} is not a number from 1 to 65535` };
		endpoint.port = port;
	}
	return { ok: true, endpoint };
}

/**
 * Whether a name given for a host is meant as an ad hoc address rather than the name of a defined
 * host: it has a user (`@`), a port or IPv6 colon (`:`), or is made of digits and dots. A bare word
 * such as `compute01` is not: it must be defined somewhere, so a typo is not sent to DNS.
 */
export function looksAdhoc(text: string): boolean {
	return text.includes('@') || text.includes(':') || /^[0-9.]+$/.test(text);
}

/** The endpoint an ad hoc text names, port absent when not given. Throws `UnknownHost` when not valid. */
export function parseAdhocTarget(text: string): EndpointSpec {
	const parsed = parseEndpoint(text);
	if (!parsed.ok) {
		throw new RunbookError('UnknownHost', `${JSON.stringify(text)} is not a valid ad hoc host: ${parsed.reason}`, {
			hint: 'Give an address as user@address:port, [IPv6]:port or address, or a host name from `runbook hosts`.',
		});
	}
	return parsed.endpoint;
}

/** An ad hoc host, named by the text as given. Throws `UnknownHost` when the text is not valid. */
export function parseAdhocHost(text: string): Host {
	const { user, address, port } = parseAdhocTarget(text);
	return {
		name: text,
		source: 'adhoc',
		transport: 'ssh',
		ssh: { address, port: port ?? 22, ...(user === undefined ? {} : { user }) },
		platform: 'linux',
		groups: [],
	};
}
