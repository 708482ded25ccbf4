import { describe, expect, it } from 'vitest';
import { RunbookError } from '../core/errors.ts';
import { isValidAddress, looksAdhoc, parseAdhocHost, parseEndpoint } from './adhoc.ts';

describe('parseAdhocHost, accepted forms', () => {
	it.each([
		['root@10.0.0.5:2222', { user: 'root', address: '10.0.0.5', port: 2222 }],
		['10.0.0.5', { address: '10.0.0.5', port: 22 }],
		['admin@switch01.example.net', { user: 'admin', address: 'switch01.example.net', port: 22 }],
		['compute01:2222', { address: 'compute01', port: 2222 }],
		['[2001:db8::5]:2222', { address: '2001:db8::5', port: 2222 }],
		['ops@[2001:db8::5]:22', { user: 'ops', address: '2001:db8::5', port: 22 }],
		['[::1]', { address: '::1', port: 22 }],
		['2001:db8::5', { address: '2001:db8::5', port: 22 }],
		['fe80::1%eth0', { address: 'fe80::1%eth0', port: 22 }],
		['alice@corp.example@host01:22', { user: 'alice@corp.example', address: 'host01', port: 22 }],
		['svc_backup@db_1.internal.', { user: 'svc_backup', address: 'db_1.internal.', port: 22 }],
		['root@10.0.0.5:65535', { user: 'root', address: '10.0.0.5', port: 65535 }],
	])('%s -> %j', (text, ssh) => {
		expect(parseAdhocHost(text)).toEqual({ name: text, source: 'adhoc', transport: 'ssh', ssh, platform: 'linux', groups: [] });
	});
});

describe('parseAdhocHost, refused text -> UnknownHost', () => {
	it.each([
		['root@host;reboot', '";"'],
		['$(id)@host', '"$"'],
		['`id`@host', '"`"'],
		['host:22 -oProxyCommand=x', 'spaces'],
		['-oProxyCommand=x', '"="'],
		['-host.example.net', 'not a host name'],
		['host\nother:22', 'control characters'],
		['a b@c', 'spaces'],
		["o'brien@host", `"'"`],
		['host|cat:22', '"|"'],
		['host&:22', '"&"'],
		['host>out', '">"'],
		['user@', 'address is empty'],
		['@host', 'user before "@" is empty'],
		['host:0', 'port "0"'],
		['host:65536', 'port "65536"'],
		['host:22x', 'port "22x"'],
		['host:', 'port ""'],
		['[::1', 'no matching "]"'],
		['[::1]x', 'unexpected "x"'],
		['[10.0.0.1]:22', 'not an IPv6 address'],
		['fe80::zz', 'not an IPv6 address'],
		['999.1.1.1', 'not a host name or IP address'],
		['10.0.0.1.5', 'not a host name or IP address'],
		['host/x:22', 'not a host name'],
		['', 'empty'],
	])('%j refused (%s)', (text, why) => {
		let err: unknown;
		try {
			parseAdhocHost(text);
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(RunbookError);
		expect((err as RunbookError).code).toBe('UnknownHost');
		expect((err as RunbookError).message).toContain(why);
		expect((err as RunbookError).message).toContain(JSON.stringify(text));
		expect((err as RunbookError).message).not.toContain('\n');
	});
});

describe('looksAdhoc', () => {
	it.each([
		['compute01', false],
		['host.example.net', false],
		['local', false],
		['10.0.0.1', true],
		['999.1.1.1', true],
		['root@compute01', true],
		['compute01:2222', true],
		['::1', true],
		['[::1]:22', true],
	])('%s -> %s', (text, want) => {
		expect(looksAdhoc(text)).toBe(want);
	});
});

describe('parseEndpoint and isValidAddress', () => {
	it('leaves the port out when the text gives none', () => {
		expect(parseEndpoint('ops@bastion')).toEqual({ ok: true, endpoint: { user: 'ops', address: 'bastion' } });
	});
	it.each([
		['a'.repeat(63) + '.example.net', true],
		['a'.repeat(64) + '.example.net', false],
		['xn--bcher-kva.example', true],
		['under_score', true],
		['trailing-.example', false],
		['192.168.1.1', true],
		['::ffff:192.0.2.1', true],
	])('%s -> %s', (text, want) => {
		expect(isValidAddress(text)).toBe(want);
	});
});
