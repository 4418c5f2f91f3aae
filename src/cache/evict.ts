/**
 * Quota and eviction: least-recently-used complete entries that no loaded model pins are removed
 * until a new entry fits under `maxBytes` and in the origin's free quota. Pins are shared Web Locks,
 * so an entry in use in another tab is not evicted either.
 */
import { deleteArtifacts, listArtifacts } from './artifacts';
import { allEntries, removeEntry } from './entries';
import { LOCK, holdLock, withLock } from './locks';
import type { CacheStore } from './store';
import type { CacheReason } from './types';

/** Slack kept free beyond the entry's bytes: IndexedDB stores more than the raw values. */
const QUOTA_SLACK = 1.1;

/**
 * Pins the entry `sha256` while a loaded model uses it: it is not evicted (by any tab) until the
 * returned function is called. Resolves once the pin is held.
 */
export function pin(sha256: string): Promise<() => void> {
  return holdLock(LOCK.pin(sha256), 'shared');
}

/** Outcome of {@link makeRoom}. */
export type RoomResult = { ok: true } | { ok: false; reason: Extract<CacheReason, 'max-bytes' | 'quota'>; detail: string };

/**
 * Evicts LRU entries until `needed` more bytes fit under `maxBytes` (counting entries and
 * artifacts) and the origin's free quota (when `estimate()` knows it). Never evicts `keep`.
 */
export async function makeRoom(store: CacheStore, needed: number, maxBytes: number | undefined, keep: string): Promise<RoomResult> {
  if (maxBytes !== undefined && needed > maxBytes) {
    return { ok: false, reason: 'max-bytes', detail: `The model is ${needed} bytes, more than the cache's maxBytes ${maxBytes}.` };
  }
  for (;;) {
    const used = (await allEntries(store)).reduce((n, r) => n + r.size, 0) + (await listArtifacts(store)).reduce((n, a) => n + a.size, 0);
    const free = await freeQuota(store);
    const overMax = maxBytes !== undefined && used + needed > maxBytes;
    const overQuota = free !== undefined && free < needed * QUOTA_SLACK;
    if (!overMax && !overQuota) return { ok: true };
    if (!(await evictOne(store, keep))) {
      return overMax
        ? { ok: false, reason: 'max-bytes', detail: `${used} bytes are cached in entries that are in use; ${needed} more would exceed maxBytes ${maxBytes}.` }
        : { ok: false, reason: 'quota', detail: `Only ${free} bytes of storage quota are free for a ${needed}-byte model, and nothing more can be evicted.` };
    }
  }
}

/**
 * Evicts the least recently used complete, unpinned entry other than `keep`, with its artifacts.
 * Resolves to false when there is none.
 */
export async function evictOne(store: CacheStore, keep: string): Promise<boolean> {
  const candidates = (await allEntries(store)).filter((r) => r.state === 'complete' && r.sha256 !== keep).sort((a, b) => a.lastUsed - b.lastUsed);
  for (const rec of candidates) {
    const evicted = await withLock(LOCK.pin(rec.sha256), { mode: 'exclusive', ifAvailable: true }, async (held) => {
      if (!held) return false;
      await removeEntry(store, rec.sha256, rec.chunkCount, rec.chunkId);
      await deleteArtifacts({ modelSha256: rec.sha256 }, store);
      return true;
    });
    if (evicted) return true;
  }
  return false;
}

/** Free bytes of the origin's quota, or undefined when unknown (no estimate, or it failed). */
async function freeQuota(store: CacheStore): Promise<number | undefined> {
  try {
    const e = await store.estimate?.();
    return e?.quota !== undefined && e.usage !== undefined ? e.quota - e.usage : undefined;
  } catch {
    return undefined;
  }
}
