/**
 * Orphan collection: removes what interrupted writes left behind — `pending` manifests and chunks
 * that belong to no complete entry. It runs only when no writer is active anywhere in the origin
 * (it takes the write lock exclusively, only if free), so it never deletes a write in progress.
 */
import { allEntries } from './entries';
import { LOCK, withLock } from './locks';
import { entryChunkKey, type CacheStore } from './store';

/**
 * Collects orphans now. Resolves to the number of records removed, or -1 when a writer was active
 * (nothing was done; the next open collects).
 */
export function collectOrphans(store: CacheStore): Promise<number> {
  return withLock(LOCK.write, { mode: 'exclusive', ifAvailable: true }, async (held) => {
    if (!held) return -1;
    const recs = await allEntries(store);
    const pending = recs.filter((r) => r.state !== 'complete').map((r) => r.sha256);
    const valid = new Set(recs.filter((r) => r.state === 'complete').flatMap((r) => Array.from({ length: r.chunkCount }, (_, i) => entryChunkKey(r, i))));
    const stray = (await store.chunks.keys()).filter((k) => !valid.has(k));
    await store.entries.delMany(pending);
    await store.chunks.delMany(stray);
    return pending.length + stray.length;
  });
}

const collected = new WeakMap<CacheStore, Promise<unknown>>();

/**
 * Runs {@link collectOrphans} once per store per context ("on open"). Never throws: collection
 * is housekeeping.
 */
export function collectOrphansOnce(store: CacheStore): Promise<unknown> {
  let p = collected.get(store);
  if (!p) {
    p = collectOrphans(store).catch(() => undefined);
    collected.set(store, p);
  }
  return p;
}
