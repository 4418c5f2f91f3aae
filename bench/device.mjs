#!/usr/bin/env node
// `npm run bench -- device` (after `npm run build`): what this adapter can do and how close each
// int8 kernel gets, in one page on onnxruntime-web's GPUDevice:
// - a streaming-read bandwidth probe and a dot4I8Packed peak probe that fills the device;
// - every kernel family at decode and prefill shapes: today's emulated-adapter defaults, the older
//   GPU defaults, and the GPU-shaped loops (split-K GEMV, tiled GEMM; with split-K off and on),
//   int32 out, each timed as ≥ 50 dispatches in one submission (GpuContext.record), with
//   timestamp-query where the device has it, else wall clock to onSubmittedWorkDone;
// - ORT WebGPU MatMulNBits-8 (block 32, accuracy_level 4) and fp32 MatMul on the same shapes
//   (session.run wall clock: it includes ORT's submit and one-call overhead);
// - % of measured bandwidth (M ≤ 32: the weights are the traffic) and % of the dp4a peak (M ≥ 64),
//   and each kernel's structure: bytes loaded per MAC, threads per output column, workgroups
//   launched (against two waves, when WEBQ8_DEVICE_UNITS gives the compute units).
// Shapes: K, N ∈ {896, 2048, 4096} × M ∈ {1, 4, 16, 256, 1024} on a real GPU; on a fallback
// adapter (SwiftShader) a reduced set, unless WEBQ8_DEVICE_SHAPES=full (or `smoke` forces it).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { importOnnxBuilder, openBenchPage, table } from './browser.mjs';
import { writeModels } from './kernels.mjs';

const FULL = [896, 2048, 4096].flatMap((kn) => [1, 4, 16, 256, 1024].map((m) => [m, kn, kn]));
const SMOKE = [
  [1, 256, 256],
  [16, 256, 256],
  [64, 256, 256],
];
const MODE = process.env.WEBQ8_DEVICE_SHAPES ?? 'auto'; // auto | full | smoke
const UNITS = Number(process.env.WEBQ8_DEVICE_UNITS ?? 0); // compute units, when known
const REPS = 50;

/** Runs in the page. */
async function pageBench({ full, smoke, mode, reps, probeCode, models }) {
  const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs');
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;
  const k = await import('/dist/kernels.js');
  const gpuOpts = { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' };
  const first = Object.values(models)[0];
  const keepAlive = await ort.InferenceSession.create(first.fp32, gpuOpts); // ORT destroys its device with its last session
  const ctx = new k.GpuContext(await ort.env.webgpu.device); // ORT #26107: share ORT's device
  const device = ctx.device;
  const info = device.adapterInfo ?? {};
  const facts = k.deviceFacts(device, k.hasDp4a());
  const cls = k.int8AdapterClass(facts);
  const shapes = mode === 'full' || (mode === 'auto' && cls !== 'fallback') ? full : smoke;
  const stamps = device.features.has('timestamp-query');
  const querySet = stamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  const resolveBuf = stamps ? device.createBuffer({ size: 16, usage: 0x200 | 0x4 }) : undefined; // QUERY_RESOLVE | COPY_SRC

  /** ms per repetition of `fn` (recorded `reps` times into one submission), best of 3. */
  async function timeRecorded(fn) {
    let best = Infinity;
    for (let round = 0; round < 4; round++) {
      const t0 = performance.now();
      const outs = ctx.record(() => Array.from({ length: round === 0 ? 1 : reps }, fn), { timestamps: querySet });
      await device.queue.onSubmittedWorkDone();
      let ms = performance.now() - t0;
      if (querySet) {
        const enc = device.createCommandEncoder();
        enc.resolveQuerySet(querySet, 0, 2, resolveBuf, 0);
        device.queue.submit([enc.finish()]);
        const t = new BigInt64Array(await ctx.readback(resolveBuf, 16));
        ms = Number(t[1] - t[0]) / 1e6;
      }
      for (const o of outs) if (o) ctx.buffers.release(o);
      if (round > 0) best = Math.min(best, ms / reps); // round 0 compiles
    }
    return best;
  }

  // Streaming-read bandwidth: a buffer of up to 256 MiB (16 MiB on a fallback adapter).
  const bytes = Math.min(cls === 'fallback' ? 16 << 20 : 256 << 20, device.limits.maxStorageBufferBindingSize) & ~15;
  const src = device.createBuffer({ size: bytes, usage: 0x80 });
  const wgs = cls === 'fallback' ? 64 : 4096;
  const sink = ctx.buffers.acquire(Math.max(wgs, 8192) * 256 * 4, 0x80 | 0x4, 'bench.sink');
  const probe = (entryPoint, workgroups, constants = {}) => ({
    shaderKey: 'bench-device',
    label: `bench.${entryPoint}`,
    code: probeCode,
    entryPoint,
    constants,
    workgroups: [workgroups],
  });
  const bwMs = await timeRecorded(() => ctx.dispatch(probe('stream', wgs), [sink, src]));
  const bandwidth = bytes / (bwMs * 1e6); // GB/s
  const peakWgs = cls === 'fallback' ? 64 : 8192; // ≥ 8 per compute unit up to 1024 units
  const iters = cls === 'fallback' ? 256 : 4096;
  const peakMs = await timeRecorded(() => ctx.dispatch(probe('dp4a', peakWgs, { ITERS: iters }), [sink]));
  const peak = (peakWgs * 256 * iters * 8 * 8) / (peakMs * 1e6); // G op/s, 1 MAC = 2 ops
  src.destroy();
  ctx.buffers.release(sink);

  const rows = [];
  for (const [m, kk, n] of shapes) {
    const bData = Int8Array.from({ length: kk * n }, (_, i) => ((i * 2654435761) >>> 24) - 128);
    const weights = k.uploadInt8Weights(ctx, k.packInt8Weights({ data: bData, type: 'int8', dims: [kk, n] }));
    const a = ctx.upload(
      Uint8Array.from({ length: m * kk }, (_, i) => (i * 40503) & 255),
      'bench.a',
    );
    const kernels = [];
    for (const variant of k.int8Variants(facts)) {
      kernels.push(['emulated default', k.defaultInt8Kernel(m, variant, true)], ['older GPU default', k.defaultInt8Kernel(m, variant, false)]);
      const g = k.gpuInt8Kernel(m, variant, facts.subgroups);
      kernels.push(['GPU-shaped', g]);
      if (g.layout === 'splitk') kernels.push(['GPU-shaped, no split-K', { ...g, splits: 1 }]);
    }
    for (const [family, kernel0] of kernels) {
      const kernel = kernel0.splits === 0 ? { ...kernel0, splits: k.autoSplits(kernel0, m, weights.n4, weights.kw) } : kernel0;
      const ms = await timeRecorded(() => k.int8Matmul(ctx, { a, aType: 'uint8', aDims: [m, kk], weights, epilogue: { kind: 'int32' }, kernel }).buffer);
      const program = k.int8MatmulProgram(kernel, { mode: 'int32', rowsum: weights.rowsum, m, k: kk, n4: weights.n4, matrices: 1 });
      rows.push({ shape: [m, kk, n], family, name: k.int8KernelName(kernel), ms, kernel, workgroups: program.workgroups.reduce((x, y) => x * (y ?? 1), 1) });
    }
    weights.dispose();
    ctx.buffers.release(a);
    // ORT on the same shape (fp32 activations in, fp32 out).
    const aF = ctx.upload(
      Float32Array.from({ length: m * kk }, (_, i) => Math.sin(i)),
      'bench.af',
    );
    const feeds = { A: ort.Tensor.fromGpuBuffer(aF, { dataType: 'float32', dims: [m, kk] }) };
    for (const [family, url] of [
      ['ORT MatMulNBits-8', models[`${m}x${kk}x${n}`].nbits],
      ['ORT fp32 MatMul', models[`${m}x${kk}x${n}`].fp32],
    ]) {
      try {
        const s = await ort.InferenceSession.create(url, gpuOpts);
        let best = Infinity;
        for (let i = 0; i < 4; i++) {
          const t0 = performance.now();
          const out = await s.run(feeds);
          await device.queue.onSubmittedWorkDone();
          if (i > 0) best = Math.min(best, performance.now() - t0);
          for (const t of Object.values(out)) if (t.location === 'gpu-buffer') t.dispose();
        }
        await s.release();
        rows.push({ shape: [m, kk, n], family, name: family, ms: best });
      } catch (e) {
        rows.push({ shape: [m, kk, n], family, name: `${family} (${String(e.message ?? e).slice(0, 60)})`, ms: NaN });
      }
    }
    ctx.buffers.release(aF);
  }
  await keepAlive.release();
  return {
    rows,
    bandwidth,
    peak,
    stamps,
    cls,
    subgroups: facts.subgroups,
    adapter: `${info.vendor ?? '?'} ${info.architecture ?? '?'} ${info.description ?? ''}`.trim(),
    units: navigator.hardwareConcurrency,
  };
}

/** Bytes of B (and A, for the GEMM) loaded from memory per multiply-accumulate, and threads adding into one output column. */
function structure(kernel) {
  if (!kernel) return { bpm: NaN, tpc: '' };
  const rows = { gemv: 1, wide: kernel.wgY, tiled: 8, splitk: kernel.rows ?? 1, gemm: 16 * (kernel.rows ?? 4) }[kernel.layout];
  const aShare = kernel.layout === 'tiled' ? 1 / 4 : kernel.layout === 'gemm' ? 1 / 64 : 0; // A words re-read per column group or tile
  const tpc = { gemv: kernel.wgY, wide: 1, tiled: 1, splitk: kernel.wgY * (kernel.splits ?? 1), gemm: 1 }[kernel.layout];
  return { bpm: 1 / rows + aShare, tpc };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Runs the benchmark and prints its tables. */
export async function run() {
  const builder = await importOnnxBuilder();
  const models = {};
  for (const shape of MODE === 'smoke' ? SMOKE : [...FULL, ...SMOKE]) models[shape.join('x')] ??= writeModels(builder, shape);
  const probeCode = readFileSync(new URL('./device-probes.wgsl', import.meta.url), 'utf8');
  const { page, close } = await openBenchPage();
  try {
    page.setDefaultTimeout(0);
    const res = await page.evaluate(pageBench, { full: FULL, smoke: SMOKE, mode: MODE, reps: REPS, probeCode, models });
    const units = UNITS || (res.cls === 'fallback' ? res.units : 0);
    console.log(
      `\n## device (adapter: ${res.adapter}; class ${res.cls}; subgroups ${res.subgroups}; timing: ${res.stamps ? 'timestamp-query' : 'wall clock'}, ${REPS} dispatches per submission)`,
    );
    console.log(`streaming read: ${fmt(res.bandwidth)} GB/s; dot4I8Packed peak: ${fmt(res.peak)} G op/s (1 MAC = 2 ops)`);
    const header = [
      'M×K×N',
      'kernel',
      'family',
      'µs',
      'GB/s of B',
      '% bandwidth',
      'G op/s',
      '% dp4a peak',
      'B/MAC',
      'threads/col',
      'workgroups',
      'vs two waves',
    ];
    const lines = res.rows.map((r) => {
      const [m, kk, n] = r.shape;
      const s = structure(r.kernel);
      const gbs = (kk * n) / (r.ms * 1e6);
      const gops = (2 * m * kk * n) / (r.ms * 1e6);
      const waves = units && r.workgroups ? `${fmt(r.workgroups / (2 * units), 2)}×` : '';
      return [
        r.shape.join('x'),
        r.name,
        r.family,
        fmt(r.ms * 1000),
        fmt(gbs),
        m <= 32 ? `${fmt((100 * gbs) / res.bandwidth, 0)} %` : '',
        fmt(gops),
        m >= 64 ? `${fmt((100 * gops) / res.peak, 0)} %` : '',
        fmt(s.bpm, 3),
        s.tpc,
        r.workgroups ?? '',
        waves,
      ];
    });
    console.log(table(header, lines));
    if (!units) console.log('two waves: set WEBQ8_DEVICE_UNITS=<compute units> (WebGPU does not expose them) to compare the grids with 2 × units.');
    console.log('\ngoals (real GPU): M = 1 ≥ 70 % of measured bandwidth at K·N ≥ 4 MB; M ≥ 256 ≥ 50 % of the dp4a peak;');
    console.log('  ≥ 1.5× ORT WebGPU MatMulNBits-8 at M = 1 and ≥ 1.2× at M ≥ 256. SwiftShader: the defaults there are unchanged (emulated-default rows).');
    return res;
  } finally {
    await close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
