// @ts-check
// OTLP `Gauge` points of an ExportMetricsServiceRequest (webq8's serving gauges,
// `webq8.serving.<name>`, see src/telemetry/lib/gauges.ts). validate.mjs reads histograms and
// counters and passes gauges over; this reads them from the same body. A malformed gauge point
// is skipped, never a reason to refuse the request: gauges are a best-effort side channel.
import { fromAttributes } from '../src/isomorphic/otlp-point.js';

/** @typedef {{ metric: string, attrs: Record<string, string | number | boolean>, value: number, timeMs: number }} GaugePoint */

/** Milliseconds of an OTLP `timeUnixNano` (decimal string or number); 0 when absent or malformed. @param {unknown} v */
function millis(v) {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v / 1e6) : 0;
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return 0;
  return v.length > 6 ? Number(v.slice(0, -6)) : 0;
}

/** @param {any} p @returns {number} NaN when the point has no finite value */
function value(p) {
  if (typeof p?.asDouble === 'number') return p.asDouble;
  if (typeof p?.asInt === 'number') return p.asInt;
  if (typeof p?.asInt === 'string' && /^-?\d{1,16}$/.test(p.asInt)) return Number(p.asInt);
  return NaN;
}

/** @param {unknown} v @returns {any[]} */
const arr = (v) => (Array.isArray(v) ? v : []);

/**
 * Every well-formed gauge point of `body` (the parsed JSON of an OTLP/HTTP request).
 * @param {unknown} body
 * @returns {GaugePoint[]}
 */
export function parseGauges(body) {
  /** @type {GaugePoint[]} */
  const out = [];
  for (const rm of arr(/** @type {any} */ (body)?.resourceMetrics)) {
    const resource = fromAttributes(rm?.resource?.attributes);
    for (const sm of arr(rm?.scopeMetrics)) {
      for (const m of arr(sm?.metrics)) {
        if (typeof m?.name !== 'string' || m.name === '' || !m.gauge) continue;
        for (const p of arr(m.gauge.dataPoints)) {
          const v = value(p);
          if (!Number.isFinite(v)) continue;
          out.push({ metric: m.name, attrs: { ...resource, ...fromAttributes(p.attributes) }, value: v, timeMs: millis(p.timeUnixNano) });
        }
      }
    }
  }
  return out;
}
