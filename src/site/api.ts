/**
 * What the run routes (`POST /api/checks/<id>/run`, `POST /api/runbooks/<slug>/run`) share:
 * invocation errors answered as JSON before a stream starts, the JSON request body read with a size
 * limit and checked by a zod schema, the verdict line for a run that broke, and the
 * `application/x-ndjson` stream the events go out on.
 */
import type { z } from 'zod';
import { isRunbookError, RunbookError, type ErrorCode } from '../core/errors.ts';
import type { VerdictRecord } from '../runner/types.ts';

/** Request bodies above this are refused unread; a real one is a few hundred bytes, a few kilobytes at most. */
const MAX_BODY = 64 * 1024;

/** Invocation errors a client can cause; anything else answered before the stream is 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
	UnknownHost: 404,
	InvalidParams: 400,
	InvalidArgument: 400,
};

/**
 * `{ error: { code, message, hint? } }` with its status code. `notFound` is the code for the thing
 * the route's URL names (`UnknownCheck` for a check id, `UnknownRunbook` for a slug): 404. The
 * same code raised from anywhere else, e.g. a runbook naming a check the registry lacks, is 500.
 */
export function errorResponse(e: RunbookError, notFound: 'UnknownCheck' | 'UnknownRunbook'): Response {
	const error: { code: ErrorCode; message: string; hint?: string } = { code: e.code, message: e.detail };
	if (e.hint !== undefined) error.hint = e.hint;
	const status = e.code === notFound ? 404 : (STATUS_BY_CODE[e.code] ?? 500);
	return Response.json({ error }, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * The request's JSON body checked by `schema`; throws `InvalidParams` for a body that is not JSON,
 * larger than 64 KiB, or not valid, with `usage` (an example body, as a sentence) as the hint.
 */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S, usage: string): Promise<z.output<S>> {
	if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
		throw new RunbookError('InvalidParams', 'the request body must be JSON (Content-Type: application/json)', { hint: usage });
	}
	const text = await request.text();
	if (text.length > MAX_BODY) throw new RunbookError('InvalidParams', `the request body is ${text.length} bytes; the limit is ${MAX_BODY}`);
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		throw new RunbookError('InvalidParams', 'the request body is not valid JSON', { hint: usage });
	}
	const parsed = schema.safeParse(raw);
	if (!parsed.success) {
		const why = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
		throw new RunbookError('InvalidParams', `the request body is not valid: ${why}`, { hint: usage });
	}
	return parsed.data;
}

/**
 * The verdict line for a check whose run broke after the stream started: never a silent end or
 * gap. With `durationMs`, the run of this check itself broke after that long; without, a larger
 * run broke before this check finished (its duration is then 0).
 */
export function brokenRun(check: string, host: string, e: unknown, durationMs?: number): VerdictRecord {
	if (isRunbookError(e)) {
		const v: VerdictRecord = {
			check,
			host,
			status: 'error',
			summary: e.detail,
			facts: {},
			evidence: [],
			durationMs: durationMs ?? 0,
			code: e.code,
		};
		if (e.hint !== undefined) v.hint = e.hint;
		return v;
	}
	const why = e instanceof Error ? e.message : String(e);
	return {
		check,
		host,
		status: 'error',
		code: 'CheckCrashed',
		summary:
			durationMs === undefined
				? `The run failed inside the server before this check finished: ${why}`
				: `The run failed inside the server: ${why}`,
		hint: 'Run the commands of this step by hand; the stack trace is in the server log.',
		facts: {},
		evidence: [],
		durationMs: durationMs ?? 0,
	};
}

export interface NdjsonStream<T> {
	/** The streaming response: `application/x-ndjson`, not cached, not sniffed. */
	response: Response;
	/** One event as one line; a no-op once the client has gone or the stream is closed. */
	send: (event: T) => void;
	/** End the stream (once; later calls do nothing). */
	close: () => void;
}

/** An NDJSON response whose lines are written as events come. */
export function ndjsonStream<T>(): NdjsonStream<T> {
	const encoder = new TextEncoder();
	let open = true;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const stream = new ReadableStream<Uint8Array>({
		start: (c) => void (controller = c),
		cancel: () => void (open = false),
	});
	return {
		response: new Response(stream, {
			headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
		}),
		send: (event) => {
			if (open) controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
		},
		close: () => {
			if (open) controller.close();
			open = false;
		},
	};
}
