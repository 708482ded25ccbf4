/**
 * `runbook scenario record --host <h> --check <id>... [--param k=v]... [--name N] [--out FILE] [--mask] [--force]`:
 * run checks on a real host and write what they read and ran as a new training scenario
 * (src/scenarios/record.ts), then run the same checks against the file and compare the verdicts.
 *
 * Exit codes: 0 written and the replay gives the same verdicts; 1 written, but the replay differs
 * (masking changed what a parser decided, or the host answered something a scenario cannot hold);
 * 2 nothing written (bad input, host unreachable, file exists), one line on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RunbookError } from '../../core/errors.ts';
import { projectRoot } from '../../core/paths.ts';
import { loadRegistry } from '../../core/registry-node.ts';
import { loadRunbooks } from '../../core/runbooks-node.ts';
import { loadHosts } from '../../inventory/resolve.ts';
import type { Host } from '../../inventory/types.ts';
import { findHost, runPlan, type PlannedRun } from '../../runner/run.ts';
import type { VerdictRecord } from '../../runner/types.ts';
import { builtinScenarioDir } from '../../scenarios/load.ts';
import {
	compactContent,
	hostnamesIn,
	Masker,
	recordChecks,
	renderScenario,
	scenarioContent,
	validateRendered,
	type ScenarioContent,
} from '../../scenarios/record.ts';
import { runOptions, type CommonOptions } from '../options.ts';
import { planFor, printDryRun } from './plan.ts';

export interface RecordOptions extends CommonOptions {
	host: string;
	check: string[];
	param?: string[];
	name?: string;
	out?: string;
	mask?: boolean;
	force?: boolean;
}

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const kebab = (s: string) =>
	s
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '');

const invalid = (detail: string, hint?: string) => new RunbookError('InvalidArgument', detail, hint === undefined ? {} : { hint });

/** Each check takes the `--param` pairs it has a parameter for; a pair no check takes is a typo. */
function plansFor(o: RecordOptions, checks: ReturnType<Awaited<ReturnType<typeof loadRegistry>>['get']>[]): PlannedRun[] {
	const pairs = o.param ?? [];
	const known = (c: (typeof checks)[number], pair: string) => Object.hasOwn(c.params.shape, pair.slice(0, pair.indexOf('=')));
	for (const p of pairs) {
		if (!p.includes('=')) throw new RunbookError('InvalidParams', `--param "${p}" is not of the form key=value`);
		if (!checks.some((c) => known(c, p)))
			throw new RunbookError(
				'InvalidParams',
				`--param ${p}: none of ${checks.map((c) => c.id).join(', ')} takes "${p.slice(0, p.indexOf('='))}"`,
			);
	}
	return checks.map((c) =>
		planFor(
			c,
			pairs.filter((p) => known(c, p)),
		),
	);
}

/** Names that should not survive `--mask`: this host's, and every host name and address of the inventory and ~/.ssh/config. */
async function namesToMask(host: Host, o: RecordOptions): Promise<string[]> {
	const names = [host.name, host.ssh?.address, host.jump?.address];
	for (const h of await loadHosts(o.inventory === undefined ? {} : { inventory: o.inventory })) {
		if (h.source === 'inventory' || h.source === 'ssh-config') names.push(h.name, h.ssh?.address, h.jump?.address);
	}
	return names.filter((n): n is string => n !== undefined && !n.startsWith('scenario:'));
}

const paramText = (p: Record<string, unknown>) =>
	Object.entries(p)
		.map(([k, v]) => `--param ${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
		.join(' ');

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export async function scenarioRecordCommand(o: RecordOptions): Promise<number> {
	const registry = await loadRegistry();
	const ids = o.check;
	const twice = ids.find((id, i) => ids.indexOf(id) !== i);
	if (twice) throw invalid(`--check ${twice} is given twice`);
	const checks = ids.map((id) => registry.get(id));
	const plan = plansFor(o, checks);
	const opts = runOptions(o);
	const host = await findHost(o.host, opts);

	const runbooks = await loadRunbooks();
	const runbook = runbooks.find((r) => r.checks.includes(ids[0]!)) ?? runbooks.find((r) => ids.some((id) => r.checks.includes(id)));

	const masker = o.mask ? new Masker(await namesToMask(host, o)) : undefined;
	const shownHost = masker ? masker.text(host.name) : host.name;
	if (o.out !== undefined && !o.out.endsWith('.yaml')) throw invalid(`--out must name a .yaml file, got "${o.out}"`);
	const name = o.name ?? (o.out === undefined ? kebab(`${shownHost}-${runbook?.slug ?? ids[0]}`) || 'recorded' : basename(o.out, '.yaml'));
	if (!KEBAB.test(name)) throw invalid(`--name must be kebab-case (a-z, 0-9, single dashes), got "${name}"`);
	const out = resolve(o.out ?? `${name}.yaml`);
	if (basename(out) !== `${name}.yaml`)
		throw invalid(
			`--out must be a file named ${name}.yaml: a scenario's file name is its name (got ${basename(out)})`,
			'Pass --name to match, or leave --out out.',
		);
	if (existsSync(out) && !o.force) throw invalid(`${out} already exists; pass --force to overwrite it`);
	for (const dir of [builtinScenarioDir(), ...(opts.scenarioDirs ?? [])]) {
		const other = resolve(dir, `${name}.yaml`);
		if (other !== out && existsSync(other)) throw invalid(`a scenario named ${name} already exists (${other}); pick another --name`);
	}

	if (o.dryRun) {
		printDryRun(plan, host, o.timeout);
		process.stdout.write(`would write ${out}${o.mask ? ', masked' : ''}\n`);
		return 0;
	}

	const started = new Date();
	const { verdicts, calls } = await recordChecks(plan, host, opts);
	for (const n of hostnamesIn(calls)) masker?.addHostname(n);
	let content: ScenarioContent = scenarioContent(calls);
	if (masker) content = masker.content(content);
	const replayPlan = masker ? plan.map((p) => ({ ...p, params: masker.params(p.params) })) : plan;

	const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
	const ran = replayPlan.map((p) => `${p.check.id}${Object.keys(p.params).length ? ` ${paramText(p.params)}` : ''}`);
	const header = [
		`Recorded by \`runbook scenario record\` (runbook-kb ${version}) from host ${shownHost} (${host.platform}) at ${started.toISOString()}.`,
		`Checks: ${ran.join('; ')}.`,
		'TODO: this file is a draft. Replace title, brief and cause (they say TODO), then check runbook, healthy and',
		'expect against what a trainee should conclude, before putting it in content/scenarios/ or a --scenarios folder.',
		...(runbook ? [] : ['No runbook embeds these checks: without `runbook` the training page offers this host for practice only.']),
		...(masker ? ['Masked (--mask): addresses, MACs, host names and secrets were replaced, the same original by the same value.'] : []),
	];
	const scenario = {
		name,
		title: 'TODO: the situation in a few words, for the host picker',
		brief: 'TODO: what the trainee is told, the symptom as on-call first hears it',
		cause: 'TODO: the root cause a correct diagnosis names',
		...(runbook ? { runbook: runbook.slug } : {}),
		healthy: verdicts.every((v) => v.status === 'pass' || v.status === 'skip'),
		platform: host.platform,
		expect: Object.fromEntries(verdicts.map((v) => [v.check, v.status])),
		...compactContent(content),
	};
	const text = renderScenario(scenario, header);
	validateRendered(out, text, content);

	// The same checks against the file, through the scenario SSH server, as a trainee would run them.
	const tmp = await mkdtemp(join(tmpdir(), 'runbook-record-'));
	let replay: VerdictRecord[];
	try {
		await writeFile(join(tmp, `${name}.yaml`), text);
		replay = await runPlan(replayPlan, [`scenario:${name}`], { ...opts, scenarioDirs: [...(opts.scenarioDirs ?? []), tmp] });
	} finally {
		await rm(tmp, { recursive: true, force: true });
	}

	await mkdir(dirname(out), { recursive: true });
	await writeFile(out, text, { flag: o.force ? 'w' : 'wx' });

	const multi = Object.values(content.files).filter(Array.isArray).length + Object.values(content.commands).filter(Array.isArray).length;
	const w = Math.max(...ids.map((id) => id.length));
	const lines = [
		`Recorded ${count(verdicts.length, 'check')} on ${host.name}: ${count(Object.keys(content.files).length, 'file')}, ${count(Object.keys(content.commands).length, 'command')}${multi ? ` (${multi} with successive answers)` : ''}.`,
		`Wrote ${out}`,
		'  Edit title, brief and cause (marked TODO) before trainees see it.',
	];
	if (masker) {
		const s = masker.summary;
		lines.push(
			`Masked: ${count(s.ipv4.size, 'IPv4 address', 'IPv4 addresses')}, ${count(s.ipv6.size, 'IPv6 address', 'IPv6 addresses')}, ${count(s.mac.size, 'MAC')}, ${count(s.secrets, 'secret')}, ${count(s.hostnames.size, 'host name')}${s.hostnames.size ? ` (${[...s.hostnames].map(([a, b]) => `${a} -> ${b}`).join(', ')})` : ''}.`,
		);
		if (s.skippedNames.length)
			lines.push(`  Not masked, too much like ordinary words to replace everywhere: ${s.skippedNames.join(', ')}.`);
		lines.push('  Masking can change what a parser decides, so the checks were run again against the masked file:');
	} else lines.push('The checks were run again against the file:');
	let same = true;
	for (const v of verdicts) {
		const r = replay.find((x) => x.check === v.check);
		const ok = r?.status === v.status;
		if (!ok) same = false;
		lines.push(
			`  ${v.check.padEnd(w)}  host ${v.status.padEnd(5)}  file ${(r?.status ?? '-').padEnd(5)}  ${ok ? 'same' : `DIFFERENT: ${r?.summary ?? 'not run'}`}`,
		);
	}
	lines.push(
		same
			? 'Verdicts match.'
			: `Verdicts differ: the file does not reproduce the host${masker ? '; record without --mask, or edit the masked values the parser depends on' : ''}.`,
	);
	process.stdout.write(lines.join('\n') + '\n');
	return same ? 0 : 1;
}
