/**
 * `uname -r`: the kernel release, and what can and cannot be read from it.
 *
 * The release names the upstream version a kernel is built from, and sometimes who built it:
 *
 *   6.1.0-18-amd64            Debian: the sublevel is always 0, `18` is Debian's ABI number
 *   5.4.0-42-generic          Ubuntu: the same scheme
 *   3.10.0-123.4.4.el7.x86_64 RHEL / CentOS 7.0: 3.10.0 forever, the build number says the release
 *   5.7.7-200.fc32.x86_64     Fedora: the upstream stable sublevel, then the package release
 *   5.4.51-v7l+               Raspberry Pi OS: upstream stable plus the Pi patches, `-v7l+` the board
 *   5.8.0, 5.8.0-rc3, 4.9.229 upstream builds, `+` for a locally modified tree
 *
 * A fix that reached a stable tree can be judged from the sublevel only for upstream and Raspberry
 * Pi builds. Distribution kernels carry backports their version does not show (SUSE put the
 * ax88179_178a alignment fix into a 4.4 kernel in 2022, bsc#1196018), so a check must say it cannot
 * tell rather than guess.
 */
import { notUnderstood, parsed, type Parsed } from '../check.ts';

/** Who built the kernel, as far as the release string tells. */
export type KernelBuilder = 'upstream' | 'raspberrypi' | 'rhel' | 'distribution';

export interface KernelRelease {
	/** As printed, without the newline. */
	release: string;
	major: number;
	minor: number;
	/** The third number; 0 when absent (`5.8-rc3`). */
	sublevel: number;
	/** `5.8.0-rc3` -> 3. */
	rc: number | null;
	/** Everything after `X.Y[.Z][-rcN]`, e.g. `-18-amd64`, `-123.4.4.el7.x86_64`, `-v7l+`, ``. */
	suffix: string;
	builder: KernelBuilder;
	/**
	 * True when `sublevel` is the upstream stable sublevel the kernel is built from (upstream,
	 * Raspberry Pi, and distributions that keep it, such as Fedora or Arch); false for the Debian and
	 * Ubuntu ABI scheme and RHEL, which print 0 whatever they are built from.
	 */
	sublevelKnown: boolean;
	/** RHEL-family build (`3.10.0-123.4.4.el7` -> `{ el: 7, build: [123, 4, 4] }`), else null. */
	rhel: { el: number; build: number[] } | null;
}

const RELEASE = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,4}))?(?:-rc(\d{1,3}))?(\S*)$/;
/** Debian and Ubuntu: `-<abi>-<flavour>` after an `X.Y.0` version. */
const ABI_FLAVOUR = /^-\d+(?:\.\d+)?-[a-z][a-z0-9-]*$/;
/** Raspberry Pi Foundation kernels: `+`, `-v7+`, `-v7l+`, `-v8+`, `-v8-16k+`. */
const RASPBERRY_PI = /^(?:-v[678][a-z0-9-]*)?\+$/;
/** RHEL and its rebuilds (CentOS, Alma, Rocky, Oracle): `-<build>.el<N>...`. */
const RHEL = /^-(\d+(?:\.\d+)*)\.el(\d+)/;

/**
 * `uname -r`: one release and a newline, e.g. `3.10.0-123.4.4.el7.x86_64`. Anything else (empty,
 * cut, two lines, an error message) is not understood.
 */
export function parseKernelRelease(text: string): Parsed<KernelRelease> {
	if (text.trim() === '') return notUnderstood('uname -r printed nothing');
	if (!text.endsWith('\n')) return notUnderstood('uname -r output does not end with a newline, so it may have been cut');
	const m = /^(\S+)\n$/.exec(text);
	const v = m ? RELEASE.exec(m[1]!) : null;
	if (!m || !v) return notUnderstood(`uname -r: expected a release such as 6.1.0-18-amd64, got ${JSON.stringify(text.slice(0, 80))}`);
	const release = m[1]!;
	const sublevel = v[3] === undefined ? 0 : Number(v[3]);
	const suffix = v[5] ?? '';
	const rhelMatch = RHEL.exec(suffix);
	const rhel = rhelMatch ? { el: Number(rhelMatch[2]), build: rhelMatch[1]!.split('.').map(Number) } : null;
	let builder: KernelBuilder;
	if (rhel) builder = 'rhel';
	else if (suffix === '') builder = 'upstream';
	else if (RASPBERRY_PI.test(suffix)) builder = suffix === '+' ? 'upstream' : 'raspberrypi';
	else builder = 'distribution';
	const abiScheme = sublevel === 0 && ABI_FLAVOUR.test(suffix);
	return parsed(
		{
			release,
			major: Number(v[1]),
			minor: Number(v[2]),
			sublevel,
			rc: v[4] === undefined ? null : Number(v[4]),
			suffix,
			builder,
			sublevelKnown: builder !== 'rhel' && !abiScheme,
			rhel,
		},
		[1],
	);
}

/** Compare version tuples numerically, a missing element counting as 0: `[5, 7, 7]` > `[5, 7]`. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		const d = (a[i] ?? 0) - (b[i] ?? 0);
		if (d !== 0) return Math.sign(d);
	}
	return 0;
}

/** The kernel's `[major, minor, sublevel]`. */
export function versionOf(k: KernelRelease): [number, number, number] {
	return [k.major, k.minor, k.sublevel];
}

/** True when the kernel's upstream base is at least `version`; a `-rc` counts as the version it leads to (check `rc` where that matters). */
export function atLeast(k: KernelRelease, version: readonly number[]): boolean {
	return compareVersions(versionOf(k), version) >= 0;
}
