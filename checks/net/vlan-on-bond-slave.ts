/**
 * net.vlan-on-bond-slave: does a VLAN device sit on a bond slave, where it steals that VLAN's frames
 * from the bond?
 *
 * Failure (DOMAIN.md section 4, verified in net/core/dev.c __netif_receive_skb_core and
 * net/8021q/vlan_core.c vlan_do_receive): a tagged frame is matched against the VLAN devices of the
 * device it arrived on BEFORE the bond's rx_handler moves it to the bond. With `eth0.700` on slave
 * `eth0`, every VLAN-700 frame arriving on eth0 goes to eth0.700 when it is UP, and is freed when it
 * is DOWN; `bond0.700` never sees it. Which replies arrive on that slave depends on the switch's LAG
 * hash (802.3ad, balance-xor) or on which slave is active (active-backup), so only some neighbours
 * stay INCOMPLETE. Shutting the device down is not enough; it must be deleted.
 *
 * Runs `ip -d -j link show`. iproute2 before 4.14 (CentOS/RHEL 7) has no `-j` and answers
 * `Option "-j" is unknown, try "ip -help".` (exit 255); then it runs `ip -d link show` and reads
 * `/proc/net/vlan/config` (name, VLAN id, parent; net/8021q/vlanproc.c) and each
 * `/proc/net/bonding/<bond>` that `ls /proc/net/bonding` lists (its `Slave Interface:` lines), so a
 * VLAN or a slave that old iproute2 does not describe is still found.
 *
 * Rules, all in `evaluate`:
 * - fail: any VLAN device whose parent is a bond slave (`master` a bond, `info_slave_kind` bond,
 *   `bond_slave` detail line, or listed under `Slave Interface:`), UP or DOWN;
 * - skip: no bond on the host; pass otherwise (a VLAN on the bond itself, `bond0.700`, is right).
 * The verdict's diagram draws each bond with its VLANs, slaves and the VLANs on the slaves, the
 * stray ones marked.
 *
 * Serves content/runbooks/bond-vlan-stray-subinterface.mdx, step "Look for a VLAN device on a bond
 * slave".
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
	skip,
	type Ctx,
	type Diagram,
	type Evidence,
	type ExecProbe,
	type Parsed,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { isNoSuchDirectory, parseBondingList, parseProcBonding } from '../../src/core/parse/bonding.ts';
import { jsonUnsupported, parseIpLinkJson, parseIpLinkText, type Link, type LinkGraph } from '../../src/core/parse/ip-link.ts';
import {
	codeForOutput,
	commandFailed,
	decide,
	execWhole,
	exitedWith,
	installHint,
	notInstalled,
	Undecided,
} from '../../src/core/parse/verdicts.ts';

// --- params ------------------------------------------------------------------------------------

/** No parameters: every VLAN device and every bond of the host is looked at. */
export const ParamsSchema = z.strictObject({});
export type Params = z.infer<typeof ParamsSchema>;

// --- probes ------------------------------------------------------------------------------------

const EXEC_TIMEOUT_MS = 10_000;
const NEXT_DELETE = '#delete-the-stray-device';
const NEXT_BOND = '#check-the-bond-itself';
export const VLAN_CONFIG = '/proc/net/vlan/config';
export const BONDING_DIR = '/proc/net/bonding';

export const jsonProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', '-d', '-j', 'link', 'show'],
	why: 'every interface with its kind, parent (link), master and VLAN id, as JSON',
	timeoutMs: EXEC_TIMEOUT_MS,
};
export const textProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ip', '-d', 'link', 'show'],
	why: 'only when iproute2 has no -j (CentOS/RHEL 7): the same, as text',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const vlanConfigProbe: ReadProbe = {
	kind: 'read',
	path: VLAN_CONFIG,
	why: 'with the text form: every VLAN device, its id and parent (absent: the 8021q module is not loaded, so there is no VLAN)',
};
const lsProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ls', BONDING_DIR],
	why: 'with the text form: the bonds (no directory: the bonding driver is not loaded)',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const bondProbe = (bond: string): ReadProbe => ({
	kind: 'read',
	path: `${BONDING_DIR}/${bond}`,
	why: bond === 'BOND' ? 'with the text form, for each bond ls listed: its "Slave Interface:" lines' : `the slaves of ${bond}`,
});

// --- parsers -----------------------------------------------------------------------------------

export interface VlanConfigRow {
	name: string;
	id: number;
	parent: string;
	line: number;
}

/**
 * `/proc/net/vlan/config`: a header, a `Name-Type:` line, then `%-15s| %d  | %s` rows (vlanproc.c),
 * e.g.
 * ```
 * VLAN Dev name	 | VLAN ID
 * Name-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD
 * eth5.2         | 2  | eth5
 * ```
 */
export function parseVlanConfig(text: string): Parsed<VlanConfigRow[]> {
	if (text.trim() === '') return notUnderstood(`${VLAN_CONFIG} is empty`);
	if (!text.endsWith('\n')) return notUnderstood(`${VLAN_CONFIG} does not end with a newline, so it was cut`);
	const lines = text.split('\n').slice(0, -1);
	if (!/^VLAN Dev name\s*\|\s*VLAN ID$/.test(lines[0]!))
		return notUnderstood(`${VLAN_CONFIG} line 1 is not the "VLAN Dev name | VLAN ID" header`);
	const rows: VlanConfigRow[] = [];
	for (const [i, line] of lines.entries()) {
		if (i === 0 || (i === 1 && line.startsWith('Name-Type:'))) continue;
		const m = /^(\S{1,15})\s*\| (\d{1,4})\s+\| (\S{1,15})$/.exec(line);
		if (!m) return notUnderstood(`${VLAN_CONFIG} line ${i + 1} is not "name | id | parent": ${JSON.stringify(line.slice(0, 80))}`);
		rows.push({ name: m[1]!, id: Number(m[2]), parent: m[3]!, line: i + 1 });
	}
	return parsed(
		rows,
		rows.map((r) => r.line),
	);
}

// --- the model ---------------------------------------------------------------------------------

/** What the /proc fallback adds to the text listing. */
export interface ProcView {
	vlanConfig: VlanConfigRow[] | null;
	/** Bond name -> its slaves and the line of each `Slave Interface:`, from /proc/net/bonding. */
	bondSlaves: Record<string, { slave: string; line: number }[]>;
}

export interface VlanDevice {
	name: string;
	id: number | null;
	parent: string | null;
	/** Administratively up (the IFF_UP that vlan_do_receive tests); null when only /proc knows it. */
	up: boolean | null;
}

export interface Bond {
	name: string;
	mode: string | null;
	slaves: string[];
	up: boolean | null;
}

export interface Stray extends VlanDevice {
	parent: string;
	bond: string;
	/** The bond carries a VLAN with the same id: the frames it should get are the ones taken. */
	sameIdOnBond: string | null;
}

export interface Topology {
	bonds: Bond[];
	vlans: VlanDevice[];
	strays: Stray[];
}

const isUp = (l: Link | undefined) => (l ? l.flags.includes('UP') : null);

/** Bonds, VLANs and the strays among them, from the listing and (text form) /proc. */
export function topologyOf(graph: LinkGraph, proc: ProcView | null): Topology {
	const byName = new Map(graph.links.map((l) => [l.ifname, l]));
	const bondNames = new Set<string>();
	for (const l of graph.links) {
		if (l.kind === 'bond') bondNames.add(l.ifname);
		if (l.slaveKind === 'bond' && l.master) bondNames.add(l.master);
	}
	for (const b of Object.keys(proc?.bondSlaves ?? {})) bondNames.add(b);
	const slaveOf = new Map<string, string>();
	for (const l of graph.links) {
		if (!l.master || !bondNames.has(l.master)) continue;
		// The SLAVE flag (IFF_SLAVE) is set by the bonding driver; old iproute2 prints no bond_slave line.
		if (l.slaveKind === 'bond' || (l.slaveKind === null && l.flags.includes('SLAVE'))) slaveOf.set(l.ifname, l.master);
	}
	for (const [bond, slaves] of Object.entries(proc?.bondSlaves ?? {})) for (const s of slaves) slaveOf.set(s.slave, bond);

	const vlans = new Map<string, VlanDevice>();
	for (const l of graph.links) {
		if (l.kind !== 'vlan') continue;
		vlans.set(l.ifname, { name: l.ifname, id: l.vlan?.id ?? null, parent: l.link, up: isUp(l) });
	}
	for (const row of proc?.vlanConfig ?? []) {
		const known = vlans.get(row.name);
		vlans.set(row.name, { name: row.name, id: row.id, parent: known?.parent ?? row.parent, up: known?.up ?? isUp(byName.get(row.name)) });
	}
	const bonds: Bond[] = [...bondNames].sort().map((name) => {
		const l = byName.get(name);
		return {
			name,
			mode: l?.bond?.mode ?? null,
			slaves: [...slaveOf].filter(([, b]) => b === name).map(([s]) => s),
			up: isUp(l),
		};
	});
	const vlanList = [...vlans.values()];
	const strays: Stray[] = [];
	for (const v of vlanList) {
		const bond = v.parent === null ? undefined : slaveOf.get(v.parent);
		if (bond === undefined || v.parent === null) continue;
		const twin = vlanList.find((o) => o.parent === bond && o.id !== null && o.id === v.id);
		strays.push({ ...v, parent: v.parent, bond, sameIdOnBond: twin?.name ?? null });
	}
	return { bonds, vlans: vlanList, strays };
}

// --- evaluate ----------------------------------------------------------------------------------

export interface Observation {
	graph: LinkGraph;
	proc: ProcView | null;
	evidence: Evidence[];
	/** Index in `evidence` of the interface listing. */
	listing: number;
	/** Index in `evidence` of /proc/net/vlan/config, when read. */
	vlanConfigAt: number | null;
	/** Index in `evidence` of each /proc/net/bonding file read. */
	bondFileAt: Record<string, number>;
}

const vlanLabel = (v: VlanDevice) => `vlan ${v.id ?? '?'}, ${v.up === null ? 'state unknown' : v.up ? 'UP' : 'DOWN'}`;

/** The interface tree of each bond: VLANs on the bond, then each slave with the VLANs on it. */
export function treeOf(top: Topology): Diagram {
	const lines: string[] = [];
	const marked: number[] = [];
	const strayNames = new Set(top.strays.map((s) => s.name));
	for (const bond of top.bonds) {
		lines.push(`${bond.name} (bond${bond.mode ? ` ${bond.mode}` : ''}${bond.up === null ? '' : bond.up ? ', UP' : ', DOWN'})`);
		const children: { label: string; kids: { label: string; stray: boolean }[] }[] = [];
		for (const v of top.vlans.filter((x) => x.parent === bond.name)) children.push({ label: `${v.name} (${vlanLabel(v)})`, kids: [] });
		for (const s of bond.slaves) {
			const kids = top.vlans
				.filter((x) => x.parent === s)
				.map((v) => ({
					label: `${v.name} (${vlanLabel(v)})${strayNames.has(v.name) ? `  <- stray: takes VLAN ${v.id ?? '?'} frames arriving on ${s}` : ''}`,
					stray: strayNames.has(v.name),
				}));
			children.push({ label: `${s} (slave)`, kids });
		}
		for (const [i, c] of children.entries()) {
			const last = i === children.length - 1;
			lines.push(`${last ? '└─' : '├─'} ${c.label}`);
			for (const [k, kid] of c.kids.entries()) {
				lines.push(`${last ? '   ' : '│  '}${k === c.kids.length - 1 ? '└─' : '├─'} ${kid.label}`);
				if (kid.stray) marked.push(lines.length);
			}
		}
	}
	return { title: 'Interfaces on the bond (stray VLAN devices marked)', lines, marked };
}

/** Lines of the listing that show a device: its header, VLAN or bond line, and slave line. */
function linesFor(graph: LinkGraph, names: Iterable<string>): number[] {
	const want = new Set(names);
	const out: number[] = [];
	for (const l of graph.links) {
		if (!want.has(l.ifname)) continue;
		out.push(...l.lines);
		if (l.slaveLine !== null) out.push(l.slaveLine);
	}
	return out;
}

const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

export function evaluate(obs: Observation): Verdict {
	const top = topologyOf(obs.graph, obs.proc);
	const evidence = obs.evidence.map((e) => ({ ...e }));
	const listing = evidence[obs.listing]!;
	const source = obs.proc === null ? 'ip -d -j link show' : `ip -d link show, ${VLAN_CONFIG}, ${BONDING_DIR}`;
	const facts = {
		source,
		bonds: top.bonds.map((b) => b.name),
		bondSlaves: top.bonds.map((b) => `${b.name}: ${b.slaves.join(' ') || '(none)'}`),
		vlans: top.vlans.map(
			(v) => `${v.name}: vlan ${v.id ?? '?'} on ${v.parent ?? '?'}, ${v.up === null ? 'state unknown' : v.up ? 'up' : 'down'}`,
		),
		strays: top.strays.map((s) => s.name),
	};
	if (top.bonds.length === 0) {
		listing.lines = [];
		return skip('No bond on this host, so no VLAN device can sit on a bond slave.', { evidence, facts });
	}
	const shown =
		top.strays.length > 0
			? top.strays.flatMap((s) => [s.name, s.parent, s.bond])
			: [...top.bonds.map((b) => b.name), ...top.vlans.map((v) => v.name)];
	listing.lines = uniq(linesFor(obs.graph, shown));
	if (obs.vlanConfigAt !== null) {
		const names = new Set(top.strays.length > 0 ? top.strays.map((s) => s.name) : top.vlans.map((v) => v.name));
		evidence[obs.vlanConfigAt]!.lines = (obs.proc?.vlanConfig ?? []).filter((r) => names.has(r.name)).map((r) => r.line);
	}
	for (const [bond, at] of Object.entries(obs.bondFileAt)) {
		const parents = new Set(top.strays.map((s) => s.parent));
		evidence[at]!.lines = (obs.proc?.bondSlaves[bond] ?? [])
			.filter((s) => top.strays.length === 0 || parents.has(s.slave))
			.map((s) => s.line);
	}
	const diagram = treeOf(top);
	if (top.strays.length === 0) {
		const onBonds = top.vlans.filter((v) => top.bonds.some((b) => b.name === v.parent));
		return pass(
			`No VLAN device sits on a bond slave (${top.bonds.map((b) => `${b.name}: ${b.slaves.join(', ') || 'no slave'}`).join('; ')}).${onBonds.length > 0 ? ` VLANs on the bond, as they should be: ${onBonds.map((v) => v.name).join(', ')}.` : ''}`,
			{ evidence, facts, diagram, next: NEXT_BOND },
		);
	}
	const told = top.strays.map((s) => {
		const state = s.up === null ? '' : s.up ? ', UP' : ', DOWN';
		const fate =
			s.up === false ? 'and dropped there because it is down' : s.up === true ? 'instead of the bond' : 'before the bond sees it';
		const twin = s.sameIdOnBond ? `; ${s.sameIdOnBond} never gets them` : '';
		return `${s.name} (VLAN ${s.id ?? '?'}${state}) sits on ${s.parent}, a slave of ${s.bond}: every VLAN-${s.id ?? '?'} frame arriving on ${s.parent} is handed to it ${fate}${twin}`;
	});
	const fix = top.strays.flatMap((s) => [
		`ip link del ${s.name}`,
		`# then remove what recreates ${s.name} at boot: /etc/sysconfig/network-scripts/ifcfg-${s.name}, its NetworkManager profile (nmcli -f NAME,DEVICE connection show; nmcli connection delete <NAME>), or its vlans: entry in /etc/netplan/*.yaml`,
	]);
	fix.push('# ip link set <dev> down is not enough: a DOWN VLAN device still takes its frames and drops them');
	return fail(
		`${told.join('. ')}. Destinations whose replies the switch sends down ${[...new Set(top.strays.map((s) => s.parent))].join(', ')} stay INCOMPLETE; delete the device.`,
		{ evidence, facts, diagram, fix, next: NEXT_DELETE },
	);
}

// --- run ---------------------------------------------------------------------------------------

const execIp = (ctx: Ctx, probe: ExecProbe, evidence: Evidence[]) => execWhole(ctx, probe, evidence, EXEC_TIMEOUT_MS, installHint('ip'));

/** Text form: the listing plus what /proc says about VLANs and bond slaves. */
async function observeText(ctx: Ctx, evidence: Evidence[]): Promise<Observation> {
	const r = await execIp(ctx, textProbe, evidence);
	if (r.code !== 0) throw new Undecided(commandFailed('ip -d link show', r, { evidence }));
	const graph = parseIpLinkText(r.stdout);
	if (!graph.ok) throw new Undecided(error(codeForOutput(r.stdout, { reason: graph.reason }), `${graph.reason}.`, { evidence }));
	const listing = r.at;

	let vlanConfig: VlanConfigRow[] | null = null;
	let vlanConfigAt: number | null = null;
	const vc = await ctx.read(vlanConfigProbe.path);
	evidence.push(evidenceOf(vlanConfigProbe, vc ?? ''));
	if (vc !== null) {
		vlanConfigAt = evidence.length - 1;
		const p = parseVlanConfig(vc);
		if (!p.ok) throw new Undecided(error(codeForOutput(vc, { reason: p.reason }), `${p.reason}.`, { evidence }));
		vlanConfig = p.value;
	}

	const ls = await ctx.exec(lsProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	evidence.push(evidenceOf(lsProbe, ls.stdout + ls.stderr, [], { code: ls.code }));
	let bonds: string[] = [];
	if (ls.code === 127) throw new Undecided(error('CommandMissing', `${notInstalled('ls')}.`, { evidence, hint: installHint('ls') }));
	if (ls.code === 0) {
		const names = parseBondingList(ls.stdout);
		if (!names.ok) throw new Undecided(error(codeForOutput(ls.stdout, { reason: names.reason }), `${names.reason}.`, { evidence }));
		bonds = names.value;
	} else if (!isNoSuchDirectory(ls.stderr)) {
		throw new Undecided(
			error('OutputNotUnderstood', exitedWith(`ls ${BONDING_DIR}`, ls), {
				evidence,
				hint: 'Run `ls /proc/net/bonding` by hand: no such directory means no bonding driver; anything else is worth reading.',
			}),
		);
	}

	const bondSlaves: ProcView['bondSlaves'] = {};
	const bondFileAt: Record<string, number> = {};
	for (const bond of bonds) {
		const probe = bondProbe(bond);
		const text = await ctx.read(probe.path);
		evidence.push(evidenceOf(probe, text ?? ''));
		// Gone between ls and cat: the bond was just deleted; the listing still tells its slaves.
		if (text === null) continue;
		const p = parseProcBonding(text);
		if (!p.ok) throw new Undecided(error(codeForOutput(text, { reason: p.reason }), `${probe.path}: ${p.reason}.`, { evidence }));
		bondSlaves[bond] = p.value.slaves.map((s) => ({ slave: s.name, line: s.line }));
		bondFileAt[bond] = evidence.length - 1;
	}
	return { graph: graph.value, proc: { vlanConfig, bondSlaves }, evidence, listing, vlanConfigAt, bondFileAt };
}

async function observe(ctx: Ctx): Promise<Observation> {
	const evidence: Evidence[] = [];
	const r = await execIp(ctx, jsonProbe, evidence);
	if (r.code !== 0) {
		if (jsonUnsupported(r.stderr)) return observeText(ctx, evidence);
		throw new Undecided(commandFailed('ip -d -j link show', r, { evidence }));
	}
	const graph = parseIpLinkJson(r.stdout);
	if (!graph.ok) throw new Undecided(error(codeForOutput(r.stdout, { reason: graph.reason }), `${graph.reason}.`, { evidence }));
	return { graph: graph.value, proc: null, evidence, listing: r.at, vlanConfigAt: null, bondFileAt: {} };
}

export function run(ctx: Ctx): Promise<Verdict> {
	return decide(async () => evaluate(await observe(ctx)));
}

export default defineCheck({
	id: 'net.vlan-on-bond-slave',
	title: 'VLAN device on a bond slave',
	description:
		"Lists the interfaces (ip -d -j link show; on iproute2 without JSON, ip -d link show with /proc/net/vlan/config and /proc/net/bonding) and fails on any VLAN device whose parent is enslaved to a bond, up or down: the kernel hands that VLAN's frames arriving on the slave to it before the bond sees them. Draws the bond's interface tree with the stray device marked.",
	platforms: ['linux'],
	mutates: false,
	nextSteps: [NEXT_DELETE, NEXT_BOND],
	params: ParamsSchema,
	probes: () => [jsonProbe, textProbe, vlanConfigProbe, lsProbe, bondProbe('BOND')],
	run,
});
