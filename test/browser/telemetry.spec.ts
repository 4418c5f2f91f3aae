// Telemetry end to end: real runs in Chromium, OTLP/HTTP JSON to the reference collector on
// localhost, and delivery that loses nothing and counts nothing twice — across a collector
// restart, a page reload before a flush, and the browser going offline.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { latency, startCollectorProcess, type CollectorProcess } from '../unit/collector/helpers';
import { MODELS, expect, test } from './fixtures';

const MODEL_NAME = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';

/** In the page: a runtime exporting to `endpoint`, the cls model, `runs` runs; kept on window for later steps. */
async function runInPage(page: Page, endpoint: string, runs: number, flush: boolean): Promise<{ count: number; p50: number; errors: Record<string, number> }> {
  return page.evaluate(
    async ({ url, endpoint, runs, flush }) => {
      const w = window as unknown as { rt?: import('../../src/index').Runtime; model?: import('../../src/index').Model };
      const { createRuntime } = await import('/dist/index.js');
      w.rt ??= createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
      w.model ??= await w.rt.load(url, { backend: 'wasm' });
      for (let i = 0; i < runs; i++) await w.model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
      if (flush) await w.rt.flushTelemetry();
      const s = w.model.stats().latency.run;
      return { count: s.count, p50: s.p50, errors: s.errors };
    },
    { url: MODELS.cls, endpoint, runs, flush },
  );
}

/** Batches at rest in the telemetry outbox (IndexedDB) of the page's origin. */
/** Run-latency samples of the model checkpointed in the outbox (summed over the OTLP bodies waiting there). */
function outboxRunCount(page: Page, model: string): Promise<number> {
  return page.evaluate(async (model) => {
    const req = indexedDB.open('webq8-telemetry');
    const db = await new Promise<IDBDatabase>((ok, fail) => ((req.onsuccess = () => ok(req.result)), (req.onerror = () => fail(req.error))));
    const names = [...db.objectStoreNames];
    if (names.length === 0) return 0;
    const all = db.transaction(names[0]!).objectStore(names[0]!).getAll();
    const entries = await new Promise<{ body: string }[]>((ok) => (all.onsuccess = () => ok(all.result)));
    db.close();
    let n = 0;
    for (const e of entries) {
      for (const rm of JSON.parse(e.body).resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            if (m.name !== 'webq8.run.duration') continue;
            for (const p of m.exponentialHistogram?.dataPoints ?? []) {
              const attrs = Object.fromEntries((p.attributes ?? []).map((a: { key: string; value: { stringValue?: string } }) => [a.key, a.value.stringValue]));
              if (attrs['webq8.model.id'] === model) n += Number(p.count);
            }
          }
        }
      }
    }
    return n;
  }, model);
}

async function collectorCount(c: CollectorProcess): Promise<number> {
  const doc = await latency(c.url);
  return doc.series.filter((s) => s.metric === 'webq8.run.duration' && s.model === MODEL_NAME).reduce((n, s) => n + s.count, 0);
}

test.describe('telemetry to the reference collector', () => {
  let dir: string;
  test.beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'webq8-collector-'));
  });

  test('runs arrive with the right counts; local stats agree; an error is counted by code', async ({ webq8Page: page }) => {
    const c = await startCollectorProcess(join(dir, 'm.jsonl'));
    try {
      const local = await runInPage(page, c.url, 6, false);
      const err = await page.evaluate(async () => {
        const w = window as unknown as { model: import('../../src/index').Model; rt: import('../../src/index').Runtime };
        await w.model.run({}).catch(() => undefined);
        await w.rt.flushTelemetry();
        return w.model.stats().latency.run.errors;
      });
      expect(local.count).toBe(6);
      expect(local.p50).toBeGreaterThan(0);
      expect(err).toEqual({ INPUT_INVALID: 1 });
      await expect.poll(() => collectorCount(c)).toBe(6);
      const doc = await latency(c.url);
      expect(doc.errors).toContainEqual(expect.objectContaining({ code: 'INPUT_INVALID', count: 1 }));
      const row = doc.series.find((s) => s.metric === 'webq8.run.duration' && s.model === MODEL_NAME)!;
      expect(row.backend).toBe('wasm');
      expect(row.p50).toBeGreaterThan(0);
      expect(row.p99).toBeGreaterThanOrEqual(row.p50);
    } finally {
      await c.stop();
    }
  });

  test('collector stopped mid-run then restarted: every sample arrives exactly once', async ({ webq8Page: page }) => {
    const data = join(dir, 'm.jsonl');
    let c = await startCollectorProcess(data);
    const port = c.port;
    try {
      await runInPage(page, c.url, 3, true);
      await expect.poll(() => collectorCount(c)).toBe(3);
      await c.stop('SIGKILL');
      await runInPage(page, c.url, 4, true); // the flush fails: batches wait in the outbox
      c = await startCollectorProcess(data, ['--port', String(port)]);
      await page.evaluate(async () => {
        await (window as unknown as { rt: import('../../src/index').Runtime }).rt.flushTelemetry();
      });
      await expect.poll(() => collectorCount(c), { timeout: 60_000 }).toBe(7);
      await page.evaluate(async () => (window as unknown as { rt: import('../../src/index').Runtime }).rt.flushTelemetry());
      expect(await collectorCount(c)).toBe(7);
    } finally {
      await c.stop();
    }
  });

  test('page reloaded before a flush while the collector is down: delivered on the next load', async ({ webq8Page: page }) => {
    const data = join(dir, 'm.jsonl');
    let c = await startCollectorProcess(data);
    const port = c.port;
    const endpoint = c.url;
    await c.stop('SIGKILL');
    try {
      await runInPage(page, endpoint, 5, false);
      // Samples are checkpointed into IndexedDB within checkpointMs (1 s) of being recorded; then
      // the page goes away before any flush (the unload's keepalive send fails: collector down).
      // Wait for all five: samples recorded after the last checkpoint live only in memory, and an
      // IndexedDB write started during unload does not commit (the documented checkpoint window).
      await expect.poll(() => outboxRunCount(page, MODEL_NAME), { timeout: 30_000 }).toBe(5);
      await page.reload();
      c = await startCollectorProcess(data, ['--port', String(port)]);
      await runInPage(page, endpoint, 0, true); // a new runtime on the next load drains the outbox
      await expect.poll(() => collectorCount(c), { timeout: 60_000 }).toBe(5);
    } finally {
      await c.stop();
    }
  });

  test('offline: batches wait and are delivered when the browser is back online', async ({ webq8Page: page, context }) => {
    const c = await startCollectorProcess(join(dir, 'm.jsonl'));
    try {
      await runInPage(page, c.url, 1, true);
      await expect.poll(() => collectorCount(c)).toBe(1);
      await context.setOffline(true);
      await runInPage(page, c.url, 4, true);
      expect(await collectorCount(c)).toBe(1);
      const pending = await page.evaluate(() => (window as unknown as { rt: import('../../src/index').Runtime }).rt.stats().export.pending);
      expect(pending).toBeGreaterThan(0);
      await context.setOffline(false); // the 'online' event drains the outbox
      await expect.poll(() => collectorCount(c), { timeout: 60_000 }).toBe(5);
    } finally {
      await c.stop();
    }
  });
});
