// The bounds the collector relies on, checked where they live: fromPoint (otlp-point.js) refuses
// the payloads that used to kill or hang the collector, record() keeps values in range, and
// merge() fails instead of allocating when handed out-of-range state.
import { describe, expect, it } from 'vitest';
import { bucketLower, createHistogram, indexRange, merge, quantile, record, VALUE_LOG2_LIMIT } from '../../../src/isomorphic/exphist.js';
import { fromPoint, MAX_POINT_BUCKETS } from '../../../src/isomorphic/otlp-point.js';
import type { HistogramState } from '../../../src/telemetry/types.js';

const point = (scale: number, offset: number, counts: number[], extra: Record<string, unknown> = {}) => ({
  count: String(counts.reduce((a, b) => a + b, 0)),
  scale,
  positive: { offset, bucketCounts: counts.map(String) },
  ...extra,
});

describe('fromPoint bounds', () => {
  // The payload classes from issue 10 that crashed (scale −10) or hung (the other two) the collector.
  for (const [name, p] of [
    ['scale −10, offset −2^27', point(-10, -(2 ** 27), [1])],
    ['scale −10, offset +2^27', point(-10, 2 ** 27, [1])],
    ['scale 0, offset 2000 (bound 2^2000 = Infinity)', point(0, 2000, [1])],
    ['scale 6, offset 1e7', point(6, 1e7, [1])],
    ['scale 20, offset −2^40', point(20, -(2 ** 40), [1])],
  ] as const) {
    it(`refuses ${name} with a reason`, () => {
      expect(fromPoint(p)).toMatch(/outside \[2\^-64, 2\^64\]/);
    });
  }

  it('accepts the outermost in-range buckets at every scale, with finite bounds', () => {
    for (let scale = -6; scale <= 20; scale++) {
      const { lo, hi } = indexRange(scale);
      for (const i of [lo, hi]) {
        const h = fromPoint(point(scale, i, [3]));
        expect(typeof h, `scale ${scale} index ${i}`).toBe('object');
        expect(Number.isFinite(bucketLower(scale, i + 1)) && bucketLower(scale, i) > 0).toBe(true);
      }
      expect(fromPoint(point(scale, hi + 1, [1]))).toMatch(/outside/);
      expect(fromPoint(point(scale, lo - 1, [1]))).toMatch(/outside/);
    }
    // Below −6 no bucket fits: only the zero bucket can be used.
    expect(fromPoint(point(-7, 0, [1]))).toMatch(/outside/);
    expect(typeof fromPoint({ ...point(-10, 0, [0]), zeroCount: '4', count: '4' })).toBe('object');
  });

  it('ignores empty buckets at either end before checking the range', () => {
    const h = fromPoint(point(0, 2000, [0, 0]));
    expect(h).toMatchObject({ count: 0, counts: [] });
    const g = fromPoint(point(0, 60, [0, 0, 2, 0])) as HistogramState;
    expect(g).toMatchObject({ offset: 62, counts: [2] });
  });

  it('refuses non-finite, negative or inconsistent fields', () => {
    const ok = point(6, 0, [1, 2]);
    expect(typeof fromPoint(ok)).toBe('object');
    for (const [extra, reason] of [
      [{ sum: 1e300 }, /sum must be a number in \[0, 2\^64\]/],
      [{ sum: -1 }, /sum/],
      [{ sum: 'NaN' }, /sum/],
      [{ min: -1 }, /min/],
      [{ max: 'Infinity' }, /max/],
      [{ min: 5, max: 2 }, /min \(5\) must not exceed max \(2\)/],
      [{ zeroThreshold: 1e30 }, /zeroThreshold/],
      [{ count: '4' }, /count \(4\) must equal/],
      [{ positive: { offset: 0.5, bucketCounts: ['1'] }, count: '1' }, /offset must be an integer/],
      [{ positive: { offset: 2 ** 60, bucketCounts: ['1'] }, count: '1' }, /offset must be an integer/],
    ] as const) {
      expect(fromPoint({ ...ok, ...extra }), JSON.stringify(extra)).toMatch(reason);
    }
    // count = zeroCount + Σ buckets must hold exactly, also beyond 2^53.
    expect(fromPoint({ count: '9007199254740991', zeroCount: '9007199254740990', positive: { offset: 0, bucketCounts: ['2'] } })).toMatch(/must equal/);
  });

  it(`refuses a point spanning more than ${MAX_POINT_BUCKETS} occupied buckets`, () => {
    expect(fromPoint(point(20, 0, new Array(MAX_POINT_BUCKETS + 1).fill(1)))).toMatch(/at most 16384 buckets/);
    expect(typeof fromPoint(point(20, 0, new Array(MAX_POINT_BUCKETS).fill(1)))).toBe('object');
  });
});

describe('histogram range', () => {
  it('record() refuses values outside [2^-64, 2^64] and keeps the ones on the bounds', () => {
    const h = createHistogram();
    for (const v of [2 ** 65, 1e300, 2 ** -70, 1e-300]) expect(record(h, v), String(v)).toBe(false);
    for (const v of [0, 2 ** -VALUE_LOG2_LIMIT, 2 ** VALUE_LOG2_LIMIT]) expect(record(h, v), String(v)).toBe(true);
    expect(h.count).toBe(3);
    expect(h.counts.length).toBeLessThanOrEqual(h.maxBuckets);
  });

  it('merges the two ends of the range at scale 20 within 2048 buckets, with finite quantiles', () => {
    const { lo, hi } = indexRange(20);
    const target = fromPoint(point(20, lo, [5])) as HistogramState;
    const fresh = createHistogram();
    merge(fresh, target);
    merge(fresh, fromPoint(point(20, hi, [7])) as HistogramState);
    expect(fresh.count).toBe(12);
    expect(fresh.counts.length).toBeLessThanOrEqual(2048);
    expect(fresh.scale).toBeGreaterThanOrEqual(3);
    for (const q of [0, 0.4, 0.5, 1]) expect(Number.isFinite(quantile(fresh, q))).toBe(true);
  });

  it('merge() throws a RangeError, and changes nothing, for state no validation would let through', () => {
    const a = { ...createHistogram({ scale: -10 }), count: 1, offset: -(2 ** 27), counts: [1], min: 1, max: 1 };
    const b = { ...createHistogram({ scale: -10 }), count: 1, offset: 2 ** 27, counts: [1], min: 1, max: 1 };
    expect(() => merge(a, b)).toThrow(RangeError);
    expect(a).toMatchObject({ count: 1, offset: -(2 ** 27), counts: [1] });
  });
});
