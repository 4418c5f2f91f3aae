// @ts-check
// Fleet aggregation: merges every client's delta histograms per (metric, model, version, backend)
// with the shared histogram core, and answers percentile queries over any grouping of them.
import { clone, createHistogram, merge, quantile } from '../src/telemetry/exphist.js';
import { WIRE_KEYS } from '../src/telemetry/otlp-point.js';

/**
 * @typedef {import('./validate.mjs').Parsed} Parsed
 * @typedef {import('../src/telemetry/types.js').HistogramState} HistogramState
 * @typedef {{ metric: string, model: string, version: string, backend: string }} SeriesKey
 * @typedef {SeriesKey & { histogram: HistogramState }} Series
 * @typedef {SeriesKey & { code: string, count: number }} ErrorCount
 * @typedef {{ metric?: string | null, model?: string | null }} Query
 */

/** @param {Record<string, unknown>} attrs @returns {Omit<SeriesKey, 'metric'>} */
function identity(attrs) {
  const s = (/** @type {unknown} */ v) => (v === undefined || v === '' ? 'unknown' : String(v));
  return { model: s(attrs[WIRE_KEYS.modelId]), version: s(attrs[WIRE_KEYS.modelVersion]), backend: s(attrs[WIRE_KEYS.backend]) };
}

/** @param {HistogramState} h */
export function summary(h) {
  const round = (/** @type {number} */ v) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);
  return {
    count: h.count,
    p50: round(quantile(h, 0.5)),
    p90: round(quantile(h, 0.9)),
    p95: round(quantile(h, 0.95)),
    p99: round(quantile(h, 0.99)),
    min: h.count ? round(h.min) : null,
    max: h.count ? round(h.max) : null,
    mean: h.count ? round(h.sum / h.count) : null,
  };
}

export function createAggregator() {
  /** @type {Map<string, Series>} */
  const series = new Map();
  /** @type {Map<string, ErrorCount>} */
  const errors = new Map();

  /** @param {Query} q @param {SeriesKey} k */
  const wanted = (q, k) => (!q.metric || q.metric === k.metric) && (!q.model || q.model === k.model);

  return {
    /** @param {Parsed} parsed */
    add(parsed) {
      for (const p of parsed.histograms) {
        const key = { metric: p.metric, ...identity(p.attrs) };
        const id = JSON.stringify(key);
        let s = series.get(id);
        if (!s) series.set(id, (s = { ...key, histogram: createHistogram() }));
        merge(s.histogram, p.histogram);
      }
      for (const c of parsed.counters) {
        const key = { metric: c.metric, ...identity(c.attrs), code: String(c.attrs[WIRE_KEYS.errorCode] ?? 'unknown') };
        const id = JSON.stringify(key);
        const e = errors.get(id);
        if (e) e.count += c.count;
        else errors.set(id, { ...key, count: c.count });
      }
    },

    /** Every matching series, sorted. @param {Query} [q] @returns {Series[]} */
    series(q = {}) {
      return [...series.values()].filter((s) => wanted(q, s)).sort((a, b) => JSON.stringify([a.metric, a.model, a.version, a.backend]).localeCompare(JSON.stringify([b.metric, b.model, b.version, b.backend])));
    },

    /** The `/api/latency` document. @param {Query} [q] */
    latency(q = {}) {
      const rows = this.series(q);
      /** @type {Map<string, { metric: string, model: string, histogram: HistogramState, versions: Map<string, HistogramState> }>} */
      const fleet = new Map();
      for (const s of rows) {
        const id = JSON.stringify([s.metric, s.model]);
        let f = fleet.get(id);
        if (!f) fleet.set(id, (f = { metric: s.metric, model: s.model, histogram: createHistogram(), versions: new Map() }));
        merge(f.histogram, s.histogram);
        const v = f.versions.get(s.version);
        if (v) merge(v, s.histogram);
        else f.versions.set(s.version, clone(s.histogram));
      }
      return {
        generatedAt: new Date().toISOString(),
        fleet: [...fleet.values()].map((f) => ({
          metric: f.metric,
          model: f.model,
          ...summary(f.histogram),
          versions: [...f.versions].map(([version, h]) => ({ version, ...summary(h) })),
        })),
        series: rows.map((s) => ({ metric: s.metric, model: s.model, version: s.version, backend: s.backend, ...summary(s.histogram) })),
        errors: [...errors.values()].filter((e) => !q.model || q.model === e.model),
      };
    },
  };
}
