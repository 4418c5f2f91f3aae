/**
 * Int8 arithmetic shared by the GPU host code, the quantizer and the CPU reference: ONNX's rounding
 * and saturation, matmul shape checks, zero-point lookup and the QLinearMatMul requantization
 * multiplier. Production code imports these from here; src/kernels/reference.ts (the CPU reference
 * the tests compare against) builds on them.
 */
import { KernelError } from '../errors';

/** The integer element types of the int8 ops. */
export type Int8Type = 'uint8' | 'int8';

/** Rounds to the nearest integer, ties to even (ONNX's rounding, and WGSL's `round`). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds ties up; move the ties that landed on an odd integer back down.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Clamps to the range of `type`. */
export function saturate(x: number, type: Int8Type): number {
  return type === 'uint8' ? Math.min(255, Math.max(0, x)) : Math.min(127, Math.max(-128, x));
}

/** An integer matrix operand of the reference matmuls: `[...batch, rows, cols]` in row-major order. */
export interface IntTensor {
  data: Uint8Array | Int8Array;
  type: Int8Type;
  dims: readonly number[];
}

/** Zero point(s): one value, or one per row of A / per column of B. */
export type ZeroPoints = number | ArrayLike<number>;

/** Shape facts shared by the reference and the GPU host code. */
export interface MatmulShape {
  /** Rows of A per batch. */
  m: number;
  k: number;
  n: number;
  /** Number of A matrices (product of A's leading dims). */
  batch: number;
  /** Whether B has the same batch dims as A (else B is one 2-D matrix shared by all). */
  bBatched: boolean;
  /** Output dims: A's leading dims, then M, N (a 1-D A gives `[N]`). */
  outDims: number[];
}

/**
 * Checks the shapes of A (`[K]`, `[M, K]` or `[...batch, M, K]`) and B (`[K, N]`, or batched with
 * exactly A's batch dims) and derives the loop bounds. Throws {@link KernelError} saying what to fix.
 */
export function matmulShape(op: string, aDims: readonly number[], bDims: readonly number[]): MatmulShape {
  if (aDims.length < 1) throw new KernelError(`${op}: A is a scalar, and it must have at least one dimension [K].`);
  if (bDims.length < 2) throw new KernelError(`${op}: B has ${bDims.length} dimensions, and it must be [K, N] (or batched like A).`, { bDims });
  const k = aDims[aDims.length - 1] as number;
  const m = aDims.length >= 2 ? (aDims[aDims.length - 2] as number) : 1;
  const kb = bDims[bDims.length - 2] as number;
  const n = bDims[bDims.length - 1] as number;
  const aBatch = aDims.slice(0, -2);
  const bBatch = bDims.slice(0, -2);
  if (k < 1) throw new KernelError(`${op}: K is ${k}, and the inner dimension must be at least 1.`, { aDims });
  if (kb !== k) throw new KernelError(`${op}: A has K = ${k} but B has K = ${kb}; A's last dimension must equal B's second-to-last.`, { aDims, bDims });
  if (m < 1 || n < 1 || aBatch.some((d) => d < 1))
    throw new KernelError(`${op}: the output would be empty (A ${JSON.stringify(aDims)}, B ${JSON.stringify(bDims)}); every dimension must be at least 1.`, {
      aDims,
      bDims,
    });
  if (k > 131071) throw new KernelError(`${op}: K is ${k}, and int32 accumulation is exact only up to K = 131071; split the matmul.`, { k });
  const bBatched = bBatch.length > 0;
  if (bBatched && (bBatch.length !== aBatch.length || bBatch.some((d, i) => d !== aBatch[i]))) {
    throw new KernelError(
      `${op}: B's batch dims ${JSON.stringify(bBatch)} must equal A's ${JSON.stringify(aBatch)} (broadcasting is not supported), or B must be 2-D.`,
      { aDims, bDims },
    );
  }
  const batch = aBatch.reduce((x, y) => x * y, 1);
  const outDims = aDims.length === 1 ? [n] : [...aBatch, m, n];
  return { m, k, n, batch, bBatched, outDims };
}

/** The zero point of `index` (one value broadcast, or one per index). */
export function zeroPointAt(zp: ZeroPoints | undefined, index: number): number {
  if (zp === undefined) return 0;
  if (typeof zp === 'number') return zp;
  return (zp.length === 1 ? zp[0] : zp[index]) as number;
}

/**
 * The float32 requantization multiplier of output column `j`: `f32(f32(a_scale · b_scale[j]) / y_scale)`,
 * as ORT's CPU QLinearMatMul computes it. Shared with the GPU host code so both use the same value.
 */
export function requantMultiplier(aScale: number, bScale: number | ArrayLike<number>, yScale: number, j: number): number {
  const f = Math.fround;
  const bs = typeof bScale === 'number' ? bScale : zeroPointAt(bScale, j);
  return f(f(f(aScale) * f(bs)) / f(yScale));
}
