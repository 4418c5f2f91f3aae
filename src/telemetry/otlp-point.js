// OTLP/HTTP JSON ⇄ histogram state, shared by the browser encoder and the Node collector (plain
// ESM JavaScript typed by otlp-point.d.ts). Wire rules (OTLP JSON mapping of the protobuf): keys in
// lowerCamelCase, enums as integers, 64-bit integers as decimal strings (numbers accepted on input).

import { createHistogram, trimmed, bucketLower, MIN_SCALE, MAX_SCALE } from './exphist.js';

// Attribute names on the wire, by the field names of SeriesAttributes / ResourceAttributes.
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
  sampleRate: 'webq8.sample_rate',
  errorCode: 'error.type',
});

/** OTLP AggregationTemporality enum. */
export const TEMPORALITY_DELTA = 1;
export const TEMPORALITY_CUMULATIVE = 2;

export function nanos(ms) {
  // ms·1e6 overflows 2^53 for wall-clock times: build the decimal string instead.
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  return `${whole}${String(micros).padStart(3, '0')}000`;
}

export function toAttributes(record) {
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

export function fromAttributes(list) {
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

export function toPoint(h, attributes, startMs, endMs) {
  const { offset, counts } = trimmed(h);
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

export function parseUint(v) {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  if (typeof v === 'string' && /^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** Parses one ExponentialHistogramDataPoint; returns a histogram state or a string saying what is wrong. */
export function fromPoint(p, maxBuckets) {
  if (!p || typeof p !== 'object') return 'data point is not an object';
  const count = parseUint(p.count ?? 0);
  const zeroCount = parseUint(p.zeroCount ?? 0);
  const scale = p.scale ?? 0;
  if (Number.isNaN(count)) return 'count must be a non-negative integer (decimal string or number)';
  if (Number.isNaN(zeroCount)) return 'zeroCount must be a non-negative integer';
  if (!Number.isInteger(scale) || scale < MIN_SCALE || scale > MAX_SCALE) return `scale must be an integer in [${MIN_SCALE}, ${MAX_SCALE}]`;
  const pos = p.positive ?? {};
  const offset = pos.offset ?? 0;
  if (!Number.isInteger(offset)) return 'positive.offset must be an integer';
  const raw = pos.bucketCounts ?? [];
  if (!Array.isArray(raw)) return 'positive.bucketCounts must be an array';
  const counts = raw.map(parseUint);
  if (counts.some(Number.isNaN)) return 'positive.bucketCounts must hold non-negative integers';
  const neg = p.negative?.bucketCounts ?? [];
  if (!Array.isArray(neg) || neg.some((c) => parseUint(c) !== 0)) return 'negative buckets are not supported (latencies are ≥ 0)';
  const total = counts.reduce((a, b) => a + b, zeroCount);
  if (total !== count) return `count (${count}) must equal zeroCount + sum of bucketCounts (${total})`;
  const h = createHistogram({ scale, maxBuckets: Math.max(maxBuckets ?? 0, counts.length, 2) });
  h.count = count;
  h.zeroCount = zeroCount;
  h.zeroThreshold = typeof p.zeroThreshold === 'number' ? p.zeroThreshold : 0;
  h.sum = typeof p.sum === 'number' ? p.sum : 0;
  h.offset = offset;
  h.counts = counts;
  if (count > 0) {
    // min/max are optional on the wire: fall back to the outer bounds of the occupied buckets.
    const t = trimmed(h);
    const lo = zeroCount > 0 ? 0 : bucketLower(scale, t.offset);
    const hi = t.counts.length > 0 ? bucketLower(scale, t.offset + t.counts.length) : 0;
    h.min = typeof p.min === 'number' ? p.min : lo;
    h.max = typeof p.max === 'number' ? p.max : hi;
  }
  return h;
}
