// The int8 conv kernels on the real WebGPU adapter (SwiftShader in CI): every loop (direct, GEMM
// portable, GEMM dp4a where the browser has it) runs the same cases, bit-exact against ONNX's
// conformance data, the CPU reference (src/kernels/conv-reference.ts, from /dist/kernels.js) and
// onnxruntime-web's own WASM ConvInteger (test/unit/kernels/conv-oracle.ts). Cases are generated
// in Node (conv-cases.ts) and run in few page.evaluate calls, in the worker's kernel page
// (kernel-fixture.ts). Run `npm run build` first.
import type { Page } from '@playwright/test';
import { convOracle } from '../unit/kernels/conv-oracle';
import { convOutputElements, randomConvCases } from '../unit/kernels/conv-cases';
import { installConvHarness } from '../unit/kernels/conv-harness';
import { convAttrsOf, convOnnxCases } from '../unit/kernels/onnx-cases';
import { expect, oracle, test } from './kernel-fixture';

/** Fused epilogue tolerance: 8 float32 ulps relative (the GPU computes the same ops in the same order). */
const FLOAT_TOL = 2 ** -20;

const random = randomConvCases(1000, 20261207);
const fusedCases = randomConvCases(30, 777);

/** Installs the conv harness on the worker's kernel page (once); resolves to the loops this browser runs. */
async function open(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => !!window.__conv))) await page.evaluate(installConvHarness);
  return page.evaluate(() => window.__conv.kernels());
}

test('ONNX ConvInteger conformance cases are bit-exact on every loop', async ({ kernelPage: page }) => {
  const kernels = await open(page);
  const cases = convOnnxCases();
  const attrs = cases.map((c) => convAttrsOf(c) as Record<string, unknown>);
  const r = await page.evaluate(({ cases, attrs }) => window.__conv.conformance(cases, attrs), { cases, attrs });
  expect(r).toHaveLength(cases.length * kernels.length);
  for (const x of r) expect(x.mismatch, `${x.name} ${x.kernel}: ${JSON.stringify(x.got)}`).toBe(-1);
});

test('1000 seeded random convs (1-D/2-D, groups, depthwise, strides, pads, auto_pad, dilations, dtypes, zero points) are bit-exact with the reference and onnxruntime on every loop', async ({
  kernelPage: page,
}) => {
  test.setTimeout(300_000);
  const kernels = await open(page);
  expect(kernels.slice(0, 2)).toEqual(['direct', 'gemm/portable']);
  const ort = await oracle(page, 'conv', convOracle(random));
  expect(ort.cases).toBe(random.length);
  const t1 = Date.now();
  const r = await page.evaluate((random) => window.__conv.random(random, 'conv'), random);
  console.log(`GPU: ${Date.now() - t1} ms`);
  expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
  const elements = random.reduce((n, c) => n + convOutputElements(c), 0);
  for (const kname of kernels) expect(r.compared[kname]).toEqual({ ref: elements, ort: elements, cases: random.length });
  // The cases cover what they claim to.
  const has = (f: (c: (typeof random)[number]) => boolean) => random.filter(f).length;
  expect(has((c) => c.x.dims.length === 3)).toBeGreaterThan(150);
  expect(has((c) => c.w.dims[1] === 1 && (c.attrs.group ?? 1) > 1)).toBeGreaterThan(150);
  expect(has((c) => !!c.attrs.autoPad)).toBeGreaterThan(100);
  expect(has((c) => (c.wZp?.length ?? 0) > 1)).toBeGreaterThan(200);
  expect(has((c) => c.attrs.dilations!.some((d) => d > 1))).toBeGreaterThan(200);
});

test('DynamicQuantizeLinear → QuantizedConv (scales, bias, Relu) matches the unfused chain within 2^-20 on every loop', async ({ kernelPage: page }) => {
  const kernels = await open(page);
  const r = await page.evaluate(({ cases, tol }) => window.__conv.fused(cases, tol), { cases: fusedCases, tol: FLOAT_TOL });
  expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
  expect(r.compared).toBe(kernels.length * fusedCases.reduce((n, c) => n + convOutputElements(c), 0));
});
