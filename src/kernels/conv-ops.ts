/**
 * The int8 conv plan steps, as kernel factories (registered by `registerBuiltinKernels()`):
 * `ConvInteger`, `QuantizedConv` (ConvInteger → Cast → Mul (→ Add bias) fused) and `QLinearConv`
 * (requantized uint8/int8 output). Each prepares its
 * constant weight once for its loop (src/kernels/int8-conv.ts); `run` only dispatches. Attrs: the
 * ONNX conv attributes in {@link ConvAttrs} form, `variant` (`'auto'` default, `'dp4a'`,
 * `'portable'`: the GEMM's arithmetic) and `layout` (`'gemm'` | `'direct'`; default by shape, see
 * `defaultConvKernel`).
 */
import { KernelError } from '../errors';
import type { TensorLike } from '../types';
import type { ConvAttrs } from './conv-math';
import type { GpuContext } from './gpu-context';
import { defaultConvKernel, int8Conv, uploadConvWeights, type GpuConvWeights, type Int8ConvEpilogue, type Int8ConvKernel } from './int8-conv';
import { requantMultiplier, type Int8Type, type IntTensor } from './int8-math';
import { resolveVariant, type Int8VariantRequest } from './int8-matmul';
import type { GpuTensor, KernelFactory, KernelStepDef, PreparedKernel } from './registry';

const isInt8 = (t: string): t is Int8Type => t === 'uint8' || t === 'int8';

function intConst(def: KernelStepDef, name: string): IntTensor | undefined {
  const t = def.constants?.[name];
  if (!t) return undefined;
  if (!isInt8(t.type)) throw new KernelError(`${def.op}: "${name}" is ${t.type}, and it must be uint8 or int8.`, { op: def.op, name });
  return { data: t.data as Uint8Array | Int8Array, type: t.type, dims: t.dims };
}

function floatConst(def: KernelStepDef, name: string, m: number): Float32Array | undefined {
  const t: TensorLike | undefined = def.constants?.[name];
  if (!t) return undefined;
  if (t.type !== 'float32' || (t.data.length !== 1 && t.data.length !== m))
    throw new KernelError(`${def.op}: "${name}" must be float32 with 1 or M = ${m} values, and it is ${t.type} with ${t.data.length}.`, { op: def.op, name });
  return t.data as Float32Array;
}

/** The fused epilogue program of a step (`[code, a, b]` triples, flattened), checked. */
function epilogueProgram(v: unknown): number[] {
  if (v === undefined) return [];
  const ok = Array.isArray(v) && v.length <= 64 && v.every((t) => Array.isArray(t) && t.length === 3 && Number.isInteger(t[0]) && t[0] >= 0 && t[0] <= 9);
  if (!ok) throw new KernelError('QuantizedConv: epilogue must be at most 64 [code, a, b] instructions with codes 0-9 (src/graph/conv-epilogue.ts).');
  return (v as number[][]).flat().map(Number);
}

/** The conv attributes of a step (the ConvAttrs keys of `def.attrs`). */
export function convAttrsOf(def: KernelStepDef): ConvAttrs {
  const a = def.attrs as ConvAttrs;
  const pick = <K extends keyof ConvAttrs>(k: K) => (a[k] !== undefined ? { [k]: a[k] } : {});
  return { ...pick('autoPad'), ...pick('dilations'), ...pick('group'), ...pick('kernelShape'), ...pick('pads'), ...pick('strides') };
}

/** The prepared weight and the kernel of a conv step (checked at load). */
function prepareConv(ctx: GpuContext, def: KernelStepDef, weightName: string) {
  const w = intConst(def, weightName);
  if (!w) throw new KernelError(`${def.op}: the constant "${weightName}" is missing; put it in the step's constants.`, { op: def.op });
  const attrs = convAttrsOf(def);
  const variant = resolveVariant((def.attrs.variant ?? 'auto') as Int8VariantRequest);
  const layout = (def.attrs.layout as Int8ConvKernel['layout'] | undefined) ?? defaultConvKernel(w.dims, attrs.group ?? 1, variant).layout;
  if (layout !== 'gemm' && layout !== 'direct') throw new KernelError(`${def.op}: layout ${JSON.stringify(layout)} must be "gemm" or "direct".`);
  const weights = uploadConvWeights(ctx, w, attrs.group ?? 1, intConst(def, 'w_zero_point')?.data, layout);
  return { attrs, variant, weights, m: w.dims[0] as number };
}

function xInput(op: string, t: GpuTensor | undefined): GpuTensor & { type: Int8Type } {
  if (!t || !isInt8(t.type)) throw new KernelError(`${op}: input x must be a uint8 or int8 tensor, and it is ${t ? t.type : 'missing'}.`, { op });
  return t as GpuTensor & { type: Int8Type };
}

function prepared(weights: GpuConvWeights, extra: GPUBuffer[], ctx: GpuContext, run: PreparedKernel['run']): PreparedKernel {
  return {
    run,
    dispose() {
      weights.dispose();
      for (const b of extra) ctx.freeConstant(b);
    },
  };
}

/**
 * `ConvInteger` — inputs: `[x: uint8|int8 [N, C, (H,) W], x_zero_point?: uint8|int8 []]`.
 * Constants: `w` (uint8|int8 `[M, C/group, (KH,) KW]`, required), `w_zero_point` (scalar or `[M]`),
 * `x_zero_point` (instead of the input). Output: `[y: int32 [N, M, (OH,) OW]]`.
 */
const convIntegerStep: KernelFactory = (ctx, def) => {
  const { attrs, variant, weights } = prepareConv(ctx, def, 'w');
  const zpConst = intConst(def, 'x_zero_point');
  const zpBuf = zpConst ? ctx.uploadConstant(zpConst.data, 'int8.conv.xzp') : undefined;
  return prepared(weights, zpBuf ? [zpBuf] : [], ctx, (inputs) => {
    const x = xInput('ConvInteger', inputs[0]);
    const zp = inputs[1];
    if (zp && (!isInt8(zp.type) || zp.dims.reduce((a, b) => a * b, 1) !== 1))
      throw new KernelError(`ConvInteger: x_zero_point must be one uint8 or int8 value, and it is ${zp.type} ${JSON.stringify(zp.dims)}.`);
    const out = int8Conv(ctx, { x: x.buffer, xType: x.type, xDims: x.dims, xZp: zp?.buffer ?? zpBuf, weights, attrs, epilogue: { kind: 'int32' }, variant });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

/**
 * `QuantizedConv` — the fused `ConvInteger → Cast → Mul(x_scale·w_scale) (→ Add bias)` chain of
 * ORT's `quantize_dynamic`. Inputs: `[x: uint8|int8, x_scale: float32 [] (on the GPU, e.g.
 * DynamicQuantizeLinear's output), x_zero_point?: uint8|int8 []]`. Constants: `W`, `w_scale`
 * (float32 scalar or `[M]`), `w_zero_point` (scalar or `[M]`), `bias` (float32 `[M]`, optional).
 * Attrs: as ConvInteger, plus `activation` (`'relu'`, optional) and `epilogue` (optional: the
 * elementwise ops fused after it, `[code, a, b]` triples of src/graph/conv-epilogue.ts, run after
 * the activation). Output: `[y: float32]`, the
 * unfused chain's float32 operations in the same order.
 */
const quantizedConvStep: KernelFactory = (ctx, def) => {
  const { attrs, variant, weights, m } = prepareConv(ctx, def, 'W');
  const wScale = floatConst(def, 'w_scale', m);
  if (!wScale) {
    weights.dispose();
    throw new KernelError('QuantizedConv: the constant "w_scale" is missing; put it in the step\'s constants.');
  }
  const bias = floatConst(def, 'bias', m);
  if (bias && bias.length !== m) throw new KernelError(`QuantizedConv: bias has ${bias.length} values, and it must have M = ${m}.`);
  const activation = def.attrs.activation;
  if (activation !== undefined && activation !== 'relu')
    throw new KernelError(`QuantizedConv: activation is ${JSON.stringify(activation)}, and it must be "relu" or absent.`);
  const program = epilogueProgram(def.attrs.epilogue);
  const colF = new Uint32Array(2 * m + (program.length > 0 ? 1 + program.length : 0));
  const floats = new Float32Array(colF.buffer);
  for (let j = 0; j < m; j++) floats[j] = (wScale.length === 1 ? wScale[0] : wScale[j]) as number;
  if (bias) floats.set(bias, m);
  if (program.length > 0) {
    colF[2 * m] = program.length / 3;
    program.forEach((v, i) => (i % 3 === 0 ? (colF[2 * m + 1 + i] = v) : (floats[2 * m + 1 + i] = v)));
  }
  const colBuf = ctx.uploadConstant(colF, 'int8.conv.dequant');
  return prepared(weights, [colBuf], ctx, (inputs) => {
    const x = xInput('QuantizedConv', inputs[0]);
    const scale = inputs[1];
    if (!scale || scale.type !== 'float32' || scale.dims.reduce((a, b) => a * b, 1) !== 1)
      throw new KernelError('QuantizedConv: input 1 must be x_scale, one float32 value on the GPU.');
    const epilogue: Int8ConvEpilogue = {
      kind: 'float32',
      aScale: scale.buffer,
      colF: colBuf,
      bias: !!bias,
      relu: activation === 'relu',
      program: program.length > 0,
    };
    const out = int8Conv(ctx, { x: x.buffer, xType: x.type, xDims: x.dims, xZp: inputs[2]?.buffer, weights, attrs, epilogue, variant });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

function positiveScalar(def: KernelStepDef, name: string): number {
  const t = def.constants?.[name];
  const v = t && t.type === 'float32' && t.data.length === 1 ? Number(t.data[0]) : NaN;
  if (!(v > 0 && Number.isFinite(v))) throw new KernelError(`QLinearConv: "${name}" must be one positive float32 constant.`, { op: def.op, name });
  return v;
}

/**
 * `QLinearConv` — inputs: `[x: uint8|int8 [N, C, (H,) W]]`. Constants (ONNX names): `w`, `x_scale`,
 * `x_zero_point`, `w_scale` (scalar or `[M]`), `w_zero_point` (scalar or `[M]`), `y_scale`,
 * `y_zero_point` (its type is the output type), `B` (int32 `[M]`, optional). Attrs: as ConvInteger.
 * Output: `[y: uint8|int8]` = saturate(round(f32(Y + B[m]) · f32(f32(x_scale·w_scale[m]) / y_scale)) + y_zp),
 * onnxruntime's requantization (round half to even).
 */
const qlinearConvStep: KernelFactory = (ctx, def) => {
  const xScale = positiveScalar(def, 'x_scale');
  const yScale = positiveScalar(def, 'y_scale');
  const { attrs, variant, weights, m } = prepareConv(ctx, def, 'w');
  const fail = (msg: string): never => {
    weights.dispose();
    throw new KernelError(`QLinearConv: ${msg}`, { op: def.op });
  };
  const wScale = floatConst(def, 'w_scale', m) ?? fail('the constant "w_scale" is missing; put it in the step\'s constants.');
  const bias = def.constants?.B;
  if (bias && (bias.type !== 'int32' || bias.data.length !== m)) fail(`B must be int32 with M = ${m} values, and it is ${bias.type} with ${bias.data.length}.`);
  const xZp = intConst(def, 'x_zero_point');
  const yZpT = intConst(def, 'y_zero_point');
  if ((xZp?.data.length ?? 1) !== 1 || (yZpT?.data.length ?? 1) !== 1) fail('x_zero_point and y_zero_point must be one value each.');
  const colF = new Uint32Array(2 * m);
  const mult = new Float32Array(colF.buffer, 0, m);
  for (let j = 0; j < m; j++) mult[j] = requantMultiplier(xScale, wScale, yScale, j);
  if (bias) new Int32Array(colF.buffer, 4 * m, m).set(bias.data as Int32Array);
  const colBuf = ctx.uploadConstant(colF, 'int8.conv.requant');
  const zpBuf = ctx.uploadConstant(new Uint32Array([xZp ? Number(xZp.data[0]) & 0xff : 0]), 'int8.conv.xzp');
  const epilogue: Int8ConvEpilogue = { kind: 'requant', colF: colBuf, yZp: yZpT ? Number(yZpT.data[0]) : 0, yType: yZpT?.type ?? 'uint8' };
  return prepared(weights, [colBuf, zpBuf], ctx, (inputs) => {
    const x = xInput('QLinearConv', inputs[0]);
    const out = int8Conv(ctx, { x: x.buffer, xType: x.type, xDims: x.dims, xZp: zpBuf, weights, attrs, epilogue, variant });
    return [{ buffer: out.buffer, type: out.type, dims: out.dims }];
  });
};

/** The int8 conv plan ops and their factories. */
export const CONV_KERNELS: Readonly<Record<string, KernelFactory>> = {
  ConvInteger: convIntegerStep,
  QuantizedConv: quantizedConvStep,
  QLinearConv: qlinearConvStep,
};
