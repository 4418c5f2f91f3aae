/**
 * `loadModelBytes`: the one call the worker makes to get verified model bytes, from the cache when
 * possible, from the network otherwise. Cache trouble (no IndexedDB, quota, a corrupt entry) never
 * fails a load: the bytes come from the network and the result says what happened.
 */
import { IntegrityRequiredError } from '../errors';
import { CorruptEntry, DEFAULT_CHUNK_BYTES, defined, findEntry, readEntry, removeEntry, touchEntry, type EntryLabels } from './entries';
import { fetchModelResponse } from './fetcher';
import { freshness, isNoStore, readValidators, type HttpValidators } from './freshness';
import { collectOrphansOnce } from './gc';
import { checkExpected, parseExpectedSha256, sha256Hex } from './hash';
import { getDefaultStore } from './idb-store';
import { LOCK, withLock } from './locks';
import { report } from './progress';
import { retireUrl, storeBytes, sweepRetired } from './put';
import { downloadToEntry, StoreRefused } from './stream-entry';
import { hiddenEtag, noStore, noValidators, revalidate, type CachedEntry } from './revalidate';
import { resolveSource } from './source';
import type { CacheStore } from './store';
import type { CacheSource, EntryRecord, LoadedModelBytes, LoadModelBytesOptions, ResolvedSource } from './types';

/**
 * Loads a model's bytes, verified against the expected SHA-256 when one is given.
 *
 * - `cache: 'default'` reads a complete entry (every chunk's hash checked) or downloads and stores;
 *   concurrent loads of the same model in several tabs download once (Web Locks). An entry found
 *   by a plain URL (no hash, no version) follows the server's HTTP caching headers: used while
 *   fresh, revalidated with a conditional request when stale (src/cache/revalidate.ts).
 * - `cache: 'refresh'` downloads and replaces the entry; `cache: 'bypass'` neither reads nor writes.
 *
 * @throws `IntegrityRequiredError` when `requireIntegrity` is set without an expected hash;
 *   `IntegrityError` when the bytes do not match (nothing is cached or returned) or the hash is
 *   malformed; `ModelLoadError` on a non-OK status or network failure; `ContentLengthError` on a
 *   wrong body length; `AbortError` when `signal` aborts.
 */
export async function loadModelBytes(
  source: CacheSource,
  options: LoadModelBytesOptions = {},
  store: CacheStore = getDefaultStore(),
): Promise<LoadedModelBytes> {
  return loadModel(source, options, store, false);
}

/**
 * Stands for the bytes of a cache hit that `lazy` left unread (src/cache/load-ranges.ts reads the
 * entry's ranges instead).
 */
export const UNREAD = new Uint8Array(0);

/** {@link loadModelBytes}; with `lazy`, a cache hit returns {@link UNREAD} instead of reading the entry. */
export async function loadModel(source: CacheSource, options: LoadModelBytesOptions, store: CacheStore, lazy: boolean): Promise<LoadedModelBytes> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const ref = await resolveSource(source, doFetch, options.signal);
  const expectedRaw = options.expectedSha256 ?? ref.sha256;
  if (options.requireIntegrity && !expectedRaw) {
    throw new IntegrityRequiredError(
      `requireIntegrity is set but no expected SHA-256 was given for ${ref.url}. Pass {url, sha256} or expectedSha256 (hex or "sha256-<base64>").`,
      {
        url: ref.url,
      },
    );
  }
  const expected = expectedRaw === undefined ? undefined : parseExpectedSha256(expectedRaw);
  const labels: EntryLabels = { id: ref.id, version: ref.version, url: ref.url };
  const mode = options.cache ?? 'default';
  if (mode === 'bypass') {
    const { bytes, sha256 } = await download(ref, expected, options, doFetch);
    return { bytes, sha256, ...defined(labels), cache: 'bypassed', reason: 'option' };
  }
  // A hash or a version label names the bytes; a plain URL names a location, kept fresh by HTTP rules.
  const plainUrl = expected === undefined && ref.version === undefined;
  const lockKey = expected ?? (ref.id !== undefined ? `${ref.id}@${ref.version ?? ''}` : ref.url);
  // Not awaited: Firefox asks the user, and the load must not wait for an answer.
  if (options.persist) void requestPersist(store);
  let corrupt = false;
  let readFailed: string | undefined;
  if (mode === 'default') {
    const hit = await readCached(store, expected, labels, options.onProgress, lazy);
    if (hit.cached && plainUrl) return revalidate(hit.cached, { store, url: ref.url, lockKey, labels, options, doFetch });
    if (hit.cached) return { bytes: hit.cached.bytes, sha256: hit.cached.rec.sha256, ...defined(labels), cache: 'hit' };
    corrupt = hit.corrupt;
    readFailed = hit.failed;
  }
  // Holding the load lock while downloading makes other tabs wait for this download, then hit.
  return withLock(LOCK.load(lockKey), { mode: 'exclusive' }, async () => {
    if (mode === 'default') {
      const again = await readCached(store, expected, labels, options.onProgress, lazy);
      if (again.cached) return { bytes: again.cached.bytes, sha256: again.cached.rec.sha256, ...defined(labels), cache: 'hit' as const };
      corrupt ||= again.corrupt;
      readFailed ??= again.failed;
    }
    const streamed = lazy ? await streamIn(store, ref, expected, labels, { ...options, plainUrl }, doFetch) : undefined;
    const cache = mode === 'refresh' ? ('refreshed' as const) : ('miss' as const);
    if (streamed && 'rec' in streamed) {
      return explainMiss({ bytes: UNREAD, sha256: streamed.rec.sha256, ...defined(labels), cache }, ref.url, corrupt, readFailed, streamed.http);
    }
    const got = await download(ref, expected, options, doFetch);
    const http = plainUrl ? readValidators(got.response, Date.now()) : undefined;
    const result: LoadedModelBytes = { bytes: got.bytes, sha256: got.sha256, ...defined(labels), cache };
    const refusal = streamed?.refused;
    if (refusal) return { ...result, cache: 'bypassed', reason: refusal.reason, detail: refusal.reason === 'no-store' ? noStore(ref.url) : refusal.detail };
    if (http && isNoStore(http) && !options.storeNoStore) return { ...result, cache: 'bypassed', reason: 'no-store', detail: noStore(ref.url) };
    const stored = await storeBytes(store, got.bytes, got.sha256, labels, options, http);
    if (!stored.ok) return { ...result, cache: 'bypassed', reason: stored.reason, detail: readFailed ? `${readFailed} ${stored.detail}` : stored.detail };
    return explainMiss(result, ref.url, corrupt, readFailed, http);
  });
}

/**
 * A lazy load's download, streamed into a new entry ({@link downloadToEntry}; the caller reads the
 * entry's ranges), or `refused` when the cache cannot take the file (the caller then downloads it
 * into memory, uncached).
 */
async function streamIn(
  store: CacheStore,
  ref: ResolvedSource,
  expected: string | undefined,
  labels: EntryLabels,
  options: LoadModelBytesOptions & { plainUrl: boolean },
  doFetch: typeof fetch,
): Promise<{ rec: EntryRecord; http?: HttpValidators } | { refused: StoreRefused }> {
  try {
    const got = await downloadToEntry(store, ref, expected, labels, { ...options, chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES }, doFetch);
    if (got.http && labels.url !== undefined) await retireUrl(store, labels, got.rec.sha256).catch(() => undefined);
    return got;
  } catch (err) {
    if (err instanceof StoreRefused) return { refused: err };
    throw err;
  }
}

/** A miss's result, with why it missed (a corrupt entry, a failed read) or what its validators mean for later loads. */
function explainMiss(
  result: LoadedModelBytes,
  url: string,
  corrupt: boolean,
  readFailed: string | undefined,
  http: HttpValidators | undefined,
): LoadedModelBytes {
  if (corrupt) return { ...result, reason: 'corrupt', ...(readFailed ? { detail: readFailed } : {}) };
  // A read that failed is a miss for a reason: say it, instead of looking like a cold cache.
  if (readFailed) return { ...result, reason: 'unavailable', detail: readFailed };
  return http ? { ...result, ...describeValidators(url, http) } : result;
}

/** What a new URL entry's validators mean for later loads: said now when it cannot be revalidated. */
function describeValidators(url: string, http: HttpValidators): Pick<LoadedModelBytes, 'reason' | 'detail'> {
  if (freshness(http, http.receivedAt).action === 'unvalidatable') return { reason: 'no-validators', detail: noValidators(url, http) };
  const hidden = hiddenEtag(http).trim();
  return hidden ? { detail: hidden } : {};
}

interface CachedRead {
  cached?: CachedEntry;
  /** A matching entry existed but failed verification; it was dropped. */
  corrupt: boolean;
  /** The storage failed while reading: what it said (the load goes on to the network). */
  failed?: string;
}

/** Reads a matching complete entry; a corrupt one is dropped, a storage failure is a miss that says why. */
async function readCached(
  store: CacheStore,
  expected: string | undefined,
  labels: EntryLabels,
  onProgress: LoadModelBytesOptions['onProgress'],
  lazy = false,
): Promise<CachedRead> {
  await collectOrphansOnce(store);
  await sweepRetired(store);
  try {
    const rec = await findEntry(store, expected, labels);
    if (!rec) return { corrupt: false };
    try {
      const bytes = lazy ? UNREAD : await readEntry(store, rec, onProgress);
      await touchEntry(store, rec);
      return { cached: { rec, bytes }, corrupt: false };
    } catch (err) {
      if (!(err instanceof CorruptEntry)) throw err;
      await removeEntry(store, rec.sha256, rec.chunkCount, rec.chunkId);
      return { corrupt: true };
    }
  } catch (err) {
    return {
      corrupt: false,
      failed: `Reading the weight cache failed (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}); the model was downloaded instead.`,
    };
  }
}

/** Downloads and hashes; a mismatch throws before the bytes go anywhere. */
async function download(
  ref: ResolvedSource,
  expected: string | undefined,
  options: LoadModelBytesOptions,
  doFetch: typeof fetch,
): Promise<{ bytes: Uint8Array; sha256: string; response: Response }> {
  const { bytes, response } = await fetchModelResponse(ref.url, {
    signal: options.signal,
    onProgress: options.onProgress,
    maxRetries: options.maxRetries,
    expectedSize: ref.size,
    fetch: doFetch,
    // The weight cache is the cache: a copy in the HTTP cache would double the storage, or be stale.
    ...(options.cache !== 'bypass' ? { httpCache: 'no-store' as const } : {}),
  });
  // WebCrypto has no incremental digest, so the assembled model is hashed once, after the download.
  report(options.onProgress, { phase: 'verify', loaded: 0, total: bytes.length });
  const sha256 = await sha256Hex(bytes);
  report(options.onProgress, { phase: 'verify', loaded: bytes.length, total: bytes.length });
  checkExpected(ref.url, expected, sha256);
  return { bytes, sha256, response };
}

const persistRequested = new WeakSet<CacheStore>();

/** Asks for persistent storage once per store; the browser may say no, which changes nothing else. */
async function requestPersist(store: CacheStore): Promise<void> {
  if (persistRequested.has(store)) return;
  persistRequested.add(store);
  try {
    await store.persist?.();
  } catch {
    /* optional browser API */
  }
}
