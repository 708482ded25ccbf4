/**
 * Helpers every parser uses on command output: lines without the empty string after the final
 * newline, the first line that says something (what an error summary quotes), and the test for
 * output that is empty or was cut (every command here ends its output with a newline, so text that
 * does not may have been cut by the per-probe cap or a dropped connection, and must not be judged
 * as whole).
 */

/** `text` split into lines, without the empty string after a final newline. */
export function linesOf(text: string): string[] {
	const lines = text.split('\n');
	if (lines.at(-1) === '') lines.pop();
	return lines;
}

/** Why `text` (the output of `what`) cannot be judged whole, or null when it can. */
export function incomplete(text: string, what: string): string | null {
	if (text.trim() === '') return `${what} is empty (printed nothing)`;
	if (!text.endsWith('\n')) return `${what} does not end with a newline, so it may have been cut`;
	return null;
}

/** The first line of `text` that is not blank, trimmed; `''` when there is none. */
export function firstLine(text: string): string {
	return (
		text
			.split('\n')
			.find((l) => l.trim() !== '')
			?.trim() ?? ''
	);
}
