// External data (ONNX `external_data`) in the graph layer, on files written by the `onnx` Python
// package (test/fixtures/external-data/make.py): the partitioned plan of the external-data model
// carries the same kernel weights as the embedded model, its ORT segments name the files they
// read, and a missing, short or mismatched file is an ExternalDataError naming file and tensor.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExternalDataError } from '../../../src/errors';
import { bindExternalData, externalRefs } from '../../../src/graph/external-data';
import { decodeModel, onnx } from '../../../src/graph/onnx-model';
import { planModel } from '../../../src/graph/partition';
import type { Plan } from '../../../src/graph/plan';
import { quantizeDynamic } from '../../../src/graph/quantize';
import { mlp, splitExternal } from './models';

const dir = new URL('../../fixtures/external-data/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const embedded = file('mlp-q8.onnx');
const ext = file('mlp-q8-ext.onnx');
const data = file('mlp-q8-ext.bin');

const kernelConstants = (plan: Plan | null) =>
  (plan?.steps ?? []).flatMap((s) =>
    s.kind === 'kernel' ? [JSON.stringify(s.constants, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v))] : [],
  );

describe('external data in the graph layer', () => {
  it('lists the external tensors with location, offset and length', () => {
    const refs = externalRefs(decodeModel(ext));
    expect(refs.map((r) => [r.tensor, r.location, r.offset, r.length])).toEqual([
      ['l1_W_quantized', 'mlp-q8-ext.bin', 0, 6144],
      ['l1_b', 'mlp-q8-ext.bin', 6144, 384],
      ['g', 'mlp-q8-ext.bin', 6528, 384],
      ['l2_W_quantized', 'mlp-q8-ext.bin', 6912, 3072],
    ]);
  });

  it('partitions like the embedded model: same kernel weights, segments name their files', () => {
    const a = planModel(embedded);
    const b = planModel(ext, { externalData: new Map([['mlp-q8-ext.bin', data]]) });
    expect(a.kernels).not.toBeNull();
    expect(kernelConstants(b.kernels)).toEqual(kernelConstants(a.kernels));
    const segments = b.kernels!.steps.filter((s) => s.kind === 'ort');
    // Each segment keeps its tensors external and names only the files they read.
    const withFiles = segments.filter((s) => s.externalData);
    expect(withFiles.length).toBeGreaterThan(0);
    for (const s of withFiles) {
      expect(s.externalData!.map((f) => f.path)).toEqual(['mlp-q8-ext.bin']);
      const sub = onnx.ModelProto.decode(s.model);
      expect(sub.graph!.initializer!.some((t) => (t.externalData ?? []).length > 0)).toBe(true);
    }
    expect(b.ort.steps[0]).toMatchObject({ kind: 'ort', externalData: [{ path: 'mlp-q8-ext.bin' }] });
  });

  it("a model split by webq8's own writer plans like its embedded form", () => {
    const q8 = quantizeDynamic(mlp(64, 48, { second: true })).bytes;
    const split = splitExternal(q8, 'weights/q8.bin');
    expect(externalRefs(decodeModel(split.model)).length).toBeGreaterThan(1);
    const b = planModel(split.model, { externalData: new Map([['weights/q8.bin', split.data]]) });
    expect(kernelConstants(b.kernels)).toEqual(kernelConstants(planModel(q8).kernels));
  });

  it('without its file, a truncated file or a wrong length: ExternalDataError naming file and tensor', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const missing = err(() => bindExternalData(decodeModel(ext), new Map()));
    expect(missing).toBeInstanceOf(ExternalDataError);
    expect(missing).toMatchObject({ code: 'EXTERNAL_DATA', details: { file: 'mlp-q8-ext.bin', tensor: 'l1_W_quantized', reason: 'missing' } });
    const short = err(() => bindExternalData(decodeModel(ext), new Map([['mlp-q8-ext.bin', data.subarray(0, 8000)]])));
    expect(short).toMatchObject({ code: 'EXTERNAL_DATA', details: { file: 'mlp-q8-ext.bin', tensor: 'l2_W_quantized', reason: 'truncated' } });
    const m = decodeModel(ext);
    const t = m.graph!.initializer!.find((x) => x.name === 'g')!;
    t.externalData!.find((e) => e.key === 'length')!.value = '380';
    expect(err(() => bindExternalData(m, new Map([['mlp-q8-ext.bin', data]])))).toMatchObject({ details: { tensor: 'g', reason: 'mismatch' } });
    t.externalData!.find((e) => e.key === 'location')!.value = '../secret.bin';
    expect(err(() => externalRefs(m))).toMatchObject({ details: { file: '../secret.bin', reason: 'location' } });
  });

  it('planning a model without its data files is an ExternalDataError, not a silently different plan', () => {
    expect(() => planModel(ext)).toThrow(ExternalDataError);
    expect(planModel(embedded).kernels).not.toBeNull(); // the same model embedded plans
  });
});
