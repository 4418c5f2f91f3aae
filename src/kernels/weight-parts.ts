/**
 * Weights larger than one storage binding. A matmul kernel binds its prepacked weight as one storage
 * buffer, and a device binds at most `maxStorageBufferBindingSize` bytes per buffer (128 MiB by
 * WebGPU's default, what many Android devices offer) in buffers of at most `maxBufferSize`. A weight
 * above that is split along N into column blocks ({@link planWeightParts}): each part holds all K rows
 * of columns `[col0, col0 + n)`, packed exactly as an unsplit weight of `n` columns, in its own
 * buffer; the kernel runs once per part and writes the part's columns into the one output (the
 * `col0` and `n_out` uniforms of the shaders). Every output element is computed by the same
 * arithmetic as without the split, so the result is bit-exact.
 */
import { WeightTooLargeError } from '../errors';

/** One column block of a split weight: columns `[col0, col0 + n)` of the full matrix; `col0` is a multiple of 4. */
export interface WeightPart {
  /** The block's first column in the full matrix (a multiple of 4). */
  col0: number;
  /** Columns in the block. */
  n: number;
}

/** What {@link planWeightParts} needs to know about a weight. */
export interface WeightShape {
  /** The op that binds it, for the error message. */
  op: string;
  /** The weight's dims, for the error message. */
  dims: readonly number[];
  /** Columns (N). */
  n: number;
  /** Bytes that one block of 4 columns (all K rows, all matrices) occupies in the largest buffer of a part. */
  blockBytes: number;
}

/** An int8 B's bytes per block of 4 columns (src/kernels/int8-weights.ts): 16 per 4 rows of K, or the block's 32 bytes of column terms when more, per matrix. */
export function int8BlockBytes(k: number, matrices: number): number {
  return matrices * Math.max(Math.ceil(k / 4) * 16, 32);
}

/** A weight-only W's bytes per block of 4 columns (src/kernels/w8a32.ts): a word per row of K, or the block's scales when more (blocks of fewer than 4 rows). */
export function weightOnlyBlockBytes(k: number, blocks: number): number {
  return Math.max(k * 4, blocks * 16);
}

/** A smaller limit than the device's, set by {@link forceWeightPartLimit} (bytes). */
let forced: number | undefined;

/**
 * Test hook: split weights as if the device bound at most `bytes` per storage buffer (from now on, in
 * this realm; `undefined` goes back to the device's limits). The device's own limits still apply when
 * they are smaller.
 */
export function forceWeightPartLimit(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isInteger(bytes) && bytes >= 16))
    throw new RangeError(`A weight part limit is a whole number of bytes ≥ 16, and got ${bytes}.`);
  forced = bytes;
}

/** The largest weight part `device` can bind: its `maxStorageBufferBindingSize`, `maxBufferSize` and the forced test limit, whichever is least. */
export function weightPartLimit(device: GPUDevice): number {
  const { maxStorageBufferBindingSize, maxBufferSize } = device.limits;
  return Math.min(forced ?? Infinity, maxStorageBufferBindingSize, maxBufferSize);
}

/** Bytes of a number, as the error message gives them. */
function mib(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Column blocks of `w` that each fit `limit` bytes: one part (all columns) when the whole weight fits;
 * else the fewest parts, of equal width in blocks of 4 columns (the last one may be narrower).
 * Throws {@link WeightTooLargeError} when one block of 4 columns is already above the limit.
 */
export function planWeightParts(w: WeightShape, limit: number): WeightPart[] {
  const groups = Math.ceil(w.n / 4);
  if (groups * w.blockBytes <= limit) return [{ col0: 0, n: w.n }];
  const perPart = Math.floor(limit / w.blockBytes);
  if (perPart < 1) {
    throw new WeightTooLargeError(
      `${w.op}'s weight [${w.dims.join(', ')}] needs ${mib(w.blockBytes)} for one block of 4 columns (all its K rows), and this GPU binds at most ${mib(limit)} per storage buffer, so it cannot be split finely enough. Load this model with backend: 'wasm', or on a device with a larger maxStorageBufferBindingSize.`,
      { op: w.op, dims: [...w.dims], blockBytes: w.blockBytes, limit, limitName: 'maxStorageBufferBindingSize' },
    );
  }
  const count = Math.ceil(groups / perPart);
  const width = Math.ceil(groups / count) * 4;
  return Array.from({ length: count }, (_, i) => ({ col0: i * width, n: Math.min(width, w.n - i * width) })).filter((p) => p.n > 0);
}
