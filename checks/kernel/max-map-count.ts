/**
 * kernel.max-map-count: will DPDK (ovs-vswitchd by default) run out of memory mappings while it maps
 * its hugepages at start?
 *
 * Failure (DOMAIN.md section 3): every hugepage DPDK maps is one VMA, one line of /proc/PID/maps. The
 * legacy EAL of DPDK <= 18.02 (OVS <= 2.10) maps every free hugepage of a size, then maps them all a
 * second time in physically contiguous order before unmapping the first set
 * (lib/librte_eal/linuxapp/eal/eal_memory.c, rte_eal_hugepage_init, tags v16.11..v18.02), so 40960
 * free 2 MB pages need about 81920 mappings on top of what the process already has. Past
 * vm.max_map_count mmap() fails with ENOMEM, EAL logs "Failed to remap 2 MB pages" and ovs-vswitchd
 * exits. DPDK >= 18.05 maps a page once (release_18_05.rst; one `memfd:seg_*` or `rtemap_*` VMA per
 * 2 MB page in our DPDK 22.11.11 captures).
 *
 * Reads /proc/sys/vm/max_map_count, /proc/meminfo, nr_hugepages and free_hugepages of every size
 * `ls /sys/kernel/mm/hugepages` lists, and /proc/PID/maps of the process when it runs. Runs `ls`,
 * `uname -r` (kernel release, for the record only), `ovs-vswitchd --version` (OVS and DPDK versions)
 * and `pidof`.
 *
 * Thresholds, all in `evaluate`:
 * - legacy peak = max over sizes, largest first, of (2 x N of that size + N of every larger size) +
 *   baseline: the sizes are mapped one after the other and the larger ones stay mapped (eal_memory.c).
 *   Dynamic peak = sum of N + baseline: at most every free page once. N counts free pages plus the
 *   pages the running process holds, since a restart frees those first. Legacy >= dynamic always, so
 *   an unknown version is judged by the legacy rule, the only one that prints "Failed to remap".
 * - DPDK 18.05 is the first dynamic release (release_18_05.rst); OVS 2.11 the first on it
 *   (Documentation/faq/releases.rst: 2.9/2.10 -> 17.11, 2.11 -> 18.11).
 * - baseline: the process's own /proc/PID/maps lines minus its hugepage lines; when it does not run,
 *   DEFAULT_BASELINE. A minimal ovs-vswitchd 3.1 (no ports, 2 cores) measured 226-236 here; DOMAIN.md gives
 *   1-3k for production hosts. The warn margin absorbs the difference.
 * - warn above WARN_RATIO of the limit: the baseline grows at run time (threads, ports, vhost-user
 *   guest memory regions are mapped into ovs-vswitchd), 15% of 65530 is ~9800 mappings of headroom.
 * - recommended limit: see `recommendedLimit`.
 *
 * Serves content/runbooks/hugepage-map-count.mdx, step "Check the limit against the hugepages".
 */
import { z } from 'zod';
import {
	defineCheck,
	error,
	evidenceOf,
	fail,
	notUnderstood,
	parsed,
	pass,
	skip,
	warn,
	type Ctx,
	type Evidence,
	type ExecProbe,
	type ExecResult,
	type Facts,
	type Parsed,
	type Probe,
	type ReadProbe,
	type Verdict,
} from '../../src/core/check.ts';
import { isRunbookError } from '../../src/core/errors.ts';
import { firstLine, incomplete, linesOf } from '../../src/core/parse/text.ts';
import { codeForOutput, decide, execRecorded, installHint, requireWhole, Undecided } from '../../src/core/parse/verdicts.ts';
import { parseKernelRelease as parseRelease } from '../../src/core/parse/kernel.ts';

// --- params ------------------------------------------------------------------------------------

export const ParamsSchema = z.strictObject({
	/**
	 * The DPDK process as `pidof` names it; its current mappings are the baseline. `ovs-vswitchd` also
	 * turns on `ovs-vswitchd --version` to learn the DPDK version. No leading `-`, so it is never
	 * taken for a `pidof` option.
	 */
	process: z
		.string()
		.regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/, 'a process name: 1-32 of A-Z a-z 0-9 _ . -, not starting with -')
		.default('ovs-vswitchd')
		.describe('the DPDK process as pidof names it; its mappings are the baseline'),
	/**
	 * The DPDK version to judge by, e.g. `17.11`, when `ovs-vswitchd --version` cannot tell (another
	 * DPDK application, a build that does not print it) or is wrong. Overrides what the host says.
	 */
	dpdkVersion: z
		.string()
		.regex(/^\d{1,2}\.\d{1,2}(?:\.\d{1,2})?$/, 'a DPDK version such as 17.11 or 21.11.2')
		.optional()
		.describe('DPDK version to judge by (e.g. 17.11) when the host cannot tell'),
});
export type Params = z.infer<typeof ParamsSchema>;

// --- thresholds --------------------------------------------------------------------------------

/** Mappings assumed for the process itself when it is not running (see the header). */
export const DEFAULT_BASELINE = 1000;
/** Above this share of vm.max_map_count the verdict is `warn`. */
export const WARN_RATIO = 0.85;
/** The kernel's default vm.max_map_count (DEFAULT_MAX_MAP_COUNT, Documentation/admin-guide/sysctl/vm.rst). */
export const KERNEL_DEFAULT_MAX_MAP_COUNT = 65530;
/** Last DPDK release whose EAL only has the legacy two-pass mapping. */
const LAST_LEGACY_DPDK: readonly [number, number] = [18, 2];
/** Last OVS release built on a legacy-only DPDK (2.9 and 2.10 on 17.11). */
const LAST_LEGACY_OVS: readonly [number, number] = [2, 10];
/** DPDK each OVS release line is built and tested against (OVS Documentation/faq/releases.rst, DOMAIN.md). */
const OVS_DPDK: Readonly<Record<string, string>> = {
	'2.6': '16.07',
	'2.7': '16.11',
	'2.8': '17.05',
	'2.9': '17.11',
	'2.10': '17.11',
	'2.11': '18.11',
	'2.12': '18.11',
	'2.13': '19.11',
	'2.14': '19.11',
	'2.15': '20.11',
	'2.16': '20.11',
	'2.17': '21.11',
	'3.0': '21.11',
	'3.1': '22.11',
	'3.2': '22.11',
	'3.3': '23.11',
	'3.4': '23.11',
	'3.5': '24.11',
	'3.6': '24.11',
};

/**
 * The vm.max_map_count to recommend: twice the estimated peak, rounded up to a multiple of 65536.
 * Twice, so the hugepages can double again (a memory upgrade) and the baseline grow with ports and
 * guests before anyone has to revisit it; a multiple of 65536 reads as deliberate in `sysctl` output.
 * The limit itself costs nothing: the kernel only compares a process's map count against it in mmap().
 */
export function recommendedLimit(required: number): number {
	return Math.ceil((2 * required) / 65536) * 65536;
}

// --- paths and probes --------------------------------------------------------------------------

export const MAX_MAP_COUNT_PATH = '/proc/sys/vm/max_map_count';
export const MEMINFO_PATH = '/proc/meminfo';
export const HUGEPAGES_DIR = '/sys/kernel/mm/hugepages';
const EXEC_TIMEOUT_MS = 10_000;
/** `pidof` may list a monitor parent and its child; their maps are read, the larger one counts. */
const MAX_PIDS = 4;

const sizeFile = (sizeKb: number, file: 'nr_hugepages' | 'free_hugepages') => `${HUGEPAGES_DIR}/hugepages-${sizeKb}kB/${file}`;

const maxMapCountProbe: ReadProbe = {
	kind: 'read',
	path: MAX_MAP_COUNT_PATH,
	why: 'vm.max_map_count: the most memory mappings one process may have',
};
const meminfoProbe: ReadProbe = { kind: 'read', path: MEMINFO_PATH, why: 'HugePages_Total / HugePages_Free of the default hugepage size' };
const lsProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ls', HUGEPAGES_DIR],
	why: 'the hugepage sizes this kernel offers',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const unameProbe: ExecProbe = { kind: 'exec', argv: ['uname', '-r'], why: 'kernel release, for the record', timeoutMs: EXEC_TIMEOUT_MS };
const versionProbe: ExecProbe = {
	kind: 'exec',
	argv: ['ovs-vswitchd', '--version'],
	why: 'OVS version and the DPDK it links (line "DPDK x.y"): DPDK <= 18.02 maps every hugepage twice at start',
	timeoutMs: EXEC_TIMEOUT_MS,
};
const pidofProbe = (process: string): ExecProbe => ({
	kind: 'exec',
	argv: ['pidof', process],
	why: `is ${process} running? (exit 1: no)`,
	timeoutMs: EXEC_TIMEOUT_MS,
});
const sizeProbe = (sizeKb: number, file: 'nr_hugepages' | 'free_hugepages'): ReadProbe => ({
	kind: 'read',
	path: sizeFile(sizeKb, file),
	why:
		file === 'nr_hugepages' ? `${label(sizeKb)} hugepages reserved` : `${label(sizeKb)} hugepages free: legacy DPDK maps every one of them`,
});
const mapsProbe = (pid: number | 'PID'): ReadProbe => ({
	kind: 'read',
	path: `/proc/${pid}/maps`,
	why:
		pid === 'PID'
			? 'mappings the process has now, one per line (replace PID with what pidof printed; skip if it printed nothing)'
			: 'mappings the process has now, one per line',
});

/** `2048` -> `2 MB`, `1048576` -> `1 GB`, `64` -> `64 kB`, as DPDK and the runbook name them. */
export function label(sizeKb: number): string {
	if (sizeKb >= 1048576 && sizeKb % 1048576 === 0) return `${sizeKb / 1048576} GB`;
	if (sizeKb >= 1024 && sizeKb % 1024 === 0) return `${sizeKb / 1024} MB`;
	return `${sizeKb} kB`;
}

// --- parsers -----------------------------------------------------------------------------------

/**
 * One decimal number and a newline: `/proc/sys/vm/max_map_count`, `nr_hugepages`, `free_hugepages`.
 * Example: `65530`.
 */
function parseCount(text: string, what: string): Parsed<number> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`${what}: ${cut}`);
	const m = /^(\d{1,15})\n$/.exec(text);
	if (!m) return notUnderstood(`${what}: expected one decimal number, got ${JSON.stringify(text.slice(0, 80))}`);
	return parsed(Number(m[1]), [1]);
}

/** `/proc/sys/vm/max_map_count`. Example: `65530`. */
export function parseMaxMapCount(text: string): Parsed<number> {
	return parseCount(text, 'vm.max_map_count');
}

/** `nr_hugepages` or `free_hugepages` of one size under /sys/kernel/mm/hugepages. Example: `40960`. */
export function parseHugepageCount(text: string): Parsed<number> {
	return parseCount(text, 'hugepage count');
}

export interface Meminfo {
	/** HugePages_Total, in pages of the default size. */
	total: number;
	/** HugePages_Free. */
	free: number;
	/** HugePages_Rsvd, when present. */
	rsvd: number | null;
	/** HugePages_Surp, when present. */
	surp: number | null;
	/** Hugepagesize in kB: the default hugepage size. */
	sizeKb: number;
}

/**
 * /proc/meminfo, whole or as `grep -i huge` prints it. Every line is `Name:   value[ kB]`, e.g.
 * `HugePages_Free:    40960`. The deciding lines are HugePages_Total, HugePages_Free, Hugepagesize.
 */
export function parseMeminfo(text: string): Parsed<Meminfo> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`/proc/meminfo: ${cut}`);
	const values = new Map<string, { value: number; line: number }>();
	const lines = linesOf(text);
	for (const [i, line] of lines.entries()) {
		const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?: kB)?\s*$/.exec(line);
		if (!m) return notUnderstood(`/proc/meminfo line ${i + 1} is not "Name: value": ${JSON.stringify(line.slice(0, 80))}`);
		values.set(m[1]!, { value: Number(m[2]), line: i + 1 });
	}
	const total = values.get('HugePages_Total');
	const free = values.get('HugePages_Free');
	const size = values.get('Hugepagesize');
	const missing = [
		['HugePages_Total', total],
		['HugePages_Free', free],
		['Hugepagesize', size],
	]
		.filter(([, v]) => v === undefined)
		.map(([k]) => k);
	if (missing.length > 0 || !total || !free || !size) {
		return notUnderstood(`/proc/meminfo has no ${missing.join(', ')} line (a kernel without hugetlbfs, or not /proc/meminfo)`);
	}
	if (free.value > total.value) return notUnderstood(`/proc/meminfo: HugePages_Free ${free.value} exceeds HugePages_Total ${total.value}`);
	return parsed(
		{
			total: total.value,
			free: free.value,
			rsvd: values.get('HugePages_Rsvd')?.value ?? null,
			surp: values.get('HugePages_Surp')?.value ?? null,
			sizeKb: size.value,
		},
		[total.line, free.line, size.line],
	);
}

/** `ls /sys/kernel/mm/hugepages`: one `hugepages-<size>kB` per line, e.g. `hugepages-2048kB`. Sizes in kB, as listed. */
export function parseHugepageSizes(text: string): Parsed<number[]> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`ls ${HUGEPAGES_DIR}: ${cut}`);
	const sizes: number[] = [];
	const lines = linesOf(text);
	for (const [i, line] of lines.entries()) {
		const m = /^hugepages-(\d{1,10})kB$/.exec(line);
		if (!m) return notUnderstood(`ls ${HUGEPAGES_DIR} line ${i + 1} is not "hugepages-<size>kB": ${JSON.stringify(line.slice(0, 80))}`);
		const size = Number(m[1]);
		if (size === 0 || sizes.includes(size)) return notUnderstood(`ls ${HUGEPAGES_DIR} line ${i + 1}: size ${size} kB listed twice or zero`);
		sizes.push(size);
	}
	return parsed(
		sizes,
		lines.map((_, i) => i + 1),
	);
}

export interface OvsVersion {
	/** The program name it printed: `ovs-vswitchd`, or `ovs-vswitchd-dpdk` when run by its real name. */
	program: string;
	/** As printed: `2.9.0`, `2.17.2-24a81c8`, `3.1.0`. */
	ovs: string;
	ovsMajor: number;
	ovsMinor: number;
	/** As printed after `DPDK `: `17.11.0`, `20.11.6.1.5`; null when there is no DPDK line. */
	dpdk: string | null;
	dpdkMajor: number | null;
	dpdkMinor: number | null;
	/** A vendor prefix of the DPDK line, e.g. `MLNX` for `MLNX_DPDK 20.11.6.1.5`. */
	dpdkVendor: string | null;
}

/**
 * `ovs-vswitchd --version`: `ovs-vswitchd (Open vSwitch) 2.9.0`, then `DPDK 17.11.0` when built with
 * DPDK (`print_dpdk_version`), or `Compiled <date>` on old releases. Lines it does not know are
 * ignored; the OVS line must be there exactly once.
 */
export function parseOvsVersion(text: string): Parsed<OvsVersion> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`ovs-vswitchd --version: ${cut}`);
	let ovs: { line: number; program: string; version: string; major: number; minor: number } | undefined;
	let dpdk: { line: number; version: string; major: number; minor: number; vendor: string | null } | undefined;
	for (const [i, line] of linesOf(text).entries()) {
		const o = /^(\S+) \(Open vSwitch\) ((\d+)\.(\d+)\S*)\s*$/.exec(line);
		if (o) {
			if (ovs) return notUnderstood(`ovs-vswitchd --version: two "(Open vSwitch)" lines (${ovs.line} and ${i + 1})`);
			ovs = { line: i + 1, program: o[1]!, version: o[2]!, major: Number(o[3]), minor: Number(o[4]) };
			continue;
		}
		const d = /^(?:([A-Za-z0-9]+)_)?DPDK v?((\d+)\.(\d+)\S*)\s*$/.exec(line);
		if (d && !dpdk) dpdk = { line: i + 1, version: d[2]!, major: Number(d[3]), minor: Number(d[4]), vendor: d[1] ?? null };
	}
	if (!ovs) return notUnderstood('ovs-vswitchd --version: no "<program> (Open vSwitch) <version>" line');
	return parsed(
		{
			program: ovs.program,
			ovs: ovs.version,
			ovsMajor: ovs.major,
			ovsMinor: ovs.minor,
			dpdk: dpdk?.version ?? null,
			dpdkMajor: dpdk?.major ?? null,
			dpdkMinor: dpdk?.minor ?? null,
			dpdkVendor: dpdk?.vendor ?? null,
		},
		dpdk ? [ovs.line, dpdk.line] : [ovs.line],
	);
}

export interface Maps {
	/** Lines, i.e. mappings (VMAs). */
	mappings: number;
	/** Mappings of DPDK hugepage files: `.../rtemap_12`, `.../rtemap_0-3`, `/memfd:seg_2-31 (deleted)`. */
	hugepageMappings: number;
	/** Bytes those hugepage mappings span. */
	hugepageBytes: number;
}

const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) [-r][-w][-x][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+(?: +(.*))?$/;
/** DPDK names hugepage files `<file-prefix>map_<n>` (default prefix `rte`), or `memfd:seg_<list>-<seg>` with --in-memory. */
const HUGEPAGE_FILE = /(?:\/[\w.-]*map_\d+(?:-\d+)?|^\/memfd:seg_\d+(?:-\d+)?)(?: \(deleted\))?$/;

/**
 * `/proc/PID/maps`: one mapping per line,
 * `1180200000-1180400000 rw-s 00000000 00:11 14922                          /memfd:seg_2-0 (deleted)`.
 * The count is the line number of the last line.
 */
export function parseMaps(text: string): Parsed<Maps> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`/proc/PID/maps: ${cut}`);
	const lines = linesOf(text);
	let hugepageMappings = 0;
	let hugepageBytes = 0n;
	for (const [i, line] of lines.entries()) {
		const m = MAPS_LINE.exec(line);
		if (!m)
			return notUnderstood(
				`/proc/PID/maps line ${i + 1} is not "start-end perms offset dev inode [path]": ${JSON.stringify(line.slice(0, 80))}`,
			);
		if (m[3] && HUGEPAGE_FILE.test(m[3])) {
			hugepageMappings++;
			hugepageBytes += BigInt(`0x${m[2]}`) - BigInt(`0x${m[1]}`);
		}
	}
	return parsed({ mappings: lines.length, hugepageMappings, hugepageBytes: Number(hugepageBytes) }, [lines.length]);
}

/** `pidof NAME` on success: pids separated by blanks, e.g. `48131` or `2201 2200`. At most 7 digits (pid_max is at most 4194304). */
export function parsePidof(text: string): Parsed<number[]> {
	const cut = incomplete(text, 'it');
	if (cut) return notUnderstood(`pidof: ${cut}`);
	const m = /^([1-9]\d{0,6}(?: [1-9]\d{0,6})*)\n$/.exec(text);
	if (!m) return notUnderstood(`pidof: expected process ids, got ${JSON.stringify(text.slice(0, 80))}`);
	return parsed(m[1]!.split(' ').map(Number), [1]);
}

/** `uname -r`, e.g. `3.10.0-693.el7.x86_64`: the release string, for the record (the shared parser reads it). */
export function parseKernelRelease(text: string): Parsed<string> {
	const k = parseRelease(text);
	return k.ok ? parsed(k.value.release, k.lines) : k;
}

// --- evaluate ----------------------------------------------------------------------------------

export interface SizeObservation {
	sizeKb: number;
	/** nr_hugepages */
	total: number;
	/** free_hugepages */
	free: number;
}

export interface ProcessObservation {
	name: string;
	/** The pid whose maps were counted; null when it is not running. */
	pid: number | null;
	/** Its maps, or null when not running or unreadable. */
	maps: Maps | null;
	/** Why the maps are missing although it runs (permission denied, exited meanwhile). */
	mapsProblem: string | null;
}

export interface VersionObservation {
	/** What `ovs-vswitchd --version` said, when it was run and understood. */
	parsed: OvsVersion | null;
	/** Why there is no version: not installed, not understood, not asked (another process). */
	problem: string | null;
}

export interface Observation {
	maxMapCount: number;
	/** Every size `ls` listed. */
	sizes: SizeObservation[];
	/** Default size and its counts from /proc/meminfo, for the record. */
	meminfo: Meminfo;
	process: ProcessObservation;
	version: VersionObservation;
	kernel: string | null;
	/** Carried into the verdict as is. */
	evidence: Evidence[];
}

export type Rule = 'legacy' | 'dynamic';

interface RuleChoice {
	rule: Rule;
	dpdkVersion: string | null;
	/** Where the DPDK version came from. */
	dpdkVersionSource: 'param' | 'ovs-vswitchd --version' | 'OVS release table' | null;
	/** How the rule was chosen, for the summary. */
	because: string;
}

const atMost = (major: number, minor: number, limit: readonly [number, number]) =>
	major < limit[0] || (major === limit[0] && minor <= limit[1]);

function dpdkRule(version: string): Rule {
	const [major = 0, minor = 0] = version.split('.').map(Number);
	return atMost(major, minor, LAST_LEGACY_DPDK) ? 'legacy' : 'dynamic';
}

/** Which mapping rule applies: the param, else the DPDK line, else the OVS release table, else legacy. */
export function chooseRule(version: VersionObservation, params: Pick<Params, 'dpdkVersion'>): RuleChoice {
	if (params.dpdkVersion) {
		return {
			rule: dpdkRule(params.dpdkVersion),
			dpdkVersion: params.dpdkVersion,
			dpdkVersionSource: 'param',
			because: `DPDK ${params.dpdkVersion} (given as a parameter)`,
		};
	}
	const v = version.parsed;
	if (v?.dpdk && v.dpdkMajor !== null && v.dpdkMinor !== null) {
		return {
			rule: atMost(v.dpdkMajor, v.dpdkMinor, LAST_LEGACY_DPDK) ? 'legacy' : 'dynamic',
			dpdkVersion: v.dpdk,
			dpdkVersionSource: 'ovs-vswitchd --version',
			because: `${v.dpdkVendor ? `${v.dpdkVendor}_` : ''}DPDK ${v.dpdk} (ovs-vswitchd ${v.ovs})`,
		};
	}
	if (v) {
		const table = OVS_DPDK[`${v.ovsMajor}.${v.ovsMinor}`] ?? null;
		const legacy = atMost(v.ovsMajor, v.ovsMinor, LAST_LEGACY_OVS);
		const dpdkText = table ? `DPDK ${table}` : legacy ? 'a DPDK older than 16.07' : 'a DPDK of 18.11 or later';
		return {
			rule: legacy ? 'legacy' : 'dynamic',
			dpdkVersion: table,
			dpdkVersionSource: table ? 'OVS release table' : null,
			because: `ovs-vswitchd ${v.ovs} printed no DPDK line (built without DPDK, or a release that does not print it); OVS ${v.ovsMajor}.${v.ovsMinor} is released with ${dpdkText}`,
		};
	}
	return {
		rule: 'legacy',
		dpdkVersion: null,
		dpdkVersionSource: null,
		because: `DPDK version unknown (${version.problem ?? 'no version'}), so judged by the legacy EAL rule, the only one that prints "Failed to remap 2 MB pages"`,
	};
}

interface SizeNeed {
	sizeKb: number;
	/** Pages DPDK could map at its next start: free now, plus those the process holds. */
	pages: number;
}

/** Peak mappings for the hugepages alone, and the size at which it happens. Sizes are taken largest first. */
export function hugepagePeak(rule: Rule, sizes: readonly SizeNeed[]): { peak: number; sizeKb: number | null } {
	const ordered = sizes.toSorted((a, b) => b.sizeKb - a.sizeKb);
	if (rule === 'dynamic') {
		const peak = ordered.reduce((sum, s) => sum + s.pages, 0);
		return { peak, sizeKb: ordered.find((s) => s.pages > 0)?.sizeKb ?? null };
	}
	let larger = 0;
	let best = { peak: 0, sizeKb: null as number | null };
	for (const s of ordered) {
		const here = 2 * s.pages + larger;
		if (s.pages > 0 && here > best.peak) best = { peak: here, sizeKb: s.sizeKb };
		larger += s.pages;
	}
	return best;
}

function pagesBySize(sizes: readonly SizeObservation[], kb: number): { total: number; free: number } {
	const s = sizes.find((x) => x.sizeKb === kb);
	return { total: s?.total ?? 0, free: s?.free ?? 0 };
}

/** Judge the observation. Pure; every threshold is here or in the constants above. */
export function evaluate(obs: Observation, params: Params): Verdict {
	const choice = chooseRule(obs.version, params);
	const { process } = obs;
	const running = process.pid !== null;
	const mapsKnown = process.maps !== null;

	// Pages the next start can map: free now, plus what the running process holds (freed on restart).
	// Without its maps, every reserved page is assumed mappable.
	const heldBytes = process.maps?.hugepageBytes ?? 0;
	const needs: SizeNeed[] = obs.sizes.map((s) => {
		if (running && !mapsKnown) return { sizeKb: s.sizeKb, pages: s.total };
		const held = Math.min(Math.max(s.total - s.free, 0), Math.floor(heldBytes / (s.sizeKb * 1024)));
		return { sizeKb: s.sizeKb, pages: s.free + held };
	});

	const baseline = process.maps ? process.maps.mappings - process.maps.hugepageMappings : DEFAULT_BASELINE;
	const baselineSource = process.maps && process.pid !== null ? `/proc/${process.pid}/maps` : 'default';
	const { peak, sizeKb: peakSizeKb } = hugepagePeak(choice.rule, needs);
	const required = peak + baseline;
	const limit = obs.maxMapCount;
	const warnAbove = Math.floor(limit * WARN_RATIO);
	const twoM = pagesBySize(obs.sizes, 2048);
	const oneG = pagesBySize(obs.sizes, 1048576);
	const reserved = obs.sizes.reduce((n, s) => n + s.total, 0);
	const mappable = needs.reduce((n, s) => n + s.pages, 0);

	const facts: Facts = {
		maxMapCount: limit,
		required,
		baseline,
		baselineSource,
		rule: choice.rule,
		dpdkVersion: choice.dpdkVersion,
		dpdkVersionSource: choice.dpdkVersionSource,
		ovsVersion: obs.version.parsed?.ovs ?? null,
		hugepages2M: twoM.total,
		free2M: twoM.free,
		hugepages1G: oneG.total,
		free1G: oneG.free,
		hugepageSizesKb: obs.sizes.map((s) => s.sizeKb),
		pagesMappableAtStart: mappable,
		peakSizeKb,
		warnAbove,
		process: process.name,
		pid: process.pid,
		processMappings: process.maps?.mappings ?? null,
		processHugepageMappings: process.maps?.hugepageMappings ?? null,
		kernel: obs.kernel,
	};
	const extras = { evidence: obs.evidence, facts };

	if (mappable === 0) {
		const why =
			reserved === 0
				? 'No hugepages are reserved (nr_hugepages is 0 for every size), so DPDK has nothing to map and vm.max_map_count cannot be the cause.'
				: `All ${reserved} reserved hugepages are in use by other processes, so DPDK has nothing left to map and vm.max_map_count cannot be the cause.`;
		return skip(`${why} DPDK will still not start without free hugepages ("EAL: No free hugepages reported ...", "Cannot init memory").`, {
			...extras,
			next: '#no-hugepages-to-map',
		});
	}

	const rulePart =
		choice.rule === 'legacy'
			? `legacy EAL mapping (every free page twice): ${choice.because}`
			: `dynamic memory (each page once): ${choice.because}`;
	const arithmetic = arithmeticText(choice.rule, needs, peak, peakSizeKb);
	const baselinePart = process.maps
		? `${baseline} mappings ${process.name} (pid ${process.pid}) has besides hugepages`
		: running
			? `${baseline} assumed for ${process.name} (pid ${process.pid}), whose maps could not be read: ${process.mapsProblem ?? 'unknown reason'}; every reserved page counted`
			: `${baseline} assumed for ${process.name}, which is not running`;
	const estimate = `${arithmetic} + ${baselinePart} = ${required}`;
	const share = Math.round((required / limit) * 100);

	if (required >= limit) {
		const recommended = recommendedLimit(required);
		facts.recommended = recommended;
		return fail(
			`vm.max_map_count is ${limit}${limit === KERNEL_DEFAULT_MAX_MAP_COUNT ? ' (the kernel default)' : ''} but ${process.name} needs about ${required} mappings at start (${share}%), by ${rulePart}. Estimate: ${estimate}. Raise vm.max_map_count to ${recommended}.`,
			{ ...extras, next: '#raise-the-limit', fix: fixFor(recommended) },
		);
	}
	if (required > warnAbove) {
		const recommended = recommendedLimit(required);
		facts.recommended = recommended;
		return warn(
			`vm.max_map_count ${limit} only just covers the ${required} mappings ${process.name} needs at start (${share}%, above the ${Math.round(WARN_RATIO * 100)}% margin), by ${rulePart}. Estimate: ${estimate}. More ports or guests can push it over; raise vm.max_map_count to ${recommended}.`,
			{ ...extras, next: '#raise-the-limit', fix: fixFor(recommended) },
		);
	}
	return pass(
		`vm.max_map_count ${limit} covers the ${required} mappings ${process.name} needs at start (${share}%), by ${rulePart}. Estimate: ${estimate}.`,
		{ ...extras, next: '#if-the-check-passes' },
	);
}

function arithmeticText(rule: Rule, needs: readonly SizeNeed[], peak: number, peakSizeKb: number | null): string {
	const used = needs.filter((s) => s.pages > 0).toSorted((a, b) => b.sizeKb - a.sizeKb);
	const pages = (n: number, kb: number) => `${n} ${n === 1 ? 'page' : 'pages'} of ${label(kb)}`;
	if (rule === 'dynamic') return used.map((s) => pages(s.pages, s.sizeKb)).join(' + ');
	const at = used.findIndex((s) => s.sizeKb === peakSizeKb);
	const top = used[at];
	if (!top) return String(peak);
	const larger = used.slice(0, at).map((s) => `${pages(s.pages, s.sizeKb)} (still mapped)`);
	return [`2 x ${pages(top.pages, top.sizeKb)}`, ...larger].join(' + ');
}

function fixFor(recommended: number): string[] {
	return [`sysctl -w vm.max_map_count=${recommended}`, `echo 'vm.max_map_count = ${recommended}' > /etc/sysctl.d/90-dpdk-hugepages.conf`];
}

// --- run ---------------------------------------------------------------------------------------

/** Read a required kernel file and parse it, or stop with the error that says why not. */
async function readRequired<T>(
	ctx: Ctx,
	probe: ReadProbe,
	parse: (text: string) => Parsed<T>,
	evidence: Evidence[],
): Promise<{ value: T; text: string; lines: number[] }> {
	const text = await ctx.read(probe.path);
	if (text === null) {
		evidence.push(evidenceOf(probe, ''));
		throw new Undecided(
			error('CommandFailed', `${probe.path} does not exist on this host; the check needs it for ${probe.why}.`, {
				evidence,
				hint: `Run \`cat ${probe.path}\` by hand; a missing file means a kernel without this interface (not Linux, or no hugetlbfs support).`,
			}),
		);
	}
	const p = parse(text);
	evidence.push(evidenceOf(probe, text, p.ok ? p.lines : []));
	if (!p.ok)
		throw new Undecided(
			error(codeForOutput(text), `${p.reason.startsWith(probe.path) ? '' : `${probe.path}: `}${p.reason}.`, { evidence }),
		);
	return { value: p.value, text, lines: p.lines };
}

/** Run a required command and return its stdout, or stop with the error that says why not. */
async function execRequired(ctx: Ctx, probe: ExecProbe, evidence: Evidence[]): Promise<ExecResult> {
	const r = await execRecorded(ctx, probe, evidence, EXEC_TIMEOUT_MS);
	requireWhole(probe, r, { evidence });
	return r;
}

async function observeVersion(ctx: Ctx, params: Params, evidence: Evidence[]): Promise<VersionObservation> {
	if (params.process !== 'ovs-vswitchd') return { parsed: null, problem: `the process is ${params.process}, not ovs-vswitchd` };
	const r = await ctx.exec(versionProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	if (r.code !== 0) {
		evidence.push(evidenceOf(versionProbe, output, [], { code: r.code }));
		const why =
			r.code === 127 ? 'ovs-vswitchd is not installed or does not load' : `ovs-vswitchd --version exited with ${r.code ?? 'a signal'}`;
		return { parsed: null, problem: `${why}: ${firstLine(r.stderr) || 'no error output'}` };
	}
	const p = parseOvsVersion(r.stdout);
	evidence.push(evidenceOf(versionProbe, output, p.ok ? p.lines : [], { code: r.code }));
	return p.ok ? { parsed: p.value, problem: null } : { parsed: null, problem: `ovs-vswitchd --version not understood: ${p.reason}` };
}

async function observeProcess(ctx: Ctx, name: string, evidence: Evidence[]): Promise<ProcessObservation> {
	const probe = pidofProbe(name);
	const r = await ctx.exec(probe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const output = r.stdout + r.stderr;
	if (r.code === 1 && r.stdout.trim() === '') {
		evidence.push(evidenceOf(probe, output, [], { code: r.code }));
		return { name, pid: null, maps: null, mapsProblem: null };
	}
	if (r.code === 127) {
		evidence.push(evidenceOf(probe, output, [], { code: r.code }));
		throw new Undecided(
			error('CommandMissing', '`pidof` is not installed, so the check cannot tell whether the process runs and holds hugepages.', {
				evidence,
				hint: installHint('pidof'),
			}),
		);
	}
	const p = r.code === 0 ? parsePidof(r.stdout) : notUnderstood(`pidof exited with ${r.code ?? 'a signal'}`);
	evidence.push(evidenceOf(probe, output, p.ok ? p.lines : [], { code: r.code }));
	if (!p.ok)
		throw new Undecided(error(r.code === 0 ? codeForOutput(r.stdout) : 'CommandFailed', `pidof ${name}: ${p.reason}.`, { evidence }));

	let best: ProcessObservation | null = null;
	let problem: string | null = null;
	for (const pid of p.value.slice(0, MAX_PIDS)) {
		const mp = mapsProbe(pid);
		let text: string | null;
		try {
			text = await ctx.read(mp.path);
		} catch (e) {
			// The only file here a non-root login may not read; the estimate then assumes the worst instead.
			if (isRunbookError(e) && e.code === 'PermissionDenied') {
				evidence.push(evidenceOf(mp, e.detail));
				problem = `permission denied reading ${mp.path}`;
				continue;
			}
			throw e;
		}
		if (text === null || text === '') {
			evidence.push(evidenceOf(mp, text ?? ''));
			problem = `${mp.path} is gone or empty (the process exited meanwhile?)`;
			continue;
		}
		const m = parseMaps(text);
		evidence.push(evidenceOf(mp, text, m.ok ? m.lines : []));
		if (!m.ok) throw new Undecided(error(codeForOutput(text), `${mp.path}: ${m.reason}.`, { evidence }));
		if (!best?.maps || m.value.mappings > best.maps.mappings) best = { name, pid, maps: m.value, mapsProblem: null };
	}
	return best ?? { name, pid: p.value[0] ?? null, maps: null, mapsProblem: problem };
}

async function observe(ctx: Ctx, params: Params): Promise<Observation> {
	const evidence: Evidence[] = [];
	ctx.progress('reading vm.max_map_count and hugepages', 0.1);
	const maxMapCount = (await readRequired(ctx, maxMapCountProbe, parseMaxMapCount, evidence)).value;
	const meminfo = (await readRequired(ctx, meminfoProbe, parseMeminfo, evidence)).value;

	const ls = await execRequired(ctx, lsProbe, evidence);
	const sizesParsed = parseHugepageSizes(ls.stdout);
	const lsEvidence = evidence.at(-1)!;
	if (!sizesParsed.ok) throw new Undecided(error(codeForOutput(ls.stdout), `${sizesParsed.reason}.`, { evidence }));
	lsEvidence.lines = sizesParsed.lines;

	const sizes: SizeObservation[] = [];
	for (const sizeKb of sizesParsed.value.toSorted((a, b) => b - a)) {
		const total = (await readRequired(ctx, sizeProbe(sizeKb, 'nr_hugepages'), parseHugepageCount, evidence)).value;
		const free = (await readRequired(ctx, sizeProbe(sizeKb, 'free_hugepages'), parseHugepageCount, evidence)).value;
		sizes.push({ sizeKb, total, free });
	}

	ctx.progress('reading versions and the process', 0.6);
	const u = await ctx.exec(unameProbe.argv, { timeoutMs: EXEC_TIMEOUT_MS });
	const kernel = u.code === 0 ? parseKernelRelease(u.stdout) : notUnderstood('uname failed');
	evidence.push(evidenceOf(unameProbe, u.stdout + u.stderr, kernel.ok ? kernel.lines : [], { code: u.code }));

	const version = await observeVersion(ctx, params, evidence);
	const process = await observeProcess(ctx, params.process, evidence);
	return { maxMapCount, sizes, meminfo, process, version, kernel: kernel.ok ? kernel.value : null, evidence };
}

export default defineCheck({
	id: 'kernel.max-map-count',
	title: 'vm.max_map_count against the hugepages DPDK will map',
	description:
		'Estimates how many memory mappings DPDK (ovs-vswitchd by default) needs while it maps its hugepages at start, from the free hugepages of every size, the DPDK version (legacy EAL before 18.05 maps each page twice) and the mappings the process already has, and compares that with vm.max_map_count. Fails when the limit is too low: the cause of "EAL: Failed to remap 2 MB pages".',
	platforms: ['linux'],
	mutates: false,
	nextSteps: ['#raise-the-limit', '#if-the-check-passes', '#no-hugepages-to-map', '#work-it-out-by-hand'],
	params: ParamsSchema,
	probes(params) {
		const probes: Probe[] = [maxMapCountProbe, meminfoProbe, lsProbe];
		for (const kb of [2048, 1048576]) probes.push(sizeProbe(kb, 'nr_hugepages'), sizeProbe(kb, 'free_hugepages'));
		probes.push(unameProbe);
		if (params.process === 'ovs-vswitchd') probes.push(versionProbe);
		probes.push(pidofProbe(params.process), mapsProbe('PID'));
		return probes;
	},
	run(ctx, params) {
		return decide(async () => {
			const obs = await observe(ctx, params);
			ctx.progress('comparing', 0.95);
			return evaluate(obs, params);
		}, '#work-it-out-by-hand');
	},
});
