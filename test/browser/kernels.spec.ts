// The int8 kernels on the real WebGPU adapter (SwiftShader in CI), one shared suite run once per
// kernel variant (tfjs-backend-webgpu style). int32 and quantized outputs must be bit-exact against
// the CPU reference (src/kernels/reference.ts, loaded in the page from /dist/kernels.js) AND against
// onnxruntime-web's own WASM kernels (test/unit/kernels/ort-oracle.ts: an implementation nobody
// here wrote); the fused float epilogue within FLOAT_TOL relative of the reference. The seeded cases
// are generated in Node (int8-cases.ts) and batched into few page.evaluate calls because the adapter
// runs on the CPU; the page, its GpuContext (compiled pipelines) and the oracle's answers belong to
// the worker (kernel-fixture.ts). Run `npm run build` first.
import { int8OnnxCases } from '../unit/kernels/onnx-cases';
import { expect, oracle as runOracle, test } from './kernel-fixture';
import { dqlInputs, largeKCases, outputElements, quantizedCases, randomMatmulCases, type MatmulCase } from '../unit/kernels/int8-cases';
import { dqlOracle, dqlOracleCovers, matmulOracle, qlinearOracle, type OracleModel } from '../unit/kernels/ort-oracle';

/** Fused epilogue tolerance: 8 float32 ulps relative (the GPU computes the same ops in the same order). */
const FLOAT_TOL = 2 ** -20;

const cases = int8OnnxCases();
const random = randomMatmulCases(1200, 20261123);
const large = largeKCases();
const quantized = quantizedCases(150, 4242);
const dql = dqlInputs(60, 314159);
/** The ORT models by name, built when a test first needs them. */
const oracles: Record<string, () => OracleModel[]> = {
  random: () => matmulOracle(random),
  large: () => matmulOracle(large),
  qlinear: () => qlinearOracle(quantized.qlinear),
  dql: () => dqlOracle(dql),
};

/** Runs the ORT oracle models of `name` (once per worker); its answers go to the page for the harness. */
const oracle = (page: import('@playwright/test').Page, name: string) => runOracle(page, name, oracles[name]!());

/**
 * The shader paths cases took (ROWSUM and K_ALIGNED are override constants: one pipeline per kernel
 * and combination): every kernel of `kernels` ran both values of each, and every loop of two or
 * more kernels all four combinations.
 */
function expectPaths(paths: { kernel: string; loop: string; rowsum: boolean; kAligned: boolean; cases: number }[], kernels: string[]): void {
  expect([...new Set(paths.map((p) => p.kernel))].sort()).toEqual([...kernels].sort());
  for (const kernel of kernels) {
    const runs = paths.filter((p) => p.kernel === kernel);
    expect(new Set(runs.map((p) => p.rowsum)), kernel).toEqual(new Set([false, true]));
    expect(new Set(runs.map((p) => p.kAligned)), kernel).toEqual(new Set([false, true]));
  }
  for (const loop of new Set(paths.map((p) => p.loop))) {
    const runs = paths.filter((p) => p.loop === loop);
    if (new Set(runs.map((p) => p.kernel)).size > 1) expect(new Set(runs.map((p) => `${p.rowsum} ${p.kAligned}`)).size, loop).toBe(4);
  }
}

/** Output elements of matmul cases, computed here from the shapes (the page counts what it compared). */
const elements = (cs: MatmulCase[]) => cs.reduce((n, c) => n + outputElements(c), 0);

for (const variant of ['dp4a', 'portable'] as const) {
  test.describe(variant, () => {
    test('ONNX conformance cases are bit-exact through the registered ops', async ({ kernelPage: page }) => {
      const results = await page.evaluate(({ variant, cases }) => window.__int8.conformance(variant, cases), { variant, cases });
      expect(results.map((r) => r.name)).toHaveLength(cases.length);
      for (const r of results) expect(r.mismatches, `${r.name}: ${r.detail}`).toEqual([]);
    });

    test('1200 seeded random MatMulInteger shapes/zero points/dtypes/layouts are bit-exact with the reference and onnxruntime', async ({
      kernelPage: page,
    }) => {
      test.setTimeout(300_000); // 1200 cases on the GPU, plus the oracle
      const ort = await oracle(page, 'random');
      const r = await page.evaluate(({ variant, random }) => window.__int8.randomMatmul(variant, random, 'random'), { variant, random });
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
      // Every output element of every case was compared, with the reference and with ORT.
      expect(ort.cases).toBe(random.length);
      expect(r.compared).toEqual({ ref: elements(random), ort: elements(random), ortCases: random.length });
      expect(r.layouts.sort()).toEqual(['gemv', 'tiled', 'wide']);
      expectPaths(r.paths, r.kernels);
      expect([...new Set(r.paths.map((p) => p.loop))].sort()).toEqual(['gemv', 'tiled', 'wide16', 'wide8']);
    });

    test('K up to 8192, N and K off every multiple, batched A and B', async ({ kernelPage: page }) => {
      await oracle(page, 'large');
      const r = await page.evaluate(({ variant, large }) => window.__int8.largeK(variant, large, 'large'), { variant, large });
      expect(r.failures, JSON.stringify(r.failures)).toEqual([]);
      const kernels = 6; // each case through 6 kernel shapes
      expect(r.compared).toEqual({ ref: kernels * elements(large), ort: kernels * elements(large), ortCases: kernels * large.length });
    });

    test('QLinearMatMul (uint8 and int8 out) is bit-exact with the reference and onnxruntime; fused DQL → QuantizedMatMul within tolerance', async ({
      kernelPage: page,
    }) => {
      test.setTimeout(300_000); // 300 cases on the GPU, plus the oracle
      await oracle(page, 'qlinear');
      const r = await page.evaluate(({ variant, quantized, tol }) => window.__int8.quantizedOps(variant, quantized, tol, 'qlinear', true), {
        variant,
        quantized,
        tol: FLOAT_TOL,
      });
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
      const q = elements(quantized.qlinear.map((c) => c.o));
      expect(r.qlinear).toEqual({ ref: q, ort: q, ortCases: quantized.qlinear.length });
      expect(r.fused).toBe(quantized.fused.reduce((n, c) => n + c.m * (c.o.b.dims[1] as number), 0));
      // Both epilogues on every kernel the ops choose for these row counts, each kernel through both
      // values of each shader path (the cases spread over them as in the random MatMulInteger test).
      expect(r.kernels.length).toBeGreaterThanOrEqual(2);
      expectPaths(r.paths!.requant, r.kernels);
      expectPaths(r.paths!.float32, r.kernels);
    });

    test('bad shapes and arguments raise KernelError with a fix', async ({ kernelPage: page }) => {
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

test('kernel choice is measured once per shape class, exposed, and honours a forced variant', async ({ kernelPage: page }) => {
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
  test('bit-exact with the reference and onnxruntime incl. all-zero, constant, negative-only, ties, NaN/Inf policy and large inputs', async ({
    kernelPage: page,
  }) => {
    await oracle(page, 'dql');
    const r = await page.evaluate(({ dql }) => window.__int8.dynamicQuantize(dql, 'dql'), { dql });
    expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
    // Per input and path: scale and zero point (2 values) and y; ORT judges all but the NaN/Inf and all-zero inputs.
    const per = (xs: [string, number[]][]) => xs.reduce((n, [, x]) => n + 2 * (2 + x.length), 0);
    const covered = dql.filter(([, x]) => dqlOracleCovers(x));
    expect(covered).toHaveLength(dql.length - 2);
    expect(r.runs).toBe(2 * dql.length);
    expect(r.compared).toEqual({ ref: per(dql), ort: per(covered), ortCases: 4 * covered.length });
    // The named edge cases ran and gave the documented results.
    expect(r.named).toEqual({
      zeros: { scale: Math.fround(1 / 255), zeroPoint: 0, y0: 0 },
      negative: { zeroPoint: 255 },
      nanInf: { nanIsZp: true, posInf: 255, negInf: 0 },
    });
  });

  for (const variant of ['dp4a', 'portable'] as const) {
    test(`${variant}: per slice (a batched decode step) equals each slice quantized and multiplied alone, bit for bit`, async ({ kernelPage: page }) => {
      // 37: slices that do not start on 4-byte words; 64 × 5: several zero points in one word.
      for (const [slices, k, n] of [
        [3, 37, 12],
        [5, 64, 40],
      ] as const) {
        const r = await page.evaluate(({ variant, slices, k, n }) => window.__int8.perSlice(variant, slices, k, n), { variant, slices, k, n });
        expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
        expect(r.compared).toBe(slices * (k + 2 + n));
        expect(r.perTensorDiffers).toBe(true);
      }
    });
  }

  test('keeps scale and zero point on the GPU: DQL + QuantizedMatMul needs no readback', async ({ kernelPage: page }) => {
    const readbacks = await page.evaluate(() => window.__int8.noReadback());
    expect(readbacks).toBe(0);
  });
});
