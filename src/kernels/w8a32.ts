/**
 * Host side of shaders/w8a32-matmul.wgsl: weight-only int8 matmul (float32 activations, 8-bit
 * weights dequantized in registers). Weights are packed once at load ({@link packWeightOnly}):
 * uint8 `[K, N]` four columns per u32 (int8 weights shifted by +128 with their zero points), scales
 * and zero points as float32 `[blocks, N4·4]`. Per-tensor, per-column and blockwise (along K)
 * scales are all the blocked form: one block, or `K / block` blocks.
 */
import code from '../../shaders/w8a32-matmul.wgsl?raw';
import tiledCode from '../../shaders/w8a32-matmul-tiled.wgsl?raw';
import common from '../../shaders/w8a32-common.wgsl?raw';
import { KernelError } from '../errors';
import { STORAGE_USAGE, type GpuContext } from './gpu-context';
import { zeroBuffer } from './int8-matmul';
import { MAX_WORKGROUPS_PER_DIM, type Program } from './program';
import { planWeightParts, weightOnlyBlockBytes, weightPartLimit } from './weight-parts';
import { packUniforms, type UniformLayout } from './uniforms';

/** `Params` of w8a32-matmul.wgsl. */
const PARAMS = [
  ['m', 'u32'],
  ['n', 'u32'],
  ['k', 'u32'],
  ['n4', 'u32'],
  ['block', 'u32'],
  ['chunk', 'u32'],
  ['chunks', 'u32'],
  ['has_bias', 'u32'],
  ['col0', 'u32'],
  ['n_out', 'u32'],
] as const satisfies UniformLayout;

/** A weight-only quantized `[K, N]` matrix, as ONNX models describe it. */
export interface WeightOnlyMatrix {
  /** Quantized weights, row-major `[K, N]`. */
  data: Uint8Array | Int8Array;
  type: 'uint8' | 'int8';
  k: number;
  n: number;
  /** Rows of K per scale block; `k` (or more) for per-tensor and per-column scales. */
  block: number;
  /** Scales `[blocks, N]`, `[N]` (one block), or one value. */
  scales: ArrayLike<number>;
  /** Zero points in the weights' type, shaped like `scales`; absent = 0. */
  zeros?: ArrayLike<number>;
}

/** {@link WeightOnlyMatrix} packed for the kernel, on the CPU. */
export interface PackedWeightOnly {
  k: number;
  n: number;
  n4: number;
  block: number;
  blocks: number;
  /** `[K][n4]` words, four uint8 columns each. */
  words: Uint32Array;
  /** `[blocks][n4·4]` float32, padded columns 0. */
  scales: Float32Array;
  /** `[blocks][n4·4]` float32 zero points in the uint8 domain. */
  zeros: Float32Array;
}

/** One column block of a split {@link GpuWeightOnly}: columns `[col0, col0 + n)`, packed as a W of `n` columns. */
export interface GpuWeightOnlyPart {
  /** The block's first column in W (a multiple of 4). */
  col0: number;
  /** Columns in the block. */
  n: number;
  /** Words per row of the block: ceil(n / 4). */
  n4: number;
  /** The block's packed words, `[K][n4]`. */
  words: GPUBuffer;
  /** The block's scales, `[blocks][n4 · 4]`. */
  scales: GPUBuffer;
  /** The block's zero points, `[blocks][n4 · 4]`. */
  zeros: GPUBuffer;
}

/** The same on the GPU; {@link GpuWeightOnly.dispose} returns the buffers to the pool. */
export interface GpuWeightOnly extends Omit<PackedWeightOnly, 'words' | 'scales' | 'zeros'> {
  /** The packed words (the first block's when {@link GpuWeightOnly.parts} is present; so are `scales` and `zeros`). */
  words: GPUBuffer;
  scales: GPUBuffer;
  zeros: GPUBuffer;
  /** Present when W was larger than one storage binding of the device and is split along N into column blocks (src/kernels/weight-parts.ts). */
  parts?: GpuWeightOnlyPart[];
  dispose(): void;
}

/** Packs `w` (see the module comment); throws {@link KernelError} on inconsistent sizes. */
export function packWeightOnly(w: WeightOnlyMatrix): PackedWeightOnly {
  const { k, n } = w;
  if (!(k >= 1 && n >= 1) || w.data.length !== k * n)
    throw new KernelError(`weight-only matmul: ${w.data.length} weights do not make a [${k}, ${n}] matrix.`, { k, n });
  const block = Math.min(Math.max(1, Math.floor(w.block)), k);
  const blocks = Math.ceil(k / block);
  const perBlock = w.scales.length === 1 ? 'scalar' : w.scales.length === n ? 'column' : w.scales.length === blocks * n ? 'blocked' : null;
  if (!perBlock) {
    throw new KernelError(`weight-only matmul: ${w.scales.length} scales fit neither 1, N = ${n} nor blocks × N = ${blocks * n}.`, { k, n, block });
  }
  if (w.zeros && w.zeros.length !== w.scales.length) throw new KernelError('weight-only matmul: zero points must be shaped like the scales.');
  const shift = w.type === 'int8' ? 128 : 0;
  const n4 = Math.ceil(n / 4);
  const words = new Uint32Array(k * n4);
  for (let kk = 0; kk < k; kk++) {
    for (let c = 0; c < n; c++) {
      const i = kk * n4 + (c >> 2);
      words[i] = (words[i]! | (((w.data[kk * n + c]! + shift) & 0xff) << (8 * (c & 3)))) >>> 0;
    }
  }
  const scales = new Float32Array(blocks * n4 * 4);
  const zeros = new Float32Array(blocks * n4 * 4);
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < n; c++) {
      const i = perBlock === 'scalar' ? 0 : perBlock === 'column' ? c : b * n + c;
      scales[b * n4 * 4 + c] = w.scales[i]!;
      zeros[b * n4 * 4 + c] = (w.zeros ? w.zeros[i]! : 0) + shift;
    }
  }
  return { k, n, n4, block, blocks, words, scales, zeros };
}

/**
 * Uploads packed weights once (at load). Weights larger than the device's binding limit
 * ({@link weightPartLimit}) are split along N into column blocks that each fit, one set of buffers
 * each (`parts`); a `WeightTooLargeError` when 4 columns alone do not fit.
 */
export function uploadWeightOnly(ctx: GpuContext, p: PackedWeightOnly): GpuWeightOnly {
  const { k, n, n4, block, blocks } = p;
  const split = planWeightParts({ op: 'WeightOnlyMatMul', dims: [k, n], n, blockBytes: weightOnlyBlockBytes(k, blocks) }, weightPartLimit(ctx.device));
  const parts = split.map(({ col0, n: pn }) => {
    const pn4 = Math.ceil(pn / 4);
    const one = split.length === 1;
    // A block's words are rows of pn4 words; its scales and zero points rows of pn4 · 4 values.
    const cut = <T extends Uint32Array | Float32Array>(src: T, rows: number, width: number, from: number): T => {
      if (one) return src;
      const dst = new (src.constructor as new (length: number) => T)(rows * pn4 * width);
      for (let r = 0; r < rows; r++) dst.set(src.subarray(r * n4 * width + from, r * n4 * width + from + pn4 * width), r * pn4 * width);
      return dst;
    };
    const words = ctx.upload(cut(p.words, k, 1, col0 / 4), 'w8a32.w');
    const scales = ctx.upload(cut(p.scales, blocks, 4, col0), 'w8a32.scales');
    const zeros = ctx.upload(cut(p.zeros, blocks, 4, col0), 'w8a32.zeros');
    return { col0, n: pn, n4: pn4, words, scales, zeros };
  });
  const first = parts[0]!;
  const dispose = () => parts.forEach((x) => [x.words, x.scales, x.zeros].forEach((b) => ctx.buffers.release(b)));
  return { k, n, n4, block, blocks, words: first.words, scales: first.scales, zeros: first.zeros, ...(parts.length > 1 ? { parts } : {}), dispose };
}

/** Rows per chunk: 32 when one block spans K, else the largest power of two ≤ 32 dividing the block. */
export function chunkRows(block: number, k: number): number {
  if (block >= k) return 32;
  let c = 32;
  while (block % c !== 0) c >>= 1;
  return c;
}

/**
 * The program for `m` rows: GEMV-like (split-K over chunks, w8a32-matmul.wgsl) for up to 3 rows,
 * 4-row tiles (w8a32-matmul-tiled.wgsl) from 4 rows on.
 */
export function w8a32Program(m: number, n4: number): Program {
  const gemv = m < 4;
  const consts: Record<string, number> = gemv ? { WG_X: 32, SPLIT_K: 4, ROWS: Math.max(1, m) } : { WG_X: 16 };
  const workgroups: [number, number] = [Math.ceil(n4 / consts.WG_X!), Math.ceil(m / (gemv ? Math.max(1, m) : 4))];
  if (workgroups.some((g) => g > MAX_WORKGROUPS_PER_DIM))
    throw new KernelError(`weight-only matmul: ${m} rows need ${workgroups.join('x')} workgroups; split the batch.`, { m });
  const key = gemv ? `gemv${consts.ROWS}` : 'tiled4';
  return { shaderKey: `w8a32-${key}`, label: `webq8:w8a32.${key}`, code: `${gemv ? code : tiledCode}\n${common}`, constants: consts, workgroups };
}

/** `Y = X · dequant(W) (+ bias)` for float32 X `[..., K]` into a new pooled buffer the caller owns. */
export function w8a32Matmul(
  ctx: GpuContext,
  x: GPUBuffer,
  xDims: readonly number[],
  w: GpuWeightOnly,
  bias?: GPUBuffer,
): { buffer: GPUBuffer; dims: number[] } {
  const k = xDims[xDims.length - 1];
  if (k !== w.k) throw new KernelError(`weight-only matmul: X has K = ${k}, and the weights have K = ${w.k}.`, { xDims, k: w.k });
  const m = xDims.slice(0, -1).reduce((a, b) => a * b, 1);
  if (m < 1) throw new KernelError(`weight-only matmul: X ${JSON.stringify(xDims)} is empty.`, { xDims });
  if (x.size < m * k * 4)
    throw new KernelError(`weight-only matmul: X's buffer holds ${x.size} bytes, and ${JSON.stringify(xDims)} float32 needs ${m * k * 4}.`);
  // A W split into column blocks runs once per block, into its columns of `out`; programs first, so a shape WebGPU cannot dispatch throws before any buffer is taken.
  const parts = (w.parts ?? [{ col0: 0, n: w.n, n4: w.n4, words: w.words, scales: w.scales, zeros: w.zeros }]).map((part) => ({
    part,
    program: w8a32Program(m, part.n4),
  }));
  const out = ctx.buffers.acquire(m * w.n * 4, STORAGE_USAGE, 'w8a32.y');
  const chunk = chunkRows(w.block, w.k);
  for (const { part, program } of parts) {
    const { col0, n, n4 } = part;
    const params = packUniforms(PARAMS, { m, n, k: w.k, n4, block: w.block, chunk, chunks: Math.ceil(w.k / chunk), has_bias: bias ? 1 : 0, col0, n_out: w.n });
    ctx.dispatch(program, [x, part.words, part.scales, part.zeros, bias ?? zeroBuffer(ctx), { buffer: out, size: m * w.n * 4 }], params);
  }
  return { buffer: out, dims: [...xDims.slice(0, -1), w.n] };
}

/** CPU reference of the same formula (float64 accumulation), for tests. */
export function w8a32Ref(x: Float32Array, m: number, w: WeightOnlyMatrix, bias?: ArrayLike<number>): Float32Array {
  const p = packWeightOnly(w);
  const y = new Float32Array(m * w.n);
  const shift = w.type === 'int8' ? 128 : 0;
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < w.n; c++) {
      let acc = 0;
      for (let kk = 0; kk < w.k; kk++) {
        const b = Math.floor(kk / p.block) * p.n4 * 4 + c;
        acc += x[r * w.k + kk]! * (w.data[kk * w.n + c]! + shift - p.zeros[b]!) * p.scales[b]!;
      }
      y[r * w.n + c] = acc + (bias ? bias[c]! : 0);
    }
  }
  return y;
}
