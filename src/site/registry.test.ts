import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../core/registry-node.ts';
import { registry } from './registry.ts';

describe('site registry', () => {
	it('has exactly the check ids of the CLI registry', async () => {
		const cli = await loadRegistry();
		expect(registry.ids().length).toBeGreaterThan(0);
		expect(registry.ids().toSorted()).toEqual(cli.ids().toSorted());
	});
});
