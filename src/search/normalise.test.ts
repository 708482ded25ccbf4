import { describe, expect, it } from 'vitest';
import { analyse, editDistance, stem, stripNoise, terms } from './normalise.ts';

const same = (a: string, b: string) => expect(terms(a).sort(), `${a} vs ${b}`).toEqual(terms(b).sort());

describe('stripNoise', () => {
	it('keeps every character at its offset', () => {
		const line = '2016-05-12T10:01:02Z compute01 ovs-vswitchd[1234]: EAL: Failed to remap 2 MB pages';
		expect(stripNoise(line)).toHaveLength(line.length);
	});

	it('blanks the timestamp, the syslog host and the pid, keeps the program and the message', () => {
		expect(stripNoise('May 12 10:01:02 compute01 ovs-vswitchd[1234]: EAL: Failed').trim()).toBe('ovs-vswitchd      : eal: failed');
		expect(stripNoise('2016-05-12T10:01:02.123+02:00 hv3 kernel: x').trim()).toBe('kernel: x');
	});

	it('blanks kernel stamps, MAC, IPv4, IPv6, hex, UUIDs and user@host', () => {
		const cases: [string, string][] = [
			['[ 8812.443120] vnet0: dropped', 'vnet0: dropped'],
			['lladdr 52:54:00:12:34:56 REACHABLE', 'lladdr reachable'],
			['Partner Mac Address: 00:00:00:00:00:00', 'partner mac address:'],
			['mac 5254.0012.3456 on eth0', 'mac on eth0'],
			['From 10.0.0.1 icmp_seq=1', 'from icmp_seq=1'],
			['via 192.0.2.1/24 and 198.51.100.7:22', 'via and'],
			['fe80::5054:ff:fe12:3456%eth0 dev eth0', 'dev eth0'],
			['2001:db8::1/64 nexthop', 'nexthop'],
			['addr 0x7f3a9c00 freed', 'addr freed'],
			['uuid 123e4567-e89b-12d3-a456-426614174000 vm', 'uuid vm'],
			['[root@compute01 ~]# ping', '[ ~]# ping'],
		];
		for (const [input, out] of cases) expect(stripNoise(input).replace(/\s+/g, ' ').trim(), input).toBe(out);
	});

	it('leaves signature text alone', () => {
		for (const s of [
			'EAL: Failed to remap 2 MB pages',
			'driver: ax88179_178a',
			'0b95:1790',
			'Too big size 1564 max_packet_len 1518',
			'vlan protocol 802.1Q id 10',
		]) {
			expect(stripNoise(s)).toBe(s.toLowerCase());
		}
	});
});

describe('terms', () => {
	it('one term per size, whatever the spelling', () => {
		for (const s of ['2 MB', '2MB', '2M', '2 MiB', '2048kB', '2048 kb']) expect(terms(s), s).toEqual(['2mb']);
		for (const s of ['1 GB', '1G', '1048576 kB']) expect(terms(s), s).toEqual(['1gb']);
	});

	it('one term per share: 25%, 25 percent, 40.0%', () => {
		expect(terms('25% loss')).toEqual(['25pct', 'loss']);
		expect(terms('25 percent')).toEqual(['25pct']);
		expect(terms('40.0%')).toEqual(['40pct']);
		same('every 4th ping', '25% ping');
		same('1 in 4 connections', '25% connections');
	});

	it('inflections meet', () => {
		expect(stem('hangs')).toBe(stem('hanging'));
		expect(stem('stalled')).toBe(stem('stalls'));
		expect(stem('dropped')).toBe(stem('drop'));
		expect(stem('pages')).toBe(stem('page'));
		expect(stem('replies')).toBe('reply');
		expect(stem('address')).toBe('address');
		expect(stem('vms')).toBe('vm');
		expect(stem('ovs')).toBe('ovs');
	});

	it('hangs, stuck, freezes, times out and stalls are one symptom', () => {
		for (const s of ['ssh is stuck', 'ssh freezes', 'ssh times out', 'ssh timed out', 'ssh stalls', 'ssh hung']) same(s, 'ssh hangs');
	});

	it("unreachable, can't reach, cannot reach, cant reach, no reply", () => {
		for (const s of [
			"can't reach the gateway",
			'cannot reach the gateway',
			'cant reach the gateway',
			'the gateway is not reachable',
			'no reply from the gateway',
		]) {
			expect(terms(s), s).toContain('unreachabl');
		}
	});

	it('drop, loss, lost', () => {
		same('packets dropped', 'packet loss');
		same('lost packets', 'packet loss');
	});

	it("doesn't work and not working fold into fail", () => {
		expect(terms("ssh doesn't work")).toEqual(['ssh', 'fail']);
		expect(terms('ssh not working')).toEqual(['ssh', 'fail']);
	});

	it('without synonyms a line is compared as written', () => {
		expect(terms('ssh not working', { synonyms: false })).toEqual(['ssh', 'work']);
	});

	it('drops stop words and single digits', () => {
		expect(terms('the VM is on host 3')).toEqual(['vm', 'host']);
	});

	it('with a keep set, drops numbers and names with digits that no runbook uses', () => {
		const keep = new Set(['1472', 'eth0']);
		expect(terms('compute07 eth0 pid 31337 ping -s 1472 -c 3', { keep })).toEqual(['eth0', 'ping', '1472']);
	});

	it('corrects typos against the vocabulary, swaps of two letters included', () => {
		const vocabulary = new Set(['hang', 'vxlan', 'hugepag', 'imbalance']);
		expect(terms('ssh hnags', { vocabulary })).toEqual(terms('ssh hangs'));
		expect(terms('vxaln', { vocabulary })).toEqual(['vxlan']);
		expect(terms('hugepgaes', { vocabulary })).toEqual(['hugepag']);
		expect(terms('stcuk', { vocabulary })).toEqual(['hang']);
	});

	it('leaves an unfinished last word for the prefix match', () => {
		const vocabulary = new Set(['hugepag', 'huge']);
		expect(terms('hugep', { vocabulary })).toEqual(['hugep']);
	});

	it('every term knows its span in the original text', () => {
		const text = 'Jan  9 02:41:07 hv kernel: [9.5] vnet0: Dropped over-MTU packet';
		const spans = analyse(text).map((t) => text.slice(t.start, t.end));
		expect(spans).toEqual(['kernel', 'vnet0', 'Dropped', 'over', 'MTU', 'packet']);
		const multi = 'SSH times out';
		expect(analyse(multi).map((t) => multi.slice(t.start, t.end))).toEqual(['SSH', 'times out']);
	});
});

describe('editDistance', () => {
	it('counts a swap of neighbours as one edit', () => {
		expect(editDistance('hnag', 'hang', 2)).toBe(1);
		expect(editDistance('vxaln', 'vxlan', 2)).toBe(1);
		expect(editDistance('kitten', 'sitting', 3)).toBe(3);
		expect(editDistance('abc', 'abc', 1)).toBe(0);
		expect(editDistance('abcdef', 'zzzzzz', 2)).toBe(3);
	});
});
