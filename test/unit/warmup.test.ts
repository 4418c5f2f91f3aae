// Load-time warm-up logic with a stand-in executor and a fake clock: how many runs, when the time
// budget stops it, what inputs it synthesizes, and the named errors for bad options and failed runs.
// (The browser test test/browser/warmup.spec.ts runs it on real models through the Worker.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, InputError } from '../../src/errors';
import type { TensorMap, ValueInfo } from '../../src/types';
import type { PlanExecutor } from '../../src/worker/executor';
import { WARMUP_DEFAULTS, warmUp, warmupOptions } from '../../src/worker/warmup';

const inputs: ValueInfo[] = [
  { name: 'x', type: 'float32', dims: ['batch', 3, 48, 4294967295] },
  { name: 'h', type: 'float32', dims: [2, 'batch', 8] },
];

/** An executor whose runs each take `ms` on the fake clock; it records the feeds it saw. */
function fakeExecutor(ms: number, fail?: (n: number) => Error | null) {
  const seen: TensorMap[] = [];
  const executor = {
    async run(feeds: TensorMap) {
      seen.push(feeds);
      vi.advanceTimersByTime(ms);
      const err = fail?.(seen.length);
      if (err) throw err;
      return { outputs: {}, counters: {}, phases: {} };
    },
  } as unknown as PlanExecutor;
  return { executor, seen };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

beforeEach(() => vi.useFakeTimers({ toFake: ['performance'] }));
afterEach(() => vi.useRealTimers());

describe('warmupOptions', () => {
  it('is off unless asked for', () => {
    for (const off of [undefined, false, 0]) expect(warmupOptions(off)).toBeNull();
  });
  it('true means the defaults; a number means that many runs', () => {
    expect(warmupOptions(true)).toEqual({ ...WARMUP_DEFAULTS, shapes: {}, feeds: {} });
    expect(warmupOptions(7)).toEqual({ runs: 7, budgetMs: WARMUP_DEFAULTS.budgetMs, shapes: {}, feeds: {} });
  });
  it('rejects bad runs, budgets and shapes with an InputError', () => {
    for (const bad of [-1, 1.5, { runs: NaN }, { budgetMs: 0 }, { budgetMs: -5 }, { shapes: { x: [1, -3] } }, { shapes: { x: 'wide' } }, { feeds: 3 }, 'yes']) {
      const e = thrown(() => warmupOptions(bad as never));
      expect(e, JSON.stringify(bad)).toBeInstanceOf(InputError);
      expect((e as InputError).code).toBe('INPUT_INVALID');
    }
  });
});

describe('warmUp', () => {
  it('makes `runs` runs on zero-filled inputs that respect symbolic dims, and reports them', async () => {
    const { executor, seen } = fakeExecutor(4);
    const info = await warmUp(executor, inputs, warmupOptions({ runs: 5, budgetMs: 1000, shapes: { x: [2, 3, 48, 100] } })!);
    expect(seen).toHaveLength(5);
    expect(info).toMatchObject({ runs: 5, stopped: 'runs', firstMs: 4, lastMs: 4, shapes: { x: [2, 3, 48, 100], h: [2, 2, 8] } });
    expect(info.ms).toBe(20);
    expect(seen[0]!.h!.data).toEqual(new Float32Array(2 * 2 * 8));
  });
  it('uses given feeds as they are, sizing named symbols from them', async () => {
    const { executor, seen } = fakeExecutor(1);
    const h = { type: 'float32' as const, dims: [2, 3, 8], data: new Float32Array(48).fill(0.5) };
    const info = await warmUp(executor, inputs, warmupOptions({ runs: 1, feeds: { h } })!);
    expect(seen[0]!.h).toBe(h);
    expect(info.shapes).toEqual({ x: [3, 3, 48, 32], h: [2, 3, 8] });
  });
  it('stops once the time budget is spent', async () => {
    const { executor, seen } = fakeExecutor(30);
    const info = await warmUp(executor, inputs, warmupOptions({ runs: 100, budgetMs: 100 })!);
    expect(seen).toHaveLength(4); // starts at 0, 30, 60, 90 ms; not at 120
    expect(info).toMatchObject({ runs: 4, stopped: 'budget', ms: 120 });
  });
  it('a failed run rejects with an InputError naming the shapes it tried', async () => {
    const { executor } = fakeExecutor(1, (n) => (n === 2 ? new Error('ORT: shape mismatch') : null));
    const e = await warmUp(executor, inputs, warmupOptions(10)!).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(/run 2 failed .*x: \[1, 3, 48, 32\].*ORT: shape mismatch.*warmup\.shapes.*warmup\.feeds/);
    expect((e as InputError).details).toMatchObject({ warmup: true, shapes: { h: [2, 1, 8] } });
  });
  it('shapes that do not fit the model, or name no input, are an InputError before any run', async () => {
    const { executor, seen } = fakeExecutor(1);
    await expect(warmUp(executor, inputs, warmupOptions({ shapes: { x: [1, 4, 48, 9] } })!)).rejects.toThrow(/do not fit the model.*dimension 1 = 4/);
    await expect(warmUp(executor, inputs, warmupOptions({ shapes: { y: [1] } })!)).rejects.toThrow(/names "y", which is not an input/);
    await expect(warmUp(executor, inputs, warmupOptions({ feeds: { h: { type: 'int32', dims: [2, 1, 8], data: new Int32Array(16) } } })!)).rejects.toThrow(
      /do not fit the model.*dtype int32/,
    );
    // What an ort.Tensor becomes after a structured clone: no `data`.
    const cloned = { type: 'float32', dims: [2, 1, 8], cpuData: new Float32Array(16) } as unknown as TensorMap[string];
    await expect(warmUp(executor, inputs, warmupOptions({ feeds: { h: cloned } })!)).rejects.toThrow(/warmup\.feeds\["h"\] must be a plain/);
    expect(seen).toHaveLength(0);
  });
  it('stops with an AbortError when the load is aborted', async () => {
    const abort = new AbortController();
    const { executor, seen } = fakeExecutor(1, (n) => (n === 3 ? (abort.abort(), null) : null));
    await expect(warmUp(executor, inputs, warmupOptions(50)!, abort.signal)).rejects.toBeInstanceOf(AbortError);
    expect(seen).toHaveLength(3);
  });
});
