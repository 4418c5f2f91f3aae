// @ts-check
// What every consumer app does, exactly as a user's app would: the README quickstart with no asset
// configuration. It loads PP-OCR's orientation classifier on 'auto', 'wasm' and forced 'webgpu',
// and a small int8 MLP (made with the tarball's own `webq8 quantize`) on WebGPU with
// strategy 'kernels' — so the Worker, onnxruntime-web's .mjs/.wasm and the kernel registrations
// must all survive the app's bundler. The outputs go back to the test, which compares them with
// onnxruntime-web run directly in Node.
import { createRuntime } from 'webq8';
import { CLS_DIMS, MLP_DIMS, clsInput, mlpInput } from './inputs.js';

/**
 * @typedef {{ backend: string, dims: number[], data: number[] }} Outcome
 * @typedef {{ cls: Record<'auto' | 'wasm' | 'webgpu', Outcome>, kernels: Outcome & { strategy: string, kernelSteps: number } }} ScenarioResult
 */

/** @returns {Promise<ScenarioResult>} */
export async function runScenario() {
  const runtime = createRuntime();
  /** @type {Partial<Record<'auto' | 'wasm' | 'webgpu', Outcome>>} */
  const cls = {};
  for (const backend of /** @type {const} */ (['auto', 'wasm', 'webgpu'])) {
    const model = await runtime.load('models/cls.onnx', { backend });
    const out = await model.run({ x: { type: 'float32', dims: CLS_DIMS, data: clsInput() } });
    cls[backend] = outcome(model.info.backend.backend, Object.values(out)[0]);
    await model.dispose();
  }
  const q8 = await runtime.load('models/mlp-q8.onnx', { backend: 'webgpu', strategy: 'kernels' });
  const out = await q8.run({ x: { type: 'float32', dims: MLP_DIMS, data: mlpInput() } });
  const kernels = {
    ...outcome(q8.info.backend.backend, Object.values(out)[0]),
    strategy: q8.info.strategy?.strategy ?? 'none',
    kernelSteps: q8.info.placement?.kernels.length ?? 0,
  };
  await runtime.dispose();
  return { cls: /** @type {ScenarioResult['cls']} */ (cls), kernels };
}

/**
 * @param {string} backend
 * @param {import('webq8').TensorLike | undefined} t
 * @returns {Outcome}
 */
function outcome(backend, t) {
  if (!t) throw new Error('the model returned no output');
  return { backend, dims: [...t.dims], data: Array.from(/** @type {Float32Array} */ (t.data)) };
}

/** Runs the scenario once the page loads and leaves the result (or the error) on `window.webq8Result`. */
export function start() {
  const w = /** @type {{ webq8Result?: unknown }} */ (/** @type {unknown} */ (window));
  runScenario().then(
    (result) => (w.webq8Result = { ok: true, result }),
    (/** @type {unknown} */ e) => {
      const err = /** @type {{ name?: string, code?: string, message?: string }} */ (e);
      w.webq8Result = { ok: false, error: { name: err.name, code: err.code, message: err.message ?? String(e) } };
    },
  );
}
