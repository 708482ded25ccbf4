// typescript-eslint, decided once. The one project rule: checks import only zod and src/core, so a
// check can never reach a transport, the network or the filesystem except through its Ctx.
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ ignores: ['dist/**', '.astro/**', 'node_modules/**', '.ci/node/**'] },
	...tseslint.configs.recommended,
	{
		files: ['checks/**/*.ts'],
		ignores: ['checks/**/*.test.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ regex: '^(?!zod$|(\\.\\./)+src/core/|\\./).*', message: 'checks import only zod and src/core (DESIGN.md: a check knows nothing about SSH, HTTP or the browser).' },
					],
				},
			],
		},
	},
);
