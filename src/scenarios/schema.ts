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
 * expect:
 *   kernel.max-map-count: fail
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

export const ScenarioSchema = z.strictObject({
	/** Kebab-case, equal to the file name without `.yaml`; the SSH user name and the host `scenario:<name>`. */
	name: z.string().regex(KEBAB, 'kebab-case, e.g. hugepages-too-many'),
	/** The situation in a few words, for the host picker and lists. */
	title: z.string().min(1),
	/** What the trainee is told: the symptom as an on-call engineer would first see it. */
	brief: z.string().min(1),
	/** Slug of the runbook that diagnoses this host: the right answer. */
	runbook: z.string().regex(KEBAB, 'a runbook slug, e.g. hugepage-map-count'),
	/** What the host runs; a check for another platform is `skip` on it. */
	platform: PlatformSchema.default('linux'),
	/** Absolute path -> contents; what `cat` and `ctx.read` see. Directories are implied by the paths. */
	files: z.record(AbsolutePathSchema, z.string()).default({}),
	/** Argv joined by single spaces -> what the command prints and its exit status. Checked before the built-ins (`cat`, `ls`, `test`). */
	commands: z.record(CommandKeySchema, CommandAnswerSchema).default({}),
	/** Check id -> the verdict a correct diagnosis relies on; a test runs each check against the scenario and asserts it. */
	expect: z.record(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'a check id, e.g. kernel.max-map-count'), StatusSchema).optional(),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
/** What a scenario file may leave out (defaults filled in by `ScenarioSchema.parse`). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
