/**
 * The int8 conv patterns (kernels: src/kernels/conv-ops.ts):
 *
 * - ORT `quantize_dynamic` output: `DynamicQuantizeLinear → ConvInteger(const W, zero points) →
 *   Cast(float) → Mul(Mul(x_scale, const w_scale)) [→ Add(const bias [M,1,1] | [1,M,1,1])]
 *   [→ Relu] [→ elementwise epilogue: Clip, HardSwish, Sigmoid, … (./conv-epilogue.ts)]` → one
 *   `QuantizedConv` step; the DynamicQuantizeLinear is its own step, shared by every
 *   op reading it;
 * - any other `ConvInteger` with a constant weight and a uint8 input → a `ConvInteger` step;
 * - `QLinearConv` with constant scales, zero points, weight and bias → a `QLinearConv` step;
 * - QDQ convs (`DequantizeLinear` on the activation and the weight): src/graph/pattern-qdq-conv.ts.
 *
 * A float `Conv` stays in ORT and says so (quantize the model's convs to run them on the kernels).
 */
import { ONNX } from '../dtypes';
import type { TensorLike } from '../types';
import { matchEpilogue } from './conv-epilogue';
import { floatVector, matchDequantChain, zeroPoint, type MatchResult } from './match';
import { attr, attrInt, dimsOf, toTensor, type GraphIndex, type NodeProto } from './onnx-model';

/** The activations the `QuantizedConv` epilogue computes. */
const CONV_ACTIVATIONS: Readonly<Record<string, 'relu'>> = { Relu: 'relu' };

/** `fits` of the dequantize chain for an NCHW output of `rank` dims: one value per channel (axis 1). */
function channelAxis(m: number, rank: number): (dims: number[]) => boolean {
  return (dims) => dims.length <= rank && dims.every((d, k) => (k === dims.length - rank + 1 ? d === m : d === 1));
}

/** The conv attributes of `n` in the kernels' form (src/kernels/conv-math.ts `ConvAttrs`). */
export function convAttrs(n: NodeProto): Record<string, unknown> {
  const ints = (name: string) => {
    const a = attr(n, name);
    return a?.ints && a.ints.length > 0 ? { [name]: a.ints.map(Number) } : {};
  };
  const autoPad = attr(n, 'auto_pad')?.s;
  const pad = autoPad && autoPad.length > 0 ? new TextDecoder().decode(autoPad) : 'NOTSET';
  const { dilations, kernel_shape: kernelShape, pads, strides } = { ...ints('dilations'), ...ints('kernel_shape'), ...ints('pads'), ...ints('strides') };
  return {
    ...(pad !== 'NOTSET' ? { autoPad: pad } : {}),
    ...(dilations ? { dilations } : {}),
    group: attrInt(n, 'group', 1),
    ...(kernelShape ? { kernelShape } : {}),
    ...(pads ? { pads } : {}),
    ...(strides ? { strides } : {}),
  };
}

/** Matches the `ConvInteger` at `i`; `dql` is the DynamicQuantizeLinear feeding its input, if any. */
export function matchConvInteger(ix: GraphIndex, i: number, types: Map<string, number>, dql: number | undefined): MatchResult {
  const c = ix.nodes[i]!;
  const [x = '', wName = '', xZp, wZp] = c.input ?? [];
  const w = ix.constants.get(wName);
  if (!w) return { reason: `weight w "${wName}" is not a constant` };
  if (w.dataType !== ONNX.UINT8 && w.dataType !== ONNX.INT8) return { reason: `weight w "${wName}" is not int8/uint8` };
  const wDims = dimsOf(w);
  if (wDims.length !== 3 && wDims.length !== 4) return { reason: `weight w has dims ${JSON.stringify(wDims)}; the conv kernels take 1-D and 2-D convs` };
  const m = wDims[0]!;
  const wz = zeroPoint(ix, wZp, m, w.dataType ?? undefined, 'w_zero_point');
  if (typeof wz === 'string') return { reason: wz };
  const attrs = convAttrs(c);
  const constants: Record<string, TensorLike> = { [dql === undefined ? 'w' : 'W']: toTensor(w), ...(wz ? { w_zero_point: wz } : {}) };
  if (dql !== undefined) {
    const d = ix.nodes[dql]!;
    if (xZp && xZp !== d.output?.[2]) return { reason: 'x_zero_point is not the zero point of the DynamicQuantizeLinear that quantized x' };
    const fused = matchDequantChain(ix, i, d, m, channelAxis(m, wDims.length), CONV_ACTIVATIONS);
    if ('reason' in fused) return { reason: `${fused.reason} (the DynamicQuantizeLinear → ConvInteger → Cast → Mul chain of quantize_dynamic)` };
    const ep = matchEpilogue(ix, fused.output);
    return {
      pattern: 'quantize_dynamic',
      nodes: [i, ...fused.nodes, ...ep.nodes],
      steps: [
        {
          kind: 'kernel',
          op: 'QuantizedConv',
          attrs: { ...attrs, ...(fused.activation ? { activation: fused.activation } : {}), ...(ep.ops.length > 0 ? { epilogue: ep.ops } : {}) },
          constants: { ...constants, w_scale: fused.bScale, ...(fused.bias ? { bias: fused.bias } : {}) },
          inputs: [x, d.output?.[1] ?? '', ...(xZp ? [xZp] : [])],
          outputs: [ep.output],
        },
      ],
    };
  }
  if (types.get(x) !== ONNX.UINT8) return { reason: `input x "${x}" is not uint8 (int8 cannot cross between ORT and a kernel)` };
  const inputs = [x];
  if (xZp) {
    const z = ix.constants.get(xZp);
    if (z) constants.x_zero_point = toTensor(z);
    else if (types.get(xZp) === ONNX.UINT8) inputs.push(xZp);
    else return { reason: 'x_zero_point is neither a constant nor uint8' };
  }
  return { pattern: 'ConvInteger', nodes: [i], steps: [{ kind: 'kernel', op: 'ConvInteger', attrs, constants, inputs, outputs: [c.output?.[0] ?? ''] }] };
}

/** A float Conv: always left to ORT, with the way to run it on the kernels. */
export function matchFloatConv(ix: GraphIndex, i: number): MatchResult {
  const w = ix.constants.get(ix.nodes[i]?.input?.[1] ?? '');
  const rank = w ? dimsOf(w).length : 0;
  if (rank > 4) return { reason: 'float Conv with a 3-D (or larger) kernel: the int8 conv kernels take 1-D and 2-D convs' };
  return { reason: 'float Conv: the int8 conv kernels run quantized convs; quantize its weight (webq8 quantize --ops MatMul,Conv)' };
}

/** `QLinearConv` with every operand but x constant (uint8 in and out: int8 cannot cross between ORT and a kernel). */
export function matchQLinearConv(ix: GraphIndex, i: number): MatchResult {
  const q = ix.nodes[i]!;
  const [x = '', xs = '', xz = '', wName = '', ws = '', wz, ys = '', yz = '', b] = q.input ?? [];
  for (const [name, what] of [
    [xs, 'x_scale'],
    [xz, 'x_zero_point'],
    [ys, 'y_scale'],
    [yz, 'y_zero_point'],
  ] as const)
    if (!ix.constants.has(name)) return { reason: `${what} is not a constant` };
  const w = ix.constants.get(wName);
  if (!w || (w.dataType !== ONNX.UINT8 && w.dataType !== ONNX.INT8)) return { reason: `weight w "${wName}" is not an int8/uint8 constant` };
  const wDims = dimsOf(w);
  if (wDims.length !== 3 && wDims.length !== 4) return { reason: `weight w has dims ${JSON.stringify(wDims)}; the conv kernels take 1-D and 2-D convs` };
  const m = wDims[0]!;
  if (ix.constants.get(xz)!.dataType !== ONNX.UINT8) return { reason: 'input x is int8 (int8 cannot cross between ORT and a kernel)' };
  if (ix.constants.get(yz)!.dataType !== ONNX.UINT8) return { reason: 'output y is int8 (int8 cannot cross between ORT and a kernel)' };
  const wScale = floatVector(ix, ws, m, 'w_scale');
  if (typeof wScale === 'string') return { reason: wScale };
  const wZp = zeroPoint(ix, wz, m, w.dataType ?? undefined, 'w_zero_point');
  if (typeof wZp === 'string') return { reason: wZp };
  const bias = b ? ix.constants.get(b) : undefined;
  if (b && (!bias || bias.dataType !== ONNX.INT32 || toTensor(bias).data.length !== m))
    return { reason: `bias B "${b}" is not an int32 constant of M = ${m} values` };
  const constants: Record<string, TensorLike> = {
    w: toTensor(w),
    x_scale: toTensor(ix.constants.get(xs)!),
    x_zero_point: toTensor(ix.constants.get(xz)!),
    w_scale: wScale,
    y_scale: toTensor(ix.constants.get(ys)!),
    y_zero_point: toTensor(ix.constants.get(yz)!),
    ...(wZp ? { w_zero_point: wZp } : {}),
    ...(bias ? { B: toTensor(bias) } : {}),
  };
  return {
    pattern: 'QLinearConv',
    nodes: [i],
    steps: [{ kind: 'kernel', op: 'QLinearConv', attrs: convAttrs(q), constants, inputs: [x], outputs: [q.output?.[0] ?? ''] }],
  };
}
