import { describe, expect, it } from 'vitest';
import { collectOrphans, createMemoryStore, listEntries, loadModelBytes } from '../../../src/cache';
import type { EntryRecord } from '../../../src/cache';
import { fakeServer, MODEL_URL, modelBytes, nodeSha256, sameBytes, TEST_CHUNK_BYTES } from './fake-server';

const model = modelBytes(300_000);
const chunkBytes = TEST_CHUNK_BYTES;

describe('chunked entries', () => {
  it('stores ceil(size / chunkBytes) chunks with per-chunk hashes and reassembles them', async () => {
    const store = createMemoryStore();
    const { sha256 } = await loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: model }).fetch, chunkBytes }, store);
    const rec = store.maps.entries.get(sha256) as EntryRecord;
    expect(rec).toMatchObject({ state: 'complete', size: model.length, chunkCount: 5, chunkBytes });
    const chunks = [...store.maps.chunks.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v as Uint8Array);
    expect(chunks.map((c) => c.length)).toEqual([65536, 65536, 65536, 65536, 300_000 - 4 * 65536]);
    expect(rec.chunkHashes).toEqual(await Promise.all(chunks.map(nodeSha256)));
    const hit = await loadModelBytes(MODEL_URL, { fetch: fakeServer({}).fetch }, store);
    expect(hit.cache).toBe('hit');
    expect(sameBytes(hit.bytes, model)).toBe(true);
  });

  it('stores every chunk right when the storage copies a value only once its write runs (as IndexedDB does), while the next chunk is copied and hashed', async () => {
    const store = createMemoryStore();
    const set = store.chunks.set.bind(store.chunks);
    let inFlight = 0;
    let most = 0;
    // IndexedDB clones a value when its transaction runs, after set() returned: later, and out of step.
    store.chunks.set = async (key, value) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 3));
      await set(key, value);
      inFlight--;
    };
    const { sha256 } = await loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: model }).fetch, chunkBytes }, store);
    const chunks = [...store.maps.chunks.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v as Uint8Array);
    expect(sameBytes(Buffer.concat(chunks), model)).toBe(true);
    expect((store.maps.entries.get(sha256) as EntryRecord).chunkHashes).toEqual(await Promise.all(chunks.map(nodeSha256)));
    expect(most).toBe(1);
  });

  it('detects a flipped byte in a stored chunk, drops the entry and re-fetches', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const { sha256 } = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    const victim = store.maps.chunks.get(`${sha256}/000003`) as Uint8Array;
    victim[100] = (victim[100] ?? 0) ^ 0x01;
    const again = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    expect(again).toMatchObject({ cache: 'miss', reason: 'corrupt' });
    expect(sameBytes(again.bytes, model)).toBe(true);
    expect(server.requests).toHaveLength(2);
    const healed = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    expect(healed.cache).toBe('hit');
  });

  it('treats a missing chunk as corruption', async () => {
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: model });
    const { sha256 } = await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store);
    store.maps.chunks.delete(`${sha256}/000004`);
    expect((await loadModelBytes(MODEL_URL, { fetch: server.fetch, chunkBytes }, store)).reason).toBe('corrupt');
  });
});

describe('atomicity', () => {
  it('a write failing between chunks leaves no complete entry and no chunks, and the load still succeeds', async () => {
    const store = createMemoryStore();
    const setChunk = store.chunks.set.bind(store.chunks);
    let writes = 0;
    store.chunks.set = async (key, value) => {
      if (++writes === 3) throw new DOMException('disk on fire', 'UnknownError');
      return setChunk(key, value);
    };
    const res = await loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: model }).fetch, chunkBytes }, store);
    expect(res).toMatchObject({ cache: 'bypassed', reason: 'unavailable' });
    expect(sameBytes(res.bytes, model)).toBe(true);
    expect(store.maps.entries.size).toBe(0);
    expect(store.maps.chunks.size).toBe(0);
  });

  it('collects pending manifests and orphan chunks but keeps complete entries', async () => {
    const store = createMemoryStore();
    const { sha256 } = await loadModelBytes(MODEL_URL, { fetch: fakeServer({ [MODEL_URL]: model }).fetch, chunkBytes }, store);
    // What a crash mid-write leaves: a pending manifest, some chunks, and chunks of no manifest at all.
    const crashed: EntryRecord = { sha256: 'f'.repeat(64), size: 10, chunkBytes, chunkCount: 3, chunkHashes: [], createdAt: 0, lastUsed: 0, state: 'pending' };
    store.maps.entries.set(crashed.sha256, crashed);
    store.maps.chunks.set(`${'f'.repeat(64)}/000000`, new Uint8Array(5));
    store.maps.chunks.set(`${'e'.repeat(64)}/000000`, new Uint8Array(5));
    store.maps.chunks.set(`${sha256}/000009`, new Uint8Array(5));
    expect(await collectOrphans(store)).toBe(4);
    expect([...store.maps.entries.keys()]).toEqual([sha256]);
    expect(store.maps.chunks.size).toBe(5);
    expect((await listEntries(store)).map((e) => e.state)).toEqual(['complete']);
  });

  it('collects orphans when a store is first used', async () => {
    const store = createMemoryStore();
    store.maps.chunks.set(`${'e'.repeat(64)}/000000`, new Uint8Array(5));
    await listEntries(store);
    expect(store.maps.chunks.size).toBe(0);
  });
});
