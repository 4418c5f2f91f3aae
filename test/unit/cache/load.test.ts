import { describe, expect, it } from 'vitest';
import { createMemoryStore, listEntries, loadModelBytes } from '../../../src/cache';
import { AbortError, IntegrityError, IntegrityRequiredError, ModelLoadError } from '../../../src/errors';
import { fakeServer, MODEL_URL, modelBytes, nodeSha256, sameBytes, TEST_CHUNK_BYTES } from './fake-server';

const model = modelBytes(300_000);
const chunkBytes = TEST_CHUNK_BYTES;

describe('loadModelBytes', () => {
  it('misses, stores, then hits without touching the network', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const sha = await nodeSha256(model);
    const first = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    expect(first).toMatchObject({ cache: 'miss', sha256: sha, url: MODEL_URL });
    expect(sameBytes(first.bytes, model)).toBe(true);
    const second = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    expect(second).toMatchObject({ cache: 'hit', sha256: sha });
    expect(sameBytes(second.bytes, model)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('hits by expected hash (SRI form) even from another URL', async () => {
    const store = createMemoryStore();
    const sha = await nodeSha256(model);
    const sri = `sha256-${Buffer.from(sha, 'hex').toString('base64')}`;
    const server = fakeServer({ [MODEL_URL]: model, 'https://mirror.test/m.onnx': model });
    await loadModelBytes({ url: MODEL_URL, sha256: sha }, { fetch: server.fetch }, store);
    const again = await loadModelBytes('https://mirror.test/m.onnx', { fetch: server.fetch, expectedSha256: sri }, store);
    expect(again.cache).toBe('hit');
    expect(server.requests).toHaveLength(1);
  });

  it('rejects bytes that do not match the expected hash and stores nothing', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const wrong = await nodeSha256(modelBytes(10));
    const err = await loadModelBytes({ url: MODEL_URL, sha256: wrong }, { fetch: server.fetch }, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).details).toMatchObject({ url: MODEL_URL, expected: wrong, actual: await nodeSha256(model) });
    expect(store.maps.entries.size + store.maps.chunks.size).toBe(0);
  });

  it('requires a hash when requireIntegrity is set', async () => {
    const server = fakeServer({ [MODEL_URL]: model });
    await expect(loadModelBytes(MODEL_URL, { fetch: server.fetch, requireIntegrity: true }, createMemoryStore())).rejects.toBeInstanceOf(
      IntegrityRequiredError,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('propagates a non-OK status as ModelLoadError and caches nothing', async () => {
    const store = createMemoryStore();
    const err = await loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: 503 }).fetch }, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).details).toMatchObject({ url: MODEL_URL, status: 503 });
    expect(store.maps.entries.size).toBe(0);
  });

  it("cache: 'bypass' neither reads nor writes; 'refresh' re-downloads and replaces", async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const bypassed = await loadModelBytes(MODEL_URL, { fetch: server.fetch, cache: 'bypass' }, store);
    expect(bypassed).toMatchObject({ cache: 'bypassed', reason: 'option' });
    expect(store.maps.entries.size).toBe(0);
    await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    const refreshed = await loadModelBytes(MODEL_URL, { fetch: server.fetch, cache: 'refresh' }, store);
    expect(refreshed.cache).toBe('refreshed');
    expect(sameBytes(refreshed.bytes, model)).toBe(true);
    expect(server.requests).toHaveLength(3);
    expect((await listEntries(store)).map((e) => e.state)).toEqual(['complete']);
  });

  it('reads id, version and hash from a manifest JSON; versions coexist in list()', async () => {
    const store = createMemoryStore();
    const v2 = modelBytes(100_000, 2);
    const server = fakeServer({
      'https://models.test/m/v1.json': { id: 'm', version: '1', url: 'm-1.onnx', sha256: await nodeSha256(model), size: model.length },
      'https://models.test/m/v2.json': { id: 'm', version: '2', url: 'https://cdn.test/m-2.onnx' },
      'https://models.test/m/m-1.onnx': model,
      'https://cdn.test/m-2.onnx': v2,
    });
    const one = await loadModelBytes({ manifest: 'https://models.test/m/v1.json' }, { fetch: server.fetch }, store);
    expect(one).toMatchObject({ id: 'm', version: '1', url: 'https://models.test/m/m-1.onnx', cache: 'miss' });
    await loadModelBytes({ manifest: 'https://models.test/m/v2.json' }, { fetch: server.fetch }, store);
    const again = await loadModelBytes({ manifest: 'https://models.test/m/v2.json' }, { fetch: server.fetch }, store);
    expect(again.cache).toBe('hit');
    expect(sameBytes(again.bytes, v2)).toBe(true);
    const rows = await listEntries(store);
    expect(rows.map((r) => [r.id, r.version, r.size, r.state]).sort()).toEqual([
      ['m', '1', model.length, 'complete'],
      ['m', '2', v2.length, 'complete'],
    ]);
  });

  it('downloads once when two loads of the same model run at the same time', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model }, { piece: 4096 });
    const [a, b] = await Promise.all([loadModelBytes(MODEL_URL, { fetch: server.fetch }, store), loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)]);
    expect(server.requests).toHaveLength(1);
    expect([a.cache, b.cache].sort()).toEqual(['hit', 'miss']);
    expect(sameBytes(b.bytes, model)).toBe(true);
  });

  it('a storage error while reading is a miss that says why, and the load goes on from the network', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    // The entry is there; only the chunk table breaks (as a closed or failing IndexedDB would).
    store.chunks.get = async () => {
      throw new DOMException('The database connection is closing.', 'InvalidStateError');
    };
    const got = await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store);
    expect(sameBytes(got.bytes, model)).toBe(true);
    expect(got).toMatchObject({ cache: 'miss', reason: 'unavailable' });
    expect(got.detail).toMatch(/InvalidStateError: The database connection is closing/);
    expect(server.requests).toHaveLength(2);
  });

  it('caches a model resumed after a mid-body cut, with the right bytes', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model }, { cutAfter: 100_000, cuts: 1 });
    const first = await loadModelBytes(MODEL_URL, { fetch: server.fetch, expectedSha256: await nodeSha256(model) }, store);
    expect(sameBytes(first.bytes, model)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual([null, 'bytes=100000-']);
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch }, store)).cache).toBe('hit');
  });
});

describe('loadModelBytes progress and abort', () => {
  it('reports download, verify and store on a miss, and verify only on a hit', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const phases = async () => {
      const seen: string[] = [];
      await loadModelBytes(
        MODEL_URL,
        { fetch: server.fetch, chunkBytes, onProgress: (p) => seen.push(`${p.phase}:${p.loaded === p.total ? 'end' : 'mid'}`) },
        store,
      );
      return [...new Set(seen)];
    };
    expect(await phases()).toEqual(['download:mid', 'download:end', 'verify:mid', 'verify:end', 'store:mid', 'store:end']);
    expect(await phases()).toEqual(['verify:mid', 'verify:end']);
  });

  it('an aborted load rejects with AbortError and leaves nothing in the store', async () => {
    const store = createMemoryStore();
    const ac = new AbortController();
    const onProgress = (p: { phase: string; loaded: number }) => p.loaded > 100_000 && ac.abort();
    const p = loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: model }).fetch, signal: ac.signal, onProgress }, store);
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(store.maps.entries.size + store.maps.chunks.size).toBe(0);
  });
});
