/**
 * Finds the int8 matmul patterns webq8's kernels run (src/kernels/int8-ops.ts) in an indexed graph:
 *
 * - ORT `quantize_dynamic` output: `DynamicQuantizeLinear → MatMulInteger(const B, zero points) →
 *   Cast(float) → Mul(Mul(a_scale, const b_scale)) [→ Add(const bias)] [→ Relu | Tanh]` → one
 *   `QuantizedMatMul` step, with the DynamicQuantizeLinear as its own step shared by every matmul reading it;
 * - a `MatMulInteger` with a constant weight that is not part of that chain → `MatMulInteger` step;
 * - `QLinearMatMul` with constant scales, zero points and weight → `QLinearMatMul` step;
 * - QDQ `QuantizeLinear → DequantizeLinear → MatMul(·, DequantizeLinear(const W))` → a
 *   `QuantizedMatMul` step reading the quantized activation (src/graph/pattern-qdq.ts).
 *
 * Anything else that looks like one of these and does not fit a kernel contract stays in ORT, with
 * the reason recorded. int8 (signed) activations never cross between ORT and a kernel: ORT's WebGPU
 * tensors have no int8 type.
 */
import type { KernelStep } from './plan';
import { attrInt, dimsOf, toTensor, type GraphIndex, type NodeProto, type TensorProto } from './onnx-model';
import { matchQdq } from './pattern-qdq';
import type { TensorLike } from '../types';

/** Nodes replaced by kernel steps. */
export interface KernelGroup {
  /** Which pattern matched. */
  pattern: 'quantize_dynamic' | 'MatMulInteger' | 'QLinearMatMul' | 'qdq' | 'DynamicQuantizeLinear';
  /** Indices of the nodes this group replaces. */
  nodes: number[];
  /** The kernel steps, inputs/outputs named by graph value names. */
  steps: KernelStep[];
  /**
   * Constants a step reads as GPU values: the partitioner makes the ORT segment that produces
   * `after` also output `constant` (through an Identity) under the name `as`.
   */
  hoist?: { after: string; constant: string; as: string }[];
}

/** A candidate node left to ORT, and why. */
export interface Fallback {
  node: string;
  op: string;
  reason: string;
}

/** Result of {@link matchPatterns}. */
export interface Matches {
  groups: KernelGroup[];
  fallbacks: Fallback[];
}

/** A group or the reason there is none. */
export type MatchResult = KernelGroup | { reason: string };

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
    if (n.domain && n.domain !== 'ai.onnx') return;
    if (n.opType === 'MatMulInteger') {
      const r = matchMatMulInteger(ix, i, types);
      if (!('reason' in r)) {
        const d = dqlOf(ix, n);
        if (d !== undefined) dqlUsed.set(d, true);
      }
      record(i, r);
    } else if (n.opType === 'QLinearMatMul') record(i, matchQLinearMatMul(ix, i));
    else if (n.opType === 'MatMul') {
      const r = matchQdq(ix, i);
      if (r) record(i, r);
    }
  });
  for (const d of dqlUsed.keys()) {
    const n = ix.nodes[d]!;
    if (claimed.has(d)) continue;
    const outs = [0, 1, 2].map((k) => n.output?.[k] || `${nodeName(n, d)}:${k}`);
    groups.push({ pattern: 'DynamicQuantizeLinear', nodes: [d], steps: [{ kind: 'kernel', op: 'DynamicQuantizeLinear', attrs: {}, inputs: [n.input?.[0] ?? ''], outputs: outs }] });
    claimed.add(d);
  }
  return { groups, fallbacks };
}

/** A node's name, or a stable stand-in. */
export function nodeName(n: NodeProto, i: number): string {
  return n.name || `${n.opType ?? 'node'}_${i}`;
}

function dqlOf(ix: GraphIndex, m: NodeProto): number | undefined {
  const p = ix.producer.get(m.input?.[0] ?? '');
  const d = p === undefined ? undefined : ix.nodes[p];
  return d && d.opType === 'DynamicQuantizeLinear' && !d.domain && d.output?.[0] === m.input?.[0] ? p : undefined;
}

/** The single consumer of `value`, if it has exactly one and `value` is not a graph output. */
export function soleConsumer(ix: GraphIndex, value: string): number | undefined {
  const c = ix.consumers.get(value) ?? [];
  return c.length === 1 && !ix.graphOutputs.has(value) ? c[0] : undefined;
}

/** Checks an int8/uint8 2-D constant weight; returns it, or a reason. */
export function int8Weight(ix: GraphIndex, name: string, what: string): TensorProto | string {
  const t = ix.constants.get(name);
  if (!t) return `${what} "${name}" is not a constant`;
  if (t.dataType !== 2 && t.dataType !== 3) return `${what} "${name}" is not int8/uint8`;
  if (dimsOf(t).length !== 2) return `${what} "${name}" has dims ${JSON.stringify(dimsOf(t))}; kernels take a 2-D [K, N] weight`;
  return t;
}

/** A float32 constant with 1 or `n` elements (scale, bias), or a reason. */
export function floatVector(ix: GraphIndex, name: string, n: number, what: string): TensorLike | string {
  const t = ix.constants.get(name);
  if (!t) return `${what} "${name}" is not a constant`;
  if (t.dataType !== 1) return `${what} "${name}" is not float32`;
  const v = toTensor(t);
  if (v.data.length !== 1 && v.data.length !== n) return `${what} "${name}" has ${v.data.length} values; it needs 1 or ${n}`;
  return v;
}

/** An optional zero-point constant matching `type` with 1 or `n` elements; undefined when absent. */
export function zeroPoint(ix: GraphIndex, name: string | undefined, n: number, type: number | undefined, what: string): TensorLike | undefined | string {
  if (!name) return undefined;
  const t = ix.constants.get(name);
  if (!t) return `${what} "${name}" is not a constant`;
  if (type !== undefined && t.dataType !== type) return `${what} "${name}" has a different type than its tensor`;
  const v = toTensor(t);
  if (v.data.length !== 1 && v.data.length !== n) return `${what} "${name}" has ${v.data.length} values; it needs 1 or ${n}`;
  return v;
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
    const fused = matchDequantChain(ix, i, dql, n);
    if (!('reason' in fused)) {
      const inputs = [a, dql.output?.[1] ?? '', ...(aZp ? [aZp] : [])];
      return { pattern: 'quantize_dynamic', nodes: [i, ...fused.nodes], steps: [{ kind: 'kernel', op: 'QuantizedMatMul', attrs: fused.activation ? { activation: fused.activation } : {}, constants: { ...constants, b_scale: fused.bScale, ...(fused.bias ? { bias: fused.bias } : {}) }, inputs, outputs: [fused.output] }] };
    }
  }
  if (types.get(a) !== 2) return { reason: `activation A "${a}" is not uint8 (int8 cannot cross between ORT and a kernel)` };
  const inputs = [a];
  if (aZp) {
    const az = ix.constants.get(aZp);
    if (az) constants.a_zero_point = toTensor(az);
    else if (types.get(aZp) === 2) inputs.push(aZp);
    else return { reason: 'a_zero_point is neither a constant nor uint8' };
  }
  return { pattern: 'MatMulInteger', nodes: [i], steps: [{ kind: 'kernel', op: 'MatMulInteger', attrs: {}, constants, inputs, outputs: [m.output?.[0] ?? ''] }] };
}

/** `MatMulInteger → Cast(float) → Mul(Mul(a_scale, const b_scale)) [→ Add(const bias)] [→ Relu | Tanh]`. */
function matchDequantChain(ix: GraphIndex, i: number, dql: NodeProto, n: number): { nodes: number[]; bScale: TensorLike; bias?: TensorLike; activation?: 'relu' | 'tanh'; output: string } | { reason: string } {
  const m = ix.nodes[i]!;
  const c = soleConsumer(ix, m.output?.[0] ?? '');
  const cast = c === undefined ? undefined : ix.nodes[c];
  if (c === undefined || cast?.opType !== 'Cast' || attrInt(cast, 'to', 0) !== 1) return { reason: 'MatMulInteger is not followed by a lone Cast to float' };
  const castOut = cast.output?.[0] ?? '';
  const u = soleConsumer(ix, castOut);
  const mul = u === undefined ? undefined : ix.nodes[u];
  if (u === undefined || mul?.opType !== 'Mul') return { reason: 'the Cast is not followed by a lone Mul' };
  const other = mul.input?.[0] === castOut ? mul.input?.[1] : mul.input?.[0];
  const s = ix.producer.get(other ?? '');
  const sm = s === undefined ? undefined : ix.nodes[s];
  if (s === undefined || sm?.opType !== 'Mul') return { reason: 'the scale is not Mul(a_scale, b_scale)' };
  const [s0, s1] = sm.input ?? [];
  const aScale = dql.output?.[1];
  const bName = s0 === aScale ? s1 : s1 === aScale ? s0 : undefined;
  if (!bName) return { reason: "the scale Mul does not read the DynamicQuantizeLinear's scale" };
  const bScale = floatVector(ix, bName, n, 'b_scale');
  if (typeof bScale === 'string') return { reason: bScale };
  const nodes = [c, u];
  const ownScaleMul = (ix.consumers.get(sm.output?.[0] ?? '') ?? []).length === 1 && !ix.graphOutputs.has(sm.output?.[0] ?? '');
  if (ownScaleMul) nodes.push(s);
  let output = mul.output?.[0] ?? '';
  let bias: TensorLike | undefined;
  const addIdx = soleConsumer(ix, output);
  const add = addIdx === undefined ? undefined : ix.nodes[addIdx];
  if (addIdx !== undefined && add?.opType === 'Add') {
    const t = ix.constants.get((add.input?.[0] === output ? add.input?.[1] : add.input?.[0]) ?? '');
    const dims = t ? dimsOf(t) : [];
    // Only a bias broadcast along the last axis ([N], [1, N], ...) folds into the epilogue.
    if (t && t.dataType === 1 && dims.length >= 1 && dims.every((d, k) => (k === dims.length - 1 ? d === n : d === 1))) {
      bias = toTensor(t);
      nodes.push(addIdx);
      output = add.output?.[0] ?? '';
    }
  }
  // A lone Relu/Tanh after the chain folds into the epilogue too: one ORT segment fewer per layer.
  const actIdx = soleConsumer(ix, output);
  const act = actIdx === undefined ? undefined : ix.nodes[actIdx];
  const activation = act && !act.domain ? FUSED_ACTIVATIONS[act.opType ?? ''] : undefined;
  if (actIdx !== undefined && activation) {
    nodes.push(actIdx);
    output = act?.output?.[0] ?? '';
  }
  return { nodes, bScale, ...(bias ? { bias } : {}), ...(activation ? { activation } : {}), output };
}

/** Activations the `QuantizedMatMul` epilogue computes (src/kernels/int8-ops.ts), by ONNX op type. */
const FUSED_ACTIVATIONS: Readonly<Record<string, 'relu' | 'tanh'>> = { Relu: 'relu', Tanh: 'tanh' };

function matchQLinearMatMul(ix: GraphIndex, i: number): MatchResult {
  const q = ix.nodes[i]!;
  const [a = '', aScale, aZp, b = '', bScale = '', bZp, yScale, yZp] = q.input ?? [];
  for (const [name, what] of [[aScale, 'a_scale'], [aZp, 'a_zero_point'], [yScale, 'y_scale'], [yZp, 'y_zero_point']] as const) {
    if (!name || !ix.constants.has(name)) return { reason: `${what} is not a constant` };
  }
  const w = int8Weight(ix, b, 'weight b');
  if (typeof w === 'string') return { reason: w };
  const n = dimsOf(w)[1]!;
  const az = ix.constants.get(aZp!)!;
  const yz = ix.constants.get(yZp!)!;
  if (az.dataType !== 2) return { reason: 'activation a is int8 (int8 cannot cross between ORT and a kernel)' };
  if (yz.dataType !== 2) return { reason: 'output y is int8 (int8 cannot cross between ORT and a kernel)' };
  if (toTensor(az).data.length !== 1) return { reason: 'a_zero_point is per-row; the kernel takes a scalar here' };
  const bs = floatVector(ix, bScale, n, 'b_scale');
  if (typeof bs === 'string') return { reason: bs };
  const bz = zeroPoint(ix, bZp, n, w.dataType ?? undefined, 'b_zero_point');
  if (typeof bz === 'string') return { reason: bz };
  const constants: Record<string, TensorLike> = {
    a_scale: toTensor(ix.constants.get(aScale!)!), a_zero_point: toTensor(az), b: toTensor(w), b_scale: bs,
    y_scale: toTensor(ix.constants.get(yScale!)!), y_zero_point: toTensor(yz), ...(bz ? { b_zero_point: bz } : {}),
  };
  return { pattern: 'QLinearMatMul', nodes: [i], steps: [{ kind: 'kernel', op: 'QLinearMatMul', attrs: {}, constants, inputs: [a], outputs: [q.output?.[0] ?? ''] }] };
}
