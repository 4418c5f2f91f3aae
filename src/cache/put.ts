/**
 * Storing verified bytes as a complete entry, making room by eviction; and retiring an entry whose
 * URL now serves other bytes. Neither ever fails a load.
 */
import { deleteArtifacts } from './artifacts';
import { allEntries, DEFAULT_CHUNK_BYTES, defined, removeEntry, writeEntry, type EntryLabels } from './entries';
import { evictOne, makeRoom } from './evict';
import type { HttpValidators } from './freshness';
import { LOCK, withLock } from './locks';
import type { CacheStore } from './store';
import type { CacheReason, EntryRecord, LoadModelBytesOptions } from './types';

/** Outcome of {@link storeBytes}. */
export type StoreResult = { ok: true } | { ok: false; reason: CacheReason; detail: string };

/**
 * Stores verified bytes, evicting as needed; reports why when it cannot. Never throws. With `http`
 * (a plain-URL load), the validators are kept with the entry and older entries of the same URL are
 * retired (see {@link retireEntry}).
 */
export async function storeBytes(
  store: CacheStore,
  bytes: Uint8Array,
  sha256: string,
  labels: EntryLabels,
  options: LoadModelBytesOptions,
  http?: HttpValidators,
): Promise<StoreResult> {
  try {
    const stored = await putEntry(store, bytes, sha256, labels, options, http);
    if (stored.ok && http && labels.url !== undefined) await retireUrl(store, labels, sha256);
    return stored;
  } catch (err) {
    return { ok: false, reason: 'unavailable', detail: `The cache could not store the model: ${String(err)}` };
  }
}

/** Writes the entry (or relabels the same bytes already stored). */
async function putEntry(
  store: CacheStore,
  bytes: Uint8Array,
  sha256: string,
  labels: EntryLabels,
  options: LoadModelBytesOptions,
  http: HttpValidators | undefined,
): Promise<StoreResult> {
  const existing = await store.entries.get(sha256);
  if (existing?.state === 'complete' && options.cache !== 'refresh') {
    // Same bytes already cached under other labels: relabel instead of rewriting.
    await relabelEntry(store, existing, labels, http);
    return { ok: true };
  }
  if (existing) await removeEntry(store, sha256, existing.chunkCount, existing.chunkId);
  const room = await makeRoom(store, bytes.length, options.maxBytes, sha256);
  if (!room.ok) return room;
  for (;;) {
    try {
      await writeEntry(store, bytes, sha256, labels, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, options.onProgress, http);
      return { ok: true };
    } catch (err) {
      if (!isQuotaError(err)) throw err;
      if (!(await evictOne(store, sha256))) {
        return { ok: false, reason: 'quota', detail: `Storage quota exceeded and nothing more can be evicted: ${String(err)}` };
      }
    }
  }
}

/** Gives the complete entry `existing` the labels of a load that brought the same bytes (no longer retired); returns the record stored. */
export async function relabelEntry(store: CacheStore, existing: EntryRecord, labels: EntryLabels, http?: HttpValidators): Promise<EntryRecord> {
  const { supersededBy: _retired, ...rec } = existing;
  const relabelled: EntryRecord = { ...rec, ...defined(labels), ...(http ? { http } : {}), lastUsed: Date.now() };
  await store.entries.set(existing.sha256, relabelled);
  return relabelled;
}

/** Retires the other entries found by the same plain URL (same id, no version) than `sha256`. */
export async function retireUrl(store: CacheStore, labels: EntryLabels, sha256: string): Promise<void> {
  const old = (await allEntries(store)).filter(
    (r) =>
      r.state === 'complete' && r.sha256 !== sha256 && r.supersededBy === undefined && r.url === labels.url && r.id === labels.id && r.version === undefined,
  );
  for (const rec of old) await retireEntry(store, rec, sha256);
}

/**
 * Retires an entry whose URL now serves the bytes `by`: removed at once when no loaded model pins
 * it (in any tab); otherwise marked `supersededBy`, so no label finds it, and removed by
 * {@link sweepRetired} once unpinned. A model running on it keeps running.
 */
export async function retireEntry(store: CacheStore, rec: EntryRecord, by: string): Promise<void> {
  const removed = await removeUnpinned(store, rec);
  if (!removed) await store.entries.set(rec.sha256, { ...rec, supersededBy: by });
}

/** Removes retired entries that nothing pins any more. Never throws (housekeeping). */
export async function sweepRetired(store: CacheStore): Promise<void> {
  try {
    for (const rec of await allEntries(store)) if (rec.supersededBy !== undefined) await removeUnpinned(store, rec);
  } catch {
    /* the next sweep tries again */
  }
}

async function removeUnpinned(store: CacheStore, rec: EntryRecord): Promise<boolean> {
  return withLock(LOCK.pin(rec.sha256), { mode: 'exclusive', ifAvailable: true }, async (held) => {
    if (!held) return false;
    await removeEntry(store, rec.sha256, rec.chunkCount, rec.chunkId);
    await deleteArtifacts({ modelSha256: rec.sha256 }, store);
    return true;
  });
}

/** Whether `err` is the storage's quota error. */
export function isQuotaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'QuotaExceededError';
}
