/**
 * Ansible YAML inventories, read as Ansible's `yaml` inventory plugin and its variable precedence read
 * them (https://docs.ansible.com/ansible/latest/inventory_guide/intro_inventory.html):
 *
 * - top-level keys are groups (usually only `all`); a group is a mapping with `vars`, `children`,
 *   `hosts` (read in that order, as the plugin does), any of them empty; children nest to any depth;
 * - host keys may carry a port (`web1:2222`, `[2001:db8::5]:2222`) and ranges (`web[01:20]`, `db-[a:c]`);
 *   a host's value is its vars or empty (`web1:`);
 * - `all` holds every host; a host in no group but `all` is in `ungrouped`; a host in a group is also in
 *   every ancestor of it;
 * - vars precedence, lowest first: `all` vars, other groups' vars sorted by (depth, ansible_group_priority,
 *   name) so inner groups win, `group_vars/all`, `group_vars/<group>` in the same order, the host's own
 *   vars, `host_vars/<host>` (the two folders beside the inventory file, as Ansible reads them);
 * - when a var and its old `ansible_ssh_*` alias are both set, the alias wins, as in Ansible's ssh
 *   connection plugin, which takes the last of its `vars:` names.
 *
 * Connection vars read: ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file (and
 * ansible_private_key_file), ansible_connection (`local`, or an SSH kind), ansible_network_os
 * (`nxos`, `cisco.nxos.nxos`, `cisco.nxos` -> platform `nxos`), and a bastion from our own
 * `runbook_jump: user@host:port`, else `-J` / `-o ProxyJump` in ansible_ssh_common_args or
 * ansible_ssh_extra_args. Other vars are never looked at, so a templated or vaulted become password does
 * not matter.
 *
 * Two kinds of failure: a file that is not an inventory (bad YAML, wrong shapes) fails as a whole with
 * `InvalidInventory '<file>: line N, <path>: <what>'`; a host whose connection vars runbook cannot use
 * (a Jinja template, a vaulted value, two-hop ProxyJump, a winrm connection ...) is kept as a problem
 * that is raised, naming the host and the var, only when that host is used.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { isAlias, isMap, isScalar, LineCounter, parseDocument, type ScalarTag, type Tags } from 'yaml';
import type { Platform } from '../core/check.ts';
import { RunbookError } from '../core/errors.ts';
import { isValidAddress, isValidUser, parsePort } from './adhoc.ts';
import type { HostEntry } from './resolve.ts';
import { applySshConfig, parseJump, SshConfigFile, type JumpParse, type SshTarget } from './ssh-config.ts';
import type { Host } from './types.ts';

/** A value tagged `!unsafe`: Ansible never templates it, so `{{` in it is literal text. */
class Unsafe {
	constructor(readonly text: string) {}
}
/** A value tagged `!vault`: encrypted; runbook has no vault password. */
class Vaulted {}

const ansibleTags: ScalarTag[] = [
	{ tag: '!unsafe', resolve: (s: string) => new Unsafe(s) },
	{ tag: '!vault', resolve: () => new Vaulted() },
];

/** PyYAML's YAML 1.1 booleans: `yes`/`on` are true, but `y`/`n` stay text (a host or group may be named `y`). */
const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

function customTags(tags: Tags): Tags {
	const out = tags.map((t) => {
		if (typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
		return { ...t, test: t.test.test('true') ? PYYAML_TRUE : PYYAML_FALSE };
	});
	return [...out, ...ansibleTags];
}

/** PyYAML, which Ansible uses, reads YAML 1.1 (`yes` is true), merges `<<:` keys, lets a repeated key win. */
const YAML_OPTIONS = { version: '1.1', merge: true, uniqueKeys: false, customTags, prettyErrors: false } as const;

type Vars = Map<string, unknown>;

interface GroupNode {
	name: string;
	vars: Vars;
	parents: Set<string>;
	children: Set<string>;
	/** Hosts listed directly under this group. */
	hosts: Set<string>;
	priority: number;
}

interface HostNode {
	name: string;
	vars: Vars;
	/** Groups that list it directly. */
	groups: Set<string>;
}

/** Vars from `group_vars/` and `host_vars/` beside the inventory, by group or host name. */
export interface VarsFiles {
	groups: Map<string, Vars>;
	hosts: Map<string, Vars>;
}

/** One inventory host, before `~/.ssh/config` fills in what it leaves unset. */
export interface AnsibleHost {
	name: string;
	/** Every group except `all`, innermost last (Ansible's precedence order). */
	groups: string[];
	platform: Platform;
	transport: 'ssh' | 'local';
	/** For `ssh`: what the inventory says. */
	target?: SshTarget;
	/** Why this host cannot be used; raised when it is. */
	problem?: RunbookError;
}

export interface AnsibleInventory {
	file: string;
	/** In the order Ansible meets them. */
	hosts: AnsibleHost[];
	/** Every group, `all` and `ungrouped` included -> its hosts, descendants' hosts included. */
	groups: Map<string, string[]>;
}

function isMapping(v: unknown): v is Record<string, unknown> {
	if (v === null || typeof v !== 'object') return false;
	const proto = Object.getPrototypeOf(v);
	return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
	if (v === null || v === undefined) return 'empty';
	if (Array.isArray(v)) return 'a list';
	if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
	if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
	if (v instanceof Vaulted) return 'a !vault value';
	if (v instanceof Unsafe) return 'an !unsafe text';
	return isMapping(v) ? 'a mapping' : 'not a mapping';
}

/** Own entries only, never `__proto__` tricks: vars are copied key by key into Maps. */
function entriesOf(v: Record<string, unknown>): [string, unknown][] {
	return Object.keys(v).map((k) => [k, v[k]]);
}

const YAML_HINT =
	'Compare with the YAML examples in the Ansible inventory guide; `ansible-inventory -i FILE --graph` shows how Ansible reads it.';

/** Parses YAML text as Ansible does, or throws `InvalidInventory` with the file, line and reason. */
function parseYaml(text: string, file: string) {
	const lineCounter = new LineCounter();
	const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
	const err = doc.errors[0];
	if (err) {
		const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
		const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
		throw new RunbookError('InvalidInventory', `${file}: ${where}${err.message.split('\n')[0]}`, { hint: YAML_HINT });
	}
	let data: unknown;
	try {
		data = doc.toJS({ maxAliasCount: 100 });
	} catch (e) {
		throw new RunbookError('InvalidInventory', `${file}: ${(e as Error).message.split('\n')[0]}`, { cause: e, hint: YAML_HINT });
	}
	/** Line of the deepest key of `path` found in the document. */
	const lineOf = (path: readonly string[]): number | undefined => {
		let node: unknown = doc.contents;
		let line: number | undefined;
		for (const seg of path) {
			if (isAlias(node)) node = node.resolve(doc);
			if (!isMap(node)) break;
			const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
			if (!pair) break;
			if (isScalar(pair.key) && pair.key.range) line = lineCounter.linePos(pair.key.range[0]).line;
			node = pair.value;
		}
		return line;
	};
	return { data, lineOf };
}

/**
 * Ansible's host range: `head[beg:end(:step)]tail`, numeric with equal-width zero padding, or single
 * letters; several ranges expand in turn.
 */
function expandRange(pattern: string): string[] | string {
	const m = /^([^[]*)\[([^\]]*)\](.*)$/.exec(pattern);
	if (!m || !m[2]?.includes(':')) return [pattern];
	const [, head = '', range = '', tail = ''] = m;
	const bounds = range.split(':');
	if (bounds.length > 3) return `range [${range}] has more than begin:end:step`;
	const beg = bounds[0] === '' ? '0' : (bounds[0] ?? '0');
	const end = bounds[1] ?? '';
	const step = bounds[2] === undefined || bounds[2] === '' ? 1 : Number(bounds[2]);
	if (end === '') return `range [${range}] has no end`;
	if (!Number.isInteger(step) || step < 1) return `range [${range}] has a bad step`;
	let seq: string[];
	const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
	if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
		const b = letters.indexOf(beg);
		const e = letters.indexOf(end);
		if (b > e) return `range [${range}] runs backwards`;
		seq = [];
		for (let i = b; i <= e; i += step) seq.push(letters.charAt(i));
	} else if (/^[0-9]+$/.test(beg) && /^[0-9]+$/.test(end)) {
		const width = beg.startsWith('0') && beg.length > 1 ? beg.length : 0;
		if (width && beg.length !== end.length) return `range [${range}] must give begin and end with the same number of digits`;
		const b = Number(beg);
		const e = Number(end);
		if (b > e) return `range [${range}] runs backwards`;
		if ((e - b) / step > 10_000) return `range [${range}] gives more than 10000 hosts`;
		seq = [];
		for (let i = b; i <= e; i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
	} else {
		return `range [${range}] is neither numbers nor single letters`;
	}
	const out: string[] = [];
	for (const s of seq) {
		const more = expandRange(`${head}${s}${tail}`);
		if (typeof more === 'string') return more;
		out.push(...more);
		if (out.length > 10_000) return `pattern ${pattern} gives more than 10000 hosts`;
	}
	return out;
}

/** A `hosts:` key: name or range pattern, with an optional `:port`. Returns a reason on failure. */
function expandHostKey(key: string): { names: string[]; port?: number } | string {
	let pattern = key;
	let port: number | undefined;
	const m = /^(.+):([0-9]+)$/.exec(key);
	// A port only if no colon is left outside brackets: `fe80::1` is an address, `[fe80::1]:22` has a port.
	if (m && !m[1]!.replace(/\[[^\]]*\]/g, '').includes(':')) {
		pattern = m[1]!;
		port = parsePort(m[2]!);
		if (port === undefined) return `port ${m[2]} is not a number from 1 to 65535`;
	}
	const v6 = /^\[([^\]]+)\]$/.exec(pattern);
	if (v6 && v6[1]!.includes(':')) return { names: [v6[1]!], ...(port === undefined ? {} : { port }) };
	const names = pattern.includes(':') && !pattern.includes('[') ? [pattern] : expandRange(pattern);
	if (typeof names === 'string') return names;
	return { names, ...(port === undefined ? {} : { port }) };
}

/** Splits ssh arguments as Ansible does (Python's shlex, POSIX mode); `undefined` on an open quote. */
export function splitShellWords(s: string): string[] | undefined {
	const out: string[] = [];
	let cur = '';
	let inWord = false;
	let i = 0;
	while (i < s.length) {
		const c = s.charAt(i);
		if (/\s/.test(c)) {
			if (inWord) out.push(cur);
			cur = '';
			inWord = false;
			i++;
			continue;
		}
		inWord = true;
		if (c === "'") {
			const j = s.indexOf("'", i + 1);
			if (j < 0) return undefined;
			cur += s.slice(i + 1, j);
			i = j + 1;
		} else if (c === '"') {
			i++;
			while (i < s.length && s.charAt(i) !== '"') {
				if (s.charAt(i) === '\\' && '"\\$`\n'.includes(s.charAt(i + 1)) && i + 1 < s.length) {
					cur += s.charAt(i + 1);
					i += 2;
				} else {
					cur += s.charAt(i);
					i++;
				}
			}
			if (i >= s.length) return undefined;
			i++;
		} else if (c === '\\') {
			cur += s.charAt(i + 1);
			i += 2;
		} else {
			cur += c;
			i++;
		}
	}
	if (inWord) out.push(cur);
	return out;
}

/**
 * The bastion in ssh arguments: `-J spec`, `-Jspec`, `-o ProxyJump=spec`, `-oProxyJump=spec`,
 * `-o 'ProxyJump spec'`, `-o ProxyJump spec`; the first wins, as in ssh. A ProxyCommand is refused.
 * `undefined` when the arguments name no bastion.
 */
export function jumpFromSshArgs(args: string): JumpParse | undefined {
	const words = splitShellWords(args);
	if (!words) return { ok: false, reason: `${JSON.stringify(args)} has an unclosed quote` };
	for (let i = 0; i < words.length; i++) {
		const w = words[i]!;
		if (w === '-J') return words[i + 1] === undefined ? { ok: false, reason: '-J has no value' } : parseJump(words[i + 1]!);
		if (w.startsWith('-J')) return parseJump(w.slice(2));
		let opt: string | undefined;
		if (w === '-o') opt = words[++i];
		else if (w.startsWith('-o')) opt = w.slice(2);
		if (opt === undefined) continue;
		const jump = /^\s*proxyjump(?:\s*=\s*|\s+|$)(.*)$/is.exec(opt);
		if (jump) {
			const value = jump[1]!.trim() === '' ? words[++i] : jump[1]!;
			return value === undefined ? { ok: false, reason: '-o ProxyJump has no value' } : parseJump(value);
		}
		const command = /^\s*proxycommand(?:\s*=\s*|\s+)(.*)$/is.exec(opt);
		if (command && command[1]!.trim().toLowerCase() !== 'none') {
			return { ok: false, reason: 'ProxyCommand is not supported; use -o ProxyJump=user@host:port or runbook_jump' };
		}
	}
	return undefined;
}

const NXOS = new Set(['nxos', 'cisco.nxos.nxos', 'cisco.nxos']);
const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh', 'network_cli', 'libssh']);
const JINJA = /\{\{|\{%|\{#/;

/** Connection settings of one host from its merged vars; throws the problem that makes it unusable. */
function connectionOf(name: string, vars: Vars, file: string): Pick<AnsibleHost, 'platform' | 'transport' | 'target'> {
	const problem = (what: string, hint?: string) =>
		new RunbookError('InvalidInventory', `${file}: host ${JSON.stringify(name)}: ${what}`, hint === undefined ? {} : { hint });
	/** The last of `keys` that is set wins (Ansible's connection plugin order). */
	const text = (...keys: string[]): { key: string; value: string } | undefined => {
		const key = keys.findLast((k) => vars.get(k) !== undefined && vars.get(k) !== null);
		if (key === undefined) return undefined;
		const v = vars.get(key);
		if (v instanceof Unsafe) return { key, value: v.text };
		if (v instanceof Vaulted) {
			throw problem(
				`${key} is vault-encrypted, and runbook has no vault password`,
				`Give ${key} for this host in plain text (host names, ports and users are not secrets).`,
			);
		}
		if (typeof v === 'number') return { key, value: String(v) };
		if (typeof v !== 'string') throw problem(`${key} is ${describe(v)}, not a text`);
		if (JINJA.test(v)) {
			throw problem(
				`${key} is a Jinja template (${JSON.stringify(v)}), which runbook does not evaluate`,
				`Write the value itself for this host, e.g. in its own vars or host_vars/${name}.yml.`,
			);
		}
		return { key, value: v };
	};

	const os = text('ansible_network_os');
	const platform: Platform = os && NXOS.has(os.value.toLowerCase()) ? 'nxos' : 'linux';

	const connection = text('ansible_connection');
	const kind = (connection?.value ?? 'ssh').toLowerCase().replace(/^ansible\.(builtin|netcommon)\./, '');
	if (kind === 'local') return { platform, transport: 'local' };
	if (!SSH_CONNECTIONS.has(kind)) {
		throw problem(`ansible_connection ${JSON.stringify(connection?.value)} is not supported; runbook connects over SSH or locally`);
	}

	const host = text('ansible_host', 'ansible_ssh_host');
	const address = host?.value ?? name;
	if (!isValidAddress(address)) {
		throw problem(
			host
				? `${host.key} ${JSON.stringify(address)} is not a host name or IP address`
				: 'has no ansible_host and its name is not a host name or IP address',
		);
	}
	const target: SshTarget = { address };

	const port = text('ansible_port', 'ansible_ssh_port');
	if (port) {
		const n = parsePort(port.value);
		if (n === undefined) throw problem(`${port.key} ${JSON.stringify(port.value)} is not a number from 1 to 65535`);
		target.port = n;
	}
	const user = text('ansible_user', 'ansible_ssh_user');
	if (user) {
		if (!isValidUser(user.value)) throw problem(`${user.key} ${JSON.stringify(user.value)} is not a valid user name`);
		target.user = user.value;
	}
	const key = text('ansible_private_key_file', 'ansible_ssh_private_key_file');
	if (key) target.identityFile = key.value;

	let jump: JumpParse | undefined;
	const ours = text('runbook_jump');
	if (ours) {
		jump = parseJump(ours.value);
		if (!jump.ok) throw problem(`runbook_jump: ${jump.reason}`);
	} else {
		for (const k of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
			const args = text(k);
			if (!args) continue;
			jump = jumpFromSshArgs(args.value);
			if (jump && !jump.ok)
				throw problem(`${k}: ${jump.reason}`, 'runbook connects through one bastion: set runbook_jump: user@bastion:port for this host.');
			if (jump) break;
		}
	}
	if (jump?.ok) target.jump = jump.jump;
	return { platform, transport: 'ssh', target };
}

/**
 * Reads an inventory's text (and the vars files beside it, if given). Throws `InvalidInventory` when
 * the file is not an inventory; hosts that cannot be used carry their `problem`.
 */
export function readAnsibleInventory(text: string, file: string, varsFiles?: VarsFiles): AnsibleInventory {
	const lines = text.split('\n');
	const firstIndex = lines.findIndex((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
	const firstLine = lines[firstIndex];
	if (firstLine !== undefined && /^\s*\[[^\]]*\]\s*$/.test(firstLine)) {
		throw new RunbookError(
			'InvalidInventory',
			`${file}: line ${firstIndex + 1}: this looks like an INI inventory (${firstLine.trim()}); runbook reads the YAML format`,
			{
				hint: `Convert it once: ansible-inventory -i ${file} --list --yaml > inventory.yaml`,
			},
		);
	}
	const { data, lineOf } = parseYaml(text, file);
	const fail = (path: readonly string[], what: string, hint?: string): never => {
		const line = lineOf(path);
		const where = [line === undefined ? undefined : `line ${line}`, path.length ? path.join('.') : undefined].filter(Boolean).join(', ');
		throw new RunbookError('InvalidInventory', `${file}: ${where ? `${where}: ` : ''}${what}`, { hint: hint ?? YAML_HINT });
	};

	const groups = new Map<string, GroupNode>();
	const hosts = new Map<string, HostNode>();
	const group = (name: string): GroupNode => {
		let g = groups.get(name);
		if (!g) {
			g = { name, vars: new Map(), parents: new Set(), children: new Set(), hosts: new Set(), priority: 1 };
			groups.set(name, g);
		}
		return g;
	};
	group('all');
	group('ungrouped');

	const isDescendant = (of: string, name: string): boolean => {
		for (const c of groups.get(of)?.children ?? []) if (c === name || isDescendant(c, name)) return true;
		return false;
	};

	const parseGroup = (name: string, value: unknown, path: string[], seen: unknown[]): void => {
		const g = group(name);
		if (value === null || value === undefined) return;
		if (!isMapping(value)) {
			fail(
				path,
				`is ${describe(value)}; a group is a mapping with hosts:, children: and vars:`,
				Array.isArray(value) ? 'Write the hosts under hosts:, each as a key ending in ":" (web1:).' : undefined,
			);
			return;
		}
		if (seen.includes(value)) fail(path, 'contains itself through a YAML alias');
		for (const key of Object.keys(value)) {
			if (key !== 'vars' && key !== 'children' && key !== 'hosts') {
				fail(
					[...path, key],
					'is not a group key; a group has only hosts:, children: and vars:',
					`If ${JSON.stringify(key)} is a host, put it under hosts:; if a group, under children:.`,
				);
			}
		}
		const vars = value.vars;
		if (vars !== null && vars !== undefined) {
			if (!isMapping(vars)) fail([...path, 'vars'], `is ${describe(vars)}; vars is a mapping of variable names to values`);
			for (const [k, v] of entriesOf(vars as Record<string, unknown>)) {
				g.vars.set(k, v);
				if (k === 'ansible_group_priority') {
					const p = typeof v === 'number' ? v : Number(v);
					if (!Number.isInteger(p)) fail([...path, 'vars', k], `is ${describe(v)}, not a whole number`);
					g.priority = p;
				}
			}
		}
		const children = value.children;
		if (children !== null && children !== undefined) {
			if (!isMapping(children)) {
				fail(
					[...path, 'children'],
					`is ${describe(children)}; children is a mapping of group names, each with its own hosts:, children:, vars:`,
					Array.isArray(children) ? 'Write each child group as a key ending in ":" (web:).' : undefined,
				);
			}
			for (const [child, childValue] of entriesOf(children as Record<string, unknown>)) {
				const p = [...path, 'children', child];
				if (child === 'all') fail(p, '`all` contains every group and cannot be a child');
				parseGroup(child, childValue, p, [...seen, value]);
				if (child === name || isDescendant(child, name)) fail(p, `makes a loop: ${name} would be inside itself`);
				g.children.add(child);
				group(child).parents.add(name);
			}
		}
		const hostMap = value.hosts;
		if (hostMap !== null && hostMap !== undefined) {
			if (!isMapping(hostMap)) {
				fail(
					[...path, 'hosts'],
					`is ${describe(hostMap)}; hosts is a mapping of host names to their vars`,
					Array.isArray(hostMap) ? 'Write each host as a key ending in ":", e.g. `web1:` or `web1: {ansible_host: 10.0.0.1}`.' : undefined,
				);
			}
			for (const [key, hostVars] of entriesOf(hostMap as Record<string, unknown>)) {
				const p = [...path, 'hosts', key];
				if (hostVars !== null && hostVars !== undefined && !isMapping(hostVars)) {
					fail(p, `is ${describe(hostVars)}; a host's value is its vars, e.g. ${key}: {ansible_host: 10.0.0.1}`);
				}
				const expanded = expandHostKey(key);
				if (typeof expanded === 'string') return fail(p, expanded);
				for (const hostName of expanded.names) {
					let h = hosts.get(hostName);
					if (!h) {
						h = { name: hostName, vars: new Map(), groups: new Set() };
						hosts.set(hostName, h);
					}
					h.groups.add(name);
					g.hosts.add(hostName);
					if (expanded.port !== undefined) h.vars.set('ansible_port', expanded.port);
					for (const [k, v] of entriesOf((hostVars ?? {}) as Record<string, unknown>)) h.vars.set(k, v);
				}
			}
		}
	};

	if (data !== null && data !== undefined) {
		if (!isMapping(data)) fail([], `the top level is ${describe(data)}; an inventory is a mapping of groups, starting with all:`);
		const top = data as Record<string, unknown>;
		if (typeof top.plugin === 'string') {
			fail(
				['plugin'],
				`is an inventory plugin configuration (plugin: ${top.plugin}); runbook reads static YAML inventories`,
				`Export it once: ansible-inventory -i ${file} --list --yaml > inventory.yaml`,
			);
		}
		for (const [name, value] of entriesOf(top)) parseGroup(name, value, [name], []);
	}

	// Groups without a parent are children of `all`; depth is the longest path from `all`.
	for (const g of groups.values()) {
		if (g.name !== 'all' && g.parents.size === 0) {
			g.parents.add('all');
			group('all').children.add(g.name);
		}
	}
	const depths = new Map<string, number>();
	const depth = (name: string): number => {
		if (name === 'all') return 0;
		let d = depths.get(name);
		if (d === undefined) {
			d = Math.max(...[...(groups.get(name)?.parents ?? [])].map((p) => depth(p) + 1));
			depths.set(name, d);
		}
		return d;
	};
	const byPrecedence = (a: string, b: string): number => {
		const ga = groups.get(a)!;
		const gb = groups.get(b)!;
		return depth(a) - depth(b) || ga.priority - gb.priority || (a < b ? -1 : a > b ? 1 : 0);
	};

	const members = new Map<string, string[]>([...groups.keys()].map((n) => [n, []]));
	const out: AnsibleHost[] = [];
	for (const h of hosts.values()) {
		const direct = [...h.groups].filter((n) => n !== 'all' && n !== 'ungrouped');
		const all = new Set<string>(['all']);
		const addWithAncestors = (n: string) => {
			if (all.has(n)) return;
			all.add(n);
			for (const p of groups.get(n)?.parents ?? []) addWithAncestors(p);
		};
		for (const n of direct.length ? direct : ['ungrouped']) addWithAncestors(n);
		const ordered = [...all].sort(byPrecedence);
		for (const n of ordered) members.get(n)!.push(h.name);

		const vars: Vars = new Map();
		const merge = (src: Vars | undefined) => {
			for (const [k, v] of src ?? []) vars.set(k, v);
		};
		for (const n of ordered) merge(groups.get(n)!.vars);
		merge(varsFiles?.groups.get('all'));
		for (const n of ordered) if (n !== 'all') merge(varsFiles?.groups.get(n));
		merge(h.vars);
		merge(varsFiles?.hosts.get(h.name));

		const groupNames = ordered.filter((n) => n !== 'all');
		try {
			out.push({ name: h.name, groups: groupNames, ...connectionOf(h.name, vars, file) });
		} catch (e) {
			if (!(e instanceof RunbookError)) throw e;
			out.push({ name: h.name, groups: groupNames, platform: 'linux', transport: 'ssh', problem: e });
		}
	}
	return { file, hosts: out, groups: members };
}

/** The host model for one inventory host, with `config` filling what the inventory leaves unset. */
export function ansibleHostEntry(h: AnsibleHost, config: SshConfigFile, file: string): HostEntry {
	if (h.problem) return { name: h.name, problem: h.problem };
	const base = { name: h.name, source: 'inventory', platform: h.platform, groups: h.groups } as const;
	if (h.transport === 'local' || !h.target) return { name: h.name, host: { ...base, transport: 'local' } };
	try {
		const { ssh, jump } = applySshConfig(config, h.target, `${file}: host ${JSON.stringify(h.name)}`);
		return { name: h.name, host: { ...base, transport: 'ssh', ssh, ...(jump ? { jump } : {}) } };
	} catch (e) {
		if (e instanceof RunbookError) return { name: h.name, problem: e };
		throw e;
	}
}

/**
 * The hosts of an inventory text, as the inventory alone defines them (no `~/.ssh/config`, no vars
 * folders). Strict: the first host that cannot be used throws its `InvalidInventory`.
 */
export function parseAnsibleInventory(text: string, file: string): Host[] {
	const inv = readAnsibleInventory(text, file);
	const empty = SshConfigFile.empty();
	return inv.hosts.map((h) => {
		const entry = ansibleHostEntry(h, empty, file);
		if (entry.problem) throw entry.problem;
		return entry.host;
	});
}

const VARS_EXTENSIONS = new Set(['', '.yml', '.yaml', '.json']);

async function readVarsFile(path: string, label: string): Promise<Vars | undefined> {
	const text = await readFile(path, 'utf8');
	// Vault-encrypted files hold secrets, not connection settings; without the password they are skipped.
	if (text.startsWith('$ANSIBLE_VAULT;')) return undefined;
	const { data, lineOf } = parseYaml(text, label);
	if (data === null || data === undefined) return undefined;
	if (!isMapping(data)) {
		const line = lineOf([]);
		throw new RunbookError(
			'InvalidInventory',
			`${label}: ${line ? `line ${line}: ` : ''}is ${describe(data)}; a vars file is a mapping of variable names to values`,
		);
	}
	return new Map(entriesOf(data));
}

/** Files of a vars folder entry: `name`, `name.yml` ... or every file under the folder `name/`, sorted. */
async function collectVars(dir: string, names: ReadonlySet<string>): Promise<Map<string, Vars>> {
	const out = new Map<string, Vars>();
	let entries;
	try {
		entries = await readdir(dir, { withFileTypes: true });
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return out;
		throw e;
	}
	const add = (name: string, vars: Vars | undefined) => {
		if (!vars) return;
		const into = out.get(name) ?? new Map();
		for (const [k, v] of vars) into.set(k, v);
		out.set(name, into);
	};
	const walk = async (path: string): Promise<string[]> => {
		const found: string[] = [];
		for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
			if (e.name.startsWith('.')) continue;
			const p = join(path, e.name);
			if (e.isDirectory()) found.push(...(await walk(p)));
			else if (VARS_EXTENSIONS.has(extname(e.name))) found.push(p);
		}
		return found;
	};
	for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
		if (e.name.startsWith('.')) continue;
		const path = join(dir, e.name);
		if (e.isDirectory()) {
			if (!names.has(e.name)) continue;
			for (const f of await walk(path)) add(e.name, await readVarsFile(f, f));
		} else {
			const ext = extname(e.name);
			const name = VARS_EXTENSIONS.has(ext) ? e.name.slice(0, e.name.length - ext.length) : undefined;
			if (name !== undefined && names.has(name)) add(name, await readVarsFile(path, path));
			else if (names.has(e.name)) add(e.name, await readVarsFile(path, path));
		}
	}
	return out;
}

/**
 * Reads the inventory file at `path` and the `group_vars/` and `host_vars/` folders beside it.
 * Throws `InvalidInventory` when the file is missing, unreadable or not an inventory.
 */
export async function loadAnsibleInventory(path: string): Promise<AnsibleInventory> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (e) {
		const code = (e as NodeJS.ErrnoException).code;
		const why =
			code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder; give the inventory YAML file itself' : (e as Error).message;
		throw new RunbookError('InvalidInventory', `${path}: ${why}`, {
			cause: e,
			hint: 'Pass --inventory FILE or set RUNBOOK_INVENTORY to an Ansible YAML inventory.',
		});
	}
	const first = readAnsibleInventory(text, path);
	const dir = dirname(path);
	let groupVars: Map<string, Vars>;
	let hostVars: Map<string, Vars>;
	try {
		groupVars = await collectVars(join(dir, 'group_vars'), new Set(first.groups.keys()));
		hostVars = await collectVars(join(dir, 'host_vars'), new Set(first.hosts.map((h) => h.name)));
	} catch (e) {
		if (e instanceof RunbookError) throw e;
		throw new RunbookError('InvalidInventory', `${path}: reading its group_vars/host_vars: ${(e as Error).message}`, { cause: e });
	}
	if (groupVars.size === 0 && hostVars.size === 0) return first;
	return readAnsibleInventory(text, path, { groups: groupVars, hosts: hostVars });
}
