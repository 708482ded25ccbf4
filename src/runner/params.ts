/**
 * Check parameters at the boundary: every value a user gives passes through the check's own zod
 * schema before it can reach a command. The CLI gives strings (`--param k=v`); they are converted
 * by the type the schema declares, so `count=5` reaches an integer field as 5 and `target=1.2.3.4;id`
 * is refused by the address validator rather than quoted into anything.
 */
import { z } from 'zod';
import type { CheckDefinition } from '../core/check.ts';
import { RunbookError } from '../core/errors.ts';

export interface ParamDoc {
	name: string;
	type: string;
	required: boolean;
	description?: string;
	default?: unknown;
}

type JsonSchema = {
	type?: string | string[];
	description?: string;
	default?: unknown;
	anyOf?: JsonSchema[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
};

function schemaOf(check: CheckDefinition): JsonSchema {
	return z.toJSONSchema(check.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function typeName(s: JsonSchema): string {
	if (s.anyOf) return s.anyOf.map(typeName).join('|');
	return Array.isArray(s.type) ? s.type.join('|') : (s.type ?? 'any');
}

/** The parameters of a check, for `runbook list` and the page. */
export function paramDocs(check: CheckDefinition): ParamDoc[] {
	const s = schemaOf(check);
	return Object.entries(s.properties ?? {}).map(([name, p]) => {
		const doc: ParamDoc = { name, type: typeName(p), required: (s.required ?? []).includes(name) };
		if (p.description !== undefined) doc.description = p.description;
		if (p.default !== undefined) doc.default = p.default;
		return doc;
	});
}

/** `["target=10.0.0.2", "count=5"]` -> `{target: "10.0.0.2", count: 5}`, typed by the check's schema. */
export function paramsFromPairs(check: CheckDefinition, pairs: readonly string[]): Record<string, unknown> {
	const props = schemaOf(check).properties ?? {};
	const out: Record<string, unknown> = {};
	for (const pair of pairs) {
		const eq = pair.indexOf('=');
		if (eq <= 0) throw new RunbookError('InvalidParams', `--param "${pair}" is not of the form key=value`);
		const key = pair.slice(0, eq);
		const raw = pair.slice(eq + 1);
		const prop = props[key];
		if (!prop)
			throw new RunbookError(
				'InvalidParams',
				`${check.id} has no parameter "${key}"; it takes: ${Object.keys(props).join(', ') || 'none'}`,
			);
		const t = typeName(prop);
		if (/\b(integer|number)\b/.test(t) && !/\bstring\b/.test(t) && raw.trim() !== '' && Number.isFinite(Number(raw)))
			out[key] = Number(raw);
		else if (/\bboolean\b/.test(t) && (raw === 'true' || raw === 'false')) out[key] = raw === 'true';
		else if (/\barray\b/.test(t)) out[key] = raw === '' ? [] : raw.split(',');
		else out[key] = raw;
	}
	return out;
}

/** Validate params with the check's schema; one readable line on failure. */
export function validateParams<C extends CheckDefinition>(check: C, raw: unknown): z.infer<C['params']> {
	const r = check.params.safeParse(raw ?? {});
	if (r.success) return r.data as z.infer<C['params']>;
	const why = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
	throw new RunbookError('InvalidParams', `${check.id}: ${why}`);
}
