/**
 * What a scenario host's shell answers to one SSH exec request. No I/O; the only state is the
 * per-connection `ShellState` the caller passes in, which counts the reads of each file and runs of
 * each command that the scenario answers with a list (a counter sampled twice): the n-th read gets
 * the n-th item, the last one repeats. Deterministic: the same scenario, command and state give the
 * same answer and advance the state the same way.
 *
 * sshd hands the exec string to `bash -c`; ours arrives as `LC_ALL=C LANG=C ` followed by the argv
 * quoted with `quoteArgv` (src/core/argv.ts). It is split back into words the way POSIX shells do
 * (single quotes, double quotes, backslashes, blanks), leading `NAME=value` assignments are dropped,
 * and the argv is looked up in the scenario's `commands`, then in a few built-ins (`cat`, `ls`,
 * `test`) answered from its `files` with the messages GNU coreutils and bash print under LC_ALL=C.
 * Anything else is `command not found`, exit 127, as on a real host.
 *
 * Shell syntax beyond words (pipes, `;`, redirections, `$` expansions, globs) is not simulated: it
 * is refused with exit 2 and says so, rather than answered wrongly.
 */
import { posix } from 'node:path';
import type { CommandAnswer, Scenario } from '../scenarios/schema.ts';

export interface ShellAnswer {
	stdout: string;
	stderr: string;
	code: number;
	/**
	 * Where the answer came from: the scenario's `commands`, a built-in (`cat`, `ls`, `test` ...)
	 * answering from its `files`, `missing` for a command the scenario does not list (`command not
	 * found`, exit 127), `refused` for shell syntax that is not simulated.
	 */
	source: 'listed' | 'builtin' | 'missing' | 'refused';
}

/** One SSH connection's memory: how often each listed file was read and each listed command run. */
export class ShellState {
	readonly #reads = new Map<string, number>();
	/** The item of `values` this read gets, counting it: the n-th read the n-th item, then the last. */
	take<T>(key: string, values: T | readonly T[]): T {
		if (!Array.isArray(values)) return values as T;
		const n = this.#reads.get(key) ?? 0;
		this.#reads.set(key, n + 1);
		return values[Math.min(n, values.length - 1)] as T;
	}
	/** The item the next read would get, without counting a read. */
	peek<T>(key: string, values: T | readonly T[]): T {
		if (!Array.isArray(values)) return values as T;
		return values[Math.min(this.#reads.get(key) ?? 0, values.length - 1)] as T;
	}
}

/** One word as the shell sees it, and whether it is a `NAME=value` assignment (name and `=` unquoted). */
export interface Word {
	text: string;
	assignment: boolean;
}

export type SplitResult = { ok: true; words: Word[] } | { ok: false; stderr: string; code: number };

const BLANK = new Set([' ', '\t']);
/** Unquoted, these make a word something other than a plain word. */
const OPERATOR = new Set([';', '&', '|', '<', '>', '(', ')', '{', '}', '\n', '`', '$', '*', '?']);
const DQ_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n']);

function unsupported(what: string): SplitResult {
	return {
		ok: false,
		stderr: `bash: ${what}: shell syntax is not simulated on this training host; send one command with quoted arguments\n`,
		code: 2,
	};
}

function unexpectedEof(quote: string): SplitResult {
	return { ok: false, stderr: `bash: -c: line 1: unexpected EOF while looking for matching \`${quote}'\n`, code: 2 };
}

/** Split a `bash -c` string into words: POSIX quoting and escapes, blanks between words. */
export function splitWords(command: string): SplitResult {
	const words: Word[] = [];
	let text = '';
	let inWord = false;
	/** Still possibly an assignment: only unquoted name characters so far. */
	let bare = true;
	let assignment = false;
	/** An unquoted `[` in this word: with a later unquoted `]` it is a glob. */
	let bracket = false;
	const end = () => {
		if (inWord) words.push({ text, assignment });
		text = '';
		inWord = false;
		bare = true;
		assignment = false;
		bracket = false;
	};
	const quoted = () => {
		inWord = true;
		if (!assignment) bare = false;
	};
	for (let i = 0; i < command.length; i++) {
		const c = command[i]!;
		if (BLANK.has(c)) {
			end();
		} else if (c === "'") {
			const close = command.indexOf("'", i + 1);
			if (close === -1) return unexpectedEof("'");
			quoted();
			text += command.slice(i + 1, close);
			i = close;
		} else if (c === '"') {
			quoted();
			let j = i + 1;
			for (; j < command.length && command[j] !== '"'; j++) {
				const d = command[j]!;
				if (d === '\\' && j + 1 < command.length && DQ_ESCAPABLE.has(command[j + 1]!)) {
					j++;
					if (command[j] !== '\n') text += command[j];
				} else if (d === '$' || d === '`') {
					return unsupported(d);
				} else {
					text += d;
				}
			}
			if (j >= command.length) return unexpectedEof('"');
			i = j;
		} else if (c === '\\') {
			if (i + 1 >= command.length) {
				// A trailing backslash stays literal, as in bash.
				inWord = true;
				bare = false;
				text += c;
			} else if (command[i + 1] === '\n') {
				i++;
			} else {
				quoted();
				text += command[++i];
			}
		} else if (c === '#' && !inWord) {
			return unsupported('#');
		} else if (c === '~' && !inWord) {
			return unsupported('~');
		} else if (OPERATOR.has(c) || (c === ']' && bracket)) {
			return unsupported(c === ']' ? '[' : c);
		} else {
			if (c === '[') bracket = true;
			if (c === '=' && bare && !assignment && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) assignment = true;
			else if (bare && !assignment && !/[A-Za-z0-9_]/.test(c)) bare = false;
			inWord = true;
			text += c;
		}
	}
	end();
	return { ok: true, words };
}

/** The argv a command string runs: its words after any leading `NAME=value` assignments. */
export function parseCommand(command: string): { ok: true; argv: string[] } | { ok: false; stderr: string; code: number } {
	const split = splitWords(command);
	if (!split.ok) return split;
	let i = 0;
	while (i < split.words.length && split.words[i]!.assignment) i++;
	return { ok: true, argv: split.words.slice(i).map((w) => w.text) };
}

/** A read-only view of a scenario's file tree; directories are the prefixes of its file paths. */
class Tree {
	readonly #files: Scenario['files'];
	readonly #state: ShellState;
	readonly #dirs = new Map<string, Set<string>>();
	constructor(files: Scenario['files'], state: ShellState) {
		this.#files = files;
		this.#state = state;
		for (const path of Object.keys(files)) {
			let child = path;
			for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
				const entries = this.#dirs.get(dir) ?? new Set<string>();
				entries.add(posix.basename(child));
				this.#dirs.set(dir, entries);
				if (dir === '/') break;
				child = dir;
			}
		}
	}
	/**
	 * What a path names: a file, a directory, or nothing. A file's `contents()` is what this read
	 * sees; `read()` counts as one read of a file answered with a list.
	 */
	lookup(
		path: string,
	): { kind: 'file'; contents: () => string; read: () => string } | { kind: 'dir' } | { kind: 'none' } | { kind: 'notdir' } {
		const trailingSlash = path.length > 1 && path.endsWith('/');
		const abs = posix.resolve('/root', path);
		if (Object.hasOwn(this.#files, abs)) {
			if (trailingSlash) return { kind: 'notdir' };
			const values = this.#files[abs]!;
			return { kind: 'file', contents: () => this.#state.peek(`file ${abs}`, values), read: () => this.#state.take(`file ${abs}`, values) };
		}
		if (this.#dirs.has(abs)) return { kind: 'dir' };
		// A path through a file (`/proc/meminfo/x`) is "Not a directory", as the kernel says.
		for (let dir = posix.dirname(abs); dir !== '/'; dir = posix.dirname(dir)) {
			if (Object.hasOwn(this.#files, dir)) return { kind: 'notdir' };
		}
		return { kind: 'none' };
	}
	/** Entries of a directory, sorted as `ls` sorts them under LC_ALL=C (bytewise). */
	list(path: string): string[] {
		const entries = [...(this.#dirs.get(posix.resolve('/root', path)) ?? [])];
		return entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	}
}

type Reply = Omit<ShellAnswer, 'source'>;

const ok = (stdout = ''): Reply => ({ stdout, stderr: '', code: 0 });

function cat(tree: Tree, args: string[]): Reply {
	let stdout = '';
	let stderr = '';
	let code = 0;
	let operands = args;
	if (operands[0] === '--') operands = operands.slice(1);
	else {
		const option = operands.find((a) => a.startsWith('-') && a !== '-');
		if (option !== undefined) {
			return { stdout: '', stderr: `cat: invalid option -- '${option.slice(1, 2)}'\nTry 'cat --help' for more information.\n`, code: 1 };
		}
	}
	for (const path of operands) {
		if (path === '-') continue;
		const node = tree.lookup(path);
		if (node.kind === 'file') stdout += node.read();
		else {
			code = 1;
			const why = node.kind === 'dir' ? 'Is a directory' : node.kind === 'notdir' ? 'Not a directory' : 'No such file or directory';
			stderr += `cat: ${path}: ${why}\n`;
		}
	}
	return { stdout, stderr, code };
}

function ls(tree: Tree, args: string[]): Reply {
	const operands: string[] = [];
	let options = true;
	for (const a of args) {
		if (options && a === '--') options = false;
		else if (options && a.startsWith('-') && a !== '-') {
			const bad = [...a.slice(1)].find((f) => f !== '1');
			if (bad !== undefined)
				return { stdout: '', stderr: `ls: invalid option -- '${bad}'\nTry 'ls --help' for more information.\n`, code: 2 };
		} else operands.push(a);
	}
	if (operands.length === 0) operands.push('.');
	let stderr = '';
	let code = 0;
	const files: string[] = [];
	const dirs: string[] = [];
	for (const path of operands) {
		const node = tree.lookup(path);
		if (node.kind === 'file') files.push(path);
		else if (node.kind === 'dir') dirs.push(path);
		else {
			code = 2;
			const why = node.kind === 'notdir' ? 'Not a directory' : 'No such file or directory';
			stderr += `ls: cannot access '${path}': ${why}\n`;
		}
	}
	const blocks: string[] = [];
	if (files.length > 0)
		blocks.push(
			files
				.sort()
				.map((f) => `${f}\n`)
				.join(''),
		);
	const headed = operands.length > 1;
	for (const dir of dirs.sort()) {
		const listing = tree
			.list(dir)
			.map((e) => `${e}\n`)
			.join('');
		blocks.push(headed ? `${dir}:\n${listing}` : listing);
	}
	return { stdout: blocks.join('\n'), stderr, code };
}

/** bash's `test` builtin, for the unary file tests and string comparisons. */
function test(tree: Tree, args: string[]): Reply {
	const status = (b: boolean): Reply => ({ stdout: '', stderr: '', code: b ? 0 : 1 });
	const fault = (msg: string): Reply => ({ stdout: '', stderr: `bash: test: ${msg}\n`, code: 2 });
	if (args.length === 0) return status(false);
	if (args.length === 1) return status(args[0] !== '');
	if (args.length === 2) {
		const [op, path] = args as [string, string];
		if (op === '!') return status(path === '');
		if (op === '-n') return status(path !== '');
		if (op === '-z') return status(path === '');
		const node = tree.lookup(path);
		switch (op) {
			case '-e':
			case '-r':
				return status(node.kind === 'file' || node.kind === 'dir');
			case '-f':
				return status(node.kind === 'file');
			case '-d':
				return status(node.kind === 'dir');
			case '-s':
				return status(node.kind === 'dir' || (node.kind === 'file' && node.contents().length > 0));
			default:
				return fault(`${op}: unary operator expected`);
		}
	}
	if (args.length === 3) {
		const [a, op, b] = args as [string, string, string];
		if (op === '=' || op === '==') return status(a === b);
		if (op === '!=') return status(a !== b);
		return fault(`${op}: binary operator expected`);
	}
	return fault('too many arguments');
}

/** The built-ins, answered from the scenario's files; null for a command that is not one of them. */
function builtin(tree: Tree, name: string, args: string[]): Reply | null {
	switch (name) {
		case 'cat':
		case '/bin/cat':
		case '/usr/bin/cat':
			return cat(tree, args);
		case 'ls':
		case '/bin/ls':
		case '/usr/bin/ls':
			return ls(tree, args);
		case 'test':
			return test(tree, args);
		case '[':
			if (args.at(-1) !== ']') return { stdout: '', stderr: "bash: [: missing `]'\n", code: 2 };
			return test(tree, args.slice(0, -1));
		case 'true':
			return ok();
		case 'false':
			return { stdout: '', stderr: '', code: 1 };
	}
	return null;
}

/**
 * What the scenario host prints for one exec request, and its exit status. `state` is the
 * connection's (a fresh one answers every list with its first item), and is advanced by the reads
 * this request makes.
 */
export function answer(scenario: Pick<Scenario, 'files' | 'commands'>, command: string, state: ShellState = new ShellState()): ShellAnswer {
	const parsed = parseCommand(command);
	if (!parsed.ok) return { stdout: '', stderr: parsed.stderr, code: parsed.code, source: 'refused' };
	const { argv } = parsed;
	if (argv.length === 0) return { ...ok(), source: 'builtin' };
	const key = argv.join(' ');
	if (Object.hasOwn(scenario.commands, key)) {
		const listed: CommandAnswer = state.take(`command ${key}`, scenario.commands[key]!);
		return { stdout: listed.stdout, stderr: listed.stderr, code: listed.code, source: 'listed' };
	}
	const tree = new Tree(scenario.files, state);
	const [name, ...args] = argv as [string, ...string[]];
	const built = builtin(tree, name, args);
	if (built) return { ...built, source: 'builtin' };
	if (name.includes('/')) {
		const node = tree.lookup(name);
		const why = node.kind === 'dir' ? 'Is a directory' : node.kind === 'file' ? 'Permission denied' : 'No such file or directory';
		return { stdout: '', stderr: `bash: ${name}: ${why}\n`, code: node.kind === 'none' ? 127 : 126, source: 'missing' };
	}
	return { stdout: '', stderr: `bash: ${name}: command not found\n`, code: 127, source: 'missing' };
}
