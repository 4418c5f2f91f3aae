import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore, listEntries, loadModelBytes, pin } from '../../../src/cache';
import { fakeServer, modelBytes, sameBytes } from './fake-server';

const size = 100_000;
const urls = ['a', 'b', 'c'].map((n) => `https://models.test/${n}.onnx`);
const [A, B, C] = urls as [string, string, string];
const files = Object.fromEntries(urls.map((u, i) => [u, modelBytes(size, i + 1)]));

/** Loads in sequence with the clock one second apart, so LRU order is unambiguous. */
let now = Date.UTC(2026, 10, 23);
async function load(url: string, store: ReturnType<typeof createMemoryStore>, maxBytes?: number) {
  vi.setSystemTime((now += 1000));
  return loadModelBytes(url, { fetch: fakeServer(files).fetch, chunkBytes: 32 * 1024, maxBytes }, store);
}
const cachedUrls = async (store: ReturnType<typeof createMemoryStore>) => (await listEntries(store)).map((e) => e.url).sort();

describe('quota and eviction', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('evicts the least recently used entry to stay under maxBytes', async () => {
    const store = createMemoryStore();
    const max = 2 * size + 10;
    await load(A, store, max);
    await load(B, store, max);
    expect((await load(A, store, max)).cache).toBe('hit');
    expect((await load(C, store, max)).cache).toBe('miss');
    expect(await cachedUrls(store)).toEqual([A, C]);
  });

  it('never evicts a pinned entry', async () => {
    const store = createMemoryStore();
    const max = 2 * size + 10;
    const a = await load(A, store, max);
    await load(B, store, max);
    const release = await pin(a.sha256);
    try {
      await load(C, store, max);
      expect(await cachedUrls(store)).toEqual([A, C]);
      expect((await listEntries(store)).find((e) => e.url === A)?.pinned).toBe(true);
    } finally {
      release();
    }
  });

  it('bypasses the cache when the model is larger than maxBytes', async () => {
    const store = createMemoryStore();
    await load(A, store);
    const res = await load(B, store, size - 1);
    expect(res).toMatchObject({ cache: 'bypassed', reason: 'max-bytes' });
    expect(sameBytes(res.bytes, files[B])).toBe(true);
    expect(await cachedUrls(store)).toEqual([A]);
    expect(store.maps.chunks.size).toBe(4);
  });

  it('on QuotaExceededError evicts and retries', async () => {
    // Room for two models and their manifests; the estimate is hidden so only the write error tells.
    const store = createMemoryStore({ quotaBytes: 2 * size + 2000 });
    store.estimate = undefined;
    await load(A, store);
    await load(B, store);
    expect((await load(C, store)).cache).toBe('miss');
    expect(await cachedUrls(store)).toEqual([B, C]);
  });

  it('bypasses with reason quota when eviction cannot make room', async () => {
    const store = createMemoryStore({ quotaBytes: size / 2 });
    const res = await load(A, store);
    expect(res).toMatchObject({ cache: 'bypassed', reason: 'quota' });
    expect(sameBytes(res.bytes, files[A])).toBe(true);
    expect(store.maps.entries.size + store.maps.chunks.size).toBe(0);
  });
});
