/**
 * Prepacking of a constant int8/uint8 B matrix (the weights) into the layout the int8 matmul
 * kernels read (shaders/int8-matmul-common.wgsl), done once at load:
 * - values shifted to int8: `B − zb` when every column fits int8 after subtracting its zero point
 *   (then zb' = 0 and the kernels skip A's row sums), else `B − 128` for uint8 (zb' = zb − 128) or
 *   B itself for int8 (zb' = zb);
 * - 4 k-values per u32 (low byte first), 4 columns per vec4<u32>, `[matrix][ceil(K/4)][ceil(N/4)]`,
 *   zero padding past K and N;
 * - per column `(zb', Σ_k B' − K·zb')`, the zero-point terms of the epilogue.
 */
import { KernelError } from '../errors';
import type { GpuContext } from './gpu-context';
import { matmulShape, zeroPointAt, type IntTensor, type ZeroPoints } from './int8-math';

/** B in the kernels' layout, on the CPU (see the module comment). */
export interface PackedInt8Weights {
  k: number;
  n: number;
  /** Packed k-words per column: ceil(K / 4). */
  kw: number;
  /** Column groups of 4: ceil(N / 4). */
  n4: number;
  /** Number of B matrices (1 unless B is batched). */
  matrices: number;
  /** B's own dims, for shape checks at run time. */
  dims: number[];
  /** `[matrices][kw][n4][4]` words. */
  words: Uint32Array;
  /** `[matrices][n4 * 4][2]`: (zb', colsum(B') − K·zb'). */
  colInfo: Int32Array;
  /** Whether some zb' ≠ 0, so the kernels must accumulate A's row sums. */
  rowsum: boolean;
}

/**
 * Packs `b` (`[K, N]`, or `[...batch, K, N]`) with zero point(s) `bZp` (scalar or one per column).
 * Throws {@link KernelError} for a bad shape or zero-point count.
 */
export function packInt8Weights(b: IntTensor, bZp?: ZeroPoints): PackedInt8Weights {
  return packWith(b, bZp, (count) => new Uint32Array(count));
}

/** {@link packInt8Weights} into words from `alloc` (zero-filled, `count` long), called once the shapes are checked. */
function packWith(b: IntTensor, bZp: ZeroPoints | undefined, alloc: (count: number) => Uint32Array): PackedInt8Weights {
  if (b.dims.length < 2) throw new KernelError(`B has dims ${JSON.stringify(b.dims)}, and it must be [K, N] (or batched [..., K, N]).`, { dims: b.dims });
  const k = b.dims[b.dims.length - 2] as number;
  const n = b.dims[b.dims.length - 1] as number;
  matmulShape('MatMulInteger', [1, k], [k, n]);
  const matrices = b.dims.slice(0, -2).reduce((x, y) => x * y, 1);
  if (b.data.length !== matrices * k * n)
    throw new KernelError(`B holds ${b.data.length} values, and dims ${JSON.stringify(b.dims)} need ${matrices * k * n}.`);
  if (bZp !== undefined && typeof bZp !== 'number' && bZp.length !== 1 && bZp.length !== n) {
    throw new KernelError(`b_zero_point has ${bZp.length} values, and it must have 1 or N = ${n} (one per column).`, { n });
  }
  const kw = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const shift = b.type === 'uint8' ? 128 : 0;
  const zp = Int32Array.from({ length: n }, (_, j) => zeroPointAt(bZp, j));
  // Subtract each column's zero point when the result fits int8 everywhere: zb' = 0, no row sums.
  const fits = fitsInt8(b.data, zp);
  const sub = fits ? zp : new Int32Array(n).fill(shift);
  const words = alloc(matrices * kw * n4 * 4);
  const colInfo = new Int32Array(matrices * n4 * 4 * 2);
  let rowsum = false;
  const sums = new Int32Array(n);
  // Row by row, in B's own order (one pass over memory, not a column walk with stride N).
  for (let t = 0; t < matrices; t++) {
    sums.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const row = (t * k + kk) * n;
      const base = (t * kw + (kk >> 2)) * n4 * 4;
      const bits = (kk & 3) * 8;
      for (let j = 0; j < n; j++) {
        const v = (b.data[row + j] as number) - (sub[j] as number);
        sums[j] = (sums[j] as number) + v;
        words[base + j] = ((words[base + j] as number) | ((v & 0xff) << bits)) >>> 0;
      }
    }
    for (let j = 0; j < n; j++) {
      const zb = fits ? 0 : (zp[j] as number) - shift;
      if (zb !== 0) rowsum = true;
      colInfo[(t * n4 * 4 + j) * 2] = zb;
      colInfo[(t * n4 * 4 + j) * 2 + 1] = (sums[j] as number) - k * zb;
    }
  }
  return { k, n, kw, n4, matrices, dims: [...b.dims], words, colInfo, rowsum };
}

/** Whether `B − zb` fits int8 for every value (zb per column, `zp[j]`). */
function fitsInt8(data: Uint8Array | Int8Array, zp: Int32Array): boolean {
  const n = zp.length;
  // Only a column's range matters: every value of that type fits once the zero point is in range.
  const lo = data instanceof Int8Array ? -128 : 0;
  if (zp.every((z) => lo - z >= -128 && lo + 255 - z <= 127)) return true;
  for (let i = 0, j = 0; i < data.length; i++, j = j + 1 === n ? 0 : j + 1) {
    const d = (data[i] as number) - (zp[j] as number);
    if (d < -128 || d > 127) return false;
  }
  return true;
}

/** Packed weights resident on the GPU. */
export interface GpuInt8Weights extends Omit<PackedInt8Weights, 'words' | 'colInfo'> {
  /** The packed words (binding `b`). */
  b: GPUBuffer;
  /** The per-column zero-point terms (binding `col_i`). */
  colInfo: GPUBuffer;
  /** Destroys both buffers. */
  dispose(): void;
}

/**
 * Packs `b` (as {@link packInt8Weights}) straight into a GPU buffer mapped at creation: the packed
 * words never exist as a second CPU copy (a model's worth of garbage over a large model's load).
 */
export function packAndUploadInt8Weights(ctx: GpuContext, b: IntTensor, bZp?: ZeroPoints): GpuInt8Weights {
  let buffer: GPUBuffer | undefined;
  try {
    const {
      words: _mapped,
      colInfo,
      ...shape
    } = packWith(b, bZp, (count) => {
      buffer = ctx.mappedConstant(count * 4, 'int8.weights');
      return new Uint32Array(buffer.getMappedRange(), 0, count);
    });
    buffer!.unmap();
    const b8 = buffer!;
    const ci = ctx.uploadConstant(colInfo, 'int8.colinfo');
    return { ...shape, b: b8, colInfo: ci, dispose: () => (ctx.freeConstant(b8), ctx.freeConstant(ci)) };
  } catch (err) {
    if (buffer) ctx.freeConstant(buffer);
    throw err;
  }
}

/** Uploads packed weights once, into buffers of their own (not pooled); free them with `dispose()`. */
export function uploadInt8Weights(ctx: GpuContext, packed: PackedInt8Weights): GpuInt8Weights {
  const { words, colInfo, ...shape } = packed;
  const b = ctx.uploadConstant(words, 'int8.weights');
  const ci = ctx.uploadConstant(colInfo, 'int8.colinfo');
  return {
    ...shape,
    b,
    colInfo: ci,
    dispose() {
      ctx.freeConstant(b);
      ctx.freeConstant(ci);
    },
  };
}
