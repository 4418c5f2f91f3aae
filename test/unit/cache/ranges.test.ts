// Reading a stored file by ranges (src/cache/ranges.ts, src/cache/load-ranges.ts): seeded random
// ranges across chunk boundaries of entries with odd chunk sizes equal a plain slice of the file;
// a cache hit is not read until a range is; a corrupt chunk is CorruptEntry and the entry is gone.
import { describe, expect, it } from 'vitest';
import { bytesRanges, createMemoryStore, CorruptEntry, listEntries, loadModelRanges } from '../../../src/cache';
import { writeEntry } from '../../../src/cache/entries';
import { entryRanges } from '../../../src/cache/ranges';
import { chunkKey, entryChunkKey } from '../../../src/cache/store';
import { fakeServer, MODEL_URL, modelBytes, nodeSha256, sameBytes } from './fake-server';

/** A seeded generator of integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

describe('ranges of a stored file', () => {
  it('seeded random ranges across chunk boundaries equal a plain slice (chunk sizes 3, 7, 4096, and one chunk for all)', async () => {
    const file = modelBytes(6_011, 3);
    const sha = await nodeSha256(file);
    for (const chunkBytes of [3, 7, 4096, 1 << 20]) {
      const store = createMemoryStore();
      const rec = await writeEntry(store, file, sha, { url: MODEL_URL }, chunkBytes);
      const ranges = entryRanges(store, rec);
      expect(ranges).toMatchObject({ size: file.length, heldBytes: 0 });
      const next = rng(chunkBytes);
      const cases: [number, number][] = [
        [0, file.length],
        [0, 0],
        [file.length, 0],
        [file.length - 1, 1],
      ];
      for (let i = 0; i < 200; i++) {
        const offset = next(file.length + 1);
        cases.push([offset, next(Math.min(file.length - offset, 3 * chunkBytes + 5) + 1)]);
      }
      for (const [offset, length] of cases) {
        const got = await ranges.read(offset, length);
        expect(sameBytes(got, file.subarray(offset, offset + length)), `chunk ${chunkBytes}: ${offset}+${length}`).toBe(true);
      }
      await expect(ranges.read(file.length - 2, 3)).rejects.toThrow(RangeError);
    }
  });

  it('bytes in hand: views, held, the same ranges', async () => {
    const file = modelBytes(999, 4);
    const r = bytesRanges(file);
    expect(r).toMatchObject({ size: 999, heldBytes: 999 });
    const got = await r.read(10, 500);
    expect(got.buffer).toBe(file.buffer);
    expect(sameBytes(got, file.subarray(10, 510))).toBe(true);
    await expect(r.read(-1, 2)).rejects.toThrow(RangeError);
  });

  it('a corrupt chunk is CorruptEntry, and the entry is deleted', async () => {
    const file = modelBytes(10_000, 5);
    const store = createMemoryStore();
    const rec = await writeEntry(store, file, await nodeSha256(file), { url: MODEL_URL }, 1000);
    const bad = (await store.chunks.get(chunkKey(rec.sha256, 3)))!.slice();
    bad[17] = (bad[17]! + 1) & 0xff;
    await store.chunks.set(chunkKey(rec.sha256, 3), bad);
    const ranges = entryRanges(store, rec);
    expect(sameBytes(await ranges.read(0, 3000), file.subarray(0, 3000))).toBe(true);
    const err = await ranges.read(2500, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptEntry);
    expect((err as CorruptEntry).chunk).toBe(3);
    expect(await listEntries(store)).toEqual([]);
    expect(await store.chunks.keys()).toEqual([]);
  });

  it('loadModelRanges: a miss streams the file into the cache and reads the entry (nothing in hand); a hit reads nothing until asked', async () => {
    const file = modelBytes(50_000, 6);
    const store = createMemoryStore();
    const server = fakeServer({ [MODEL_URL]: file });
    const sha = await nodeSha256(file);
    const first = await loadModelRanges({ url: MODEL_URL, sha256: sha }, { fetch: server.fetch, chunkBytes: 4096 }, store);
    expect(first).toMatchObject({ cache: 'miss', sha256: sha });
    expect(first.ranges.heldBytes).toBe(0);
    expect(first.inHand).toBeUndefined();
    expect(sameBytes(await first.ranges.read(0, file.length), file)).toBe(true);
    const rec = (await store.entries.get(sha))!;
    expect(rec.chunkId).toMatch(/^stream-/); // written before its hash was known
    const gets: string[] = [];
    const get = store.chunks.get.bind(store.chunks);
    store.chunks.get = (key) => (gets.push(key), get(key));
    const second = await loadModelRanges({ url: MODEL_URL, sha256: sha }, { fetch: server.fetch, chunkBytes: 4096 }, store);
    expect(second).toMatchObject({ cache: 'hit', sha256: sha });
    expect(second.inHand).toBeUndefined();
    expect(gets).toEqual([]);
    expect(sameBytes(await second.ranges.read(4000, 200), file.subarray(4000, 4200))).toBe(true);
    expect(gets).toEqual([entryChunkKey(rec, 0), entryChunkKey(rec, 1)]);
    expect(server.requests).toHaveLength(1);
    // Bypassing the cache: the reader holds the downloaded bytes.
    const bypass = await loadModelRanges(MODEL_URL, { fetch: server.fetch, cache: 'bypass' }, store);
    expect(bypass.ranges.heldBytes).toBe(file.length);
  });
});
