/**
 * Where each node of a model runs, as plain JSON-safe data for `model.info.placement`: the nodes
 * each kernel step replaced (by name), the ops left to ORT (by type, counted), the candidates that
 * stayed on ORT and why, and the int8 ops that ORT's WebGPU EP runs on its CPU fallback.
 */
import type { Fallback, Placement } from '../types';
import { nodeName, type KernelGroup } from './match';
import type { GraphIndex } from './onnx-model';

/**
 * Ops ORT 1.30's WebGPU EP has no kernel for, so it runs them on the CPU EP with a GPU↔CPU copy each
 * way. MatMulInteger and DynamicQuantizeLinear were seen in ORT's verbose node-placement log
 * (`ort.env.logLevel = 'verbose'` and session option `logSeverityLevel: 0` print "webgpu kernel not
 * found in registries for Op type: X"); the others have no WebGPU kernel in ORT's 1.30 WebGPU kernel
 * registry.
 */
export const ORT_WEBGPU_CPU_OPS: ReadonlySet<string> = new Set([
  'MatMulInteger',
  'DynamicQuantizeLinear',
  'ConvInteger',
  'QLinearConv',
  'QLinearMatMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'QLinearAdd',
  'QLinearMul',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QLinearConcat',
  'QLinearAveragePool',
  'QLinearGlobalAveragePool',
  'QGemm',
]);

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
