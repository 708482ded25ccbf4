/**
 * nxos.ip-redirects: on a Cisco NX-OS switch, are ICMP redirects enabled on a routed interface
 * (an SVI or an L3 port) that is forwarding traffic in software?
 *
 * Failure (DOMAIN.md section 5; Christopher Hart, "ICMP Redirects - How Data Plane Traffic Can Become
 * Control Plane Traffic", N93180YC-FX, NX-OS 9.3(8)): when a packet must leave by the L3 interface it
 * arrived on (a hairpin: a host with a wrong mask, a static route via a next hop on the same subnet, a
 * one-armed load balancer or firewall) and `ip redirects` is on (the default), the ASIC cannot build
 * the ICMP redirect, so it punts every such packet to the supervisor (ELAM `Sup hit: 1`,
 * `IP_SELF_FWD_FAIILURE`). The supervisor forwards it in software, sends the redirect, and CoPP
 * polices that path: at 1000 pps most of the flow is dropped (see nxos.copp-drops).
 *
 * Runs `show ip interface` (or `show ip interface IFACE`), sent raw to the switch; never a CLI pipe.
 * Per interface it reads `<name>, Interface status: protocol-up/link-up/admin-up, iod: N,`,
 * `IP icmp redirects: enabled|disabled` and, under `IP interface software stats:
 * (sent/received/forwarded/originated/consumed)`, the line `Unicast packets : a/b/c/d/e`, whose third
 * field counts unicast packets the supervisor forwarded in software for that interface (since
 * `IP interface statistics last reset`). Layouts differ (indented, flush left, CRLF, with or without
 * the `IP Interface Status for VRF` lines); an interface block without both lines is not understood.
 *
 * Rules, all in `evaluate`:
 * - Judged: SVIs (`VlanN`) and routed ports (`EthernetX/Y[.Z]`, `port-channelN[.Z]`); loopbacks,
 *   mgmt0 and tunnels are listed but cannot hairpin data traffic. An interface named by `iface` is
 *   always judged.
 * - fail: redirects enabled on a judged interface whose software-forwarded unicast count is above 0:
 *   the punt path is in use on it. The count is cumulative, so a value that keeps rising (run it
 *   twice) is the live proof; `clear ip interface statistics` starts it again.
 * - warn: redirects enabled on a judged interface with nothing forwarded in software: harmless now,
 *   punted the moment traffic hairpins.
 * - pass: redirects disabled on every judged interface.
 * `show ip interface` lists the default VRF; name an interface of another VRF with `iface`.
 *
 * Serves content/runbooks/icmp-redirect-copp.mdx, step "On Cisco NX-OS: are redirects enabled".
 */
import { z } from 'zod';
import {
	defineCheck,
	evidenceOf,
	fail,
	notUnderstood,
	parsed,
	pass,
	warn,
	type Ctx,
	type ExecProbe,
	type Facts,
	type Parsed,
	type Verdict,
} from '../../src/core/check.ts';
import { runShow } from '../../src/core/parse/nxos.ts';

// --- params ------------------------------------------------------------------------------------

/** NX-OS interface names as `show ip interface` accepts them; every character is one quoteArg leaves bare. */
const NXOS_INTERFACE =
	/^(?:[Vv]lan(\d{1,4})|(?:[Ee]thernet|[Ee]th)\d{1,3}(?:\/\d{1,3}){1,2}(?:\.\d{1,4})?|(?:[Pp]ort-channel|[Pp]o)\d{1,4}(?:\.\d{1,4})?|(?:[Ll]oopback|[Ll]o)\d{1,4}|mgmt\d|[Tt]unnel\d{1,5})$/;

export const ParamsSchema = z.strictObject({
	/**
	 * One NX-OS interface, e.g. `Vlan10`, `Ethernet1/1`, `Ethernet1/1.100`, `port-channel10`: runs
	 * `show ip interface <iface>`, which also reaches interfaces outside the default VRF. Every
	 * interface of the default VRF when left out.
	 */
	iface: z
		.string()
		.regex(NXOS_INTERFACE, 'an NX-OS interface such as Vlan10, Ethernet1/1, Ethernet1/1.100, port-channel10, loopback0')
		.refine((v) => {
			const vlan = /^[Vv]lan(\d+)$/.exec(v);
			return !vlan || (Number(vlan[1]) >= 1 && Number(vlan[1]) <= 4094);
		}, 'a VLAN between 1 and 4094')
		.optional()
		.describe('one NX-OS interface (Vlan10, Ethernet1/1, port-channel10); every interface of the default VRF when left out'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 30_000;

const showProbe = (iface?: string): ExecProbe => ({
	kind: 'exec',
	argv: iface ? ['show', 'ip', 'interface', iface] : ['show', 'ip', 'interface'],
	why: 'per L3 interface: "IP icmp redirects: enabled|disabled" and the software-forwarded unicast packets (third field of "Unicast packets")',
	timeoutMs: EXEC_TIMEOUT_MS,
});

// --- parser ------------------------------------------------------------------------------------

export interface UnicastStats {
	sent: number;
	received: number;
	/** Forwarded by the supervisor, in software: punted data traffic. */
	forwarded: number;
	originated: number;
	consumed: number;
}

export interface NxosInterface {
	name: string;
	/** From the last `IP Interface Status for VRF "X"` line; null when the output has none. */
	vrf: string | null;
	/** `protocol-up/link-up/admin-up` */
	status: string;
	up: boolean;
	/** Primary `address/len`, e.g. `172.16.100.69/25`; null for `IP address: none` or unnumbered. */
	address: string | null;
	redirects: 'enabled' | 'disabled';
	unicast: UnicastStats;
	/** `IP interface statistics last reset: never` -> `never`. */
	lastReset: string | null;
	/** 1-based lines: the header, the redirects line, the Unicast packets line. */
	headerLine: number;
	redirectsLine: number;
	unicastLine: number;
}

const HEADER = /^(\S+), Interface status: ([a-z]+-[a-z]+)\/([a-z]+-[a-z]+)\/([a-z]+-[a-z]+), iod: \d+,/;

/**
 * `show ip interface` on NX-OS, one block per interface:
 * `Vlan100, Interface status: protocol-up/link-up/admin-up, iod: 276,` ...
 * `  IP icmp redirects: disabled` ... `    Unicast packets    : 363766868/434448766/1840111/361926757/435257628`.
 */
export function parseShowIpInterface(text: string): Parsed<NxosInterface[]> {
	if (text.trim() === '') return notUnderstood('show ip interface printed nothing');
	const lines = text.split(/\r?\n/);
	const found: Partial<NxosInterface>[] = [];
	let vrf: string | null = null;
	let cur: Partial<NxosInterface> | null = null;
	for (const [i, raw] of lines.entries()) {
		const line = raw.trim();
		const v = /^IP Interface Status for VRF "([^"]*)"/.exec(line);
		if (v) {
			vrf = v[1]!;
			cur = null;
			continue;
		}
		const h = HEADER.exec(line);
		if (!h && /^\S+, Interface status:/.test(line))
			return notUnderstood(
				`line ${i + 1} starts an interface but is incomplete (the output was cut): ${JSON.stringify(line.slice(0, 80))}`,
			);
		if (h) {
			cur = {
				name: h[1]!,
				vrf,
				status: `${h[2]}/${h[3]}/${h[4]}`,
				up: h[2] === 'protocol-up',
				address: null,
				lastReset: null,
				headerLine: i + 1,
			};
			found.push(cur);
			continue;
		}
		if (!cur) continue;
		const a = /^IP address: ([0-9.]+), IP subnet: [0-9.]+\/(\d+)/.exec(line);
		if (a && cur.address === null) cur.address = `${a[1]}/${a[2]}`;
		const r = /^IP icmp redirects: (enabled|disabled)$/.exec(line);
		if (r) {
			cur.redirects = r[1] as 'enabled' | 'disabled';
			cur.redirectsLine = i + 1;
		}
		const u = /^Unicast packets\s*:\s*(\d+)\/(\d+)\/(\d+)\/(\d+)\/(\d+)$/.exec(line);
		if (u && cur.unicast === undefined) {
			const [sent, received, forwarded, originated, consumed] = u.slice(1, 6).map(Number) as [number, number, number, number, number];
			cur.unicast = { sent, received, forwarded, originated, consumed };
			cur.unicastLine = i + 1;
		}
		const reset = /^IP interface statistics last reset: (.+)$/i.exec(line);
		if (reset) cur.lastReset = reset[1]!;
	}
	if (found.length === 0) return notUnderstood('no "<interface>, Interface status: ..., iod: N," line: not NX-OS show ip interface output');
	for (const f of found) {
		if (f.redirects === undefined)
			return notUnderstood(
				`${f.name} (line ${f.headerLine}) has no "IP icmp redirects:" line: the output was cut, or this platform (an ACI leaf) does not print it`,
			);
		if (f.unicast === undefined)
			return notUnderstood(
				`${f.name} (line ${f.headerLine}) has no "Unicast packets : sent/received/forwarded/originated/consumed" line: the output was cut`,
			);
	}
	const all = found as NxosInterface[];
	return parsed(
		all,
		all.flatMap((f) => [f.headerLine, f.redirectsLine, f.unicastLine]),
	);
}

/** What an interface is, by its NX-OS name. */
export function interfaceKind(name: string): 'svi' | 'routed' | 'loopback' | 'mgmt' | 'other' {
	if (/^vlan\d+$/i.test(name)) return 'svi';
	if (/^(ethernet|eth)\d+(\/\d+)+(\.\d+)?$/i.test(name) || /^(port-channel|po)\d+(\.\d+)?$/i.test(name)) return 'routed';
	if (/^(loopback|lo)\d+$/i.test(name)) return 'loopback';
	if (/^mgmt\d+$/i.test(name)) return 'mgmt';
	return 'other';
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	interfaces: NxosInterface[];
	/** The interface asked for, if any. */
	iface: string | null;
	command: string;
	output: string;
}

const label = (f: NxosInterface) => `${f.name}${f.address ? ` (${f.address})` : ''}`;

function fixFor(names: string[]): string[] {
	return [
		'configure terminal',
		...names.flatMap((n) => [`interface ${n}`, '  no ip redirects', '  no ipv6 redirects']),
		'end',
		'copy running-config startup-config',
	];
}

/** Judge the interfaces. Pure; every rule is here. */
export function evaluate(obs: Observation): Verdict {
	const judged = obs.interfaces.filter((f) => {
		const k = interfaceKind(f.name);
		return k === 'svi' || k === 'routed' || (obs.iface !== null && f.name.toLowerCase() === obs.iface.toLowerCase());
	});
	const ignored = obs.interfaces.filter((f) => !judged.includes(f));
	const enabled = judged.filter((f) => f.redirects === 'enabled');
	const punting = enabled.filter((f) => f.unicast.forwarded > 0);
	const facts: Facts = {
		interfaces: obs.interfaces.length,
		judged: judged.map((f) => f.name),
		ignored: ignored.map((f) => `${f.name} (${interfaceKind(f.name)})`),
		redirectsEnabledOn: enabled.map((f) => f.name),
		softwareForwarded: enabled.map((f) => `${f.name}=${f.unicast.forwarded}`),
		punting: punting.map((f) => f.name),
	};
	const highlight = (set: NxosInterface[]) => set.flatMap((f) => [f.headerLine, f.redirectsLine, f.unicastLine]).sort((a, b) => a - b);

	if (punting.length > 0) {
		const detail = punting
			.map(
				(f) =>
					`${label(f)} forwarded ${f.unicast.forwarded} unicast packets in software (of ${f.unicast.received} received by the CPU) since its counters were last reset (${f.lastReset ?? 'unknown'})`,
			)
			.join('; ');
		return fail(
			`ICMP redirects are enabled on ${punting.map((f) => f.name).join(', ')}, which the supervisor is forwarding traffic for: ${detail}. A packet routed back out the interface it arrived on is punted to the CPU, forwarded in software and answered with an ICMP redirect, and CoPP polices that path, so a hairpinned flow loses packets. Check CoPP next; turn redirects off on these interfaces (\`no ip redirects\`) or remove the hairpin.`,
			{
				evidence: [evidenceOf(obs.command, obs.output, highlight(punting))],
				facts,
				next: '#on-cisco-nx-os-is-copp-dropping-them',
				fix: fixFor(punting.map((f) => f.name)),
			},
		);
	}
	if (enabled.length > 0) {
		return warn(
			`ICMP redirects are enabled (the NX-OS default) on ${enabled.map(label).join(', ')}, with no unicast packets forwarded in software on ${enabled.length === 1 ? 'it' : 'them'}: nothing is being punted now, but the first flow that hairpins through ${enabled.length === 1 ? 'it' : 'one of them'} will be, and CoPP drops whatever exceeds its policer. Turn them off before that happens.`,
			{
				evidence: [evidenceOf(obs.command, obs.output, highlight(enabled))],
				facts,
				next: '#turn-off-redirects',
				fix: fixFor(enabled.map((f) => f.name)),
			},
		);
	}
	const none = judged.length === 0;
	return pass(
		none
			? `No SVI or routed port in the output (only ${ignored.map((f) => f.name).join(', ')}), so nothing can hairpin data traffic here with redirects on.`
			: `ICMP redirects are disabled on ${judged.map((f) => f.name).join(', ')}: a hairpinned packet is forwarded in hardware, not punted.${ignored.length > 0 ? ` Not judged: ${ignored.map((f) => f.name).join(', ')} (loopback, management or tunnel).` : ''}`,
		{
			evidence: [
				evidenceOf(
					obs.command,
					obs.output,
					judged.map((f) => f.redirectsLine),
				),
			],
			facts,
			next: '#if-every-check-passes',
		},
	);
}

// --- run ---------------------------------------------------------------------------------------

const SELF = '#on-cisco-nx-os-are-redirects-enabled';

async function observe(ctx: Ctx, params: Params): Promise<Observation | Verdict> {
	const shown = await runShow(ctx, showProbe(params.iface), {
		refused: /^%\s*Invalid|^Invalid (command|interface|range)|^Syntax error/m,
		hint: 'Run it on the switch by hand; an interface must exist and have an IP address to be shown.',
		next: SELF,
		parse: parseShowIpInterface,
	});
	if ('status' in shown) return shown;
	return { interfaces: shown.value, iface: params.iface ?? null, command: shown.command, output: shown.output };
}

export default defineCheck({
	id: 'nxos.ip-redirects',
	title: 'ICMP redirects on NX-OS routed interfaces (the CPU punt path)',
	description:
		'Reads `show ip interface` on a Cisco NX-OS switch: per SVI and routed port, whether ICMP redirects are enabled and how many unicast packets the supervisor forwarded in software. Fails when redirects are on where traffic is being forwarded in software (hairpinned packets are punted to the CPU and policed by CoPP), warns when they are on but nothing is punted yet.',
	platforms: ['nxos'],
	mutates: false,
	nextSteps: [
		'#on-cisco-nx-os-is-copp-dropping-them',
		'#turn-off-redirects',
		'#if-every-check-passes',
		'#on-cisco-nx-os-are-redirects-enabled',
	],
	params: ParamsSchema,
	probes(params) {
		return [showProbe(params.iface)];
	},
	async run(ctx, params) {
		const obs = await observe(ctx, params);
		if ('status' in obs) return obs;
		ctx.progress('comparing', 0.9);
		return evaluate(obs);
	},
});
