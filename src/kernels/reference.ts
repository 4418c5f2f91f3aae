/**
 * CPU reference of the ONNX int8 formulas webq8's WGSL kernels implement, in plain TypeScript with
 * float32 rounding where ONNX computes in float32. The kernel tests (Node and browser) and the
 * benchmarks compare against these; they are written for clarity, not speed.
 *
 * NaN/Inf policy of DynamicQuantizeLinear (ONNX leaves it undefined; numpy would make the whole
 * tensor NaN): non-finite inputs are left out of the min/max range; then NaN quantizes to the zero
 * point, +Inf to 255 and −Inf to 0 (saturation). The GPU kernel does exactly the same.
 */
import { KernelError } from '../errors';
import { matmulShape, requantMultiplier, roundHalfEven, saturate, zeroPointAt, type Int8Type, type IntTensor, type ZeroPoints } from './int8-math';

export { matmulShape, requantMultiplier, roundHalfEven, saturate, zeroPointAt } from './int8-math';
export type { Int8Type, IntTensor, MatmulShape, ZeroPoints } from './int8-math';

/** Output of {@link dynamicQuantizeLinearRef}. */
export interface DynamicQuantized {
  y: Uint8Array;
  scale: number;
  zeroPoint: number;
}

/**
 * ONNX DynamicQuantizeLinear (opset 11), as ONNX's reference implementation computes it:
 * `scale = (max(0,max x) − min(0,min x)) / 255` (`1/255` when that range is 0),
 * `zp = round(clamp(0 − min/scale, 0, 255))`, `y = saturate(round(x/scale) + zp)`; float32
 * arithmetic, ties to even. Non-finite inputs follow the module's NaN/Inf policy.
 */
export function dynamicQuantizeLinearRef(x: Float32Array): DynamicQuantized {
  if (x.length === 0) throw new KernelError('DynamicQuantizeLinear: the input is empty, and it needs at least one element.');
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const f = Math.fround;
  const scale = f(f(hi === lo ? 1 : f(hi - lo)) / 255);
  const zeroPoint = roundHalfEven(Math.min(255, Math.max(0, f(0 - f(lo / scale)))));
  const y = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (Number.isNaN(v)) y[i] = zeroPoint;
    else y[i] = Math.min(255, Math.max(0, roundHalfEven(f(v / scale)) + zeroPoint));
  }
  return { y, scale, zeroPoint };
}

/**
 * ONNX MatMulInteger: `Y[b,i,j] = Σ_k (A[b,i,k] − a_zp[i]) · (B[b?,k,j] − b_zp[j])`, int32.
 * `aZp` is scalar or per row (length M), `bZp` scalar or per column (length N).
 */
export function matMulIntegerRef(a: IntTensor, b: IntTensor, aZp?: ZeroPoints, bZp?: ZeroPoints): { data: Int32Array; dims: number[] } {
  const s = matmulShape('MatMulInteger', a.dims, b.dims);
  const out = new Int32Array(s.batch * s.m * s.n);
  for (let t = 0; t < s.batch; t++) {
    const aOff = t * s.m * s.k;
    const bOff = s.bBatched ? t * s.k * s.n : 0;
    for (let i = 0; i < s.m; i++) {
      const za = zeroPointAt(aZp, i);
      for (let j = 0; j < s.n; j++) {
        const zb = zeroPointAt(bZp, j);
        let acc = 0;
        for (let kk = 0; kk < s.k; kk++) acc += ((a.data[aOff + i * s.k + kk] as number) - za) * ((b.data[bOff + kk * s.n + j] as number) - zb);
        out[(t * s.m + i) * s.n + j] = acc;
      }
    }
  }
  return { data: out, dims: s.outDims };
}

/** Per-column float parameters of {@link quantizedMatMulRef}. */
export interface DequantParams {
  /** Scale of A (DynamicQuantizeLinear's `y_scale`). */
  aScale: number;
  /** Scale of B: one value or one per column. */
  bScale: number | ArrayLike<number>;
  /** Optional bias, one per column. */
  bias?: ArrayLike<number>;
  /** Optional activation after the bias (the fused Relu/Tanh of `QuantizedMatMul`). */
  activation?: 'relu' | 'tanh';
}

/**
 * The chain ORT's `quantize_dynamic` writes after MatMulInteger: `Cast(float)`, `Mul` by
 * `a_scale · b_scale[j]` (itself a float32 `Mul`), then optionally `Add` bias, each rounded to
 * float32: `y = f32(f32(f32(Y) · f32(a_scale · b_scale[j])) + bias[j])`, then the optional activation.
 */
export function dequantizeRef(y: Int32Array, n: number, p: DequantParams): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const j = i % n;
    const s = f(p.aScale * f(typeof p.bScale === 'number' ? p.bScale : zeroPointAt(p.bScale, j)));
    const v = f(f(y[i] as number) * s);
    const b = p.bias ? f(v + (p.bias[j] as number)) : v;
    out[i] = p.activation === 'relu' ? Math.max(b, 0) : p.activation === 'tanh' ? f(Math.tanh(b)) : b;
  }
  return out;
}

/** Scalars and per-column values of {@link qlinearMatMulRef}. */
export interface QLinearParams {
  aScale: number;
  aZp: number;
  /** One value or one per column. */
  bScale: number | ArrayLike<number>;
  /** One value or one per column. */
  bZp: ZeroPoints;
  yScale: number;
  yZp: number;
  /** Output type (that of `y_zero_point`). */
  yType: Int8Type;
}

/**
 * ONNX QLinearMatMul: `y = saturate(round(f32(Y) · multiplier[j]) + y_zp)` where `Y` is the
 * MatMulInteger of A and B with their zero points (float32 multiply, ties to even).
 */
export function qlinearMatMulRef(a: IntTensor, b: IntTensor, p: QLinearParams): { data: Uint8Array | Int8Array; dims: number[] } {
  const { data: acc, dims } = matMulIntegerRef(a, b, p.aZp, p.bZp);
  const n = dims[dims.length - 1] as number;
  const out = p.yType === 'uint8' ? new Uint8Array(acc.length) : new Int8Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const v = Math.fround(Math.fround(acc[i] as number) * requantMultiplier(p.aScale, p.bScale, p.yScale, i % n));
    out[i] = saturate(roundHalfEven(v) + p.yZp, p.yType);
  }
  return { data: out, dims };
}
