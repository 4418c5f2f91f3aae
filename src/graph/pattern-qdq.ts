/**
 * The QDQ matmul pattern: `MatMul(DequantizeLinear(q, s_a, zp_a), DequantizeLinear(const W, s_w, zp_w))`
 * where `q` is a uint8 activation (from a `QuantizeLinear` in ORT) and `W` a constant int8/uint8
 * `[K, N]` weight. Since `(q − zp_a)·s_a · (W − zp_w)·s_w` summed over K equals
 * `s_a·s_w · MatMulInteger(q, W)`, it becomes one `QuantizedMatMul` step reading `q`. The kernel
 * takes `a_scale`/`a_zero_point` as GPU values, so the ORT segment that produces `q` also outputs
 * them (see `KernelGroup.hoist`).
 *
 * Weight-only QDQ (a float activation) stays in ORT: our kernels need an int8 activation, and
 * quantizing it ourselves would change the model's numbers.
 */
import { attr, attrInt, dimsOf, toTensor, type GraphIndex } from './onnx-model';
import { ONNX } from '../dtypes';
import { floatVector, int8Weight, soleConsumer, zeroPoint, type MatchResult } from './match';

const HOIST_SUFFIX = '::webq8';

/** Matches the QDQ pattern at MatMul node `i`; undefined when the MatMul is not QDQ at all. */
export function matchQdq(ix: GraphIndex, i: number): MatchResult | undefined {
  const mm = ix.nodes[i]!;
  const [x = '', w = ''] = mm.input ?? [];
  const dqW = nodeAt(ix, w, 'DequantizeLinear');
  if (dqW === undefined) return undefined;
  const dq = ix.nodes[dqW]!;
  const [wq = '', ws = '', wz] = dq.input ?? [];
  const weight = int8Weight(ix, wq, 'QDQ weight');
  if (typeof weight === 'string') return { reason: weight };
  const n = dimsOf(weight)[1]!;
  if (attr(dq, 'block_size') && attrInt(dq, 'block_size', 0) > 0) return { reason: 'blocked DequantizeLinear weights are not supported by the kernels' };
  const axis = attrInt(dq, 'axis', 1);
  const bScale = floatVector(ix, ws, n, 'weight scale');
  if (typeof bScale === 'string') return { reason: bScale };
  if (bScale.data.length > 1 && axis !== 1 && axis !== -1) return { reason: `per-axis weight scale on axis ${axis}; kernels take per-column (axis 1) scales` };
  const bz = zeroPoint(ix, wz, n, weight.dataType ?? undefined, 'weight zero point');
  if (typeof bz === 'string') return { reason: bz };

  const dqA = nodeAt(ix, x, 'DequantizeLinear');
  if (dqA === undefined) return { reason: 'weight-only QDQ: the activation is float, and the kernels need a quantized activation' };
  const da = ix.nodes[dqA]!;
  const [q = '', as = '', az] = da.input ?? [];
  const aScale = ix.constants.get(as);
  const aZp = az ? ix.constants.get(az) : undefined;
  if (!aScale || aScale.dataType !== ONNX.FLOAT || toTensor(aScale).data.length !== 1) return { reason: 'the activation scale is not a float32 scalar constant' };
  if (az && (!aZp || aZp.dataType !== ONNX.UINT8 || toTensor(aZp).data.length !== 1)) return { reason: 'the activation zero point is not a uint8 scalar constant (int8 cannot cross between ORT and a kernel)' };
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

function nodeAt(ix: GraphIndex, value: string, op: string): number | undefined {
  const p = ix.producer.get(value);
  const n = p === undefined ? undefined : ix.nodes[p];
  return n && n.opType === op && !n.domain ? p : undefined;
}
