/**
 * The first step of a load in the worker: model bytes from the weight cache or the network (URLs
 * and manifests), or as the page sent them (bytes, hashed for the record), checked to be ONNX;
 * then its external data files, if it names any (./external-data.ts).
 */
import { loadModelBytes, pin, sha256Hex } from '../cache';
import { assertOnnx } from '../graph/sniff';
import { fetchExternalData, type FetchedExternalData } from './external-data';
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
  /** The model's external data files, when it names any. */
  external?: FetchedExternalData;
}

/**
 * Fetches (or takes) the bytes of `req.source` and its external data files. Throws
 * `ModelFormatError` for bytes that are not ONNX, `ExternalDataError` for a data file that is
 * missing or does not fit (nothing of the load then stays in the cache).
 */
export async function fetchModel(req: LoadRequest, signal: AbortSignal, onProgress?: (p: WireProgress) => void): Promise<FetchedModel> {
  const got = await fetchOnnx(req, signal, onProgress);
  assertOnnx(got.bytes, got.label);
  const external = await fetchExternalData(got, req, signal, onProgress);
  return external ? { ...got, external } : got;
}

/** Pins every cache entry of a loaded model (its `.onnx` and cached data files); the result unpins them all. */
export async function pinEntries(got: FetchedModel): Promise<() => void> {
  const hashes = [got.sha256, ...(got.external?.info ?? []).filter((f) => f.cache.status !== 'none').map((f) => f.sha256)];
  const releases: (() => void)[] = [];
  try {
    for (const sha256 of hashes) releases.push(await pin(sha256));
  } catch (err) {
    for (const r of releases) r();
    throw err;
  }
  return () => {
    for (const r of releases) r();
  };
}

async function fetchOnnx(req: LoadRequest, signal: AbortSignal, onProgress?: (p: WireProgress) => void): Promise<FetchedModel> {
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
