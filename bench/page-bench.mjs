// Shared by the kernel benches' page functions, inside their bench pages (served from the
// repository: a page function imports `/bench/page-bench.mjs`, since it cannot close over Node code):
// onnxruntime-web's WebGPU build with webq8's kernels registered, and the timing loop.

/**
 * onnxruntime-web (WebGPU build, one WASM thread), webq8's kernels entry with its built-in kernels
 * registered, and the session options of a WebGPU session with GPU-resident outputs.
 */
export async function ortAndKernels() {
  const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs');
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;
  const k = await import('/dist/kernels.js');
  k.registerBuiltinKernels();
  return { ort, k, gpuOpts: { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' } };
}

/**
 * Best wall-clock time of `fn` (ms) over up to `runs` runs after one untimed warm-up run (it
 * compiles), stopping early once `budget` ms have passed (at least one timed run).
 * @param {() => Promise<void>} fn @param {number} runs @param {number} budget
 * @returns {Promise<{ ms: number, runs: number }>}
 */
export async function bestOf(fn, runs, budget) {
  let best = Infinity;
  let count = 0;
  const start = performance.now();
  await fn();
  while (count < runs && (count === 0 || performance.now() - start < budget)) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
    count++;
  }
  return { ms: best, runs: count };
}
