// The demo's generate panel as a person uses it: generate from the synthetic decoder that
// `npm run demo` builds, watch the ids arrive one by one with TTFT, TPOT and tokens/s, then the q8
// decoder. The ids must be the ones `model.generate` gives for the same prompt outside the panel.
import { expect, isFallbackAdapter, test } from './fixtures';
import { prepareDemoModels } from '../../scripts/demo-models.mjs';

let prepared: Awaited<ReturnType<typeof prepareDemoModels>>;
test.beforeAll(async () => {
  prepared = await prepareDemoModels();
});

test('the generate panel streams the synthetic decoder’s ids with live TTFT, TPOT and tokens/s, and says the weights are synthetic', async ({ page }) => {
  await page.goto('/demo/');
  await expect(page.getByText("The decoder's weights are synthetic")).toBeVisible();
  const { config } = prepared.decoder;
  await expect(page.locator('#gen-shape')).toHaveText(
    `${config.layers} layers × ${config.hidden}, ${config.heads} heads, vocabulary ${config.vocab}, context ${config.maxPositions}`,
  );
  await page.locator('#gen-prompt').fill('5 17 99 3');
  await page.locator('#gen-tokens').fill('24');
  // Every length the ids line shows while the answer is still being generated.
  await page.evaluate(() => {
    const ids = document.getElementById('gen-ids')!;
    const seen: number[] = [];
    (window as unknown as { idsSeen: number[] }).idsSeen = seen;
    new MutationObserver(() => {
      if (document.body.dataset.genState === 'running') seen.push(ids.textContent!.split(' ').filter(Boolean).length);
    }).observe(ids, { childList: true, characterData: true, subtree: true });
  });
  await page.locator('#gen-go').click();
  await expect(page.locator('body')).toHaveAttribute('data-gen-state', 'done', { timeout: 90_000 });
  const shown = (await page.locator('#gen-ids').textContent())!.split(' ').map(Number);
  expect(shown).toHaveLength(24);
  expect(shown.every((id) => Number.isInteger(id) && id >= 0 && id < config.vocab)).toBe(true);
  // Streamed: the line grew while the answer ran (a first partial list), never shrank, and ended whole.
  const seen = await page.evaluate(() => (window as unknown as { idsSeen: number[] }).idsSeen.filter((n) => n > 0));
  expect(seen[0]).toBeLessThan(24);
  expect(seen.at(-1)).toBe(24);
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  await expect(page.locator('#gen-ttft')).toHaveText(/^\d+\.\d ms$/);
  await expect(page.locator('#gen-tpot')).toHaveText(/^\d+\.\d ms mean, last \d+\.\d ms$/);
  await expect(page.locator('#gen-rate')).toHaveText(/^\d+\.\d tokens\/s \(decode\), \d+\.\d overall$/);
  // The per-token latency as a sparkline, its numbers beside it.
  await expect(page.locator('#gen-spark svg path.mark')).toHaveCount(1);
  await expect(page.locator('#gen-spark span')).toHaveText(/^\d+ gaps, last \d+(\.\d+)? ms, max \d+(\.\d+)? ms$/);
  await expect(page.locator('#gen-finish')).toHaveText(/^length: 24 new tokens after 4 prompt tokens; busy \d+\.\d ms$/);
  console.log(
    'generate fp32',
    JSON.stringify(
      await page.evaluate(() => ['gen-ttft', 'gen-tpot', 'gen-rate', 'gen-finish', 'gen-info'].map((id) => document.getElementById(id)!.textContent)),
    ),
  );
  const live = ['gen-ttft', 'gen-tpot', 'gen-rate', 'gen-finish', 'gen-info'];
  console.log('generate fp32', JSON.stringify(await page.evaluate((ids) => ids.map((id) => document.getElementById(id)!.textContent), live)));
  // The panel loads with backend 'auto': WASM on a fallback adapter (SwiftShader in CI), WebGPU on a hardware GPU.
  const backend: 'wasm' | 'webgpu' = (await isFallbackAdapter(page)) ? 'wasm' : 'webgpu';
  await expect(page.locator('#gen-info')).toContainText(`decoder-fp32.onnx on ${backend}`);
  // The same ids from model.generate itself, outside the panel, on that backend.
  const direct = await page.evaluate(
    async ({ url, backend }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      try {
        const model = await rt.load(url, { backend });
        return (await model.generate([5, 17, 99, 3], { maxNewTokens: 24 }).result).tokens;
      } finally {
        await rt.dispose();
      }
    },
    { url: prepared.decoder.fp32.url, backend },
  );
  expect(shown).toEqual(direct);

  // The q8 decoder (webq8 quantize's output).
  await page.locator('#gen-model').selectOption('q8');
  await page.locator('#gen-tokens').fill('8');
  await page.locator('#gen-go').click();
  await expect(page.locator('body')).toHaveAttribute('data-gen-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#gen-info')).toContainText(`decoder-q8.onnx on ${backend}`);
  expect((await page.locator('#gen-ids').textContent())!.split(' ')).toHaveLength(8);

  // Stop: pressed (from the page, at once) when the first id shows; the answer ends there, short of its length.
  await page.locator('#gen-tokens').fill('200');
  await page.evaluate(() => {
    const ids = document.getElementById('gen-ids')!;
    const observer = new MutationObserver(() => {
      if (ids.textContent) {
        observer.disconnect();
        document.getElementById('gen-go')!.click();
      }
    });
    observer.observe(ids, { childList: true, characterData: true, subtree: true });
  });
  await page.locator('#gen-go').click();
  await expect(page.locator('body')).toHaveAttribute('data-gen-state', 'stopped', { timeout: 90_000 });
  await expect(page.locator('#gen-finish')).toHaveText(/^stopped after \d+ tokens$/);
  const stoppedAt = (await page.locator('#gen-ids').textContent())!.split(' ').length;
  expect(stoppedAt).toBeLessThan(200);
  await expect(page.locator('#gen-finish')).toHaveText(`stopped after ${stoppedAt} tokens`);
  await expect(page.locator('#gen-go')).toHaveText('Generate');
});
