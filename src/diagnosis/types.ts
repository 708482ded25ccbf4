/**
 * What a guided diagnosis says: the shapes `runbook run` prints with `--json` (`{"diagnosis": ...}`,
 * `{"fleet": ...}`), the API streams as its last line, and the page renders and copies as notes.
 * Types only, so the browser bundle can import them with nothing behind.
 */
import type { Diagram } from '../core/check.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Status } from '../core/status.ts';
import type { RunEvent, VerdictRecord } from '../runner/types.ts';

/** A runbook as a diagnosis names it. `href` is site-relative: `/hugepage-map-count/`. */
export interface RunbookRef {
	slug: string;
	title: string;
	href: string;
}

/** What a diagnosis needs to know about the runbook besides the verdicts. */
export interface RunbookOutline {
	slug: string;
	title: string;
	/**
	 * Its checks in step order, with their titles and the anchor of the step (`##` heading) each sits
	 * under, when known: a verdict whose `next` names that step leads the diagnosis on to that check.
	 */
	checks: { id: string; title: string; step?: string }[];
	/** Runbooks with overlapping symptoms, to try when every check passes. */
	related: RunbookRef[];
}

/** How a run went besides its verdicts (from the runner; optional for hand-built records). */
export interface RunTrace {
	/** Per check id, the commands it ran, in order (answers served from the run's cache included). */
	commands?: Readonly<Record<string, readonly string[]>>;
	/** Probes answered from the run's per-host cache instead of the host. */
	cacheHits?: number;
}

/** One highlighted line of an output: 1-based number and its text. */
export interface DecidingLine {
	n: number;
	text: string;
}

/** An evidence entry cut down to the lines that decide the verdict. */
export interface DecidingEvidence {
	command: string;
	lines: DecidingLine[];
	/** Exit status, when the evidence carried one. */
	code?: number | null;
	/** The transport cut this output at its cap. */
	truncated?: boolean;
}

/** One check of the runbook as it came out, in step order. */
export interface StepOutcome {
	check: string;
	title: string;
	status: Status;
	summary: string;
	/** Where its verdict points, as a link (`/hugepage-map-count/#raise-the-limit`). */
	next?: string;
	code?: ErrorCode;
	hint?: string;
	/** Only evidence with highlighted lines, only those lines. */
	evidence: DecidingEvidence[];
	/** The commands it ran (from the trace; else the commands of its evidence). */
	commands: string[];
	durationMs: number;
}

/** The first fail (else the first warn) in step order. */
export interface LikelyCause {
	check: string;
	title: string;
	status: 'fail' | 'warn';
	summary: string;
	evidence: DecidingEvidence[];
	/** The step its verdict points to, as a link; null when it names none. */
	next: string | null;
	/** Its fix commands, shown for copy and paste, never run. */
	fix: string[];
	diagram?: Diagram;
	/**
	 * How the verdicts led here, in step order: the first check that failed (or warned), then each
	 * failing check its `next` pointed to. One id when the first failure is itself the cause.
	 */
	route: string[];
}

/** The step the likely cause points to (usually its fix), with the fix commands its verdict gives. */
export interface FixStep {
	check: string;
	href: string;
	fix: string[];
}

/** A check that decided: it is not the cause (pass), or does not apply (skip). */
export interface CheckNote {
	check: string;
	title: string;
	summary: string;
	/** Where the verdict points (e.g. "if the check passes"), as a link. */
	next?: string;
}

/** A check that could not decide; never counted as ruled out. */
export interface UndecidedCheck {
	check: string;
	title: string;
	summary: string;
	code?: ErrorCode;
	hint?: string;
}

/** One runbook on one host. */
export interface Diagnosis {
	runbook: { slug: string; title: string; href: string };
	host: string;
	/** `SHA256:...` of the key the host presented; null for `local` or when nothing connected. */
	hostKey: string | null;
	/** Roll-up of every verdict: `error > fail > warn > pass > skip`. */
	status: Status;
	/** One line for a chat message or a page banner. */
	headline: string;
	likelyCause: LikelyCause | null;
	fixStep: FixStep | null;
	/** The other checks that failed or warned, in step order: worth reading after the cause. */
	alsoFound: (CheckNote & { status: 'fail' | 'warn' })[];
	ruledOut: CheckNote[];
	skipped: CheckNote[];
	undecided: UndecidedCheck[];
	/** Related runbooks, when every check passed or was skipped; otherwise empty. */
	tryNext: RunbookRef[];
	steps: StepOutcome[];
	probeCacheHits: number;
}

/** A fact on which a host parts from the other hosts. */
export interface FactDifference {
	key: string;
	value: string;
	majority: string;
}

/** A host that differs from most hosts on one check. */
export interface Outlier {
	check: string;
	host: string;
	status: Status;
	/** The status most hosts have (a tie goes to the healthier status). */
	majorityStatus: Status;
	/** Its status differs from the majority's. */
	statusDiffers: boolean;
	/** Facts that differ from a clear majority (empty when none). */
	facts: FactDifference[];
}

/** Hosts whose evidence outputs for one check are byte-identical. */
export interface OutputGroup {
	hosts: string[];
	/** Roll-up of their statuses (the same in practice: same output, same verdict). */
	status: Status;
	/** The first host's summary and deciding lines stand for the group. */
	summary: string;
	evidence: DecidingEvidence[];
}

/** One runbook on several hosts. */
export interface FleetDiagnosis {
	runbook: { slug: string; title: string; href: string };
	/** Roll-up over every verdict. */
	status: Status;
	/** Hosts by their own roll-up status. */
	counts: Partial<Record<Status, number>>;
	/** `3 hosts: 1 fail, 2 pass`: first, before any detail. */
	summary: string;
	headline: string;
	/** The grid's columns, in step order. */
	checks: { id: string; title: string }[];
	/** The grid's rows: one per host, its status per check id. */
	grid: { host: string; status: Status; hostKey: string | null; cells: Record<string, Status> }[];
	/** Per check, hosts with identical outputs grouped, biggest group first. */
	groups: { check: string; groups: OutputGroup[] }[];
	outliers: Outlier[];
	/** Each host's own diagnosis, in grid order. */
	hosts: Diagnosis[];
	probeCacheHits: number;
}

/** What `POST /api/runbooks/<slug>/run` streams: the runner's events, then one final line. */
export type RunbookRunEvent = RunEvent | { type: 'diagnosis'; diagnosis: Diagnosis } | { type: 'fleet'; fleet: FleetDiagnosis };

/** The records and trace of one host, for `diagnoseFleet`. */
export interface HostRecords {
	host: string;
	records: readonly VerdictRecord[];
	trace?: RunTrace;
}
