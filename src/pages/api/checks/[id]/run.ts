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
import { isRunbookError } from '../../../../core/errors.ts';
import { runCheck, serverRunOptions } from '../../../../runner/run.ts';
import type { RunEvent } from '../../../../runner/types.ts';
import { brokenRun, errorResponse, ndjsonStream, readJsonBody } from '../../../../site/api.ts';
import { registry } from '../../../../site/registry.ts';

export const prerender = false;

const RunRequestSchema = z.strictObject({
	/** A host name from `GET /api/hosts`, or `user@address:port`. */
	host: z.string().min(1).max(255),
	/** The check's parameters; the check's own zod schema validates them in the runner. */
	params: z.record(z.string(), z.unknown()).optional(),
});

const USAGE = 'Send {"host": "<name>", "params": {...}}.';

export const POST: APIRoute = async ({ params, request }) => {
	const id = params.id ?? '';
	let body: z.infer<typeof RunRequestSchema>;
	try {
		registry.get(id);
		body = await readJsonBody(request, RunRequestSchema, USAGE);
	} catch (e) {
		if (isRunbookError(e)) return errorResponse(e, 'UnknownCheck');
		throw e;
	}

	const { response, send, close } = ndjsonStream<RunEvent>();

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
		if (isRunbookError(e)) return errorResponse(e, 'UnknownCheck');
		throw e;
	}

	void run
		.then(
			(verdict) => send({ type: 'verdict', verdict }),
			(e) => {
				const verdict = brokenRun(id, body.host, e, Math.round(performance.now() - t0));
				if (!isRunbookError(e)) console.error(`[runbook] run of ${id} on ${body.host} failed:`, e);
				send({ type: 'verdict', verdict });
			},
		)
		.finally(close);

	return response;
};
