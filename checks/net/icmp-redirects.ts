/**
 * net.icmp-redirects: is this Linux host sending ICMP redirects (a router hairpinning traffic), or
 * receiving them again and again (a host whose gateway hairpins its traffic)?
 *
 * Failure (DOMAIN.md section 5): a router that forwards a packet back out the interface it came in
 * on, to a next hop on the sender's own subnet, sets IPSKB_DOREDIRECT (net/ipv4/route.c,
 * `__mkroute_input`: out_dev == in_dev, send_redirects on, source on-link with the gateway) and
 * `ip_forward()` answers the sender with an ICMP redirect (type 5) while still forwarding the packet.
 * Linux loses nothing by it; the same hairpin through a Cisco Nexus punts every packet to the CPU,
 * where CoPP drops what exceeds its policer (see nxos.copp-drops). A sender that ignores the
 * redirects (accept_redirects off, the default on a router) keeps sending through the hairpin.
 *
 * Reads `/proc/net/snmp` twice, `intervalMs` apart, and compares the `Icmp:` counters InRedirects
 * and OutRedirects (`IcmpMsg:` InType5 / OutType5 when present). Columns are found by header name,
 * never by position: kernel 6.x adds Icmp OutRateLimitGlobal / OutRateLimitHost and Ip OutTransmits,
 * older kernels lack InCsumErrors, and the `IcmpMsg:` pair only appears once an ICMP type has been
 * counted. Then reads `/proc/sys/net/ipv4/ip_forward`, `conf/all/send_redirects`,
 * `conf/all/accept_redirects`, lists `/proc/sys/net/ipv4/conf` and reads every interface's
 * `send_redirects` and `accept_redirects`.
 *
 * Rules, all in `evaluate` (Documentation/networking/ip-sysctl.rst; net/ipv4/route.c):
 * - OutRedirects rose between the samples: fail, this host forwards traffic back out the interface it
 *   arrived on. A redirect is only sent for a forwarded packet, so a rise means a hairpin now.
 * - else InRedirects rose: warn, the host is being told again and again that its next hop is wrong.
 *   Whether it listens is accept_redirects: effective when conf/all AND conf/<dev> are on for a
 *   forwarding host, when either is on for a host that does not forward.
 * - neither: pass. send_redirects is effective when conf/all OR conf/<dev> is on, so turning
 *   redirects off takes every one of them (the fix lists them).
 * - Counters are per network namespace and count from its creation (boot for the host), so only the
 *   difference between the two samples says anything about now. The kernel rate-limits redirects
 *   per sender (route.redirect_number 9, backoff from redirect_load, reset after redirect_silence),
 *   so a steady hairpin from one sender shows a few redirects and then silence; a short interval can
 *   miss them, which is why the interval is a parameter.
 *
 * Serves content/runbooks/icmp-redirect-copp.mdx, step "Is a Linux router sending redirects".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	notUnderstood,
	parsed,
	pass,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { incomplete, linesOf } from '../../src/core/parse/text.ts';
import { codeForOutput, commandFailed, decide, installHint, notInstalled, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * Milliseconds between the two reads of /proc/net/snmp. Longer catches a slow trickle of
	 * redirects (the kernel backs off per sender, up to about 10 s between them at HZ 250).
	 */
	intervalMs: z
		.number()
		.int()
		.min(500)
		.max(60_000)
		.default(2000)
		.describe('milliseconds between the two samples of /proc/net/snmp (500-60000)'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- paths and probes --------------------------------------------------------------------------

export const SNMP_PATH = '/proc/net/snmp';
export const IP_FORWARD_PATH = '/proc/sys/net/ipv4/ip_forward';
export const CONF_DIR = '/proc/sys/net/ipv4/conf';
const EXEC_TIMEOUT_MS = 10_000;
/** Interfaces whose sysctls are read one by one; a host with more gets the first ones and a note. */
export const MAX_INTERFACES = 64;

type Knob = 'send_redirects' | 'accept_redirects';

const snmpProbe = (which: 'first' | 'second'): ReadProbe => ({
	kind: 'read',
	path: SNMP_PATH,
	why: `${which} sample of the Icmp counters InRedirects and OutRedirects`,
});
const ipForwardProbe: ReadProbe = { kind: 'read', path: IP_FORWARD_PATH, why: 'does this host forward IPv4 (1) or not (0)' };
const knobProbe = (dev: string, knob: Knob): ReadProbe => {
	const who =
		dev === 'all'
			? 'every interface'
			: dev === 'default'
				? 'an interface created later'
				: dev === 'IFACE'
					? 'each interface ls lists (replace IFACE)'
					: dev;
	return {
		kind: 'read',
		path: `${CONF_DIR}/${dev}/${knob}`,
		why: knob === 'send_redirects' ? `does ${who} send redirects (on when all OR the interface is 1)` : `does ${who} accept redirects`,
	};
};
const lsProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ls', CONF_DIR],
	why: 'the interfaces with IPv4 settings (plus all and default)',
	timeoutMs: EXEC_TIMEOUT_MS,
};

// --- parsers -----------------------------------------------------------------------------------

/** One `Prefix:` header line and the value line under it. */
export interface SnmpSection {
	names: string[];
	values: number[];
	/** 1-based line numbers of the header and the values. */
	headerLine: number;
	valueLine: number;
}

/**
 * `/proc/net/snmp` (and files of the same layout, /proc/net/netstat): pairs of lines sharing a
 * prefix, names then values, e.g.
 * `Icmp: InMsgs InErrors InCsumErrors ... OutRedirects ...` / `Icmp: 25 0 0 ... 5 ...`.
 * Every line must belong to a complete pair; values are decimal (Tcp MaxConn is -1).
 */
export function parseSnmpSections(text: string): Parsed<Map<string, SnmpSection>> {
	const cut = incomplete(text, SNMP_PATH);
	if (cut) return notUnderstood(cut);
	const lines = linesOf(text);
	const sections = new Map<string, SnmpSection>();
	for (let i = 0; i < lines.length; i += 2) {
		const head = /^([A-Za-z][A-Za-z0-9]*): ([A-Za-z][A-Za-z0-9]*(?: [A-Za-z][A-Za-z0-9]*)*)$/.exec(lines[i]!);
		if (!head) return notUnderstood(`line ${i + 1} is not a "Prefix: Name Name ..." header: ${JSON.stringify(lines[i]!.slice(0, 80))}`);
		const prefix = head[1]!;
		const valueText = lines[i + 1];
		if (valueText === undefined) return notUnderstood(`the ${prefix}: header on line ${i + 1} has no value line under it`);
		const vals = new RegExp(`^${prefix}: (-?\\d+(?: -?\\d+)*)$`).exec(valueText);
		if (!vals)
			return notUnderstood(
				`line ${i + 2} is not the "${prefix}: <numbers>" line for the header above it: ${JSON.stringify(valueText.slice(0, 80))}`,
			);
		const names = head[2]!.split(' ');
		const values = vals[1]!.split(' ').map(Number);
		if (names.length !== values.length)
			return notUnderstood(`${prefix}: ${names.length} names on line ${i + 1} but ${values.length} values on line ${i + 2}`);
		if (sections.has(prefix)) return notUnderstood(`${prefix}: appears twice (lines ${sections.get(prefix)!.headerLine} and ${i + 1})`);
		sections.set(prefix, { names, values, headerLine: i + 1, valueLine: i + 2 });
	}
	return parsed(sections);
}

/** The counters this check compares, from one sample. */
export interface RedirectCounters {
	/** Icmp InRedirects: redirects received. */
	inRedirects: number;
	/** Icmp OutRedirects: redirects sent. */
	outRedirects: number;
	/** IcmpMsg InType5 / OutType5; null when the IcmpMsg pair or the column is absent (none counted). */
	inType5: number | null;
	outType5: number | null;
	/** Ip ForwDatagrams: datagrams forwarded. */
	forwDatagrams: number;
	/** Ip Forwarding: 1 forwarding, 2 not (RFC 1213 ipForwarding). */
	ipForwarding: number;
	/** Icmp columns this kernel prints (27 on 3.x without InCsumErrors ... 29 on 6.x). */
	icmpColumns: number;
}

const column = (s: SnmpSection, name: string): number | null => {
	const i = s.names.indexOf(name);
	return i === -1 ? null : s.values[i]!;
};

/**
 * The redirect counters of one `/proc/net/snmp` read, by header name. The deciding lines are the
 * `Icmp:` pair (and `Ip:` for forwarding).
 */
export function parseRedirectCounters(text: string): Parsed<RedirectCounters> {
	const p = parseSnmpSections(text);
	if (!p.ok) return p;
	const icmp = p.value.get('Icmp');
	const ip = p.value.get('Ip');
	if (!icmp || !ip)
		return notUnderstood(
			`no ${!icmp ? 'Icmp:' : 'Ip:'} header and values (found ${[...p.value.keys()].join(', ')}): this is not ${SNMP_PATH}, or IPv4 is not there`,
		);
	const found = {
		inRedirects: column(icmp, 'InRedirects'),
		outRedirects: column(icmp, 'OutRedirects'),
		forwDatagrams: column(ip, 'ForwDatagrams'),
		ipForwarding: column(ip, 'Forwarding'),
	};
	const missing = Object.entries(found)
		.filter(([, v]) => v === null)
		.map(
			([k]) =>
				({
					inRedirects: 'Icmp InRedirects',
					outRedirects: 'Icmp OutRedirects',
					forwDatagrams: 'Ip ForwDatagrams',
					ipForwarding: 'Ip Forwarding',
				})[k],
		);
	if (missing.length > 0) return notUnderstood(`no ${missing.join(', ')} column in the header`);
	const msg = p.value.get('IcmpMsg');
	const lines = [ip.headerLine, ip.valueLine, icmp.headerLine, icmp.valueLine];
	if (msg) lines.push(msg.headerLine, msg.valueLine);
	return parsed(
		{
			inRedirects: found.inRedirects!,
			outRedirects: found.outRedirects!,
			inType5: msg ? column(msg, 'InType5') : null,
			outType5: msg ? column(msg, 'OutType5') : null,
			forwDatagrams: found.forwDatagrams!,
			ipForwarding: found.ipForwarding!,
			icmpColumns: icmp.names.length,
		},
		lines.sort((a, b) => a - b),
	);
}

/** A sysctl file holding one integer and a newline, e.g. `1`. */
export function parseSysctlInt(text: string): Parsed<number> {
	const m = /^(-?\d{1,10})\n$/.exec(text);
	if (!m) return notUnderstood(`expected one number and a newline, got ${JSON.stringify(text.slice(0, 40))}`);
	return parsed(Number(m[1]), [1]);
}

/**
 * `ls /proc/sys/net/ipv4/conf`: one name per line, `all` and `default` among them, e.g.
 * `all`, `default`, `eth1`, `lo`. Interface names have no blank or `/` (net/core/dev.c dev_valid_name).
 */
export function parseConfList(text: string): Parsed<string[]> {
	const cut = incomplete(text, `ls ${CONF_DIR}`);
	if (cut) return notUnderstood(cut);
	const names = linesOf(text);
	for (const [i, n] of names.entries()) {
		if (!/^[^\s/]{1,15}$/.test(n))
			return notUnderstood(`ls ${CONF_DIR} line ${i + 1} is not an interface name: ${JSON.stringify(n.slice(0, 40))}`);
	}
	if (!names.includes('all') || !names.includes('default')) return notUnderstood(`ls ${CONF_DIR} lists no "all" and "default" entries`);
	return parsed(
		names,
		names.map((_, i) => i + 1),
	);
}

// --- evaluate ----------------------------------------------------------------------------------

export interface DeviceKnobs {
	dev: string;
	send: number;
	accept: number;
}

export interface Observation {
	intervalMs: number;
	first: RedirectCounters;
	second: RedirectCounters;
	ipForward: number;
	all: { send: number; accept: number };
	/** `default` (applied to interfaces created later), when read. */
	defaults: { send: number; accept: number } | null;
	/** Every listed interface but all, default and lo, with its own values. */
	devices: DeviceKnobs[];
	/** Interfaces listed but not read (over MAX_INTERFACES). */
	notRead: number;
	evidence: Evidence[];
}

/** `eth0.100` is `eth0/100` in a sysctl name (sysctl(8): dots separate the levels). */
export const sysctlDev = (dev: string) => dev.replaceAll('.', '/');

const rate = (delta: number, ms: number) => Math.round((delta / (ms / 1000)) * 10) / 10;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Judge two samples and the settings. Pure; every rule is here. */
export function evaluate(obs: Observation): Verdict {
	const { first, second, intervalMs } = obs;
	const out = second.outRedirects - first.outRedirects;
	const inn = second.inRedirects - first.inRedirects;
	const forwarded = second.forwDatagrams - first.forwDatagrams;
	const seconds = intervalMs / 1000;
	const forwarding = obs.ipForward === 1;
	const sendOn = obs.devices.filter((d) => obs.all.send === 1 || d.send === 1).map((d) => d.dev);
	// ip-sysctl.rst accept_redirects: forwarding hosts need all AND the interface, others all OR it.
	const acceptOn = obs.devices
		.filter((d) => (forwarding ? obs.all.accept === 1 && d.accept === 1 : obs.all.accept === 1 || d.accept === 1))
		.map((d) => d.dev);
	const facts: Facts = {
		intervalMs,
		ipForward: obs.ipForward,
		outRedirects: out,
		inRedirects: inn,
		outRedirectsPerSecond: rate(out, intervalMs),
		inRedirectsPerSecond: rate(inn, intervalMs),
		forwardedDatagrams: forwarded,
		outRedirectsTotal: second.outRedirects,
		inRedirectsTotal: second.inRedirects,
		sendRedirectsAll: obs.all.send,
		acceptRedirectsAll: obs.all.accept,
		sendRedirectsDefault: obs.defaults?.send ?? null,
		acceptRedirectsDefault: obs.defaults?.accept ?? null,
		sendRedirectsOn: sendOn,
		acceptRedirectsOn: acceptOn,
		interfacesNotRead: obs.notRead,
	};
	const extras = { evidence: obs.evidence, facts };
	const unread =
		obs.notRead > 0 ? ` The settings of ${plural(obs.notRead, 'more interface')} were not read (only the first ${MAX_INTERFACES}).` : '';

	if (out < 0 || inn < 0 || forwarded < 0) {
		return error(
			'OutputNotUnderstood',
			`The counters in ${SNMP_PATH} went backwards between the two samples (OutRedirects ${first.outRedirects} -> ${second.outRedirects}, InRedirects ${first.inRedirects} -> ${second.inRedirects}), so they cannot be compared.`,
			{
				...extras,
				next: '#is-a-linux-router-sending-redirects',
				hint: 'Counters only grow inside one network namespace; run the commands of the step by hand, twice, on the same host.',
			},
		);
	}

	if (out > 0) {
		const how = forwarding
			? `It forwarded ${plural(forwarded, 'datagram')} meanwhile`
			: `ip_forward reads 0 now, yet redirects are only sent for forwarded packets: forwarding was on during the interval or is enabled per interface`;
		const fix = [
			'sysctl -w net.ipv4.conf.all.send_redirects=0',
			'sysctl -w net.ipv4.conf.default.send_redirects=0',
			...obs.devices.filter((d) => d.send === 1).map((d) => `sysctl -w net.ipv4.conf.${sysctlDev(d.dev)}.send_redirects=0`),
		];
		return fail(
			`This host sent ${plural(out, 'ICMP redirect')} in ${seconds} s (${rate(out, intervalMs)}/s). ${how}: traffic arrives on an interface and leaves by the same one towards a next hop on the sender's own subnet (a hairpin), and every such packet is still forwarded by Linux, with a redirect telling the sender to use that next hop directly. Find the route that hairpins next; the redirects only stop for good when the sender or the routing changes. Turning send_redirects off (all, default and each interface, since any one of them on keeps them on) silences the messages, not the hairpin.${unread}`,
			{ ...extras, next: '#which-route-hairpins', fix },
		);
	}

	if (inn > 0) {
		const acceptOff = obs.devices.map((d) => d.dev).filter((d) => !acceptOn.includes(d));
		const listens =
			acceptOn.length > 0
				? `accept_redirects is in effect on ${acceptOn.join(', ')}${acceptOff.length > 0 ? ` (off on ${acceptOff.join(', ')})` : ''}: where it is on, the host caches the new next hop for a while, so redirects that keep coming there mean the gateway keeps seeing the traffic (another sender, or the cached route expired); where it is off, it ignores them and keeps sending through the gateway.`
				: `accept_redirects is off on every interface${forwarding ? ' (a forwarding host needs conf/all AND the interface on)' : ''}, so it ignores them: every packet keeps going through the gateway and back out the same link.`;
		return warn(
			`This host received ${plural(inn, 'ICMP redirect')} in ${seconds} s (${rate(inn, intervalMs)}/s): it is being told again and again that its next hop is wrong, a hairpin on its gateway (traffic the gateway sends back out the link it came in on, to a next hop this host could reach directly). ${listens} Fix the route or subnet mask on this host, or the routing on the gateway.${unread}`,
			{ ...extras, next: '#remove-the-hairpin' },
		);
	}

	const history =
		second.outRedirects > 0 || second.inRedirects > 0
			? ` Since the counters started (boot, or the creation of this network namespace) it sent ${second.outRedirects} and received ${second.inRedirects}: a hairpin happened before, not now.`
			: '';
	const stance = forwarding
		? sendOn.length > 0
			? ` It forwards and would send redirects on ${sendOn.join(', ')} if traffic hairpinned.`
			: ' It forwards, with send_redirects off everywhere.'
		: ' It does not forward IPv4 (ip_forward 0), so it never sends redirects.';
	return pass(`No ICMP redirects sent or received in ${seconds} s.${stance}${history}${unread}`, {
		...extras,
		next: '#if-every-check-passes',
	});
}

// --- run ---------------------------------------------------------------------------------------

const SELF = '#is-a-linux-router-sending-redirects';

async function readParsed<T>(ctx: Ctx, probe: ReadProbe, parse: (t: string) => Parsed<T>, evidence: Evidence[]): Promise<T> {
	const text = await ctx.read(probe.path);
	if (text === null) {
		evidence.push(evidenceOf(probe, ''));
		throw new Undecided(
			error('CommandFailed', `${probe.path} does not exist on this host; the check needs it to tell ${probe.why}.`, {
				evidence,
				next: SELF,
				hint: 'A Linux host always has it unless IPv4 is compiled out or /proc is not mounted; run the step by hand.',
			}),
		);
	}
	const p = parse(text);
	evidence.push(evidenceOf(probe, text, p.ok ? p.lines : []));
	if (!p.ok) throw new Undecided(error(codeForOutput(text), `${probe.path}: ${p.reason}.`, { evidence, next: SELF }));
	return p.value;
}

async function listInterfaces(ctx: Ctx, evidence: Evidence[]): Promise<string[]> {
	const r = await ctx.exec(lsProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	if (r.code === 127) {
		evidence.push(evidenceOf(lsProbe, output, [], { code: r.code }));
		throw new Undecided(error('CommandMissing', `${notInstalled('ls')}.`, { evidence, next: SELF, hint: installHint('ls') }));
	}
	if (r.code !== 0) {
		evidence.push(evidenceOf(lsProbe, output, [], { code: r.code }));
		throw new Undecided(commandFailed(`ls ${CONF_DIR}`, r, { evidence, next: SELF }));
	}
	const p = parseConfList(r.stdout);
	evidence.push(evidenceOf(lsProbe, output, p.ok ? p.lines : [], { code: r.code }));
	if (!p.ok) throw new Undecided(error(codeForOutput(r.stdout), `${p.reason}.`, { evidence, next: SELF }));
	return p.value;
}

/** One device's knob; null when the interface went away between `ls` and the read. */
async function readKnob(ctx: Ctx, dev: string, knob: Knob, evidence: Evidence[]): Promise<number | null> {
	const probe = knobProbe(dev, knob);
	const text = await ctx.read(probe.path);
	if (text === null) {
		evidence.push(evidenceOf(probe, ''));
		return null;
	}
	const p = parseSysctlInt(text);
	evidence.push(evidenceOf(probe, text, p.ok ? p.lines : []));
	if (!p.ok) throw new Undecided(error(codeForOutput(text), `${probe.path}: ${p.reason}.`, { evidence, next: SELF }));
	return p.value;
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	ctx.progress('first sample of /proc/net/snmp', 0.05);
	const first = await readParsed(ctx, snmpProbe('first'), parseRedirectCounters, evidence);
	ctx.progress(`waiting ${params.intervalMs / 1000} s for the second sample`, 0.1);
	await ctx.sleep(params.intervalMs);
	ctx.progress('second sample of /proc/net/snmp', 0.6);
	const second = await readParsed(ctx, snmpProbe('second'), parseRedirectCounters, evidence);

	ctx.progress('reading the redirect settings', 0.7);
	const ipForward = await readParsed(ctx, ipForwardProbe, parseSysctlInt, evidence);
	const all = {
		send: await readParsed(ctx, knobProbe('all', 'send_redirects'), parseSysctlInt, evidence),
		accept: await readParsed(ctx, knobProbe('all', 'accept_redirects'), parseSysctlInt, evidence),
	};
	const names = await listInterfaces(ctx, evidence);
	const listed = names.filter((n) => n !== 'all' && n !== 'default' && n !== 'lo');
	const toRead = listed.slice(0, MAX_INTERFACES);
	const defSend = await readKnob(ctx, 'default', 'send_redirects', evidence);
	const defAccept = await readKnob(ctx, 'default', 'accept_redirects', evidence);
	const devices: DeviceKnobs[] = [];
	for (const dev of toRead) {
		const send = await readKnob(ctx, dev, 'send_redirects', evidence);
		const accept = await readKnob(ctx, dev, 'accept_redirects', evidence);
		if (send !== null && accept !== null) devices.push({ dev, send, accept });
	}
	return {
		intervalMs: params.intervalMs,
		first,
		second,
		ipForward,
		all,
		defaults: defSend !== null && defAccept !== null ? { send: defSend, accept: defAccept } : null,
		devices,
		notRead: listed.length - toRead.length,
		evidence,
	};
}

export default defineCheck({
	id: 'net.icmp-redirects',
	title: 'ICMP redirects sent or received (a hairpin through a Linux router)',
	description:
		'Samples the ICMP redirect counters of /proc/net/snmp twice and reads ip_forward and the send_redirects / accept_redirects settings. Fails when this host sends redirects (it forwards traffic back out the interface it came in on: a hairpin), warns when it keeps receiving them (its gateway hairpins its traffic).',
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#which-route-hairpins', '#remove-the-hairpin', '#if-every-check-passes', '#is-a-linux-router-sending-redirects'],
	params: ParamsSchema,
	probes() {
		return [
			snmpProbe('first'),
			snmpProbe('second'),
			ipForwardProbe,
			knobProbe('all', 'send_redirects'),
			knobProbe('all', 'accept_redirects'),
			lsProbe,
			knobProbe('default', 'send_redirects'),
			knobProbe('default', 'accept_redirects'),
			knobProbe('IFACE', 'send_redirects'),
			knobProbe('IFACE', 'accept_redirects'),
		];
	},
	run(ctx, params) {
		return decide(async () => {
			const obs = await observe(ctx, params);
			ctx.progress('comparing', 0.95);
			return evaluate(obs);
		});
	},
});
