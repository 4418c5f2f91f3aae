// The metrics of load-time verification (src/worker/compare.ts) and the feedback rule of multi-run
// checks (src/worker/feedback.ts), on hand-made tensors whose answers are computed here by hand.
import { describe, expect, it } from 'vitest';
import type { TensorLike } from '../../../src/types';
import { compareTensor, describeComparison, worstPerOutput } from '../../../src/worker/compare';
import { feedbackSource, nextFeeds } from '../../../src/worker/feedback';

const f32 = (...v: number[]): TensorLike => ({ type: 'float32', dims: [v.length], data: Float32Array.from(v) });

describe('compareTensor', () => {
  it('float outputs: relative L2 error against the reference, held to the tolerance', () => {
    // ‖(0.1, 0)‖ / ‖(3, 4)‖ = 0.1 / 5 = 0.02
    const c = compareTensor('y', f32(3.1, 4), f32(3, 4), 3e-2);
    expect(c).toMatchObject({ name: 'y', metric: 'relL2', tolerance: 3e-2, ok: true, step: 0 });
    expect(c.value).toBeCloseTo(0.02, 6);
    expect(compareTensor('y', f32(3.1, 4), f32(3, 4), 1e-3).ok).toBe(false);
    expect(compareTensor('y', f32(3, 4), f32(3, 4), 0)).toMatchObject({ value: 0, ok: true });
  });

  it('an all-zero reference counts any difference in full (absolute norm)', () => {
    expect(compareTensor('y', f32(0, 0), f32(0, 0), 1e-3)).toMatchObject({ value: 0, ok: true });
    expect(compareTensor('y', f32(0.3, 0.4), f32(0, 0), 1e-3).value).toBeCloseTo(0.5, 6);
  });

  it('NaN and ±Inf must sit at the same elements; elsewhere they are left out of the norm', () => {
    expect(compareTensor('y', f32(NaN, 1, Infinity), f32(NaN, 1, Infinity), 1e-3)).toMatchObject({ metric: 'relL2', value: 0, ok: true });
    expect(compareTensor('y', f32(NaN, 1, 2), f32(0, 1, 2), 1)).toMatchObject({ metric: 'nonFinite', value: 1, ok: false });
    expect(compareTensor('y', f32(1, 1, 2), f32(NaN, 1, 2), 1)).toMatchObject({ metric: 'nonFinite', value: 1, ok: false });
    expect(compareTensor('y', f32(-Infinity, 1), f32(Infinity, 1), 1)).toMatchObject({ metric: 'nonFinite', value: 1, ok: false });
  });

  it('integer and bool outputs must match exactly, int64 included', () => {
    const i64 = (...v: bigint[]): TensorLike => ({ type: 'int64', dims: [v.length], data: BigInt64Array.from(v) });
    expect(compareTensor('i', i64(1n, 2n, 3n), i64(1n, 2n, 3n), 1)).toMatchObject({ metric: 'mismatch', value: 0, ok: true, tolerance: 0 });
    expect(compareTensor('i', i64(1n, 2n, 4n), i64(1n, 2n, 3n), 1)).toMatchObject({ metric: 'mismatch', value: 1, ok: false });
    const bool = (...v: number[]): TensorLike => ({ type: 'bool', dims: [v.length], data: Uint8Array.from(v) });
    expect(compareTensor('b', bool(1, 0), bool(1, 1), 1)).toMatchObject({ metric: 'mismatch', value: 1, ok: false });
  });

  it('another shape or type fails as `shape`', () => {
    expect(compareTensor('y', f32(1, 2), { type: 'float32', dims: [1, 2], data: Float32Array.of(1, 2) }, 1)).toMatchObject({ metric: 'shape', ok: false });
    expect(compareTensor('y', f32(1), { type: 'float64', dims: [1], data: Float64Array.of(1) }, 1)).toMatchObject({ metric: 'shape', ok: false });
  });

  it('float16 is compared by value, decoded from its bits', () => {
    // 0x3c00 = 1.0, 0x3e00 = 1.5, 0x7e00 = NaN
    const h = (...bits: number[]): TensorLike => ({ type: 'float16', dims: [bits.length], data: Uint16Array.from(bits) });
    expect(compareTensor('y', h(0x3e00), h(0x3c00), 1).value).toBeCloseTo(0.5, 6);
    expect(compareTensor('y', h(0x7e00), h(0x3c00), 1)).toMatchObject({ metric: 'nonFinite', value: 1 });
  });
});

describe('worstPerOutput and describeComparison', () => {
  it('keeps the failed step of an output over the larger passing one, and names output, metric and value', () => {
    const steps = [compareTensor('y', f32(1), f32(1), 1e-3, 0), compareTensor('y', f32(2), f32(1), 1e-3, 2), compareTensor('h', f32(1), f32(1), 1e-3, 1)];
    const worst = worstPerOutput(steps);
    expect(worst.map((c) => [c.name, c.step, c.ok])).toEqual([
      ['y', 2, false],
      ['h', 1, true],
    ]);
    expect(describeComparison(worst[0]!)).toBe('output "y" relL2 1.00 vs ORT WASM (tolerance 0.001) at step 2');
  });
});

describe('feedback of multi-run checks', () => {
  it('maps recurrent and decoder outputs to the inputs they feed', () => {
    expect(feedbackSource('h', ['y', 'hn', 'cn'])).toBe('hn');
    expect(feedbackSource('state', ['output', 'stateN'])).toBe('stateN');
    expect(feedbackSource('past_key_values.0.key', ['logits', 'present.0.key'])).toBe('present.0.key');
    expect(feedbackSource('past_key', ['present_key'])).toBe('present_key');
    expect(feedbackSource('x', ['y'])).toBeUndefined();
  });

  it('takes the fresh feeds for the rest, and never feeds an output of another type', () => {
    const fresh = { x: f32(9), h: f32(0), sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) } as TensorLike };
    const next = nextFeeds(fresh, { hn: f32(5), srN: { type: 'float32', dims: [], data: Float32Array.of(1) } });
    expect(next.x).toBe(fresh.x);
    expect([...(next.h!.data as Float32Array)]).toEqual([5]);
    expect(next.sr).toBe(fresh.sr);
  });
});
