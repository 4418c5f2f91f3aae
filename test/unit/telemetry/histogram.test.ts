import { describe, expect, it } from 'vitest';
import { bucketIndex, bucketLower, clone, createHistogram, downscale, merge, quantile, record, trimmed } from '../../../src/isomorphic/exphist.js';
import type { HistogramState } from '../../../src/telemetry/types.js';
import { exactQuantile, prng, samples } from './helpers.js';

const QS = [0.5, 0.9, 0.95, 0.99];

function histogramOf(values: number[], maxBuckets?: number): HistogramState {
  const h = createHistogram(maxBuckets ? { maxBuckets } : {});
  for (const v of values) record(h, v);
  return h;
}

/** The part of a histogram that must not depend on how it was built. */
function canonical(h: HistogramState) {
  return { scale: h.scale, count: h.count, zeroCount: h.zeroCount, min: h.min, max: h.max, ...trimmed(h) };
}

describe('exponential histogram: quantile accuracy on 100k samples', () => {
  for (const dist of ['lognormal', 'bimodal', 'pareto', 'wide']) {
    it(`${dist}: p50/p90/p95/p99 within 1 % of the exact quantile`, () => {
      const values = samples(dist, 100_000, 42);
      const h = histogramOf(values);
      const sorted = [...values].sort((a, b) => a - b);
      expect(h.scale).toBe(6); // 10 µs–60 s fits without downscaling
      expect(h.count).toBe(100_000);
      for (const q of QS) {
        const exact = exactQuantile(sorted, q);
        const rel = Math.abs(quantile(h, q) - exact) / exact;
        expect(rel, `${dist} p${q * 100}: got ${quantile(h, q)}, exact ${exact}`).toBeLessThanOrEqual(0.01);
      }
      expect(quantile(h, 1)).toBe(sorted[sorted.length - 1]);
      expect(h.min).toBe(sorted[0]);
    });
  }

  it('follows p = inf{t : F(t) ≥ q} on a small sample', () => {
    const h = histogramOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const expected: [number, number][] = [
      [0.05, 1],
      [0.1, 1],
      [0.11, 2],
      [0.5, 5],
      [0.9, 9],
      [0.91, 10],
      [0.99, 10],
    ];
    for (const [q, v] of expected) expect(Math.abs(quantile(h, q) - v) / v, `q=${q}`).toBeLessThanOrEqual(0.006);
  });

  it('counts zeros in the zero bucket and refuses NaN, negatives and Infinity', () => {
    const h = createHistogram();
    for (const v of [0, 0, 0, 5]) expect(record(h, v)).toBe(true);
    for (const v of [NaN, -1, Infinity, -Infinity]) expect(record(h, v)).toBe(false);
    expect(h.count).toBe(4);
    expect(h.zeroCount).toBe(3);
    expect(quantile(h, 0.5)).toBe(0);
    expect(quantile(h, 0.75)).toBe(0);
    expect(quantile(h, 0.99)).toBe(5);
    expect(quantile(createHistogram(), 0.5)).toBeNaN();
  });

  it('puts a value in the bucket (base^i, base^(i+1)]', () => {
    const rand = prng(1);
    for (let k = 0; k < 1000; k++) {
      const v = 1e-3 * 1e8 ** rand();
      for (const scale of [6, 3, 0, -2]) {
        const i = bucketIndex(scale, v);
        expect(bucketLower(scale, i)).toBeLessThan(v * (1 + 1e-12));
        expect(bucketLower(scale, i + 1)).toBeGreaterThanOrEqual(v * (1 - 1e-12));
      }
    }
  });
});

describe('exponential histogram: merge', () => {
  for (const dist of ['lognormal', 'bimodal', 'pareto']) {
    it(`${dist}: merging split streams equals the whole stream`, () => {
      const values = samples(dist, 100_000, 7);
      const rand = prng(3);
      const parts = [createHistogram(), createHistogram(), createHistogram()];
      for (const v of values) record(parts[Math.floor(rand() * 3)]!, v);
      const merged = parts.reduce((acc, p) => merge(acc, p), createHistogram());
      const whole = histogramOf(values);
      expect(canonical(merged)).toEqual(canonical(whole));
      expect(merged.sum).toBeCloseTo(whole.sum, 6);
      for (const q of QS) expect(quantile(merged, q)).toBe(quantile(whole, q));
    });
  }

  it('merges histograms at different scales into the coarser one, and equals the whole stream', () => {
    const values = samples('pareto', 20_000, 9);
    const low = values.filter((v) => v < 3);
    const high = values.filter((v) => v >= 3);
    const a = histogramOf(low, 64);
    const b = histogramOf(high, 64);
    expect(a.scale).not.toBe(b.scale);
    const merged = merge(clone(a), b);
    const whole = histogramOf([...low, ...high], 64);
    expect(canonical(merged)).toEqual(canonical(whole));
    expect(trimmed(merged).counts.length).toBeLessThanOrEqual(64);
  });

  it('leaves the source untouched and ignores empty sources', () => {
    const a = histogramOf([1, 2, 3]);
    const b = histogramOf([100, 200]);
    const before = clone(b);
    merge(a, b);
    expect(b).toEqual(before);
    const snapshot = clone(a);
    merge(a, createHistogram());
    expect(a).toEqual(snapshot);
  });
});

describe('exponential histogram: downscaling', () => {
  it('downscales when the buckets exceed maxBuckets, keeping counts and the error bound of the new scale', () => {
    const values = samples('wide', 50_000, 5);
    const h = histogramOf(values, 160);
    expect(h.scale).toBeLessThan(6);
    expect(h.counts.length).toBeLessThanOrEqual(160);
    expect(h.counts.reduce((a, b) => a + b, h.zeroCount)).toBe(50_000);
    const base = 2 ** (2 ** -h.scale);
    const bound = (base - 1) / 2; // worst case of the arithmetic midpoint
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QS) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(quantile(h, q) - exact) / exact).toBeLessThanOrEqual(bound);
    }
  });

  it('downscale(h, k) equals recording at scale − k', () => {
    const values = samples('lognormal', 10_000, 11);
    const fine = histogramOf(values);
    downscale(fine, 4);
    const coarse = createHistogram({ scale: 2 });
    for (const v of values) record(coarse, v);
    expect(canonical(fine)).toEqual(canonical(coarse));
  });
});
