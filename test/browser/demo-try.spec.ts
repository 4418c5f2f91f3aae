// The demo's "try your model" section as a person uses it: `?try=URL` on PP-OCR rec q8 (made by
// `webq8 quantize` when the demo starts) and on a float model (PP-OCR cls) quantized in the page;
// a file that is not ONNX and a truncated model show the named error, and a second try works.
// The page's tables and plots are checked against what webq8 itself reports (`model.info.placement`,
// `model.profile`, the model's outputs); screenshots of the demo and the dashboard are saved as
// artifacts (not compared). Small shapes and 3 runs per plan: SwiftShader is slow.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { startCollectorProcess } from '../unit/collector/helpers';
import { MODELS, expect, repoFile, test } from './fixtures';
import { buildModel } from '../../src/graph/onnx-builder';
import { prepareDemoModels } from '../../scripts/demo-models.mjs';
import type { ModelInfo, RunProfile } from '../../src';

type TryHook = { outputs: string[]; plans: { label: string; info: ModelInfo; profile: RunProfile | null; runs: number }[] };

/** A small float model, y = relu(x · W), W float32[64, 32] seeded: one MatMul for webq8 quantize. */
const TINY = buildModel({
  inputs: [{ name: 'x', type: 'float32', dims: ['batch', 64] }],
  outputs: [{ name: 'y', type: 'float32', dims: ['batch', 32] }],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
    { op: 'Relu', inputs: ['h'], outputs: ['y'] },
  ],
  initializers: { w: { type: 'float32', dims: [64, 32], data: Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i * 0.37) * 0.2) } },
});
/** Serves TINY at /tiny-mlp.onnx for `page`. */
const serveTiny = (page: Page) =>
  page.route('**/tiny-mlp.onnx', (route) => route.fulfill({ body: Buffer.from(TINY), contentType: 'application/octet-stream' }));

let prepared: Awaited<ReturnType<typeof prepareDemoModels>>;
test.beforeAll(async () => {
  prepared = await prepareDemoModels();
});

/**
 * Console errors of `page` (the fixture already fails the test on uncaught ones), less ORT's own
 * warnings, which it prints with console.error ("[W:onnxruntime:…] Some nodes were not assigned…").
 */
function consoleErrors(page: Page): string[] {
  const list: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && !/\[W:onnxruntime:/.test(m.text()) && list.push(m.text())));
  return list;
}

/** The report's tables and plots against webq8's own figures, as the page received them. */
async function checkReport(page: Page, report: 'original' | 'q8', expectGpuPlans: string[]): Promise<Locator> {
  const el = page.locator(`.try-report[data-report="${report}"]`);
  const hook = await page.evaluate((r) => (window as unknown as { webq8Try: Record<string, TryHook> }).webq8Try[r]!, report);
  expect(hook.plans.map((p) => p.label)).toEqual(['wasm', ...expectGpuPlans]);
  // Placement: one row per kernel step (its first node) and per int8 candidate left to ORT, in model.info.placement's order.
  const placement = hook.plans.find((p) => p.info.backend.backend === 'webgpu')!.info.placement!;
  const nodes = [...placement.kernels.map((k) => k.nodes[0]!), ...placement.fallbacks.map((f) => f.node)];
  await expect(el.locator('[data-testid="try-placement"] tbody tr td:first-child')).toHaveText(nodes);
  // On the kernel plan each kernel step runs in webq8's kernel, each int8 op left to ORT in ORT.
  const onKernels = [...placement.kernels.map(() => 'webq8 kernel'), ...placement.fallbacks.map(() => /^ORT, /)];
  await expect(el.locator('[data-testid="try-placement"] tbody tr td:nth-child(3)')).toHaveText(onKernels);
  // Plan strip: one mark per step of each plan's model.profile.
  for (const p of hook.plans) {
    expect(p.profile, `${p.label} was profiled`).not.toBeNull();
    await expect(el.locator(`[data-testid="try-plan-strip"] svg g[data-row="${p.label}"] rect.mark`)).toHaveCount(p.profile!.steps.length);
  }
  // Latency: one CDF curve per plan, with its runs; p50/p95 dots and the warm-up apart.
  for (const p of hook.plans) {
    expect(p.runs).toBe(3);
    await expect(el.locator(`[data-testid="try-latency-plot"] svg path.mark[data-series="${p.label}"]`)).toHaveCount(1);
  }
  await expect(el.locator('[data-testid="try-latency-plot"] svg circle.mark')).toHaveCount(2 * hook.plans.length);
  // Numerics: one row per model output, one column per GPU plan, each a finite relative error.
  expect(hook.outputs).toEqual(hook.plans[0]!.info.outputs.map((o) => o.name));
  await expect(el.locator('[data-testid="try-numerics"] tbody tr td:first-child')).toHaveText(hook.outputs);
  await expect(el.locator('[data-testid="try-numerics"] thead th')).toHaveText(['output', ...expectGpuPlans]);
  for (const cell of await el.locator('[data-testid="try-numerics"] tbody td:not(:first-child)').allTextContents()) {
    const rel = Number(cell.match(/rel\. L2 (\S+),/)![1]);
    expect(rel).toBeLessThan(0.05); // int8 kernels vs ORT's CPU int8 and fp32: far below 5 %
  }
  return el;
}

test('?try= on PP-OCR rec q8: placement, plan strip, latency and numerics for every plan; the dashboard draws its series', async ({ page }, testInfo) => {
  // The kernel plan's first run compiles every pipeline on SwiftShader: minutes on a busy machine (as demo.spec.ts allows).
  test.setTimeout(420_000);
  const errors = consoleErrors(page);
  const collector = await startCollectorProcess(join(mkdtempSync(join(tmpdir(), 'webq8-try-')), 'm.jsonl'));
  try {
    // rec's input is x: [batch, 3, 48, width]: the page's default sizes (1, 32) keep SwiftShader quick.
    // One WebGPU plan (kernels): ORT's WebGPU EP is slow on SwiftShader; all three are tried in the cls test.
    await page.goto(`/demo/?collector=${collector.url}&try=${prepared.rec.url}&runs=3&strategies=kernels`);
    await expect(page.locator('body')).toHaveAttribute('data-try', 'done', { timeout: 360_000 });
    const el = await checkReport(page, 'original', ['webgpu kernels']);
    // The kernel plan runs the int8 MatMuls in webq8's kernels; plain ORT would put MatMulInteger on the CPU.
    // Plain ORT would run the int8 MatMuls' MatMulInteger on its CPU fallback (its WebGPU EP has no kernel for it).
    await expect(el.locator('[data-testid="try-placement"] tbody tr').filter({ hasText: 'QuantizedMatMul' }).locator('td:nth-child(4)')).toHaveText(
      Array(9).fill('ORT, CPU fallback'),
    );
    await expect(el.locator('.try-plans')).toContainText('upload');
    await expect(el.locator('.try-quantize button')).toHaveCount(0); // already int8
    expect(errors).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath('demo.png'), fullPage: true });
    await page.locator('#try').screenshot({ path: testInfo.outputPath('demo-try.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('#try').screenshot({ path: testInfo.outputPath('demo-try-dark.png') });
    // The demo's runs reach the collector (every 5 s); its dashboard draws them.
    await expect.poll(async () => (await (await fetch(`${collector.url}/api/latency`)).json()).series.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await page.goto(`${collector.url}/`);
    expect(await page.locator('svg .mark').count()).toBeGreaterThan(0);
    await page.screenshot({ path: testInfo.outputPath('dashboard.png'), fullPage: true });
  } finally {
    await collector.stop();
  }
});

test('?try= on a float model: quantized in the page, tried again as q8, with a download link', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = consoleErrors(page);
  await serveTiny(page);
  await page.goto('/demo/?try=/tiny-mlp.onnx&runs=3');
  await expect(page.locator('body')).toHaveAttribute('data-try', 'done', { timeout: 120_000 });
  // A float model has no int8 op: a single ORT plan on WebGPU, and an offer to quantize.
  const original = await checkReport(page, 'original', ['webgpu ort']);
  await expect(original.locator('[data-testid="try-placement"] tbody tr')).toHaveCount(0);
  await original.locator('.try-quantize button').click();
  await expect(page.locator('body')).toHaveAttribute('data-try-q8', 'done', { timeout: 120_000 });
  await expect(original.locator('.try-quantize-out')).toContainText('1 MatMul int8, 0 kept float');
  const link = original.locator('.try-quantize-out a[download]');
  await expect(link).toHaveAttribute('download', 'tiny-mlp-q8.onnx');
  const q8 = await checkReport(page, 'q8', ['webgpu kernels', 'webgpu ort', 'webgpu auto']);
  await expect(q8.locator('[data-testid="try-placement"] tbody')).toContainText('webq8 kernel');
  // The download is the quantized model webq8 loaded above.
  const size = await link.evaluate(async (a: HTMLAnchorElement) => (await (await fetch(a.href)).arrayBuffer()).byteLength);
  const q8Hook = await page.evaluate(() => (window as unknown as { webq8Try: Record<string, TryHook> }).webq8Try.q8!);
  expect(size).toBe(q8Hook.plans[0]!.info.bytes);
  expect(size).not.toBe(TINY.length);
  expect(errors).toEqual([]);
});

test('a file that is not ONNX and a truncated model show the named error; a second try works', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/demo/?runs=1');
  const file = page.locator('#try-file');
  await file.setInputFiles({ name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('these are my notes, not a model\n'.repeat(8)) });
  await expect(page.locator('body')).toHaveAttribute('data-try', 'error', { timeout: 60_000 });
  await expect(page.locator('#try-error')).toHaveText(/^ModelFormatError \[MODEL_FORMAT\]: /);
  const cls = repoFile(MODELS.cls);
  await file.setInputFiles({ name: 'cut.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(cls.subarray(0, cls.length >> 1)) });
  await expect(page.locator('body')).toHaveAttribute('data-try', 'error', { timeout: 60_000 });
  await expect(page.locator('#try-error')).toHaveText(/^ModelFormatError \[MODEL_FORMAT\]: /);
  await expect(page.locator('.try-report')).toHaveCount(0);
  await serveTiny(page);
  await page.locator('#try-url').fill('/tiny-mlp.onnx');
  await page.locator('#try-go').click();
  await expect(page.locator('body')).toHaveAttribute('data-try', 'done', { timeout: 90_000 });
  await expect(page.locator('#try-error')).toHaveText('');
  await expect(page.locator('.try-report[data-report="original"] [data-testid="try-numerics"] tbody tr')).toHaveCount(1);
});
