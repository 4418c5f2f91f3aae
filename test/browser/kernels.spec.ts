// The int8 kernels on the real WebGPU adapter (SwiftShader in CI), one shared suite run once per
// kernel variant (tfjs-backend-webgpu style). int32 and quantized outputs must be bit-exact against
// the CPU reference (src/kernels/reference.ts, loaded in the page from /dist/kernels.js); the fused
// float epilogue within FLOAT_TOL relative. Cases are batched into few page.evaluate calls because
// the adapter runs on the CPU. Run `npm run build` first.
import { expect, test, type Page } from '@playwright/test';
import { int8OnnxCases } from '../unit/kernels/onnx-cases';
import { installKernelHarness } from '../unit/kernels/browser-harness';

/** Fused epilogue tolerance: 8 float32 ulps relative (the GPU computes the same ops in the same order). */
const FLOAT_TOL = 2 ** -20;

const cases = int8OnnxCases();

async function open(page: Page): Promise<void> {
  await page.goto('/test/browser/blank.html');
  await page.evaluate(installKernelHarness);
}

for (const variant of ['dp4a', 'portable'] as const) {
  test.describe(variant, () => {
    test.beforeEach(async ({ page }) => open(page));

    test('ONNX conformance cases are bit-exact through the registered ops', async ({ page }) => {
      const results = await page.evaluate(({ variant, cases }) => window.__int8.conformance(variant, cases), { variant, cases });
      expect(results.map((r) => r.name)).toHaveLength(cases.length);
      for (const r of results) expect(r.mismatches, `${r.name}: ${r.detail}`).toEqual([]);
    });

    test('1200 seeded random MatMulInteger shapes/zero points/dtypes/layouts are bit-exact', async ({ page }) => {
      const r = await page.evaluate(({ variant }) => window.__int8.randomMatmul(variant, 1200, 20261123), { variant });
      expect(r.cases).toBe(1200);
      expect(r.layouts.sort()).toEqual(['gemv', 'tiled', 'wide']);
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
    });

    test('K up to 8192, N and K off every multiple, batched A and B', async ({ page }) => {
      const r = await page.evaluate(({ variant }) => window.__int8.largeK(variant), { variant });
      expect(r.failures, JSON.stringify(r.failures)).toEqual([]);
      expect(r.cases).toBeGreaterThanOrEqual(6);
    });

    test('QLinearMatMul (uint8 and int8 out) is bit-exact; fused DQL → QuantizedMatMul within tolerance', async ({ page }) => {
      const r = await page.evaluate(({ variant, tol }) => window.__int8.quantizedOps(variant, 150, tol), { variant, tol: FLOAT_TOL });
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
      expect(r.qlinear).toBe(150);
      expect(r.fused).toBe(150);
    });

    test('bad shapes and arguments raise KernelError with a fix', async ({ page }) => {
      const errors = await page.evaluate(({ variant }) => window.__int8.errors(variant), { variant });
      expect(errors).toEqual([
        expect.stringMatching(/KERNEL_INVALID: .*K = 3 but B has K = 4/),
        expect.stringMatching(/KERNEL_INVALID: .*empty/),
        expect.stringMatching(/KERNEL_INVALID: .*"B" is missing/),
        expect.stringMatching(/KERNEL_INVALID: .*1 or N = 3/),
        expect.stringMatching(/KERNEL_INVALID: .*needs at least one/),
      ]);
    });
  });
}

test('kernel choice is measured once per shape class, exposed, and honours a forced variant', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(() => window.__int8.tuning());
  const gemvs = (v: string) => [`${v}/gemv 64x4`, `${v}/gemv 32x8`, `${v}/gemv 16x1`];
  expect(r.before).toBe(r.fallback); // the default before measuring
  expect(gemvs(r.dp4a ? 'dp4a' : 'portable')).toContain(r.before);
  expect(r.measured).toEqual(r.dp4a ? [...gemvs('dp4a'), ...gemvs('portable')] : gemvs('portable'));
  expect(r.after).toBe(r.best);
  expect(r.again).toBe(true); // cached: the second call measures nothing
  expect(r.forced.startsWith('portable/gemv')).toBe(true);
});

test.describe('DynamicQuantizeLinear', () => {
  test.beforeEach(async ({ page }) => open(page));

  test('bit-exact incl. all-zero, constant, negative-only, ties, NaN/Inf policy and large inputs', async ({ page }) => {
    const r = await page.evaluate(() => window.__int8.dynamicQuantize(60, 314159));
    expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
    expect(r.cases).toBeGreaterThanOrEqual(50);
    // The named edge cases ran and gave the documented results.
    expect(r.named).toEqual({
      zeros: { scale: Math.fround(1 / 255), zeroPoint: 0, y0: 0 },
      negative: { zeroPoint: 255 },
      nanInf: { nanIsZp: true, posInf: 255, negInf: 0 },
    });
  });

  test('keeps scale and zero point on the GPU: DQL + QuantizedMatMul needs no readback', async ({ page }) => {
    const readbacks = await page.evaluate(() => window.__int8.noReadback());
    expect(readbacks).toBe(0);
  });
});
