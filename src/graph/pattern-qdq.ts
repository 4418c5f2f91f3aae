/**
 * The QDQ matmul pattern: `MatMul(DequantizeLinear(q, s_a, zp_a), DequantizeLinear(const W, s_w, zp_w))`
 * where `q` is a uint8 activation (from a `QuantizeLinear` in ORT) and `W` a constant int8/uint8
 * `[K, N]` weight. Since `(q − zp_a)·s_a · (W − zp_w)·s_w` summed over K equals
 * `s_a·s_w · MatMulInteger(q, W)`, it becomes one `QuantizedMatMul` step reading `q`. The kernel
 * takes `a_scale`/`a_zero_point` as GPU values, so the ORT segment that produces `q` also outputs
 * them (see `KernelGroup.hoist`).
 *
 * Weight-only QDQ (a float activation, `MatMul(X, DequantizeLinear(const W))`) becomes a
 * `WeightOnlyMatMul` step (src/kernels/w8a32-ops.ts): the weights stay int8 on the GPU and are
 * dequantized in registers; the activation stays float, so the model's numbers do not change.
 * Per-tensor, per-column (axis 1) and blocked-along-K (axis 0, `block_size`) scales are taken.
 */
import { attr, attrInt, dimsOf, toTensor, type GraphIndex, type TensorProto } from './onnx-model';
import { ONNX } from '../dtypes';
import { floatVector, int8Weight, soleConsumer, zeroPoint, type MatchResult } from './match';

export const HOIST_SUFFIX = '::webq8';

/** Matches the QDQ pattern at MatMul node `i`; undefined when the MatMul is not QDQ at all. */
export function matchQdq(ix: GraphIndex, i: number, types: Map<string, number>): MatchResult | undefined {
  const mm = ix.nodes[i]!;
  const [x = '', w = ''] = mm.input ?? [];
  const dqW = nodeAt(ix, w, 'DequantizeLinear');
  if (dqW === undefined) return undefined;
  const dq = ix.nodes[dqW]!;
  const [wq = '', ws = '', wz] = dq.input ?? [];
  const weight = int8Weight(ix, wq, 'QDQ weight');
  if (typeof weight === 'string') return { reason: weight };
  const n = dimsOf(weight)[1]!;
  if (nodeAt(ix, x, 'DequantizeLinear') === undefined) return matchWeightOnly(ix, i, dqW, weight, types);
  if (attr(dq, 'block_size') && attrInt(dq, 'block_size', 0) > 0)
    return { reason: 'blocked DequantizeLinear weights with a quantized activation are not supported by the kernels' };
  const axis = attrInt(dq, 'axis', 1);
  const bScale = floatVector(ix, ws, n, 'weight scale');
  if (typeof bScale === 'string') return { reason: bScale };
  if (bScale.data.length > 1 && axis !== 1 && axis !== -1) return { reason: `per-axis weight scale on axis ${axis}; kernels take per-column (axis 1) scales` };
  const bz = zeroPoint(ix, wz, n, weight.dataType ?? undefined, 'weight zero point');
  if (typeof bz === 'string') return { reason: bz };

  const dqA = nodeAt(ix, x, 'DequantizeLinear')!;
  const da = ix.nodes[dqA]!;
  const [q = '', as = '', az] = da.input ?? [];
  const aScale = ix.constants.get(as);
  const aZp = az ? ix.constants.get(az) : undefined;
  if (!aScale || aScale.dataType !== ONNX.FLOAT || toTensor(aScale).data.length !== 1)
    return { reason: 'the activation scale is not a float32 scalar constant' };
  if (az && (!aZp || aZp.dataType !== ONNX.UINT8 || toTensor(aZp).data.length !== 1))
    return { reason: 'the activation zero point is not a uint8 scalar constant (int8 cannot cross between ORT and a kernel)' };
  const qProducer = ix.producer.get(q);
  if (qProducer === undefined || ix.constantNode.has(q)) return { reason: 'the quantized activation is not computed by a node' };

  const nodes = [i];
  if (soleConsumer(ix, w) === i) nodes.push(dqW);
  if (soleConsumer(ix, x) === i) nodes.push(dqA);
  const hoist = [{ after: q, constant: as, as: as + HOIST_SUFFIX }];
  if (az) hoist.push({ after: q, constant: az, as: az + HOIST_SUFFIX });
  const constants = { B: toTensor(weight), b_scale: bScale, ...(bz ? { b_zero_point: bz } : {}) };
  const inputs = [q, as + HOIST_SUFFIX, ...(az ? [az + HOIST_SUFFIX] : [])];
  return { pattern: 'qdq', nodes, hoist, steps: [{ kind: 'kernel', op: 'QuantizedMatMul', attrs: {}, constants, inputs, outputs: [mm.output?.[0] ?? ''] }] };
}

/** `MatMul(X float32, DequantizeLinear(const W))` → a `WeightOnlyMatMul` step (see the module comment). */
function matchWeightOnly(ix: GraphIndex, i: number, dqW: number, weight: TensorProto, types: Map<string, number>): MatchResult {
  const mm = ix.nodes[i]!;
  const dq = ix.nodes[dqW]!;
  const [x = ''] = mm.input ?? [];
  const [, ws = '', wz] = dq.input ?? [];
  const [k, n] = dimsOf(weight) as [number, number];
  if (types.get(x) !== ONNX.FLOAT) return { reason: 'weight-only QDQ: the activation is not float32' };
  const block = attrInt(dq, 'block_size', 0);
  const axis = ((attrInt(dq, 'axis', 1) % 2) + 2) % 2;
  const st = ix.constants.get(ws);
  if (!st || st.dataType !== ONNX.FLOAT) return { reason: `weight scale "${ws}" is not a float32 constant` };
  const scale = toTensor(st);
  const blocks = block > 0 ? Math.ceil(k / block) : 1;
  if (block > 0 && axis !== 0) return { reason: `blocked weight scales along axis ${axis}; the kernels take blocks along K (axis 0)` };
  if (block > 0 && scale.data.length !== blocks * n) return { reason: `blocked weight scale has ${scale.data.length} values; [${blocks}, ${n}] expected` };
  if (block === 0 && scale.data.length !== 1 && !(axis === 1 && scale.data.length === n))
    return { reason: 'per-row (axis 0) weight scales are not supported by the kernels' };
  const zp = wz ? ix.constants.get(wz) : undefined;
  if (wz && (!zp || zp.dataType !== weight.dataType || toTensor(zp).data.length !== scale.data.length))
    return { reason: 'the weight zero point is not a constant shaped like the scale with the weight type' };
  const nodes = soleConsumer(ix, mm.input?.[1] ?? '') === i ? [i, dqW] : [i];
  const constants = { W: toTensor(weight), scale, ...(zp ? { zero_point: toTensor(zp) } : {}) };
  const step = {
    kind: 'kernel' as const,
    op: 'WeightOnlyMatMul',
    attrs: block > 0 ? { block_size: block } : {},
    constants,
    inputs: [x],
    outputs: [mm.output?.[0] ?? ''],
  };
  return { pattern: 'qdq-weight-only', nodes, steps: [step] };
}

export function nodeAt(ix: GraphIndex, value: string, op: string): number | undefined {
  const p = ix.producer.get(value);
  const n = p === undefined ? undefined : ix.nodes[p];
  return n && n.opType === op && !n.domain ? p : undefined;
}
