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

/** An idle runner that holds each sample until the test lets it go (the engine's idle slots, by hand). */
function heldIdle() {
  const waiting: (() => void)[] = [];
  const runner = <T>(work: () => Promise<T>) => new Promise<T>((resolve, reject) => waiting.push(() => void work().then(resolve, reject)));
  /** Runs the held samples, and those they lead to, until the measurements are done. */
  const drain = async (a: AdaptiveExecutor) => {
    let settled = false;
    const all = a.idle().then(() => (settled = true));
    while (!settled) {
      waiting.splice(0).forEach((go) => go());
      await new Promise((r) => setTimeout(r, 0));
    }
    await all;
  };
  return { runner, waiting, drain };
}

describe('AdaptiveExecutor', () => {
  it('answers a new class at once on the nearest measured plan (ORT when none), measures it in idle time, then runs the kept plan', async () => {
    // Kernels win at M = 1 (GEMV), ORT wins at M = 256.
    const k = fake('kernels', (m) => (m === 1 ? 1 : 40));
    const o = fake('ort', (m) => (m === 1 ? 1.5 : 10));
    const saved: [string, string][] = [];
    const decisions: ShapeDecisions = {};
    const a = new AdaptiveExecutor(k.executor, o.executor, decisions, (cls, d) => void saved.push([cls, d.strategy]));
    const idle = heldIdle();
    a.setIdleRunner(idle.runner);

    const r1 = await a.run(feeds(1));
    // Nothing measured yet: plain ORT answered, with one run and no measurement before the answer.
    expect(r1.strategy).toMatchObject({ strategy: 'ort', shapeClass: 'x:1,mask:8', provisional: true, measured: { runs: 0 } });
    expect(r1.outputs.y!.data).toEqual(new Float32Array([2]));
    expect([k.stats.runs, o.stats.runs]).toEqual([0, 1]);
    expect(idle.waiting).toHaveLength(1); // the first sample waits for an idle slot
    await idle.drain(a);
    // 1 warm-up + 2 sizing runs + SAMPLES samples of ceil(MIN_SAMPLE_MS / 1 ms) runs each, per plan.
    const repeat = Math.min(MAX_REPEAT, Math.ceil(MIN_SAMPLE_MS / 1));
    expect(decisions['x:1,mask:8']).toEqual({ strategy: 'kernels', kernelsMs: 1, ortMs: 1.5, runs: SAMPLES * repeat });
    expect([k.stats.runs, o.stats.runs]).toEqual([3 + SAMPLES * repeat, 1 + 3 + SAMPLES * repeat]);

    const r2 = await a.run(feeds(1));
    expect(r2.strategy).toMatchObject({ strategy: 'kernels', provisional: false, measured: { kernelsMs: 1, ortMs: 1.5 } });
    // x:256's nearest measured class is x:1 (kernels): it answers on kernels, then measuring keeps ORT.
    const before = { k: k.stats.runs, o: o.stats.runs };
    const r3 = await a.run(feeds(256));
    expect(r3.strategy).toMatchObject({ strategy: 'kernels', shapeClass: 'x:256,mask:8', provisional: true });
    expect({ k: k.stats.runs - before.k, o: o.stats.runs - before.o }).toEqual({ k: 1, o: 0 });
    await idle.drain(a);
    // 4× apart after the sizing runs (≥ DECISIVE): decided without the samples.
    expect(decisions['x:256,mask:8']).toEqual({ strategy: 'ort', kernelsMs: 40, ortMs: 10, runs: 1 });
    const r4 = await a.run(feeds(200, 7)); // same class as 256
    expect(r4.strategy).toMatchObject({ strategy: 'ort', shapeClass: 'x:256,mask:8', provisional: false });
    expect(r4.outputs.y!.data).toEqual(new Float32Array([2]));
    // x:64 is nearer x:256 (2 powers of two) than x:1 (6): ORT.
    expect((await a.run(feeds(64))).strategy).toMatchObject({ strategy: 'ort', provisional: true });
    expect(saved.slice(0, 2)).toEqual([
      ['x:1,mask:8', 'kernels'],
      ['x:256,mask:8', 'ort'],
    ]);
  });

  it('measures a class once however many of its requests come before the decision, and none started before an idle runner is set', async () => {
    const k = fake('kernels', () => 1);
    const o = fake('ort', () => 5);
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    await a.run(feeds(4));
    await a.run(feeds(3)); // same class
    expect([k.stats.runs, o.stats.runs]).toEqual([0, 2]); // held: no idle runner yet (the model is loading)
    const idle = heldIdle();
    a.setIdleRunner(idle.runner);
    expect(idle.waiting).toHaveLength(1);
    await idle.drain(a);
    expect(a.decision('x:4,mask:8')).toMatchObject({ strategy: 'kernels', runs: 1 });
    expect([k.stats.runs, o.stats.runs]).toEqual([3, 2 + 3]);
  });

  it('measureNow decides a class before resolving (the load-time probe and warm-up)', async () => {
    const k = fake('kernels', () => 1);
    const o = fake('ort', () => 4);
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    expect(await a.measureNow(feeds(16))).toEqual({ shapeClass: 'x:16,mask:8', decision: { strategy: 'kernels', kernelsMs: 1, ortMs: 4, runs: 1 } });
    const r = await a.run(feeds(16));
    expect(r.strategy).toMatchObject({ strategy: 'kernels', provisional: false });
  });

  it('measures nothing for classes decided earlier (the artifact cache)', async () => {
    const k = fake('kernels', () => 1);
    const o = fake('ort', () => 2);
    const a = new AdaptiveExecutor(k.executor, o.executor, { 'x:16,mask:8': { strategy: 'ort', kernelsMs: 5, ortMs: 4, runs: 9 } });
    a.setIdleRunner((work) => work());
    const r = await a.run(feeds(16));
    expect(r.strategy).toEqual({
      strategy: 'ort',
      shapeClass: 'x:16,mask:8',
      measured: { kernelsMs: 5, ortMs: 4, runs: 9 },
      provisional: false,
    });
    await a.idle();
    expect([k.stats.runs, o.stats.runs]).toEqual([0, 1]);
  });

  it("answers on the other plan when the expected one fails, never keeps a failed plan, and rethrows the first plan's error when both fail", async () => {
    const k = fake('kernels', (m) => (m === 1 ? new Error('kernel broke') : 1));
    const o = fake('ort', (m) => (m === 2 ? new Error('ort broke') : 50));
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    a.setIdleRunner((work) => work());
    await a.run(feeds(1));
    await a.idle();
    expect(a.decision('x:1,mask:8')).toMatchObject({ strategy: 'ort', kernelsMs: NaN, ortMs: 50, runs: 1 });
    // ORT failing on its own: kernels answer, and are kept.
    const c = await a.run(feeds(2));
    expect(c.strategy).toMatchObject({ strategy: 'kernels', provisional: true });
    expect(c.outputs.y!.data).toEqual(new Float32Array([1]));
    await a.idle();
    expect(a.decision('x:2,mask:8')).toMatchObject({ strategy: 'kernels', kernelsMs: 1, ortMs: NaN });
    const b = new AdaptiveExecutor(fake('kernels', () => new Error('kernel broke')).executor, fake('ort', () => new Error('ort broke')).executor, {});
    await expect(b.run(feeds(1))).rejects.toThrow('ort broke');
  });

  it('measures a GPU-fed class (runValues) on seeded feeds of the same dims, on CPU outputs', async () => {
    const k = fake('kernels', () => 2);
    const o = fake('ort', () => 9);
    const a = new AdaptiveExecutor(k.executor, o.executor, {});
    a.setIdleRunner((work) => work());
    const gpuFeeds = { x: { where: 'gpu' as const, type: 'float32' as const, dims: [1, 64], buffer: {} as GPUBuffer, release: () => undefined } };
    const runs = vi.spyOn(k.executor, 'run');
    const r = await a.runValues(gpuFeeds);
    expect(r.outputs.size).toBe(1);
    await a.idle();
    expect(a.decision('x:1')).toMatchObject({ strategy: 'kernels' });
    expect(runs.mock.calls[0]![0].x!.dims).toEqual([1, 64]);
    // The one GPU output made (the answer) is the caller's: nothing released here.
    expect(k.stats.released + o.stats.released).toBe(0);
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

  it('profiles the plan that answers, and only that run carries the profile', async () => {
    const k = fake('kernels', () => 2);
    const o = fake('ort', () => 4);
    const a = new AdaptiveExecutor(k.executor, o.executor, { 'x:1,mask:8': { strategy: 'kernels', kernelsMs: 2, ortMs: 4, runs: 3 } });
    const spy = vi.spyOn(k.executor, 'run');
    const profile = { steps: [], startMs: NaN };
    const r = await a.run(feeds(1), { profile });
    expect(r.strategy).toMatchObject({ strategy: 'kernels', provisional: false });
    expect(spy.mock.calls).toEqual([[expect.anything(), { profile }]]);
  });
});
