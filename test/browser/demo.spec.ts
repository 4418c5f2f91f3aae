// The demo page, as a person uses it: it loads PP-OCRv4 rec, reads the default line, reads what
// the user types, and reports its latencies to the reference collector; with the q8 choice it
// loads the model `webq8 quantize` made when the demo started and shows where each MatMul runs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latency, startCollectorProcess } from '../unit/collector/helpers';
import { expect, isFallbackAdapter, test } from './fixtures';
import { prepareDemoModels } from '../../scripts/demo-models.mjs';

/** What `npm run demo` prepares (made here the same way, or found current in .cache/demo/). */
let prepared: Awaited<ReturnType<typeof prepareDemoModels>>;
test.beforeAll(async () => {
  prepared = await prepareDemoModels();
});

test('the demo reads the drawn text back with a real model, shows backend and latency, and reports to the collector', async ({ page }) => {
  const collector = await startCollectorProcess(join(mkdtempSync(join(tmpdir(), 'webq8-demo-')), 'm.jsonl'));
  try {
    await page.goto(`/demo/?collector=${collector.url}`);
    await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
    await expect(page.locator('#result')).toHaveText('webq8 reads 42 lines, fast!');
    // The demo loads with backend 'auto': WASM on a fallback adapter (SwiftShader in CI), WebGPU on a hardware GPU.
    const fallback = await isFallbackAdapter(page);
    await expect(page.locator('#backend-info')).toHaveText(fallback ? 'wasm' : 'webgpu');
    await expect(page.locator('#reason')).toContainText(fallback ? 'fallback' : 'hardware');
    await expect(page.locator('#latency')).toContainText('ms');
    await page.locator('#text').fill('Hello 2026');
    await page.locator('body').evaluate((b) => delete b.dataset.state);
    await page.locator('#go').click();
    await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    await expect(page.locator('#result')).toHaveText('Hello 2026');
    await expect(page.locator('#stats')).toContainText('2 runs');
    // The page's runs as a small histogram (one bar per occupied bin), the numbers beside it.
    expect(await page.locator('#ocr-runs svg rect.mark').count()).toBeGreaterThanOrEqual(1);
    await expect(page.locator('#ocr-runs figcaption')).toContainText("this page's 2 recognitions");
    await expect(page.locator('#dashboard a')).toHaveAttribute('href', `${collector.url}/`);
    const runs = async () => (await latency(collector.url)).series.filter((s) => s.metric === 'webq8.run.duration').reduce((n, s) => n + s.count, 0);
    await expect.poll(runs, { timeout: 30_000 }).toBe(2);
  } finally {
    await collector.stop();
  }
});

test('the q8 choice loads the model webq8 quantize made, reads the line, and shows placement, strategy and the last run', async ({ page }) => {
  test.setTimeout(420_000);
  const { quantized, skipped } = prepared.rec.report;
  // The cells of a MatMul's placement row: name, weights, runs on, why.
  const cells = (matmul: string) =>
    page
      .locator('#placement-rows tr')
      .filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${matmul.replace(/\./g, '\\.')}$`) }) })
      .locator('td');
  // The page's figures for this configuration, printed for docs/benchmarks.md (not asserted: machines are noisy).
  const figures = async (name: string) =>
    console.log(
      name,
      JSON.stringify(
        await page.evaluate(() =>
          Object.fromEntries(['load', 'latency', 'strategy-rows', 'profile-rows'].map((id) => [id, document.getElementById(id)!.innerText])),
        ),
      ),
    );
  const recognize = async () => {
    await page.locator('body').evaluate((b) => delete b.dataset.state);
    await page.locator('#go').click();
    await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  };
  // WebGPU with webq8's kernels requested: the kernel plan, without a measurement (ORT's WebGPU EP is slow on SwiftShader).
  // Without the load-time check against ORT WASM (?verify=off): it costs a PP-OCR rec load about ten
  // times over on SwiftShader, and verify.spec.ts tests it.
  await page.goto('/demo/?model=q8&backend=webgpu&strategy=kernels&verify=off&text=ZIP%2010115');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.locator('#result')).toHaveText('ZIP 10115');
  await expect(page.locator('#model-info')).toContainText('rec-q8.onnx');
  await expect(page.locator('#model-info')).toContainText('check against ORT WASM: off');
  await expect(page.locator('#backend-info')).toHaveText('webgpu');
  await expect(page.locator('#quantizer')).toContainText(`${quantized.length} MatMuls int8, ${skipped.length} kept float`);
  await expect(page.locator('#strategy-rows')).toContainText('kernels (requested kernels)');
  await expect(page.locator('#strategy-rows')).toContainText("not measured: strategy 'kernels' was requested");
  await expect(page.locator('#placement-rows tr')).toHaveCount(quantized.length + skipped.length);
  for (const m of quantized) await expect(cells(m)).toHaveText([m, 'int8', 'webq8 kernel: QuantizedMatMul', /^pattern quantize_dynamic; /]);
  for (const s of skipped) await expect(cells(s.node)).toHaveText([s.node, 'float', 'ORT, WebGPU EP', `kept float by webq8 quantize: ${s.reason}`]);
  await expect(page.locator('#placement-summary')).toContainText(`${quantized.length} QuantizedMatMul`);
  // The last run: its phase totals, then the per-step profile (model.profile) on request.
  await expect(page.locator('body')).toHaveAttribute('data-profile', 'timings');
  const segments = Number((await page.locator('#placement-summary').textContent())!.match(/in (\d+) segments/)![1]);
  await expect(page.locator('#profile-rows')).toContainText(`ORT (${segments} segments)`);
  const dispatches = Number((await page.locator('#profile-rows').textContent())!.match(/webq8 kernels, encoding \((\d+) dispatches\)/)![1]);
  expect(dispatches).toBeGreaterThanOrEqual(quantized.length);
  await page.locator('#profile-go').click();
  await expect(page.locator('body')).toHaveAttribute('data-profile', 'steps', { timeout: 240_000 });
  await expect(page.locator('#profile-rows')).toContainText('QuantizedMatMul');
  // One row per plan step: every ORT segment of the placement, and at least one kernel step per int8 MatMul.
  const stepCells = page.locator('#profile-rows tr td:nth-child(2)');
  await expect(stepCells.filter({ hasText: /^ORT segment: / })).toHaveCount(segments);
  expect(await stepCells.filter({ hasText: /^webq8 kernel: / }).count()).toBeGreaterThanOrEqual(quantized.length);
  await expect(page.locator('#profile-rows')).toContainText('total (kernels plan)');

  await figures('q8 webgpu kernels');

  // WASM: ORT runs every op on the CPU, so the int8 MatMuls are ORT's too.
  await page.locator('#backend').selectOption('wasm');
  await recognize();
  await expect(page.locator('#result')).toHaveText('ZIP 10115');
  await expect(page.locator('#placement-summary')).toContainText('No placement: on wasm');
  for (const m of quantized) await expect(cells(m)).toHaveText([m, 'int8', 'ORT, WASM EP (CPU)', /^The backend is wasm/]);
  await figures('q8 wasm');

  // Not 'auto' here: its load also measures plain ORT on WebGPU, over a third of this test's time on
  // SwiftShader. The runtime's measurement is tested in strategy.spec.ts, the rows the page
  // draws from a measured decision (probe class and this input's class) in test/unit/demo/q8.test.ts.
});
