#!/usr/bin/env node
// `npm run bench -- device` (after `npm run build`): what this adapter can do and how close each
// int8 kernel gets, in one page on onnxruntime-web's GPUDevice:
// - a streaming-read bandwidth probe and a dot4I8Packed peak probe that fills the device;
// - every kernel family at decode and prefill shapes: today's emulated-adapter defaults, the older
//   GPU defaults, and the GPU-shaped loops (split-K GEMV, tiled GEMM; with split-K off and on),
//   int32 out, each timed as ≥ 50 dispatches in one submission (GpuContext.record), with
//   timestamp-query where the device has it, else wall clock to onSubmittedWorkDone; each kernel's
//   output is checked (a checksum of its rows against a plain-JS product of the same A and B);
// - ORT WebGPU MatMulNBits-8 (block 32, accuracy_level 4) and fp32 MatMul on the same shapes
//   (session.run wall clock: it includes ORT's submit and one-call overhead);
// - % of measured bandwidth (M ≤ 32: the weights are the traffic) and % of the dp4a peak (M ≥ 64),
//   and each kernel's structure: bytes loaded per MAC, threads per output column, workgroups
//   launched (against two waves, when WEBQ8_DEVICE_UNITS gives the compute units).
// Shapes (WEBQ8_DEVICE_SHAPES): `full` = K, N ∈ {896, 2048, 4096} × M ∈ {1, 4, 16, 256, 1024}, the
// default on a real GPU; `smoke` = 1, 16, 64 × 256 × 256, the default on a fallback adapter
// (SwiftShader); `ci` = 1 and 64 × 1024 × 128, one arithmetic, 2 dispatches per submission, no ORT:
// the smoke test of test/browser/device-bench.spec.ts (every row there, every checksum right; no
// timing is asserted). Each pipeline costs seconds to compile on SwiftShader, hence so few.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { importOnnxBuilder, openBenchPage, table } from './browser.mjs';
import { writeModels } from './kernels.mjs';

const FULL = [896, 2048, 4096].flatMap((kn) => [1, 4, 16, 256, 1024].map((m) => [m, kn, kn]));
const SMOKE = [1, 16, 64].map((m) => [m, 256, 256]);
const CI = [1, 64].map((m) => [m, 1024, 128]); // K = 1024: the split-K GEMV splits K in two
const UNITS = Number(process.env.WEBQ8_DEVICE_UNITS ?? 0); // compute units, when known

/** A of a shape: uint8, B: int8 (row-major K × N), the same formulas in Node and in the page. */
const aValue = (i) => Math.imul(i, 40503) & 255;
const bValue = (i) => (Math.imul(i, -1640531535) >>> 24) - 128;
/** The rows whose outputs a checksum covers: all up to 64 rows, else six (edges, middle). */
const checkedRows = (m) => (m <= 64 ? Array.from({ length: m }, (_, r) => r) : [0, 1, 63, 64, m >> 1, m - 1]);
/** FNV-1a over int32 outputs, row by row. */
function checksum(rows, n, valueAt) {
  let h = 0x811c9dc5;
  for (const r of rows) for (let j = 0; j < n; j++) h = Math.imul(h ^ valueAt(r, j), 16777619) >>> 0;
  return h;
}

/** The checksum a correct int32 product of the shape's A and B has (plain JS, rows of {@link checkedRows}). */
function expectedChecksum([m, k, n]) {
  const b = Int32Array.from({ length: k * n }, (_, i) => bValue(i));
  const rows = checkedRows(m);
  const out = new Map();
  for (const r of rows) {
    const acc = new Int32Array(n);
    for (let kk = 0; kk < k; kk++) {
      const a = aValue(r * k + kk);
      for (let j = 0; j < n; j++) acc[j] += a * b[kk * n + j];
    }
    out.set(r, acc);
  }
  return checksum(rows, n, (r, j) => out.get(r)[j]);
}

/** Runs in the page. */
async function pageBench({ shapes, reps, rounds, withOrt, small, probeCode, models, helpers }) {
  const [aValue, bValue, checkedRows, checksum] = helpers.map((f) => new Function(`return (${f});`)()); // the Node-side formulas
  const k = await import('/dist/kernels.js');
  let ort, keepAlive, device;
  const gpuOpts = { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' };
  if (withOrt) {
    ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs');
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    ort.env.wasm.numThreads = 1;
    keepAlive = await ort.InferenceSession.create(Object.values(models)[0].fp32, gpuOpts); // ORT destroys its device with its last session
    device = await ort.env.webgpu.device; // ORT #26107: share ORT's device
  } else {
    // Without ORT (ci mode): a device of our own with the features ORT would ask for.
    const adapter = await navigator.gpu.requestAdapter();
    const wanted = ['timestamp-query', 'subgroups', 'shader-f16'].filter((f) => adapter.features.has(f));
    device = await adapter.requestDevice({ requiredFeatures: wanted });
  }
  const ctx = new k.GpuContext(device);
  const info = device.adapterInfo ?? {};
  const facts = k.deviceFacts(device, k.hasDp4a());
  const cls = k.int8AdapterClass(facts);
  const list = shapes[cls === 'fallback' ? 'fallback' : 'gpu'];
  const stamps = device.features.has('timestamp-query');
  const querySet = stamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  const resolveBuf = stamps ? device.createBuffer({ size: 16, usage: 0x200 | 0x4 }) : undefined; // QUERY_RESOLVE | COPY_SRC

  /** ms per repetition of `fn` (recorded `reps` times into one submission), best of `rounds` − 1. */
  async function timeRecorded(fn) {
    let best = Infinity;
    for (let round = 0; round < rounds; round++) {
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

  // Streaming-read bandwidth: a buffer of up to 256 MiB (16 MiB on a fallback adapter, 1 MiB small).
  const fallback = cls === 'fallback';
  const bytes = Math.min(small ? 1 << 20 : fallback ? 16 << 20 : 256 << 20, device.limits.maxStorageBufferBindingSize) & ~15;
  const src = device.createBuffer({ size: bytes, usage: 0x80 });
  const wgs = fallback ? 64 : 4096;
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
  const peakWgs = fallback ? 64 : 8192; // ≥ 8 per compute unit up to 1024 units
  const iters = small ? 16 : fallback ? 256 : 4096;
  const peakMs = await timeRecorded(() => ctx.dispatch(probe('dp4a', peakWgs, { ITERS: iters }), [sink]));
  const peak = (peakWgs * 256 * iters * 8 * 8) / (peakMs * 1e6); // G op/s, 1 MAC = 2 ops
  src.destroy();
  ctx.buffers.release(sink);

  const rows = [];
  for (const [m, kk, n] of list) {
    const weights = k.uploadInt8Weights(ctx, k.packInt8Weights({ data: Int8Array.from({ length: kk * n }, (_, i) => bValue(i)), type: 'int8', dims: [kk, n] }));
    const a = ctx.upload(
      Uint8Array.from({ length: m * kk }, (_, i) => aValue(i)),
      'bench.a',
    );
    const kernels = [];
    for (const variant of k.int8Variants(facts).slice(0, small ? 1 : undefined)) {
      kernels.push(['emulated default', k.defaultInt8Kernel(m, variant, true)], ['older GPU default', k.defaultInt8Kernel(m, variant, false)]);
      const g = k.gpuInt8Kernel(m, variant, facts.subgroups);
      kernels.push(['GPU-shaped', g]);
      if (g.layout === 'splitk') kernels.push(['GPU-shaped, no split-K', { ...g, splits: 1 }]);
    }
    for (const [family, kernel0] of kernels) {
      const kernel = kernel0.splits === 0 ? { ...kernel0, splits: k.autoSplits(kernel0, m, weights.n4, weights.kw) } : kernel0;
      const matmul = () => k.int8Matmul(ctx, { a, aType: 'uint8', aDims: [m, kk], weights, epilogue: { kind: 'int32' }, kernel }).buffer;
      const ms = await timeRecorded(matmul);
      const out = matmul();
      const got = new Int32Array(await ctx.readback(out, m * n * 4));
      ctx.buffers.release(out);
      const program = k.int8MatmulProgram(kernel, { mode: 'int32', rowsum: weights.rowsum, m, k: kk, n4: weights.n4, matrices: 1 });
      const sum = checksum(checkedRows(m), n, (r, j) => got[r * n + j]);
      rows.push({
        shape: [m, kk, n],
        family,
        name: k.int8KernelName(kernel),
        ms,
        kernel,
        sum,
        workgroups: program.workgroups.reduce((x, y) => x * (y ?? 1), 1),
      });
    }
    weights.dispose();
    ctx.buffers.release(a);
    if (!withOrt) continue;
    // ORT on the same shape (fp32 activations in, fp32 out).
    const aF = ctx.upload(
      Float32Array.from({ length: m * kk }, (_, i) => Math.sin(i)),
      'bench.af',
    );
    const feeds = { A: ort.Tensor.fromGpuBuffer(aF, { dataType: 'float32', dims: [m, kk] }) };
    for (const [family, url] of [
      ['ORT MatMulNBits-8', models[`${kk}x${n}`].nbits],
      ['ORT fp32 MatMul', models[`${kk}x${n}`].fp32],
    ]) {
      try {
        const s = await ort.InferenceSession.create(url, gpuOpts);
        let best = Infinity;
        for (let i = 0; i < rounds; i++) {
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
  await keepAlive?.release();
  if (!withOrt) device.destroy();
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

/**
 * A row of the tables: a kernel (with its grid and checksum) or an ORT session.
 * @typedef {{ shape: number[], family: string, name: string, ms: number, kernel?: import('../src/kernels/index').Int8Kernel, workgroups?: number, sum?: number, ok?: boolean }} DeviceRow
 */

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** The text of a run: the structural table and the % of bandwidth / % of peak table. */
function report(res, reps) {
  const out = [];
  const print = (line) => out.push(line);
  const units = UNITS || (res.cls === 'fallback' ? res.units : 0);
  print(
    `\n## device (adapter: ${res.adapter}; class ${res.cls}; subgroups ${res.subgroups}; timing: ${res.stamps ? 'timestamp-query' : 'wall clock'}, ${reps} dispatches per submission)`,
  );
  print(`streaming read: ${fmt(res.bandwidth)} GB/s; dot4I8Packed peak: ${fmt(res.peak)} G op/s (1 MAC = 2 ops)`);
  const name = (r) => [r.shape.join('x'), r.name, r.family];
  const kernels = res.rows.filter((r) => r.kernel);
  print('\nstructure (weights re-read per MAC; threads adding into one output column; grid vs two waves of the device):');
  const structural = kernels.map((r) => {
    const s = structure(r.kernel);
    const waves = units && r.workgroups ? `${fmt(r.workgroups / (2 * units), 2)}×` : '';
    return [...name(r), fmt(s.bpm, 3), s.tpc, r.workgroups, waves, r.ok ? 'ok' : 'WRONG'];
  });
  print(table(['M×K×N', 'kernel', 'family', 'B/MAC', 'threads/col', 'workgroups', 'vs two waves', 'checksum'], structural));
  if (!units) print('two waves: set WEBQ8_DEVICE_UNITS=<compute units> (WebGPU does not expose them) to compare the grids with 2 × units.');
  print('\nspeed (% of the measured bandwidth for M ≤ 32, % of the dp4a peak for M ≥ 64):');
  const speed = res.rows.map((r) => {
    const [m, kk, n] = r.shape;
    const gbs = (kk * n) / (r.ms * 1e6);
    const gops = (2 * m * kk * n) / (r.ms * 1e6);
    return [
      ...name(r),
      fmt(r.ms * 1000),
      fmt(gbs),
      m <= 32 ? `${fmt((100 * gbs) / res.bandwidth, 0)} %` : '',
      fmt(gops),
      m >= 64 ? `${fmt((100 * gops) / res.peak, 0)} %` : '',
    ];
  });
  print(table(['M×K×N', 'kernel', 'family', 'µs', 'GB/s of B', '% bandwidth', 'G op/s', '% dp4a peak'], speed));
  print('\ngoals (real GPU): M = 1 ≥ 70 % of measured bandwidth at K·N ≥ 4 MB; M ≥ 256 ≥ 50 % of the dp4a peak;');
  print('  ≥ 1.5× ORT WebGPU MatMulNBits-8 at M = 1 and ≥ 1.2× at M ≥ 256. SwiftShader: the defaults there are unchanged (emulated-default rows).');
  return out.join('\n');
}

/** Throws at once when the page's browser gives a fallback adapter (WEBQ8_REQUIRE_GPU=1: scripts/device-bench.sh). */
async function requireGpu(page) {
  const info = await page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    return a && { vendor: a.info.vendor, architecture: a.info.architecture, fallback: a.info.isFallbackAdapter === true };
  });
  if (!info || info.fallback || info.architecture === 'swiftshader')
    throw new Error(
      `WEBQ8_REQUIRE_GPU: the browser has ${info ? `a fallback adapter (${info.vendor} ${info.architecture})` : 'no WebGPU adapter'}, not a GPU: check the Chromium flags and the driver.`,
    );
}

/**
 * Runs the benchmark and prints its tables; returns the page's result, each kernel row with `ok`
 * (its checksum equals the plain-JS product's), and the printed text as `report`. `mode` (default
 * WEBQ8_DEVICE_SHAPES, else `auto`: `full` on a real GPU, `smoke` on a fallback adapter) picks the
 * shapes; `page` (a page on this repository's server, e.g. a Playwright test's) is used instead of
 * launching a browser.
 * @param {{ mode?: string, page?: import('@playwright/test').Page }} [options]
 * @returns {Promise<{ rows: DeviceRow[], report: string, bandwidth: number, peak: number, cls: string, adapter: string }>}
 */
export async function run({ mode = process.env.WEBQ8_DEVICE_SHAPES ?? 'auto', page: given } = {}) {
  const pick = { full: [FULL, FULL], smoke: [SMOKE, SMOKE], ci: [CI, CI], auto: [FULL, SMOKE] }[mode];
  if (!pick) throw new Error(`WEBQ8_DEVICE_SHAPES=${mode}: use full, smoke, ci or auto`);
  const shapes = { gpu: pick[0], fallback: pick[1] };
  const small = mode === 'ci';
  const reps = small ? 2 : 50;
  const opened = given ? undefined : await openBenchPage();
  const page = given ?? opened.page;
  try {
    if (given) await page.goto('/test/browser/blank.html');
    else page.setDefaultTimeout(0);
    if (process.env.WEBQ8_REQUIRE_GPU === '1') await requireGpu(page);
    // One pair of ORT models per K × N, M left symbolic (ORT takes any M).
    const builder = small ? undefined : await importOnnxBuilder();
    const models = {};
    if (!small) for (const [, k, n] of [...shapes.gpu, ...shapes.fallback]) models[`${k}x${n}`] ??= writeModels(builder, ['m', k, n]);
    const probeCode = readFileSync(new URL('./device-probes.wgsl', import.meta.url), 'utf8');
    const helpers = [aValue, bValue, checkedRows, checksum].map(String);
    const args = { shapes, reps, rounds: small ? 2 : 4, withOrt: !small, small, probeCode, models, helpers };
    const res = await page.evaluate(pageBench, args);
    const expected = new Map();
    for (const r of res.rows.filter((x) => x.kernel)) {
      const key = r.shape.join('x');
      if (!expected.has(key)) expected.set(key, expectedChecksum(r.shape));
      r.ok = r.sum === expected.get(key);
    }
    res.report = report(res, reps);
    console.log(res.report);
    return res;
  } finally {
    await opened?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
