/**
 * Keeping a cached plain URL fresh: a URL is a promise about a location, not about bytes, so a load
 * that finds an entry by URL follows the response's HTTP caching headers (src/cache/freshness.ts):
 * use it as is while fresh; otherwise ask the server with a conditional request, under the load
 * lock so one context per URL asks. `304` keeps the bytes; `200` with other bytes stores them as a
 * new entry and retires the old one (a model running on it elsewhere keeps running). When the
 * server cannot be asked (offline, DNS, 5xx, timeout), the cached bytes are used: never a failed
 * load because the network is down.
 */
import { AbortError } from '../errors';
import { defined, findEntry, readEntry, type EntryLabels } from './entries';
import { fetchModelResponse } from './fetcher';
import { freshness, isNoStore, mergeValidators, readValidators, type HttpValidators } from './freshness';
import { sha256Hex } from './hash';
import { LOCK, withLock } from './locks';
import { retireEntry, storeBytes } from './put';
import type { CacheStore } from './store';
import type { EntryRecord, LoadedModelBytes, LoadModelBytesOptions } from './types';

/** Default of `revalidateTimeoutMs`: long enough for a slow network's headers, short enough to wait for. */
export const DEFAULT_REVALIDATE_TIMEOUT_MS = 5000;

/** What a revalidation needs to know about the load. */
export interface RevalidateContext {
  store: CacheStore;
  url: string;
  /** The load lock of this URL (shared with downloads of it). */
  lockKey: string;
  labels: EntryLabels;
  options: LoadModelBytesOptions;
  doFetch: typeof fetch;
}

/** A cached entry and its (verified) bytes. */
export interface CachedEntry {
  rec: EntryRecord;
  bytes: Uint8Array;
}

/** The load result for a cached plain URL: `hit`, `revalidated` or `updated` (never a network error). */
export async function revalidate(cached: CachedEntry, ctx: RevalidateContext): Promise<LoadedModelBytes> {
  const v = cached.rec.http;
  const decision = v ? freshness(v, Date.now()) : { action: 'unvalidatable' as const };
  if (decision.action === 'fresh') return result(cached, 'hit');
  if (decision.action === 'unvalidatable') return { ...result(cached, 'hit'), reason: 'no-validators', detail: noValidators(ctx.url, v) };
  return withLock(LOCK.load(ctx.lockKey), { mode: 'exclusive' }, async () => {
    // Another context may have updated the URL while this one waited for the lock.
    const now = await findEntry(ctx.store, undefined, ctx.labels).catch(() => undefined);
    if (now && now.sha256 !== cached.rec.sha256) {
      const bytes = await readEntry(ctx.store, now, ctx.options.onProgress).catch(() => undefined);
      if (bytes) return { ...result({ rec: now, bytes }, 'updated'), previous: cached.rec.sha256 };
    }
    return ask(cached, decision.headers, ctx);
  });
}

/** Sends the conditional request and acts on the answer. */
async function ask(cached: CachedEntry, conditional: Record<string, string>, ctx: RevalidateContext): Promise<LoadedModelBytes> {
  const { options, url } = ctx;
  const timeoutMs = options.revalidateTimeoutMs ?? DEFAULT_REVALIDATE_TIMEOUT_MS;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  let res: Response;
  try {
    res = await ctx.doFetch(url, { headers: conditional, cache: 'no-store', signal });
  } catch (err) {
    throwIfAborted(options.signal, url);
    const why = timeout.signal.aborted ? `no answer within ${timeoutMs} ms` : describe(err);
    return unreachable(cached, url, why);
  } finally {
    clearTimeout(timer);
  }
  const received = readValidators(res, Date.now());
  if (res.status === 304) {
    await res.body?.cancel().catch(() => undefined);
    await keepValidators(ctx.store, cached.rec, mergeValidators(cached.rec.http ?? received, received));
    return result(cached, 'revalidated');
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    return unreachable(cached, url, `HTTP ${res.status}`);
  }
  let bytes: Uint8Array;
  try {
    ({ bytes } = await fetchModelResponse(url, { ...options, httpCache: 'no-store', fetch: ctx.doFetch }, res));
  } catch (err) {
    throwIfAborted(options.signal, url);
    return unreachable(cached, url, `the new body failed: ${describe(err)}`);
  }
  return replace(cached, bytes, received, ctx);
}

/** A 200 answer: the same bytes again (a server that ignores conditionals), or new ones to store. */
async function replace(cached: CachedEntry, bytes: Uint8Array, http: HttpValidators, ctx: RevalidateContext): Promise<LoadedModelBytes> {
  const sha256 = await sha256Hex(bytes);
  if (sha256 === cached.rec.sha256) {
    await keepValidators(ctx.store, cached.rec, http);
    return {
      ...result(cached, 'revalidated'),
      detail: `The server sent the whole model again instead of 304 Not Modified (it ignores If-None-Match / If-Modified-Since); the bytes are unchanged.`,
    };
  }
  const fresh = { rec: cached.rec, bytes };
  const base = { ...result(fresh, 'updated'), sha256, previous: cached.rec.sha256 };
  if (isNoStore(http) && !ctx.options.storeNoStore) {
    await retireEntry(ctx.store, cached.rec, sha256).catch(() => undefined);
    return { ...base, cache: 'bypassed', reason: 'no-store', detail: noStore(ctx.url) };
  }
  const stored = await storeBytes(ctx.store, bytes, sha256, ctx.labels, ctx.options, http);
  if (!stored.ok) return { ...base, cache: 'bypassed', reason: stored.reason, detail: stored.detail };
  return base;
}

/** The cached bytes, because the server could not be asked. */
function unreachable(cached: CachedEntry, url: string, why: string): LoadedModelBytes {
  const offline = typeof navigator !== 'undefined' && (navigator as Navigator | undefined)?.onLine === false;
  return {
    ...result(cached, 'hit'),
    reason: offline ? 'offline' : 'revalidation-failed',
    detail: `Could not revalidate ${url} (${offline ? 'the browser is offline' : why}); the cached model was used.`,
  };
}

/** Stores the validators of the latest answer; best effort (the next load asks again). */
async function keepValidators(store: CacheStore, rec: EntryRecord, http: HttpValidators): Promise<void> {
  try {
    const current = await store.entries.get(rec.sha256);
    if (current?.state === 'complete') await store.entries.set(rec.sha256, { ...current, http, lastUsed: Date.now() });
  } catch {
    /* advisory */
  }
}

function result({ rec, bytes }: CachedEntry, cache: LoadedModelBytes['cache']): LoadedModelBytes {
  return { bytes, sha256: rec.sha256, cache, ...defined({ id: rec.id, version: rec.version, url: rec.url }) };
}

/** Says why a URL entry cannot be revalidated, and what to do. */
export function noValidators(url: string, v: HttpValidators | undefined): string {
  const why = v
    ? `the server sent no validator to ask with (ETag, Last-Modified), and its freshness lifetime (Cache-Control max-age or immutable, Expires) is absent or over`
    : `it was stored without the server's caching headers (by a load with a hash or version, or an older webq8)`;
  return `The cached model for ${url} cannot be revalidated: ${why}. It is used as cached; load with cache: 'refresh' to re-download it.${v ? hiddenEtag(v) : ''}`;
}

/** A note when CORS hid the ETag: empty otherwise. */
export function hiddenEtag(v: HttpValidators): string {
  return v.crossOrigin && v.etag === undefined
    ? ` The response is cross-origin and exposes no ETag: if the server sends one, it must also send Access-Control-Expose-Headers: ETag.`
    : '';
}

/** Says why a response was not stored. */
export function noStore(url: string): string {
  return `The server sent Cache-Control: no-store for ${url}, so the model was not cached. Serve it with an ETag or a versioned path and Cache-Control: immutable, or pass revalidate: { storeNoStore: true }.`;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function throwIfAborted(signal: AbortSignal | undefined, url: string): void {
  if (signal?.aborted) throw new AbortError(`Loading the model at ${url} was aborted by its AbortSignal.`, { url });
}
