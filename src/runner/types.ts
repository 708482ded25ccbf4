/**
 * What the runner reports: one record per (check, host), the shape `--json` prints and the API
 * streams (DESIGN.md: `{ check, host, status, summary, facts, evidence, durationMs }`).
 */
import type { Diagram, Evidence, Facts } from '../core/check.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Status } from '../core/status.ts';

export interface VerdictRecord {
	check: string;
	host: string;
	status: Status;
	summary: string;
	facts: Facts;
	evidence: Evidence[];
	durationMs: number;
	next?: string;
	fix?: string[];
	diagram?: Diagram;
	code?: ErrorCode;
	hint?: string;
	/** `SHA256:...` of the key the host presented (ssh and scenario hosts). */
	hostKey?: string;
}

/** Streamed by `POST /api/checks/<id>/run` as NDJSON, and given to CLI progress bars. */
export type RunEvent =
	| { type: 'start'; check: string; host: string; probes: string[] }
	| { type: 'progress'; check: string; host: string; message: string; fraction?: number }
	| { type: 'verdict'; verdict: VerdictRecord };

export interface RunOptions {
	/** known_hosts files to verify against; default `~/.ssh/known_hosts` plus the tool's own. */
	knownHosts?: string[];
	/** Trust an unknown key on first use and record it. */
	acceptNew?: boolean;
	/** Private key file, when not using ssh-agent. */
	identity?: string;
	/** Per-command timeout, seconds. */
	timeoutSeconds?: number;
	/** Extra scenario folders. */
	scenarioDirs?: string[];
	/** Inventory file. */
	inventory?: string;
	onEvent?: (e: RunEvent) => void;
}
