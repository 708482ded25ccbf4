/** `--json`: one object per verdict, one per line, in the documented shape. */
import type { VerdictRecord } from '../../runner/types.ts';

export function formatJson(v: VerdictRecord): string {
	return JSON.stringify(v);
}
