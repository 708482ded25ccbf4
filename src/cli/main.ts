/**
 * `runbook`: the command line. One top-level catch (as changesets does): commands throw
 * `RunbookError` for bad input and return an exit code otherwise; nothing below prints a stack for
 * a user's mistake. Exit codes (DESIGN.md): 0 every verdict pass or skip, 1 any warn or fail, 2 any
 * error or a wrong invocation, with a one-line reason on stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { isRunbookError } from '../core/errors.ts';
import { checkCommand } from './commands/check.ts';
import { hostsCommand } from './commands/hosts.ts';
import { listCommand } from './commands/list.ts';
import { runCommand, type RunCommandOptions } from './commands/run.ts';
import { scenarioRecordCommand, type RecordOptions } from './commands/scenario.ts';
import { SEARCH_HELP, searchCommand } from './commands/search.ts';
import { serveCommand } from './commands/serve.ts';
import type { CommonOptions } from './options.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withCommon(cmd: Command): Command {
	return cmd
		.option('--inventory <file>', 'Ansible-style YAML inventory (default: $RUNBOOK_INVENTORY or ./inventory.yaml)')
		.option('--known-hosts <file>', 'known_hosts file to verify host keys against (repeatable)', collect)
		.option('--accept-new', 'trust an unknown host key on first use and record it')
		.option('--identity <file>', 'private key file (default: ssh-agent)')
		.addOption(new Option('--timeout <seconds>', 'per-command timeout').argParser(positiveNumber))
		.option('--scenarios <dir>', 'extra folder of training scenario files (repeatable)', collect)
		.option('--dry-run', 'print what would be read and run, run nothing');
}

function positiveNumber(v: string): number {
	const n = Number(v);
	if (!Number.isFinite(n) || n <= 0 || n > 3600)
		throw new CommanderError(2, 'runbook.invalidArgument', `--timeout must be a number of seconds between 0 and 3600, got "${v}"`);
	return n;
}

const program = new Command('runbook')
	.description('Incident runbooks with read-only checks over SSH')
	.showHelpAfterError(false)
	.exitOverride()
	.configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error: ') ? `runbook: ${s.slice(7)}` : s) });

let exitCode = 0;

program
	.command('list')
	.description('runbooks and their checks')
	.option('--json', 'machine-readable output')
	.action(async (o: { json?: boolean }) => {
		exitCode = await listCommand(o);
	});

withCommon(program.command('hosts').description('hosts from the inventory, ~/.ssh/config and the scenarios'))
	.option('--json', 'machine-readable output')
	.action(async (o: CommonOptions & { json?: boolean }) => {
		exitCode = await hostsCommand(o);
	});

withCommon(program.command('check').description('run one check on a host').argument('<check-id>'))
	.requiredOption('--host <host>', 'inventory name, ~/.ssh/config alias, user@address:port, local, or scenario:<name>')
	.option('--param <key=value>', 'check parameter (repeatable)', collect)
	.option('--json', 'one JSON object per verdict')
	.action(async (id: string, o: CommonOptions & { host: string; param?: string[]; json?: boolean }) => {
		exitCode = await checkCommand(id, o);
	});

withCommon(program.command('run').description('every check of a runbook, in step order, then the diagnosis').argument('<runbook-slug>'))
	.option('--host <host>', 'host to run on, or an inventory group to run on each of its hosts')
	.option('--hosts <a,b,c>', 'several hosts (or groups) at once: a host by check grid, outputs grouped, outliers marked')
	.option('--param <key=value>', 'parameter for every check that takes it (repeatable)', collect)
	.option('--json', 'one JSON object per verdict, then one line {"diagnosis": ...} (several hosts: {"fleet": ...})')
	.option('--notes', 'print incident notes in Markdown instead: time, operator, hosts and host keys, verdicts, deciding lines, commands')
	.action(async (slug: string, o: RunCommandOptions) => {
		exitCode = await runCommand(slug, o);
	});

program
	.command('search')
	.description('ranked runbooks for a symptom or a pasted log line, same ranking as the site')
	.argument('[text...]', 'what you see, or a log line; - reads stdin')
	.option('--json', 'machine-readable output: [{ slug, title, score, matched }], best first')
	.addHelpText('after', SEARCH_HELP)
	.action(async (text: string[], o: { json?: boolean }) => {
		exitCode = await searchCommand(text, o);
	});

withCommon(program.command('serve').description('the site and its API'))
	.addOption(new Option('--port <port>', 'port to listen on').default(4321).argParser((v) => Number(v)))
	.option('--listen <address>', 'address to listen on', '127.0.0.1')
	.action(async (o: CommonOptions & { port: number; listen: string }) => {
		exitCode = await serveCommand(o);
	});

const scenario = program.command('scenario').description('training scenarios');
withCommon(scenario.command('record').description('run checks on a real host and write what they read and ran as a new scenario file'))
	.requiredOption('--host <host>', 'the real host to record from')
	.requiredOption('--check <check-id>', 'check to run (repeatable, in order)', collect)
	.option('--param <key=value>', 'parameter for every check that takes it (repeatable)', collect)
	.option('--name <name>', 'scenario name, kebab-case (default: the --out file name, else host and runbook)')
	.option('--out <file>', 'where to write it, a file named <name>.yaml (default: ./<name>.yaml)')
	.option('--mask', 'replace addresses, MACs, host names and secrets, consistently, and say whether the verdicts survive it')
	.option('--force', 'overwrite an existing file')
	.addHelpText(
		'after',
		'\nExit codes: 0 written, and the checks give the same verdicts against the file; 1 written, but a verdict differs; 2 nothing written.',
	)
	.action(async (o: RecordOptions) => {
		exitCode = await scenarioRecordCommand(o);
	});

try {
	await program.parseAsync(process.argv);
	process.exitCode = exitCode;
} catch (e) {
	if (e instanceof CommanderError) {
		// Help and version are not errors; commander already printed the message for the rest.
		if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exitCode = 0;
		else {
			if (e.code === 'runbook.invalidArgument') process.stderr.write(`runbook: ${e.message}\n`);
			process.exitCode = 2;
		}
	} else if (isRunbookError(e)) {
		process.stderr.write(`runbook: ${e.code}: ${e.detail}${e.hint ? ` (${e.hint})` : ''}\n`);
		process.exitCode = 2;
	} else {
		process.stderr.write(`runbook: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
		process.exitCode = 2;
	}
}
