/**
 * net.redirect-route: on a Linux router, would a packet from `src` arriving on `iif` for `dst` be
 * sent back out the interface it came in on, with an ICMP redirect to the sender?
 *
 * Failure (DOMAIN.md section 5): `ip route get DST from SRC iif IIF` asks the kernel to route a
 * packet as if it had arrived on IIF (RTM_GETROUTE with an input interface runs the input path,
 * `ip_route_input`). When `__mkroute_input` (net/ipv4/route.c) finds out_dev == in_dev, send_redirects
 * on and the source on-link with the gateway, it sets RTCF_DOREDIRECT and iproute2 prints it as
 * `cache <redirect>` (JSON `"cache":["redirect"]`): every such packet is forwarded back out the same
 * link and its sender told to use the next hop directly. Captured on this project's test machine:
 * `198.19.220.1 from 198.18.220.10 via 198.18.220.2 dev eth1` / `    cache <redirect> iif eth1`.
 *
 * Runs `ip -j route get DST from SRC iif IIF`, and `ip route get ...` (text) when this iproute2 does
 * not know `-j` (CentOS/RHEL 7's iproute 3.10 prints `Option "-j" is unknown, try "ip -help".`,
 * exit 255; versions that know `-j` but not for routes print text, which is read as text). Reads
 * ip_forward, conf/IIF/forwarding and the send_redirects settings to explain the answer.
 *
 * Rules, all in `evaluate`:
 * - `redirect` among the cache flags: fail.
 * - out dev == iif without the flag: pass, but a hairpin, and the verdict says why no redirect (the
 *   source is not on the gateway's subnet, or send_redirects is off).
 * - anything else (another interface, `local`): pass.
 * - `RTNETLINK answers: ...` is an error with its meaning: Network is unreachable (no route),
 *   No route to host (this host does not forward packets arriving on IIF, or an unreachable or
 *   prohibit route; kernel 6.18 answers this when ip_forward is 0), Invalid argument (a martian source:
 *   one of this host's own addresses, broadcast, multicast, loopback or 0.0.0.0).
 *
 * Serves content/runbooks/icmp-redirect-copp.mdx, step "Which route hairpins".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	InterfaceName,
	notUnderstood,
	parsed,
	pass,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type ExecResult,
	type Facts,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { parseRouteGet as parseSharedRouteGet } from '../../src/core/parse/ip-route.ts';
import { codeForOutput, decide, installHint, notInstalled, Undecided } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/** Destination of the traffic that suffers, an IPv4 address (redirects are an IPv4 mechanism here). */
	dst: z.ipv4().describe('IPv4 address the traffic is going to'),
	/** Source of that traffic: the host that sends it through this router. */
	src: z.ipv4().describe('IPv4 address of the sender (the host whose traffic hairpins)'),
	/** The router's interface the traffic arrives on. */
	iif: InterfaceName.describe('the interface of this router the traffic arrives on'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 10_000;
const CONF = '/proc/sys/net/ipv4/conf';

const jsonProbe = (p: Params): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', '-j', 'route', 'get', p.dst, 'from', p.src, 'iif', p.iif],
	why: 'route this packet as if it had arrived on the interface; "cache":["redirect"] means it goes back out with a redirect',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const textProbe = (p: Params): ExecProbe => ({
	kind: 'exec',
	argv: ['ip', 'route', 'get', p.dst, 'from', p.src, 'iif', p.iif],
	why: 'the same in text, only when this iproute2 does not know -j; "cache <redirect>" means a redirect',
	timeoutMs: EXEC_TIMEOUT_MS,
});
const readProbes = (iif: string): ReadProbe[] => [
	{ kind: 'read', path: '/proc/sys/net/ipv4/ip_forward', why: 'does this host forward IPv4 at all' },
	{ kind: 'read', path: `${CONF}/${iif}/forwarding`, why: `does it forward packets arriving on ${iif}` },
	{ kind: 'read', path: `${CONF}/all/send_redirects`, why: 'redirects sent on every interface' },
	{ kind: 'read', path: `${CONF}/${iif}/send_redirects`, why: `redirects sent on ${iif} (on when all OR this is 1)` },
];

// --- parsers -----------------------------------------------------------------------------------

/** What `ip route get` answered, in either form. */
export interface RouteGet {
	/** Route type when not unicast: `local`, `broadcast`, `multicast`, ... */
	type: string;
	dst: string;
	from: string | null;
	/** Next hop (`via` / `"gateway"`); null when the destination is on-link. */
	gateway: string | null;
	/** Output device. */
	dev: string;
	/** Input interface echoed back; null when absent. */
	iif: string | null;
	/** The RTCF flags iproute2 prints after `cache`: `redirect`, `local`, `redirected`, ... */
	cache: string[];
}

/**
 * `ip -j route get`: one-element array, e.g.
 * `[{"dst":"198.19.220.1","from":"198.18.220.10","gateway":"198.18.220.2","dev":"eth1","flags":[],"cache":["redirect"],"iif":"eth1"}]`.
 */
export function parseRouteGetJson(text: string): Parsed<RouteGet> {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		return notUnderstood(text.trim() === '' ? 'ip -j route get printed nothing' : 'ip -j route get did not print valid JSON (cut?)');
	}
	if (!Array.isArray(data) || data.length !== 1 || typeof data[0] !== 'object' || data[0] === null)
		return notUnderstood('ip -j route get did not print an array of one route');
	const r = data[0] as Record<string, unknown>;
	const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : null);
	const dst = str('dst');
	const dev = str('dev');
	if (!dst || !dev) return notUnderstood('the route has no "dst" or no "dev"');
	if (!Array.isArray(r.cache) || !r.cache.every((f) => typeof f === 'string'))
		return notUnderstood('the route has no "cache" flag list, so whether it redirects cannot be told');
	return parsed(
		{ type: str('type') ?? 'unicast', dst, from: str('from'), gateway: str('gateway'), dev, iif: str('iif'), cache: r.cache as string[] },
		[1],
	);
}

/**
 * `ip route get` text (the shared parser), e.g. `198.19.220.1 from 198.18.220.10 via 198.18.220.2 dev eth1 ` /
 * `    cache <redirect> iif eth1 `. Whether a route redirects is told by its cache line, so one must be there.
 */
export function parseRouteGetText(text: string): Parsed<RouteGet> {
	const p = parseSharedRouteGet(text);
	if (!p.ok) return p;
	const r = p.value;
	if (!r.cacheLine) return notUnderstood('no "cache" line under the route, so whether it redirects cannot be told');
	return parsed(
		{ type: r.type ?? 'unicast', dst: r.dst, from: r.from, gateway: r.gateway, dev: r.dev, iif: r.iif, cache: r.cache },
		p.lines,
	);
}

/** JSON when it looks like JSON, text otherwise (an iproute2 that accepts -j but prints routes as text). */
export function parseRouteGet(text: string): Parsed<RouteGet> {
	return text.trimStart().startsWith('[') ? parseRouteGetJson(text) : parseRouteGetText(text);
}

/** `ip` on stderr: the RTNETLINK error or a device it cannot find, and what it means here. */
export interface RouteError {
	kind: 'unreachable' | 'no-route-to-host' | 'invalid' | 'no-device' | 'other';
	message: string;
}

export function classifyRouteError(stderr: string): RouteError {
	const message =
		stderr
			.split('\n')
			.find((l) => l.trim() !== '')
			?.trim() ?? '';
	if (/^RTNETLINK answers: Network is unreachable/.test(message)) return { kind: 'unreachable', message };
	if (/^RTNETLINK answers: No route to host/.test(message)) return { kind: 'no-route-to-host', message };
	if (/^RTNETLINK answers: Invalid argument/.test(message)) return { kind: 'invalid', message };
	if (/^Cannot find device "/.test(message)) return { kind: 'no-device', message };
	return { kind: 'other', message };
}

export const JSON_UNKNOWN = /Option "-j" is unknown/;

// --- evaluate ----------------------------------------------------------------------------------

export interface Settings {
	/** /proc/sys/net/ipv4/ip_forward; null when unreadable. */
	ipForward: number | null;
	/** conf/IIF/forwarding; null when the interface does not exist. */
	iifForwarding: number | null;
	sendAll: number | null;
	sendIif: number | null;
}

export type Answer = { ok: true; route: RouteGet } | { ok: false; error: RouteError };

export interface Observation {
	answer: Answer;
	settings: Settings;
	evidence: Evidence[];
}

const SELF = '#which-route-hairpins';

/** Judge the kernel's answer. Pure. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const { settings: s } = obs;
	const facts: Facts = {
		dst: params.dst,
		src: params.src,
		iif: params.iif,
		ipForward: s.ipForward,
		iifForwarding: s.iifForwarding,
		sendRedirects: s.sendAll === null || s.sendIif === null ? null : Number(s.sendAll === 1 || s.sendIif === 1),
	};
	const extras = { evidence: obs.evidence, facts };
	const flow = `A packet from ${params.src} arriving on ${params.iif} for ${params.dst}`;
	const notForwarding = s.ipForward === 0 || s.iifForwarding === 0;
	const forwardingNote = notForwarding
		? ` This host does not forward packets arriving on ${params.iif} (ip_forward ${s.ipForward ?? '?'}, conf/${params.iif}/forwarding ${s.iifForwarding ?? '?'}): it is not a router for this traffic; run the check on the gateway the sender uses.`
		: '';

	if (!obs.answer.ok) {
		const e = obs.answer.error;
		facts.routeError = e.message;
		const meaning: Record<RouteError['kind'], string> = {
			unreachable: `This host has no route to ${params.dst} (no matching route and no default route), so such a packet is dropped, not hairpinned.`,
			'no-route-to-host': notForwarding
				? `The kernel will not forward it.${forwardingNote}`
				: `The route to ${params.dst} is an unreachable or prohibit route, so such a packet is dropped with an ICMP error, not hairpinned.`,
			invalid: `The kernel refused the lookup: ${params.src} is not a valid source for a packet arriving from outside (one of this host's own addresses, or a broadcast, multicast, loopback or 0.0.0.0 address).${forwardingNote}`,
			'no-device': `There is no interface ${params.iif} on this host; list them with \`ip -br link\` and give the one the traffic arrives on.`,
			other: 'ip could not answer for this packet.',
		};
		return error('CommandFailed', `${flow} cannot be routed here: \`${e.message}\`. ${meaning[e.kind]}`, {
			...extras,
			next: SELF,
			hint: 'Check the addresses and the interface against `ip -br addr` on this host, and run the check on the router the sender uses as its gateway.',
		});
	}

	const r = obs.answer.route;
	Object.assign(facts, { outDev: r.dev, gateway: r.gateway, routeType: r.type, cacheFlags: r.cache, hairpin: r.dev === params.iif });
	const via = r.gateway ? ` via ${r.gateway}` : '';

	if (r.cache.includes('redirect')) {
		return fail(
			`${flow} leaves again by ${r.dev}${via}, the interface it came in on, and the kernel marks it \`cache <redirect>\`: this router forwards every such packet back onto the same link and sends ${params.src} an ICMP redirect to use ${r.gateway ?? params.dst} directly. That is the hairpin. Fix it where it starts: the sender's route or subnet mask, or the route here that sends ${params.dst} back onto that link (\`ip route show match ${params.dst}\`). Turning send_redirects off only silences the messages; a Cisco Nexus in this router's place punts every such packet to its CPU.`,
			{
				...extras,
				next: '#remove-the-hairpin',
				fix: [
					'sysctl -w net.ipv4.conf.all.send_redirects=0',
					`sysctl -w net.ipv4.conf.${params.iif.replaceAll('.', '/')}.send_redirects=0`,
				],
			},
		);
	}
	if (r.type === 'local' || r.cache.includes('local')) {
		return pass(`${flow} is for this host itself (a local address): it is delivered, not forwarded, so no redirect.`, {
			...extras,
			next: '#if-every-check-passes',
		});
	}
	if (r.dev === params.iif) {
		const why =
			facts.sendRedirects === 0
				? 'send_redirects is off for it (all and the interface)'
				: `${params.src} is not on the same subnet as the next hop ${r.gateway ?? params.dst}, so the kernel sends no redirect (it would not help the sender)`;
		return pass(
			`${flow} leaves again by ${r.dev}${via}: it does hairpin, but without a redirect, because ${why}. Linux forwards it at full speed; the same path through a Cisco Nexus would still be punted if its ip redirects are on.`,
			{ ...extras, next: '#if-every-check-passes' },
		);
	}
	return pass(`${flow} leaves by ${r.dev}${via}, not by ${params.iif}: no hairpin, no redirect.`, {
		...extras,
		next: '#if-every-check-passes',
	});
}

// --- run ---------------------------------------------------------------------------------------

async function exec(ctx: Ctx, probe: ExecProbe): Promise<ExecResult> {
	return ctx.exec(probe.argv, { timeoutMs: probe.timeoutMs ?? EXEC_TIMEOUT_MS });
}

async function askKernel(ctx: Ctx, params: Params, evidence: Evidence[]): Promise<Answer> {
	let probe = jsonProbe(params);
	let r = await exec(ctx, probe);
	if (r.code !== 0 && JSON_UNKNOWN.test(r.stderr)) {
		evidence.push(evidenceOf(probe, r.stdout + r.stderr, [], { code: r.code }));
		probe = textProbe(params);
		r = await exec(ctx, probe);
	}
	const output = r.stdout + r.stderr;
	const extra = { code: r.code, ...(r.truncated ? { truncated: true } : {}) };
	if (r.code === 127) {
		evidence.push(evidenceOf(probe, output, [], extra));
		throw new Undecided(
			error('CommandMissing', `${notInstalled('ip')}, so the check cannot ask the kernel how it routes this packet.`, {
				evidence,
				next: SELF,
				hint: installHint('ip'),
			}),
		);
	}
	if (r.code !== 0) {
		const e = classifyRouteError(r.stderr);
		// The message is the first line after whatever went to stdout.
		const before = r.stdout === '' ? 0 : r.stdout.split('\n').length - (r.stdout.endsWith('\n') ? 1 : 0);
		evidence.push(evidenceOf(probe, output, e.message ? [before + 1] : [], extra));
		return { ok: false, error: e };
	}
	const p = parseRouteGet(r.stdout);
	evidence.push(evidenceOf(probe, output, p.ok ? p.lines : [], extra));
	if (!p.ok)
		throw new Undecided(
			error(codeForOutput(r.stdout, { truncated: r.truncated }), `\`${probe.argv.join(' ')}\`: ${p.reason}.`, { evidence, next: SELF }),
		);
	return { ok: true, route: p.value };
}

async function readInt(ctx: Ctx, probe: ReadProbe, evidence: Evidence[]): Promise<number | null> {
	const text = await ctx.read(probe.path);
	const m = text === null ? null : /^(-?\d+)\n$/.exec(text);
	evidence.push(evidenceOf(probe, text ?? '', m ? [1] : []));
	return m ? Number(m[1]) : null;
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	ctx.progress(`asking the kernel how it routes ${params.src} -> ${params.dst} arriving on ${params.iif}`, 0.1);
	const answer = await askKernel(ctx, params, evidence);
	ctx.progress('reading the forwarding and redirect settings', 0.6);
	const [ipForward, iifForwarding, sendAll, sendIif] = readProbes(params.iif);
	const settings: Settings = {
		ipForward: await readInt(ctx, ipForward!, evidence),
		iifForwarding: await readInt(ctx, iifForwarding!, evidence),
		sendAll: await readInt(ctx, sendAll!, evidence),
		sendIif: await readInt(ctx, sendIif!, evidence),
	};
	return { answer, settings, evidence };
}

export default defineCheck({
	id: 'net.redirect-route',
	title: 'Would this router send a packet back out the way it came (with an ICMP redirect)?',
	description:
		'Asks the kernel of a Linux router how it would route a packet from a given source arriving on a given interface (`ip route get DST from SRC iif IIF`). Fails when the route is marked for redirect (`cache <redirect>`): the packet leaves by the interface it came in on, towards a next hop the sender could reach directly.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#remove-the-hairpin', '#if-every-check-passes', '#which-route-hairpins'],
	params: ParamsSchema,
	probes(params) {
		return [jsonProbe(params), textProbe(params), ...readProbes(params.iif)];
	},
	run(ctx, params) {
		return decide(async () => {
			const obs = await observe(ctx, params);
			ctx.progress('comparing', 0.95);
			return evaluate(obs, params);
		});
	},
});
