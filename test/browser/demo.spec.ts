// The demo page, as a person uses it: it loads PP-OCRv4 rec, reads the default line, and reads
// what the user types.
import { expect, test } from './fixtures';

test('the demo reads the drawn text back with a real model and shows backend and latency', async ({ page }) => {
  await page.goto('/demo/');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#result')).toHaveText('webq8 reads 42 lines, fast!');
  await expect(page.locator('#backend-info')).toHaveText('wasm'); // auto on SwiftShader
  await expect(page.locator('#reason')).toContainText('fallback');
  await expect(page.locator('#latency')).toContainText('ms');
  await page.locator('#text').fill('Hello 2026');
  await page.locator('body').evaluate((b) => delete b.dataset.state);
  await page.locator('#go').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(page.locator('#result')).toHaveText('Hello 2026');
});
