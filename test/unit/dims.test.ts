// Unnamed dynamic dims: onnxruntime-web reports a dim with neither dim_value nor dim_param as
// 4294967295 (−1 read as uint32, in `session.inputMetadata`/`outputMetadata`). It must never be taken as a size — not in model.info, not when
// validating feeds, not when synthesizing probe/warm-up inputs.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import type { ValueInfo } from '../../src/types';
import { isFixedDim, normalizeDim } from '../../src/dims';
import { SYMBOLIC_DIM, syntheticFeeds } from '../../src/synthetic-feeds';
import { describe as describeInfo, validateFeeds } from '../../src/worker/validate';

const UNNAMED = 4294967295; // what ORT web's inputMetadata says for an unnamed dynamic dim

// Silero VAD v5's inputs as ORT reports them (node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx).
const sileroV5: ValueInfo[] = [
  { name: 'input', type: 'float32', dims: [UNNAMED, UNNAMED] },
  { name: 'state', type: 'float32', dims: [2, UNNAMED, 128] },
  { name: 'sr', type: 'int64', dims: [] },
];
// Silero VAD legacy: the same idea with named dims.
const sileroLegacy: ValueInfo[] = [
  { name: 'input', type: 'float32', dims: ['batch', 'sequence'] },
  { name: 'sr', type: 'int64', dims: [] },
  { name: 'h', type: 'float32', dims: [2, 'batch', 64] },
  { name: 'c', type: 'float32', dims: [2, 'batch', 64] },
];

describe('declared dims', () => {
  it('a fixed size is a non-negative integer below 2^31', () => {
    for (const d of [0, 1, 64, 2 ** 31 - 1]) expect(isFixedDim(d)).toBe(true);
    for (const d of [UNNAMED, 2 ** 31, -1, -2, 1.5, NaN, Infinity, '3', null, undefined]) expect(isFixedDim(d)).toBe(false);
  });
  it('normalizes to a size, a symbol name, or null', () => {
    expect([UNNAMED, 2 ** 31, -1, 3, 'batch', '', null].map(normalizeDim)).toEqual([null, null, null, 3, 'batch', null, null]);
  });
});

describe('validateFeeds with unnamed dims', () => {
  const chunk = (n: number) => ({ type: 'float32' as const, dims: [1, n], data: new Float32Array(n) });
  const state = { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) };
  const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };

  it('accepts any size where ORT says 4294967295 (the bug: "requires 4294967295")', () => {
    expect(() => validateFeeds(sileroV5, { input: chunk(512), state, sr })).not.toThrow();
    expect(() => validateFeeds(sileroV5, { input: chunk(1536), state, sr })).not.toThrow();
  });
  it('still checks rank, fixed dims and the int64 scalar', () => {
    const rank = (() => {
      try {
        validateFeeds(sileroV5, { input: { type: 'float32', dims: [512], data: new Float32Array(512) }, state, sr });
      } catch (e) {
        return e as InputError;
      }
    })();
    expect(rank).toBeInstanceOf(InputError);
    expect(rank!.message).toContain('float32[?, ?]');
    expect(() => validateFeeds(sileroV5, { input: chunk(512), state: { ...state, dims: [2, 1, 64], data: new Float32Array(128) }, sr })).toThrow(
      /dimension 2 = 64, and the model requires 128/,
    );
    expect(() => validateFeeds(sileroV5, { input: chunk(512), state, sr: { type: 'int64', dims: [1], data: BigInt64Array.of(16000n) } })).toThrow(/rank 1/);
  });
  it('describes an unnamed dim as ?, never as 4294967295', () => {
    expect(describeInfo(sileroV5[1]!)).toBe('float32[2, ?, 128]');
  });
});

describe('syntheticFeeds', () => {
  it('never allocates an unnamed dim as 4294967295 elements', () => {
    const feeds = syntheticFeeds(sileroV5)!;
    expect(feeds.input!.dims).toEqual([1, SYMBOLIC_DIM]);
    expect(feeds.state!.dims).toEqual([2, SYMBOLIC_DIM, 128]);
    expect(feeds.sr!.dims).toEqual([]);
    expect(feeds.sr!.data).toBeInstanceOf(BigInt64Array);
    expect(feeds.sr!.data.length).toBe(1);
    expect(feeds.state!.data.length).toBe(2 * SYMBOLIC_DIM * 128);
  });
  it('gives a named symbol one size in every input that declares it', () => {
    const feeds = syntheticFeeds(sileroLegacy)!;
    expect(feeds.input!.dims).toEqual([1, SYMBOLIC_DIM]);
    expect(feeds.h!.dims).toEqual([2, 1, 64]);
    expect(feeds.c!.dims).toEqual([2, 1, 64]);
  });
  it('takes given shapes as they are, and learns named sizes from them', () => {
    const legacy = syntheticFeeds(sileroLegacy, { input: [4, 512] })!;
    expect(legacy.input!.dims).toEqual([4, 512]);
    expect(legacy.h!.dims).toEqual([2, 4, 64]);
    const v5 = syntheticFeeds(sileroV5, { input: [1, 512], state: [2, 1, 128] })!;
    expect(v5.input!.data.length).toBe(512);
    expect(v5.state!.dims).toEqual([2, 1, 128]);
    expect(() => validateFeeds(sileroV5, v5)).not.toThrow();
  });
  it('the symbolic size is a parameter (the strategy probe uses its own)', () => {
    expect(syntheticFeeds([{ name: 'x', type: 'float32', dims: ['n', UNNAMED, 3] }], {}, 7)!.x!.dims).toEqual([1, 7, 3]);
  });
  it('returns null when an input is not a tensor', () => {
    expect(syntheticFeeds([...sileroV5, { name: 'seq', type: 'unknown', dims: [] }])).toBeNull();
  });
});
