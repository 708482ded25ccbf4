import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/check.ts';
import { expectRunbookEmbeds, fixtures, itIsReadOnlyOnLinux } from '../../test/support/check-tests.ts';
import { callOf, fakeCtx, type FakeCommand, type FakeHost } from '../../test/support/fake-ctx.ts';
import check, {
	CAPTURE_FILTER,
	captureProbe,
	evaluate,
	judgeExit,
	parseMacAddress,
	parseTcpdump,
	trailerMeaning,
	type Params,
} from './frame-trailer.ts';

const { fx, fixtureFiles } = fixtures(new URL('./fixtures/frame-trailer/', import.meta.url));
const params = (p: Record<string, unknown> = {}): Params => check.params.parse({ iface: 'vB', ...p });

// --- parsers over every fixture --------------------------------------------------------------

interface Expect {
	records: number;
	/** Each IP frame's trailer, in order; null = not judged (may be padded). */
	trailers: (number | null)[];
	vlanTags?: number[];
	notIp?: number;
	undecoded?: number;
	linkType?: string | null;
	captured?: number | null;
	droppedByKernel?: number | null;
}

/** Fixture -> what parseTcpdump must find, or `null` for "not understood". */
const tcpdumpCases: Record<string, Expect | null> = {
	// Debian 12, tcpdump 4.99.3: captured here through the trailer relay or with injected frames.
	'debian12-trailer2-tcp-udp.tcpdump.txt': {
		records: 19,
		trailers: [2, 0, 2, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 2, 2, 2],
		linkType: 'EN10MB',
		captured: 19,
	},
	'debian12-trailer2-ping.tcpdump.txt': { records: 12, trailers: [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0], captured: 12 },
	'debian12-trailer2-nd.tcpdump.txt': { records: 2, trailers: [0, 2], captured: 2 },
	'debian12-trailer2-injected.tcpdump.txt': { records: 6, trailers: [2, 0, 2, 0, 2, 0], captured: 6 },
	'debian12-trailer2-vlan.tcpdump.txt': { records: 5, trailers: [2, 2, 0, 0, 2], vlanTags: [1, 1, 1, 1, 0], captured: 5 },
	'debian12-clean-ping.tcpdump.txt': { records: 14, trailers: Array(14).fill(0), captured: 14 },
	'debian12-clean-tcp-udp-gso.tcpdump.txt': { records: 11, trailers: Array(11).fill(0), captured: 11 },
	'debian12-sent-only.tcpdump.txt': { records: 3, trailers: [0, 0, 0], captured: 3 },
	'debian12-short-datagram.tcpdump.txt': { records: 4, trailers: [-2, -2, 0, 0], captured: 4 },
	'debian12-small-only.tcpdump.txt': { records: 6, trailers: Array(6).fill(null), captured: 6 },
	'debian12-idle.tcpdump.txt': { records: 0, trailers: [], linkType: 'EN10MB', captured: 0 },
	'debian12-shared-trailer2.tcpdump.txt': { records: 2, trailers: [2, 0], linkType: null, captured: null },
	// Other eras and distributions, from public sources (SOURCES.md).
	'ubuntu14.04-gre-mpls.tcpdump.txt': { records: 2, trailers: [0, 0], captured: null },
	'rhel-old-oui-hex.tcpdump.txt': { records: 5, trailers: [0, 0, 0, 0, 0], linkType: 'EN10MB', captured: 5 },
	'inr-vlan-old.tcpdump.txt': { records: 1, trailers: [0], vlanTags: [1], captured: null },
	'forum2010-smb.tcpdump.txt': { records: 3, trailers: [0, 0, 0], captured: 69491, droppedByKernel: 125758 },
	// Not what the probe prints: must not parse.
	'debian12-no-vv.tcpdump.txt': null,
	'debian12-shared-no-vv.tcpdump.txt': null,
	'ax88179-jkerr.tcpdump.txt': null,
	'debian12-trailer2-tcp-udp-cut2000.tcpdump.txt': null,
	'empty.tcpdump.txt': null,
	// Error output where a capture should be (a wrapper that merged the streams) is not a capture.
	'debian12-no-permission.tcpdump-stderr.txt': null,
	'debian12-no-such-device.tcpdump-stderr.txt': null,
	'debian12-not-up.tcpdump-stderr.txt': null,
	'debian12-raw-ip.tcpdump-stderr.txt': null,
	'debian12-any.tcpdump-stderr.txt': null,
	'debian12-not-installed.tcpdump-stderr.txt': null,
	'debian12-de-not-installed.tcpdump-stderr.txt': null,
	'debian12-no-timeout.tcpdump-stderr.txt': null,
	'debian12-de-no-timeout.tcpdump-stderr.txt': null,
};

const addressCases: Record<string, string> = {
	'debian12-relay-vB.address.txt': '8a:06:16:25:17:94',
	'debian12-direct-vB.address.txt': '92:e7:cd:c2:c5:23',
};

describe('parsers over every fixture', () => {
	it('every fixture in the folder has an expectation', () => {
		expect(fixtureFiles.toSorted()).toEqual([...Object.keys(tcpdumpCases), ...Object.keys(addressCases)].toSorted());
	});

	it.each(Object.entries(tcpdumpCases))('parseTcpdump %s', (file, want) => {
		const p = parseTcpdump(fx(file));
		if (want === null) {
			expect(p.ok).toBe(false);
			if (!p.ok) expect(p.reason.length).toBeGreaterThan(10);
			return;
		}
		expect(p.ok, p.ok ? '' : p.reason).toBe(true);
		if (!p.ok) return;
		const c = p.value;
		expect(c.records).toBe(want.records);
		expect(c.frames.map((f) => f.trailer)).toEqual(want.trailers);
		expect(c.notIp).toBe(want.notIp ?? 0);
		expect(c.undecoded).toHaveLength(want.undecoded ?? 0);
		if (want.vlanTags) expect(c.frames.map((f) => f.vlanTags)).toEqual(want.vlanTags);
		if (want.linkType !== undefined) expect(c.linkType).toBe(want.linkType);
		if (want.captured !== undefined) expect(c.stats?.captured ?? null).toBe(want.captured);
		if (want.droppedByKernel !== undefined) expect(c.stats?.droppedByKernel ?? null).toBe(want.droppedByKernel);
		// Every line number points at the record's own first line.
		const lines = fx(file).split('\n');
		for (const f of c.frames) expect(lines[f.line - 1]).toContain(`length ${f.frameLength}`);
	});

	it.each(Object.entries(addressCases))('parseMacAddress %s', (file, mac) => {
		expect(parseMacAddress(fx(file))).toEqual({ ok: true, value: mac, lines: [1] });
	});

	it.each(['', 'not a mac\n', '8a:06:16:25:17\n', '8a:06:16:25:17:94', 'cat: /sys/class/net/x/address: No such file or directory\n'])(
		'parseMacAddress refuses %j',
		(text) => {
			expect(parseMacAddress(text).ok).toBe(false);
		},
	);

	it('reads the arithmetic off one record: 1516 - 14 - 1500 = 2 (TCP, continuation line ignored)', () => {
		const p = parseTcpdump(fx('debian12-trailer2-tcp-udp.tcpdump.txt'));
		if (!p.ok) throw new Error(p.reason);
		const f = p.value.frames[3]!;
		expect(f).toEqual({
			line: 7,
			src: '22:f1:93:25:44:f5',
			dst: '8a:06:16:25:17:94',
			frameLength: 1516,
			vlanTags: 0,
			family: 'IPv4',
			ipLength: 1500,
			trailer: 2,
		});
	});

	it('IPv6: payload length + 40 is the datagram', () => {
		const p = parseTcpdump(fx('debian12-trailer2-ping.tcpdump.txt'));
		if (!p.ok) throw new Error(p.reason);
		const v6 = p.value.frames.filter((f) => f.family === 'IPv6');
		expect(v6.map((f) => [f.frameLength, f.ipLength, f.trailer])).toEqual([
			[88, 72, 2],
			[86, 72, 0],
			[1464, 1448, 2],
			[1462, 1448, 0],
			[1464, 1448, 2],
			[1462, 1448, 0],
		]);
	});

	it('a tagged frame counts its 4 tag bytes: 1448 - 14 - 4 - 1428 = 2', () => {
		const p = parseTcpdump(fx('debian12-trailer2-vlan.tcpdump.txt'));
		if (!p.ok) throw new Error(p.reason);
		expect(p.value.frames[0]).toMatchObject({ frameLength: 1448, vlanTags: 1, ipLength: 1428, trailer: 2 });
	});

	it('inner headers of a tunnel (GRE/MPLS) are not taken for the frame', () => {
		const p = parseTcpdump(fx('ubuntu14.04-gre-mpls.tcpdump.txt'));
		if (!p.ok) throw new Error(p.reason);
		expect(p.value.frames.map((f) => f.ipLength)).toEqual([1500, 1500]);
	});

	it('reasons name what is missing', () => {
		const reason = (f: string) => {
			const p = parseTcpdump(fx(f));
			return p.ok ? '' : p.reason;
		};
		expect(reason('debian12-no-vv.tcpdump.txt')).toMatch(/without -v/);
		expect(reason('ax88179-jkerr.tcpdump.txt')).toMatch(/without -e/);
		expect(reason('debian12-trailer2-tcp-udp-cut2000.tcpdump.txt')).toMatch(/cut/);
		expect(reason('empty.tcpdump.txt')).toMatch(/empty/);
		expect(reason('debian12-de-not-installed.tcpdump-stderr.txt')).toMatch(/not tcpdump output/);
	});
});

// --- evaluate ------------------------------------------------------------------------------------

describe('trailerMeaning', () => {
	it('names the ax88179_178a bug for 2 bytes, the FCS for 4, something else otherwise', () => {
		expect(trailerMeaning(2)).toMatch(/^2 bytes is the signature of the ax88179_178a RX bug/);
		expect(trailerMeaning(4)).toMatch(/^4 bytes is usually the Ethernet FCS/);
		expect(trailerMeaning(6)).toMatch(/device on the path/);
	});
});

// --- run() through a fake host ------------------------------------------------------------------

/** tcpdump's own lines go to stderr, the records to stdout, as the real process splits them. */
function streams(text: string): { stdout: string; stderr: string } {
	const out: string[] = [];
	const err: string[] = [];
	for (const line of text.split('\n').slice(0, -1)) {
		if (/^(tcpdump: |listening on |\d+ packets? (captured|received by filter|dropped by))/.test(line)) err.push(line);
		else out.push(line);
	}
	const join = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');
	return { stdout: join(out), stderr: join(err) };
}

const RELAY_MAC = '8a:06:16:25:17:94\n';
const DIRECT_MAC = '92:e7:cd:c2:c5:23\n';

function host(capture: FakeCommand, opts: { mac?: string | null; p?: Record<string, unknown>; unreadable?: boolean } = {}): FakeHost {
	const p = params(opts.p);
	const files: Record<string, string> = {};
	if (opts.mac !== null) files[`/sys/class/net/${p.iface}/address`] = opts.mac ?? DIRECT_MAC;
	return {
		files,
		commands: { [captureProbe(p).argv.join(' ')]: capture },
		...(opts.unreadable ? { unreadable: [`/sys/class/net/${p.iface}/address`] } : {}),
	};
}
const captured = (file: string, code = 0): FakeCommand => ({ ...streams(fx(file)), code });
const stderrOnly = (file: string, code: number): FakeCommand => ({ stderr: fx(file), code });

async function runOn(h: FakeHost, p: Record<string, unknown> = {}): Promise<Verdict & { calls: string[] }> {
	const ctx = fakeCtx(h);
	const v = await check.run(ctx, params(p));
	return { ...v, calls: ctx.calls };
}

describe('run: trailers -> fail', () => {
	it('relay (every received frame +2): ping v4 and v6 -> fail, 6 of 12, next: the kernel fix', async () => {
		const v = await runOn(host(captured('debian12-trailer2-ping.tcpdump.txt'), { mac: RELAY_MAC }));
		expect(v.status).toBe('fail');
		expect(v.next).toBe('#fix-a-kernel-with-the-ax88179_178a-fix');
		expect(v.summary).toMatch(/^6 of 12 full-size frames on vB \(6 received, 6 sent by vB itself\) carry 2 extra bytes/);
		expect(v.summary).toContain('line 1: 1516 - 14 - 1500 = 2');
		expect(v.summary).toMatch(/ax88179_178a/);
		expect(v.facts).toMatchObject({
			trailerBytes: 2,
			trailerSizes: [2],
			framesWithTrailer: 6,
			framesJudged: 12,
			framesJudgedReceived: 6,
			framesJudgedSent: 6,
			largestFrame: 1516,
			stoppedBy: 'count',
		});
		const cap = v.evidence.at(-1)!;
		expect(cap.command).toBe(`timeout 10 tcpdump -p -e -nn -vv -l -c 50 -i vB '${CAPTURE_FILTER}'`);
		// The highlighted lines are exactly the frames with a trailer.
		const lines = cap.output.split('\n');
		expect(cap.lines.length).toBe(6);
		for (const n of cap.lines) expect(lines[n - 1]).toMatch(/length (1516|88|1464):/);
	});

	it('relay: TCP and UDP (multi-line records), stopped by the time bound -> fail', async () => {
		const v = await runOn(host(captured('debian12-trailer2-tcp-udp.tcpdump.txt', 124), { mac: RELAY_MAC }));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ framesWithTrailer: 12, framesJudged: 19, stoppedBy: 'time', packetsCaptured: 19 });
	});

	it('relay: only neighbour discovery crossed the link -> still fail on the one received frame', async () => {
		const v = await runOn(host(captured('debian12-trailer2-nd.tcpdump.txt', 124), { mac: RELAY_MAC }));
		expect(v.status).toBe('fail');
		expect(v.summary).toMatch(/^1 of 2 full-size frames/);
	});

	it('injected frames with a 2-byte trailer, the kernel replies clean -> fail', async () => {
		const v = await runOn(host(captured('debian12-trailer2-injected.tcpdump.txt')));
		expect(v.status).toBe('fail');
		expect(v.facts).toMatchObject({ framesWithTrailer: 3, framesJudgedReceived: 3, framesJudgedSent: 3 });
	});

	it('VLAN-tagged frames: the tag is subtracted, the trailer still found', async () => {
		const v = await runOn(host(captured('debian12-trailer2-vlan.tcpdump.txt')));
		expect(v.status).toBe('fail');
		expect(v.summary).toContain('line 1: 1448 - 14 - 4 - 1428 = 2');
		expect(v.facts).toMatchObject({ framesWithTrailer: 3, vlanTaggedFrames: 4 });
	});

	it('a trailer of another size -> fail pointing at the frame arithmetic, not the ax88179 fix', () => {
		const p = parseTcpdump(fx('debian12-trailer2-injected.tcpdump.txt'));
		if (!p.ok) throw new Error(p.reason);
		// The same real frames, as if the NIC also kept the 4-byte FCS on receive.
		const frames = p.value.frames.map((f) => (f.trailer === 2 ? { ...f, frameLength: f.frameLength + 2, trailer: 4 } : f));
		const v = evaluate({ capture: { ...p.value, frames }, ownMac: '92:e7:cd:c2:c5:23', stoppedBy: 'count', evidence: [] }, params());
		expect(v.status).toBe('fail');
		expect(v.next).toBe('#why-2-bytes-break-full-size-frames');
		expect(v.summary).toMatch(
			/carry 4 extra bytes after the IP datagram, e\.g\. line 1: 1446 - 14 - 1428 = 4\. 4 bytes is usually the Ethernet FCS/,
		);
	});
});

describe('run: clean captures -> pass', () => {
	it('ping -s 1400 both ways, IPv4 and IPv6 -> pass, next: the MTU chain', async () => {
		const v = await runOn(host(captured('debian12-clean-ping.tcpdump.txt')));
		expect(v.status).toBe('pass');
		expect(v.next).toBe('#check-the-mtu-of-every-link-on-the-path');
		expect(v.summary).toMatch(/^All 14 full-size frames on vB \(\d+ received, \d+ sent by vB itself\) add up exactly/);
		expect(v.facts).toMatchObject({ trailerBytes: 0, framesWithTrailer: 0, trailerSizes: [] });
	});

	it('TCP with GSO super-frames (6066 bytes) and UDP over IPv6 -> pass', async () => {
		const v = await runOn(host(captured('debian12-clean-tcp-udp-gso.tcpdump.txt', 124)));
		expect(v.status).toBe('pass');
		expect(v.facts).toMatchObject({ largestFrame: 6066, stoppedBy: 'time' });
	});

	it('the NIC address cannot be read -> still judged, direction unknown', async () => {
		const v = await runOn(host(captured('debian12-clean-ping.tcpdump.txt'), { unreadable: true }));
		expect(v.status).toBe('pass');
		expect(v.facts.framesJudgedReceived).toBeNull();
		expect(v.summary).not.toMatch(/received/);
	});
});

describe('run: nothing measurable -> error that says how to get traffic', () => {
	it.each([
		['only small pings (50-byte frames, may be padded)', 'debian12-small-only.tcpdump.txt', 0, /6 shorter than 60 bytes/],
		['an idle link: 0 packets in the time bound', 'debian12-idle.tcpdump.txt', 124, /0 frames in 10 s/],
	])('%s', async (_name, file, code, detail) => {
		const v = await runOn(host(captured(file, code)));
		expect(v.status).toBe('error');
		expect(v.code).toBe('OutputEmpty');
		expect(v.summary).toMatch(/^No full-size traffic seen on vB/);
		expect(v.summary).toMatch(detail);
		expect(v.summary).toContain('ping -c 5 -s 1400 <peer>');
		expect(v.next).toBe('#prove-the-2-extra-bytes-with-a-capture');
	});

	it('every full-size frame was sent by the NIC itself -> error: a trailer is added on receive', async () => {
		const v = await runOn(host(captured('debian12-sent-only.tcpdump.txt')));
		expect(v.status).toBe('error');
		expect(v.code).toBe('OutputEmpty');
		expect(v.summary).toMatch(/was sent by vB itself/);
	});
});

describe('run: frames shorter than their datagram -> warn', () => {
	it('truncated-ip frames (2 bytes missing) are shown, not passed', async () => {
		const v = await runOn(host(captured('debian12-short-datagram.tcpdump.txt')));
		expect(v.status).toBe('warn');
		expect(v.summary).toMatch(/^2 of 4 full-size frames on vB are shorter than the IP datagram/);
		expect(v.evidence.at(-1)!.lines).toEqual([1, 3]);
	});
});

describe('run: tcpdump missing or not permitted -> skip with the reason', () => {
	it.each([
		['tcpdump not installed', 'debian12-not-installed.tcpdump-stderr.txt', 127, /tcpdump is not installed/],
		['tcpdump not installed, German timeout', 'debian12-de-not-installed.tcpdump-stderr.txt', 127, /tcpdump is not installed/],
		[
			'not permitted (non-root)',
			'debian12-no-permission.tcpdump-stderr.txt',
			1,
			/may not capture on vB: tcpdump: vB: You don't have permission/,
		],
		['not Ethernet (Raw IP)', 'debian12-raw-ip.tcpdump-stderr.txt', 1, /not an Ethernet interface \(link type Raw IP\)/],
		['not Ethernet (any)', 'debian12-any.tcpdump-stderr.txt', 1, /not an Ethernet interface \(link type Linux cooked v2\)/],
	])('%s', async (_name, file, code, summary) => {
		const v = await runOn(host(stderrOnly(file, code)));
		expect(v.status).toBe('skip');
		expect(v.summary).toMatch(summary);
		expect(v.next).toBe('#prove-the-2-extra-bytes-with-a-capture');
		expect(v.evidence.at(-1)!.code).toBe(code);
	});

	it('timeout cannot execute tcpdump (exit 126) -> skip as not permitted', async () => {
		const v = await runOn(host({ stderr: "timeout: failed to run command 'tcpdump': Permission denied\n", code: 126 }));
		expect(v.status).toBe('skip');
		expect(v.summary).toMatch(/may not capture/);
	});
});

describe('run: cannot decide -> error with a code and a hint', () => {
	const cases: { name: string; h: FakeHost; code: string; summary?: RegExp }[] = [
		{
			name: '`timeout` missing (bash) -> CommandMissing',
			h: host(stderrOnly('debian12-no-timeout.tcpdump-stderr.txt', 127)),
			code: 'CommandMissing',
			summary: /`timeout` is not available/,
		},
		{
			name: '`timeout` missing (German bash) -> CommandMissing',
			h: host(stderrOnly('debian12-de-no-timeout.tcpdump-stderr.txt', 127)),
			code: 'CommandMissing',
		},
		{
			name: 'no such interface (tcpdump says so) -> CommandFailed',
			h: host(stderrOnly('debian12-no-such-device.tcpdump-stderr.txt', 1)),
			code: 'CommandFailed',
			summary: /no interface vB/,
		},
		{
			name: 'interface down -> CommandFailed',
			h: host(stderrOnly('debian12-not-up.tcpdump-stderr.txt', 1)),
			code: 'CommandFailed',
			summary: /vB is down/,
		},
		{
			name: 'captured without -v -> OutputNotUnderstood',
			h: host(captured('debian12-no-vv.tcpdump.txt')),
			code: 'OutputNotUnderstood',
			summary: /without -v/,
		},
		{
			name: 'stdout cut mid-line -> OutputTruncated',
			h: host({ stdout: fx('debian12-trailer2-tcp-udp-cut2000.tcpdump.txt'), code: 124 }),
			code: 'OutputTruncated',
		},
		{
			name: 'cut by the transport -> OutputTruncated',
			h: host({ ...captured('debian12-trailer2-ping.tcpdump.txt'), truncated: true }),
			code: 'OutputTruncated',
		},
		{
			name: 'no summary (killed, not stopped) -> OutputTruncated',
			h: host({ stdout: fx('debian12-shared-trailer2.tcpdump.txt'), code: 0 }),
			code: 'OutputTruncated',
			summary: /no "packets captured" summary/,
		},
		{
			name: 'fewer records than tcpdump counted -> OutputTruncated',
			h: host(captured('forum2010-smb.tcpdump.txt')),
			code: 'OutputTruncated',
			summary: /captured 69491 packets, but only 3/,
		},
		{ name: 'nothing printed at all -> OutputEmpty', h: host({ stdout: fx('empty.tcpdump.txt'), code: 0 }), code: 'OutputEmpty' },
		{
			name: 'garbage on stdout -> OutputNotUnderstood',
			h: host({ stdout: fx('debian12-de-not-installed.tcpdump-stderr.txt'), code: 0 }),
			code: 'OutputNotUnderstood',
		},
		{
			name: 'killed by a signal -> CommandFailed',
			h: host({ stdout: '', stderr: '', code: null }),
			code: 'CommandFailed',
			summary: /by a signal/,
		},
	];
	it.each(cases)('$name', async ({ h, code, summary }) => {
		const v = await runOn(h);
		expect(v.status).toBe('error');
		expect(v.code).toBe(code);
		expect(v.hint).toBeTruthy();
		expect(v.next).toBe('#prove-the-2-extra-bytes-with-a-capture');
		expect(v.evidence.length).toBeGreaterThan(0);
		if (summary) expect(v.summary).toMatch(summary);
	});

	it('no /sys/class/net/IFACE -> CommandFailed before any capture', async () => {
		const v = await runOn(host(captured('debian12-clean-ping.tcpdump.txt'), { mac: null }));
		expect(v).toMatchObject({ status: 'error', code: 'CommandFailed' });
		expect(v.summary).toMatch(/no interface vB/);
		expect(v.calls).toEqual(['read /sys/class/net/vB/address']);
	});

	it('judgeExit lets the normal ends through: -c reached (0) and the time bound (124)', () => {
		expect(judgeExit('', '', 0, params(), [])).toBeNull();
		expect(judgeExit('', '', 124, params(), [])).toBeNull();
	});
});

// --- contract, params, probes, runbook -------------------------------------------------------------

describe('contract', () => {
	itIsReadOnlyOnLinux(check, 'capture.frame-trailer');

	it.each([
		[{ iface: 'eth0' }, true],
		[{ iface: 'enx00e04c680001' }, true],
		[{ iface: 'eth0', count: 1, seconds: 1 }, true],
		[{ iface: 'eth0', count: 1000, seconds: 120 }, true],
		[{}, false],
		[{ iface: 'eth0;reboot' }, false],
		[{ iface: 'eth0 ip' }, false],
		[{ iface: 'a'.repeat(16) }, false],
		[{ iface: 'eth0', count: 0 }, false],
		[{ iface: 'eth0', count: 1001 }, false],
		[{ iface: 'eth0', count: 2.5 }, false],
		[{ iface: 'eth0', count: '50' }, false],
		[{ iface: 'eth0', seconds: 0 }, false],
		[{ iface: 'eth0', seconds: 121 }, false],
		[{ iface: 'eth0', other: 1 }, false],
	])('params %j -> valid %s', (p, ok) => {
		expect(check.params.safeParse(p).success).toBe(ok);
	});

	it('defaults: 50 frames or 10 seconds', () => {
		expect(check.params.parse({ iface: 'eth0' })).toEqual({ iface: 'eth0', count: 50, seconds: 10 });
	});

	it('probes: the NIC address, then one bounded tcpdump; its deadline outlasts the time bound', () => {
		const probes = check.probes(params({ iface: 'enx00e04c680001', count: 20, seconds: 30 }));
		expect(probes.map(callOf)).toEqual([
			'read /sys/class/net/enx00e04c680001/address',
			`exec timeout 30 tcpdump -p -e -nn -vv -l -c 20 -i enx00e04c680001 ${CAPTURE_FILTER}`,
		]);
		const exec = probes[1]!;
		expect(exec.kind === 'exec' && exec.timeoutMs).toBeGreaterThan(30_000);
	});

	it('run only reads and runs what probes announce', async () => {
		const ctx = fakeCtx(host(captured('debian12-clean-ping.tcpdump.txt')));
		await check.run(ctx, params());
		const announced = check.probes(params()).map(callOf);
		expect(ctx.calls).toEqual(announced);
	});

	it('every anchor in nextSteps is a heading of usb-nic-trailer, which embeds this check', () => {
		const rb = expectRunbookEmbeds(check, 'usb-nic-trailer');
		expect(rb.body).toContain('<Check id="capture.frame-trailer"');
	});
});
