// QLinearConv on the int8 conv kernels (SwiftShader in CI): every loop (direct, GEMM portable, GEMM
// dp4a where the browser has it) bit-exact against ONNX's conformance case and against
// onnxruntime-web's own WASM QLinearConv on seeded random cases (test/unit/kernels/qlinear-conv-cases.ts).
// Each loop runs all its cases in one submission and one readback. Run `npm run build` first.
import { expect, test, type Page } from '@playwright/test';
import { installKernelHarness } from '../unit/kernels/browser-harness';
import { convAttrsOf, loadOnnxCases } from '../unit/kernels/onnx-cases';
import { installOrtRunner } from '../unit/kernels/ort-runner';
import { qlinearConvCases, qlinearConvConstants, qlinearConvOracle } from '../unit/kernels/qlinear-conv-cases';
import { installQLinearConvHarness, type PlainTensor, type QConvJob } from '../unit/kernels/qlinear-conv-harness';

const plain = (t: { type: string; dims: readonly number[]; data: ArrayLike<number | bigint> }): PlainTensor => ({
  type: t.type as PlainTensor['type'],
  dims: [...t.dims],
  data: Array.from(t.data, Number),
});

async function open(page: Page): Promise<string[]> {
  await page.goto('/test/browser/blank.html');
  await page.evaluate(installKernelHarness);
  await page.evaluate(installQLinearConvHarness);
  return page.evaluate(() => ['direct', 'gemm/portable', ...(window.__gpuBase.k.hasDp4a() ? ['gemm/dp4a'] : [])]);
}

test('ONNX QLinearConv conformance case is bit-exact on every loop', async ({ page }) => {
  const kernels = await open(page);
  const cases = loadOnnxCases(/^test_qlinearconv$/);
  const names = ['x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'];
  const jobs: QConvJob[] = cases.map((c) => ({
    x: plain(c.inputs[0]!),
    constants: Object.fromEntries(c.inputs.slice(1).map((t, i) => [names[i]!, plain(t)])),
    attrs: convAttrsOf(c) as Record<string, unknown>,
    want: c.outputs[0]!.data,
  }));
  const r = await page.evaluate((jobs) => window.__qconv.check(jobs), jobs);
  expect(r.failures).toEqual([]);
  const elements = cases.reduce((n, c) => n + c.outputs[0]!.data.length, 0);
  for (const kname of kernels) expect(r.compared[kname]).toEqual({ elements, cases: cases.length });
});

test('seeded random QLinearConvs (per-tensor and per-channel scales, uint8/int8, bias, saturation) are bit-exact with onnxruntime on every loop', async ({
  page,
}) => {
  const cases = qlinearConvCases(300, 20261208);
  const kernels = await open(page);
  await page.evaluate(installOrtRunner);
  const ort = await page.evaluate((models) => window.__ort.run('qconv', models), qlinearConvOracle(cases));
  expect(ort.cases).toBe(cases.length);
  const jobs: QConvJob[] = cases.map((q) => ({
    x: plain(q.o.x),
    constants: Object.fromEntries(Object.entries(qlinearConvConstants(q)).map(([n, t]) => [n, plain(t)])),
    attrs: q.o.attrs as Record<string, unknown>,
  }));
  const r = await page.evaluate((jobs) => window.__qconv.check(jobs, 'qconv'), jobs);
  expect(r.failures, JSON.stringify(r.failures.slice(0, 3))).toEqual([]);
  const elements = await page.evaluate(() => Object.values(window.__ort.results.qconv ?? {}).reduce((n, o) => n + (o.y?.length ?? 0), 0));
  for (const kname of kernels) expect(r.compared[kname]).toEqual({ elements, cases: cases.length });
  // The cases cover what they claim to.
  const has = (f: (c: (typeof cases)[number]) => boolean) => cases.filter(f).length;
  expect(has((c) => c.wScale.length > 1)).toBeGreaterThan(100);
  expect(has((c) => c.o.x.type === 'int8')).toBeGreaterThan(100);
  expect(has((c) => c.o.w.type === 'int8' && c.o.x.type === 'uint8')).toBeGreaterThan(50);
  expect(has((c) => !!c.bias)).toBeGreaterThan(100);
  expect(has((c) => c.o.w.dims[1] === 1 && (c.o.attrs.group ?? 1) > 1)).toBeGreaterThan(40);
  expect(has((c) => (c.o.wZp?.length ?? 0) > 1)).toBeGreaterThan(60);
  const saturated = await page.evaluate(() =>
    Object.values(window.__ort.results.qconv ?? {}).filter((o) => (o.y ?? []).some((v) => v === 255 || v === 0 || v === -128 || v === 127)).length,
  );
  expect(saturated).toBeGreaterThan(100);
});
