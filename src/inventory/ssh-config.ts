/**
 * `~/.ssh/config`, read with the `ssh-config` package, in two roles:
 * - every `Host` alias without wildcards or negation is a host (source `ssh-config`);
 * - for any SSH host, whatever its source, the config fills in what the source left unset, as `ssh`
 *   does when Ansible runs it: HostName, Port, User, IdentityFile, ProxyJump. Settings the source
 *   gave win, like ssh's command-line options win over the config.
 *
 * Limits, each on purpose:
 * - `Include` is not followed (the package does not, and hosts in included files are not listed).
 * - `Match exec` is never run (`matchExec: false`): listing hosts must not execute commands.
 * - `CanonicalizeHostName yes` with `CanonicalDomains` makes the package run `nslookup`; left as is.
 * - IdentityFile entries that do not exist are skipped, as ssh skips them.
 * - One bastion only: a ProxyJump with several hops, a bastion that itself needs a ProxyJump, or a
 *   ProxyCommand makes that host unusable, with an error when it is used; the file still loads, so one
 *   such host does not hide the others.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { RunbookError } from '../core/errors.ts';
import { isValidAddress, isValidUser, parseEndpoint, parsePort, type EndpointSpec } from './adhoc.ts';
import type { HostEntry } from './resolve.ts';
import type { SshEndpoint } from './types.ts';

/** The raw values the config gives for one name (first obtained wins, as in ssh_config(5)). */
export interface SshOptions {
	hostName?: string;
	port?: string;
	user?: string;
	/** Every IdentityFile that applies, in order; ssh offers those that exist. */
	identityFiles?: string[];
	proxyJump?: string;
	proxyCommand?: string;
}

export const DEFAULT_SSH_CONFIG_LABEL = '~/.ssh/config';

export function defaultSshConfigPath(): string {
	return join(homedir(), '.ssh', 'config');
}

function first(v: string | string[] | undefined): string | undefined {
	return Array.isArray(v) ? v[0] : v;
}

export class SshConfigFile {
	/** How messages name the file: `~/.ssh/config` or the path given. */
	readonly label: string;
	readonly #config: SSHConfig | undefined;
	private constructor(label: string, config: SSHConfig | undefined) {
		this.label = label;
		this.#config = config;
	}

	/** A config with no hosts and no settings (no file). */
	static empty(label = DEFAULT_SSH_CONFIG_LABEL): SshConfigFile {
		return new SshConfigFile(label, undefined);
	}

	/** Throws `InvalidInventory` when the package cannot parse the text. */
	static parse(text: string, label: string): SshConfigFile {
		try {
			return new SshConfigFile(label, SSHConfig.parse(text));
		} catch (e) {
			throw new RunbookError('InvalidInventory', `${label}: ${(e as Error).message}`, {
				cause: e,
				hint: 'Check the line with `ssh -G HOST`, which reports the same mistakes.',
			});
		}
	}

	/** `Host` aliases without `*`, `?` or `!`, in file order, each once. */
	aliases(): string[] {
		const out: string[] = [];
		for (const line of this.#config ?? []) {
			if (line.type !== SSHConfig.DIRECTIVE || !/^host$/i.test(line.param)) continue;
			const patterns = typeof line.value === 'string' ? line.value.split(/\s+/) : line.value.map((v) => v.val);
			for (const p of patterns) {
				if (p === '' || /[*?!,]/.test(p) || out.includes(p)) continue;
				out.push(p);
			}
		}
		return out;
	}

	lookup(name: string): SshOptions {
		if (!this.#config) return {};
		const c = this.#config.compute(name, { ignoreCase: true, matchExec: false });
		const o: SshOptions = {};
		const set = (key: Exclude<keyof SshOptions, 'identityFiles'>, v: string | undefined) => {
			if (v !== undefined && v !== '') o[key] = v;
		};
		set('hostName', first(c.hostname));
		set('port', first(c.port));
		set('user', first(c.user));
		const ids = c.identityfile === undefined ? [] : [c.identityfile].flat().filter((v) => v !== '');
		if (ids.length) o.identityFiles = ids;
		set('proxyJump', first(c.proxyjump));
		set('proxyCommand', first(c.proxycommand));
		return o;
	}
}

/**
 * Reads the config at `path`, or `~/.ssh/config` when none is given. A missing default file is an
 * empty config; a missing file that was asked for is `InvalidInventory`.
 */
export async function readSshConfig(path?: string): Promise<SshConfigFile> {
	const file = path ?? defaultSshConfigPath();
	const label = path ?? DEFAULT_SSH_CONFIG_LABEL;
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (e) {
		const code = (e as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' && path === undefined) return SshConfigFile.empty(label);
		throw new RunbookError('InvalidInventory', `${label}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
	}
	return SshConfigFile.parse(text, label);
}

export type JumpParse = { ok: true; jump: EndpointSpec | 'none' } | { ok: false; reason: string };

/** A ProxyJump value: `none`, `[user@]host[:port]` or `ssh://[user@]host[:port]`; one hop only. */
export function parseJump(value: string): JumpParse {
	const v = value.trim();
	if (v.toLowerCase() === 'none') return { ok: true, jump: 'none' };
	if (v.includes(',')) {
		const hops = v.split(',').length;
		return { ok: false, reason: `ProxyJump ${JSON.stringify(v)} has ${hops} hops; runbook goes through one bastion only` };
	}
	const parsed = parseEndpoint(v.replace(/^ssh:\/\//i, '').replace(/\/$/, ''));
	if (!parsed.ok) return { ok: false, reason: `ProxyJump ${JSON.stringify(v)} is not [user@]host[:port]: ${parsed.reason}` };
	return { ok: true, jump: parsed.endpoint };
}

/**
 * `~` and the ssh_config(5) TOKENS that make sense before connecting (`%d %u %l %h %n %p %r %%`),
 * and `${VAR}` from the environment, as OpenSSH expands IdentityFile.
 */
export function expandPath(path: string, tokens: { host?: string; original?: string; port?: number; user?: string } = {}): string {
	let p = path;
	if (p === '~' || p.startsWith('~/')) p = homedir() + p.slice(1);
	p = p.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => process.env[name] ?? m);
	const local = (() => {
		try {
			return userInfo().username;
		} catch {
			return process.env.USER ?? '';
		}
	})();
	return p.replace(/%([%dulhnpr])/g, (m, t: string) => {
		switch (t) {
			case '%':
				return '%';
			case 'd':
				return homedir();
			case 'u':
				return local;
			case 'l':
				return localHostname();
			case 'h':
				return tokens.host ?? m;
			case 'n':
				return tokens.original ?? tokens.host ?? m;
			case 'p':
				return tokens.port === undefined ? m : String(tokens.port);
			case 'r':
				return tokens.user ?? local;
			default:
				return m;
		}
	});
}

/** What a source says about an SSH host before the config fills in the rest. */
export interface SshTarget {
	/** Destination as the source names it (`ansible_host`, an alias, an ad hoc address). */
	address: string;
	port?: number;
	user?: string;
	identityFile?: string;
	/** Unset: the config decides; `'none'`: no bastion whatever the config says. */
	jump?: EndpointSpec | 'none';
}

/**
 * The endpoint (and bastion) ssh would use for `target` under `config`. Throws `InvalidInventory`
 * naming `who` (`<file>: host "<name>"`) when the result is not something runbook can connect to.
 */
export function applySshConfig(config: SshConfigFile, target: SshTarget, who: string): { ssh: SshEndpoint; jump?: SshEndpoint } {
	const problem = (what: string, hint?: string) =>
		new RunbookError('InvalidInventory', `${who}: ${what}`, hint === undefined ? {} : { hint });
	const oneHopHint =
		'runbook connects through one bastion (ProxyJump user@host:port). Point ProxyJump at the last bastion if it is reachable directly, or log in on a host inside and use --host local.';

	const resolve = (spec: EndpointSpec, isJump: boolean): SshEndpoint => {
		const o = config.lookup(spec.address);
		let address = spec.address;
		if (o.hostName !== undefined) {
			address = o.hostName.replace(/%([%h])/g, (_m, t: string) => (t === '%' ? '%' : spec.address));
			if (!isValidAddress(address))
				throw problem(
					`HostName ${JSON.stringify(o.hostName)} for ${JSON.stringify(spec.address)} in ${config.label} is not a host name or IP address`,
				);
		}
		let port = spec.port;
		if (port === undefined && o.port !== undefined) {
			port = parsePort(o.port);
			if (port === undefined)
				throw problem(
					`Port ${JSON.stringify(o.port)} for ${JSON.stringify(spec.address)} in ${config.label} is not a number from 1 to 65535`,
				);
		}
		const user = spec.user ?? o.user;
		if (user !== undefined && !isValidUser(user)) throw problem(`user ${JSON.stringify(user)} is not a valid user name`);
		const endpoint: SshEndpoint = { address, port: port ?? 22 };
		if (user !== undefined) endpoint.user = user;
		const tokens = { host: address, original: spec.address, port: endpoint.port, ...(user === undefined ? {} : { user }) };
		const own = isJump ? undefined : target.identityFile;
		if (own !== undefined) {
			// Named by the source for this host: kept even if missing, so the transport says so.
			endpoint.identityFile = expandPath(own, tokens);
		} else {
			// From the config: like ssh, skip files that do not exist (a shared `Host *` often lists
			// several), and leave it unset when none does, so ssh-agent and --identity still apply.
			const found = (o.identityFiles ?? [])
				.filter((f) => f.toLowerCase() !== 'none')
				.map((f) => expandPath(f, tokens))
				.find((f) => existsSync(f));
			if (found !== undefined) endpoint.identityFile = found;
		}
		return endpoint;
	};

	const own = config.lookup(target.address);
	let jump = target.jump;
	if (jump === undefined && own.proxyJump !== undefined) {
		const parsed = parseJump(own.proxyJump);
		if (!parsed.ok)
			throw problem(who.startsWith(`${config.label}:`) ? parsed.reason : `${parsed.reason} (from ${config.label})`, oneHopHint);
		jump = parsed.jump;
	}
	if (jump === undefined && own.proxyCommand !== undefined && own.proxyCommand.toLowerCase() !== 'none') {
		throw problem(
			`ProxyCommand ${JSON.stringify(own.proxyCommand)} in ${config.label} is not supported`,
			'Use ProxyJump user@bastion:port instead of ProxyCommand for this host.',
		);
	}

	const spec: EndpointSpec = { address: target.address };
	if (target.port !== undefined) spec.port = target.port;
	if (target.user !== undefined) spec.user = target.user;
	const ssh = resolve(spec, false);
	if (jump === undefined || jump === 'none') return { ssh };

	const viaJump = config.lookup(jump.address);
	if (viaJump.proxyJump !== undefined && viaJump.proxyJump.toLowerCase() !== 'none') {
		throw problem(
			`its bastion ${JSON.stringify(jump.address)} itself has ProxyJump ${JSON.stringify(viaJump.proxyJump)} in ${config.label}: two hops`,
			oneHopHint,
		);
	}
	if (viaJump.proxyCommand !== undefined && viaJump.proxyCommand.toLowerCase() !== 'none') {
		throw problem(`its bastion ${JSON.stringify(jump.address)} has a ProxyCommand in ${config.label}, which is not supported`, oneHopHint);
	}
	return { ssh, jump: resolve(jump, true) };
}

/** One entry per alias: the host, or why it cannot be used (reported when it is asked for). */
export function sshConfigEntries(config: SshConfigFile): HostEntry[] {
	return config.aliases().map((name): HostEntry => {
		try {
			const { ssh, jump } = applySshConfig(config, { address: name }, `${config.label}: host ${JSON.stringify(name)}`);
			return {
				name,
				host: { name, source: 'ssh-config', transport: 'ssh', ssh, ...(jump ? { jump } : {}), platform: 'linux', groups: [] },
			};
		} catch (e) {
			if (e instanceof RunbookError) return { name, problem: e };
			throw e;
		}
	});
}

/** One entry per alias of a config text; throws `InvalidInventory` only when the text cannot be parsed. */
export function parseSshConfig(text: string, file: string): HostEntry[] {
	return sshConfigEntries(SshConfigFile.parse(text, file));
}
