// Weight-only int8 (W8A32) on webq8's kernels vs onnxruntime-web's own WASM kernels on the same
// models: QDQ weight-only (per-tensor, per-column, blocked along K; int8 and uint8; with and without
// zero points) and com.microsoft MatMulNBits with bits = 8 (with and without zero points, with bias),
// at M = 1 (the GEMV path) and M = 7 (the tiled path). ORT is the oracle: nobody here wrote it.
import { matMulNBits8, weightOnlyQdq } from '../unit/graph/models';
import { expect, test } from './fixtures';

const CASES = [
  { name: 'QDQ per-tensor int8', k: 96, n: 20, bytes: () => weightOnlyQdq(96, 20, { type: 'int8', scales: 'tensor' }) },
  { name: 'QDQ per-column uint8 + zp', k: 130, n: 33, bytes: () => weightOnlyQdq(130, 33, { type: 'uint8', scales: 'column', zeroPoint: true }) },
  { name: 'QDQ blocked 32 int8 + zp', k: 128, n: 24, bytes: () => weightOnlyQdq(128, 24, { type: 'int8', scales: 32, zeroPoint: true }) },
  { name: 'MatMulNBits-8 block 32', k: 256, n: 40, bytes: () => matMulNBits8(256, 40, 32) },
  { name: 'MatMulNBits-8 block 16 + zp + bias', k: 80, n: 18, bytes: () => matMulNBits8(80, 18, 16, { zeroPoint: true, bias: true }) },
];

test('weight-only matmuls run on webq8 kernels and match ORT WASM within float32 rounding', async ({ webq8Page: page }) => {
  const cases = CASES.map((c) => ({ name: c.name, k: c.k, n: c.n, model: [...c.bytes()] }));
  const results = await page.evaluate(async (cases) => {
    const { createRuntime } = await import('/dist/index.js');
    // @ts-expect-error: served file, no types at this path
    const ort = (await import('/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs')) as typeof import('onnxruntime-web');
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    ort.env.wasm.numThreads = 1;
    const rt = createRuntime();
    const out = [];
    for (const c of cases) {
      const bytes = new Uint8Array(c.model);
      const model = await rt.load(bytes, { backend: 'webgpu', strategy: 'kernels' });
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      for (const m of [1, 7]) {
        const x = Float32Array.from({ length: m * c.k }, (_, i) => Math.sin(i * 0.731 + m) * 1.5);
        const ours = (await model.run({ x: { type: 'float32', dims: [m, c.k], data: x.slice() } })).y!;
        const theirs = (await session.run({ x: new ort.Tensor('float32', x.slice(), [m, c.k]) })).y!;
        const a = ours.data as Float32Array;
        const b = theirs.data as Float32Array;
        let maxErr = 0;
        let scale = 0;
        for (let i = 0; i < b.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
          scale = Math.max(scale, Math.abs(b[i]!));
        }
        out.push({
          name: c.name,
          m,
          dims: ours.dims,
          oracleDims: [...theirs.dims],
          relErr: maxErr / scale,
          dispatches: model.stats().lastRun!.counters.kernelDispatches,
          pattern: model.info.placement?.kernels[0]?.pattern,
          strategy: model.info.strategy?.strategy,
        });
      }
      await session.release();
      await model.dispose();
    }
    await rt.dispose();
    return out;
  }, cases);
  expect(results).toHaveLength(CASES.length * 2);
  for (const r of results) {
    expect(r.strategy, r.name).toBe('kernels');
    expect(r.pattern, r.name).toMatch(/qdq-weight-only|MatMulNBits/);
    expect(r.dispatches, r.name).toBeGreaterThan(0);
    expect(r.dims, r.name).toEqual(r.oracleDims);
    // Float32 accumulation in another order than ORT's: relative error at float32 rounding over K ≤ 256.
    expect(r.relErr, `${r.name} M=${r.m}`).toBeLessThan(2e-5);
  }
});

// PP-OCRv4 rec quantized weight-only is checked in partition.spec.ts, in the runtime of the q8 rec
// test, whose compiled ORT WebGPU shaders it reuses.
