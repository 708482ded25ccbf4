/**
 * The error catalogue. Every error the tool can report has a permanent name (public API: it appears
 * in `--json`, in the page and in scripts that match on it), a message that says what happened and
 * why, and a hint that says what to do. Modelled on Astro's `errors-data.ts`.
 *
 * Three channels never mix (STYLE.md, "Errors"):
 * 1. verdict errors: a check ran but could not decide (`CommandMissing`, `OutputNotUnderstood` ...),
 *    returned by checks through `error(code, ...)`;
 * 2. transport errors: thrown by a transport as `RunbookError`, caught only by the runner and turned
 *    into an `error` verdict;
 * 3. invocation errors: bad CLI or API input, thrown as `RunbookError` before anything runs, printed
 *    as one line with exit 2.
 */

export interface ErrorData {
	/** Permanent, PascalCase. */
	name: string;
	/** One line shown to the engineer. */
	title: string;
	/** What to do about it. Functions receive the same details as the message. */
	hint?: string;
}

export const ErrorCatalogue = {
	// --- verdict errors: the check could not decide -------------------------------------------
	CommandMissing: {
		name: 'CommandMissing',
		title: 'A command the check needs is not installed on the host.',
		hint: 'Install the package named in the summary, or run the command by hand from the runbook step.',
	},
	PermissionDenied: {
		name: 'PermissionDenied',
		title: 'The check was not allowed to read what it needs.',
		hint: 'Connect as a user that can read it (often root or a member of the adm group), or run the commands by hand with sudo.',
	},
	OutputNotUnderstood: {
		name: 'OutputNotUnderstood',
		title: 'The command answered, but not in a form the check understands.',
		hint: 'Read the output below by hand against the runbook step; if this is a normal output of a supported system, report it with the output attached so the parser can learn it.',
	},
	OutputEmpty: {
		name: 'OutputEmpty',
		title: 'The command printed nothing where the check expected a value.',
		hint: 'Run the command by hand on the host; an empty answer usually means a kernel or tool too old or too new for this check.',
	},
	OutputTruncated: {
		name: 'OutputTruncated',
		title: 'The output was cut before the check could read what it needs.',
		hint: 'Run the command by hand and read the full output.',
	},
	CommandFailed: {
		name: 'CommandFailed',
		title: 'A command the check needs exited with an error.',
		hint: 'Read its error output below; run it by hand on the host to see more.',
	},
	CheckCrashed: {
		name: 'CheckCrashed',
		title: 'The check itself failed with a bug; this says nothing about the host.',
		hint: 'Run the commands of this step by hand, and report the bug with the stack trace from the server or CLI log.',
	},
	PlatformUnsupported: {
		name: 'PlatformUnsupported',
		title: 'This check does not apply to the platform of this host.',
	},

	// --- transport errors: thrown by a transport, caught by the runner ------------------------------
	HostKeyUnknown: {
		name: 'HostKeyUnknown',
		title: 'The host presented a key that is not in known_hosts, so the connection was refused.',
		hint: 'Check the fingerprint out of band, then add it: `ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts`, or pass --known-hosts FILE, or --accept-new to trust it on first use.',
	},
	HostKeyChanged: {
		name: 'HostKeyChanged',
		title: 'The host presented a key different from the one in known_hosts, so the connection was refused.',
		hint: 'This can be an attack or a reinstalled host. Confirm which before removing the old key with `ssh-keygen -R HOST`.',
	},
	AuthRejected: {
		name: 'AuthRejected',
		title: 'The host refused every key offered.',
		hint: 'Load a key into ssh-agent (`ssh-add`), or pass --identity FILE, or set ansible_ssh_private_key_file in the inventory; check the user name.',
	},
	NoCredentials: {
		name: 'NoCredentials',
		title: 'No SSH credentials are available: no ssh-agent and no identity file.',
		hint: 'Start ssh-agent and `ssh-add` a key, or pass --identity FILE.',
	},
	HostUnreachable: {
		name: 'HostUnreachable',
		title: 'The host could not be reached.',
		hint: 'Check the address, the port and any bastion; try `ssh -v` by hand.',
	},
	ConnectTimeout: {
		name: 'ConnectTimeout',
		title: 'The SSH connection did not complete in time.',
		hint: 'The host or the path to it may be overloaded; raise --timeout or run the commands by hand.',
	},
	ProbeTimeout: {
		name: 'ProbeTimeout',
		title: 'A command did not finish in time and was stopped.',
		hint: 'The host may be overloaded or the command hung (a stuck NFS mount, a wedged driver); raise --timeout or run it by hand.',
	},
	ConnectionLost: {
		name: 'ConnectionLost',
		title: 'The SSH connection dropped while the check was running.',
		hint: 'Re-run the check; if it keeps dropping, the path to the host is itself part of the incident.',
	},

	// --- invocation errors: nothing ran ------------------------------------------------------------
	UnknownHost: {
		name: 'UnknownHost',
		title: 'No such host in the inventory, ~/.ssh/config or the scenarios.',
		hint: 'Run `runbook hosts` to list known hosts, or give an address as user@address:port.',
	},
	UnknownCheck: {
		name: 'UnknownCheck',
		title: 'No check has that id.',
		hint: 'Run `runbook list` to see every check id.',
	},
	UnknownRunbook: {
		name: 'UnknownRunbook',
		title: 'No runbook has that slug.',
		hint: 'Run `runbook list` to see every runbook slug.',
	},
	InvalidParams: {
		name: 'InvalidParams',
		title: 'A check parameter is missing or not valid.',
		hint: 'Run `runbook list` to see each check and its parameters.',
	},
	InvalidInventory: {
		name: 'InvalidInventory',
		title: 'The inventory could not be read.',
	},
	InvalidScenario: {
		name: 'InvalidScenario',
		title: 'A scenario file is not valid.',
	},
	InvalidArgument: {
		name: 'InvalidArgument',
		title: 'The command line is not valid.',
		hint: 'Run `runbook --help`.',
	},
} as const satisfies Record<string, ErrorData>;

export type ErrorCode = keyof typeof ErrorCatalogue;

/**
 * A transport or invocation error with a catalogue code. `detail` says what happened on this
 * occasion (the host, the file, the value); the catalogue says what it means in general.
 */
export class RunbookError extends Error {
	readonly code: ErrorCode;
	readonly detail: string;
	readonly hint: string | undefined;
	constructor(code: ErrorCode, detail: string, options?: { hint?: string; cause?: unknown }) {
		super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
		this.name = code;
		this.code = code;
		this.detail = detail;
		this.hint = options?.hint ?? (ErrorCatalogue[code] as ErrorData).hint;
	}
}

export function isRunbookError(e: unknown): e is RunbookError {
	return e instanceof RunbookError || (e instanceof Error && (e as RunbookError).code in ErrorCatalogue && 'detail' in e);
}
