// The weight cache follows HTTP caching rules for plain URLs, in real Chromium against the test
// server's /__model/ routes (scripts/mock-models.mjs), which let a test replace the bytes at a URL,
// set its headers, and count the requests and body bytes it served. Models are tiny `y = x + c`
// graphs: two constants give two different models of the same length, and x + c is the truth.
import { createHash } from 'node:crypto';
import type { APIRequestContext, Page } from '@playwright/test';
import { buildCacheBundle, list, load, removeCacheBundle } from './cache-bundle';
import { addModel, expect, test } from './fixtures';

test.beforeAll(buildCacheBundle);
test.afterAll(removeCacheBundle);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const modelV1 = Uint8Array.from(addModel(1, 4, Float32Array.of(1, 2, 3, 4)));
const modelV2 = Uint8Array.from(addModel(1, 4, Float32Array.of(10, 20, 30, 40)));
const NO_CACHE = { headers: { 'Cache-Control': 'no-cache' } };

interface ServedStats {
  requests: number;
  conditional: number;
  notModified: number;
  bodyBytes: number;
}

/** A URL path no other test (or run) uses. */
function fresh(tag: string): string {
  return `/__model/${tag}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`;
}

/** Makes the server serve `body` at `path` with the caching behaviour `config` (see mock-models.mjs). */
async function serve(request: APIRequestContext, path: string, body: Uint8Array, config: object): Promise<void> {
  const res = await request.put(path, { data: Buffer.from(body), headers: { 'x-model': JSON.stringify(config), 'content-type': 'application/octet-stream' } });
  expect(res.status()).toBe(204);
}

async function served(request: APIRequestContext, path: string): Promise<ServedStats> {
  return (await request.get(path.replace('/__model/', '/__model-stats/'))).json();
}

/** Loads `url` through a runtime kept on the page (`globalThis.__rv`), runs it on x = 0.5. */
function loadAndRun(page: Page, url: string): Promise<{ cache: Record<string, string>; sha256: string; y: number[] }> {
  return page.evaluate(async (url) => {
    const webq8 = await import('/dist/index.js');
    const g = globalThis as unknown as {
      __rv?: { rt: ReturnType<typeof webq8.createRuntime>; model?: Awaited<ReturnType<ReturnType<typeof webq8.createRuntime>['load']>> };
    };
    g.__rv ??= { rt: webq8.createRuntime() };
    const model = await g.__rv.rt.load(url, { backend: 'wasm' });
    g.__rv.model = model;
    const out = await model.run({ x: { type: 'float32', dims: [1, 4], data: new Float32Array(4).fill(0.5) } });
    return { cache: { ...model.info.cache }, sha256: model.info.sha256, y: Array.from(Object.values(out)[0]!.data as Float32Array) };
  }, url);
}

/** Runs the page's loaded model again. */
function runAgain(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const { model } = (globalThis as unknown as { __rv: { model: { run(f: object): Promise<Record<string, { data: Float32Array }>> } } }).__rv;
    const out = await model.run({ x: { type: 'float32', dims: [1, 4], data: new Float32Array(4).fill(0.5) } });
    return Array.from(Object.values(out)[0]!.data);
  });
}

test('a model replaced on the server reaches the next load in any tab; a tab running the old one keeps running', async ({ webq8Page: a, context, request }) => {
  expect(modelV2.length).toBe(modelV1.length);
  const url = fresh('swap');
  await serve(request, url, modelV1, NO_CACHE);
  const first = await loadAndRun(a, url);
  expect(first).toEqual({ cache: { status: 'miss' }, sha256: sha(modelV1), y: [1.5, 2.5, 3.5, 4.5] });

  await serve(request, url, modelV2, NO_CACHE);
  const b = await context.newPage();
  await b.goto('/test/browser/blank.html');
  const second = await loadAndRun(b, url);
  expect(second).toEqual({ cache: { status: 'updated', previous: sha(modelV1) }, sha256: sha(modelV2), y: [10.5, 20.5, 30.5, 40.5] });
  // Tab A still runs the old model; its entry stays (pinned) until A lets go of it.
  expect(await runAgain(a)).toEqual([1.5, 2.5, 3.5, 4.5]);
  const during = await list(b);
  expect(during.filter((e) => e.sha256 === sha(modelV1))).toMatchObject([{ pinned: true }]);
  await a.evaluate(() => (globalThis as unknown as { __rv: { model: { dispose(): Promise<void> } } }).__rv.model.dispose());
  // The pin is a Web Lock that the browser releases asynchronously after the dispose: wait for it.
  await expect.poll(async () => (await list(b)).map((e) => e.sha256)).toEqual([sha(modelV2)]);

  // The next load in tab A (same runtime) gets the new model with a 304: no body sent.
  const before = await served(request, url);
  const third = await loadAndRun(a, url);
  expect(third).toEqual({ cache: { status: 'revalidated' }, sha256: sha(modelV2), y: [10.5, 20.5, 30.5, 40.5] });
  const after = await served(request, url);
  expect({ requests: after.requests - before.requests, notModified: after.notModified - before.notModified, body: after.bodyBytes - before.bodyBytes }).toEqual(
    {
      requests: 1,
      notModified: 1,
      body: 0,
    },
  );
  for (const p of [a, b]) await p.evaluate(() => (globalThis as unknown as { __rv: { rt: { dispose(): Promise<void> } } }).__rv.rt.dispose());
});

test('unchanged: revalidated with no body sent; immutable: no request at all on the second load', async ({ webq8Page: page, request }) => {
  const etagged = fresh('etag');
  await serve(request, etagged, modelV1, NO_CACHE);
  expect(await load(page, etagged)).toMatchObject({ cache: 'miss', sha256: sha(modelV1) });
  expect(await load(page, etagged)).toMatchObject({ cache: 'revalidated', sha256: sha(modelV1) });
  expect(await served(request, etagged)).toEqual({ requests: 2, conditional: 1, notModified: 1, bodyBytes: modelV1.length });

  const versioned = fresh('immutable');
  await serve(request, versioned, modelV1, { headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } });
  expect(await load(page, versioned)).toMatchObject({ cache: 'miss' });
  expect(await load(page, versioned)).toMatchObject({ cache: 'hit', sha256: sha(modelV1) });
  expect((await served(request, versioned)).requests).toBe(1);
});

test('no-store is not stored (unless storeNoStore); a server without validators is said to be unrevalidatable', async ({ webq8Page: page, request }) => {
  const noStore = fresh('no-store');
  await serve(request, noStore, modelV1, { headers: { 'Cache-Control': 'no-store' } });
  const r = await load(page, noStore);
  expect(r).toMatchObject({ cache: 'bypassed', reason: 'no-store', sha256: sha(modelV1) });
  expect(r.detail).toContain('storeNoStore');
  expect((await list(page)).map((e) => e.url)).toEqual([]);
  expect(await load(page, noStore, { storeNoStore: true })).toMatchObject({ cache: 'miss' });
  expect((await list(page)).map((e) => e.url)).toEqual([expect.stringContaining(noStore)]);

  const bare = fresh('bare');
  await serve(request, bare, modelV1, { etag: false, headers: {} });
  expect(await load(page, bare)).toMatchObject({ cache: 'miss', reason: 'no-validators' });
  const again = await load(page, bare);
  expect(again).toMatchObject({ cache: 'hit', reason: 'no-validators' });
  expect(again.detail).toContain("cache: 'refresh'");
  expect((await served(request, bare)).requests).toBe(1);
  await serve(request, bare, modelV2, { etag: false, headers: {} });
  expect(await load(page, bare, { cache: 'refresh' })).toMatchObject({ cache: 'refreshed', sha256: sha(modelV2) });
  expect((await list(page)).filter((e) => e.url?.endsWith(bare)).map((e) => e.sha256)).toEqual([sha(modelV2)]);
});

test('offline: a cached URL loads from IndexedDB with reason offline', async ({ webq8Page: page, context, request }) => {
  const url = fresh('offline');
  await serve(request, url, modelV1, NO_CACHE);
  expect(await load(page, url)).toMatchObject({ cache: 'miss' });
  await context.setOffline(true);
  try {
    expect(await load(page, url)).toMatchObject({ cache: 'hit', reason: 'offline', sha256: sha(modelV1) });
  } finally {
    await context.setOffline(false);
  }
  expect((await served(request, url)).requests).toBe(1);
});

test('a server that ignores conditionals: the same bytes are revalidated, new bytes of the same length are updated', async ({ webq8Page: page, request }) => {
  const url = fresh('always-200');
  const config = { ...NO_CACHE, conditional: false, lastModified: true };
  await serve(request, url, modelV1, config);
  expect(await load(page, url)).toMatchObject({ cache: 'miss' });
  const same = await load(page, url);
  expect(same).toMatchObject({ cache: 'revalidated', sha256: sha(modelV1) });
  expect(same.detail).toContain('whole model again');
  await serve(request, url, modelV2, config);
  expect(await load(page, url)).toMatchObject({ cache: 'updated', sha256: sha(modelV2), previous: sha(modelV1) });
  expect((await list(page)).map((e) => e.sha256)).toEqual([sha(modelV2)]);
});

test('cross-origin: an ETag the server does not expose is not used, and the result says so', async ({ webq8Page: page, request, baseURL }) => {
  const origin = baseURL!.replace('localhost', '127.0.0.1');
  const hidden = fresh('hidden-etag');
  await serve(request, hidden, modelV1, NO_CACHE);
  const r = await load(page, origin + hidden);
  expect(r).toMatchObject({ cache: 'miss', reason: 'no-validators' });
  expect(r.detail).toContain('Access-Control-Expose-Headers: ETag');

  const exposed = fresh('exposed-etag');
  await serve(request, exposed, modelV1, { ...NO_CACHE, expose: ['ETag'] });
  expect(await load(page, origin + exposed)).toEqual(expect.objectContaining({ cache: 'miss', reason: undefined }));
  expect(await load(page, origin + exposed)).toMatchObject({ cache: 'revalidated' });
  expect(await served(request, exposed)).toMatchObject({ notModified: 1, bodyBytes: modelV1.length });
});
