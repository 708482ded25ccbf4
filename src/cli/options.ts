/** Options every host-touching command takes, and their mapping onto the runner's options. */
import type { RunOptions } from '../runner/types.ts';

export interface CommonOptions {
	inventory?: string;
	knownHosts?: string[];
	acceptNew?: boolean;
	identity?: string;
	timeout?: number;
	scenarios?: string[];
	dryRun?: boolean;
}

export function runOptions(o: CommonOptions): RunOptions {
	const r: RunOptions = {};
	if (o.inventory !== undefined) r.inventory = o.inventory;
	if (o.knownHosts !== undefined) r.knownHosts = o.knownHosts;
	if (o.acceptNew) r.acceptNew = true;
	if (o.identity !== undefined) r.identity = o.identity;
	if (o.timeout !== undefined) r.timeoutSeconds = o.timeout;
	if (o.scenarios !== undefined) r.scenarioDirs = o.scenarios;
	return r;
}
