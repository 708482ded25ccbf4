import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArgv } from '../core/argv.ts';
import { ScenarioSchema } from '../scenarios/schema.ts';
import { answer, parseCommand, ShellState } from './scenario-shell.ts';

/** What our ssh transport sends for an argv. */
const wire = (argv: string[]) => `LC_ALL=C LANG=C ${quoteArgv(argv)}`;

const scenario = ScenarioSchema.parse({
	name: 'shell-test',
	title: 'Shell test',
	brief: 'A host for the shell tests.',
	runbook: 'none',
	files: {
		'/proc/sys/vm/max_map_count': '65530\n',
		'/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '40960\n',
		'/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages': '40960\n',
		'/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages': '0\n',
		'/etc/empty': '',
		'/tmp/a file; with $(odd) name': 'odd\n',
	},
	commands: {
		'uname -r': { stdout: '3.10.0-693.el7.x86_64\n' },
		'pidof ovs-vswitchd': { code: 1 },
		'grep -c a b c': { stdout: '3\n' },
		"echo it's $(here)": { stdout: 'listed\n', stderr: 'warned\n', code: 3 },
	},
});

const HOSTILE: string[][] = [
	['cat', '/tmp/a file; with $(odd) name'],
	['echo', "it's", '$(here)'],
	['printf', '%s\n', 'a b', '', ' ', '\t'],
	['x', "'", "''", "'\\''", '"', '\\', '\\\\', '"$HOME"', '`id`'],
	['x', 'line one\nline two', '\n', 'trailing\\'],
	['x', '; rm -rf /', '&&', '||', '|', '>', '<', '2>&1', '(', ')', '{a,b}', '[ab]', '*', '?', '~', '#c', '!'],
	['x', 'A=b', 'ünïcödé', '日本語', 'tab\there', '\u00a0'],
];

describe('parseCommand', () => {
	it.each(HOSTILE.map((argv) => [JSON.stringify(argv), argv] as const))('round-trips quoteArgv %s', (_, argv) => {
		expect(parseCommand(wire(argv))).toEqual({ ok: true, argv });
	});

	it.each(HOSTILE.map((argv) => [JSON.stringify(argv), argv] as const))('agrees with real bash on %s', (_, argv) => {
		const bash = spawnSync('bash', ['-c', `printf '%s\\0' ${quoteArgv(argv)}`], { encoding: 'utf8' });
		expect(bash.status).toBe(0);
		expect(bash.stdout.split('\0').slice(0, -1)).toEqual(argv);
	});

	it('drops leading assignments only', () => {
		expect(parseCommand('LC_ALL=C LANG=C cat A=b')).toEqual({ ok: true, argv: ['cat', 'A=b'] });
		expect(parseCommand("A='x y' B= cmd")).toEqual({ ok: true, argv: ['cmd'] });
		expect(parseCommand("'A=b' cmd")).toEqual({ ok: true, argv: ['A=b', 'cmd'] });
		expect(parseCommand('1A=b cmd')).toEqual({ ok: true, argv: ['1A=b', 'cmd'] });
		expect(parseCommand('a-b=c cmd')).toEqual({ ok: true, argv: ['a-b=c', 'cmd'] });
	});

	it('double quotes and backslashes as POSIX shells read them', () => {
		expect(parseCommand(`x "a\\"b\\\\c\\d" e\\ f g\\\nh`)).toEqual({ ok: true, argv: ['x', 'a"b\\c\\d', 'e f', 'gh'] });
		expect(parseCommand(`x ""''`)).toEqual({ ok: true, argv: ['x', ''] });
		expect(parseCommand('  x \t y  ')).toEqual({ ok: true, argv: ['x', 'y'] });
	});

	it('unterminated quotes -> bash syntax error, exit 2', () => {
		expect(parseCommand("cat '/proc/x")).toEqual({
			ok: false,
			code: 2,
			stderr: "bash: -c: line 1: unexpected EOF while looking for matching `''\n",
		});
		expect(parseCommand('cat "/proc/x')).toEqual({
			ok: false,
			code: 2,
			stderr: 'bash: -c: line 1: unexpected EOF while looking for matching `"\'\n',
		});
	});

	it.each([
		'cat /a | grep b',
		'cat /a; ls',
		'cat $HOME',
		'cat "$HOME"',
		'ls /sys/*',
		'cat /a > /b',
		'echo `id`',
		'ls ~',
		'ls [ab]x',
		'echo {a,b}',
	])('unquoted shell syntax %j -> refused, exit 2', (command) => {
		const r = answer(scenario, command);
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(/not simulated on this training host/);
		expect(r.source).toBe('refused');
	});
});

describe('answer', () => {
	it('a listed command -> its stdout, stderr and code', () => {
		expect(answer(scenario, wire(['uname', '-r']))).toEqual({ stdout: '3.10.0-693.el7.x86_64\n', stderr: '', code: 0, source: 'listed' });
		expect(answer(scenario, wire(['pidof', 'ovs-vswitchd']))).toEqual({ stdout: '', stderr: '', code: 1, source: 'listed' });
		expect(answer(scenario, wire(['echo', "it's", '$(here)']))).toEqual({
			stdout: 'listed\n',
			stderr: 'warned\n',
			code: 3,
			source: 'listed',
		});
	});

	it('a listed command is matched on its argv, not its spelling', () => {
		expect(answer(scenario, "uname '-r'").stdout).toBe('3.10.0-693.el7.x86_64\n');
		expect(answer(scenario, `"grep" -c\ta   b c`).stdout).toBe('3\n');
	});

	it('an unlisted command -> command not found, 127', () => {
		expect(answer(scenario, wire(['ethtool', '-k', 'eth0']))).toEqual({
			stdout: '',
			stderr: 'bash: ethtool: command not found\n',
			code: 127,
			source: 'missing',
		});
		expect(answer(scenario, wire(['uname', '-a']))).toEqual({
			stdout: '',
			stderr: 'bash: uname: command not found\n',
			code: 127,
			source: 'missing',
		});
		expect(answer(scenario, wire(['/usr/sbin/ovs-vswitchd']))).toEqual({
			stdout: '',
			stderr: 'bash: /usr/sbin/ovs-vswitchd: No such file or directory\n',
			code: 127,
			source: 'missing',
		});
		expect(answer(scenario, wire(['constructor'])).code).toBe(127);
		expect(answer(scenario, wire(['__proto__'])).code).toBe(127);
	});

	it('only assignments -> nothing, 0', () => {
		expect(answer(scenario, 'LC_ALL=C LANG=C ')).toEqual({ stdout: '', stderr: '', code: 0, source: 'builtin' });
	});

	it('cat of files, in order', () => {
		expect(answer(scenario, wire(['cat', '/proc/sys/vm/max_map_count']))).toEqual({
			stdout: '65530\n',
			stderr: '',
			code: 0,
			source: 'builtin',
		});
		expect(
			answer(scenario, wire(['cat', '/proc/sys/vm/max_map_count', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'])).stdout,
		).toBe('65530\n40960\n');
		expect(answer(scenario, wire(['cat', '--', '/etc/empty']))).toEqual({ stdout: '', stderr: '', code: 0, source: 'builtin' });
		expect(answer(scenario, wire(['cat', '/proc/sys/vm//max_map_count'])).stdout).toBe('65530\n');
		expect(answer(scenario, wire(['cat', '/tmp/a file; with $(odd) name'])).stdout).toBe('odd\n');
	});

	it('cat of a missing file -> No such file or directory, 1', () => {
		expect(answer(scenario, wire(['cat', '/proc/sys/vm/nr_hugepages']))).toEqual({
			stdout: '',
			stderr: 'cat: /proc/sys/vm/nr_hugepages: No such file or directory\n',
			code: 1,
			source: 'builtin',
		});
	});

	it('cat of a directory -> Is a directory, 1; through a file -> Not a directory', () => {
		expect(answer(scenario, wire(['cat', '/proc/sys/vm']))).toEqual({
			stdout: '',
			stderr: 'cat: /proc/sys/vm: Is a directory\n',
			code: 1,
			source: 'builtin',
		});
		expect(answer(scenario, wire(['cat', '/etc/empty/x']))).toEqual({
			stdout: '',
			stderr: 'cat: /etc/empty/x: Not a directory\n',
			code: 1,
			source: 'builtin',
		});
		expect(answer(scenario, wire(['cat', '/etc/empty/']))).toEqual({
			stdout: '',
			stderr: 'cat: /etc/empty/: Not a directory\n',
			code: 1,
			source: 'builtin',
		});
	});

	it('cat with a found and a missing file -> the found text, the error, 1', () => {
		expect(answer(scenario, wire(['cat', '/nope', '/proc/sys/vm/max_map_count']))).toEqual({
			stdout: '65530\n',
			stderr: 'cat: /nope: No such file or directory\n',
			code: 1,
			source: 'builtin',
		});
	});

	it('ls lists children derived from the file paths, bytewise sorted', () => {
		expect(answer(scenario, wire(['ls', '/sys/kernel/mm/hugepages']))).toEqual({
			stdout: 'hugepages-1048576kB\nhugepages-2048kB\n',
			stderr: '',
			code: 0,
			source: 'builtin',
		});
		expect(answer(scenario, wire(['ls', '-1', '/sys/kernel/mm/hugepages/']))).toEqual({
			stdout: 'hugepages-1048576kB\nhugepages-2048kB\n',
			stderr: '',
			code: 0,
			source: 'builtin',
		});
		expect(answer(scenario, wire(['ls', '/sys/kernel/mm/hugepages/hugepages-2048kB'])).stdout).toBe('free_hugepages\nnr_hugepages\n');
		expect(answer(scenario, wire(['ls', '/'])).stdout).toBe('etc\nproc\nsys\ntmp\n');
	});

	it('ls of several operands -> files first, then headed directories', () => {
		expect(answer(scenario, wire(['ls', '/sys/kernel/mm/hugepages', '/etc/empty'])).stdout).toBe(
			'/etc/empty\n\n/sys/kernel/mm/hugepages:\nhugepages-1048576kB\nhugepages-2048kB\n',
		);
	});

	it('ls of a missing path -> cannot access, 2', () => {
		expect(answer(scenario, wire(['ls', '/sys/kernel/mm/transparent_hugepage']))).toEqual({
			stdout: '',
			stderr: "ls: cannot access '/sys/kernel/mm/transparent_hugepage': No such file or directory\n",
			code: 2,
			source: 'builtin',
		});
		expect(answer(scenario, wire(['ls', '-l', '/'])).code).toBe(2);
	});

	it('test -e / -f / -d', () => {
		const code = (...args: string[]) => answer(scenario, wire(['test', ...args])).code;
		expect(code('-e', '/proc/sys/vm/max_map_count')).toBe(0);
		expect(code('-e', '/proc/sys/vm')).toBe(0);
		expect(code('-e', '/proc/sys/vm/nope')).toBe(1);
		expect(code('-f', '/proc/sys/vm/max_map_count')).toBe(0);
		expect(code('-f', '/proc/sys/vm')).toBe(1);
		expect(code('-d', '/proc/sys/vm')).toBe(0);
		expect(code('-d', '/proc/sys/vm/max_map_count')).toBe(1);
		expect(code('-s', '/etc/empty')).toBe(1);
		expect(code('-q', '/x')).toBe(2);
		expect(answer(scenario, wire(['[', '-d', '/proc', ']'])).code).toBe(0);
	});
});

describe('answers that change from one read to the next (a list), per connection', () => {
	const sampled = ScenarioSchema.parse({
		name: 'sampled',
		title: 'Counters that move',
		brief: 'A host whose counters are read twice.',
		files: {
			'/sys/class/net/eth0/statistics/tx_packets': ['58\n', '58\n'],
			'/sys/class/net/eth0/statistics/rx_packets': ['70\n', '81\n', '90\n'],
			'/sys/class/net/eth0/operstate': 'up\n',
			'/sys/class/net/eth1/empty-then-full': ['', 'x\n'],
		},
		commands: {
			'ping -M do -s 1472 -c 1 -W 1 -n 192.0.2.10': [
				{ stdout: 'lost\n', code: 1 },
				{ stdout: 'lost again\n', code: 1 },
			],
			'uname -r': { stdout: '6.1.0\n' },
		},
	});
	const cat = (state: ShellState, path: string) => answer(sampled, wire(['cat', path]), state).stdout;

	it('each read gets the next item, and the last one repeats', () => {
		const state = new ShellState();
		const rx = '/sys/class/net/eth0/statistics/rx_packets';
		expect([cat(state, rx), cat(state, rx), cat(state, rx), cat(state, rx)]).toEqual(['70\n', '81\n', '90\n', '90\n']);
	});

	it('each file and each command counts its own reads', () => {
		const state = new ShellState();
		const ping = wire(['ping', '-M', 'do', '-s', '1472', '-c', '1', '-W', '1', '-n', '192.0.2.10']);
		expect(cat(state, '/sys/class/net/eth0/statistics/rx_packets')).toBe('70\n');
		expect(answer(sampled, ping, state)).toEqual({ stdout: 'lost\n', stderr: '', code: 1, source: 'listed' });
		expect(cat(state, '/sys/class/net/eth0/statistics/tx_packets')).toBe('58\n');
		expect(answer(sampled, ping, state).stdout).toBe('lost again\n');
		expect(answer(sampled, ping, state).stdout).toBe('lost again\n');
		expect(cat(state, '/sys/class/net/eth0/statistics/rx_packets')).toBe('81\n');
	});

	it('a plain value reads the same every time and counts nothing', () => {
		const state = new ShellState();
		for (let i = 0; i < 3; i++) expect(cat(state, '/sys/class/net/eth0/operstate')).toBe('up\n');
		expect(answer(sampled, wire(['uname', '-r']), state).stdout).toBe('6.1.0\n');
	});

	it('a new state (a new connection) starts again at the first item; no state at all is always the first', () => {
		const first = new ShellState();
		cat(first, '/sys/class/net/eth0/statistics/rx_packets');
		expect(cat(new ShellState(), '/sys/class/net/eth0/statistics/rx_packets')).toBe('70\n');
		expect(answer(sampled, wire(['cat', '/sys/class/net/eth0/statistics/rx_packets'])).stdout).toBe('70\n');
		expect(answer(sampled, wire(['cat', '/sys/class/net/eth0/statistics/rx_packets'])).stdout).toBe('70\n');
	});

	it('the same scenario, command and state -> the same answer and the same state after', () => {
		const run = () => {
			const state = new ShellState();
			const rx = '/sys/class/net/eth0/statistics/rx_packets';
			return [cat(state, rx), answer(sampled, wire(['cat', rx, rx]), state).stdout, cat(state, rx)];
		};
		expect(run()).toEqual(['70\n', '81\n90\n', '90\n']);
		expect(run()).toEqual(run());
	});

	it('ls and test look at a file without reading it; test -s sees the item the next read gets', () => {
		const state = new ShellState();
		const path = '/sys/class/net/eth1/empty-then-full';
		expect(answer(sampled, wire(['ls', '/sys/class/net/eth1']), state).stdout).toBe('empty-then-full\n');
		expect(answer(sampled, wire(['test', '-s', path]), state).code).toBe(1);
		expect(answer(sampled, wire(['test', '-s', path]), state).code).toBe(1);
		expect(cat(state, path)).toBe('');
		expect(answer(sampled, wire(['test', '-s', path]), state).code).toBe(0);
		expect(cat(state, path)).toBe('x\n');
	});
});
