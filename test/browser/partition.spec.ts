// Graph partitioning end to end in real Chromium: PP-OCRv4 rec, quantized with webq8's own
// quantizer, runs with its int8 matmuls on webq8's kernels between ORT WebGPU segments; it must
// agree with the same q8 model on ORT's WASM EP and with the fp32 model, and read rendered text
// back exactly. ORT's WebGPU EP is ~40× slower than WASM on SwiftShader, and running the plan, not
// compiling its shaders, is what costs here (a 10-line batch took ~7× one line's time, run again
// with every shader compiled): the kernel plan reads a batch of 2 of the shortest lines, and the q8
// and fp32 models read all 10 on ORT's WASM EP.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { quantizeDynamic } from '../../src/graph/quantize';
import { quantizeWeightsOnly } from '../../src/graph/quantize-weights';
import { MODELS, expect, test } from './fixtures';
import { mlp, qdq, qlinear, unsupportedInt8 } from '../unit/graph/models';

const Q8_URL = '/.cache/partition/rec-q8.onnx';
const REC_W8_URL = '/.cache/partition/rec-w8.onnx';
const LINES = [
  'HELLO WORLD',
  '0123456789',
  'Invoice #4711',
  'price: $42.50',
  'Version 3.14',
  'A-B-C, d.e.f',
  'ZIP 10115',
  'Quick brown fox',
  'Mon 23 Nov',
  'rate 75%',
];
/**
 * The lines the kernel plan reads as one batch: letters, digits and punctuation, two widths (the
 * shorter one padded). Short ones: SwiftShader's cost grows with the pixels. The first is also read alone.
 */
const GPU_LINES = ['rate 75%', 'ZIP 10115'];

test.beforeAll(() => {
  const fp32 = new Uint8Array(readFileSync(new URL(`../..${MODELS.rec}`, import.meta.url)));
  mkdirSync(new URL('../../.cache/partition/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../..${Q8_URL}`, import.meta.url), quantizeDynamic(fp32).bytes);
  writeFileSync(new URL(`../..${REC_W8_URL}`, import.meta.url), quantizeWeightsOnly(fp32).bytes);
});

test('PP-OCRv4 rec q8: webq8 kernels on WebGPU match ORT WASM and fp32 and read lines exactly, copying only inputs and outputs; ORT WASM reads 10 lines with q8 as with fp32; rec weight-only runs its 9 matmuls on the kernels and agrees with ORT WASM', async ({
  webq8Page: page,
}) => {
  test.setTimeout(300_000);
  const r = await page.evaluate(
    async ({ q8Url, fp32Url, keysUrl, lines, gpuLines }) => {
      const { createRuntime } = await import('/dist/index.js');
      // @ts-expect-error plain JS module served by the test server
      const ocr = await import('/demo/ocr.js');
      const keys: string[] = await ocr.loadKeys(keysUrl);
      /** The lines as one batch at the widest line's width (white padding, normalised). */
      const batch = (texts: string[]) => {
        const images = texts.map((t: string) => ocr.renderLine(t));
        const width = Math.max(...images.map((im: ImageData) => im.width));
        const plane = 48 * width;
        const data = new Float32Array(texts.length * 3 * plane).fill(1);
        images.forEach((im: ImageData, n: number) => {
          const one = ocr.toInput(im).data as Float32Array;
          for (let c = 0; c < 3; c++)
            for (let y = 0; y < 48; y++)
              data.set(one.subarray(c * 48 * im.width + y * im.width, c * 48 * im.width + (y + 1) * im.width), n * 3 * plane + c * plane + y * width);
        });
        return { width, first: images[0] as ImageData, x: () => ({ x: { type: 'float32' as const, dims: [texts.length, 3, 48, width], data: data.slice() } }) };
      };
      const all = batch(lines);
      const { width, first, x } = batch(gpuLines);
      const decode = (out: { dims: readonly number[]; data: unknown }) => {
        const [n, t, c] = out.dims as [number, number, number];
        const f = out.data as Float32Array;
        // Trailing blanks come from the right margin; PP-OCR's own post-processing ignores them too.
        return Array.from({ length: n }, (_, i) => (ocr.ctcDecode({ dims: [1, t, c], data: f.subarray(i * t * c, (i + 1) * t * c) }, keys) as string).trim());
      };
      const rt = createRuntime();
      // Load-time verification (verify.spec.ts) is off: this test compares with ORT WASM itself.
      const kernels = await rt.load(q8Url, { backend: 'webgpu', strategy: 'kernels', verify: false });
      const outK = Object.values(await kernels.run(x()))[0]!;
      const info = kernels.info;
      // One line alone (N = 1): webq8 vs ORT WebGPU (same q8 model) vs ORT WASM.
      const single = () => ({ x: ocr.toInput(first) });
      const oneK = Object.values(await kernels.run(single()))[0]!.data as Float32Array;
      const counters = kernels.stats().lastRun!.counters; // a second run: one-time kernel setup is done
      await kernels.dispose();
      const ortGpu = await rt.load(q8Url, { backend: 'webgpu', strategy: 'ort', verify: false });
      const oneG = Object.values(await ortGpu.run(single()))[0]!.data as Float32Array;
      await ortGpu.dispose();
      const wasmQ8 = await rt.load(q8Url, { backend: 'wasm' });
      const outW = Object.values(await wasmQ8.run(x()))[0]!;
      const oneW = Object.values(await wasmQ8.run(single()))[0]!.data as Float32Array;
      const wasmInfo = wasmQ8.info;
      const maxAbs = (p: Float32Array, q: Float32Array) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i]!)), 0);
      const oneRange = oneW.reduce((m, v) => Math.max(m, v), -Infinity) - oneW.reduce((m, v) => Math.min(m, v), Infinity);
      const fp32 = await rt.load(fp32Url, { backend: 'wasm' });
      const outF = Object.values(await fp32.run(x()))[0]!;
      // All 10 lines: the q8 model reads what the fp32 model reads (ORT WASM for both).
      const allW = Object.values(await wasmQ8.run(all.x()))[0]!;
      const allF = Object.values(await fp32.run(all.x()))[0]!;
      globalThis.partitionRec = { rt, single }; // the weight-only check below runs in this runtime
      const cos = (p: Float32Array, q: Float32Array) => {
        let pq = 0,
          pp = 0,
          qq = 0;
        for (let i = 0; i < p.length; i++) [pq, pp, qq] = [pq + p[i]! * q[i]!, pp + p[i]! * p[i]!, qq + q[i]! * q[i]!];
        return pq / Math.sqrt(pp * qq);
      };
      const k = outK.data as Float32Array,
        w = outW.data as Float32Array,
        f = outF.data as Float32Array;
      let maxDiff = 0,
        lo = Infinity,
        hi = -Infinity,
        dot = 0,
        nk = 0,
        nf = 0;
      for (let i = 0; i < k.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(k[i]! - w[i]!));
        lo = Math.min(lo, w[i]!);
        hi = Math.max(hi, w[i]!);
        dot += k[i]! * f[i]!;
        nk += k[i]! * k[i]!;
        nf += f[i]! * f[i]!;
      }
      return {
        dims: outK.dims,
        width,
        maxDiff,
        range: hi - lo,
        single: { vsWasm: maxAbs(oneK, oneW), vsOrtGpu: maxAbs(oneK, oneG), range: oneRange },
        cosine: dot / Math.sqrt(nk * nf),
        counters,
        strategy: info.strategy,
        placement: info.placement,
        wasmStrategy: wasmInfo.strategy,
        text: { kernels: decode(outK), wasm: decode(outW), fp32: decode(outF) },
        all: { wasm: decode(allW), fp32: decode(allF), cosine: cos(allW.data as Float32Array, allF.data as Float32Array) },
      };
    },
    { q8Url: Q8_URL, fp32Url: MODELS.rec, keysUrl: MODELS.keys, lines: LINES, gpuLines: GPU_LINES },
  );
  console.log(
    JSON.stringify({
      width: r.width,
      maxDiff: r.maxDiff,
      range: r.range,
      single: r.single,
      cosine: r.cosine,
      counters: r.counters,
      strategy: r.strategy,
      text: r.text,
      all: r.all,
    }),
  );
  expect(r.dims[0]).toBe(GPU_LINES.length);
  expect(r.strategy?.strategy).toBe('kernels');
  expect(r.placement?.kernels.filter((g) => g.pattern === 'quantize_dynamic')).toHaveLength(9);
  expect(r.placement?.cpuFallbackOps).toEqual({});
  expect(r.wasmStrategy?.strategy).toBe('ort'); // nothing to partition on WASM
  // N = 1: the q8 model through webq8 matches ORT WASM within 1e-3 of the output range, and ORT's
  // own WebGPU run of it to float rounding (same integer math, same float backbone).
  expect(r.single.vsWasm).toBeLessThanOrEqual(1e-3 * r.single.range);
  expect(r.single.vsOrtGpu).toBeLessThanOrEqual(1e-5 * r.single.range);
  // The batch (N = 2) differs from WASM more (measured 0.046 of the range on these lines, 0.01–0.03 on
  // batches of 3 other lines): the WebGPU and WASM float backbones differ by ~1e-6, which flips a few
  // roundings of DynamicQuantizeLinear; ORT's own WebGPU run of this q8 model differs from WASM by
  // exactly as much (probed: 0.0116 both, on a batch of 3 lines).
  // Bounded loosely here, and the real-task and fp32 checks below hold on the batch.
  expect(r.maxDiff).toBeLessThanOrEqual(0.1 * r.range);
  expect(r.cosine).toBeGreaterThanOrEqual(0.999);
  for (const decoded of [r.text.kernels, r.text.wasm, r.text.fp32]) expect(decoded).toEqual(GPU_LINES);
  // docs/guide.md: PP-OCRv4 rec quantized by quantizeDynamic reads the same text as the fp32 model.
  expect(r.all.wasm).toEqual(LINES);
  expect(r.all.fp32).toEqual(LINES);
  expect(r.all.cosine).toBeGreaterThanOrEqual(0.999);
  // One input up, one output down: everything in between stays on the GPU.
  expect(r.counters.uploads).toBe(1);
  expect(r.counters.readbacks).toBe(1);
  expect(r.counters.ortSegments).toBe(r.placement!.segments);
  expect(r.counters.kernelDispatches).toBeGreaterThanOrEqual(18);
  // One submission per stretch of consecutive kernel steps (the plan starts and ends in ORT), not one per dispatch.
  expect(r.counters.submits).toBe(r.placement!.segments - 1);

  // PP-OCRv4 rec quantized weight-only (docs/design.md), in the same runtime: ORT keeps its compiled
  // WebGPU shaders per Worker, so its segments reuse those the q8 plan compiled for this line, and the
  // check costs its runs rather than another compile (most of a first run on SwiftShader).
  const w8 = await page.evaluate(async (url) => {
    const { rt, single } = globalThis.partitionRec!;
    const m = await rt.load(url, { backend: 'webgpu', strategy: 'kernels', verify: false }); // compared with ORT WASM below
    const ours = Object.values(await m.run(single()))[0]!;
    const kernels = m.info.placement!.kernels.map((k) => k.pattern);
    const dispatches = m.stats().lastRun?.counters.kernelDispatches;
    await m.dispose();
    const wasm = await rt.load(url, { backend: 'wasm' });
    const theirs = Object.values(await wasm.run(single()))[0]!;
    await rt.dispose();
    const a = ours.data as Float32Array;
    const b = theirs.data as Float32Array;
    const maxDiff = b.reduce((d, v, i) => Math.max(d, Math.abs(a[i]! - v)), 0);
    const classes = ours.dims[2]!;
    const argmax = (d: Float32Array) =>
      Array.from({ length: d.length / classes }, (_, t) =>
        d.subarray(t * classes, (t + 1) * classes).reduce((best, v, i, arr) => (v > arr[best]! ? i : best), 0),
      );
    return { dims: [ours.dims, theirs.dims], maxDiff, sameArgmax: argmax(a).every((v, i) => v === argmax(b)[i]), kernels, dispatches };
  }, REC_W8_URL);
  expect(w8.kernels).toEqual(Array(9).fill('qdq-weight-only'));
  expect(w8.dispatches).toBeGreaterThanOrEqual(9);
  expect(w8.dims[0]).toEqual(w8.dims[1]);
  expect(w8.sameArgmax).toBe(true);
  // Softmax probabilities; ORT's own WebGPU and WASM EPs differ by ~1e-7 here (float conv order).
  expect(w8.maxDiff).toBeLessThan(1e-4);
});

test('small int8 models: each pattern on kernels equals ORT WASM; unsupported ones fall back to ORT with reasons; auto measures both', async ({
  webq8Page: page,
}) => {
  const models = {
    mlp: [...quantizeDynamic(mlp(64, 32, { second: true }), { perChannel: true }).bytes],
    qlinear: [...qlinear('uint8')],
    qdq: [...qdq(true)],
    unsupported: [...unsupportedInt8()],
  };
  const r = await page.evaluate(async (models) => {
    const { createRuntime } = await import('/dist/index.js');
    const rt = createRuntime();
    const bytes = (k: keyof typeof models) => new Uint8Array(models[k]);
    const f32 = (dims: number[]) => ({
      type: 'float32' as const,
      dims,
      data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.61) * 3),
    });
    const u8 = (dims: number[]) => ({
      type: 'uint8' as const,
      dims,
      data: Uint8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i * 97) % 256),
    });
    const cases = {
      mlp: { x: f32([1, 64]) },
      qlinear: { a: u8([5, 8]) },
      qdq: { x: f32([5, 8]) },
      unsupported: { a: u8([2, 4]), b: u8([4, 3]), ci: u8([1, 1, 3, 3, 3]) },
    };
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(cases) as (keyof typeof cases)[]) {
      const feeds = () => Object.fromEntries(Object.entries(cases[name]).map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
      const gpu = await rt.load(bytes(name), { backend: 'webgpu', strategy: name === 'mlp' ? 'auto' : 'kernels' });
      const a = await gpu.run(feeds() as never);
      await gpu.run(feeds() as never);
      const counters = gpu.stats().lastRun!.counters;
      const cpu = await rt.load(bytes(name), { backend: 'wasm' });
      const b = await cpu.run(feeds() as never);
      const diffs = Object.keys(b).map((k) => {
        const p = a[k]!.data as ArrayLike<number>,
          q = b[k]!.data as ArrayLike<number>;
        let m = 0;
        for (let i = 0; i < q.length; i++) m = Math.max(m, Math.abs(Number(p[i]) - Number(q[i])));
        return m;
      });
      out[name] = {
        diff: Math.max(...diffs),
        counters,
        strategy: gpu.info.strategy,
        runStrategy: gpu.stats().lastRun!.strategy,
        placement: gpu.info.placement,
        types: Object.values(a).map((t) => t.type),
      };
      // GPU models stay loaded until the end: a plan made only of kernel steps (qlinear) has no ORT
      // session of its own, and ORT destroys its device when its last session is released.
      await cpu.dispose();
    }
    await rt.dispose();
    return out as Record<
      keyof typeof cases,
      {
        diff: number;
        counters: { uploads: number; readbacks: number; ortSegments: number; kernelDispatches: number; submits: number; bindGroups: number };
        strategy: { strategy: string; reason: string; measured?: { kernelsMs: number; ortMs: number } };
        runStrategy?: { strategy: string; shapeClass: string; provisional: boolean; measured: { kernelsMs: number; ortMs: number } };
        placement: { kernels: { ops: string[] }[]; fallbacks: { node: string; reason: string }[]; cpuFallbackOps: Record<string, number> };
        types: string[];
      }
    >;
  }, models);
  console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { diff: v.diff, counters: v.counters, strategy: v.strategy }]))));
  // auto: both plans measured on this device at load (the probe shape), the faster kept for it...
  const m = r.mlp.strategy.measured!;
  expect(m.kernelsMs).toBeGreaterThan(0);
  expect(m.ortMs).toBeGreaterThan(0);
  expect(r.mlp.strategy.strategy).toBe(m.kernelsMs <= m.ortMs ? 'kernels' : 'ort');
  expect(r.mlp.strategy.reason).toContain(`${m.kernelsMs.toFixed(1)} ms`);
  expect(r.mlp.strategy.reason).toContain(`${m.ortMs.toFixed(1)} ms`);
  // ...which is the runs' own shape class (1 row): the plan that ran the second run is the one the
  // class decision names (from the run's counters, not from the decision itself).
  const s = r.mlp.runStrategy!;
  expect(s).toMatchObject({ shapeClass: 'x:1', provisional: false, measured: m });
  const kept = s.measured.kernelsMs <= s.measured.ortMs ? 'kernels' : 'ort';
  expect(s.strategy).toBe(kept);
  if (kept === 'kernels') expect(r.mlp.counters.kernelDispatches).toBeGreaterThan(0);
  else expect(r.mlp.counters).toMatchObject({ kernelDispatches: 0, ortSegments: 1 });
  expect(r.mlp.diff).toBeLessThan(1e-5);
  // Forced kernels: each pattern on our kernels, same answers as ORT WASM, only inputs up and outputs down.
  expect(r.qlinear.placement.kernels.map((k) => k.ops)).toEqual([['QLinearMatMul']]);
  expect(r.qlinear.types).toEqual(['uint8']);
  expect(r.qlinear.diff).toBe(0);
  // One submission for the kernel step. (Bind-group reuse is checked in handoff.spec.ts, where no other
  // model's work shares the buffer pool between the two runs.)
  expect(r.qlinear.counters).toMatchObject({ uploads: 1, readbacks: 1, ortSegments: 0, kernelDispatches: 1, submits: 1 });
  expect(r.qdq.strategy.strategy).toBe('kernels');
  expect(r.qdq.placement.kernels.map((k) => k.ops)).toEqual([['QuantizedMatMul']]);
  expect(r.qdq.diff).toBeLessThan(1e-5);
  expect(r.qdq.counters).toMatchObject({ uploads: 1, readbacks: 1, ortSegments: 1, kernelDispatches: 1, submits: 1 });
  // Unsupported int8 ops: plain ORT, correct, and the reasons are recorded.
  expect(r.unsupported.strategy.strategy).toBe('ort');
  expect(r.unsupported.placement.fallbacks).toEqual([
    { node: 'mmi', op: 'MatMulInteger', reason: 'weight B "b" is not a constant' },
    { node: 'conv', op: 'ConvInteger', reason: 'weight w has dims [1,1,2,2,2]; the conv kernels take 1-D and 2-D convs' },
  ]);
  expect(r.unsupported.placement.cpuFallbackOps).toEqual({ MatMulInteger: 1, ConvInteger: 1 });
  expect(r.unsupported.diff).toBe(0);
});

test('warm start: the second load reuses the cached plan and decisions instead of partitioning and measuring again', async ({ webq8Page: page }) => {
  const model = [...quantizeDynamic(mlp(64, 32, { second: true }), { perChannel: true }).bytes];
  const r = await page.evaluate(async (model) => {
    const { createRuntime } = await import('/dist/index.js');
    const feeds = () => ({ x: { type: 'float32' as const, dims: [4, 64], data: Float32Array.from({ length: 256 }, (_, i) => Math.cos(i)) } });
    const first = createRuntime();
    const a = await first.load(new Uint8Array(model), { backend: 'webgpu' });
    let outA = Object.values(await a.run(feeds()))[0]!.data as Float32Array;
    let runA = a.stats().lastRun!.strategy!;
    // The class is measured in the model's idle time after its first request: ask again until it is decided (bounded).
    for (let i = 0; runA.provisional && i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      outA = Object.values(await a.run(feeds()))[0]!.data as Float32Array;
      runA = a.stats().lastRun!.strategy!;
    }
    await first.dispose();
    const second = createRuntime(); // a new worker: nothing in memory, only IndexedDB
    const b = await second.load(new Uint8Array(model), { backend: 'webgpu' });
    const outB = Object.values(await b.run(feeds()))[0]!.data as Float32Array;
    const runB = b.stats().lastRun!.strategy;
    await second.dispose();
    return {
      a: a.info.strategy,
      b: b.info.strategy,
      placementA: a.info.placement?.kernelNodes,
      placementB: b.info.placement?.kernelNodes,
      same: outA.join() === outB.join(),
      runA,
      runB,
    };
  }, model);
  // The run's shape class (4 rows) was measured after the first load's first run and saved: the
  // second load's first run uses that decision, not provisional, with the same figures.
  expect(r.runA).toMatchObject({ shapeClass: 'x:4', provisional: false });
  expect(r.runB).toEqual(r.runA);
  expect(r.a?.cached).toBeUndefined();
  expect(r.a?.measured).toBeDefined();
  expect(r.b).toMatchObject({ cached: true, strategy: r.a!.strategy, requested: 'auto' });
  expect(r.placementB).toBe(r.placementA);
  expect(r.placementA).toBeGreaterThan(0);
  expect(r.same).toBe(true);
});

declare global {
  /** The PP-OCR rec test's runtime and its one-line input, kept between its two page.evaluate calls. */
  var partitionRec: { rt: import('/dist/index.js').Runtime; single: () => Record<string, import('/dist/index.js').TensorLike> } | undefined;
}
