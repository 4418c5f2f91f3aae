/**
 * Where each node of a model runs, as plain JSON-safe data for `model.info.placement`: the nodes
 * each kernel step replaced (by name), the ops left to ORT (by type, counted), the candidates that
 * stayed on ORT and why, and the int8 ops that ORT's WebGPU EP runs on its CPU fallback.
 */
import type { GraphIndex } from './onnx-model';
import { nodeName, type Fallback, type KernelGroup } from './patterns';

/**
 * Ops ORT 1.30's WebGPU EP has no kernel for, so it runs them on the CPU EP with a GPU↔CPU copy each
 * way. MatMulInteger and DynamicQuantizeLinear were seen in ORT's verbose node-placement log
 * (PLATFORM.md); the others have no WebGPU kernel in ORT's 1.30 WebGPU kernel registry.
 */
export const ORT_WEBGPU_CPU_OPS: ReadonlySet<string> = new Set([
  'MatMulInteger', 'DynamicQuantizeLinear', 'ConvInteger', 'QLinearConv', 'QLinearMatMul', 'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearConcat', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QGemm',
]);

/** One kernel step and the graph nodes it replaces. */
export interface KernelPlacement {
  pattern: KernelGroup['pattern'];
  /** Kernel op run (e.g. `QuantizedMatMul`). */
  ops: string[];
  /** Names of the replaced ONNX nodes. */
  nodes: string[];
}

/** Per-model placement (see the module comment). */
export interface Placement {
  /** Kernel steps and the nodes they replace. */
  kernels: KernelPlacement[];
  /** Nodes replaced by kernels. */
  kernelNodes: number;
  /** Nodes left to ORT (Constant nodes not counted). */
  ortNodes: number;
  /** ORT nodes by op type. */
  ortOps: Record<string, number>;
  /** Number of ORT segments in the kernel plan (0 without one). */
  segments: number;
  /** Candidate nodes that stayed on ORT, with the reason. */
  fallbacks: Fallback[];
  /** Ops left to ORT that its WebGPU EP runs on the CPU (by type, counted). Empty when none. */
  cpuFallbackOps: Record<string, number>;
}

/** Builds the {@link Placement} of `ix` given the matched groups. */
export function placementOf(ix: GraphIndex, groups: KernelGroup[], fallbacks: Fallback[], segments: number): Placement {
  const replaced = new Set(groups.flatMap((g) => g.nodes));
  const ortOps: Record<string, number> = {};
  const cpuFallbackOps: Record<string, number> = {};
  let ortNodes = 0;
  ix.nodes.forEach((n, i) => {
    const op = n.opType ?? '';
    if (replaced.has(i) || (op === 'Constant' && !n.domain)) return;
    ortNodes++;
    ortOps[op] = (ortOps[op] ?? 0) + 1;
    if (ORT_WEBGPU_CPU_OPS.has(op)) cpuFallbackOps[op] = (cpuFallbackOps[op] ?? 0) + 1;
  });
  const kernels = groups.map((g) => ({ pattern: g.pattern, ops: g.steps.map((s) => s.op), nodes: g.nodes.map((k) => nodeName(ix.nodes[k]!, k)) }));
  return { kernels, kernelNodes: replaced.size, ortNodes, ortOps, segments, fallbacks, cpuFallbackOps };
}
