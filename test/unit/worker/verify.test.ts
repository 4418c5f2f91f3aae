// Load-time verification logic (src/worker/verify.ts) with stand-in executors: what is skipped and
// why, agreement, divergence with each onDiverge (the reference kept only to serve from it), a GPU
// plan that throws, seeded inputs (random floats, fresh per step, state fed back) and bad options.
// (test/browser/verify.spec.ts runs it on real models against ORT's WASM EP.)
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import type { TensorLike, TensorMap, ValueInfo } from '../../../src/types';
import type { Executor } from '../../../src/worker/executor';
import { quantizesAtRunTime, verifyAtLoad, verifyFeeds, verifyOptions } from '../../../src/worker/verify';

const inputs: ValueInfo[] = [
  { name: 'x', type: 'float32', dims: ['batch', 4] },
  { name: 'h', type: 'float32', dims: [1, 2] },
];
const bytes = new TextEncoder().encode('a model with MatMul only');

/** An executor answering y = f(x)·1 and hn = h + 1; it records its feeds and whether it was disposed. */
function fake(f: (v: number) => number = (v) => v, fail = false) {
  const seen: TensorMap[] = [];
  const state = { disposed: false, seen };
  const executor = {
    async run(feeds: TensorMap) {
      seen.push(feeds);
      if (fail) throw new Error('kernel exploded');
      const x = feeds.x!.data as Float32Array;
      const h = feeds.h!.data as Float32Array;
      const y: TensorLike = { type: 'float32', dims: [...feeds.x!.dims], data: x.map(f) };
      const hn: TensorLike = { type: 'float32', dims: [1, 2], data: h.map((v) => v + 1) };
      return {
        outputs: { y, hn },
        counters: { uploads: 0, readbacks: 0, ortSegments: 1, kernelDispatches: 0, submits: 0, bindGroups: 0 },
        phases: { ortMs: 0, kernelsMs: 0, readbackMs: 0 },
      };
    },
    inputInfo: () => inputs,
    outputInfo: () => [],
    async dispose() {
      state.disposed = true;
    },
  } as unknown as Executor;
  return { executor, state };
}

const subject = (executor: Executor, backend: 'webgpu' | 'wasm' = 'webgpu') => ({ bytes, backend, executor });

describe('verifyAtLoad', () => {
  it('agrees when both answer alike, reports every output, and releases the reference', async () => {
    const ref = fake();
    const out = await verifyAtLoad(subject(fake((v) => v * (1 + 1e-5)).executor), verifyOptions(true)!, async () => ref.executor);
    expect(out.info.status).toBe('agreed');
    expect(out.info.outputs.map((o) => [o.name, o.metric, o.tolerance])).toEqual([
      ['y', 'relL2', 1e-3],
      ['hn', 'relL2', 1e-3],
    ]);
    expect(out.reference).toBeUndefined();
    expect(ref.state.disposed).toBe(true);
  });

  it("diverged with 'fallback' keeps the reference to serve from; 'report' and 'error' release it", async () => {
    for (const onDiverge of ['fallback', 'report', 'error'] as const) {
      const ref = fake();
      const out = await verifyAtLoad(subject(fake((v) => -v).executor), verifyOptions({ onDiverge })!, async () => ref.executor);
      expect(out.info).toMatchObject({ status: 'diverged', action: onDiverge });
      expect(out.info.reason).toMatch(/output "y" relL2 2\.00 vs ORT WASM/);
      expect(out.reference === ref.executor).toBe(onDiverge === 'fallback');
      expect(ref.state.disposed).toBe(onDiverge !== 'fallback');
    }
  });

  it("synthesizes inputs from the reference's declared inputs (a plan starting with a kernel step knows no input types)", async () => {
    const gpu = fake();
    (gpu.executor as { inputInfo: () => ValueInfo[] }).inputInfo = () => inputs.map((v) => ({ ...v, type: 'unknown' as const }));
    const out = await verifyAtLoad(subject(gpu.executor), verifyOptions(true)!, async () => fake().executor);
    expect(out.info.status).toBe('agreed');
  });

  it('a GPU plan that throws where WASM answers diverges with metric `error`', async () => {
    const out = await verifyAtLoad(subject(fake(undefined, true).executor), verifyOptions(true)!, async () => fake().executor);
    expect(out.info.status).toBe('diverged');
    expect(out.info.outputs).toEqual([expect.objectContaining({ metric: 'error', detail: 'kernel exploded' })]);
  });

  it('skips WASM models, models above maxBytes, and a reference that cannot be made or run, saying why', async () => {
    const never = async (): Promise<Executor> => {
      throw new Error('should not be built');
    };
    expect((await verifyAtLoad(subject(fake().executor, 'wasm'), verifyOptions(true)!, never)).info).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/reference itself/),
    });
    expect((await verifyAtLoad(subject(fake().executor), verifyOptions({ maxBytes: 10 })!, never)).info.reason).toMatch(/above verify\.maxBytes .*Raise/);
    const noSession = async (): Promise<Executor> => {
      throw new Error('no kernel for op X');
    };
    expect((await verifyAtLoad(subject(fake().executor), verifyOptions(true)!, noSession)).info.reason).toMatch(/could not create a session.*op X/);
    const refFails = fake(undefined, true);
    const out = await verifyAtLoad(subject(fake().executor), verifyOptions(true)!, async () => refFails.executor);
    expect(out.info.reason).toMatch(/failed on the synthetic inputs.*verify\.shapes/);
    expect(refFails.state.disposed).toBe(true);
  });

  it('runs > 1: fresh seeded inputs per step, each plan fed its own state', async () => {
    const gpu = fake();
    await verifyAtLoad(subject(gpu.executor), verifyOptions({ runs: 3 })!, async () => fake().executor);
    const xs = gpu.state.seen.map((f) => [...(f.x!.data as Float32Array)]);
    expect(new Set(xs.map(String)).size).toBe(3);
    const h = gpu.state.seen.map((f) => [...(f.h!.data as Float32Array)]);
    expect(h[1]).toEqual(h[0]!.map((v) => Math.fround(v + 1)));
    expect(h[2]).toEqual(h[0]!.map((v) => Math.fround(Math.fround(v + 1) + 1)));
  });

  it('plans that quantize activations at run time get the looser default tolerance', async () => {
    const q8 = { ...subject(fake().executor), bytes: new TextEncoder().encode('..DynamicQuantizeLinear..') };
    expect((await verifyAtLoad(q8, verifyOptions(true)!, async () => fake().executor)).info.outputs[0]!.tolerance).toBe(3e-2);
    expect(quantizesAtRunTime(new TextEncoder().encode('com.microsoft MatMulNBits'))).toBe(true);
    expect(quantizesAtRunTime(bytes)).toBe(false);
    expect((await verifyAtLoad(q8, verifyOptions({ tolerance: 0.5 })!, async () => fake().executor)).info.outputs[0]!.tolerance).toBe(0.5);
  });
});

describe('verifyFeeds', () => {
  it('fills floats with seeded values spread over [-1, 1), keeps given feeds, and is reproducible', () => {
    const a = verifyFeeds(inputs, { shapes: { x: [2, 4] }, feeds: {}, seed: 1 })!;
    const x = [...(a.x!.data as Float32Array)];
    expect(a.x!.dims).toEqual([2, 4]);
    expect(x.every((v) => v >= -1 && v < 1)).toBe(true);
    expect(new Set(x).size).toBe(8);
    expect(x.some((v) => v < 0) && x.some((v) => v > 0)).toBe(true);
    expect([...(verifyFeeds(inputs, { shapes: { x: [2, 4] }, feeds: {}, seed: 1 })!.x!.data as Float32Array)]).toEqual(x);
    expect([...(verifyFeeds(inputs, { shapes: { x: [2, 4] }, feeds: {}, seed: 2 })!.x!.data as Float32Array)]).not.toEqual(x);
    const h: TensorLike = { type: 'float32', dims: [1, 2], data: Float32Array.of(0, 0) };
    expect(verifyFeeds(inputs, { shapes: {}, feeds: { h }, seed: 1 })!.h).toBe(h);
  });

  it('refuses names that are not inputs and feeds that do not fit', () => {
    expect(() => verifyFeeds(inputs, { shapes: { z: [1] }, feeds: {}, seed: 1 })).toThrow(InputError);
    expect(() => verifyFeeds(inputs, { shapes: { h: [3, 3] }, feeds: {}, seed: 1 })).toThrow(/verify\.shapes or verify\.feeds do not fit/);
  });
});

describe('verifyOptions', () => {
  it('is on by default, off with false, and refuses bad values with an InputError', () => {
    expect(verifyOptions(undefined)).toMatchObject({ runs: 1, onDiverge: 'fallback', maxBytes: 256 * 2 ** 20, seed: 1 });
    expect(verifyOptions(false)).toBeNull();
    expect(() => verifyOptions({ runs: 0 })).toThrow(InputError);
    expect(() => verifyOptions({ tolerance: -1 })).toThrow(InputError);
    expect(() => verifyOptions({ onDiverge: 'ignore' as never })).toThrow(/'fallback', 'error' or 'report'/);
  });
});
