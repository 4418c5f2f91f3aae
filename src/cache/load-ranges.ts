/**
 * `loadModelRanges`: {@link loadModelBytes} for a file read by ranges (a model's external data).
 * A cache hit is not read at all: the caller gets a reader over the entry's chunks. A download is
 * stored as usual and the reader then reads the stored entry; the downloaded bytes come back too
 * (`inHand`), for a caller that needs the whole file at once and may drop them otherwise.
 */
import { getDefaultStore } from './idb-store';
import { loadModel, UNREAD } from './load';
import { bytesRanges, entryRanges, type ByteRanges } from './ranges';
import type { CacheStore } from './store';
import type { CacheSource, LoadedModelBytes, LoadModelBytesOptions } from './types';

/** The result of {@link loadModelRanges}: `loadModelBytes`'s, with a reader instead of the bytes. */
export interface LoadedRanges extends Omit<LoadedModelBytes, 'bytes'> {
  /** Over the cache entry when there is one (holds nothing), else over the downloaded bytes. */
  ranges: ByteRanges;
  /** The bytes this load downloaded and stored (a miss), which `ranges` does not hold. */
  inHand?: Uint8Array;
}

/** Loads `source` as {@link loadModelBytes} does, and returns a reader over its bytes (see the module comment). */
export async function loadModelRanges(source: CacheSource, options: LoadModelBytesOptions = {}, store: CacheStore = getDefaultStore()): Promise<LoadedRanges> {
  const { bytes, ...rest } = await loadModel(source, options, store, true);
  const rec = rest.cache === 'bypassed' ? undefined : await store.entries.get(rest.sha256).catch(() => undefined);
  if (rec?.state === 'complete' && rec.size === (bytes === UNREAD ? rec.size : bytes.byteLength)) {
    return { ...rest, ranges: entryRanges(store, rec), ...(bytes !== UNREAD ? { inHand: bytes } : {}) };
  }
  // Gone since it was found (deleted in another tab): load it again, whole.
  if (bytes === UNREAD) return loadModelRanges(source, { ...options, cache: 'refresh' }, store);
  return { ...rest, ranges: bytesRanges(bytes) };
}
