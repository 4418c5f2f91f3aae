// @ts-check
// Fleet aggregation: merges every client's delta histograms per (metric, model, version, backend)
// with the shared histogram core, and answers percentile queries over any grouping of them.
import { clone, createHistogram, DEFAULT_MAX_BUCKETS, merge, quantile } from '../src/isomorphic/exphist.js';
import { TEMPORALITY_DELTA, toAttributes, toPoint, WIRE_KEYS } from '../src/isomorphic/otlp-point.js';

/**
 * @typedef {import('./validate.mjs').Parsed} Parsed
 * @typedef {import('../src/telemetry/types.js').HistogramState} HistogramState
 * @typedef {{ metric: string, model: string, version: string, backend: string }} SeriesKey
 * @typedef {SeriesKey & { histogram: HistogramState }} Series
 * @typedef {SeriesKey & { code: string, count: number }} ErrorCount
 * @typedef {{ metric?: string | null, model?: string | null }} Query
 * @typedef {{ maxSeries?: number, maxBuckets?: number }} AggregatorOptions
 */

/** Devices (adapter × backend × metric) the aggregator keeps percentiles for. */
const MAX_DEVICES = 200;

/** @param {SeriesKey} k */
const attrsOf = (k) => ({ [WIRE_KEYS.modelId]: k.model, [WIRE_KEYS.modelVersion]: k.version, [WIRE_KEYS.backend]: k.backend });
/** One metric as a whole OTLP request (a snapshot line's body). @param {unknown} metric */
const request = (metric) => ({
  resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ scope: { name: 'webq8-collector' }, metrics: [metric] }] }],
});

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

/**
 * Merged state of every series. `maxSeries` caps histogram series and error series (each); a
 * request that would pass it is refused by {@link admit} as a whole.
 * @param {AggregatorOptions} [options]
 */
export function createAggregator(options = {}) {
  const maxSeries = options.maxSeries ?? 1000;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  /** @type {Map<string, Series>} */
  const series = new Map();
  /** @type {Map<string, ErrorCount>} */
  const errors = new Map();
  // Per device (the adapter, a resource attribute, not a series label): merged since this process
  // started (snapshots keep series only), at most MAX_DEVICES of them.
  /** @type {Map<string, { metric: string, adapter: string, backend: string, histogram: HistogramState }>} */
  const devices = new Map();

  /** @param {Query} q @param {SeriesKey} k */
  const wanted = (q, k) => (!q.metric || q.metric === k.metric) && (!q.model || q.model === k.model);

  /** @param {Parsed['histograms'][number]} p */
  const seriesKey = (p) => ({ metric: p.metric, ...identity(p.attrs) });
  /** @param {Parsed['counters'][number]} c */
  const errorKey = (c) => ({ metric: c.metric, ...identity(c.attrs), code: String(c.attrs[WIRE_KEYS.errorCode] ?? 'unknown') });

  /**
   * Why `parsed` cannot be added whole (undefined when it can): it would pass the series cap, or
   * a count would pass 2^53 and stop being exact.
   * @param {Map<string, unknown>} map @param {(id: string) => number} countOf
   * @param {[string, number][]} adds @param {string} what
   */
  function refuse(map, countOf, adds, what) {
    /** @type {Map<string, number>} */
    const next = new Map();
    for (const [id, n] of adds) next.set(id, (next.get(id) ?? countOf(id)) + n);
    let fresh = 0;
    for (const [id, total] of next) {
      if (!map.has(id)) fresh++;
      if (!Number.isSafeInteger(total)) return `a ${what} count would pass 2^53`;
    }
    if (map.size + fresh > maxSeries)
      return `${what} series limit (${maxSeries}) reached: this request adds ${fresh} new series to ${map.size}; raise --max-series or send fewer distinct attribute values`;
    return undefined;
  }

  return {
    /** Series counts (for the status endpoint). */
    get size() {
      return { series: series.size, errorSeries: errors.size, maxSeries };
    },

    /** @param {Parsed} parsed @returns {string | undefined} a reason to refuse it, if any */
    admit(parsed) {
      return (
        refuse(
          series,
          (id) => series.get(id)?.histogram.count ?? 0,
          parsed.histograms.map((p) => [JSON.stringify(seriesKey(p)), p.histogram.count]),
          'histogram',
        ) ??
        refuse(
          errors,
          (id) => errors.get(id)?.count ?? 0,
          parsed.counters.map((c) => [JSON.stringify(errorKey(c)), c.count]),
          'error',
        )
      );
    },

    /** Merges a parsed request (call {@link admit} first). @param {Parsed} parsed */
    add(parsed) {
      for (const p of parsed.histograms) {
        const key = seriesKey(p);
        const id = JSON.stringify(key);
        let s = series.get(id);
        if (!s) series.set(id, (s = { ...key, histogram: createHistogram({ maxBuckets }) }));
        merge(s.histogram, p.histogram);
        const vendor = String(p.attrs[WIRE_KEYS.adapterVendor] ?? '');
        const d = { metric: p.metric, adapter: `${vendor} ${p.attrs[WIRE_KEYS.adapterArchitecture] ?? ''}`.trim() || 'unknown', backend: key.backend };
        const did = JSON.stringify(d);
        let dev = devices.get(did);
        if (!dev && devices.size < MAX_DEVICES) devices.set(did, (dev = { ...d, histogram: createHistogram({ maxBuckets }) }));
        if (dev) merge(dev.histogram, p.histogram);
      }
      for (const c of parsed.counters) {
        const key = errorKey(c);
        const id = JSON.stringify(key);
        const e = errors.get(id);
        if (e) e.count += c.count;
        else errors.set(id, { ...key, count: c.count });
      }
    },

    /** Percentiles per device (adapter vendor and architecture) and backend, for one metric. @param {string} metric */
    devices(metric) {
      return [...devices.values()]
        .filter((d) => d.metric === metric)
        .map((d) => ({ adapter: d.adapter, backend: d.backend, ...summary(d.histogram) }))
        .sort((a, b) => a.adapter.localeCompare(b.adapter) || a.backend.localeCompare(b.backend));
    },

    /** The whole state as OTLP requests, one series each (journal snapshots replay them). */
    *snapshot() {
      for (const s of series.values()) {
        const points = [toPoint(s.histogram, attrsOf(s), 0, 0)];
        yield request({ name: s.metric, exponentialHistogram: { aggregationTemporality: TEMPORALITY_DELTA, dataPoints: points } });
      }
      for (const e of errors.values()) {
        const attributes = toAttributes({ ...attrsOf(e), [WIRE_KEYS.errorCode]: e.code });
        const points = [{ attributes, startTimeUnixNano: '0', timeUnixNano: '0', asInt: String(e.count) }];
        yield request({ name: e.metric, sum: { aggregationTemporality: TEMPORALITY_DELTA, isMonotonic: true, dataPoints: points } });
      }
    },

    /** Every matching series, sorted. @param {Query} [q] @returns {Series[]} */
    series(q = {}) {
      return [...series.values()]
        .filter((s) => wanted(q, s))
        .sort((a, b) => JSON.stringify([a.metric, a.model, a.version, a.backend]).localeCompare(JSON.stringify([b.metric, b.model, b.version, b.backend])));
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
