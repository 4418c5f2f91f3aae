// @ts-check
// The collector's state in Prometheus' terms, for remote write and for the serving gauges: one
// entry per Prometheus series (metric name + label set), cumulative from the collector's journal.
//
//   OTLP                                           Prometheus
//   exponential histogram webq8.run.duration (ms)  native histogram webq8_run_duration_milliseconds
//   monotonic sum webq8.errors                     counter webq8_errors_total
//   gauge webq8.serving.queue_length               gauge webq8_serving_queue_length
//   webq8.model.id / .model.version / .backend     labels model / version / backend ('unknown' when absent)
//   error.type                                     label error_type
//   webq8.reason, webq8.window (serving gauges)    labels reason, window
//
// Other attributes are not labels: page origin, adapter and library version would multiply series
// without answering a fleet question (except on webq8.verify.* series, where the adapter and the
// browser are the question: which devices give wrong GPU answers), and the plan strategy is not kept by the aggregator, whose
// journal snapshot (compaction) is what a restarted collector replays: a label it cannot restore
// would split a series in two across a restart. Series are capped (`maxSeries`); a name already
// used by another kind is refused, because mixing float and histogram samples under one name
// makes a remote-write receiver refuse whole requests.
import { createHistogram, merge } from '../src/isomorphic/exphist.js';
import { WIRE_KEYS } from '../src/isomorphic/otlp-point.js';
import { parseGauges } from './gauges.mjs';
import { toNativeHistogram } from './native-histogram.mjs';
import { METRIC_TYPE, RESET_HINT } from './prom-proto.mjs';

/** Series kept (all kinds together) before new ones are refused. */
export const DEFAULT_MAX_SERIES = 10_000;
const MAX_LABEL_VALUE = 256;
// A lone UTF-16 surrogate (possible in JSON, or left by the length cut) would be invalid UTF-8 on
// the wire, and a receiver that validates refuses the whole request for it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** OTLP attribute → Prometheus label name; no other attribute becomes a label. */
export const LABELS = Object.freeze({
  [WIRE_KEYS.modelId]: 'model',
  [WIRE_KEYS.modelVersion]: 'version',
  [WIRE_KEYS.backend]: 'backend',
  [WIRE_KEYS.errorCode]: 'error_type',
  'webq8.reason': 'reason',
  'webq8.window': 'window',
  'webq8.output': 'output',
});
/** Labels of `webq8.verify.*` series only: which devices' GPU answers diverge from ORT's WASM EP (issue 21). */
const VERIFY_LABELS = Object.freeze({
  [WIRE_KEYS.adapterVendor]: 'adapter_vendor',
  [WIRE_KEYS.adapterArchitecture]: 'adapter_architecture',
  [WIRE_KEYS.browser]: 'browser',
});
const REQUIRED = ['model', 'version', 'backend'];

/**
 * @typedef {import('./prom-proto.mjs').Label} Label
 * @typedef {import('./prom-proto.mjs').TimeSeries} TimeSeries
 * @typedef {import('./prom-proto.mjs').MetricMetadata} MetricMetadata
 * @typedef {import('./validate.mjs').Parsed} Parsed
 * @typedef {import('../src/telemetry/types.js').HistogramState} HistogramState
 * @typedef {'histogram' | 'counter' | 'gauge'} Kind
 * @typedef {{ kind: Kind, name: string, labels: Label[], histogram?: HistogramState, value: number, timeMs: number,
 *   seq: number, sentSeq: number, fresh: boolean, refused: boolean }} Entry
 * @typedef {{ entry: Entry, seq: number, series: TimeSeries }} Item
 */

/**
 * Prometheus metric name of an OTLP metric: invalid characters become `_`; histograms get the
 * unit suffix `_milliseconds` (every webq8 histogram is a duration in ms), counters `_total`.
 * @param {string} metric @param {Kind} kind
 */
export function promName(metric, kind) {
  const name = metric.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/^(?=[0-9])/, '_');
  return kind === 'histogram' ? `${name}_milliseconds` : kind === 'counter' ? `${name}_total` : name;
}

/** Sorted labels (Prometheus' order) of a series. @param {string} name @param {Record<string, unknown>} attrs @returns {Label[]} */
export function promLabels(name, attrs) {
  /** @type {Record<string, string>} */
  const out = { __name__: name };
  for (const l of REQUIRED) out[l] = 'unknown';
  const labels = name.startsWith('webq8_verify_') ? { ...LABELS, ...VERIFY_LABELS } : LABELS;
  for (const [attr, label] of Object.entries(labels)) {
    const v = attrs[attr];
    if (v !== undefined && v !== '') out[label] = String(v).slice(0, MAX_LABEL_VALUE).replace(LONE_SURROGATE, '\uFFFD');
  }
  return Object.keys(out)
    .sort()
    .map((n) => ({ name: n, value: /** @type {string} */ (out[n]) }));
}

/**
 * @typedef {{ entries: Map<string, Entry>, names: Map<string, { kind: Kind, metric: string }>, maxSeries: number,
 *   refused: { seriesLimit: number, nameClash: number, schema: number } }} Store
 */

/**
 * The entry of a series, created when there is room; undefined (and counted) when refused.
 * @param {Store} store @param {Kind} kind @param {string} metric @param {Record<string, unknown>} attrs @param {boolean} replayed
 */
function entry(store, kind, metric, attrs, replayed) {
  const name = promName(metric, kind);
  const known = store.names.get(name);
  if (known && known.kind !== kind) return void store.refused.nameClash++;
  const labels = promLabels(name, attrs);
  const key = JSON.stringify(labels);
  const found = store.entries.get(key);
  if (found) return found;
  if (store.entries.size >= store.maxSeries) return void store.refused.seriesLimit++;
  if (!known) store.names.set(name, { kind, metric });
  // `fresh`: the first write of a series this process did not restore from the journal carries
  // the "counter reset" hint: a collector restarted without its journal starts from zero. (Stores
  // that ignore the hint, like Prometheus 2.42, still see a reset when the counts decrease.)
  /** @type {Entry} */
  const e = { kind, name, labels, value: 0, timeMs: 0, seq: 0, sentSeq: 0, fresh: !replayed, refused: false };
  if (kind === 'histogram') e.histogram = createHistogram();
  store.entries.set(key, e);
  return e;
}

/** The remote-write series of an entry at `ts`; undefined when it has none. @param {Store} store @param {Entry} e @param {number} ts @returns {TimeSeries | undefined} */
function series(store, e, ts) {
  if (e.kind !== 'histogram') return { labels: e.labels, samples: [{ value: e.value, timestamp: ts }] };
  const n = toNativeHistogram(/** @type {HistogramState} */ (e.histogram));
  if (typeof n === 'string') {
    if (!e.refused) store.refused.schema++;
    e.refused = true;
    return undefined;
  }
  const h = { count_int: n.count, sum: n.sum, schema: n.schema, zero_threshold: n.zeroThreshold, zero_count_int: n.zeroCount };
  const buckets = { positive_spans: n.spans, positive_deltas: n.deltas };
  return { labels: e.labels, histograms: [{ ...h, ...buckets, reset_hint: e.fresh ? RESET_HINT.YES : RESET_HINT.UNKNOWN, timestamp: ts }] };
}

const METADATA_TYPE = { histogram: METRIC_TYPE.HISTOGRAM, counter: METRIC_TYPE.COUNTER, gauge: METRIC_TYPE.GAUGE };

/** One metadata entry per metric family. @param {Store} store @returns {MetricMetadata[]} */
function metadataOf(store) {
  return [...store.names].map(([name, { kind, metric }]) => ({
    type: METADATA_TYPE[kind],
    metric_family_name: name,
    help: `webq8 ${metric} (OTLP ${kind === 'counter' ? 'monotonic sum' : kind}), via the webq8 collector`,
    unit: kind === 'histogram' ? 'milliseconds' : '',
  }));
}

/** @param {{ maxSeries?: number, histograms?: boolean }} [options] `histograms: false` keeps only the gauges. */
export function createFleetState(options = {}) {
  const keepHistograms = options.histograms ?? true;
  /** @type {Store} */
  const store = {
    entries: new Map(),
    names: new Map(),
    maxSeries: options.maxSeries ?? DEFAULT_MAX_SERIES,
    refused: { seriesLimit: 0, nameClash: 0, schema: 0 },
  };
  const { entries } = store;

  return {
    refused: store.refused,
    /** Series held now. */
    get size() {
      return entries.size;
    },

    /**
     * Folds one accepted request in. `replayed`: it comes from the journal at start (its gauges
     * were current then and are not written again).
     * @param {Parsed} parsed @param {unknown} body the request's JSON @param {boolean} [replayed]
     */
    add(parsed, body, replayed = false) {
      if (keepHistograms) {
        for (const p of parsed.histograms) {
          const e = entry(store, 'histogram', p.metric, p.attrs, replayed);
          if (e?.histogram) merge(e.histogram, p.histogram);
        }
        for (const c of parsed.counters) {
          const e = entry(store, 'counter', c.metric, c.attrs, replayed);
          if (e) e.value += c.count;
        }
      }
      for (const g of parseGauges(body)) {
        const e = entry(store, 'gauge', g.metric, g.attrs, replayed);
        if (!e || g.timeMs < e.timeMs) continue; // an older point delivered late changes nothing
        e.value = g.value;
        e.timeMs = g.timeMs;
        e.seq++;
        if (replayed) e.sentSeq = e.seq;
      }
    },

    /** The last value of every gauge series. @returns {{ name: string, labels: Record<string, string>, value: number, timeMs: number }[]} */
    gauges() {
      return [...entries.values()]
        .filter((e) => e.kind === 'gauge')
        .map((e) => ({ name: e.name, labels: Object.fromEntries(e.labels.map((l) => [l.name, l.value])), value: e.value, timeMs: e.timeMs }));
    },

    /**
     * What to write at `ts`: every histogram and counter (cumulative), and the gauges that
     * changed since they were last written.
     * @param {number} ts @returns {{ items: Item[], metadata: MetricMetadata[] }}
     */
    snapshot(ts) {
      /** @type {Item[]} */
      const items = [];
      for (const e of entries.values()) {
        if (e.kind === 'gauge' && e.seq === e.sentSeq) continue;
        const s = series(store, e, ts);
        if (s) items.push({ entry: e, seq: e.seq, series: s });
      }
      return { items, metadata: metadataOf(store) };
    },

    /** Marks an item of a snapshot as accepted by the receiver. @param {Item} item */
    written(item) {
      item.entry.fresh = false;
      if (item.seq > item.entry.sentSeq) item.entry.sentSeq = item.seq;
    },
  };
}
