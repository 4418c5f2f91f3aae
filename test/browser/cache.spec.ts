// The model cache on real IndexedDB, Web Locks and fetch in real Chromium: persistence across a
// browser restart, fault injection (cut body, flipped byte, wrong hash, max size, eviction), two
// pages loading at once, and bad input. The page imports src/cache directly from a bundle this spec
// builds (test/browser/cache-bundle.ts), so it needs neither the runtime nor the worker.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from '@playwright/test';
import { buildCacheBundle, list, load, removeCacheBundle } from './cache-bundle';
import { CHROMIUM_ARGS, findChromium } from './chromium';
import { expect, MODELS, repoFile, test } from './fixtures';

const DET = MODELS.rec.replace('ch_PP-OCRv4_rec_infer', 'ch_PP-OCRv4_det_infer');
const CLS = MODELS.cls;
const detBytes = repoFile(DET);
const clsBytes = repoFile(CLS);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test.beforeAll(buildCacheBundle);
test.afterAll(removeCacheBundle);

/** Counts the requests a browser context makes for URLs whose path is `path` (its own, not the server's). */
function countRequests(ctx: BrowserContext, path: string): () => number {
  let n = 0;
  ctx.on('request', (r) => {
    if (new URL(r.url()).pathname === path) n++;
  });
  return () => n;
}

test('a second browser session loads from IndexedDB without fetching the model', async ({ baseURL }) => {
  const dir = mkdtempSync(join(tmpdir(), 'webq8-cache-'));
  try {
    const session = async () => {
      const ctx = await chromium.launchPersistentContext(dir, { executablePath: findChromium(), args: CHROMIUM_ARGS, baseURL });
      const fetched = countRequests(ctx, DET);
      const page = await ctx.newPage();
      await page.goto('/test/browser/blank.html');
      const result = await load(page, { url: DET, id: 'det', version: '4' });
      const rows = await list(page);
      await ctx.close();
      return { result, fetched: fetched(), rows };
    };
    const cold = await session();
    expect(cold.result).toMatchObject({ cache: 'miss', sha256: sha(detBytes), size: detBytes.length });
    expect(cold.fetched).toBe(1);
    const warm = await session();
    expect(warm.result).toMatchObject({ cache: 'hit', sha256: sha(detBytes) });
    expect(warm.fetched).toBe(0);
    expect(warm.rows).toMatchObject([{ url: expect.stringContaining('det_infer'), size: detBytes.length, state: 'complete' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a body cut mid-stream is resumed; a flipped byte in IndexedDB is caught and healed', async ({ webq8Page: page }) => {
  const cutPath = `/__cut${DET}`;
  const url = `${cutPath}?after=1000000&times=1&run=${Math.random()}`;
  const fetched = countRequests(page.context(), cutPath);
  expect(await load(page, url, { expectedSha256: sha(detBytes) })).toMatchObject({ cache: 'miss', sha256: sha(detBytes) });
  expect(fetched()).toBe(2);

  const flipped = await page.evaluate(async (sha256) => {
    const db = await new Promise<IDBDatabase>((ok, fail) => {
      const req = indexedDB.open('webq8-cache');
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
    });
    const chunks = db.transaction('chunks', 'readwrite').objectStore('chunks');
    const key = `${sha256}/000001`;
    const chunk = await new Promise<Uint8Array>((ok) => (chunks.get(key).onsuccess = (e) => ok((e.target as IDBRequest<Uint8Array>).result)));
    chunk[12345] = (chunk[12345] ?? 0) ^ 0xff;
    await new Promise((ok) => (chunks.put(chunk, key).onsuccess = ok));
    db.close();
    return true;
  }, sha(detBytes));
  expect(flipped).toBe(true);
  expect(await load(page, url, { expectedSha256: sha(detBytes) })).toMatchObject({ cache: 'miss', reason: 'corrupt', sha256: sha(detBytes) });
  expect(await load(page, url, { expectedSha256: sha(detBytes) })).toMatchObject({ cache: 'hit' });
});

test('a wrong expected hash fails with IntegrityError and caches nothing', async ({ webq8Page: page }) => {
  expect(await load(page, CLS, { expectedSha256: sha(detBytes) })).toEqual({ error: 'IntegrityError', code: 'INTEGRITY' });
  expect(await list(page)).toEqual([]);
});

test('maxBytes below the model size bypasses the cache; LRU eviction makes room', async ({ webq8Page: page }) => {
  expect(await load(page, DET, { maxBytes: detBytes.length - 1 })).toMatchObject({ cache: 'bypassed', reason: 'max-bytes', size: detBytes.length });
  expect(await list(page)).toEqual([]);
  const maxBytes = detBytes.length + clsBytes.length - 1;
  expect(await load(page, CLS, { maxBytes })).toMatchObject({ cache: 'miss' });
  expect(await load(page, DET, { maxBytes })).toMatchObject({ cache: 'miss' });
  expect((await list(page)).map((r) => r.size)).toEqual([detBytes.length]);
});

test('two pages loading the same model at once download it once', async ({ webq8Page: page, context }) => {
  const other = await context.newPage();
  await other.goto('/test/browser/blank.html');
  const fetched = countRequests(context, DET);
  const [a, b] = await Promise.all([load(page, DET), load(other, DET)]);
  expect(fetched()).toBe(1);
  expect([a.cache, b.cache].sort()).toEqual(['hit', 'miss']);
  expect(b.sha256).toBe(sha(detBytes));
});

test('bad input: non-OK status, missing hash under requireIntegrity', async ({ webq8Page: page }) => {
  expect(await load(page, '/__status/404')).toEqual({ error: 'ModelLoadError', code: 'MODEL_LOAD_FAILED' });
  expect(await load(page, CLS, { requireIntegrity: true })).toEqual({ error: 'IntegrityRequiredError', code: 'INTEGRITY_REQUIRED' });
});
