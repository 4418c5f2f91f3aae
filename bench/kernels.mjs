#!/usr/bin/env node
// `npm run bench -- kernels` (after `npm run build`): webq8's int8 matmul kernels vs onnxruntime-web
// on the same adapter, in one page and one run, so the ratios are comparable:
//   ours int32 (dp4a, portable; tuned kernel per variant), ours fused (DQL + QuantizedMatMul,
//   float32 in → float32 out, the variant the tuner chose), ours W8A32 (weight-only: float32
//   activations, 8-bit weights, block 32), ORT WebGPU MatMul fp32 (one-node
//   model), ORT WebGPU MatMulNBits bits=8 block 32 accuracy_level 4, ORT WASM MatMulInteger;
//   plus the adapter's peak int8 MAC throughput (dot4I8Packed and vec4<i32>), our fraction of the
//   better one, and the dp4a kernel's fraction of the dot4I8Packed peak (goal ≥ 80 % at M ≥ 64).
// Times are wall clock from submit to onSubmittedWorkDone (ORT: session.run with GPU-resident
// input and output), best of up to RUNS after one warm-up run, with at most BUDGET_MS per entry.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importOnnxBuilder, openBenchPage, table } from './browser.mjs';

const SHAPES = process.env.WEBQ8_BENCH_SHAPES
  ? process.env.WEBQ8_BENCH_SHAPES.split(',').map((s) => s.split('x').map(Number))
  : [
      [1, 768, 768],
      [1, 768, 3072],
      [16, 768, 768],
      [64, 768, 768],
      [256, 1024, 1024],
      [512, 768, 3072],
    ];
const RUNS = Number(process.env.WEBQ8_BENCH_RUNS ?? 3);
const BUDGET_MS = Number(process.env.WEBQ8_BENCH_BUDGET_MS ?? 6000);
const root = fileURLToPath(new URL('..', import.meta.url));
const CACHE = '.cache/bench'; // created by importOnnxBuilder(); git-ignored

function seeded(n, seed, f) {
  let s = seed >>> 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = f(s / 4294967296);
  }
  return out;
}

/** Writes the three one-node ORT models of a shape; returns their URLs. */
export function writeModels(b, [m, k, n]) {
  const tag = `${m}x${k}x${n}`;
  const models = {
    fp32: b.buildModel({
      inputs: [{ name: 'A', type: 'float32', dims: [m, k] }],
      outputs: [{ name: 'Y', type: 'float32', dims: [m, n] }],
      nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }],
      initializers: { B: { type: 'float32', dims: [k, n], data: Float32Array.from(seeded(k * n, 1, (r) => r - 0.5)) } },
    }),
    nbits: b.buildModel({
      inputs: [{ name: 'A', type: 'float32', dims: [m, k] }],
      outputs: [{ name: 'Y', type: 'float32', dims: [m, n] }],
      nodes: [
        {
          op: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: ['A', 'B', 'scales'],
          outputs: ['Y'],
          attrs: { K: k, N: n, bits: 8, block_size: 32, accuracy_level: 4 },
        },
      ],
      initializers: {
        B: { type: 'uint8', dims: [n, k / 32, 32], data: Uint8Array.from(seeded(n * k, 2, (r) => Math.floor(r * 256))) },
        scales: { type: 'float32', dims: [n * (k / 32)], data: Float32Array.from(seeded(n * (k / 32), 3, (r) => 0.001 + r * 0.01)) },
      },
      domains: { 'com.microsoft': 1 },
    }),
    mmint: b.buildModel({
      inputs: [{ name: 'A', type: 'uint8', dims: [m, k] }],
      outputs: [{ name: 'Y', type: 'int32', dims: [m, n] }],
      nodes: [{ op: 'MatMulInteger', inputs: ['A', 'B', 'a_zp'], outputs: ['Y'] }],
      initializers: {
        B: { type: 'int8', dims: [k, n], data: Int8Array.from(seeded(k * n, 4, (r) => Math.floor(r * 256) - 128)) },
        a_zp: { type: 'uint8', dims: [], data: Uint8Array.from([128]) },
      },
    }),
  };
  const urls = {};
  for (const [name, bytes] of Object.entries(models)) {
    writeFileSync(`${root}${CACHE}/${name}-${tag}.onnx`, bytes);
    urls[name] = `/${CACHE}/${name}-${tag}.onnx`;
  }
  return urls;
}

/** Runs in the page: everything measured on ORT's own GPUDevice. */
async function pageBench({ shapes, runs, budget, peakCode }) {
  const { ortAndKernels, bestOf } = await import('/bench/page-bench.mjs');
  const { ort, k, gpuOpts } = await ortAndKernels();
  let ctx;
  const time = (fn) => bestOf(fn, runs, budget);
  const rows = [];
  // ORT destroys its device when its last WebGPU session is released: keep one alive throughout.
  const keepAlive = await ort.InferenceSession.create(shapes[0].urls.fp32, gpuOpts);
  ctx = new k.GpuContext(await ort.env.webgpu.device); // ORT #26107: share ORT's device, not ours
  // Peak int8 MAC throughput: 64 workgroups x 256 invocations, ITERS x 8 ops x 8 per invocation.
  // Measured before and after the shapes, keeping the best, because other load on the machine
  // lowers it as much as it lowers the kernels.
  const peak = { dp4a: 0, mad_vec4: 0 };
  const sink = ctx.buffers.acquire(16384 * 4, 0x80 | 0x4, 'bench.sink');
  const measurePeak = async () => {
    for (const entryPoint of ['dp4a', 'mad_vec4']) {
      const iters = 4096;
      const program = { shaderKey: 'bench-peak', label: `bench.peak.${entryPoint}`, code: peakCode, entryPoint, constants: { ITERS: iters }, workgroups: [64] };
      const t = await time(async () => {
        ctx.dispatch(program, [sink]);
        await ctx.device.queue.onSubmittedWorkDone();
      });
      peak[entryPoint] = Math.max(peak[entryPoint], (16384 * iters * 8 * 8) / (t.ms * 1e6));
    }
  };
  await measurePeak();
  for (const { shape, urls } of shapes) {
    const [m, kk, n] = shape;
    const fp32 = await ort.InferenceSession.create(urls.fp32, gpuOpts);
    const device = ctx.device;
    const aF = Float32Array.from({ length: m * kk }, (_, i) => Math.sin(i) * 2);
    const aGpu = ctx.upload(aF, 'bench.a');
    const ortRun = (session, feeds) => async () => {
      const out = await session.run(feeds);
      for (const t of Object.values(out)) if (t.location === 'gpu-buffer') t.dispose();
      await device.queue.onSubmittedWorkDone();
    };
    const gpuA = ort.Tensor.fromGpuBuffer(aGpu, { dataType: 'float32', dims: [m, kk] });
    const r = { shape: shape.join('x'), ops: 2 * m * kk * n };
    r.ortFp32 = await time(ortRun(fp32, { A: gpuA }));
    await fp32.release();
    try {
      const nbits = await ort.InferenceSession.create(urls.nbits, gpuOpts);
      r.ortNbits = await time(ortRun(nbits, { A: gpuA }));
      await nbits.release();
    } catch (e) {
      r.ortNbits = { error: String(e.message ?? e).slice(0, 80) };
    }
    const wasm = await ort.InferenceSession.create(urls.mmint, { executionProviders: ['wasm'] });
    const aU8 = new ort.Tensor(
      'uint8',
      Uint8Array.from(aF, (v) => (v * 40 + 128) & 255),
      [m, kk],
    );
    r.ortWasm = await time(async () => void (await wasm.run({ A: aU8 })));
    await wasm.release();
    // Ours: tune once for this shape class, then time the best kernel of each variant.
    const choice = await k.tuneInt8Matmul(ctx, { m, k: kk, n });
    r.chosen = k.int8KernelName(choice.best);
    const bData = Int8Array.from({ length: kk * n }, (_, i) => ((i * 2654435761) >>> 24) - 128);
    const weights = k.uploadInt8Weights(ctx, k.packInt8Weights({ data: bData, type: 'int8', dims: [kk, n] }));
    const aQ = ctx.upload(
      Uint8Array.from({ length: m * kk }, (_, i) => (i * 40503) & 255),
      'bench.aq',
    );
    for (const variant of ['dp4a', 'portable']) {
      const kernel = choice.bestByVariant[variant];
      if (!kernel) continue;
      r[variant] = await time(async () => {
        const out = k.int8Matmul(ctx, { a: aQ, aType: 'uint8', aDims: [m, kk], weights, epilogue: { kind: 'int32' }, kernel });
        await device.queue.onSubmittedWorkDone();
        ctx.buffers.release(out.buffer);
      });
      r[variant].kernel = k.int8KernelName(kernel);
    }
    weights.dispose();
    const dql = k.prepareKernel(ctx, { op: 'DynamicQuantizeLinear', attrs: {} });
    const qmm = k.prepareKernel(ctx, {
      op: 'QuantizedMatMul',
      attrs: {},
      constants: { B: { type: 'int8', dims: [kk, n], data: bData }, b_scale: { type: 'float32', dims: [], data: Float32Array.from([0.01]) } },
    });
    r.fused = await time(async () => {
      const q = dql.run([{ buffer: aGpu, type: 'float32', dims: [m, kk] }]);
      const [y] = qmm.run(q);
      await device.queue.onSubmittedWorkDone();
      for (const t of [...q, y]) ctx.buffers.release(t.buffer);
    });
    qmm.dispose();
    // Weight-only int8 (W8A32): float32 activations, the same 8-bit weights and block 32 as MatMulNBits.
    const wo = k.prepareKernel(ctx, {
      op: 'WeightOnlyMatMul',
      attrs: { block_size: 32 },
      constants: {
        W: { type: 'uint8', dims: [kk, n], data: Uint8Array.from(bData, (v) => v + 128) },
        scale: { type: 'float32', dims: [Math.ceil(kk / 32), n], data: new Float32Array(Math.ceil(kk / 32) * n).fill(0.01) },
      },
    });
    r.w8a32 = await time(async () => {
      const [y] = wo.run([{ buffer: aGpu, type: 'float32', dims: [m, kk] }]);
      await device.queue.onSubmittedWorkDone();
      ctx.buffers.release(y.buffer);
    });
    wo.dispose();
    ctx.buffers.release(aQ);
    ctx.buffers.release(aGpu);
    rows.push(r);
  }
  await measurePeak();
  ctx.buffers.release(sink);
  await keepAlive.release();
  const info = ctx.device.adapterInfo ?? {};
  return { rows, peak, adapter: `${info.vendor ?? '?'} ${info.architecture ?? '?'}`, dp4a: k.hasDp4a(), choices: k.int8KernelChoices(ctx) };
}

const gops = (ops, t) => (t && t.ms ? ops / (t.ms * 1e6) : NaN);
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Runs the benchmark and prints its tables. */
export async function run() {
  const builder = await importOnnxBuilder();
  const shapes = SHAPES.map((shape) => ({ shape, urls: writeModels(builder, shape) }));
  const peakCode = readFileSync(new URL('./kernels-peak.wgsl', import.meta.url), 'utf8');
  const { page, close } = await openBenchPage();
  const loadBefore = loadavg()[0];
  try {
    page.setDefaultTimeout(0);
    const res = await page.evaluate(pageBench, { shapes, runs: RUNS, budget: BUDGET_MS, peakCode });
    const best = Math.max(res.peak.dp4a, res.peak.mad_vec4);
    console.log(
      `\n## int8 matmul kernels (adapter: ${res.adapter}; dp4a language feature: ${res.dp4a}; best of ≤ ${RUNS} runs, ≤ ${BUDGET_MS / 1000} s per entry after warm-up)`,
    );
    // A software adapter shares the CPU with everything else: say how busy it was.
    console.log(
      `CPU: ${cpus().length} cores, 1-min load average ${loadBefore.toFixed(1)} before / ${loadavg()[0].toFixed(1)} after (above the core count, all figures are depressed and noisy)`,
    );
    console.log(
      `peak int8 MAC throughput: dot4I8Packed ${fmt(res.peak.dp4a)} G op/s, vec4<i32> multiply-add ${fmt(res.peak.mad_vec4)} G op/s (1 MAC = 2 ops; best of a measurement before and after the shapes)\n`,
    );
    const header = [
      'M×K×N',
      'ours dp4a',
      'ours portable',
      'ours fused f32',
      'ours W8A32',
      'ORT wgpu fp32',
      'ORT wgpu NBits8',
      'ORT wasm MMInt',
      'best/fp32',
      'best/NBits',
      'W8A32/NBits',
      '% peak',
      'dp4a % dp4a peak',
      'M=1 GB/s',
      'chosen',
    ];
    const rows = res.rows.map((r) => {
      const g = (t) => gops(r.ops, t);
      const ours = Math.max(g(r.dp4a), g(r.portable));
      const oursMs = Math.min(r.dp4a?.ms ?? Infinity, r.portable?.ms ?? Infinity);
      const [m, k, n] = r.shape.split('x').map(Number);
      return [
        r.shape,
        fmt(g(r.dp4a)),
        fmt(g(r.portable)),
        fmt(g(r.fused)),
        fmt(g(r.w8a32)),
        fmt(g(r.ortFp32)),
        r.ortNbits.error ? `error` : fmt(g(r.ortNbits)),
        fmt(g(r.ortWasm)),
        `${fmt(ours / g(r.ortFp32), 1)}×`,
        r.ortNbits.error ? 'n/a' : `${fmt(ours / g(r.ortNbits), 1)}×`,
        r.ortNbits.error ? 'n/a' : `${fmt(g(r.w8a32) / g(r.ortNbits), 1)}×`,
        `${fmt((100 * ours) / best, 0)} %`,
        `${fmt((100 * g(r.dp4a)) / res.peak.dp4a, 0)} %`,
        m === 1 ? fmt((k * n) / (oursMs * 1e6)) : '',
        r.chosen,
      ];
    });
    console.log('GOP/s (2 ops per multiply-accumulate); ratios = best of ours (int32 out) / ORT');
    console.log(table(header, rows));
    for (const r of res.rows) if (r.ortNbits.error) console.log(`MatMulNBits ${r.shape}: ${r.ortNbits.error}`);
    const wo = (pred) =>
      res.rows
        .filter((r) => pred(Number(r.shape.split('x')[0])) && !r.ortNbits.error)
        .map((r) => `${r.shape} ${fmt(gops(r.ops, r.w8a32) / gops(r.ops, r.ortNbits), 1)}×`)
        .join(', ');
    console.log(
      `goal: weight-only W8A32 ≥ 3× ORT WebGPU MatMulNBits-8 (same weights, block 32) at M = 1: ${wo((m) => m === 1)}; at M ≥ 64: ${wo((m) => m >= 64)}`,
    );
    const dp4aEff = res.rows
      .filter((r) => Number(r.shape.split('x')[0]) >= 64)
      .map((r) => `${r.shape} ${fmt((100 * gops(r.ops, r.dp4a)) / res.peak.dp4a, 0)} %`)
      .join(', ');
    console.log(`goal: ours dp4a (int32 out, tuned kernel) ≥ 80 % of the adapter's dot4I8Packed peak at M ≥ 64: ${dp4aEff || 'no such shape'}`);
    const runsNote = res.rows
      .map((r) => `${r.shape}: fp32 ${r.ortFp32.runs}, nbits ${r.ortNbits.runs ?? 0}, ours ${r.dp4a?.runs ?? 0}/${r.portable?.runs ?? 0}`)
      .join('; ');
    console.log(`\nmeasured runs per entry: ${runsNote}`);
    console.log('\nkernel choice per shape class (measured once on this adapter at a proxy shape):');
    for (const c of res.choices)
      console.log(`  ${c.shapeClass} (${c.shape.m}x${c.shape.k}x${c.shape.n}): ${c.measurements.map((x) => `${x.kernel} ${x.ms.toFixed(1)} ms`).join(', ')}`);
    return res;
  } finally {
    await close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
