/**
 * The int8 plan steps the graph partitioner emits, as kernel factories (registered by
 * `registerBuiltinKernels()`):
 * `DynamicQuantizeLinear`, `MatMulInteger`, `QuantizedMatMul` (MatMulInteger → Cast → Mul (→ Add)
 * fused) and `QLinearMatMul`. Each factory prepacks its constant weights once; `run` only
 * dispatches. Every matmul step takes `attrs.variant` (`'auto'` default, `'dp4a'`, `'portable'`);
 * the kernel for each call comes from `chooseInt8Kernel` (src/kernels/int8-tuning.ts).
 */
import { KernelError } from '../errors';
import type { TensorLike } from '../types';
import { dynamicQuantizeLinear, dynamicQuantizeSlices } from './dynamic-quantize';
import type { GpuContext } from './gpu-context';
import { int8Matmul, resolveVariant, type Int8Activation, type Int8Epilogue, type Int8VariantRequest } from './int8-matmul';
import { chooseInt8Kernel } from './int8-tuning';
import { packAndUploadInt8Weights, type GpuInt8Weights } from './int8-weights';
import { requantMultiplier, type Int8Type, type IntTensor } from './int8-math';
import { elementCount, type GpuTensor, type KernelFactory, type KernelRunOptions, type KernelStepDef, type PreparedKernel } from './registry';

function isInt8Type(t: string): t is Int8Type {
  return t === 'uint8' || t === 'int8';
}

/** A constant int tensor of `def`, checked. */
function intConstant(def: KernelStepDef, name: string, required: true): IntTensor;
function intConstant(def: KernelStepDef, name: string, required: false): IntTensor | undefined;
function intConstant(def: KernelStepDef, name: string, required: boolean): IntTensor | undefined {
  const t = def.constants?.[name];
  if (!t) {
    if (required) throw new KernelError(`${def.op}: the constant "${name}" is missing; put it in the step's constants.`, { op: def.op, name });
    return undefined;
  }
  if (!isInt8Type(t.type)) throw new KernelError(`${def.op}: "${name}" is ${t.type}, and it must be uint8 or int8.`, { op: def.op, name });
  return { data: t.data as Uint8Array | Int8Array, type: t.type, dims: t.dims };
}

/** A constant float32 tensor of `def` as numbers (1 value or `count`). */
function floatConstant(def: KernelStepDef, name: string, count: number, required: boolean): Float32Array | undefined {
  const t = def.constants?.[name];
  if (!t) {
    if (required) throw new KernelError(`${def.op}: the constant "${name}" is missing; put it in the step's constants.`, { op: def.op, name });
    return undefined;
  }
  if (t.type !== 'float32') throw new KernelError(`${def.op}: "${name}" is ${t.type}, and it must be float32.`, { op: def.op, name });
  if (t.data.length !== 1 && t.data.length !== count)
    throw new KernelError(`${def.op}: "${name}" has ${t.data.length} values, and it must have 1 or ${count}.`, { op: def.op, name });
  return t.data as Float32Array;
}

function scalarOf(t: TensorLike | undefined, fallback: number): number {
  return t ? Number(t.data[0]) : fallback;
}

/** An int8/uint8 GPU input, checked. */
function intInput(op: string, t: GpuTensor | undefined, what: string): GpuTensor & { type: Int8Type } {
  if (!t) throw new KernelError(`${op}: input ${what} is missing.`, { op });
  if (!isInt8Type(t.type)) throw new KernelError(`${op}: ${what} is ${t.type}, and it must be uint8 or int8.`, { op });
  return t as GpuTensor & { type: Int8Type };
}

/** Shared by the matmul steps: prepacked B and the per-call kernel choice. */
function matmulStep(
  ctx: GpuContext,
  def: KernelStepDef,
  weights: GpuInt8Weights,
  extra: GPUBuffer[],
  run: (rows: number) => (inputs: GpuTensor[], options?: KernelRunOptions) => GpuTensor[],
): PreparedKernel {
  const request = (def.attrs.variant ?? 'auto') as Int8VariantRequest;
  resolveVariant(request); // throws now, at load, when dp4a is forced but unsupported
  return {
    run(inputs, options) {
      const a = inputs[0];
      const rows = a ? elementCount(a.dims) / (a.dims[a.dims.length - 1] ?? 1) : 1;
      return run(rows)(inputs, options);
    },
    dispose() {
      weights.dispose();
      for (const b of extra) ctx.freeConstant(b);
    },
  };
}

function kernelFor(ctx: GpuContext, def: KernelStepDef, rows: number) {
  return chooseInt8Kernel(ctx, rows, (def.attrs.variant ?? 'auto') as Int8VariantRequest);
}

/**
 * `DynamicQuantizeLinear` — inputs: `[x: float32, any shape]`; no attrs or constants.
 * Outputs: `[y: uint8 (x's dims), y_scale: float32 [], y_zero_point: uint8 []]`, all on the GPU.
 * With `quantizePerSlice` and x of 2+ dims, each slice x[i] is quantized on its own: y_scale and
 * y_zero_point are then `[x.dims[0]]`.
 */
const dynamicQuantizeStep: KernelFactory = (ctx) => ({
  run([x], options) {
    if (!x || x.type !== 'float32') throw new KernelError(`DynamicQuantizeLinear takes one float32 tensor, and got ${x ? x.type : 'none'}.`);
    const count = elementCount(x.dims);
    const slices = options?.quantizePerSlice && x.dims.length >= 2 ? (x.dims[0] ?? 1) : 1;
    const r = slices > 1 ? dynamicQuantizeSlices(ctx, x.buffer, slices, count / slices) : dynamicQuantizeLinear(ctx, x.buffer, count);
    const paramDims = slices > 1 ? [slices] : [];
    return [
      { buffer: r.y, type: 'uint8', dims: [...x.dims] },
      { buffer: r.scale, type: 'float32', dims: paramDims },
      { buffer: r.zeroPoint, type: 'uint8', dims: [...paramDims] },
    ];
  },
  dispose() {},
});

/** Uploads a zero-point constant, or returns undefined when there is none. */
function zpConstant(ctx: GpuContext, t: IntTensor | undefined): GPUBuffer | undefined {
  return t ? ctx.uploadConstant(t.data, 'int8.a_zero_point') : undefined;
}

/**
 * `MatMulInteger` — inputs: `[A: uint8|int8 [..., M, K] or [K], a_zero_point?: uint8|int8 [] | [1] | [M]]`.
 * Constants: `B` (uint8|int8 `[K, N]` or batched like A; required), `b_zero_point` (scalar or `[N]`),
 * `a_zero_point` (instead of the input). Attrs: `variant`. Output: `[Y: int32 [..., M, N]]`.
 */
const matMulIntegerStep: KernelFactory = (ctx, def) => {
  const b = intConstant(def, 'B', true);
  const bZp = intConstant(def, 'b_zero_point', false);
  const weights = packAndUploadInt8Weights(ctx, b, bZp?.data, 'MatMulInteger');
  const aZpConst = intConstant(def, 'a_zero_point', false);
  const aZpBuf = zpConstant(ctx, aZpConst);
  return matmulStep(ctx, def, weights, aZpBuf ? [aZpBuf] : [], (rows) => (inputs) => {
    const a = intInput('MatMulInteger', inputs[0], 'A');
    const zp = inputs[1];
    if (zp && !isInt8Type(zp.type)) throw new KernelError(`MatMulInteger: a_zero_point is ${zp.type}, and it must be uint8 or int8.`);
    const perRow = zp ? elementCount(zp.dims) > 1 : (aZpConst?.data.length ?? 1) > 1;
    const out = int8Matmul(ctx, {
      a: a.buffer,
      aType: a.type,
      aDims: a.dims,
      aZp: zp?.buffer ?? aZpBuf,
      aZpPerRow: perRow,
      weights,
      epilogue: { kind: 'int32' },
      kernel: kernelFor(ctx, def, rows),
    });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

/**
 * `QuantizedMatMul` — the fused `MatMulInteger → Cast → Mul(a_scale·b_scale) (→ Add bias)` chain of
 * ORT's `quantize_dynamic`. Inputs: `[A: uint8|int8 [..., M, K], a_scale: float32 [] (on the GPU,
 * e.g. DynamicQuantizeLinear's output), a_zero_point?: uint8|int8 []]`. Constants: `B` (`[K, N]`),
 * `b_scale` (float32 scalar or `[N]`), `b_zero_point` (optional, scalar or `[N]`), `bias` (optional
 * float32 `[N]`). Attrs: `variant`, `activation` (`'relu'` | `'tanh'`, the op that followed the
 * chain; optional). Output: `[Y: float32 [..., M, N]]`. It computes the unfused chain's float32
 * operations in the same order; tests hold it to 2^-20 relative of the reference (Tanh: plus
 * 2^-20 absolute, as WGSL's tanh is not correctly rounded).
 */
const quantizedMatMulStep: KernelFactory = (ctx, def) => {
  const b = intConstant(def, 'B', true);
  if (b.dims.length !== 2) throw new KernelError(`QuantizedMatMul: B has dims ${JSON.stringify(b.dims)}, and it must be 2-D [K, N].`);
  const n = b.dims[1] as number;
  const bScale = floatConstant(def, 'b_scale', n, true) as Float32Array;
  const bias = floatConstant(def, 'bias', n, false);
  if (bias && bias.length !== n) throw new KernelError(`QuantizedMatMul: bias has ${bias.length} values, and it must have N = ${n}.`);
  const activation = def.attrs.activation as Int8Activation | undefined;
  if (activation !== undefined && activation !== 'relu' && activation !== 'tanh') {
    throw new KernelError(`QuantizedMatMul: activation is ${JSON.stringify(activation)}, and it must be "relu", "tanh" or absent.`);
  }
  const weights = packAndUploadInt8Weights(ctx, b, intConstant(def, 'b_zero_point', false)?.data, 'QuantizedMatMul');
  const colF = new Float32Array(2 * n);
  for (let j = 0; j < n; j++) colF[j] = (bScale.length === 1 ? bScale[0] : bScale[j]) as number;
  if (bias) colF.set(bias, n);
  const colBuf = ctx.uploadConstant(colF, 'int8.dequant');
  return matmulStep(ctx, def, weights, [colBuf], (rows) => (inputs) => {
    const a = intInput('QuantizedMatMul', inputs[0], 'A');
    const scale = inputs[1];
    if (!scale || scale.type !== 'float32') throw new KernelError('QuantizedMatMul: input 1 must be a_scale, a float32 scalar on the GPU.');
    const zp = inputs[2];
    // A scale per slice: A came from DynamicQuantizeLinear per slice (a batched decode step).
    const slices = elementCount(scale.dims);
    if (slices > 1 && (a.dims[0] !== slices || (zp && elementCount(zp.dims) !== slices)))
      throw new KernelError(
        `QuantizedMatMul: a_scale has ${slices} values; per-slice scales need A's first dimension and a_zero_point to match (A is ${JSON.stringify(a.dims)}).`,
      );
    const epilogue: Int8Epilogue = { kind: 'float32', aScale: scale.buffer, colF: colBuf, bias: !!bias, ...(activation ? { activation } : {}) };
    const out = int8Matmul(ctx, {
      a: a.buffer,
      aType: a.type,
      aDims: a.dims,
      aZp: zp?.buffer,
      ...(slices > 1 ? { aSlices: slices } : {}),
      weights,
      epilogue,
      kernel: kernelFor(ctx, def, rows),
    });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

/**
 * `QLinearMatMul` — inputs: `[a: uint8|int8 [..., M, K]]`. Constants (ONNX names): `a_scale`,
 * `a_zero_point`, `b` (`[K, N]` or batched like a), `b_scale` (scalar or `[N]`), `b_zero_point`
 * (scalar or `[N]`), `y_scale`, `y_zero_point` (its type is the output type). Attrs: `variant`.
 * Output: `[y: uint8|int8 [..., M, N]]` = saturate(round(f32(Y) · f32(a_scale·b_scale/y_scale)) + y_zp).
 */
const qlinearMatMulStep: KernelFactory = (ctx, def) => {
  const b = intConstant(def, 'b', true);
  const n = b.dims[b.dims.length - 1] as number;
  const aScale = scalarOf(def.constants?.a_scale, NaN);
  const yScale = scalarOf(def.constants?.y_scale, NaN);
  if (!(aScale > 0 && yScale > 0)) throw new KernelError('QLinearMatMul: a_scale and y_scale must be positive float32 constants.');
  const bScale = floatConstant(def, 'b_scale', n, true) as Float32Array;
  const yZpT = intConstant(def, 'y_zero_point', false);
  const yType: Int8Type = yZpT?.type ?? 'uint8';
  const yZp = yZpT ? Number(yZpT.data[0]) : 0;
  const weights = packAndUploadInt8Weights(ctx, b, intConstant(def, 'b_zero_point', false)?.data, 'QLinearMatMul');
  const mult = new Float32Array(n).map((_, j) => requantMultiplier(aScale, bScale, yScale, j));
  const colBuf = ctx.uploadConstant(mult, 'int8.requant');
  const aZpConst = intConstant(def, 'a_zero_point', false);
  const aZpBuf = zpConstant(ctx, aZpConst);
  return matmulStep(ctx, def, weights, aZpBuf ? [colBuf, aZpBuf] : [colBuf], (rows) => (inputs) => {
    const a = intInput('QLinearMatMul', inputs[0], 'a');
    const epilogue: Int8Epilogue = { kind: 'requant', colF: colBuf, yZp, yType };
    const out = int8Matmul(ctx, {
      a: a.buffer,
      aType: a.type,
      aDims: a.dims,
      aZp: aZpBuf,
      aZpPerRow: (aZpConst?.data.length ?? 1) > 1,
      weights,
      epilogue,
      kernel: kernelFor(ctx, def, rows),
    });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

/** The int8 plan ops and their factories, registered by `registerBuiltinKernels()` (src/kernels/builtins.ts). */
export const INT8_KERNELS: Readonly<Record<Int8Op, KernelFactory>> = {
  DynamicQuantizeLinear: dynamicQuantizeStep,
  MatMulInteger: matMulIntegerStep,
  QuantizedMatMul: quantizedMatMulStep,
  QLinearMatMul: qlinearMatMulStep,
};

/** The int8 op names. */
export const INT8_OPS = ['DynamicQuantizeLinear', 'MatMulInteger', 'QuantizedMatMul', 'QLinearMatMul'] as const;

/** One of {@link INT8_OPS}. */
export type Int8Op = (typeof INT8_OPS)[number];
