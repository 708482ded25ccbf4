/**
 * The checks a runbook page embeds, read from its MDX body without compiling it: every
 * `<Check id="net.path-mtu" params={{ target: '192.0.2.10', expectMtu: 1500 }} />`, in the order the
 * page shows them. The training tests run each with exactly the params a reader's Run would send.
 *
 * Deliberately strict, because a tag it misread would test something the page does not do:
 * - attributes: `id` (a quoted string) and `params={{ ... }}`, nothing else; the tag closes with `/>`;
 * - `params` is a JavaScript object literal of strings ('single' or "double" quoted, with the escapes
 *   \\ \' \" \n \t), numbers, `true`/`false`, and arrays of those; keys are identifiers or quoted
 *   strings, each once; a trailing comma is allowed. Anything else (expressions, variables, nested
 *   objects, comments) throws, naming the tag.
 * Tags in fenced code blocks and inline code spans are text, not checks, and are skipped.
 */

export interface EmbeddedCheck {
	id: string;
	params: Record<string, unknown>;
}

type Scalar = string | number | boolean;

class LiteralError extends Error {}

/** Reads one object literal; `pos` is where parsing stands in `src`. */
class LiteralReader {
	pos = 0;
	readonly src: string;
	constructor(src: string) {
		this.src = src;
	}

	fail(what: string): never {
		const near = this.src.slice(this.pos, this.pos + 20);
		throw new LiteralError(`${what} at offset ${this.pos}${near === '' ? ' (end)' : ` (${JSON.stringify(near)})`}`);
	}

	blank(): void {
		while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
	}

	peek(): string | undefined {
		this.blank();
		return this.src[this.pos];
	}

	expect(c: string): void {
		if (this.peek() !== c) this.fail(`expected "${c}"`);
		this.pos++;
	}

	string(): string {
		const quote = this.peek();
		if (quote !== "'" && quote !== '"') this.fail('expected a quoted string');
		let out = '';
		for (this.pos++; this.pos < this.src.length; this.pos++) {
			const c = this.src[this.pos]!;
			if (c === quote) {
				this.pos++;
				return out;
			}
			if (c === '\n') this.fail('a line break inside a string');
			if (c !== '\\') {
				out += c;
				continue;
			}
			const e = this.src[++this.pos];
			const escapes: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t' };
			if (e === undefined || !Object.hasOwn(escapes, e)) this.fail('an escape other than \\\\ \\\' \\" \\n \\t');
			out += escapes[e];
		}
		return this.fail('an unclosed string');
	}

	scalar(): Scalar {
		const c = this.peek();
		if (c === "'" || c === '"') return this.string();
		const rest = this.src.slice(this.pos);
		const word = /^(true|false)(?![\w$])/.exec(rest);
		if (word) {
			this.pos += word[1]!.length;
			return word[1] === 'true';
		}
		const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w$.])/.exec(rest);
		if (num) {
			this.pos += num[0].length;
			return Number(num[0]);
		}
		return this.fail('expected a string, a number, true or false');
	}

	value(): Scalar | Scalar[] {
		if (this.peek() !== '[') return this.scalar();
		this.pos++;
		const items: Scalar[] = [];
		while (this.peek() !== ']') {
			if (this.peek() === '[') this.fail('an array inside an array');
			items.push(this.scalar());
			if (this.peek() === ',') this.pos++;
			else if (this.peek() !== ']') this.fail('expected "," or "]"');
		}
		this.pos++;
		return items;
	}

	key(): string {
		const c = this.peek();
		if (c === "'" || c === '"') return this.string();
		const m = /^[A-Za-z_$][\w$]*/.exec(this.src.slice(this.pos));
		if (!m) this.fail('expected a property name');
		this.pos += m[0].length;
		return m[0];
	}

	object(): Record<string, Scalar | Scalar[]> {
		this.expect('{');
		const out: Record<string, Scalar | Scalar[]> = {};
		while (this.peek() !== '}') {
			const k = this.key();
			if (Object.hasOwn(out, k)) this.fail(`"${k}" given twice`);
			this.expect(':');
			out[k] = this.value();
			if (this.peek() === ',') this.pos++;
			else if (this.peek() !== '}') this.fail('expected "," or "}"');
		}
		this.pos++;
		return out;
	}
}

/** `{ a: 'b', n: 2, xs: ['p', 'q'] }` -> `{ a: 'b', n: 2, xs: ['p', 'q'] }`; throws on anything else. */
export function parseObjectLiteral(src: string): Record<string, unknown> {
	const r = new LiteralReader(src);
	const value = r.object();
	if (r.peek() !== undefined) r.fail('text after the object');
	return value;
}

/**
 * The body with fenced code blocks and inline code spans blanked (same length, line breaks kept), so
 * that offsets into it are offsets into the body and tags written as code are not found.
 */
export function proseOnly(body: string): string {
	const lines = body.split('\n');
	let fence: string | null = null;
	return lines
		.map((line) => {
			const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
			if (fence !== null) {
				if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
				return ' '.repeat(line.length);
			}
			if (marker !== undefined) {
				fence = marker;
				return ' '.repeat(line.length);
			}
			return line.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length));
		})
		.join('\n');
}

/**
 * Scan `text` from `start`, skipping quoted strings, until `stop` says so at a character outside
 * them; returns the index after that character, or -1.
 */
function scan(text: string, start: number, stop: (c: string, depth: number) => boolean): number {
	let depth = 0;
	let quote: string | null = null;
	for (let i = start; i < text.length; i++) {
		const c = text[i]!;
		if (quote !== null) {
			if (c === '\\') i++;
			else if (c === quote) quote = null;
			continue;
		}
		if (c === '"' || c === "'") quote = c;
		else if (c === '{') depth++;
		else if (c === '}') depth--;
		if (stop(c, depth)) return i + 1;
	}
	return -1;
}

/** Where the tag that starts at `start` ends: after the first `>` outside quotes and braces. */
const tagEnd = (text: string, start: number): number => scan(text, start, (c, depth) => c === '>' && depth === 0);

/** Where a `{...}` expression at the start of `expr` ends: after the brace that balances the first. */
const balancedEnd = (expr: string): number => scan(expr, 0, (c, depth) => c === '}' && depth === 0);

/** One tag's attributes: `id="..."` and `params={{...}}`. */
function parseTag(tag: string): EmbeddedCheck {
	const bad = (why: string): never => {
		throw new Error(`${tag.replace(/\s+/g, ' ')}: ${why}`);
	};
	if (!tag.endsWith('/>')) bad('a <Check> tag must close itself with "/>"');
	let rest = tag.slice('<Check'.length, -2);
	let id: string | undefined;
	let params: Record<string, unknown> | undefined;
	for (rest = rest.trimStart(); rest !== ''; rest = rest.trimStart()) {
		const idAttr = /^id=(?:"([^"]*)"|'([^']*)')/.exec(rest);
		if (idAttr) {
			if (id !== undefined) bad('id given twice');
			id = idAttr[1] ?? idAttr[2]!;
			rest = rest.slice(idAttr[0].length);
			continue;
		}
		if (rest.startsWith('params={')) {
			if (params !== undefined) bad('params given twice');
			const expr = rest.slice('params='.length);
			const end = balancedEnd(expr);
			if (end < 0) bad('params={...} is not closed');
			try {
				params = parseObjectLiteral(expr.slice(1, end - 1));
			} catch (e) {
				if (e instanceof LiteralError) bad(`params must be {{ ... }} with strings, numbers, booleans and arrays of those: ${e.message}`);
				throw e;
			}
			rest = expr.slice(end);
			continue;
		}
		bad(`unexpected "${/^\S{1,40}/.exec(rest)![0]}": a <Check> takes id="..." and params={{ ... }} only`);
	}
	if (id === undefined) bad('no id="..."');
	if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(id!)) bad(`"${id}" is not a check id such as kernel.max-map-count`);
	return { id: id!, params: params ?? {} };
}

/** Every `<Check ... />` of a runbook's MDX body, in page order, with its params. */
export function embeddedChecks(mdxBody: string): EmbeddedCheck[] {
	const text = proseOnly(mdxBody);
	const out: EmbeddedCheck[] = [];
	const open = /<Check(?=[\s/>])/g;
	for (let m = open.exec(text); m !== null; m = open.exec(text)) {
		const end = tagEnd(text, m.index);
		if (end < 0) throw new Error(`${text.slice(m.index, m.index + 60).replace(/\s+/g, ' ')}: the <Check> tag is not closed`);
		out.push(parseTag(mdxBody.slice(m.index, end)));
		open.lastIndex = end;
	}
	return out;
}
