import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		projects: [
			{
				test: { name: 'unit', include: ['checks/**/*.test.ts', 'src/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/search/**/*.test.ts'] },
			},
			{
				test: {
					name: 'integration',
					include: ['test/integration/**/*.test.ts'],
					testTimeout: 60_000,
					hookTimeout: 120_000,
					fileParallelism: false,
				},
			},
			{
				test: {
					name: 'e2e',
					include: ['test/e2e/**/*.test.ts'],
					testTimeout: 90_000,
					hookTimeout: 180_000,
					fileParallelism: false,
				},
			},
		],
	},
});
