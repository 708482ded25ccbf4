import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../core/paths.ts';
import { answer } from '../transport/scenario-shell.ts';
import { compactContent, hostnamesIn, Masker, renderScenario, scenarioContent, validateRendered, type ProbeCall } from './record.ts';

const fixture = (path: string) => readFileSync(join(projectRoot, 'checks', path), 'utf8');
const ok = (argv: string[], stdout: string): ProbeCall => ({ argv, result: { stdout, stderr: '', code: 0 } });
const absent = (path: string): ProbeCall => ({
	argv: ['cat', path],
	result: { stdout: '', stderr: `cat: ${path}: No such file or directory\n`, code: 1 },
});

describe('scenarioContent', () => {
	it('cat that printed -> files; cat of an absent file -> left out; the rest -> commands by argv joined', () => {
		const c = scenarioContent([
			ok(['cat', '/proc/sys/vm/max_map_count'], '65530\n'),
			absent('/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages'),
			ok(['ls', '/sys/kernel/mm/hugepages'], 'hugepages-2048kB\n'),
			{ argv: ['pidof', 'ovs-vswitchd'], result: { stdout: '', stderr: '', code: 1 } },
		]);
		expect(c.files).toEqual({ '/proc/sys/vm/max_map_count': '65530\n' });
		expect(c.commands).toEqual({
			'ls /sys/kernel/mm/hugepages': { stdout: 'hugepages-2048kB\n', stderr: '', code: 0 },
			'pidof ovs-vswitchd': { stdout: '', stderr: '', code: 1 },
		});
	});

	it('cat refused (permission denied) -> a command with its stderr and code, not a file', () => {
		const c = scenarioContent([
			{ argv: ['cat', '/proc/1/maps'], result: { stdout: '', stderr: 'cat: /proc/1/maps: Permission denied\n', code: 1 } },
		]);
		expect(c.files).toEqual({});
		expect(c.commands['cat /proc/1/maps']).toEqual({ stdout: '', stderr: 'cat: /proc/1/maps: Permission denied\n', code: 1 });
	});

	it('a counter read twice with different values -> the list of answers in order; read twice the same -> one value', () => {
		const snmp = fixture('net/fixtures/icmp-redirects/debian12-k6.18-clean.snmp.txt');
		const later = snmp.replace(/^(Ip: \d+ \d+ )(\d+)/m, (_, head: string, n: string) => `${head}${Number(n) + 7}`);
		expect(later).not.toBe(snmp);
		const c = scenarioContent([
			ok(['cat', '/proc/net/snmp'], snmp),
			ok(['cat', '/proc/sys/net/ipv4/ip_forward'], '0\n'),
			ok(['cat', '/proc/net/snmp'], later),
			ok(['cat', '/proc/sys/net/ipv4/ip_forward'], '0\n'),
		]);
		expect(c.files['/proc/net/snmp']).toEqual([snmp, later]);
		expect(c.files['/proc/sys/net/ipv4/ip_forward']).toBe('0\n');
	});

	it('a file absent once and present later -> the cat command with both answers, so the replay sees both', () => {
		const c = scenarioContent([
			absent('/proc/net/bonding/bond0'),
			ok(['cat', '/proc/net/bonding/bond0'], 'Bonding Mode: load balancing (round-robin)\n'),
		]);
		expect(c.files).toEqual({});
		expect(c.commands['cat /proc/net/bonding/bond0']).toHaveLength(2);
	});

	it('an argv the scenario cannot key (trailing blank argument) -> refused with a reason', () => {
		expect(() => scenarioContent([ok(['echo', ''], '\n')])).toThrow(/begins or ends with a blank/);
	});

	it('what it writes is what the scenario shell answers', () => {
		const maps = ok(['ls', '/sys/kernel/mm/hugepages'], 'hugepages-1048576kB\nhugepages-2048kB\n');
		const c = scenarioContent([ok(['cat', '/proc/meminfo'], 'MemTotal: 1 kB\n'), maps, absent('/etc/redhat-release')]);
		const scenario = { files: c.files as Record<string, string>, commands: c.commands as never };
		expect(answer(scenario, 'LC_ALL=C LANG=C cat /proc/meminfo').stdout).toBe('MemTotal: 1 kB\n');
		expect(answer(scenario, 'LC_ALL=C LANG=C ls /sys/kernel/mm/hugepages').stdout).toBe(maps.result.stdout);
		expect(answer(scenario, 'LC_ALL=C LANG=C cat /etc/redhat-release')).toMatchObject({
			code: 1,
			stderr: 'cat: /etc/redhat-release: No such file or directory\n',
		});
	});
});

describe('Masker', () => {
	const routes = fixture('net/fixtures/ecmp-routes/debian12-k6.18-lab-src.ip-route.txt');

	it('IPv4: every /24 to a documentation /24, last octet kept, the same address always the same replacement', () => {
		const m = new Masker();
		const out = m.text(routes);
		expect(out).not.toMatch(/198\.1[89]\./);
		expect(out).toContain('192.0.2.0/30 dev eth0 proto kernel scope link src 192.0.2.2');
		expect(out).toContain('198.51.100.0/30 dev up1 proto kernel scope link src 198.51.100.1');
		expect(out).toContain('nexthop via 198.51.100.2 dev up1');
		expect(m.text('ping 198.19.1.2')).toBe('ping 198.51.100.2');
		// Past three /24s: free documentation addresses, still one per original.
		expect(m.ipv4('198.19.9.9')).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/);
		expect(new Set([...m.summary.ipv4.values()]).size).toBe(m.summary.ipv4.size);
	});

	it('IPv4: loopback, unspecified, netmasks, multicast and documentation addresses stay as they are', () => {
		const m = new Masker();
		const text = 'inet 127.0.0.1/8 scope host lo\n0.0.0.0 255.255.255.252 224.0.0.251 192.0.2.7\n';
		expect(m.text(text)).toBe(text);
	});

	it('a documentation address already present is never handed out for another one', () => {
		const m = new Masker();
		const text = 'via 192.0.2.1 src 10.1.2.1\n';
		m.reserve(text);
		const out = m.text(text);
		expect(out).toMatch(/^via 192\.0\.2\.1 src (?!192\.0\.2\.1\b)\d+\.\d+\.\d+\.\d+\n$/);
	});

	it('IPv6: each /64 to 2001:db8:0:N::/64, small interface ids kept, link-local kept link-local', () => {
		const m = new Masker();
		const out = m.text(fixture('net/fixtures/ecmp-routes/debian12-k6.18-lab-src.ip-6-route.txt'));
		expect(out).not.toContain('2001:2:');
		expect(out).toContain('2001:db8:0:1::/64 dev up1');
		expect(out).toContain('nexthop via 2001:db8:0:1::2 dev up1');
		expect(out).toContain('fe80::/64 dev eth0');
		expect(m.ipv6('fe80::a8bb:ccff:fedd:eeff')).toBe('fe80::100');
		expect(m.ipv6('FE80::A8BB:CCFF:FEDD:EEFF')).toBe('fe80::100');
		expect(m.text('ff02::1 ::1 ::')).toBe('ff02::1 ::1 ::');
	});

	it('MACs: unicast to 02:00:00:xx:xx:xx consistently; broadcast and all-zero kept; ip -d link still has every line', () => {
		const text = fixture('net/fixtures/mtu-chain/debian12-k6.18-host.ip-d-link.txt');
		const m = new Masker();
		const out = m.text(text);
		expect(out).not.toContain('62:61:35:6d:76:d4');
		expect(out).toContain('link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff');
		expect(out).toContain('link/loopback 00:00:00:00:00:00');
		expect(out.split('\n')).toHaveLength(text.split('\n').length);
		expect(m.mac('62:61:35:6D:76:D4')).toBe('02:00:00:00:00:01');
	});

	it('/proc/net hex addresses are masked in the address columns only; counters and queues stay', () => {
		const raw = fixture('kernel/fixtures/ufo-raw-socket/debian12-k6.18-udp-connected.proc-net-raw.txt').replaceAll(
			'0100007F:0000',
			'0A00A8C0:0000',
		);
		const m = new Masker();
		const out = m.text(raw, '/proc/net/raw');
		// 192.168.0.10 -> 192.0.2.10, written back little-endian.
		expect(out).toContain('0100007F:0011 0A0200C0:0000 01 00000000:00000000 00:00000000 00000000');
		expect(m.text(raw, '/proc/net/snmp')).toBe(raw);
		const route =
			'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
		expect(m.text(route, '/proc/net/route')).toContain('eth0\t00000000\t016433C6\t0003');
	});

	it('host names: whole words, case-insensitive, a full name and its first label alike; ordinary words left alone and reported', () => {
		const m = new Masker(['compute07.prod.example.com', 'compute07', 'src', 'lab-host-2']);
		expect(m.text('Linux compute07 6.1.0 #1 SMP; COMPUTE07.PROD.EXAMPLE.COM; compute070; lab-host-2:')).toBe(
			'Linux host1 6.1.0 #1 SMP; HOST1.EXAMPLE.NET; compute070; host2:',
		);
		expect(m.text('198.19.1.0/30 dev up1 proto kernel scope link src 198.19.1.1')).toContain(' src ');
		expect(m.summary.skippedNames).toEqual(['src']);
	});

	it('secrets: key=value, PEM blocks, SSH key blobs, bearer tokens, URL credentials', () => {
		const m = new Masker();
		const text = [
			'ExecStart=/usr/bin/agent --password=hunter2 --token "abc def" db_password: s3cr3t',
			'-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
			'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtb root@h',
			'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9xx',
			'https://deploy:ghx9Zq@git.example.net/repo.git',
		].join('\n');
		const out = m.text(text);
		for (const s of ['hunter2', 's3cr3t', 'b3BlbnNzaC1rZXktdjEAAAAA', 'AAAAC3NzaC1lZDI1NTE5AAAAIDtb', 'eyJhbGciOiJIUzI1NiJ9xx', 'ghx9Zq'])
			expect(out).not.toContain(s);
		expect(out).toContain('--password=REDACTED');
		expect(out).toContain('db_password: REDACTED');
		expect(out).toContain('https://deploy:REDACTED@git.example.net');
		expect(m.summary.secrets).toBeGreaterThanOrEqual(5);
	});

	it('content and params: keys, paths and outputs masked with one mapping', () => {
		const m = new Masker();
		const c = m.content({
			files: {},
			commands: {
				'ip route get 198.19.9.9': { stdout: '198.19.9.9 via 198.19.1.2 dev up1 src 198.19.1.1 uid 0 \n    cache \n', stderr: '', code: 0 },
			},
		});
		const [key] = Object.keys(c.commands);
		expect(key).toBe(`ip route get ${m.ipv4('198.19.9.9')}`);
		expect(m.params({ dst: '198.19.9.9', count: 3 })).toEqual({ dst: m.ipv4('198.19.9.9'), count: 3 });
	});
});

describe('hostnamesIn', () => {
	it('uname -n, hostname, /etc/hostname and uname -a', () => {
		expect(
			hostnamesIn([
				ok(['uname', '-n'], 'compute07\n'),
				ok(['hostname', '-f'], 'compute07.prod.example.com\n'),
				ok(['cat', '/etc/hostname'], 'db1\n'),
				ok(['uname', '-a'], 'Linux gw-2 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64 GNU/Linux\n'),
				ok(['uname', '-r'], '6.1.0-18-amd64\n'),
			]),
		).toEqual(['compute07', 'compute07.prod.example.com', 'db1', 'gw-2']);
	});
});

describe('renderScenario', () => {
	it('reads back exactly what was recorded, awkward text included, with the header as a comment', () => {
		const c = scenarioContent([
			ok(['cat', '/proc/meminfo'], fixture('kernel/fixtures/max-map-count/debian12-k6.18-256x2M-1x1G-ovs-running.meminfo.txt')),
			ok(['cat', '/proc/sys/vm/max_map_count'], '65530\n'),
			ok(['ethtool', '-k', 'eth0'], '  leading blanks\ntrailing blank \n\ttab\n\n\n'),
			ok(['printf', 'no newline'], 'no newline'),
			{ argv: ['tool', '--x'], result: { stdout: 'caf\u00e9 \ufffd bell\u0007\r\n', stderr: 'warn: "quoted" # not a comment\n', code: 3 } },
			ok(['cat', '/proc/net/snmp'], 'Ip: 1\n'),
			ok(['cat', '/proc/net/snmp'], 'Ip: 2\n'),
		]);
		const text = renderScenario(
			{
				name: 'round-trip',
				title: 'T',
				brief: 'B',
				runbook: 'hugepage-map-count',
				expect: { 'kernel.max-map-count': 'fail' },
				...compactContent(c),
			},
			['Recorded from h at t.', '', 'TODO: edit.'],
		);
		expect(text.startsWith('# Recorded from h at t.\n#\n# TODO: edit.\n')).toBe(true);
		expect(text).toContain('/proc/sys/vm/max_map_count: "65530\\n"');
		const s = validateRendered('/x/round-trip.yaml', text, c);
		expect(s.files['/proc/net/snmp']).toEqual(['Ip: 1\n', 'Ip: 2\n']);
		expect(s.commands['tool --x']).toEqual({
			stdout: 'caf\u00e9 \ufffd bell\u0007\r\n',
			stderr: 'warn: "quoted" # not a comment\n',
			code: 3,
		});
	});

	it('a file that does not read back as recorded -> InvalidScenario before anything is written', () => {
		const c = scenarioContent([ok(['cat', '/proc/sys/vm/max_map_count'], '65530\n')]);
		const text = renderScenario({ name: 'x', title: 'T', brief: 'B', ...compactContent(c) }, []).replace('65530', '65531');
		expect(() => validateRendered('/x/x.yaml', text, c)).toThrow(/does not read back/);
	});
});
