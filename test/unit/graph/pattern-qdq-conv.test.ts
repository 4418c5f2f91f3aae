// Planning of the quantized conv formats other than quantize_dynamic's: QLinearConv (QOperator) and
// QDQ convs, on the small models of conv-models.ts. The numbers are checked against ORT WASM in
// test/browser/conv-qlinear.spec.ts.
import { describe, expect, it } from 'vitest';
import { planModel } from '../../../src/graph/partition';
import type { KernelStep, OrtStep } from '../../../src/graph/plan';
import { qdqConvModel, qlinearConvModel } from './conv-models';

const kernelSteps = (p: ReturnType<typeof planModel>) => (p.kernels?.steps ?? []).filter((s): s is KernelStep => s.kind === 'kernel');

describe('QLinearConv and QDQ conv patterns', () => {
  it('plans QLinearConv as one QLinearConv step with its constants', () => {
    const p = planModel(qlinearConvModel());
    const [s] = kernelSteps(p);
    expect(s).toMatchObject({ op: 'QLinearConv', inputs: ['x'], outputs: ['y'], attrs: { group: 2, pads: [1, 1, 1, 1] } });
    expect(Object.keys(s!.constants!).sort()).toEqual(['B', 'w', 'w_scale', 'w_zero_point', 'x_scale', 'x_zero_point', 'y_scale', 'y_zero_point']);
    expect(p.placement.kernels.map((k) => k.pattern)).toEqual(['QLinearConv']);
    expect(p.placement.fallbacks).toEqual([]);
  });

  it('plans QDQ convs as QuantizedConv steps reading the quantized activation; a weight-only conv says why it stays', () => {
    const p = planModel(qdqConvModel());
    const ks = kernelSteps(p);
    expect(ks.map((s) => s.op)).toEqual(['QuantizedConv', 'QuantizedConv']);
    const [c1, c2] = ks;
    expect(c1).toMatchObject({ inputs: ['xq', 'sx::webq8', 'zx::webq8'], outputs: ['c1'], attrs: { strides: [2, 2] } });
    expect(c1!.constants!.w_scale!.data.length).toBe(8);
    // The int32 bias, dequantized as ORT does: f32(b) · f32(s_x · s_w[m]).
    const b = c1!.constants!.bias!.data as Float32Array;
    expect(b[1]).toBe(Math.fround(Math.fround(((1 * 911) % 4001) - 2000) * Math.fround(0.03 * Math.fround(((7 % 5) + 1) * 0.004))));
    expect(c2).toMatchObject({ inputs: ['hq', 'sh::webq8', 'zh::webq8'], outputs: ['y'], attrs: { group: 8 } });
    expect(c2!.constants!.w_zero_point!.data[0]).toBe(128);
    // The segments computing xq and hq also output the activation scales and zero points.
    const outs = (p.kernels!.steps.filter((s): s is OrtStep => s.kind === 'ort') as OrtStep[]).flatMap((s) => Object.keys(s.outputs ?? {}));
    expect(outs).toEqual(expect.arrayContaining(['xq', 'sx::webq8', 'zx::webq8', 'hq', 'sh::webq8', 'zh::webq8']));
    expect(p.placement.fallbacks).toEqual([
      {
        node: 'conv_weight_only',
        op: 'Conv',
        reason: 'weight-only QDQ Conv (float activation): the int8 conv kernels read a quantized activation; quantize it (QuantizeLinear → DequantizeLinear)',
      },
    ]);
  });
});
