/**
 * Inputs made from a model's declared inputs, for runs nobody asked for: the `'auto'` strategy's
 * probe (src/worker/strategy.ts, seeded random floats: zeros would let a kernel skip nothing but
 * are not what users send) and load-time warm-up (src/worker/warmup.ts, zeros).
 * Fixed dimensions are kept; a named symbolic dimension (`'batch'`) gets one size wherever it
 * appears, so recurrent state such as `h: [2, batch, 64]` agrees with `input: [batch, sequence]`;
 * an unnamed one (ORT's 4294967295, see src/dims.ts) cannot be matched across inputs, so
 * the caller's `shapes` are the way to make those agree.
 */
import { bytesPerElement, typedArrayFor } from './tensors';
import type { DType, TensorMap, ValueInfo } from './types';
import { isFixedDim } from './dims';

/** Size of a symbolic dimension other than the first axis, when nothing else says. */
export const SYMBOLIC_DIM = 32;

/**
 * Zero-filled feeds for `inputs` (`fill: 'random'`: float32/float64 inputs get seeded values in
 * [-1, 1), the others zeros, since integer inputs are often indices). `shapes` gives whole shapes by input name (used as given; the
 * sizes it implies for named symbols apply to the other inputs); other symbolic dimensions get 1
 * on the first axis (the batch, by convention) and `symbolic` elsewhere. Returns null when an
 * input is not a tensor (its type is `'unknown'`), since nothing can be synthesized for it.
 */
export function syntheticFeeds(
  inputs: readonly ValueInfo[],
  shapes: Readonly<Record<string, readonly number[]>> = {},
  symbolic = SYMBOLIC_DIM,
  fill: 'zeros' | 'random' = 'zeros',
): TensorMap | null {
  if (inputs.some((v) => v.type === 'unknown')) return null;
  const symbols = new Map<string, number>();
  // Named symbols learn their size from the shapes given first, whichever input declares them.
  for (const v of inputs) {
    const given = shapes[v.name];
    if (!given) continue;
    v.dims.forEach((d, i) => {
      if (typeof d === 'string' && given[i] !== undefined && !symbols.has(d)) symbols.set(d, given[i]!);
    });
  }
  const feeds: TensorMap = {};
  for (const v of inputs) {
    const type = v.type as DType;
    const dims = shapes[v.name] ? [...shapes[v.name]!] : v.dims.map((d, i) => sizeOf(d, i, symbols, symbolic));
    const count = dims.reduce((a, b) => a * b, 1);
    const data = typedArrayFor(type, new ArrayBuffer(count * bytesPerElement(type)));
    if (fill === 'random' && (data instanceof Float32Array || data instanceof Float64Array)) {
      let seed = 0x9e3779b9;
      for (let i = 0; i < data.length; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        data[i] = seed / 2 ** 31 - 1;
      }
    }
    feeds[v.name] = { type, dims, data };
  }
  return feeds;
}

function sizeOf(d: ValueInfo['dims'][number], axis: number, symbols: Map<string, number>, symbolic: number): number {
  if (isFixedDim(d)) return d;
  const size = symbols.get(d as string) ?? (axis === 0 ? 1 : symbolic);
  if (typeof d === 'string') symbols.set(d, size);
  return size;
}
