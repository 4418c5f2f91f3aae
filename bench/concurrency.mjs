// `npm run bench -- concurrency`: two models of one runtime on WebGPU, each driven by its own
// closed-loop caller, first alone and then both at once. onnxruntime-web runs one call at a time per
// Worker (src/worker/ort-gate.ts), so the pair shares the instance; the question is whether the
// sharing adds idle time. Goal: Σ (pair throughput ÷ alone throughput) ≥ 0.9 — the fractions of its
// own alone throughput each model keeps add up to (nearly) one whole instance.
// Models: a q8 MLP (x[4,256] → 2 × 256×256 int8 matmuls, webq8's quantizer) on the ORT plan (its
// MatMulInteger runs on ORT's CPU fallback inside Run()) and the same model on the kernel plan.
import { openBenchPage, q8Mlp256, table } from './browser.mjs';

const SECONDS = Number(process.env.WEBQ8_CONC_SECONDS ?? 6);

/** Runs the benchmark and prints its table. */
export async function run() {
  const model = await q8Mlp256();
  const { page, close } = await openBenchPage();
  try {
    const r = await page.evaluate(
      async ({ model, seconds }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime();
        const load = (strategy) => rt.load(new Uint8Array(model), { backend: 'webgpu', strategy, cache: 'bypass', verify: false });
        const models = { ort: await load('ort'), kernels: await load('kernels') };
        const feeds = () => ({ x: { type: 'float32', dims: [4, 256], data: Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i)) } });
        for (const m of Object.values(models)) for (let i = 0; i < 3; i++) await m.run(feeds()); // warm-up, not timed
        const loop = async (m, until) => {
          let n = 0;
          for (; performance.now() < until; n++) await m.run(feeds());
          return n;
        };
        const phase = async (names) => {
          const t0 = performance.now();
          const counts = await Promise.all(names.map((k) => loop(models[k], t0 + seconds * 1000)));
          const s = (performance.now() - t0) / 1000;
          return Object.fromEntries(names.map((k, i) => [k, counts[i] / s]));
        };
        const alone = { ...(await phase(['ort'])), ...(await phase(['kernels'])) };
        const pair = await phase(['ort', 'kernels']);
        const adapter = models.ort.info.adapter;
        await rt.dispose();
        return { alone, pair, adapter: adapter ? `${adapter.vendor} ${adapter.architecture}${adapter.isFallbackAdapter ? ' (fallback)' : ''}` : 'none' };
      },
      { model, seconds: SECONDS },
    );
    const share = r.pair.ort / r.alone.ort + r.pair.kernels / r.alone.kernels;
    console.log(`\nconcurrency — two models of one runtime on WebGPU, ${SECONDS} s per phase, adapter: ${r.adapter}`);
    console.log('model: q8 MLP x[4,256] → 2 × 256×256 int8 matmuls; one on the ORT plan (CPU-fallback MatMulInteger), one on the kernel plan\n');
    console.log(
      table(
        ['model', 'alone (runs/s)', 'in the pair (runs/s)', 'share of alone'],
        ['ort', 'kernels'].map((k) => [k, r.alone[k].toFixed(1), r.pair[k].toFixed(1), (r.pair[k] / r.alone[k]).toFixed(2)]),
      ),
    );
    console.log(`\nΣ shares = ${share.toFixed(2)}  (goal ≥ 0.90: the shared ORT instance adds no idle time) ${share >= 0.9 ? 'met' : 'NOT met'}`);
  } finally {
    await close();
  }
}
