// The streaming side of external data (src/graph/external-stream.ts) on the `onnx` package's
// fixture and on webq8's own writer: planned from a reader over a weight-cache entry stored in
// tiny chunks (every tensor split across chunk boundaries, at seeded random sizes), the kernel
// weights read when their steps are prepared equal those of the plan from the whole file, the
// plan holds none of them before, and each ORT segment's own file holds exactly its tensors' bytes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src/cache';
import { writeEntry } from '../../../src/cache/entries';
import { entryRanges } from '../../../src/cache/ranges';
import { externalRefs } from '../../../src/graph/external-data';
import { externalDataOf, hydrateStep, readEarly } from '../../../src/graph/external-stream';
import { decodeModel, deferredSlice } from '../../../src/graph/onnx-model';
import { planModel } from '../../../src/graph/partition';
import type { Plan } from '../../../src/graph/plan';
import { quantizeDynamic } from '../../../src/graph/quantize';
import { nodeSha256 } from '../cache/fake-server';
import { mlp, splitExternal } from './models';

const dir = new URL('../../fixtures/external-data/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));

const constantsOf = (plan: Plan | null) =>
  (plan?.steps ?? []).flatMap((s) =>
    s.kind === 'kernel' ? [JSON.stringify(s.constants, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v))] : [],
  );

/** The plan of `model` streamed from `data` stored in `chunkBytes` chunks, its kernel steps then read. */
async function streamed(model: Uint8Array, location: string, data: Uint8Array, chunkBytes: number) {
  const store = createMemoryStore();
  const rec = await writeEntry(store, data, await nodeSha256(data), {}, chunkBytes);
  const planned = planModel(model, { externalData: await readEarly(model, new Map([[location, entryRanges(store, rec)]])) });
  const kernels = planned.kernels!;
  const deferred = kernels.steps.flatMap((s) => (s.kind === 'kernel' ? Object.values(s.constants ?? {}).filter((t) => deferredSlice(t)) : []));
  const hydrated: Plan = { ...kernels, steps: await Promise.all(kernels.steps.map((s) => (s.kind === 'kernel' ? hydrateStep(s) : s))) };
  return { planned, deferred, hydrated };
}

describe('external data read by ranges', () => {
  it('kernel weights read from tiny chunks (seeded sizes 1–97 bytes) equal the whole-file plan; the plan held none before', async () => {
    const ext = file('mlp-q8-ext.onnx');
    const data = file('mlp-q8-ext.bin');
    const whole = planModel(ext, { externalData: new Map([['mlp-q8-ext.bin', data]]) });
    let s = 7;
    for (let i = 0; i < 6; i++) {
      const chunkBytes = 1 + ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 97);
      const { deferred, hydrated } = await streamed(ext, 'mlp-q8-ext.bin', data, chunkBytes);
      expect(deferred.length, `chunks of ${chunkBytes}`).toBe(2); // both int8 weight matrices
      expect(constantsOf(hydrated), `chunks of ${chunkBytes}`).toEqual(constantsOf(whole.kernels));
    }
  });

  it("webq8's own writer, in 4 KiB chunks: the same kernel weights as the embedded model", async () => {
    const q8 = quantizeDynamic(mlp(64, 48, { second: true })).bytes;
    const split = splitExternal(q8, 'q8.bin');
    const { hydrated } = await streamed(split.model, 'q8.bin', split.data, 4096);
    expect(constantsOf(hydrated)).toEqual(constantsOf(planModel(q8).kernels));
  });

  it("each ORT segment gets a file of its own tensors' ranges only, offsets rewritten", async () => {
    const ext = file('mlp-q8-ext.onnx');
    const data = file('mlp-q8-ext.bin');
    const original = new Map(externalRefs(decodeModel(ext)).map((r) => [r.tensor, data.subarray(r.offset, r.offset + r.length)]));
    const { planned } = await streamed(ext, 'mlp-q8-ext.bin', data, 13);
    const segments = planned.kernels!.steps.filter((s) => s.kind === 'ort' && s.externalData);
    expect(segments.length).toBeGreaterThan(0);
    for (const seg of segments) {
      if (seg.kind !== 'ort') continue;
      const [own] = await externalDataOf(seg.externalData!);
      expect(own!.path).toBe('mlp-q8-ext.bin');
      expect(own!.data.length).toBeLessThan(data.length);
      const refs = externalRefs(decodeModel(seg.model));
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(Array.from(own!.data.subarray(r.offset, r.offset + r.length)), r.tensor).toEqual(Array.from(original.get(r.tensor)!));
    }
    // The whole-model ORT plan reads the whole file.
    const [all] = await externalDataOf(planned.ort.steps[0]!.kind === 'ort' ? planned.ort.steps[0]!.externalData! : []);
    expect(Array.from(all!.data)).toEqual(Array.from(data));
  });
});
