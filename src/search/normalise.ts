/**
 * Text to search terms, the same way for the runbooks (at build time) and for what the engineer
 * types or pastes (in the browser and in the terminal), so both sides meet on one vocabulary.
 *
 * 1. Noise a pasted log line carries is blanked out, keeping every other character where it was
 *    (so a term still knows its place in the original text, for highlighting): timestamps, kernel
 *    `[12345.678]` stamps, `[1234]` process ids, the syslog host name, MAC, IPv4 and IPv6
 *    addresses, hex values, UUIDs, `user@host`.
 * 2. Words are cut on anything that is not a letter or a digit, and a size or a share is kept as
 *    one term: `2 MB`, `2M` and `2048kB` all become `2mb`, `25%` becomes `25pct`.
 * 3. Words lose their inflection (`stem`): "hangs", "hanging", "hanged" -> "hang".
 * 4. Typos: a word the index has never seen is corrected to the nearest word it has (one edit,
 *    two for long words, a swap of two letters counting as one), when the caller passes the
 *    vocabulary (queries only).
 * 5. Synonyms (`synonyms.ts`), several words at a time: "times out", "is stuck" -> "hang".
 * 6. Stop words go; a number, or a name with digits in it (a host, an interface, a PID), stays only
 *    if the runbooks use it (`keep`): `1472` and `eth0` mean something, `compute07` and `31337` do
 *    not.
 */
import { CONTRACTIONS, STOPWORDS, SYNONYM_GROUPS } from './synonyms.ts';

/** One search term and the span of the original text it came from. */
export interface Token {
	term: string;
	start: number;
	end: number;
}

export interface AnalyseOptions {
	/**
	 * Fold synonyms (default). The signature comparison turns it off: a pasted error line is
	 * compared as written, so "not working" cannot pass for the signature `FAILED`.
	 */
	synonyms?: boolean;
	/**
	 * Terms with a digit that carry meaning. Without it every such term of two characters or more
	 * is kept (the runbooks' own symptoms and signatures, which define the set).
	 */
	keep?: ReadonlySet<string>;
	/** Every term the index holds; given for queries, to correct typos against. */
	vocabulary?: ReadonlySet<string>;
}

/** Whether some term of the vocabulary starts with `word`: an unfinished word, not a typo. */
export function isPrefixOfAny(word: string, vocabulary: ReadonlySet<string>): boolean {
	if (word.length < 3) return false;
	for (const v of vocabulary) if (v.length > word.length && v.startsWith(word)) return true;
	return false;
}

const blank = (m: string) => ' '.repeat(m.length);

const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*';
const ISO_TIME = String.raw`\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?`;
const SYSLOG_TIME = String.raw`${MONTH}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:[.,]\d+)?`;

/**
 * In order: the host name first (it is only recognisable next to the timestamp and the
 * `program[pid]:` after it), then each kind of noise on its own. Every match is replaced by as
 * many spaces.
 */
const NOISE: readonly RegExp[] = [
	// "May 12 10:01:02 compute01 ovs-vswitchd[1234]:", "2016-05-12T10:01:02Z compute01 kernel:"
	new RegExp(String.raw`(?:${ISO_TIME}|${SYSLOG_TIME})\s+[\w.-]+(?=\s+(?:[\w./-]+\[\d+\]|kernel):)`, 'g'),
	new RegExp(String.raw`\b${ISO_TIME}\b`, 'g'),
	new RegExp(String.raw`\b${SYSLOG_TIME}\b`, 'g'),
	// UUIDs, MACs and IPv6 before times of day, which would take three of their groups
	/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g,
	// MAC: 52:54:00:12:34:56, 52-54-00-12-34-56, Cisco 5254.0012.3456
	/\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b/g,
	/\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b/g,
	// IPv6, full or with "::", optional zone and prefix length
	/(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?)(?:%[\w.]+)?(?:\/\d{1,3})?(?![\w:])/g,
	// a time of day on its own: 10:01:02, 10:01:02.123
	/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g,
	// kernel ring buffer: [12345.678901]
	/\[\s*\d+\.\d+\]/g,
	// process ids: ovs-vswitchd[1234]:, pid 1234, pid=1234
	/\[\d+\]/g,
	/\bpid[ =:]?\d+\b/g,
	// IPv4 with an optional prefix length or port
	/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2}|:\d{1,5})?\b/g,
	// hex values: 0x7f3a9c
	/\b0x[0-9a-f]+\b/g,
	// user@host, also in shell prompts
	/[\w.-]+@[\w.-]+/g,
];

/**
 * Lower case (ASCII only, so every character keeps its offset), typographic apostrophes to `'`,
 * and the noise above blanked out.
 */
export function stripNoise(text: string): string {
	let s = text.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[\u2018\u2019`]/g, "'");
	for (const re of NOISE) s = s.replace(re, blank);
	return s;
}

const UNIT_BYTES: Record<string, number> = { k: 1, kb: 1, kib: 1, m: 2, mb: 2, mib: 2, g: 3, gb: 3, gib: 3, t: 4, tb: 4, tib: 4 };
const UNIT_NAME = ['', 'kb', 'mb', 'gb', 'tb'];

/** `2048 kB` -> `2mb`: the largest unit that keeps the number whole, so every spelling meets. */
function sizeTerm(value: string, unit: string): string {
	let power = UNIT_BYTES[unit]!;
	if (!/^\d+$/.test(value)) return `${value}${UNIT_NAME[power]}`;
	let n = BigInt(value);
	while (power < 4 && n > 0n && n % 1024n === 0n) {
		n /= 1024n;
		power++;
	}
	return `${n}${UNIT_NAME[power]}`;
}

// A share (`25%`, `25 percent`), a size (`2 MB`, `2M`, `2048kB`), a contraction (`doesn't`), or a
// run of letters and digits.
const WORD =
	/(\d+(?:\.\d+)?)\s?(?:%|percent\b|pct\b)|(\d+(?:\.\d+)?)\s?(kib|mib|gib|tib|kb|mb|gb|tb)\b|(\d+)([kmgt])\b|([a-z]+n't)\b|([a-z0-9]+)/g;

interface RawToken extends Token {
	/** The word as written (lower case), for the stop list. */
	word: string;
}

function words(s: string): RawToken[] {
	const out: RawToken[] = [];
	for (const m of s.matchAll(WORD)) {
		const start = m.index;
		const end = start + m[0].length;
		const push = (term: string, word = term) => out.push({ term, word, start, end });
		if (m[1] !== undefined) push(`${m[1].replace(/\.0+$/, '')}pct`);
		else if (m[2] !== undefined) push(sizeTerm(m[2], m[3]!));
		else if (m[4] !== undefined) push(sizeTerm(m[4], m[5]!));
		else if (m[6] !== undefined) {
			const expanded = CONTRACTIONS[m[6]] ?? `${m[6].slice(0, -3)} not`;
			for (const w of expanded.split(' ')) push(stem(w), w);
		} else if (CONTRACTIONS[m[7]!] !== undefined) {
			for (const w of CONTRACTIONS[m[7]!]!.split(' ')) push(stem(w), w);
		} else push(/[0-9]/.test(m[7]!) ? m[7]! : stem(m[7]!), m[7]!);
	}
	return out;
}

// Plurals in -s that are names, not plurals.
const KEEP_S = new Set([
	'ovs',
	'dns',
	'nfs',
	'tls',
	'qos',
	'bus',
	'gbs',
	'mbs',
	'xps',
	'rss',
	'rps',
	'ips',
	'mss',
	'vms',
	'tos',
	'sos',
	'cos',
	'os',
	'iops',
	'kvs',
]);
const VOWEL = /[aeiouy]/;

/**
 * Light English inflection stripping, applied alike to the runbooks and the query, so it need only
 * be consistent, not linguistically right ("page" and "pages" both become "pag"). Deliberately
 * lighter than Porter: technical words ("unreachable", "vswitchd", "virtio") stay readable and
 * unmerged.
 */
export function stem(word: string): string {
	let w = word;
	if (w.length <= 2 || !/^[a-z]+$/.test(w)) return w;
	if (KEEP_S.has(w)) return w === 'vms' ? 'vm' : w === 'ips' ? 'ip' : w;
	if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
	else if (w.endsWith('sses')) w = w.slice(0, -2);
	else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
	if (w.length > 5 && w.endsWith('ing') && VOWEL.test(w.slice(0, -3))) w = undouble(w.slice(0, -3));
	else if (w.length > 4 && w.endsWith('ied')) w = `${w.slice(0, -3)}y`;
	else if (w.length > 4 && w.endsWith('ed') && !w.endsWith('eed') && VOWEL.test(w.slice(0, -2))) w = undouble(w.slice(0, -2));
	if (w.length > 3 && w.endsWith('e') && !w.endsWith('ee')) w = w.slice(0, -1);
	return w;
}

/** "dropp" -> "drop", "stopp" -> "stop"; "stall", "pass", "buzz" stay. */
function undouble(w: string): string {
	return /([b-df-hj-km-np-rtv-xz])\1$/.test(w) && !/(ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w;
}

interface Synonym {
	/** The variant's words, stemmed. */
	words: string[];
	/** What it becomes, stemmed. */
	to: string[];
}

function splitStem(phrase: string): string[] {
	return words(phrase).map((t) => t.term);
}

/** Variants by their first word, longest first, so "times out" wins over "times". */
const SYNONYMS: ReadonlyMap<string, Synonym[]> = (() => {
	const map = new Map<string, Synonym[]>();
	for (const [canonical, ...variants] of SYNONYM_GROUPS) {
		const to = splitStem(canonical!);
		for (const v of [canonical!, ...variants]) {
			const w = splitStem(v);
			if (w.length === 0 || (w.length === to.length && w.every((x, i) => x === to[i]))) continue;
			const list = map.get(w[0]!) ?? [];
			list.push({ words: w, to });
			map.set(w[0]!, list);
		}
	}
	for (const list of map.values()) list.sort((a, b) => b.words.length - a.words.length);
	return map;
})();

/** Every word a synonym variant is made of: known words, never "corrected". */
const VARIANT_WORDS: ReadonlySet<string> = new Set([...SYNONYMS.values()].flatMap((l) => l.flatMap((s) => s.words)));
const STOP_STEMS: ReadonlySet<string> = new Set([...STOPWORDS].map(stem));

/**
 * Damerau-Levenshtein distance (optimal string alignment) with an early exit above `max`: a swap of
 * two neighbouring letters is one typo, as people make them ("hnag"), where plain Levenshtein (the
 * library's fuzzy match) counts two.
 */
export function editDistance(a: string, b: string, max: number): number {
	if (Math.abs(a.length - b.length) > max) return max + 1;
	const n = b.length;
	let prev2 = new Int32Array(n + 1);
	let prev = new Int32Array(n + 1);
	let cur = new Int32Array(n + 1);
	for (let j = 0; j <= n; j++) prev[j] = j;
	for (let i = 1; i <= a.length; i++) {
		cur[0] = i;
		let rowMin = i;
		const ai = a.charCodeAt(i - 1);
		for (let j = 1; j <= n; j++) {
			const bj = b.charCodeAt(j - 1);
			let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ai === bj ? 0 : 1));
			if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) v = Math.min(v, prev2[j - 2]! + 1);
			cur[j] = v;
			if (v < rowMin) rowMin = v;
		}
		if (rowMin > max) return max + 1;
		[prev2, prev, cur] = [prev, cur, prev2];
	}
	return prev[n]!;
}

/** How many typos a word of this length may carry and still be recognised. */
export function typoBudget(length: number): number {
	return length < 4 ? 0 : length < 8 ? 1 : 2;
}

/** Known words by length, once per vocabulary: a typo is only compared with words it could be. */
const CANDIDATES = new WeakMap<ReadonlySet<string>, Map<number, string[]>>();

function candidates(vocabulary: ReadonlySet<string>): Map<number, string[]> {
	let byLength = CANDIDATES.get(vocabulary);
	if (!byLength) {
		byLength = new Map();
		for (const c of new Set([...VARIANT_WORDS, ...vocabulary])) {
			if (!/^[a-z]+$/.test(c)) continue;
			const list = byLength.get(c.length) ?? [];
			list.push(c);
			byLength.set(c.length, list);
		}
		CANDIDATES.set(vocabulary, byLength);
	}
	return byLength;
}

function correct(term: string, vocabulary: ReadonlySet<string>): string {
	if (!/^[a-z]+$/.test(term) || vocabulary.has(term) || VARIANT_WORDS.has(term) || STOP_STEMS.has(term)) return term;
	const max = typoBudget(term.length);
	if (max === 0) return term;
	const byLength = candidates(vocabulary);
	let best = term;
	let bestD = max + 1;
	for (let len = term.length - max; len <= term.length + max; len++) {
		for (const c of byLength.get(len) ?? []) {
			if (Math.abs(len - term.length) > bestD) break;
			const d = editDistance(term, c, Math.min(max, bestD));
			// Ties go to the candidate that keeps the first letter, then to the alphabetically first,
			// so the same typo is always corrected the same way.
			if (d < bestD || (d === bestD && d <= max && better(c, best, term))) {
				best = c;
				bestD = d;
			}
		}
	}
	return bestD <= max ? best : term;
}

function better(c: string, current: string, typo: string): boolean {
	const cFirst = c[0] === typo[0];
	const curFirst = current !== typo && current[0] === typo[0];
	if (cFirst !== curFirst) return cFirst;
	return current === typo || c < current;
}

/** Text to search terms with their spans. */
export function analyse(text: string, options: AnalyseOptions = {}): Token[] {
	const { synonyms = true, keep, vocabulary } = options;
	const raw = words(stripNoise(text));
	if (vocabulary) {
		// The last word may be unfinished (the box searches as the engineer types): left as it is
		// when a known term starts with it, for the prefix match to complete.
		raw.forEach((t, i) => {
			if (i < raw.length - 1 || !isPrefixOfAny(t.term, vocabulary)) t.term = correct(t.term, vocabulary);
		});
	}
	const out: Token[] = [];
	for (let i = 0; i < raw.length;) {
		const t = raw[i]!;
		const candidates = synonyms ? SYNONYMS.get(t.term) : undefined;
		const hit = candidates?.find((s) => s.words.every((w, k) => raw[i + k]?.term === w));
		if (hit) {
			const end = raw[i + hit.words.length - 1]!.end;
			for (const term of hit.to) out.push({ term, start: t.start, end });
			i += hit.words.length;
			continue;
		}
		i++;
		if (STOPWORDS.has(t.word) || (t.term.length < 2 && !/[0-9]/.test(t.term))) continue;
		if (/[0-9]/.test(t.term)) {
			if (/^\d$/.test(t.term)) continue;
			if (keep && !keep.has(t.term)) continue;
		}
		out.push({ term: t.term, start: t.start, end: t.end });
	}
	return out;
}

/** `analyse` without the spans. */
export function terms(text: string, options?: AnalyseOptions): string[] {
	return analyse(text, options).map((t) => t.term);
}
