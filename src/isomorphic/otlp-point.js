// @ts-check
// OTLP/HTTP JSON ⇄ histogram state, shared by the browser encoder and the Node collector (plain
// ESM JavaScript typed with JSDoc). Wire rules (OTLP JSON mapping of the protobuf): keys in
// lowerCamelCase, enums as integers, 64-bit integers as decimal strings (numbers accepted on input).

import { createHistogram, trimmed, bucketLower, indexRange, DEFAULT_MAX_BUCKETS, MIN_SCALE, MAX_SCALE, VALUE_LOG2_LIMIT } from './exphist.js';

/**
 * @typedef {import('../telemetry/types.js').HistogramState} HistogramState
 * @typedef {import('../telemetry/types.js').SeriesAttributes} SeriesAttributes
 * @typedef {import('../telemetry/types.js').ResourceAttributes} ResourceAttributes
 * @typedef {import('../telemetry/otlp-types.js').OtlpKeyValue} OtlpKeyValue
 * @typedef {import('../telemetry/otlp-types.js').OtlpExponentialPoint} OtlpExponentialPoint
 * @typedef {keyof SeriesAttributes | keyof ResourceAttributes | 'sampleRate' | 'errorCode'} WireField
 *   Fields that have a wire attribute name.
 */

/**
 * Wire attribute names by attribute field (`modelId` → `webq8.model.id`, `errorCode` → `error.type`, …).
 * @type {Readonly<Record<WireField, string>>}
 */
export const WIRE_KEYS = Object.freeze({
  modelId: 'webq8.model.id',
  modelVersion: 'webq8.model.version',
  modelSha256: 'webq8.model.sha256',
  backend: 'webq8.backend',
  planStrategy: 'webq8.plan.strategy',
  webq8Version: 'webq8.version',
  pageOrigin: 'webq8.page.origin',
  adapterVendor: 'webq8.adapter.vendor',
  adapterArchitecture: 'webq8.adapter.architecture',
  browser: 'webq8.browser',
  sampleRate: 'webq8.sample_rate',
  errorCode: 'error.type',
});

/** OTLP AggregationTemporality.DELTA (1). */
export const TEMPORALITY_DELTA = 1;
/**
 * Most occupied buckets one incoming data point may span (8× our default cap, so a client with a
 * larger `maxBuckets` still gets through; the collector downscales on merge).
 */
export const MAX_POINT_BUCKETS = 8 * DEFAULT_MAX_BUCKETS;

const MAX_VALUE = 2 ** VALUE_LOG2_LIMIT;

/** Wall-clock ms → OTLP `fixed64` nanoseconds as a decimal string (exact, no 2^53 overflow). @param {number} ms */
export function nanos(ms) {
  // ms·1e6 overflows 2^53 for wall-clock times: build the decimal string instead.
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  return `${whole}${String(micros).padStart(3, '0')}000`;
}

/**
 * A flat record → OTLP `KeyValue[]` (strings, booleans, finite numbers; others skipped).
 * @param {Record<string, unknown>} record @returns {OtlpKeyValue[]}
 */
export function toAttributes(record) {
  /** @type {OtlpKeyValue[]} */
  const out = [];
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (typeof v === 'string') out.push({ key, value: { stringValue: v } });
    else if (typeof v === 'boolean') out.push({ key, value: { boolValue: v } });
    else if (typeof v === 'number' && Number.isFinite(v)) {
      out.push({ key, value: Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v } });
    }
  }
  return out;
}

/**
 * OTLP `KeyValue[]` → a flat record (string, bool, int, double values; others skipped).
 * @param {unknown} list @returns {Record<string, string | number | boolean>}
 */
export function fromAttributes(list) {
  /** @type {Record<string, string | number | boolean>} */
  const out = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (!kv || typeof kv.key !== 'string' || !kv.value || typeof kv.value !== 'object') continue;
    const v = kv.value;
    if (typeof v.stringValue === 'string') out[kv.key] = v.stringValue;
    else if (typeof v.boolValue === 'boolean') out[kv.key] = v.boolValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (typeof v.doubleValue === 'number') out[kv.key] = v.doubleValue;
  }
  return out;
}

/**
 * A histogram → an OTLP JSON `ExponentialHistogramDataPoint` (buckets trimmed).
 * @param {HistogramState} h @param {Record<string, unknown>} attributes @param {number} startMs @param {number} endMs
 * @returns {OtlpExponentialPoint}
 */
export function toPoint(h, attributes, startMs, endMs) {
  const { offset, counts } = trimmed(h);
  /** @type {OtlpExponentialPoint} */
  const point = {
    attributes: toAttributes(attributes),
    startTimeUnixNano: nanos(startMs),
    timeUnixNano: nanos(endMs),
    count: String(h.count),
    sum: h.sum,
    scale: h.scale,
    zeroCount: String(h.zeroCount),
    positive: { offset, bucketCounts: counts.map(String) },
    zeroThreshold: h.zeroThreshold,
  };
  if (h.count > 0) {
    point.min = h.min;
    point.max = h.max;
  }
  return point;
}

/** A uint64 as decimal string or number → number (NaN if invalid or beyond 2^53). @param {unknown} v */
export function parseUint(v) {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  if (typeof v === 'string' && /^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** @param {unknown} v */
const inRange = (v) => typeof v === 'number' && v >= 0 && v <= MAX_VALUE;

/**
 * Parses one ExponentialHistogramDataPoint; returns a histogram state or a string saying what is
 * wrong. Besides the wire types it enforces what keeps every later step bounded: occupied buckets
 * inside [2^−64, 2^64] (finite bounds, mergeable within the cap), at most `maxPointBuckets`
 * occupied buckets, count = zeroCount + Σ bucketCounts ≤ 2^53, and sum/min/max/zeroThreshold
 * finite, non-negative, ≤ 2^64 with min ≤ max. Empty buckets at either end are dropped.
 * @param {unknown} p
 * @param {number} [maxBuckets] bucket cap of the returned histogram (at least the point's own size)
 * @param {number} [maxPointBuckets] default MAX_POINT_BUCKETS
 * @returns {HistogramState | string}
 */
export function fromPoint(p, maxBuckets, maxPointBuckets = MAX_POINT_BUCKETS) {
  if (!p || typeof p !== 'object') return 'data point is not an object';
  const q = /** @type {Record<string, any>} */ (p);
  const count = parseUint(q.count ?? 0);
  const zeroCount = parseUint(q.zeroCount ?? 0);
  const scale = q.scale ?? 0;
  if (Number.isNaN(count)) return 'count must be a non-negative integer (decimal string or number)';
  if (Number.isNaN(zeroCount)) return 'zeroCount must be a non-negative integer';
  if (!Number.isInteger(scale) || scale < MIN_SCALE || scale > MAX_SCALE) return `scale must be an integer in [${MIN_SCALE}, ${MAX_SCALE}]`;
  const pos = q.positive ?? {};
  const offset = pos.offset ?? 0;
  if (!Number.isSafeInteger(offset)) return 'positive.offset must be an integer (|offset| < 2^53)';
  const raw = pos.bucketCounts ?? [];
  if (!Array.isArray(raw)) return 'positive.bucketCounts must be an array';
  const counts = raw.map(parseUint);
  if (counts.some(Number.isNaN)) return 'positive.bucketCounts must hold non-negative integers';
  const neg = q.negative?.bucketCounts ?? [];
  if (!Array.isArray(neg) || neg.some((c) => parseUint(c) !== 0)) return 'negative buckets are not supported (latencies are ≥ 0)';
  const total = counts.reduce((a, b) => a + b, zeroCount);
  if (!Number.isSafeInteger(total) || total !== count) return `count (${count}) must equal zeroCount + sum of bucketCounts (${total})`;
  const t = trimmed({ ...createHistogram(), offset, counts });
  const range = indexRange(scale);
  if (t.counts.length > 0 && (t.offset < range.lo || t.offset + t.counts.length - 1 > range.hi)) {
    return `occupied buckets ${t.offset}…${t.offset + t.counts.length - 1} at scale ${scale} lie outside [2^-${VALUE_LOG2_LIMIT}, 2^${VALUE_LOG2_LIMIT}] (bucket indices ${range.lo}…${range.hi} at this scale)`;
  }
  if (t.counts.length > maxPointBuckets) return `a data point may span at most ${maxPointBuckets} buckets (got ${t.counts.length}); downscale it`;
  for (const key of ['sum', 'min', 'max', 'zeroThreshold']) {
    if (q[key] != null && !inRange(q[key])) return `${key} must be a number in [0, 2^${VALUE_LOG2_LIMIT}]`;
  }
  if (typeof q.min === 'number' && typeof q.max === 'number' && q.min > q.max) return `min (${q.min}) must not exceed max (${q.max})`;
  const h = createHistogram({ scale, maxBuckets: Math.max(maxBuckets ?? 0, t.counts.length, 2) });
  h.count = count;
  h.zeroCount = zeroCount;
  h.zeroThreshold = typeof q.zeroThreshold === 'number' ? q.zeroThreshold : 0;
  h.sum = typeof q.sum === 'number' ? q.sum : 0;
  h.offset = t.offset;
  h.counts = t.counts;
  if (count > 0) {
    // min/max are optional on the wire: fall back to the outer bounds of the occupied buckets.
    const lo = zeroCount > 0 ? 0 : bucketLower(scale, t.offset);
    const hi = t.counts.length > 0 ? bucketLower(scale, t.offset + t.counts.length) : 0;
    h.min = typeof q.min === 'number' ? q.min : lo;
    h.max = typeof q.max === 'number' ? q.max : hi;
  }
  return h;
}
