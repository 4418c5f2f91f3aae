// @ts-check
// OTLP exponential histogram → Prometheus native histogram (the mapping the remote writer uses).
//
// - Schema = OTLP scale: both use base = 2^(2^-scale). Prometheus accepts schemas −4…8; a finer
//   histogram is downscaled to 8 (bucket pairs merge, exactly as OTLP downscaling does); a coarser
//   one (scale < −4) cannot be split back into finer buckets and is refused, as the OpenTelemetry
//   Collector's Prometheus exporters do.
// - Index shift: OTLP bucket i covers (base^i, base^(i+1)], a native bucket i covers
//   (base^(i−1), base^i], so OTLP bucket i is native bucket i + 1.
// - Zero bucket: OTLP's zero_count and zero_threshold carry over as they are (webq8 records exact
//   zeros there; its threshold is 0).
// - Buckets go as spans {offset, length} (the first offset absolute, later ones the gap after the
//   previous span) plus one delta per bucket against the previous bucket (across spans, the first
//   against 0). Short runs of empty buckets stay inside a span as zero counts, which costs less
//   than a new span; Prometheus' own encoder makes the same trade.
import { clone, downscale, trimmed } from '../src/isomorphic/exphist.js';

/** Prometheus' native-histogram schema range. */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;
/** Empty runs up to this long stay inside a span. */
const MAX_INLINE_GAP = 2;

/**
 * @typedef {import('../src/telemetry/types.js').HistogramState} HistogramState
 * @typedef {{ offset: number, length: number }} Span
 * @typedef {{ schema: number, zeroThreshold: number, zeroCount: number, count: number, sum: number, spans: Span[], deltas: number[] }} Native
 */

/**
 * Spans and deltas of dense bucket counts whose first entry is native bucket `first`.
 * @param {number} first @param {readonly number[]} counts
 * @returns {{ spans: Span[], deltas: number[] }}
 */
export function encodeBuckets(first, counts) {
  /** @type {Span[]} */
  const spans = [];
  /** @type {number[]} */
  const deltas = [];
  /** @type {Span | undefined} */
  let span;
  let previous = 0;
  let gap = 0;
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j] ?? 0;
    if (c === 0) {
      gap++;
      continue;
    }
    if (span && gap <= MAX_INLINE_GAP) {
      for (let k = 0; k < gap; k++) {
        deltas.push(0 - previous); // not -previous: -0 for the second empty bucket
        previous = 0;
        span.length++;
      }
    } else {
      span = { offset: span ? gap : first + j, length: 0 };
      spans.push(span);
    }
    gap = 0;
    deltas.push(c - previous);
    previous = c;
    span.length++;
  }
  return { spans, deltas };
}

/**
 * The native histogram of a cumulative OTLP-model histogram, or why it has none.
 * @param {HistogramState} h
 * @returns {Native | string}
 */
export function toNativeHistogram(h) {
  if (h.scale < MIN_SCHEMA) {
    return `scale ${h.scale} is coarser than Prometheus' coarsest schema (${MIN_SCHEMA}); its buckets cannot be split`;
  }
  let source = h;
  if (h.scale > MAX_SCHEMA) {
    source = clone(h);
    downscale(source, h.scale - MAX_SCHEMA);
  }
  const { offset, counts } = trimmed(source);
  const { spans, deltas } = encodeBuckets(offset + 1, counts);
  return { schema: source.scale, zeroThreshold: source.zeroThreshold, zeroCount: source.zeroCount, count: source.count, sum: source.sum, spans, deltas };
}
