/**
 * `POST /api/checks/<id>/run` with `{ host, params? }` -> `application/x-ndjson`, one `RunEvent` per
 * line: `start`, any `progress`, then exactly one `verdict`.
 *
 * Invocation errors are answered before the stream starts, as JSON with a status code:
 * `{ error: { code, message, hint } }`, 404 `UnknownCheck` / `UnknownHost`, 400 `InvalidParams`.
 * The runner throws those before it connects to anything (so before its first event); once the
 * `start` line is out, every outcome, host trouble included, is the verdict line.
 *
 * Only checks in the registry run, with params checked by the check's own schema in the runner.
 */
import type { APIRoute } from 'astro';
import { z } from 'zod';
import { isRunbookError, RunbookError, type ErrorCode } from '../../../../core/errors.ts';
import { runCheck, serverRunOptions } from '../../../../runner/run.ts';
import type { RunEvent, VerdictRecord } from '../../../../runner/types.ts';
import { registry } from '../../../../site/registry.ts';

export const prerender = false;

/** Request bodies above this are refused unread; a real one is a few hundred bytes. */
const MAX_BODY = 64 * 1024;

const RunRequestSchema = z.strictObject({
	/** A host name from `GET /api/hosts`, or `user@address:port`. */
	host: z.string().min(1).max(255),
	/** The check's parameters; the check's own zod schema validates them in the runner. */
	params: z.record(z.string(), z.unknown()).optional(),
});

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
	UnknownCheck: 404,
	UnknownHost: 404,
	InvalidParams: 400,
	InvalidArgument: 400,
};

function errorResponse(e: RunbookError): Response {
	const error: { code: ErrorCode; message: string; hint?: string } = { code: e.code, message: e.detail };
	if (e.hint !== undefined) error.hint = e.hint;
	return Response.json({ error }, { status: STATUS_BY_CODE[e.code] ?? 500, headers: { 'cache-control': 'no-store' } });
}

async function readBody(request: Request): Promise<z.infer<typeof RunRequestSchema>> {
	if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
		throw new RunbookError('InvalidParams', 'the request body must be JSON (Content-Type: application/json)', {
			hint: 'Send {"host": "<name>", "params": {...}}.',
		});
	}
	const text = await request.text();
	if (text.length > MAX_BODY) throw new RunbookError('InvalidParams', `the request body is ${text.length} bytes; the limit is ${MAX_BODY}`);
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		throw new RunbookError('InvalidParams', 'the request body is not valid JSON', { hint: 'Send {"host": "<name>", "params": {...}}.' });
	}
	const parsed = RunRequestSchema.safeParse(raw);
	if (!parsed.success) {
		const why = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
		throw new RunbookError('InvalidParams', `the request body is not valid: ${why}`, { hint: 'Send {"host": "<name>", "params": {...}}.' });
	}
	return parsed.data;
}

/** The verdict line for a run that broke after it started: never a silent end of stream. */
function brokenRun(check: string, host: string, e: unknown, durationMs: number): VerdictRecord {
	if (isRunbookError(e)) {
		const v: VerdictRecord = { check, host, status: 'error', summary: e.detail, facts: {}, evidence: [], durationMs, code: e.code };
		if (e.hint !== undefined) v.hint = e.hint;
		return v;
	}
	console.error(`[runbook] run of ${check} on ${host} failed:`, e);
	return {
		check,
		host,
		status: 'error',
		code: 'CheckCrashed',
		summary: `The run failed inside the server: ${e instanceof Error ? e.message : String(e)}`,
		hint: 'Run the commands of this step by hand; the stack trace is in the server log.',
		facts: {},
		evidence: [],
		durationMs,
	};
}

export const POST: APIRoute = async ({ params, request }) => {
	const id = params.id ?? '';
	let body: z.infer<typeof RunRequestSchema>;
	try {
		registry.get(id);
		body = await readBody(request);
	} catch (e) {
		if (isRunbookError(e)) return errorResponse(e);
		throw e;
	}

	const encoder = new TextEncoder();
	let open = true;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const stream = new ReadableStream<Uint8Array>({
		start: (c) => void (controller = c),
		cancel: () => void (open = false),
	});
	const send = (e: RunEvent) => {
		if (open) controller.enqueue(encoder.encode(`${JSON.stringify(e)}\n`));
	};

	let markStarted!: () => void;
	const started = new Promise<void>((resolve) => (markStarted = resolve));
	const t0 = performance.now();
	const run = runCheck(registry, id, body.host, body.params, {
		...serverRunOptions(),
		onEvent: (e) => {
			// The verdict line is written from the resolved record below, so there is exactly one.
			if (e.type === 'verdict') return;
			send(e);
			markStarted();
		},
	});

	try {
		await Promise.race([started, run]);
	} catch (e) {
		if (isRunbookError(e)) return errorResponse(e);
		throw e;
	}

	void run
		.then(
			(verdict) => send({ type: 'verdict', verdict }),
			(e) => send({ type: 'verdict', verdict: brokenRun(id, body.host, e, Math.round(performance.now() - t0)) }),
		)
		.finally(() => {
			if (open) controller.close();
			open = false;
		});

	return new Response(stream, {
		headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
	});
};
