/**
 * `--json`: one object per verdict, one per line, in the documented shape. `runbook run` then ends
 * with one more line holding the whole diagnosis: `{"diagnosis": {...}}` for one host,
 * `{"fleet": {...}}` for several.
 */
import type { Diagnosis, FleetDiagnosis } from '../../diagnosis/types.ts';
import type { VerdictRecord } from '../../runner/types.ts';

export function formatJson(v: VerdictRecord): string {
	return JSON.stringify(v);
}

export function formatDiagnosisJson(d: Diagnosis | FleetDiagnosis): string {
	return JSON.stringify('grid' in d ? { fleet: d } : { diagnosis: d });
}
