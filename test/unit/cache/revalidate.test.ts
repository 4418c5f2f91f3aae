// Revalidation of plain-URL entries against a fake HTTP server that honours If-None-Match the way
// RFC 9110 says (304 on a matching ETag), can swap its file, and can fail in the ways networks do.
import { describe, expect, it } from 'vitest';
import { createMemoryStore, listEntries, loadModelBytes, pin } from '../../../src/cache';
import { MODEL_URL, modelBytes, nodeSha256, sameBytes } from './fake-server';

/** A one-file server; `mode` picks a failure; it counts requests and body bytes sent. */
function httpServer(initial: Uint8Array, headers: Record<string, string>) {
  const s = { body: initial, etag: '"1"', headers, mode: 'ok' as 'ok' | 'down' | '503' | 'hang', requests: 0, conditional: 0, bodyBytes: 0 };
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    s.requests++;
    const inm = new Headers(init?.headers).get('if-none-match');
    if (inm !== null) s.conditional++;
    if (s.mode === 'down') throw new TypeError('Failed to fetch');
    if (s.mode === '503') return new Response('busy', { status: 503 });
    if (s.mode === 'hang') {
      return new Promise((_, fail) => init?.signal?.addEventListener('abort', () => fail(new DOMException('aborted', 'AbortError'))));
    }
    const h = { ...s.headers, ...(s.headers.etag === undefined ? {} : { etag: s.etag }) };
    if (inm !== null && inm === h.etag) return new Response(null, { status: 304, headers: h });
    s.bodyBytes += s.body.length;
    return new Response(s.body.slice(), { status: 200, headers: { ...h, 'content-length': String(s.body.length) } });
  };
  return Object.assign(s, { fetch: fetch as typeof globalThis.fetch });
}

const v1 = modelBytes(50_000, 1);
const v2 = modelBytes(50_000, 2);

describe('revalidating a cached plain URL', () => {
  it('ETag + no-cache: 304 keeps the bytes with no body sent; a swapped file is updated and the old entry removed', async () => {
    const store = createMemoryStore();
    const server = httpServer(v1, { 'cache-control': 'no-cache', etag: '' });
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).cache).toBe('miss');
    const same = await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    expect(same).toMatchObject({ cache: 'revalidated', sha256: await nodeSha256(v1) });
    expect([server.conditional, server.bodyBytes]).toEqual([1, v1.length]);

    server.body = v2;
    server.etag = '"2"';
    const updated = await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    expect(updated).toMatchObject({ cache: 'updated', sha256: await nodeSha256(v2), previous: await nodeSha256(v1) });
    expect(sameBytes(updated.bytes, v2)).toBe(true);
    expect((await listEntries(store)).map((e) => e.sha256)).toEqual([await nodeSha256(v2)]);
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).cache).toBe('revalidated');
  });

  it('a pinned old entry survives the update (a model runs on it) and is removed once unpinned', async () => {
    const store = createMemoryStore();
    const server = httpServer(v1, { 'cache-control': 'no-cache', etag: '' });
    const first = await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    const unpin = await pin(first.sha256);
    server.body = v2;
    server.etag = '"2"';
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).cache).toBe('updated');
    expect((await listEntries(store)).map((e) => [e.sha256, e.pinned])).toEqual(
      expect.arrayContaining([
        [first.sha256, true],
        [await nodeSha256(v2), false],
      ]),
    );
    // The old bytes are still found by hash (content-addressed), not by the URL.
    expect((await loadModelBytes({ url: MODEL_URL, sha256: first.sha256 }, { fetch: server.fetch }, store)).cache).toBe('hit');
    unpin();
    expect((await listEntries(store)).map((e) => e.sha256)).toEqual([await nodeSha256(v2)]);
  });

  it('max-age and immutable: no request while fresh; content-addressed loads never ask', async () => {
    const store = createMemoryStore();
    const server = httpServer(v1, { 'cache-control': 'max-age=31536000, immutable' });
    await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).cache).toBe('hit');
    expect((await loadModelBytes({ url: MODEL_URL, sha256: await nodeSha256(v1) }, { fetch: server.fetch }, store)).cache).toBe('hit');
    expect(server.requests).toBe(1);
  });

  it('unreachable, 503 or silent server: the cached bytes, saying why; an abort still aborts', async () => {
    const store = createMemoryStore();
    const server = httpServer(v1, { 'cache-control': 'no-cache', etag: '' });
    await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    for (const [mode, detail] of [
      ['down', /Failed to fetch/],
      ['503', /HTTP 503/],
      ['hang', /no answer within 50 ms/],
    ] as const) {
      server.mode = mode;
      const r = await loadModelBytes(MODEL_URL, { fetch: server.fetch, revalidateTimeoutMs: 50 }, store);
      expect(r).toMatchObject({ cache: 'hit', reason: 'revalidation-failed', sha256: await nodeSha256(v1) });
      expect(r.detail).toMatch(detail);
    }
    const ctl = new AbortController();
    const aborted = loadModelBytes(MODEL_URL, { fetch: server.fetch, signal: ctl.signal }, store);
    setTimeout(() => ctl.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('no-store is not stored unless storeNoStore; no validators and no lifetime says it cannot be revalidated', async () => {
    const store = createMemoryStore();
    const noStore = httpServer(v1, { 'cache-control': 'no-store' });
    expect(await loadModelBytes(MODEL_URL, { fetch: noStore.fetch }, store)).toMatchObject({ cache: 'bypassed', reason: 'no-store' });
    expect(await listEntries(store)).toEqual([]);
    expect((await loadModelBytes(MODEL_URL, { fetch: noStore.fetch, storeNoStore: true }, store)).cache).toBe('miss');

    const bare = httpServer(v2, {});
    const other = 'https://models.test/bare.onnx';
    expect(await loadModelBytes(other, { fetch: bare.fetch }, store)).toMatchObject({ cache: 'miss', reason: 'no-validators' });
    const again = await loadModelBytes(other, { fetch: bare.fetch }, store);
    expect(again).toMatchObject({ cache: 'hit', reason: 'no-validators' });
    expect(again.detail).toMatch(/cache: 'refresh'/);
    expect(bare.requests).toBe(1);
  });

  it('a server that ignores conditionals: same bytes → revalidated; new bytes of the same length → updated', async () => {
    const store = createMemoryStore();
    const server = httpServer(v1, { 'cache-control': 'no-cache', 'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT' });
    await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    const same = await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    expect(same).toMatchObject({ cache: 'revalidated' });
    expect(same.detail).toMatch(/whole model again/);
    server.body = v2;
    expect(await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).toMatchObject({ cache: 'updated', sha256: await nodeSha256(v2) });
  });
});
