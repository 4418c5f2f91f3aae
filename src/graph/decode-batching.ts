/**
 * Whether the decode steps of concurrent `generate` calls on a plan may share one batched model
 * call (src/worker/decode-batcher.ts) and still give each sequence what it would get alone.
 * Row-wise float ops do; `DynamicQuantizeLinear` does not: ONNX quantizes the whole tensor with one
 * scale, so a batched step would quantize each sequence's activations with the batch's range. Our
 * kernel plan can quantize per slice (one sequence each, src/kernels/int8-ops.ts) when every reader
 * of the scale is one of our `QuantizedMatMul` steps; inside ORT (WASM or ORT's WebGPU EP) it cannot.
 */
import { decodeModel } from './onnx-model';
import type { Plan } from './plan';

const DYNAMIC_QUANT = new Set(['DynamicQuantizeLinear', 'DynamicQuantizeMatMul']);

/** Why the plan's decode steps must run one sequence at a time, or `null` when they may be batched. */
export function decodeBatchBlocker(plan: Plan): string | null {
  for (const step of plan.steps) {
    if (step.kind !== 'ort') continue;
    const nodes = decodeModel(step.model).graph?.node ?? [];
    if (nodes.some((n) => DYNAMIC_QUANT.has(n.opType ?? ''))) {
      return "DynamicQuantizeLinear runs in ORT, which quantizes a whole batch with one scale: a batched step would change each sequence's tokens, so decode steps run one sequence at a time";
    }
  }
  const params = new Set(plan.steps.flatMap((s) => (s.kind === 'kernel' && s.op === 'DynamicQuantizeLinear' ? s.outputs.slice(1) : [])));
  for (const step of plan.steps) {
    if (step.kind === 'kernel' && step.op === 'QuantizedMatMul') continue;
    const reads = step.kind === 'kernel' ? step.inputs : Object.values(step.inputs ?? {});
    if (reads.some((r) => params.has(r)) || plan.outputs.some((o) => params.has(o))) {
      return "a DynamicQuantizeLinear scale is read by a step other than webq8's QuantizedMatMul, which cannot take one scale per sequence: decode steps run one sequence at a time";
    }
  }
  return null;
}
