// Which plans may batch the decode steps of concurrent generations (src/graph/decode-batching.ts):
// fp32 plans and our kernel plan of a q8 decoder may; a q8 decoder whose DynamicQuantizeLinear runs
// in ORT may not, nor a plan where an ORT step reads the quantization scale.
import { describe, expect, it } from 'vitest';
import { decodeBatchBlocker } from '../../../src/graph/decode-batching';
import { buildDecoder } from '../../../src/graph/decoder-builder';
import { planModel } from '../../../src/graph/partition';
import { ortPlan, type Plan } from '../../../src/graph/plan';
import { quantizeDynamic } from '../../../src/graph/quantize';

const CONFIG = { layers: 1, hidden: 32, heads: 2, vocab: 64, maxPositions: 16 };

describe('decodeBatchBlocker', () => {
  const fp32 = buildDecoder(CONFIG);
  const q8 = quantizeDynamic(fp32).bytes;

  it('lets fp32 plans batch', () => {
    expect(decodeBatchBlocker(ortPlan(fp32))).toBeNull();
  });

  it('refuses a q8 model run whole by ORT, saying why', () => {
    expect(decodeBatchBlocker(ortPlan(q8))).toMatch(/^DynamicQuantizeLinear runs in ORT, which quantizes a whole batch with one scale/);
  });

  it('lets our kernel plan of the q8 model batch: every scale is read by a QuantizedMatMul step', () => {
    const kernels = planModel(q8).kernels!;
    expect(kernels.steps.some((s) => s.kind === 'kernel' && s.op === 'DynamicQuantizeLinear')).toBe(true);
    expect(decodeBatchBlocker(kernels)).toBeNull();
  });

  it('refuses a kernel plan where another step reads a DynamicQuantizeLinear scale', () => {
    const kernels = planModel(q8).kernels!;
    const dql = kernels.steps.find((s) => s.kind === 'kernel' && s.op === 'DynamicQuantizeLinear')!;
    const scale = (dql as Extract<Plan['steps'][number], { kind: 'kernel' }>).outputs[1]!;
    const plan: Plan = { ...kernels, steps: [...kernels.steps, { kind: 'kernel', op: 'MatMulInteger', attrs: {}, inputs: ['x', scale], outputs: ['y'] }] };
    expect(decodeBatchBlocker(plan)).toMatch(/read by a step other than webq8's QuantizedMatMul/);
  });
});
