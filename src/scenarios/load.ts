/**
 * Reads scenario files: `<projectRoot>/content/scenarios/*.yaml`, then each `--scenarios DIR`.
 *
 * A file that is not valid YAML or does not match `ScenarioSchema` stops the load with one line,
 * `InvalidScenario: <file>: <field path>: <problem>`; so does a `runbook` that names no runbook in
 * content/runbooks (a misspelt answer would make an exercise nobody can get right). Two files with
 * the same name, in any folders, are refused rather than one silently shadowing the other.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { RunbookError } from '../core/errors.ts';
import { projectRoot } from '../core/paths.ts';
import { ScenarioSchema, type Scenario } from './schema.ts';

/** The folder of the built-in scenarios. */
export const builtinScenarioDir = (): string => join(projectRoot, 'content', 'scenarios');

/** Slugs of the runbooks a scenario may name; null when the folder is absent (nothing to hold them against). */
async function runbookSlugs(): Promise<string[] | null> {
	try {
		return (await readdir(join(projectRoot, 'content', 'runbooks')))
			.filter((f) => f.endsWith('.mdx'))
			.map((f) => f.slice(0, -'.mdx'.length))
			.sort();
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw e;
	}
}

/** `files["/proc/meminfo"]`, `commands["uname -r"].code`, `(top level)`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
	let out = '';
	for (const seg of path) {
		if (typeof seg === 'number') out += `[${seg}]`;
		else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
		else out += `[${JSON.stringify(String(seg))}]`;
	}
	return out === '' ? '(top level)' : out;
}

function invalid(file: string, where: string, problem: string): RunbookError {
	return new RunbookError('InvalidScenario', `${file}: ${where}: ${problem}`.replaceAll(/\s*\n\s*/g, ' '));
}

/**
 * A union (a value or a list of values) that failed: the branch that took the value's type said
 * what is wrong inside it; when no branch took it, the union's own message says what is expected.
 */
function resolveUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue {
	if (issue.code !== 'invalid_union') return issue;
	const tookTheType = issue.errors.filter(
		(branch) => branch[0] !== undefined && !(branch[0].code === 'invalid_type' && branch[0].path.length === 0),
	);
	const inner = tookTheType.length === 1 ? tookTheType[0]![0]! : undefined;
	return inner ? resolveUnion({ ...inner, path: [...issue.path, ...inner.path] }) : issue;
}

function firstIssue(file: string, error: z.ZodError): RunbookError {
	const [first] = error.issues;
	const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
	if (first === undefined) return invalid(file, '(top level)', 'does not match the scenario schema');
	const issue = resolveUnion(first);
	let problem = issue.message;
	if (issue.code === 'unrecognized_keys') problem = `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
	// A bad record key reports "Invalid key in record"; the key schema's own message says what is expected.
	else if (issue.code === 'invalid_key') problem = `bad key: ${issue.issues[0]?.message ?? issue.message}`;
	else if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) problem = `missing, expected ${issue.expected}`;
	return invalid(file, formatIssuePath(issue.path), problem + more);
}

/** Parse and validate one scenario file's text. `file` is used in messages and for the name rule. */
export function parseScenario(file: string, text: string): Scenario {
	let data: unknown;
	try {
		data = parse(text);
	} catch (e) {
		if (e instanceof YAMLParseError) {
			const pos = e.linePos?.[0];
			const where = pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)';
			const problem = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
			throw invalid(file, where, problem);
		}
		throw e;
	}
	if (data === null || data === undefined) throw invalid(file, '(top level)', 'the file is empty');
	const result = ScenarioSchema.safeParse(data);
	if (!result.success) throw firstIssue(file, result.error);
	const expected = basename(file).replace(/\.yaml$/, '');
	if (result.data.name !== expected) throw invalid(file, 'name', `"${result.data.name}" must equal the file name "${expected}"`);
	return result.data;
}

async function yamlFiles(dir: string, required: boolean): Promise<string[]> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch (e) {
		const code = (e as NodeJS.ErrnoException).code;
		if (!required && code === 'ENOENT') return [];
		if (code === 'ENOENT' || code === 'ENOTDIR') throw new RunbookError('InvalidScenario', `${dir}: no such directory`);
		throw e;
	}
	const files: string[] = [];
	for (const name of names.sort()) {
		if (!name.endsWith('.yaml') || name.startsWith('.')) continue;
		const file = join(dir, name);
		if ((await stat(file)).isFile()) files.push(file);
	}
	return files;
}

/**
 * Every scenario by name: the built-in folder first, then `dirs` (a folder listed twice, or the
 * built-in folder listed again, is read once). Throws `InvalidScenario` on the first bad file or
 * duplicate name.
 */
export async function loadScenarios(dirs: readonly string[] = []): Promise<Map<string, Scenario>> {
	const folders: { dir: string; required: boolean }[] = [];
	for (const [i, dir] of [builtinScenarioDir(), ...dirs].entries()) {
		const abs = resolve(dir);
		if (!folders.some((f) => f.dir === abs)) folders.push({ dir: abs, required: i > 0 });
	}
	const scenarios = new Map<string, Scenario>();
	const origin = new Map<string, string>();
	const runbooks = await runbookSlugs();
	for (const { dir, required } of folders) {
		for (const file of await yamlFiles(dir, required)) {
			const scenario = parseScenario(file, await readFile(file, 'utf8'));
			const first = origin.get(scenario.name);
			if (first !== undefined) throw invalid(file, 'name', `"${scenario.name}" is already defined by ${first}`);
			if (scenario.runbook !== undefined && runbooks !== null && !runbooks.includes(scenario.runbook)) {
				throw invalid(file, 'runbook', `no runbook "${scenario.runbook}" in content/runbooks; known: ${runbooks.join(', ')}`);
			}
			origin.set(scenario.name, file);
			scenarios.set(scenario.name, scenario);
		}
	}
	return scenarios;
}
