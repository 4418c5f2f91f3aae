/**
 * What the pattern matchers share: the shape of a match ({@link KernelGroup}), and the checks every
 * int8 matmul pattern makes on its constant operands. Matchers live in patterns.ts (quantize_dynamic,
 * MatMulInteger, QLinearMatMul) and pattern-qdq.ts (QDQ); both import from here, never each other.
 */
import { ONNX } from '../dtypes';
import type { Fallback, KernelPattern, TensorLike } from '../types';
import { attrInt, dimsOf, toTensor, type GraphIndex, type NodeProto, type TensorProto } from './onnx-model';
import type { KernelStep } from './plan';

/** Nodes replaced by kernel steps. */
export interface KernelGroup {
  /** Which pattern matched. */
  pattern: KernelPattern;
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

/** Result of {@link matchPatterns}. */
export interface Matches {
  groups: KernelGroup[];
  fallbacks: Fallback[];
}

/** A group or the reason there is none. */
export type MatchResult = KernelGroup | { reason: string };

/** A node's name, or a stable stand-in. */
export function nodeName(n: NodeProto, i: number): string {
  return n.name || `${n.opType ?? 'node'}_${i}`;
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
  if (t.dataType !== ONNX.UINT8 && t.dataType !== ONNX.INT8) return `${what} "${name}" is not int8/uint8`;
  if (dimsOf(t).length !== 2) return `${what} "${name}" has dims ${JSON.stringify(dimsOf(t))}; kernels take a 2-D [K, N] weight`;
  return t;
}

/** A float32 constant with 1 or `n` elements (scale, bias), or a reason. */
export function floatVector(ix: GraphIndex, name: string, n: number, what: string): TensorLike | string {
  const t = ix.constants.get(name);
  if (!t) return `${what} "${name}" is not a constant`;
  if (t.dataType !== ONNX.FLOAT) return `${what} "${name}" is not float32`;
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

/** `fits` of {@link matchDequantChain} for a matmul: `[N]`, `[1, N]`, … (one value per column of the last axis). */
export function lastAxis(n: number): (dims: number[]) => boolean {
  return (dims) => dims.every((d, k) => (k === dims.length - 1 ? d === n : d === 1));
}

/**
 * `MatMulInteger|ConvInteger → Cast(float) → Mul(Mul(a_scale, const b_scale)) [→ Add(const bias)]
 * [→ activation]`: the dequantize chain of ORT's `quantize_dynamic` after the integer op at `i`.
 * `fits(dims)` says whether a scale or bias constant of those dims is one value per output column
 * (matmul: along the last axis; conv: along NCHW's channel axis); `activations` maps the op types
 * the step's epilogue computes.
 */
export function matchDequantChain(
  ix: GraphIndex,
  i: number,
  dql: NodeProto,
  n: number,
  fits: (dims: number[]) => boolean,
  activations: Readonly<Record<string, 'relu' | 'tanh'>>,
): { nodes: number[]; bScale: TensorLike; bias?: TensorLike; activation?: 'relu' | 'tanh'; output: string } | { reason: string } {
  const m = ix.nodes[i]!;
  const c = soleConsumer(ix, m.output?.[0] ?? '');
  const cast = c === undefined ? undefined : ix.nodes[c];
  if (c === undefined || cast?.opType !== 'Cast' || attrInt(cast, 'to', 0) !== ONNX.FLOAT)
    return { reason: `${m.opType} is not followed by a lone Cast to float` };
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
  if (bScale.data.length > 1 && !fits([...bScale.dims]))
    return { reason: `b_scale's dims ${JSON.stringify(bScale.dims)} are not one value per output channel` };
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
    // Only a bias with one value per output column folds into the epilogue.
    if (t && t.dataType === ONNX.FLOAT && dims.length >= 1 && fits(dims)) {
      bias = toTensor(t);
      nodes.push(addIdx);
      output = add.output?.[0] ?? '';
    }
  }
  // A lone Relu/Tanh after the chain folds into the epilogue too: one ORT segment fewer per layer.
  const actIdx = soleConsumer(ix, output);
  const act = actIdx === undefined ? undefined : ix.nodes[actIdx];
  const activation = act && !act.domain ? activations[act.opType ?? ''] : undefined;
  if (actIdx !== undefined && activation) {
    nodes.push(actIdx);
    output = act?.output?.[0] ?? '';
  }
  return { nodes, bScale, ...(bias ? { bias } : {}), ...(activation ? { activation } : {}), output };
}
