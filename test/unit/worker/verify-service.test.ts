// Verification in service (src/worker/verify-service.ts, src/worker/verify-idle.ts) with stand-in
// executors: sampling at the rate, outputs copied (the caller's buffers are transferred away), at
// most maxPending samples kept (the rest dropped and counted), agreement and divergence counted by
// output, a check only when the model is idle and giving its turn to a request that came in, the
// switch to the reference on 'fallback' and none on 'report', and the reference released on dispose.
// (test/browser/verify.spec.ts runs it on real models against ORT's WASM EP.)
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import type { BackendDecision, ModelInfo, TensorLike, TensorMap } from '../../../src/types';
import type { Executor } from '../../../src/worker/executor';
import { verifyOptions } from '../../../src/worker/verify';
import { IdleSlots } from '../../../src/worker/idle';
import { checkWhenIdle, sampleRun, startServiceVerify, type IdleTurn, type ServiceVerifiedModel } from '../../../src/worker/verify-idle';
import { ServiceVerifier } from '../../../src/worker/verify-service';

const bytes = new TextEncoder().encode('a float model');
const x = (v: number): TensorMap => ({ x: { type: 'float32', dims: [1, 4], data: Float32Array.of(v, v + 1, v + 2, v + 3) } });

/** A reference answering y = 2x; counts its runs and whether it was disposed. */
function reference() {
  const state = { runs: 0, disposed: false };
  const executor = {
    async run(feeds: TensorMap) {
      state.runs++;
      const y: TensorLike = { type: 'float32', dims: [1, 4], data: (feeds.x!.data as Float32Array).map((v) => 2 * v) };
      return { outputs: { y }, counters: {}, phases: {} };
    },
    async dispose() {
      state.disposed = true;
    },
  } as unknown as Executor;
  return { executor, state };
}

const answer = (feeds: TensorMap, scale = 2) => ({
  y: { type: 'float32', dims: [1, 4], data: (feeds.x!.data as Float32Array).map((v) => scale * v) } as TensorLike,
});

function verifier(options: { sampleRate?: number; maxPending?: number } = {}, random = () => 0) {
  const ref = reference();
  const v = new ServiceVerifier(bytes, { sampleRate: 1, maxPending: 4, ...options }, random, async () => ref.executor);
  return { v, ref };
}

describe('ServiceVerifier', () => {
  it('samples at the rate, copies the outputs, keeps at most maxPending and counts the rest as dropped', async () => {
    const draws = [0.05, 0.5, 0.09, 0.99];
    const { v } = verifier({ sampleRate: 0.1, maxPending: 1 }, () => draws.shift()!);
    const first = x(1);
    const out = answer(first);
    v.offer(first, out);
    (out.y!.data as Float32Array).fill(0); // the caller's buffer goes away: the sample holds its own copy
    v.offer(x(2), answer(x(2))); // not drawn (0.5 ≥ 0.1)
    v.offer(x(3), answer(x(3))); // drawn, but the queue is full
    v.offer(x(4), answer(x(4))); // not drawn
    expect(v.stats()).toMatchObject({ sampleRate: 0.1, pending: 1, dropped: 1, checked: 0 });
    expect(await v.checkOne()).toMatchObject({ ok: true });
    expect(v.stats()).toMatchObject({ pending: 0, checked: 1, agreed: 1, diverged: 0, worst: { name: 'y', metric: 'relL2', value: 0 } });
    expect(await v.checkOne()).toBeNull();
  });

  it('counts a divergence by output, names it, and creates the reference once', async () => {
    const { v, ref } = verifier();
    v.offer(x(1), answer(x(1), 3));
    v.offer(x(2), answer(x(2)));
    const verdict = await v.checkOne();
    expect(verdict!.ok).toBe(false);
    expect(verdict!.reason).toMatch(/sampled production run diverged.*output "y" relL2/);
    await v.checkOne();
    expect(v.stats()).toMatchObject({ checked: 2, agreed: 1, diverged: 1, divergedOutputs: { y: 1 }, worst: { name: 'y', metric: 'relL2' } });
    expect(v.stats().worst!.value).toBeCloseTo(0.5, 6);
    expect(ref.state.runs).toBe(2);
    await v.dispose();
    expect(ref.state.disposed).toBe(true);
  });

  it('counts a sample the reference could not run as dropped', async () => {
    const v = new ServiceVerifier(
      bytes,
      { sampleRate: 1, maxPending: 4 },
      () => 0,
      () => Promise.reject(new Error('no WASM')),
    );
    v.offer(x(1), answer(x(1)));
    expect(await v.checkOne()).toBeNull();
    expect(v.stats()).toMatchObject({ checked: 0, dropped: 1, pending: 0 });
  });
});

/** A loaded model on WebGPU with a verifier, and a request chain of its own as the engine's. */
function loaded(onDiverge: 'fallback' | 'report', sampleRate = 1) {
  const decision: BackendDecision = { backend: 'webgpu', requested: 'webgpu', reason: 'asked' };
  const info = { backend: decision, verify: { status: 'agreed', reason: '', outputs: [], ms: 0 } } as unknown as ModelInfo;
  const gpu = reference();
  const model: ServiceVerifiedModel = {
    info,
    decision,
    executor: gpu.executor,
    recipe: { plan: { steps: [] } } as never,
    outputsOnGpu: false,
    idle: new IdleSlots(),
  };
  const resolved = verifyOptions({ sampleRate, onDiverge })!;
  startServiceVerify(model, bytes, resolved);
  const ref = reference();
  // The verifier's reference is the stand-in (the real one is ORT's WASM EP).
  (model.verifier as unknown as { makeReference: () => Promise<Executor> }).makeReference = async () => ref.executor;
  let tail: Promise<unknown> = Promise.resolve();
  const enter: IdleTurn = (work) => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };
  return { model, gpu, ref, enter, idle: () => new Promise((r) => setTimeout(r, 5)) };
}

describe('checkWhenIdle', () => {
  it('checks only when no request of the model is queued or running, and on fallback serves from the reference', async () => {
    const { model, gpu, ref, enter, idle } = loaded('fallback');
    model.verifier!.offer(x(1), answer(x(1), 3));
    const done = model.idle.request(); // a request in flight: nothing is checked, the sample waits
    checkWhenIdle(model, enter);
    await idle();
    expect(ref.state.runs).toBe(0);
    expect(model.verifier!.stats().pending).toBe(1);
    done(); // the request settled: the model is idle, the check runs
    await idle();
    expect(model.verifier!.stats()).toMatchObject({ checked: 1, diverged: 1 });
    expect(model.decision.backend).toBe('wasm');
    expect(model.info.backend.reason).toMatch(/^Served from ORT's WASM EP: a sampled production run diverged/);
    expect(model.executor).toBe(ref.executor);
    expect(gpu.state.disposed).toBe(true);
    await model.verifier!.dispose();
    expect(ref.state.disposed).toBe(false); // now the model's executor, not the verifier's
  });

  it("keeps the GPU plan under 'report', and starts nothing without a sample rate or on WASM", async () => {
    const { model, gpu, enter, idle } = loaded('report');
    model.verifier!.offer(x(1), answer(x(1), 3));
    checkWhenIdle(model, enter);
    await idle();
    expect(model.verifier!.stats().diverged).toBe(1);
    expect([model.decision.backend, model.executor]).toEqual(['webgpu', gpu.executor]);
    const plain = { ...model, verifier: undefined, info: { ...model.info } } as ServiceVerifiedModel;
    startServiceVerify(plain, bytes, verifyOptions(true));
    expect(plain.verifier).toBeUndefined();
    const onWasm = { ...plain, decision: { ...plain.decision, backend: 'wasm' as const } };
    startServiceVerify(onWasm, bytes, verifyOptions({ sampleRate: 1 }));
    expect(onWasm.verifier).toBeUndefined();
  });

  it('an answer carries the counts only after they changed: an unsampled run sends nothing; a divergence names its worst output', async () => {
    const { model, enter, idle } = loaded('report', 0.01);
    const draws = [0.5, 0.5, 0.001, 0.5];
    (model.verifier as unknown as { random: () => number }).random = () => draws.shift()!;
    expect(sampleRun(model, x(1), answer(x(1)))).toBeUndefined(); // not drawn, nothing changed since load
    expect(sampleRun(model, x(2), answer(x(2)))).toBeUndefined();
    expect(sampleRun(model, x(3), answer(x(3), 3))!.service).toMatchObject({ pending: 1, checked: 0 }); // drawn: the queue changed
    checkWhenIdle(model, enter);
    await idle();
    const after = sampleRun(model, x(4), answer(x(4)))!.service; // not drawn, but the check finished since
    expect(after).toMatchObject({ checked: 1, diverged: 1, pending: 0, lastDiverged: { name: 'y', metric: 'relL2', tolerance: 1e-3 } });
    expect(after.lastDiverged!.value).toBeCloseTo(0.5, 6);
    expect(sampleRun(model, x(5), answer(x(5)))).toBeUndefined();
  });

  it('refuses a sample rate outside [0, 1] and a maxPending below 1', () => {
    expect(() => verifyOptions({ sampleRate: 2 })).toThrow(InputError);
    expect(() => verifyOptions({ sampleRate: -0.1 })).toThrow(/between 0 and 1/);
    expect(() => verifyOptions({ maxPending: 0 })).toThrow(/maxPending/);
  });
});
