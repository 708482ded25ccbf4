/**
 * `GET /api/hosts` -> `{ hosts: PublicHost[] }`: what the host picker offers. Only the public fields
 * are copied out, so a key path or user name can never ride along if the host model grows.
 */
import type { APIRoute } from 'astro';
import { isRunbookError } from '../../core/errors.ts';
import type { PublicHost } from '../../inventory/types.ts';
import { listHosts, serverRunOptions } from '../../runner/run.ts';

export const prerender = false;

export const GET: APIRoute = async () => {
	const headers = { 'cache-control': 'no-store' };
	try {
		const hosts: PublicHost[] = (await listHosts(serverRunOptions())).map(({ name, source, platform, groups, where }) => ({
			name,
			source,
			platform,
			groups,
			where,
		}));
		return Response.json({ hosts }, { headers });
	} catch (e) {
		// A broken inventory or scenario file is the server's problem, and the page should say which.
		if (isRunbookError(e)) return Response.json({ error: { code: e.code, message: e.detail, hint: e.hint } }, { status: 500, headers });
		throw e;
	}
};
