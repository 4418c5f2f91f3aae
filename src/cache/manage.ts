/**
 * Cache management: what `runtime.cache.{list, delete, clear, usage}` call in the worker. Unlike
 * loads, these report storage failures, as a `CacheError`.
 */
import { CacheError } from '../errors';
import { deleteArtifacts, listArtifacts } from './artifacts';
import { allEntries, removeEntry } from './entries';
import { collectOrphansOnce } from './gc';
import { getDefaultStore } from './idb-store';
import { LOCK, heldLockNames, withLock } from './locks';
import { sweepRetired } from './put';
import type { CacheStore } from './store';
import type { CacheEntryInfo, CacheUsage } from './types';

/** Which entries {@link deleteEntries} removes: one hash, or an id (all versions, or one). */
export type EntrySelector = { sha256: string } | { id: string; version?: string };

/** Every model entry, most recently used first, with size, labels, last use, state and pin status. */
export async function listEntries(store: CacheStore = getDefaultStore()): Promise<CacheEntryInfo[]> {
  return guard('list the cache', async () => {
    await collectOrphansOnce(store);
    await sweepRetired(store);
    const held = await heldLockNames();
    const recs = (await allEntries(store)).sort((a, b) => b.lastUsed - a.lastUsed);
    return recs.map(({ chunkBytes: _b, chunkCount: _c, chunkHashes: _h, chunkId: _i, ...info }) => ({ ...info, pinned: held.has(LOCK.pin(info.sha256)) }));
  });
}

/**
 * Deletes the selected entries and their compiled artifacts, pinned or not (a loaded model keeps
 * its bytes in memory). Resolves to the number of entries deleted.
 */
export async function deleteEntries(selector: EntrySelector, store: CacheStore = getDefaultStore()): Promise<number> {
  return guard('delete from the cache', async () => {
    const doomed = (await allEntries(store)).filter((r) =>
      'sha256' in selector
        ? r.sha256 === selector.sha256.toLowerCase()
        : r.id === selector.id && (selector.version === undefined || r.version === selector.version),
    );
    for (const r of doomed) {
      await removeEntry(store, r.sha256, r.chunkCount, r.chunkId);
      await deleteArtifacts({ modelSha256: r.sha256 }, store);
    }
    return doomed.length;
  });
}

/** Deletes every entry, chunk and artifact. Waits for writes in progress to finish first. */
export async function clearCache(store: CacheStore = getDefaultStore()): Promise<void> {
  return guard('clear the cache', () =>
    withLock(LOCK.write, { mode: 'exclusive' }, async () => {
      // Manifests first, so no complete entry ever points at deleted chunks.
      await store.entries.delMany(await store.entries.keys());
      await store.chunks.delMany(await store.chunks.keys());
      await store.artifacts.delMany(await store.artifacts.keys());
    }),
  );
}

/** Entry and artifact counts and bytes, plus the origin's usage, quota and persistence when known. */
export async function cacheUsage(store: CacheStore = getDefaultStore()): Promise<CacheUsage> {
  return guard('measure the cache', async () => {
    const complete = (await allEntries(store)).filter((r) => r.state === 'complete');
    const artifacts = await listArtifacts(store);
    const usage: CacheUsage = {
      entries: complete.length,
      entryBytes: complete.reduce((n, r) => n + r.size, 0),
      artifacts: artifacts.length,
      artifactBytes: artifacts.reduce((n, a) => n + a.size, 0),
    };
    try {
      const e = await store.estimate?.();
      if (e?.usage !== undefined) usage.originUsage = e.usage;
      if (e?.quota !== undefined) usage.originQuota = e.quota;
      const persisted = await store.persisted?.();
      if (persisted !== undefined) usage.persisted = persisted;
    } catch {
      /* optional browser API */
    }
    return usage;
  });
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CacheError(`Could not ${what}: ${String(err)}. IndexedDB may be unavailable (private mode, storage disabled).`, {}, { cause: err });
  }
}
