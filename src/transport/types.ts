/**
 * What every transport offers the runner. The transport knows nothing about checks: it runs an
 * argv and hands back raw bytes decoded as UTF-8 (invalid bytes become U+FFFD), untrimmed, capped.
 *
 * Failures to connect, refused host keys and timeouts are thrown as `RunbookError` with a
 * catalogue code (`HostKeyUnknown`, `ProbeTimeout` ...). A non-zero exit status is not an error.
 */
import type { ExecResult } from '../core/check.ts';

export interface ExecLimits {
	/** Deadline for this one command; on expiry the channel (or process) is closed and `ProbeTimeout` thrown. */
	timeoutMs: number;
	/** Cap per stream in bytes; past it the output is cut and `truncated` set. */
	maxBytes: number;
}

export const DEFAULT_LIMITS: ExecLimits = { timeoutMs: 30_000, maxBytes: 1024 * 1024 };

export interface HostKeyInfo {
	/** e.g. `ssh-ed25519` */
	type: string;
	/** OpenSSH style, `SHA256:base64-without-padding`. */
	fingerprint: string;
}

export interface Transport {
	/** `local`, `ssh root@10.0.0.5:22`, `scenario hugepages-too-many`: for logs and notes. */
	readonly label: string;
	/** The verified host key of the (last hop) host; absent for `local`. */
	readonly hostKey?: HostKeyInfo;
	exec(argv: readonly string[], limits: ExecLimits): Promise<ExecResult>;
	close(): Promise<void>;
}
