/**
 * The QDQ conv pattern: `Conv(DequantizeLinear(q, s_x, zp_x), DequantizeLinear(const W, s_w, zp_w)
 * [, bias])`, where `q` is a uint8 activation computed in ORT (a `QuantizeLinear`) and `W` a
 * constant int8/uint8 `[M, C/group, (KH,) KW]` weight with one scale (and zero point) per tensor or
 * per output channel (axis 0). Since `Σ (q − zp_x)·s_x · (W − zp_w)·s_w = s_x·s_w · ConvInteger(q, W)`,
 * it becomes one `QuantizedConv` step reading `q` (float32 out: `f32(Y)·(s_x·s_w[m]) + bias[m]`).
 * The bias may be a float32 constant or `DequantizeLinear(const int32 b, s_b[, zp_b])` (dequantized
 * here as ORT does, `f32(b − zp_b)·s_b`). As with QDQ matmuls, the ORT segment that computes `q`
 * also outputs `s_x` and `zp_x` for the kernel (`KernelGroup.hoist`).
 *
 * A weight-only QDQ conv (float activation) stays in ORT and says so: the conv kernels read
 * quantized activations.
 */
import { ONNX } from '../dtypes';
import type { TensorLike } from '../types';
import { floatVector, soleConsumer, zeroPoint, type MatchResult } from './match';
import { attrInt, dimsOf, toTensor, type GraphIndex } from './onnx-model';
import { convAttrs } from './pattern-conv';
import { HOIST_SUFFIX, nodeAt } from './pattern-qdq';

/** The bias of a QDQ conv as float32 `[M]`, its DequantizeLinear node if any, or why not. */
function qdqBias(ix: GraphIndex, name: string | undefined, m: number): { bias?: TensorLike; node?: number } | string {
  if (!name) return {};
  const direct = ix.constants.get(name);
  if (direct) {
    if (direct.dataType !== ONNX.FLOAT || toTensor(direct).data.length !== m) return `bias "${name}" is not a float32 constant of M = ${m} values`;
    return { bias: toTensor(direct) };
  }
  const d = nodeAt(ix, name, 'DequantizeLinear');
  const [bq = '', bs = '', bz] = d === undefined ? [] : (ix.nodes[d]!.input ?? []);
  const b = ix.constants.get(bq);
  const s = ix.constants.get(bs);
  const z = bz ? ix.constants.get(bz) : undefined;
  if (d === undefined || !b || b.dataType !== ONNX.INT32 || !s || s.dataType !== ONNX.FLOAT || (bz && !z))
    return `bias "${name}" is neither a float32 constant nor DequantizeLinear of constant int32 values`;
  const [bv, sv, zv] = [toTensor(b).data, toTensor(s).data, z ? toTensor(z).data : [0]];
  if (bv.length !== m || (sv.length !== 1 && sv.length !== m) || (zv.length !== 1 && zv.length !== m)) return `bias "${name}" does not have M = ${m} values`;
  const at = (v: ArrayLike<number | bigint>, j: number) => Number(v.length === 1 ? v[0] : v[j]);
  const data = Float32Array.from({ length: m }, (_, j) => Math.fround(Math.fround(at(bv, j) - at(zv, j)) * at(sv, j)));
  return { bias: { type: 'float32', dims: [m], data }, node: d };
}

/** Matches the QDQ pattern at Conv node `i`; undefined when its weight is not dequantized (a float Conv). */
export function matchQdqConv(ix: GraphIndex, i: number, types: Map<string, number>): MatchResult | undefined {
  const conv = ix.nodes[i]!;
  const [x = '', w = '', b] = conv.input ?? [];
  const dqW = nodeAt(ix, w, 'DequantizeLinear');
  if (dqW === undefined) return undefined;
  const [wq = '', ws = '', wz] = ix.nodes[dqW]!.input ?? [];
  const weight = ix.constants.get(wq);
  if (!weight || (weight.dataType !== ONNX.UINT8 && weight.dataType !== ONNX.INT8)) return { reason: `QDQ conv weight "${wq}" is not an int8/uint8 constant` };
  const wDims = dimsOf(weight);
  if (wDims.length !== 3 && wDims.length !== 4) return { reason: `QDQ conv weight has dims ${JSON.stringify(wDims)}; the conv kernels take 1-D and 2-D convs` };
  const m = wDims[0]!;
  const dqA = nodeAt(ix, x, 'DequantizeLinear');
  if (dqA === undefined)
    return {
      reason: 'weight-only QDQ Conv (float activation): the int8 conv kernels read a quantized activation; quantize it (QuantizeLinear → DequantizeLinear)',
    };
  const wScale = floatVector(ix, ws, m, 'QDQ conv weight scale');
  if (typeof wScale === 'string') return { reason: wScale };
  const axis = attrInt(ix.nodes[dqW]!, 'axis', 1);
  if (wScale.data.length > 1 && axis !== 0)
    return { reason: `per-axis weight scale on axis ${axis}; the conv kernels take one scale per output channel (axis 0)` };
  const wZp = zeroPoint(ix, wz, m, weight.dataType ?? undefined, 'QDQ conv weight zero point');
  if (typeof wZp === 'string') return { reason: wZp };
  const bias = qdqBias(ix, b, m);
  if (typeof bias === 'string') return { reason: bias };

  const [q = '', as = '', az] = ix.nodes[dqA]!.input ?? [];
  const aScale = ix.constants.get(as);
  const aZp = az ? ix.constants.get(az) : undefined;
  if (!aScale || aScale.dataType !== ONNX.FLOAT || toTensor(aScale).data.length !== 1)
    return { reason: 'the activation scale is not a float32 scalar constant' };
  if ((az && (!aZp || aZp.dataType !== ONNX.UINT8 || toTensor(aZp).data.length !== 1)) || types.get(q) !== ONNX.UINT8)
    return { reason: 'the quantized activation or its zero point is not uint8 (int8 cannot cross between ORT and a kernel)' };
  if (ix.producer.get(q) === undefined || ix.constantNode.has(q)) return { reason: 'the quantized activation is not computed by a node' };

  const nodes = [i];
  for (const [value, node] of [
    [w, dqW],
    [x, dqA],
    [b ?? '', bias.node],
  ] as const)
    if (node !== undefined && soleConsumer(ix, value) === i) nodes.push(node);
  const hoist = [{ after: q, constant: as, as: as + HOIST_SUFFIX }];
  if (az) hoist.push({ after: q, constant: az, as: az + HOIST_SUFFIX });
  const constants = { W: toTensor(weight), w_scale: wScale, ...(wZp ? { w_zero_point: wZp } : {}), ...(bias.bias ? { bias: bias.bias } : {}) };
  const inputs = [q, as + HOIST_SUFFIX, ...(az ? [az + HOIST_SUFFIX] : [])];
  return {
    pattern: 'qdq',
    nodes,
    hoist,
    steps: [{ kind: 'kernel', op: 'QuantizedConv', attrs: convAttrs(conv), constants, inputs, outputs: [conv.output?.[0] ?? ''] }],
  };
}
