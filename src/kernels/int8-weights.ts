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
import { int8BlockBytes, planWeightParts, weightPartLimit, type WeightPart } from './weight-parts';

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
  const { parts: _one, ...packed } = packWith(b, bZp, (count) => new Uint32Array(count));
  return packed;
}

/**
 * {@link packInt8Weights} into words from `alloc` (zero-filled, `count` long), called once the shapes
 * are checked, once per column block of `split` (src/kernels/weight-parts.ts; default one block of all
 * columns). The result's `words` and `colInfo` are the first block's; `parts` has every block's.
 */
function packWith(
  b: IntTensor,
  bZp: ZeroPoints | undefined,
  alloc: (count: number, part: number) => Uint32Array,
  split?: (k: number, n: number, matrices: number) => WeightPart[],
): PackedInt8Weights & { parts: PackedPart[] } {
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
  const parts = (split?.(k, n, matrices) ?? [{ col0: 0, n }]).map((p, i) => {
    const pn4 = Math.ceil(p.n / 4);
    return { ...p, n4: pn4, words: alloc(matrices * kw * pn4 * 4, i) };
  });
  const colInfo = new Int32Array(matrices * n4 * 4 * 2);
  let rowsum = false;
  const sums = new Int32Array(n);
  // Row by row, in B's own order (one pass over memory, not a column walk with stride N).
  for (let t = 0; t < matrices; t++) {
    sums.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const row = (t * k + kk) * n;
      const bits = (kk & 3) * 8;
      for (const { col0, n: pn, n4: pn4, words } of parts) {
        const base = (t * kw + (kk >> 2)) * pn4 * 4 - col0;
        for (let j = col0; j < col0 + pn; j++) {
          const v = (b.data[row + j] as number) - (sub[j] as number);
          sums[j] = (sums[j] as number) + v;
          words[base + j] = ((words[base + j] as number) | ((v & 0xff) << bits)) >>> 0;
        }
      }
    }
    for (let j = 0; j < n; j++) {
      const zb = fits ? 0 : (zp[j] as number) - shift;
      if (zb !== 0) rowsum = true;
      colInfo[(t * n4 * 4 + j) * 2] = zb;
      colInfo[(t * n4 * 4 + j) * 2 + 1] = (sums[j] as number) - k * zb;
    }
  }
  // Each block's (zb', colsum) rows: a copy of its columns' rows, per matrix.
  const packed = parts.map((p) => {
    if (parts.length === 1) return { ...p, colInfo };
    const own = new Int32Array(matrices * p.n4 * 4 * 2);
    for (let t = 0; t < matrices; t++) own.set(colInfo.subarray((t * n4 * 4 + p.col0) * 2, (t * n4 * 4 + p.col0 + p.n) * 2), t * p.n4 * 8);
    return { ...p, colInfo: own };
  });
  const first = packed[0]!;
  return { k, n, kw, n4, matrices, dims: [...b.dims], words: first.words, colInfo: first.colInfo, rowsum, parts: packed };
}

/** One column block of packed weights: {@link PackedInt8Weights}' `words` and `colInfo` for columns `[col0, col0 + n)`, `n4 = ceil(n / 4)`. */
interface PackedPart extends WeightPart {
  n4: number;
  words: Uint32Array;
  colInfo: Int32Array;
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

/** One column block of packed weights on the GPU: columns `[col0, col0 + n)` of B, packed as a B of `n` columns (`n4 = ceil(n / 4)`). */
export interface GpuInt8Part {
  /** The block's first column in B (a multiple of 4). */
  col0: number;
  /** Columns in the block. */
  n: number;
  /** Column groups of 4 in the block: ceil(n / 4). */
  n4: number;
  /** The block's packed words. */
  b: GPUBuffer;
  /** The block's per-column zero-point terms. */
  colInfo: GPUBuffer;
}

/** Packed weights resident on the GPU. */
export interface GpuInt8Weights extends Omit<PackedInt8Weights, 'words' | 'colInfo'> {
  /** The packed words (binding `b`); the first block's when {@link GpuInt8Weights.parts} is present. */
  b: GPUBuffer;
  /** The per-column zero-point terms (binding `col_i`); the first block's when split. */
  colInfo: GPUBuffer;
  /**
   * Present when B was larger than one storage binding of the device and is split along N into
   * column blocks, each in buffers of its own (src/kernels/weight-parts.ts); absent: one block, `b`
   * and `colInfo` above.
   */
  parts?: GpuInt8Part[];
  /** Destroys the buffers. */
  dispose(): void;
}

/**
 * Packs `b` (as {@link packInt8Weights}) straight into GPU buffers mapped at creation: the packed
 * words never exist as a second CPU copy (a model's worth of garbage over a large model's load).
 * A B larger than the device's binding limit ({@link weightPartLimit}) is split along N into column
 * blocks that each fit, one buffer each (`parts`); `op` names the step in the error of a B that
 * cannot be split finely enough.
 */
export function packAndUploadInt8Weights(ctx: GpuContext, b: IntTensor, bZp?: ZeroPoints, op = 'int8 matmul'): GpuInt8Weights {
  const buffers: GPUBuffer[] = [];
  const free = () => buffers.forEach((x) => ctx.freeConstant(x));
  try {
    const limit = weightPartLimit(ctx.device);
    const {
      words: _mapped,
      colInfo: _first,
      parts,
      ...shape
    } = packWith(
      b,
      bZp,
      (count) => {
        const buffer = ctx.mappedConstant(count * 4, 'int8.weights');
        buffers.push(buffer);
        return new Uint32Array(buffer.getMappedRange(), 0, count);
      },
      (k, n, matrices) => planWeightParts({ op, dims: b.dims, n, blockBytes: int8BlockBytes(k, matrices) }, limit),
    );
    for (const x of buffers) x.unmap();
    const gpuParts = parts.map((p, i) => ({ col0: p.col0, n: p.n, n4: p.n4, b: buffers[i]!, colInfo: ctx.uploadConstant(p.colInfo, 'int8.colinfo') }));
    buffers.push(...gpuParts.map((p) => p.colInfo));
    const first = gpuParts[0]!;
    return { ...shape, b: first.b, colInfo: first.colInfo, ...(gpuParts.length > 1 ? { parts: gpuParts } : {}), dispose: free };
  } catch (err) {
    free();
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
