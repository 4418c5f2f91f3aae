// The demo's load panel as a person uses it: set an arrival rate far beyond what the machine serves,
// start the load, and see answers keep coming while the overflow is refused and the SLO reacts.
import { expect, test } from './fixtures';

test('the load panel shows answers, refusals and the SLO state under overload', async ({ page }) => {
  await page.goto('/demo/');
  await page.locator('#rate').fill('1000');
  await expect(page.locator('#rate-value')).toHaveText('1000 req/s');
  await page.locator('#load-toggle').click();
  await expect(page.locator('#load-toggle')).toHaveText('Stop load');
  await expect.poll(async () => Number(await page.locator('body').getAttribute('data-load-answered')), { timeout: 60_000 }).toBeGreaterThan(20);
  await expect.poll(async () => Number(await page.locator('body').getAttribute('data-load-shed')), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(page.locator('#load-latency')).toContainText('p95');
  await expect(page.locator('#load-shed')).toContainText('shed');
  await expect(page.locator('#load-slo')).toContainText('burn');
  // Latency, queue and refusals as live lines, their current numbers in the captions.
  await expect(page.locator('#load-plot svg path.mark')).toHaveCount(2);
  await expect(page.locator('#load-queue-plot svg path.mark')).toHaveCount(2);
  await expect(page.locator('#load-plot figcaption')).toContainText('p95');
  await page.locator('#load-toggle').click();
  await expect(page.locator('#load-toggle')).toHaveText('Start load');
});
