// The int8 loops shaped for real GPUs (split-K GEMV, workgroup-tiled GEMM; src/kernels/int8-gpu-loops.ts)
// on SwiftShader, where the adapter defaults never pick them: every case is forced through them by
// passing the kernel (MatMulInteger, int32) or by the `setInt8KernelOverride` hook (the registered
// QLinearMatMul and DQL → QuantizedMatMul ops). int32 and requantized outputs are bit-exact against
// the CPU reference and onnxruntime-web's WASM kernels, and the spec checks how many elements were
// compared. The page and its compiled pipelines belong to the worker (kernel-fixture.ts). Run
// `npm run build` first.
import type { Page } from '@playwright/test';
import type { Int8Kernel } from '../../src/kernels/int8-matmul';
import { gpuLoopCases, outputElements, quantizedCases, type MatmulCase } from '../unit/kernels/int8-cases';
import { matmulOracle, qlinearOracle } from '../unit/kernels/ort-oracle';
import { expect, oracle, test } from './kernel-fixture';

const FLOAT_TOL = 2 ** -20;
// WEBQ8_GPU_LOOP_CASES: fewer cases for a quick local check (the suite's number is 1200).
const COUNT = Number(process.env.WEBQ8_GPU_LOOP_CASES ?? 1200);
const cases = gpuLoopCases(COUNT, 20261207);
const quantized = quantizedCases(60, 777);
/** The ORT models by name, built when a test first needs them. */
const models = { loops: () => matmulOracle(cases), qlinear: () => qlinearOracle(quantized.qlinear) };

// One workgroup shape per loop: every distinct set of override constants is a pipeline, and
// SwiftShader takes seconds to compile each. Small workgroups make K take several steps (and
// splits) at these sizes; 3 rows per pass leave partial row blocks.
const SPLITK: Int8Kernel = { variant: 'portable', layout: 'splitk', wgX: 4, wgY: 8, loads: 2, rows: 3, splits: 1 };

/** The loops every case runs through: the split-K GEMV with split-K across workgroups off and on, and the tiled GEMM (64 × 64 tiles). */
const LOOPS: Int8Kernel[] = [SPLITK, { ...SPLITK, splits: 3 }, { variant: 'portable', layout: 'gemm', wgX: 16, wgY: 16, rows: 4 }];

/**
 * Cases per arithmetic: all 1200 through dp4a (the arithmetic real GPUs get), every fourth through
 * portable (Apple's and dp4a-less browsers'; the loops are the same code around other arithmetic).
 * SwiftShader runs about 15 such kernel calls a second here, and compiles each pipeline in seconds.
 */
const SHARE = { dp4a: 1, portable: 4 } as const;

const elements = (cs: MatmulCase[]) => cs.reduce((n, c) => n + outputElements(c), 0);

async function open(page: Page, name: keyof typeof models): Promise<void> {
  const r = await oracle(page, name, models[name]());
  expect(r.cases).toBe(name === 'loops' ? cases.length : quantized.qlinear.length);
}

for (const variant of ['dp4a', 'portable'] as const) {
  // One worker runs the spec in order: the oracle runs once, and each variant's QLinearMatMul test
  // reuses the split-K pipelines its MatMulInteger test compiled (the first pass adds int32 partial
  // sums in every mode).
  test.describe(variant, () => {
    test(`split-K GEMV (off and on) and tiled GEMM: ${COUNT} / ${SHARE[variant]} seeded MatMulInteger cases (M 1…70, K and N off multiples of 4) are bit-exact with the reference and onnxruntime`, async ({
      kernelPage: page,
    }) => {
      test.setTimeout(900_000); // about 3 minutes on a quiet 2-core machine; much more under load
      await open(page, 'loops');
      const picked = cases.filter((_, i) => i % SHARE[variant] === 0);
      const kernels = cases.map((_, i) => (i % SHARE[variant] === 0 ? LOOPS : []));
      const r = await page.evaluate(({ variant, cases, kernels }) => window.__int8.loops(variant, cases, kernels, 'loops'), { variant, cases, kernels });
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
      const n = LOOPS.length * elements(picked);
      expect(r.compared).toEqual({ ref: n, ort: n, ortCases: LOOPS.length * picked.length });
      expect(r.kernels.sort()).toEqual([`${variant}/gemm 16x16 r4`, `${variant}/splitk 4x8 r3 s1 l2`, `${variant}/splitk 4x8 r3 s3 l2`]);
    });

    test('QLinearMatMul and DQL → QuantizedMatMul through split-K and the GEMM (forced by the hook) match the reference and onnxruntime', async ({
      kernelPage: page,
    }) => {
      test.setTimeout(300_000);
      await open(page, 'qlinear');
      const q = elements(quantized.qlinear.map((c) => c.o));
      const fused = quantized.fused.reduce((n, c) => n + c.m * (c.o.b.dims[1] as number), 0);
      for (const kernel of LOOPS.slice(1)) {
        await page.evaluate((kernel) => window.__int8.force(kernel), { ...kernel, variant });
        const r = await page.evaluate(({ variant, quantized, tol }) => window.__int8.quantizedOps(variant, quantized, tol, 'qlinear'), {
          variant,
          quantized,
          tol: FLOAT_TOL,
        });
        expect(r.failures, `${kernel.layout} ${JSON.stringify(r.failures.slice(0, 3))}`).toEqual([]);
        expect(r.qlinear).toEqual({ ref: q, ort: q, ortCases: quantized.qlinear.length });
        expect(r.fused).toBe(fused);
      }
    });
  });
}
