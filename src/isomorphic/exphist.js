// @ts-check
// Base-2 exponential histogram: the one copy of the math, shared by the browser recorder
// (src/telemetry) and the Node reference collector (collector/). Plain ESM JavaScript typed with
// JSDoc (checked by `npm run typecheck`), so the collector runs it without a build step; no
// imports, no DOM, no Node APIs.
//
// Why our own and not @opentelemetry/sdk-metrics: its ExponentialHistogramAccumulation is internal
// (not a public, stable export), has no quantile query, and is reached only through the Meter →
// instrument → attribute-hashing pipeline, which costs several µs per sample and pulls
// @opentelemetry/api + core + resources into the browser bundle. The collector also needs merge and
// quantiles on decoded OTLP points, which the SDK does not offer. The algorithm is the one in the
// OTLP data model (and the SDK): bucket i at scale s holds (base^i, base^(i+1)], base = 2^(2^-s);
// downscaling by one merges bucket pairs (i → floor(i/2)).
//
// State is a plain JSON-safe object (see HistogramState in types.ts) so it can be persisted,
// structured-cloned, and sent as is.

/**
 * @typedef {import('../telemetry/types.js').HistogramState} HistogramState
 * @typedef {import('../telemetry/types.js').HistogramOptions} HistogramOptions
 */

/** Finest scale we use: 6 → base 2^(1/64), midpoint relative error ≤ (base−1)/(base+1) ≈ 0.54 %. */
export const DEFAULT_SCALE = 6;
/** 22.5 octaves (10 µs–60 s) need 1440 buckets at scale 6; 2048 leaves room before downscaling. */
export const DEFAULT_MAX_BUCKETS = 2048;
/** Smallest scale OTLP allows (−10). */
export const MIN_SCALE = -10;
/** Largest scale OTLP allows (20). */
export const MAX_SCALE = 20;
/**
 * Values (and bucket bounds) live in [2^−64, 2^64] — for milliseconds, 5·10^−23 s to 584 million
 * years. The bound keeps every bucket bound a finite double and every index inside int32 (the
 * shifts below), and makes any two in-range histograms mergeable within 2048 buckets at scale ≥ 4
 * (128 octaves · 16). 2^64 is a bucket boundary at every scale ≥ −6, so downscaling stays inside.
 */
export const VALUE_LOG2_LIMIT = 64;

const MIN_VALUE = 2 ** -VALUE_LOG2_LIMIT;
const MAX_VALUE = 2 ** VALUE_LOG2_LIMIT;

// log2(e) · 2^scale per scale, so recording costs one Math.log and one multiply.
/** @type {number[]} */
const FACTORS = [];
for (let s = MIN_SCALE; s <= MAX_SCALE; s++) FACTORS.push(Math.LOG2E * 2 ** s);

/** @param {number} scale */
function factor(scale) {
  return /** @type {number} */ (FACTORS[scale - MIN_SCALE]);
}

/** A new empty histogram. @param {HistogramOptions} [options] @returns {HistogramState} */
export function createHistogram(options = {}) {
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, Math.trunc(options.scale ?? DEFAULT_SCALE)));
  return {
    scale,
    maxBuckets: Math.max(2, Math.trunc(options.maxBuckets ?? DEFAULT_MAX_BUCKETS)),
    zeroThreshold: options.zeroThreshold ?? 0,
    count: 0,
    zeroCount: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    offset: 0,
    counts: [],
  };
}

/** Bucket index of a positive value at a scale. @param {number} scale @param {number} value */
export function bucketIndex(scale, value) {
  // (base^i, base^(i+1)] contains value  ⇔  i = ceil(log2(value)·2^scale) − 1. The same formula at
  // scale s−1 gives floor(i/2), so recording and downscaling agree.
  return Math.ceil(Math.log(value) * factor(scale)) - 1;
}

/** Lower bound base^index of a bucket. @param {number} scale @param {number} index */
export function bucketLower(scale, index) {
  return 2 ** (index * 2 ** -scale);
}

/**
 * The bucket indices at `scale` whose bounds lie inside [2^−64, 2^64] (see VALUE_LOG2_LIMIT);
 * `lo > hi` when none does (scales below −6).
 * @param {number} scale
 * @returns {{ lo: number, hi: number }}
 */
export function indexRange(scale) {
  const span = VALUE_LOG2_LIMIT * 2 ** scale;
  return { lo: Math.ceil(-span), hi: Math.floor(span) - 1 };
}

/**
 * Adds one value; returns false (and records nothing) for NaN, negatives, ±Infinity and positive
 * values outside [2^−64, 2^64].
 * @param {HistogramState} h @param {number} value
 */
export function record(h, value) {
  if (!(value >= 0) || value > MAX_VALUE || (value > 0 && value < MIN_VALUE)) return false;
  h.count++;
  h.sum += value;
  if (value < h.min) h.min = value;
  if (value > h.max) h.max = value;
  if (value <= h.zeroThreshold) {
    h.zeroCount++;
    return true;
  }
  const i = bucketIndex(h.scale, value);
  const j = i - h.offset;
  if (j >= 0 && j < h.counts.length) {
    h.counts[j] = /** @type {number} */ (h.counts[j]) + 1;
    return true;
  }
  addAt(h, i, 1);
  return true;
}

/** Adds n to bucket i (at h.scale), growing the window and downscaling when it would overflow. @param {HistogramState} h @param {number} i @param {number} n */
function addAt(h, i, n) {
  if (h.counts.length === 0) {
    h.offset = i;
    h.counts.push(n);
    return;
  }
  let lo = Math.min(h.offset, i);
  let hi = Math.max(h.offset + h.counts.length - 1, i);
  let by = 0;
  while (hi - lo + 1 > h.maxBuckets) {
    lo >>= 1;
    hi >>= 1;
    by++;
  }
  if (by > 0) {
    downscale(h, by);
    i >>= by;
  }
  ensureRange(h, i, i);
  h.counts[i - h.offset] = /** @type {number} */ (h.counts[i - h.offset]) + n;
}

/** Grows the dense window so that [lo, hi] is inside it. @param {HistogramState} h @param {number} lo @param {number} hi */
function ensureRange(h, lo, hi) {
  if (h.counts.length === 0) {
    h.offset = lo;
    h.counts = new Array(hi - lo + 1).fill(0);
    return;
  }
  if (lo < h.offset) {
    h.counts = new Array(h.offset - lo).fill(0).concat(h.counts);
    h.offset = lo;
  }
  const end = h.offset + h.counts.length - 1;
  if (hi > end) for (let k = end; k < hi; k++) h.counts.push(0);
}

/** Reduces the scale by `by` (each step merges bucket pairs; never below MIN_SCALE). @param {HistogramState} h @param {number} by */
export function downscale(h, by) {
  if (by <= 0) return;
  const target = Math.max(MIN_SCALE, h.scale - by);
  by = h.scale - target;
  if (by === 0) return;
  h.scale = target;
  if (h.counts.length === 0) return;
  const lo = h.offset >> by;
  const hi = (h.offset + h.counts.length - 1) >> by;
  /** @type {number[]} */
  const next = new Array(hi - lo + 1).fill(0);
  for (let j = 0; j < h.counts.length; j++) {
    const k = ((h.offset + j) >> by) - lo;
    next[k] = /** @type {number} */ (next[k]) + /** @type {number} */ (h.counts[j]);
  }
  h.offset = lo;
  h.counts = next;
}

/**
 * Adds `source` into `target` (scales aligned, downscaled to fit `target.maxBuckets`); returns
 * target. Throws a RangeError, before changing anything, when the two cannot fit even at
 * MIN_SCALE — impossible for histograms whose buckets lie inside indexRange(), which is what
 * record() and the collector's validation guarantee.
 * @param {HistogramState} target @param {HistogramState} source
 */
export function merge(target, source) {
  if (source.count === 0) return target;
  let scale = Math.min(target.scale, source.scale);
  if (source.counts.length > 0) {
    const sLo = source.offset >> (source.scale - scale);
    const sHi = (source.offset + source.counts.length - 1) >> (source.scale - scale);
    let lo = sLo;
    let hi = sHi;
    if (target.counts.length > 0) {
      lo = Math.min(lo, target.offset >> (target.scale - scale));
      hi = Math.max(hi, (target.offset + target.counts.length - 1) >> (target.scale - scale));
    }
    while (hi - lo + 1 > target.maxBuckets && scale > MIN_SCALE) {
      lo >>= 1;
      hi >>= 1;
      scale--;
    }
    // Allocating the window anyway is what used to kill the collector (a 2^28-entry array).
    if (hi - lo + 1 > target.maxBuckets)
      throw new RangeError(`histograms spanning bucket indices ${lo}…${hi} at scale ${scale} cannot be merged within ${target.maxBuckets} buckets`);
    downscale(target, target.scale - scale);
    ensureRange(target, lo, hi);
    const shift = source.scale - scale;
    for (let j = 0; j < source.counts.length; j++) {
      const n = /** @type {number} */ (source.counts[j]);
      const k = ((source.offset + j) >> shift) - target.offset;
      if (n !== 0) target.counts[k] = /** @type {number} */ (target.counts[k]) + n;
    }
  } else {
    downscale(target, target.scale - scale);
  }
  target.count += source.count;
  target.zeroCount += source.zeroCount;
  target.sum += source.sum;
  if (source.min < target.min) target.min = source.min;
  if (source.max > target.max) target.max = source.max;
  // Differing thresholds: keep the wider one (OTLP allows it; ours are always 0 in practice).
  if (source.zeroThreshold > target.zeroThreshold) target.zeroThreshold = source.zeroThreshold;
  return target;
}

/** A deep copy. @param {HistogramState} h @returns {HistogramState} */
export function clone(h) {
  return { ...h, counts: h.counts.slice() };
}

/**
 * p = inf{t : F(t) ≥ q}, estimated as the bucket midpoint clamped to [min, max]; NaN if empty.
 * @param {HistogramState} h @param {number} q
 */
export function quantile(h, q) {
  if (h.count === 0 || !(q >= 0 && q <= 1)) return NaN;
  // p = inf{t : F(t) ≥ q}: the sample of rank ceil(q·n) (1-based), at least the first.
  const rank = Math.max(1, Math.ceil(q * h.count));
  if (rank >= h.count) return h.max;
  if (rank <= h.zeroCount) return clamp(0, h);
  let seen = h.zeroCount;
  for (let j = 0; j < h.counts.length; j++) {
    seen += /** @type {number} */ (h.counts[j]);
    if (seen >= rank) {
      const lower = bucketLower(h.scale, h.offset + j);
      const upper = bucketLower(h.scale, h.offset + j + 1);
      return clamp((lower + upper) / 2, h);
    }
  }
  return h.max;
}

/** @param {number} v @param {HistogramState} h */
function clamp(v, h) {
  return Math.min(h.max, Math.max(h.min, v));
}

/**
 * The counts without leading/trailing empty buckets, and their offset.
 * @param {HistogramState} h @returns {{ offset: number, counts: number[] }}
 */
export function trimmed(h) {
  let a = 0;
  let b = h.counts.length;
  while (a < b && h.counts[a] === 0) a++;
  while (b > a && h.counts[b - 1] === 0) b--;
  return { offset: a === b ? 0 : h.offset + a, counts: h.counts.slice(a, b) };
}
