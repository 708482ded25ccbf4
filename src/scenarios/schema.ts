/**
 * A training scenario (DESIGN.md, "Training scenarios"): a simulated host described by the files it
 * has and what each command prints. The scenario SSH server answers from it; anything it does not
 * list answers as a real host would (file absent, `command not found`, exit 127).
 *
 * ```yaml
 * name: hugepages-too-many
 * title: OVS-DPDK will not start after a memory upgrade
 * brief: ovs-vswitchd exits at start with "EAL: Failed to remap 2 MB pages"
 * runbook: hugepage-map-count
 * files:
 *   /proc/sys/vm/max_map_count: "65530\n"
 * commands:
 *   "uname -r": { stdout: "3.10.0-693.el7.x86_64\n" }
 * cause: vm.max_map_count 65530 is below the ~82000 mappings legacy DPDK needs for 40960 free 2 MB pages
 * healthy: false
 * expect:
 *   kernel.max-map-count: fail
 * ```
 *
 * Sampled values (a counter read, a pause, the same counter read again) are written as a list: each
 * read of that file, or each run of that command, within one SSH connection gets the next item, and
 * the last one repeats.
 *
 * ```yaml
 * files:
 *   /sys/class/net/eth0/statistics/tx_packets: ["58\n", "58\n"]
 *   /sys/class/net/eth0/statistics/rx_packets: ["70\n", "81\n"]
 * ```
 */
import { z } from 'zod';
import { PlatformSchema } from '../core/check.ts';
import { StatusSchema } from '../core/status.ts';

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Absolute, already normal: no `//`, no `.` or `..` segment, no trailing slash. */
const AbsolutePathSchema = z
	.string()
	.regex(/^(?:\/[^/\0]+)+$/, 'an absolute path such as /proc/sys/vm/max_map_count')
	.refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'a path without . or .. segments');

/** The argv as `argv.join(' ')`: no leading or trailing whitespace. */
const CommandKeySchema = z
	.string()
	.min(1)
	.refine((k) => k.trim() === k, 'a command without leading or trailing whitespace, its argv joined by single spaces');

export const CommandAnswerSchema = z.strictObject({
	/** What the command prints on standard output, exactly (keep the final newline). */
	stdout: z.string().default(''),
	/** What it prints on standard error. */
	stderr: z.string().default(''),
	/** Its exit status. */
	code: z.number().int().min(0).max(255).default(0),
});
export type CommandAnswer = z.infer<typeof CommandAnswerSchema>;

/** A file's contents, or its contents at each read in turn (the last one repeating). */
export const FileValueSchema = z.union([z.string(), z.array(z.string()).min(1, 'a list of at least one value')], {
	error: 'a string, or a list of strings answered one per read',
});
export type FileValue = z.infer<typeof FileValueSchema>;

/** What a command answers, or its answer at each run in turn (the last one repeating). */
export const CommandValueSchema = z.union([CommandAnswerSchema, z.array(CommandAnswerSchema).min(1, 'a list of at least one answer')], {
	error: 'an answer such as { stdout: "..." }, or a list of answers given one per run',
});
export type CommandValue = z.infer<typeof CommandValueSchema>;

export const ScenarioSchema = z.strictObject({
	/** Kebab-case, equal to the file name without `.yaml`; the SSH user name and the host `scenario:<name>`. */
	name: z.string().regex(KEBAB, 'kebab-case, e.g. hugepages-too-many'),
	/** The situation in a few words, for the host picker and lists. */
	title: z.string().min(1),
	/** What the trainee is told: the symptom as an on-call engineer would first see it. */
	brief: z.string().min(1),
	/**
	 * Slug of the runbook that diagnoses this host: the right answer. A trainer's own file (`--scenarios
	 * DIR`) may leave it out, e.g. a host just recorded from a real incident: every check still runs
	 * against it, but the training page offers it as a practice host, not as an exercise to diagnose.
	 */
	runbook: z.string().regex(KEBAB, 'a runbook slug, e.g. hugepage-map-count').optional(),
	/**
	 * The root cause, one sentence, as the debrief states it ("vm.max_map_count 65530 is below the
	 * ~82000 mappings legacy DPDK needs for 40960 free 2 MB pages"); for a healthy look-alike, what is
	 * fine and why it looks like the failure.
	 */
	cause: z.string().min(1).optional(),
	/** A look-alike with nothing wrong in the runbook's area: the checks pass, and the trainee should say so. */
	healthy: z.boolean().default(false),
	/** What the host runs; a check for another platform is `skip` on it. */
	platform: PlatformSchema.default('linux'),
	/** Absolute path -> contents (or a list, one per read); what `cat` and `ctx.read` see. Directories are implied by the paths. */
	files: z.record(AbsolutePathSchema, FileValueSchema).default({}),
	/** Argv joined by single spaces -> what the command prints and its exit status (or a list, one per run). Checked before the built-ins (`cat`, `ls`, `test`). */
	commands: z.record(CommandKeySchema, CommandValueSchema).default({}),
	/**
	 * Check id -> the verdict that check gives on this host, run with the params its runbook page
	 * embeds; a test runs each against the scenario and asserts it. A check made for another platform
	 * is `skip` here by the runner and need not be listed.
	 */
	expect: z.record(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'a check id, e.g. kernel.max-map-count'), StatusSchema).optional(),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
/** What a scenario file may leave out (defaults filled in by `ScenarioSchema.parse`). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
