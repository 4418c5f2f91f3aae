/**
 * Telemetry of `model.generate`, beside the run latencies: time to first token, each time per
 * output token, tokens per answer, and the cost per answer as device-busy milliseconds (per answer
 * and per 1,000 tokens), all per model version and backend (the series attributes). Failed answers
 * count as errors by code, like failed runs.
 */
import type { SeriesAttributes, Telemetry } from '../telemetry';
import type { GenerateResult } from './generate-types';

/** Records one finished (or failed) answer. Never throws: telemetry must not break generation. */
export function recordGeneration(telemetry: Telemetry, attrs: SeriesAttributes, outcome: { result: GenerateResult } | { error: unknown }): void {
  try {
    if ('error' in outcome) {
      telemetry.recordError((outcome.error as { code?: string } | null)?.code ?? 'INTERNAL', attrs);
      return;
    }
    const s = outcome.result.stats;
    if (s.newTokens > 0) telemetry.record('generate.ttft', s.ttftMs, attrs);
    for (const ms of s.tpotMs) telemetry.record('generate.tpot', ms, attrs);
    telemetry.record('generate.tokens', s.newTokens, attrs);
    telemetry.record('generate.busy', s.busyMs, attrs);
    if (s.newTokens > 0) telemetry.record('generate.busy_per_1k_tokens', s.busyMsPer1kTokens, attrs);
  } catch {
    /* do nothing */
  }
}
