// QLinearConv on the int8 conv kernels (SwiftShader in CI): every loop (direct, GEMM portable, GEMM
// dp4a where the browser has it) bit-exact against ONNX's conformance case and against
// onnxruntime-web's own WASM QLinearConv on seeded random cases (test/unit/kernels/qlinear-conv-cases.ts).
// Each loop runs all its cases in one submission and one readback. Then whole models (a QLinearConv
// model and a QDQ conv model, test/unit/graph/conv-models.ts) on the kernel plan against the same
// models on ORT WASM. Run `npm run build` first.
import type { Page } from '@playwright/test';
import { qdqConvModel, QDQ_CONV_INPUT, qlinearConvModel } from '../unit/graph/conv-models';
import { installKernelHarness } from '../unit/kernels/browser-harness';
import { convAttrsOf, loadOnnxCases } from '../unit/kernels/onnx-cases';
import { qlinearConvCases, qlinearConvConstants, qlinearConvOracle } from '../unit/kernels/qlinear-conv-cases';
import { installQLinearConvHarness, type PlainTensor, type QConvJob } from '../unit/kernels/qlinear-conv-harness';
import { expect, test } from './fixtures';
import { oracle } from './kernel-fixture';

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
  // ORT builds 2 sessions of 256 one-node subgraphs, the GPU runs 3 loops × 300 cases: a few seconds
  // on a quiet machine, minutes on a loaded CI runner (as conv-kernels.spec.ts allows).
  test.setTimeout(300_000);
  const cases = qlinearConvCases(300, 20261208);
  const kernels = await open(page);
  const t0 = Date.now();
  const ort = await oracle(page, 'qconv', qlinearConvOracle(cases));
  expect(ort.cases).toBe(cases.length);
  const jobs: QConvJob[] = cases.map((q) => ({
    x: plain(q.o.x),
    constants: Object.fromEntries(Object.entries(qlinearConvConstants(q)).map(([n, t]) => [n, plain(t)])),
    attrs: q.o.attrs as Record<string, unknown>,
  }));
  const t1 = Date.now();
  const r = await page.evaluate((jobs) => window.__qconv.check(jobs, 'qconv'), jobs);
  console.log(`onnxruntime: ${ort.cases} cases in ${ort.sessions} sessions, ${t1 - t0} ms; GPU: ${Date.now() - t1} ms`);
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
  const saturated = await page.evaluate(
    () => Object.values(window.__ort.results.qconv ?? {}).filter((o) => (o.y ?? []).some((v) => v === 255 || v === 0 || v === -128 || v === 127)).length,
  );
  expect(saturated).toBeGreaterThan(100);
});

test('QLinearConv and QDQ conv models on the kernel plan match ORT WASM on the same models', async ({ webq8Page: page }) => {
  const models = { qlinear: [...qlinearConvModel()], qdq: [...qdqConvModel()] };
  const r = await page.evaluate(
    async ({ models, xDims }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const n = (d: number[]) => d.reduce((a, b) => a * b, 1);
      const feeds = {
        qlinear: () => ({ x: { type: 'uint8' as const, dims: [1, 6, 7, 8], data: Uint8Array.from({ length: 336 }, (_, i) => (i * 97 + 13) % 256) } }),
        qdq: () => ({ x: { type: 'float32' as const, dims: xDims, data: Float32Array.from({ length: n(xDims) }, (_, i) => Math.sin(i * 0.37) * 3) } }),
      };
      const out: Record<string, { diffs: Record<string, number>; elements: number; placement: unknown; counters: unknown; types: string[] }> = {};
      for (const name of ['qlinear', 'qdq'] as const) {
        const bytes = new Uint8Array(models[name]);
        const gpu = await rt.load(bytes, { backend: 'webgpu', strategy: 'kernels' });
        const a = await gpu.run(feeds[name]() as never);
        const cpu = await rt.load(bytes, { backend: 'wasm' });
        const b = await cpu.run(feeds[name]() as never);
        const diffs: Record<string, number> = {};
        let elements = 0;
        for (const k of Object.keys(b)) {
          const p = a[k]!.data as ArrayLike<number>;
          const q = b[k]!.data as ArrayLike<number>;
          let m = p.length === q.length ? 0 : Infinity;
          for (let i = 0; i < q.length; i++) m = Math.max(m, Math.abs(Number(p[i]) - Number(q[i])));
          diffs[k] = m;
          elements += q.length;
        }
        out[name] = { diffs, elements, placement: gpu.info.placement, counters: gpu.stats().lastRun!.counters, types: Object.values(a).map((t) => t.type) };
        await cpu.dispose();
      }
      await rt.dispose();
      return out;
    },
    { models, xDims: QDQ_CONV_INPUT },
  );
  type P = { kernels: { ops: string[]; pattern: string }[]; fallbacks: { node: string; reason: string }[] };
  console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { diffs: v.diffs, counters: v.counters }]))));
  // QLinearConv: bit-exact, uint8 out, one kernel step.
  expect((r.qlinear!.placement as P).kernels.map((k) => k.ops)).toEqual([['QLinearConv']]);
  expect(r.qlinear!.types).toEqual(['uint8']);
  expect(r.qlinear!.diffs).toEqual({ y: 0 });
  expect(r.qlinear!.elements).toBe(4 * 7 * 8);
  // QDQ: both quantized convs on the kernels, the weight-only one in ORT (bit-identical there).
  const qdq = r.qdq!.placement as P;
  expect(qdq.kernels.map((k) => [k.pattern, k.ops])).toEqual([
    ['qdq', ['QuantizedConv']],
    ['qdq', ['QuantizedConv']],
  ]);
  expect(qdq.fallbacks.map((f) => f.node)).toEqual(['conv_weight_only']);
  expect(r.qdq!.diffs.y2).toBe(0);
  // ORT fuses DQ → Conv → Relu → Q into an integer QLinearConv; the kernel computes the float conv
  // and ORT quantizes it after: a value on a rounding edge may land one step (s_h = 0.02) apart,
  // which moves y by at most 9 taps × 0.02 × max|w2 − 128|·0.01 ≈ 0.23. Measured: see the log.
  expect(r.qdq!.diffs.y).toBeLessThanOrEqual(0.25);
  expect(r.qdq!.elements).toBeGreaterThan(0);
});
