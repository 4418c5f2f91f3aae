// The demo page, as a person uses it: it loads PP-OCRv4 rec, reads the default line, reads what
// the user types, and reports its latencies to the reference collector.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latency, startCollectorProcess } from '../unit/collector/helpers';
import { expect, isFallbackAdapter, test } from './fixtures';

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
    await expect(page.locator('#dashboard a')).toHaveAttribute('href', `${collector.url}/`);
    const runs = async () => (await latency(collector.url)).series.filter((s) => s.metric === 'webq8.run.duration').reduce((n, s) => n + s.count, 0);
    await expect.poll(runs, { timeout: 30_000 }).toBe(2);
  } finally {
    await collector.stop();
  }
});
