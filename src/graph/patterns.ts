/**
 * Finds the int8 matmul patterns webq8's kernels run (src/kernels/int8-ops.ts) in an indexed graph:
 *
 * - ORT `quantize_dynamic` output: `DynamicQuantizeLinear → MatMulInteger(const B, zero points) →
 *   Cast(float) → Mul(Mul(a_scale, const b_scale)) [→ Add(const bias)] [→ Relu | Tanh]` → one
 *   `QuantizedMatMul` step, with the DynamicQuantizeLinear as its own step shared by every matmul reading it;
 * - a `MatMulInteger` with a constant weight that is not part of that chain → `MatMulInteger` step;
 * - `QLinearMatMul` with constant scales, zero points and weight → `QLinearMatMul` step;
 * - QDQ `QuantizeLinear → DequantizeLinear → MatMul(·, DequantizeLinear(const W))` → a
 *   `QuantizedMatMul` step reading the quantized activation (src/graph/pattern-qdq.ts);
 * - the conv patterns (ConvInteger, QLinearConv, QDQ Conv): src/graph/pattern-conv.ts and
 *   src/graph/pattern-qdq-conv.ts.
 *
 * Anything else that looks like one of these and does not fit a kernel contract stays in ORT, with
 * the reason recorded. int8 (signed) activations never cross between ORT and a kernel: ORT's WebGPU
 * tensors have no int8 type.
 */
import { ONNX } from '../dtypes';
import type { Fallback, TensorLike } from '../types';
import { floatVector, int8Weight, lastAxis, matchDequantChain, nodeName, zeroPoint, type KernelGroup, type Matches, type MatchResult } from './match';
import { matchConvInteger, matchFloatConv, matchQLinearConv } from './pattern-conv';
import { dimsOf, toTensor, type GraphIndex, type NodeProto } from './onnx-model';
import { matchMatMulNBits } from './pattern-nbits';
import { matchQdq } from './pattern-qdq';
import { matchQdqConv } from './pattern-qdq-conv';

/** Activations the `QuantizedMatMul` epilogue computes (src/kernels/int8-ops.ts), by ONNX op type. */
const MATMUL_ACTIVATIONS: Readonly<Record<string, 'relu' | 'tanh'>> = { Relu: 'relu', Tanh: 'tanh' };

/** Matches every supported pattern in `ix`; `types` are the inferred element types. */
export function matchPatterns(ix: GraphIndex, types: Map<string, number>): Matches {
  const groups: KernelGroup[] = [];
  const fallbacks: Fallback[] = [];
  const claimed = new Set<number>();
  const dqlUsed = new Map<number, boolean>();
  const record = (i: number, r: MatchResult) => {
    const n = ix.nodes[i]!;
    if ('reason' in r) {
      fallbacks.push({ node: nodeName(n, i), op: n.opType ?? '', reason: r.reason });
      return;
    }
    if (r.nodes.some((k) => claimed.has(k))) {
      fallbacks.push({ node: nodeName(n, i), op: n.opType ?? '', reason: 'its nodes overlap another matched pattern' });
      return;
    }
    r.nodes.forEach((k) => claimed.add(k));
    groups.push(r);
  };
  ix.nodes.forEach((n, i) => {
    if (n.domain === 'com.microsoft' && n.opType === 'MatMulNBits') return record(i, matchMatMulNBits(ix, i));
    if (n.domain && n.domain !== 'ai.onnx') return;
    if (n.opType === 'MatMulInteger' || n.opType === 'ConvInteger') {
      const r = n.opType === 'ConvInteger' ? matchConvInteger(ix, i, types, dqlOf(ix, n)) : matchMatMulInteger(ix, i, types);
      if (!('reason' in r)) {
        const d = dqlOf(ix, n);
        if (d !== undefined) dqlUsed.set(d, true);
      }
      record(i, r);
    } else if (n.opType === 'QLinearMatMul') record(i, matchQLinearMatMul(ix, i));
    else if (n.opType === 'QLinearConv') record(i, matchQLinearConv(ix, i));
    else if (n.opType === 'Conv') record(i, matchQdqConv(ix, i, types) ?? matchFloatConv(ix, i));
    else if (n.opType === 'MatMul') {
      const r = matchQdq(ix, i, types);
      if (r) record(i, r);
    }
  });
  for (const d of dqlUsed.keys()) {
    const n = ix.nodes[d]!;
    if (claimed.has(d)) continue;
    const outs = [0, 1, 2].map((k) => n.output?.[k] || `${nodeName(n, d)}:${k}`);
    groups.push({
      pattern: 'DynamicQuantizeLinear',
      nodes: [d],
      steps: [{ kind: 'kernel', op: 'DynamicQuantizeLinear', attrs: {}, inputs: [n.input?.[0] ?? ''], outputs: outs }],
    });
    claimed.add(d);
  }
  return { groups, fallbacks };
}

/** The DynamicQuantizeLinear whose y is `m`'s first input, if any. */
export function dqlOf(ix: GraphIndex, m: NodeProto): number | undefined {
  const p = ix.producer.get(m.input?.[0] ?? '');
  const d = p === undefined ? undefined : ix.nodes[p];
  return d && d.opType === 'DynamicQuantizeLinear' && !d.domain && d.output?.[0] === m.input?.[0] ? p : undefined;
}

function matchMatMulInteger(ix: GraphIndex, i: number, types: Map<string, number>): MatchResult {
  const m = ix.nodes[i]!;
  const [a = '', b = '', aZp, bZp] = m.input ?? [];
  const w = int8Weight(ix, b, 'weight B');
  if (typeof w === 'string') return { reason: w };
  const n = dimsOf(w)[1]!;
  const bz = zeroPoint(ix, bZp, n, w.dataType ?? undefined, 'b_zero_point');
  if (typeof bz === 'string') return { reason: bz };
  const constants: Record<string, TensorLike> = { B: toTensor(w), ...(bz ? { b_zero_point: bz } : {}) };
  const d = dqlOf(ix, m);
  const dql = d === undefined ? undefined : ix.nodes[d]!;
  if (dql && aZp && aZp !== dql.output?.[2]) return { reason: 'a_zero_point is not the zero point of the DynamicQuantizeLinear that quantized A' };
  if (dql) {
    const fused = matchDequantChain(ix, i, dql, n, lastAxis(n), MATMUL_ACTIVATIONS);
    if (!('reason' in fused)) {
      const inputs = [a, dql.output?.[1] ?? '', ...(aZp ? [aZp] : [])];
      return {
        pattern: 'quantize_dynamic',
        nodes: [i, ...fused.nodes],
        steps: [
          {
            kind: 'kernel',
            op: 'QuantizedMatMul',
            attrs: fused.activation ? { activation: fused.activation } : {},
            constants: { ...constants, b_scale: fused.bScale, ...(fused.bias ? { bias: fused.bias } : {}) },
            inputs,
            outputs: [fused.output],
          },
        ],
      };
    }
  }
  if (types.get(a) !== ONNX.UINT8) return { reason: `activation A "${a}" is not uint8 (int8 cannot cross between ORT and a kernel)` };
  const inputs = [a];
  if (aZp) {
    const az = ix.constants.get(aZp);
    if (az) constants.a_zero_point = toTensor(az);
    else if (types.get(aZp) === ONNX.UINT8) inputs.push(aZp);
    else return { reason: 'a_zero_point is neither a constant nor uint8' };
  }
  return {
    pattern: 'MatMulInteger',
    nodes: [i],
    steps: [{ kind: 'kernel', op: 'MatMulInteger', attrs: {}, constants, inputs, outputs: [m.output?.[0] ?? ''] }],
  };
}

function matchQLinearMatMul(ix: GraphIndex, i: number): MatchResult {
  const q = ix.nodes[i]!;
  const [a = '', aScale, aZp, b = '', bScale = '', bZp, yScale, yZp] = q.input ?? [];
  for (const [name, what] of [
    [aScale, 'a_scale'],
    [aZp, 'a_zero_point'],
    [yScale, 'y_scale'],
    [yZp, 'y_zero_point'],
  ] as const) {
    if (!name || !ix.constants.has(name)) return { reason: `${what} is not a constant` };
  }
  const w = int8Weight(ix, b, 'weight b');
  if (typeof w === 'string') return { reason: w };
  const n = dimsOf(w)[1]!;
  const az = ix.constants.get(aZp!)!;
  const yz = ix.constants.get(yZp!)!;
  if (az.dataType !== ONNX.UINT8) return { reason: 'activation a is int8 (int8 cannot cross between ORT and a kernel)' };
  if (yz.dataType !== ONNX.UINT8) return { reason: 'output y is int8 (int8 cannot cross between ORT and a kernel)' };
  if (toTensor(az).data.length !== 1) return { reason: 'a_zero_point is per-row; the kernel takes a scalar here' };
  const bs = floatVector(ix, bScale, n, 'b_scale');
  if (typeof bs === 'string') return { reason: bs };
  const bz = zeroPoint(ix, bZp, n, w.dataType ?? undefined, 'b_zero_point');
  if (typeof bz === 'string') return { reason: bz };
  const constants: Record<string, TensorLike> = {
    a_scale: toTensor(ix.constants.get(aScale!)!),
    a_zero_point: toTensor(az),
    b: toTensor(w),
    b_scale: bs,
    y_scale: toTensor(ix.constants.get(yScale!)!),
    y_zero_point: toTensor(yz),
    ...(bz ? { b_zero_point: bz } : {}),
  };
  return {
    pattern: 'QLinearMatMul',
    nodes: [i],
    steps: [{ kind: 'kernel', op: 'QLinearMatMul', attrs: {}, constants, inputs: [a], outputs: [q.output?.[0] ?? ''] }],
  };
}
