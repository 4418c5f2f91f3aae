/**
 * Gauges beside the latency histograms: values sampled when a batch is encoded (the serving layer's
 * queue length, arrival rate, utilization, SLO burn rates, …), sent as OTLP `Gauge` metrics named
 * `webq8.serving.<name>`. Sources register with `telemetry.addGauges` and are read only at export
 * time, so they cost nothing per request. A throwing source is skipped: telemetry never throws.
 */
import type { SeriesAttributes } from '../types.js';
import { seriesWireAttributes } from './series-attributes.js';

/** One gauge value. `extra` adds attributes beyond the model's series attributes (e.g. `{ reason }`). */
export interface GaugeSample {
  name: string;
  value: number;
  attrs: SeriesAttributes;
  extra?: Record<string, string>;
}

/** A gauge ready to encode: wire attribute names. */
export interface CollectedGauge {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

/** Reads every source; a source that throws or returns non-finite values contributes nothing. */
export function sampleGauges(sources: Iterable<() => GaugeSample[]>): CollectedGauge[] {
  const out: CollectedGauge[] = [];
  for (const source of sources) {
    try {
      for (const g of source()) {
        if (!Number.isFinite(g.value)) continue;
        const extra = Object.fromEntries(Object.entries(g.extra ?? {}).map(([k, v]) => [`webq8.${k}`, v]));
        out.push({ name: g.name, value: g.value, attributes: { ...seriesWireAttributes(g.attrs), ...extra } });
      }
    } catch {
      /* a broken source must not break export */
    }
  }
  return out;
}
