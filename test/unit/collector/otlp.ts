/** OTLP/HTTP JSON bodies as webq8's own recorder and encoder make them, for the collector's fleet tests. */
import { parseExport, type Parsed } from '../../../collector/validate.mjs';
import { encodeMetrics } from '../../../src/telemetry/encode.js';
import type { CollectedGauge } from '../../../src/telemetry/lib/gauges.js';
import { createRecorder } from '../../../src/telemetry/recorder.js';
import type { SeriesAttributes } from '../../../src/telemetry/types.js';

/** What one client sends: run latencies, error count, gauges (names without the `webq8.serving.` prefix). */
export interface ClientBatch {
  values?: number[];
  attrs: SeriesAttributes;
  errors?: number;
  gauges?: { name: string; value: number; extra?: Record<string, string> }[];
  /** The client's clock (gauge timestamps). */
  nowMs?: number;
}

const WIRE: Record<string, string> = {
  modelId: 'webq8.model.id',
  modelVersion: 'webq8.model.version',
  backend: 'webq8.backend',
  planStrategy: 'webq8.plan.strategy',
};

/** The single OTLP body of one client's batch. */
export function otlpBody(b: ClientBatch): string {
  const now = b.nowMs ?? Date.now();
  const rec = createRecorder({ now: () => now });
  for (const v of b.values ?? []) rec.record('run', v, b.attrs);
  for (let i = 0; i < (b.errors ?? 0); i++) rec.recordError('INPUT_INVALID', b.attrs);
  const attributes = Object.fromEntries(Object.entries(b.attrs).map(([k, v]) => [WIRE[k]!, String(v)]));
  const gauges: CollectedGauge[] = (b.gauges ?? []).map((g) => ({
    name: g.name,
    value: g.value,
    attributes: { ...attributes, ...Object.fromEntries(Object.entries(g.extra ?? {}).map(([k, v]) => [`webq8.${k}`, v])) },
  }));
  const bodies = encodeMetrics(rec.collect(), { resource: { 'webq8.version': '0.1.0' } }, gauges);
  if (bodies.length !== 1) throw new Error(`expected one body, got ${bodies.length}`);
  return bodies[0]!;
}

/** A body as the collector parses it: `[parsed, json]`. */
export function parsedBody(b: ClientBatch): [Parsed, unknown] {
  const json = JSON.parse(otlpBody(b));
  const parsed = parseExport(json);
  if (typeof parsed === 'string') throw new Error(parsed);
  return [parsed, json];
}
