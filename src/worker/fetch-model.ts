/**
 * The first step of a load in the worker: model bytes from the weight cache or the network (URLs
 * and manifests), or as the page sent them (bytes, hashed for the record).
 */
import { loadModelBytes, sha256Hex } from '../cache';
import type { LoadRequest, WireProgress } from '../protocol';
import type { CacheInfo } from '../types';

/** Model bytes plus what is known about where they came from. */
export interface FetchedModel {
  bytes: Uint8Array;
  sha256: string;
  /** URL or label, for messages and `model.info.source`. */
  label: string;
  cache: CacheInfo;
  id?: string;
  version?: string;
}

/** Fetches (or takes) the bytes of `req.source`. */
export async function fetchModel(req: LoadRequest, signal: AbortSignal, onProgress?: (p: WireProgress) => void): Promise<FetchedModel> {
  const s = req.source;
  if ('bytes' in s) return { bytes: s.bytes, sha256: await sha256Hex(s.bytes), label: s.label ?? 'bytes', cache: { status: 'none' } };
  const { cache, requireIntegrity, cacheMaxBytes, revalidate } = req.options;
  const got = await loadModelBytes(s, {
    cache,
    requireIntegrity,
    maxBytes: cacheMaxBytes,
    onProgress,
    signal,
    ...(revalidate?.timeoutMs !== undefined ? { revalidateTimeoutMs: revalidate.timeoutMs } : {}),
    ...(revalidate?.storeNoStore ? { storeNoStore: true } : {}),
  });
  return {
    bytes: got.bytes,
    sha256: got.sha256,
    label: got.url ?? ('url' in s ? s.url : s.manifest),
    cache: {
      status: got.cache,
      ...(got.reason ? { reason: got.reason } : {}),
      ...(got.detail ? { detail: got.detail } : {}),
      ...(got.previous ? { previous: got.previous } : {}),
    },
    ...(got.id !== undefined ? { id: got.id } : {}),
    ...(got.version !== undefined ? { version: got.version } : {}),
  };
}
