// Agreement metrics on hand-computed cases: max abs diff, cosine, top-1 per row.
import { describe, expect, it } from 'vitest';
import { AgreementTally, compareOutputs } from '../../../src/release/agreement';
import type { TensorMap } from '../../../src/types';

const t = (dims: number[], values: number[]): TensorMap => ({ y: { type: 'float32', dims, data: Float32Array.from(values) } });

describe('compareOutputs', () => {
  it('identical outputs: diff 0, cosine 1, top-1 agrees', () => {
    expect(compareOutputs(t([2, 3], [1, 5, 2, 0, 0, 9]), t([2, 3], [1, 5, 2, 0, 0, 9]))).toEqual({ maxAbsDiff: 0, cosine: 1, top1: true });
  });

  it('a changed argmax in one row of two is a top-1 disagreement; cosine and diff by hand', () => {
    // ref (3,4) vs (4,3): dot 24, norms 25 and 25 → cosine 0.96; max diff 1.
    const c = compareOutputs(t([1, 2], [3, 4]), t([1, 2], [4, 3]));
    expect(c.top1).toBe(false);
    expect(c.cosine).toBeCloseTo(0.96, 6);
    expect(c.maxAbsDiff).toBe(1);
    expect(compareOutputs(t([2, 2], [1, 2, 3, 4]), t([2, 2], [1, 2, 4, 3])).top1).toBe(false);
    expect(compareOutputs(t([2, 2], [1, 2, 3, 4]), t([2, 2], [1.5, 2, 3, 3.5])).top1).toBe(true);
  });

  it('single-value outputs agree within 1e-3 relative; a shape change or missing output disagrees', () => {
    expect(compareOutputs(t([2, 1], [10, 20]), t([2, 1], [10.005, 20])).top1).toBe(true);
    expect(compareOutputs(t([2, 1], [10, 20]), t([2, 1], [10.05, 20])).top1).toBe(false);
    expect(compareOutputs(t([2, 2], [1, 2, 3, 4]), t([4], [1, 2, 3, 4]))).toEqual({ maxAbsDiff: Infinity, cosine: 0, top1: false });
    expect(compareOutputs(t([1], [1]), {}).top1).toBe(false);
  });
});

describe('AgreementTally', () => {
  it('counts comparisons, disagreements, extremes and skips', () => {
    const tally = new AgreementTally('1', '2');
    tally.add({ maxAbsDiff: 0.5, cosine: 0.9, top1: true });
    tally.add({ maxAbsDiff: 2, cosine: 0.5, top1: false });
    tally.skip();
    expect(tally.stats()).toEqual({ stable: '1', candidate: '2', compared: 2, disagreed: 1, maxAbsDiff: 2, minCosine: 0.5, meanCosine: 0.7, skipped: 1 });
    expect(tally.counts()).toEqual({ compared: 2, disagreed: 1 });
  });
});
