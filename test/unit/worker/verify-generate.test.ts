// Greedy generations checked in service by teacher forcing (src/worker/verify-generate.ts): the
// feeds (prompt + tokens but the last, positions from 0, an empty cache of the declared heads and
// head size), and the comparison of each generated token with the reference's argmax at its
// position, near ties aside. The browser side runs it on a q8 decoder against ORT's WASM EP
// (test/browser/verify.spec.ts).
import { describe, expect, it } from 'vitest';
import type { DecoderIo } from '../../../src/decoder-io';
import type { TensorLike } from '../../../src/types';
import { checkableGeneration, compareGeneration, teacherFeeds } from '../../../src/worker/verify-generate';

const io: DecoderIo = {
  idType: 'int64',
  positionIds: true,
  layers: [{ pastKey: 'past_key_values.0.key', pastValue: 'past_key_values.0.value', presentKey: 'present.0.key', presentValue: 'present.0.value' }],
  kvType: 'float32',
  heads: 2,
  headDim: 4,
};

/** Logits [1, rows, 4] whose argmax per row is `best[r]` (logit 1), others 0 except `near` (a near tie at 0.99). */
function logits(best: number[], near: Record<number, number> = {}): TensorLike {
  const data = new Float32Array(best.length * 4);
  best.forEach((b, r) => {
    data[r * 4 + b] = 1;
    if (near[r] !== undefined) data[r * 4 + near[r]!] = 0.99;
  });
  return { type: 'float32', dims: [1, best.length, 4], data };
}

describe('verification of greedy generations', () => {
  it('feeds the prompt and every token but the last, positions from 0, and an empty cache', () => {
    const f = teacherFeeds(io, [5, 6], [1, 2, 3]);
    expect(f.input_ids).toEqual({ type: 'int64', dims: [1, 4], data: BigInt64Array.of(5n, 6n, 1n, 2n) });
    expect(f.attention_mask!.data).toEqual(BigInt64Array.of(1n, 1n, 1n, 1n));
    expect(f.position_ids!.data).toEqual(BigInt64Array.of(0n, 1n, 2n, 3n));
    expect(f['past_key_values.0.key']).toEqual({ type: 'float32', dims: [1, 2, 0, 4], data: new Float32Array(0) });
    expect(Object.keys(f).sort()).toEqual(['attention_mask', 'input_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'position_ids']);
    const i32 = teacherFeeds({ ...io, idType: 'int32', positionIds: false, kvType: 'float16' }, [5], [1]);
    expect(i32.input_ids).toEqual({ type: 'int32', dims: [1, 1], data: Int32Array.of(5) });
    expect(i32.position_ids).toBeUndefined();
    expect(i32['past_key_values.0.value']!.type).toBe('float16');
  });

  it("counts the tokens that are not the reference's argmax at their position; a near tie is not counted", () => {
    // prompt of 2: the token of step k is read at row 1 + k
    expect(compareGeneration(logits([0, 2, 3, 1]), 2, [2, 3, 1], 1e-3)).toMatchObject({ name: 'logits', metric: 'mismatch', value: 0, ok: true });
    expect(compareGeneration(logits([0, 2, 3, 1]), 2, [2, 0, 0], 1e-3)).toMatchObject({ metric: 'mismatch', value: 2, step: 1, ok: false });
    expect(compareGeneration(logits([0, 2, 3, 1], { 2: 0 }), 2, [2, 0, 1], 3e-2)).toMatchObject({ value: 0, ok: true }); // 0.99 vs 1: within 3 % of the range
    expect(compareGeneration(logits([0, 2, 3, 1], { 2: 0 }), 2, [2, 0, 1], 1e-3)).toMatchObject({ value: 1, step: 1 });
    expect(compareGeneration(logits([0, 2]), 2, [2, 3, 1], 1e-3)).toMatchObject({ metric: 'shape', ok: false }); // too few positions
    expect(compareGeneration(logits([0, 2, 3, 1]), 2, [2, 9, 1], 1e-3)).toMatchObject({ value: 1, step: 1 }); // an id outside the vocabulary
  });

  it('checks greedy generations only (a sampled token is a random draw)', () => {
    expect(checkableGeneration({ topK: 1 })).toBe(true);
    expect(checkableGeneration({ topK: 40 })).toBe(false);
  });
});
