// A data file's download streamed into the weight cache (src/cache/stream-entry.ts through
// loadModelRanges): the entry equals the file and its hash equals node:crypto's, whatever the
// network pieces, chunk size, cuts and restarts (seeded); nothing of a failed, refused or
// cancelled download stays in the store; the same bytes already cached are relabelled, not
// stored twice; a cache that cannot take the file leaves the load uncached but working.
import { describe, expect, it } from 'vitest';
import { AbortError, IntegrityError } from '../../../src/errors';
import { createMemoryStore, listEntries, loadModelRanges } from '../../../src/cache';
import { readEntry, writeEntry } from '../../../src/cache/entries';
import { entryChunkKey } from '../../../src/cache/store';
import { fakeServer, MODEL_URL, modelBytes, nodeSha256, sameBytes } from './fake-server';

/** A seeded generator of integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

/** The store holds exactly the chunks of its complete entries, nothing else. */
async function onlyEntryChunks(store: ReturnType<typeof createMemoryStore>): Promise<void> {
  const recs = (await store.entries.getMany(await store.entries.keys())).filter((r) => r !== undefined);
  const keys = recs.flatMap((r) => Array.from({ length: r.chunkCount }, (_, i) => entryChunkKey(r, i)));
  expect((await store.chunks.keys()).sort()).toEqual(keys.sort());
  for (const r of recs) expect(r.state).toBe('complete');
}

describe('a download streamed into the weight cache', () => {
  it('equals the file for seeded sizes, network pieces, chunk sizes, cuts (resumed or restarted) and byte streams', async () => {
    const next = rng(20261208);
    for (let c = 0; c < 40; c++) {
      const size = [0, 1, 4095, 4096, 4097][c] ?? next(30_000) + 1;
      const file = modelBytes(size, c + 1);
      const chunkBytes = [7, 500, 4096, 65_536][next(4)]!;
      const cuts = next(3);
      const server = fakeServer(
        { [MODEL_URL]: file },
        {
          piece: next(5000) + 1,
          ranges: next(2) === 0,
          byteStream: next(2) === 0,
          ...(cuts && size > 2 ? { cutAfter: next(size - 1) + 1, cuts } : {}),
        },
      );
      const store = createMemoryStore();
      const sha = await nodeSha256(file);
      const label = `case ${c}: ${size} bytes, chunks of ${chunkBytes}, ${cuts} cuts`;
      const got = await loadModelRanges(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
      expect(got, label).toMatchObject({ cache: 'miss', sha256: sha });
      expect(got.inHand, label).toBeUndefined();
      expect(got.ranges.heldBytes, label).toBe(0);
      const rec = (await store.entries.get(sha))!;
      expect(rec, label).toMatchObject({ size, chunkBytes, chunkCount: Math.max(1, Math.ceil(size / chunkBytes)), state: 'complete', url: MODEL_URL });
      expect(sameBytes(await readEntry(store, rec), file), label).toBe(true);
      await onlyEntryChunks(store);
    }
  });

  it('a wrong expected hash is IntegrityError and leaves nothing stored', async () => {
    const file = modelBytes(20_000, 3);
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: file });
    const wrong = await nodeSha256(modelBytes(20_000, 4));
    await expect(loadModelRanges({ url: MODEL_URL, sha256: wrong }, { fetch: server.fetch, chunkBytes: 4096 }, store)).rejects.toBeInstanceOf(IntegrityError);
    expect(await store.chunks.keys()).toEqual([]);
    expect(await listEntries(store)).toEqual([]);
  });

  it('a cancel mid-download is AbortError and leaves nothing stored', async () => {
    const file = modelBytes(200_000, 5);
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: file }, { piece: 1000 });
    const ac = new AbortController();
    const load = loadModelRanges(
      MODEL_URL,
      {
        fetch: server.fetch,
        chunkBytes: 4096,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'store' && p.loaded >= 40_000) ac.abort();
        },
      },
      store,
    );
    await expect(load).rejects.toBeInstanceOf(AbortError);
    expect(await store.chunks.keys()).toEqual([]);
    expect(await listEntries(store)).toEqual([]);
  });

  it('bytes already cached under another label are relabelled, not stored twice', async () => {
    const file = modelBytes(30_000, 6);
    const sha = await nodeSha256(file);
    const store = createMemoryStore();
    await writeEntry(store, file, sha, { url: 'https://models.test/old-name.bin' }, 4096);
    const before = (await store.chunks.keys()).sort();
    const got = await loadModelRanges(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: file }).fetch, chunkBytes: 4096 }, store);
    expect(got).toMatchObject({ cache: 'miss', sha256: sha });
    expect((await store.chunks.keys()).sort()).toEqual(before);
    expect((await store.entries.get(sha))!.url).toBe(MODEL_URL);
    expect(sameBytes(await got.ranges.read(0, file.length), file)).toBe(true);
  });

  it('a cache that cannot take the file (quota, no-store) leaves the load working, uncached, and the store as it was', async () => {
    const file = modelBytes(50_000, 7);
    const sha = await nodeSha256(file);
    // Quota: room for a few chunks only, and nothing to evict.
    const small = createMemoryStore({ quotaBytes: 10_000 });
    const full = await loadModelRanges(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: file }).fetch, chunkBytes: 4096 }, small);
    expect(full).toMatchObject({ cache: 'bypassed', reason: 'quota', sha256: sha });
    expect(full.ranges.heldBytes).toBe(file.length);
    expect(sameBytes(await full.ranges.read(0, file.length), file)).toBe(true);
    expect(await small.chunks.keys()).toEqual([]);
    // no-store: refused before the body is read, then downloaded into memory.
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: file }, { headers: { 'cache-control': 'no-store' } });
    const noStore = await loadModelRanges(MODEL_URL, { fetch: server.fetch, chunkBytes: 4096 }, store);
    expect(noStore).toMatchObject({ cache: 'bypassed', reason: 'no-store', sha256: sha });
    expect(sameBytes(await noStore.ranges.read(0, file.length), file)).toBe(true);
    expect(await store.chunks.keys()).toEqual([]);
    expect(await listEntries(store)).toEqual([]);
  });

  it('a storage failure mid-write leaves the load working, uncached, with nothing half-stored', async () => {
    const file = modelBytes(40_000, 8);
    const store = createMemoryStore();
    const set = store.chunks.set.bind(store.chunks);
    let writes = 0;
    store.chunks.set = (key, value) => (++writes === 4 ? Promise.reject(new DOMException('disk I/O error', 'UnknownError')) : set(key, value));
    const got = await loadModelRanges(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: file }).fetch, chunkBytes: 4096 }, store);
    expect(got).toMatchObject({ cache: 'bypassed', reason: 'unavailable' });
    expect(got.detail).toMatch(/disk I\/O error/);
    expect(sameBytes(await got.ranges.read(0, file.length), file)).toBe(true);
    expect(await store.chunks.keys()).toEqual([]);
  });
});
