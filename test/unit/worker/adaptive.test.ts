// The per-shape-class choice between the kernel plan and plain ORT (src/worker/adaptive.ts), with
// fake executors on a virtual clock: each fake run advances performance.now by its cost, so the
// decisions depend on the costs given here and not on this machine's load.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveExecutor, MAX_REPEAT, MIN_SAMPLE_MS, SAMPLES, shapeClass, type ShapeDecisions } from '../../../src/worker/adaptive';
import type { PlanExecutor, PlanValue } from '../../../src/worker/executor';
import type { TensorLike, ValueInfo } from '../../../src/types';

let now = 0;
beforeEach(() => {
  now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
});
afterEach(() => vi.restoreAllMocks());

const INPUTS: ValueInfo[] = [
  { name: 'x', type: 'float32', dims: ['batch', 64] },
  { name: 'mask', type: 'int64', dims: [1, null] },
];

/** A fake plan: `cost(M)` ms per run (M = x's first dim), or a throw; it counts runs and released GPU outputs. */
function fake(name: string, cost: (m: number) => number | Error) {
  const stats = { runs: 0, released: 0 };
  const once = (dims: readonly number[]) => {
    const c = cost(dims[0]!);
    if (c instanceof Error) throw c;
    now += c;
    stats.runs++;
    return {
      counters: { uploads: 0, readbacks: 0, ortSegments: 1, kernelDispatches: 0, submits: 0, bindGroups: 0 },
      phases: { ortMs: c, kernelsMs: 0, readbackMs: 0 },
    };
  };
  const executor = {
    inputInfo: () => INPUTS,
    outputInfo: () => [{ name: 'y', type: 'float32', dims: ['batch', 8] }],
    run: async (feeds: Record<string, TensorLike>) => ({
      ...once(feeds.x!.dims),
      outputs: { y: { type: 'float32', dims: [1], data: new Float32Array([name === 'kernels' ? 1 : 2]) } },
    }),
    runValues: async (feeds: Record<string, PlanValue>) => {
      const r = once(feeds.x!.dims);
      const value: PlanValue = { where: 'gpu', type: 'float32', dims: [1], buffer: {} as GPUBuffer, release: () => void stats.released++ };
      return { ...r, outputs: new Map([['y', value]]) };
    },
    dispose: async () => undefined,
  };
  return { executor: executor as unknown as PlanExecutor, stats };
}

const feeds = (m: number, t = 5) => ({
  x: { type: 'float32' as const, dims: [m, 64], data: new Float32Array(m * 64) },
  mask: { type: 'int64' as const, dims: [1, t], data: new BigInt64Array(t) },
});

describe('shapeClass', () => {
  it('keeps only the symbolic dimensions, each rounded up to a power of two', () => {
    expect(shapeClass(INPUTS, { x: [1, 64], mask: [1, 5] })).toBe('x:1,mask:8');
    expect(shapeClass(INPUTS, { x: [3, 64], mask: [1, 8] })).toBe('x:4,mask:8');
    expect(shapeClass(INPUTS, { x: [256, 64], mask: [1, 9] })).toBe('x:256,mask:16');
    expect(shapeClass([{ name: 'a', type: 'float32', dims: [2, 3] }], { a: [2, 3] })).toBe('');
    // A declared rank that differs from the feed's (an unknown input): every dim counts.
    expect(shapeClass([{ name: 'a', type: 'unknown', dims: [] }], { a: [5, 3] })).toBe('a:8x4');
  });
});

describe('AdaptiveExecutor', () => {
  it('measures each new shape class once, keeps the faster plan for it, and runs only that plan afterwards', async () => {
    // Kernels win at M = 1 (GEMV), ORT wins at M = 256.
    const k = fake('kernels', (m) => (m === 1 ? 1 : 40));
    const o = fake('ort', (m) => (m === 1 ? 1.5 : 10));
    const saved: [string, string][] = [];
    const decisions: ShapeDecisions = {};
    const a = new AdaptiveExecutor(k.executor, o.executor, decisions, (cls, d) => void saved.push([cls, d.strategy]));

    const r1 = await a.run(feeds(1));
    expect(r1.strategy).toMatchObject({ strategy: 'kernels', shapeClass: 'x:1,mask:8', measuredNow: true });
    expect(r1.outputs.y!.data).toEqual(new Float32Array([1])); // the kept plan's own answer
    // 1 warm-up + 2 sizing runs + SAMPLES samples of ceil(MIN_SAMPLE_MS / 1 ms) runs each, per plan.
    const repeat = Math.min(MAX_REPEAT, Math.ceil(MIN_SAMPLE_MS / 1));
    expect(r1.strategy!.measured).toEqual({ kernelsMs: 1, ortMs: 1.5, runs: SAMPLES * repeat });
    expect([k.stats.runs, o.stats.runs]).toEqual([3 + SAMPLES * repeat, 3 + SAMPLES * repeat]);

    const runsBefore = { k: k.stats.runs, o: o.stats.runs };
    const r2 = await a.run(feeds(256));
    // 4× apart after the sizing runs (≥ DECISIVE): decided without the samples.
    expect(r2.strategy).toMatchObject({ strategy: 'ort', shapeClass: 'x:256,mask:8', measuredNow: true, measured: { kernelsMs: 40, ortMs: 10, runs: 1 } });
    expect({ k: k.stats.runs - runsBefore.k, o: o.stats.runs - runsBefore.o }).toEqual({ k: 3, o: 3 });
    expect(r2.outputs.y!.data).toEqual(new Float32Array([2]));

    const before = { k: k.stats.runs, o: o.stats.runs };
    const r3 = await a.run(feeds(200, 7)); // same class as 256
    expect(r3.strategy).toMatchObject({ strategy: 'ort', shapeClass: 'x:256,mask:8', measuredNow: false });
    expect({ k: k.stats.runs, o: o.stats.runs }).toEqual({ k: before.k, o: before.o + 1 });
    await a.run(feeds(1));
    expect({ k: k.stats.runs, o: o.stats.runs }).toEqual({ k: before.k + 1, o: before.o + 1 });

    expect(saved).toEqual([
      ['x:1,mask:8', 'kernels'],
      ['x:256,mask:8', 'ort'],
    ]);
    expect(Object.keys(decisions)).toEqual(['x:1,mask:8', 'x:256,mask:8']);
  });

  it('measures nothing for classes decided earlier (the artifact cache)', async () => {
    const k = fake('kernels', () => 1);
    const o = fake('ort', () => 2);
    const a = new AdaptiveExecutor(k.executor, o.executor, { 'x:16,mask:8': { strategy: 'ort', kernelsMs: 5, ortMs: 4, runs: 9 } });
    const r = await a.run(feeds(16));
    expect(r.strategy).toEqual({ strategy: 'ort', shapeClass: 'x:16,mask:8', measured: { kernelsMs: 5, ortMs: 4, runs: 9 }, measuredNow: false });
    expect([k.stats.runs, o.stats.runs]).toEqual([0, 1]);
  });

  it("never keeps a plan that failed on the class, and rethrows the plain model's error when both fail", async () => {
    const k = fake('kernels', (m) => (m === 1 ? new Error('kernel broke') : 1));
    const o = fake('ort', (m) => (m === 2 ? new Error('ort broke') : 50));
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    const r = await a.run(feeds(1));
    expect(r.strategy).toMatchObject({ strategy: 'ort', measured: { kernelsMs: NaN, ortMs: 50, runs: 1 } });
    const b = new AdaptiveExecutor(fake('kernels', () => new Error('kernel broke')).executor, fake('ort', () => new Error('ort broke')).executor, {});
    await expect(b.run(feeds(1))).rejects.toThrow('ort broke');
    // ORT failing on its own: the kernels are kept (slower or not).
    const c = await a.run(feeds(2));
    expect(c.strategy).toMatchObject({ strategy: 'kernels', measured: { kernelsMs: 1, ortMs: NaN } });
  });

  it('releases the GPU outputs of every measurement run but the answer it returns', async () => {
    const k = fake('kernels', () => 2);
    const o = fake('ort', () => 4);
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    const gpuFeeds = { x: { where: 'cpu' as const, type: 'float32' as const, dims: [1, 64], data: new Float32Array(64) } };
    const r = await a.runValues(gpuFeeds);
    expect(r.outputs.size).toBe(1);
    // Every run made one GPU output; all but the returned one were released.
    expect(k.stats.released + o.stats.released).toBe(k.stats.runs + o.stats.runs - 1);
  });

  it('runs a step that quantizes per slice (a batched decode step) on the kernel plan, unmeasured', async () => {
    const k = fake('kernels', () => 9);
    const o = fake('ort', () => 1);
    const a = new AdaptiveExecutor(k.executor, o.executor, { 'x:4,mask:8': { strategy: 'ort', kernelsMs: 9, ortMs: 1, runs: 3 } });
    const gpuFeeds = { x: { where: 'cpu' as const, type: 'float32' as const, dims: [4, 64], data: new Float32Array(256) } };
    const r = await a.runValues(gpuFeeds, { quantizePerSlice: true });
    expect([k.stats.runs, o.stats.runs]).toEqual([1, 0]);
    expect(r.strategy).toBeUndefined();
  });

  it('profiles a plan it has to measure first with one clean extra run of the kept plan', async () => {
    const k = fake('kernels', () => 2);
    const o = fake('ort', () => 4);
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    const spy = vi.spyOn(k.executor, 'run');
    const profile = { steps: [], startMs: NaN };
    const r = await a.run(feeds(1), { profile });
    expect(r.strategy).toMatchObject({ strategy: 'kernels', measuredNow: true });
    expect(spy.mock.calls.at(-1)![1]).toEqual({ profile });
    expect(spy.mock.calls.slice(0, -1).every(([, opts]) => opts?.profile === undefined)).toBe(true);
  });
});
