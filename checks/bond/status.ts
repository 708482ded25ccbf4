/**
 * bond.status: is the bond up, are all its slaves up, and does the switch bundle them?
 *
 * Failure (DOMAIN.md section 4, issue 4): an 802.3ad bond whose switch ports are not in one LACP
 * port-channel never gets a partner. Each port without an aggregatable partner is "individual" and
 * sits in its own aggregator (drivers/net/bonding/bond_3ad.c, ad_port_selection_logic), the bond
 * uses one of them, and `/proc/net/bonding/<bond>` shows `Partner Mac Address: 00:00:00:00:00:00`
 * and slaves with different `Aggregator ID`s. Traffic then runs over one port only, or, when the
 * switch side is a static channel, is hashed by the switch onto ports the bond ignores.
 *
 * Reads `/proc/net/bonding/<bond>` (every mode: balance-rr, active-backup, balance-xor, broadcast,
 * 802.3ad, balance-tlb, balance-alb); when it is absent, runs `ls /proc/net/bonding` to tell "no
 * bonding on this host" from "no bond by that name".
 *
 * Rules, all in `evaluate`:
 * - fail: the bond has no carrier (`MII Status: down`) or no slave; 802.3ad with `bond X has no
 *   active aggregator`, a zero partner MAC, or an up slave in another aggregator than the bond's
 *   (the issue: "the switch side is not bundled").
 * - warn: a slave without link. The bond still carries traffic on the others, so it is not what
 *   breaks one destination, but redundancy is gone and the port needs the cabling or switch fixed.
 * - warn: 802.3ad read without root (Linux 5.x hides the partner from non-root readers) with only one
 *   slave up: nothing left to tell a bundle from a lone port. With two or more up slaves in one
 *   aggregator the bundle is proven without the partner MAC (an unbundled port is individual).
 * - Link failure counts are reported, never judged: one read cannot tell an old flap from one that
 *   is happening now; the summary asks for a second read.
 * - An absent file is `skip` when the bonding driver is not loaded or has no bond (nothing to
 *   check), and `error` when other bonds exist: the name is then most likely mistyped, and a skip
 *   would read as "bond fine" in a run-all table.
 *
 * Serves content/runbooks/bond-vlan-stray-subinterface.mdx, step "Check the bond itself".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	InterfaceName,
	pass,
	skip,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { isNoSuchDirectory, parseBondingList, parseProcBonding, type BondSlave, type BondStatus } from '../../src/core/parse/bonding.ts';
import { codeForOutput, exitedWith, installHint, notInstalled } from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The bond to read, as `/proc/net/bonding` names it (`bond0`, `bond1`, `bond-int`). An interface
	 * name; `.` and `..` are refused so the path stays inside `/proc/net/bonding`.
	 */
	bond: InterfaceName.refine((n) => n !== '.' && n !== '..', 'an interface name, not . or ..')
		.default('bond0')
		.describe('the bond to read: /proc/net/bonding/<bond>'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds and names ----------------------------------------------------------------------

/** The partner MAC the driver prints when no LACP partner ever answered. */
export const NO_PARTNER = '00:00:00:00:00:00';
const EXEC_TIMEOUT_MS = 10_000;
const NEXT_SWITCH = '#fix-the-switch-side-of-the-bond';
const NEXT_DONE = '#if-every-check-passes';

export const BONDING_DIR = '/proc/net/bonding';

const fileProbe = (bond: string): ReadProbe => ({
	kind: 'read',
	path: `${BONDING_DIR}/${bond}`,
	why: 'the bond as the driver sees it: mode, slaves, MII status, link failures, 802.3ad aggregators and partner',
});
const lsProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ls', BONDING_DIR],
	why: 'only when the file is absent: which bonds exist (no directory: the bonding driver is not loaded)',
	timeoutMs: EXEC_TIMEOUT_MS,
};

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	bond: string;
	status: BondStatus;
	/** The file as read, for the evidence. */
	text: string;
}

interface Finding {
	severity: 'fail' | 'warn';
	text: string;
	lines: number[];
	next: string;
}

const isUp = (s: BondSlave) => s.miiStatus === 'up';

function aggregatorFindings(st: BondStatus): Finding[] {
	const found: Finding[] = [];
	const up = st.slaves.filter(isUp);
	if (st.noAggregatorLine !== null) {
		found.push({
			severity: 'fail',
			text: 'the bond has no active aggregator: LACP never formed a bundle with the switch',
			lines: [st.noAggregatorLine],
			next: NEXT_SWITCH,
		});
		return found;
	}
	const agg = st.activeAggregator;
	if (agg) {
		if (agg.partnerMac === NO_PARTNER)
			found.push({
				severity: 'fail',
				text: `no LACP partner answers (Partner Mac Address ${NO_PARTNER}): the switch ports are not in an LACP port-channel`,
				lines: [agg.partnerMacLine],
				next: NEXT_SWITCH,
			});
		const astray = up.filter((s) => s.aggregatorId !== agg.id);
		if (astray.length > 0)
			found.push({
				severity: 'fail',
				text: `${astray.map((s) => `${s.name} is in aggregator ${s.aggregatorId ?? 'N/A'}`).join(', ')}, the bond uses aggregator ${agg.id}: ${astray.length === 1 ? 'that port carries' : 'those ports carry'} no traffic, the switch does not bundle ${astray.length === 1 ? 'it' : 'them'} with the others`,
				lines: [...astray.map((s) => s.aggregatorLine ?? s.line), ...agg.lines.slice(0, 1)],
				next: NEXT_SWITCH,
			});
		return found;
	}
	if (st.partnerHidden) {
		const ids = new Set(up.map((s) => s.aggregatorId));
		if (ids.size > 1 || ids.has(null))
			found.push({
				severity: 'fail',
				text: `the up slaves are in different aggregators (${up.map((s) => `${s.name} ${s.aggregatorId ?? 'N/A'}`).join(', ')}): the switch does not bundle them`,
				lines: up.map((s) => s.aggregatorLine ?? s.line),
				next: NEXT_SWITCH,
			});
		else if (up.length < 2)
			found.push({
				severity: 'warn',
				text: 'the partner is hidden from non-root readers and only one slave is up, so whether the switch bundles the ports cannot be told; run the check as root',
				lines: up.map((s) => s.aggregatorLine ?? s.line),
				next: NEXT_SWITCH,
			});
	}
	return found;
}

function findingsOf(st: BondStatus): Finding[] {
	const found: Finding[] = [];
	if (st.miiStatus !== 'up')
		found.push({
			severity: 'fail',
			text: `the bond itself is down (MII Status: ${st.miiStatus}): no slave has link`,
			lines: [st.miiLine],
			next: NEXT_SWITCH,
		});
	if (st.slaves.length === 0)
		found.push({ severity: 'fail', text: 'the bond has no slave at all', lines: [st.miiLine], next: NEXT_SWITCH });
	if (st.mode === '802.3ad' && st.slaves.length > 0) found.push(...aggregatorFindings(st));
	const down = st.slaves.filter((s) => !isUp(s));
	if (down.length > 0 && down.length < st.slaves.length)
		found.push({
			severity: 'warn',
			text: `${down.map((s) => s.name).join(', ')} ${down.length === 1 ? 'has' : 'have'} no link (MII Status: ${down.map((s) => s.miiStatus).join(', ')}): the bond runs without redundancy`,
			lines: down.map((s) => s.miiLine),
			next: NEXT_SWITCH,
		});
	const usesActive = st.mode === 'active-backup' || st.mode === 'balance-tlb' || st.mode === 'balance-alb';
	if (usesActive && st.miiStatus === 'up' && st.activeSlave === null && st.activeSlaveLine !== null)
		found.push({
			severity: 'fail',
			text: 'no slave is active (Currently Active Slave: None)',
			lines: [st.activeSlaveLine],
			next: NEXT_SWITCH,
		});
	return found;
}

function describe(st: BondStatus): string {
	const up = st.slaves.filter(isUp).map((s) => s.name);
	const parts = [`${st.mode}${st.hashPolicy ? `, ${st.hashPolicy}` : ''}`, `${up.length} of ${st.slaves.length} slaves up`];
	if (st.activeSlave) parts.push(`active slave ${st.activeSlave}`);
	if (st.activeAggregator) parts.push(`aggregator ${st.activeAggregator.id}, partner ${st.activeAggregator.partnerMac}`);
	if (st.partnerHidden) parts.push('partner hidden (not read as root)');
	return parts.join('; ');
}

function failures(st: BondStatus): string {
	const counted = st.slaves.filter((s) => s.linkFailureCount !== null);
	if (counted.length === 0) return '';
	const text = counted.map((s) => `${s.name} ${s.linkFailureCount}`).join(', ');
	return counted.some((s) => s.linkFailureCount! > 0)
		? ` Link failures since enslaved: ${text}; run the check again in a minute: a count that rises is a link flapping now.`
		: ` Link failures since enslaved: ${text}.`;
}

export function evaluate(obs: Observation): Verdict {
	const st = obs.status;
	const found = findingsOf(st);
	const failed = found.filter((f) => f.severity === 'fail');
	const warned = found.filter((f) => f.severity === 'warn');
	const deciding = [...new Set([st.modeLine, st.miiLine, ...found.flatMap((f) => f.lines)])].sort((a, b) => a - b);
	const evidence: Evidence[] = [evidenceOf(fileProbe(obs.bond), obs.text, deciding)];
	const facts = {
		bond: obs.bond,
		mode: st.mode,
		miiStatus: st.miiStatus,
		slaves: st.slaves.map((s) => s.name),
		slavesDown: st.slaves.filter((s) => !isUp(s)).map((s) => s.name),
		linkFailures: st.slaves.map((s) => `${s.name}=${s.linkFailureCount ?? '?'}`),
		activeSlave: st.activeSlave,
		activeAggregator: st.activeAggregator?.id ?? null,
		aggregators: st.mode === '802.3ad' ? st.slaves.map((s) => `${s.name}=${s.aggregatorId ?? 'N/A'}`) : [],
		partnerMac: st.activeAggregator?.partnerMac ?? null,
		partnerHidden: st.partnerHidden,
	};
	const head = `${obs.bond} (${describe(st)})`;
	if (failed.length > 0) {
		const fix =
			st.mode === '802.3ad'
				? [
						`# On the switch: put every port cabled to ${obs.bond} (${st.slaves.map((s) => s.name).join(', ')}) in ONE port-channel with LACP active,`,
						'# e.g. NX-OS: interface Ethernet1/1-2 ; channel-group 10 mode active',
						`cat /proc/net/bonding/${obs.bond}   # then: one Aggregator ID for all slaves, Partner Mac Address not ${NO_PARTNER}`,
					]
				: undefined;
		return fail(`${head}: ${[...failed, ...warned].map((f) => f.text).join('; ')}.${failures(st)}`, {
			evidence,
			facts,
			next: failed[0]!.next,
			...(fix ? { fix } : {}),
		});
	}
	if (warned.length > 0)
		return warn(`${head}: ${warned.map((f) => f.text).join('; ')}.${failures(st)}`, { evidence, facts, next: warned[0]!.next });
	return pass(`${head}: the bond is up with all its slaves${st.mode === '802.3ad' ? ' in one aggregator' : ''}.${failures(st)}`, {
		evidence,
		facts,
		next: NEXT_DONE,
	});
}

// --- run ---------------------------------------------------------------------------------------

/** The file is absent: no bonding on this host, or no bond by this name. */
async function absent(ctx: Ctx, bond: string, evidence: Evidence[]): Promise<Verdict> {
	const r = await ctx.exec(lsProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	if (r.code === 127) {
		evidence.push(evidenceOf(lsProbe, output, [], { code: r.code }));
		return error('CommandMissing', `${notInstalled('ls')}.`, { evidence, hint: installHint('ls', 'run `ls /proc/net/bonding` by hand') });
	}
	if (r.code !== 0) {
		evidence.push(evidenceOf(lsProbe, output, [1], { code: r.code }));
		if (isNoSuchDirectory(r.stderr))
			return skip(`No bond on this host: ${BONDING_DIR} does not exist, so the bonding driver is not loaded.`, {
				evidence,
				facts: { bond, bonds: [] },
			});
		return error('OutputNotUnderstood', exitedWith(`ls ${BONDING_DIR}`, r), {
			evidence,
			hint: 'Run `ls /proc/net/bonding` by hand: no such directory means no bonding driver; anything else is worth reading.',
		});
	}
	const names = parseBondingList(r.stdout);
	evidence.push(evidenceOf(lsProbe, output, names.ok ? names.lines : [], { code: r.code }));
	if (!names.ok) return error(codeForOutput(r.stdout), `${names.reason}.`, { evidence });
	if (names.value.length === 0)
		return skip(`No bond on this host: the bonding driver is loaded but ${BONDING_DIR} lists no bond.`, {
			evidence,
			facts: { bond, bonds: [] },
		});
	return error('InvalidParams', `No bond named ${bond} on this host; it has ${names.value.join(', ')}.`, {
		evidence,
		facts: { bond, bonds: names.value },
		hint: `Run the check again with --param bond=${names.value[0]} (or pick that bond on the page).`,
	});
}

export async function run(ctx: Ctx, params: Params): Promise<Verdict> {
	const probe = fileProbe(params.bond);
	const text = await ctx.read(probe.path);
	const evidence: Evidence[] = [];
	if (text === null) {
		evidence.push(evidenceOf(probe, ''));
		return absent(ctx, params.bond, evidence);
	}
	const p = parseProcBonding(text);
	if (!p.ok)
		return error(codeForOutput(text, { reason: p.reason }), `${probe.path}: ${p.reason}.`, { evidence: [evidenceOf(probe, text)] });
	return evaluate({ bond: params.bond, status: p.value, text });
}

export default defineCheck({
	id: 'bond.status',
	title: 'Bond mode, slaves and LACP bundle',
	description:
		'Reads /proc/net/bonding/<bond>: the mode, every slave and its MII status and link failure count, the active slave, and for 802.3ad the aggregator of each slave and the LACP partner. Fails when the bond is down, or when slaves sit in different aggregators or no partner answers (the switch side is not bundled); warns when a slave has no link.',
	platforms: ['linux'],
	mutates: false,
	nextSteps: [NEXT_SWITCH, NEXT_DONE],
	params: ParamsSchema,
	probes: (params: Params) => [fileProbe(params.bond), lsProbe],
	run,
});
