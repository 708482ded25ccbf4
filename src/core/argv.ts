/**
 * The one place argv becomes a shell string.
 *
 * Commands are argv arrays end to end. SSH can only carry a string, so the ssh transport joins the
 * argv with POSIX single quotes here; the page and `--dry-run` use the same function to show the
 * command, so what is shown is exactly what is sent.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell. Empty becomes `''`; a single quote becomes `'\''`. */
export function quoteArg(arg: string): string {
	if (arg.length > 0 && SAFE.test(arg)) return arg;
	return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Join argv into one shell command line, each argument quoted. */
export function quoteArgv(argv: readonly string[]): string {
	if (argv.length === 0) throw new Error('quoteArgv: empty argv');
	// A first word of the form NAME=value would be a variable assignment to the shell, not a command.
	return argv.map((a, i) => (i === 0 && a.includes('=') ? `'${a.replaceAll("'", `'\\''`)}'` : quoteArg(a))).join(' ');
}
