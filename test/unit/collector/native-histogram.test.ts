// The OTLP → Prometheus native histogram mapping, checked against Prometheus' own definition of a
// native bucket (index i at schema s covers (2^((i−1)·2^−s), 2^(i·2^−s)]) and its span/delta wire
// format. The end-to-end check against a running Prometheus is in prometheus.test.ts.
import { describe, expect, it } from 'vitest';
import { encodeBuckets, toNativeHistogram, type Native } from '../../../collector/native-histogram.mjs';
import { createHistogram, record } from '../../../src/isomorphic/exphist.js';
import { prng, samples } from '../telemetry/helpers.js';

/** Absolute bucket index → count, read the way Prometheus reads spans and deltas. */
function decode(spans: { offset: number; length: number }[], deltas: number[]): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0;
  let count = 0;
  let k = 0;
  spans.forEach((s, n) => {
    index = n === 0 ? s.offset : index + s.offset;
    for (let j = 0; j < s.length; j++, index++) {
      count += deltas[k++]!;
      if (count !== 0) out.set(index, count);
    }
  });
  expect(k).toBe(deltas.length);
  return out;
}

/** Prometheus' bounds of native bucket i at schema s. */
const bounds = (schema: number, i: number): [number, number] => [2 ** ((i - 1) * 2 ** -schema), 2 ** (i * 2 ** -schema)];

function native(scale: number, values: number[]): Native {
  const h = createHistogram({ scale });
  for (const v of values) record(h, v);
  const n = toNativeHistogram(h);
  if (typeof n === 'string') throw new Error(n);
  return n;
}

describe('OTLP exponential → Prometheus native histogram', () => {
  it('puts every value in the native bucket whose bounds contain it, at every schema (index shift by one)', () => {
    const rand = prng(7);
    for (let scale = -4; scale <= 8; scale++) {
      const values = [...samples('wide', 60, scale + 100), 1, 2, 0.5, 1024, 3 * rand()];
      for (const v of values) {
        const n = native(scale, [v]);
        const buckets = [...decode(n.spans, n.deltas)];
        expect(buckets.length, `${v} at ${scale}`).toBe(1);
        const [[i, c]] = buckets as [[number, number]];
        const [lo, hi] = bounds(n.schema, i);
        expect(c).toBe(1);
        expect(v > lo && v <= hi, `${v} in native bucket ${i} (${lo}, ${hi}] at schema ${scale}`).toBe(true);
      }
    }
  });

  it('maps exact powers of two to the bucket they close: at schema 0, 1 → bucket 0 = (0.5, 1], 2 → bucket 1', () => {
    const n = native(0, [1, 2, 2, 0.5]);
    expect([...decode(n.spans, n.deltas)]).toEqual([
      [-1, 1],
      [0, 1],
      [1, 2],
    ]);
  });

  it('downscales finer scales to schema 8 and keeps every count', () => {
    const values = samples('lognormal', 3000, 3);
    const h = createHistogram({ scale: 12, maxBuckets: 1 << 16 });
    for (const v of values) record(h, v);
    const n = toNativeHistogram(h) as Native;
    expect(n.schema).toBe(8);
    expect(h.scale).toBe(12); // the collector's own state is left as it was
    const buckets = decode(n.spans, n.deltas);
    expect([...buckets.values()].reduce((a, b) => a + b, 0)).toBe(3000);
    for (const v of values.slice(0, 300)) {
      const i = [...buckets.keys()].find((k) => {
        const [lo, hi] = bounds(8, k);
        return v > lo && v <= hi;
      });
      expect(i, `${v} has a schema-8 bucket`).toBeDefined();
    }
  });

  it('refuses scales coarser than −4 (their buckets cannot be split) and accepts −4', () => {
    const h = createHistogram({ scale: -5 });
    record(h, 3);
    expect(toNativeHistogram(h)).toMatch(/scale -5 is coarser than Prometheus' coarsest schema \(-4\)/);
    expect(native(-4, [3])).toMatchObject({ schema: -4, count: 1 });
  });

  it('carries the zero bucket, count and sum', () => {
    const n = native(6, [0, 0, 0, 5, 7]);
    expect(n).toMatchObject({ zeroCount: 3, zeroThreshold: 0, count: 5, sum: 12 });
    expect([...decode(n.spans, n.deltas).values()]).toEqual([1, 1]);
  });

  it('encodes spans and deltas: gaps of up to two empty buckets stay inside a span, longer ones open a new span', () => {
    // Native buckets 6..13: 3 _ _ 1 _ _ _ 2
    expect(encodeBuckets(6, [3, 0, 0, 1, 0, 0, 0, 2])).toEqual({
      spans: [
        { offset: 6, length: 4 },
        { offset: 3, length: 1 },
      ],
      deltas: [3, -3, 0, 1, 1],
    });
    expect(encodeBuckets(-2, [])).toEqual({ spans: [], deltas: [] });
  });

  it('round-trips random sparse bucket arrays through spans and deltas', () => {
    const rand = prng(11);
    for (let trial = 0; trial < 200; trial++) {
      const counts = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 1000)));
      counts[0] = 1 + counts[0]!; // trimmed input: the first and last buckets are occupied
      counts[counts.length - 1] = 1 + counts[counts.length - 1]!;
      const first = Math.floor(rand() * 200) - 100;
      const { spans, deltas } = encodeBuckets(first, counts);
      const expected = new Map(counts.flatMap((c, j) => (c ? [[first + j, c] as [number, number]] : [])));
      expect(decode(spans, deltas)).toEqual(expected);
    }
  });
});
