/**
 * What the pattern matchers share: the shape of a match ({@link KernelGroup}), and the checks every
 * int8 matmul pattern makes on its constant operands. Matchers live in patterns.ts (quantize_dynamic,
 * MatMulInteger, QLinearMatMul) and pattern-qdq.ts (QDQ); both import from here, never each other.
 */
import { ONNX } from '../dtypes';
import type { Fallback, KernelPattern, TensorLike } from '../types';
import { dimsOf, toTensor, type GraphIndex, type NodeProto, type TensorProto } from './onnx-model';
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
