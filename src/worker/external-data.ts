/**
 * The second step of a load whose model keeps tensors in external data files (ONNX
 * `external_data`): find the files the model names, get each one (the `externalData` option, or
 * its location resolved against the model's URL) through the weight cache as an entry of its own,
 * and check every tensor against its file. Progress covers all files as one download; the load's
 * signal cancels it. On any failure, entries this load stored (the files and the `.onnx` itself)
 * are deleted again, so nothing of a model that cannot load stays in the cache.
 */
import { bytesRanges, cacheUsage, CorruptEntry, deleteEntries, loadModelRanges, sha256Hex, type ByteRanges } from '../cache';
import { ContentLengthError, ExternalDataError, ModelLoadError, StorageQuotaError, WebQ8Error } from '../errors';
import { checkRef, externalLocations, externalRefs, type ExternalRef } from '../graph/external-data';
import { decodeModel } from '../graph/onnx-model';
import type { LoadRequest, WireProgress, WireSource } from '../protocol';
import type { CacheInfo, ExternalDataInfo } from '../types';
import { dataChunkBytes } from './stream-hooks';

/** What external data needs to know about the `.onnx` it belongs to. */
interface ModelFile {
  bytes: Uint8Array;
  sha256: string;
  label: string;
  cache: CacheInfo;
}

/**
 * One data file, read by ranges: from its weight-cache entry (nothing held), or from bytes in hand
 * (given as bytes, or downloaded with the cache bypassed). `inHand` is the whole file when this load
 * downloaded it: the WASM plan hands it to ORT, the kernel plan drops it.
 */
export interface DataFile {
  ranges: ByteRanges;
  inHand?: Uint8Array | undefined;
  /** Told the bytes of every range read, while a load reports progress ({@link reportReads}). */
  onRead?: ((bytes: number) => void) | undefined;
}

/**
 * Reports the reads of `files` as `compile` progress (loaded: bytes read so far) until the returned
 * function is called: a large model's weights are read while its plan is prepared, and a load
 * watchdog must see that it moves.
 */
export function reportReads(files: ReadonlyMap<string, DataFile> | undefined, onProgress?: (p: WireProgress) => void): () => void {
  if (!files || !onProgress) return () => undefined;
  let loaded = 0;
  const total = [...files.values()].reduce((a, f) => a + f.ranges.size, 0);
  for (const f of files.values()) f.onRead = (bytes) => onProgress({ phase: 'compile', loaded: (loaded += bytes), total });
  return () => {
    for (const f of files.values()) f.onRead = undefined;
  };
}

/** The model's data files, ready for the plan, and what the cache did for each. */
export interface FetchedExternalData {
  files: Map<string, DataFile>;
  info: ExternalDataInfo[];
}

/**
 * Gets and checks the external data files of `model`; null when it has none. Throws
 * {@link ExternalDataError} naming the file and a tensor for a missing, truncated or mismatched
 * file (`IntegrityError` for a file that fails its expected SHA-256, `AbortError` on cancel).
 */
export async function fetchExternalData(
  model: ModelFile,
  req: LoadRequest,
  signal: AbortSignal,
  onProgress?: (p: WireProgress) => void,
): Promise<FetchedExternalData | null> {
  const refs = externalRefs(decodeModel(model.bytes, model.label));
  if (refs.length === 0) return null;
  const locations = externalLocations(refs);
  const progress = new Progress(refs, onProgress);
  const fetched = locations.filter((l) => !(req.options.externalData?.[l] && 'bytes' in req.options.externalData[l]));
  const needed = progress.totalOf(fetched);
  if (req.options.cache !== 'bypass' && fetched.length > 0) await checkQuota(needed, model.label);
  const stored: string[] = model.cache.status === 'miss' || model.cache.status === 'refreshed' ? [model.sha256] : [];
  const out: FetchedExternalData = { files: new Map(), info: [] };
  try {
    for (const location of locations) {
      const mine = refs.filter((r) => r.location === location);
      const got = await fetchFile(location, mine[0]!, model, req, signal, progress.for(location), needed >= LARGE_BYTES);
      if (got.cache.status === 'miss' || got.cache.status === 'refreshed') stored.push(got.sha256);
      for (const r of mine) checkRef(r, got.ranges.size);
      const file: DataFile = { ranges: got.ranges, inHand: got.inHand };
      file.ranges = namedRanges(location, got.ranges, file);
      out.files.set(location, file);
      out.info.push({ location, source: got.source, bytes: got.ranges.size, sha256: got.sha256, cache: got.cache });
    }
    return out;
  } catch (err) {
    // Best effort: a failed delete leaves a verified entry, which is harmless (it is never half-written).
    for (const sha256 of stored) await deleteEntries({ sha256 }).catch(() => undefined);
    throw err;
  }
}

interface FetchedFile {
  ranges: ByteRanges;
  inHand?: Uint8Array | undefined;
  sha256: string;
  source: string;
  cache: CacheInfo;
}

async function fetchFile(
  location: string,
  first: ExternalRef,
  model: ModelFile,
  req: LoadRequest,
  signal: AbortSignal,
  onProgress: (p: WireProgress) => void,
  persist: boolean,
): Promise<FetchedFile> {
  const given: WireSource | undefined = req.options.externalData?.[location];
  if (given && 'bytes' in given) return { ranges: bytesRanges(given.bytes), sha256: await sha256Hex(given.bytes), source: 'bytes', cache: { status: 'none' } };
  const source = given ?? besideModel(location, first, model, req);
  if ('manifest' in source)
    throw new ExternalDataError(`External data "${location}" cannot come from a manifest; pass a URL, {url, sha256} or bytes.`, { file: location });
  const { cache, requireIntegrity, cacheMaxBytes } = req.options;
  try {
    const chunkBytes = dataChunkBytes();
    const got = await loadModelRanges(source, {
      cache,
      requireIntegrity,
      maxBytes: cacheMaxBytes,
      onProgress,
      signal,
      persist,
      ...(chunkBytes ? { chunkBytes } : {}),
    });
    const info: CacheInfo = { status: got.cache, ...(got.reason ? { reason: got.reason } : {}), ...(got.detail ? { detail: got.detail } : {}) };
    return { ranges: got.ranges, inHand: got.inHand, sha256: got.sha256, source: source.url, cache: info };
  } catch (err) {
    if (err instanceof ModelLoadError || err instanceof ContentLengthError) {
      const reason = err instanceof ModelLoadError ? 'missing' : 'truncated';
      throw new ExternalDataError(
        `The external data file "${location}" (tensor "${first.tensor}" and others) could not be loaded from ${source.url}: ${err.message}`,
        { file: location, tensor: first.tensor, url: source.url, reason, ...(err instanceof WebQ8Error ? { cause: err.code } : {}) },
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * `ranges` (or `file.inHand` while there is one) that tells `file.onRead` each range's length, and
 * whose corrupt cache chunk is an {@link ExternalDataError} (`corrupt`) naming the file; the reader
 * has deleted the entry by then, so loading again downloads the file.
 */
function namedRanges(location: string, ranges: ByteRanges, file: DataFile): ByteRanges {
  // The bytes this load downloaded, while it has them; the cache entry after.
  const read = (offset: number, length: number, into?: Uint8Array) =>
    file.inHand ? Promise.resolve(file.inHand.subarray(offset, offset + length)) : ranges.read(offset, length, into);
  return {
    size: ranges.size,
    heldBytes: ranges.heldBytes,
    get copies() {
      return !file.inHand && ranges.copies;
    },
    read: (offset, length, into) =>
      read(offset, length, into)
        .then((bytes) => (file.onRead?.(length), bytes))
        .catch((err: unknown) => {
          if (!(err instanceof CorruptEntry)) throw err;
          throw new ExternalDataError(
            `The weight cache's copy of the external data file "${location}" is corrupt (chunk ${err.chunk} fails its SHA-256). It was deleted from the cache; load the model again to download the file.`,
            { file: location, reason: 'corrupt', chunk: err.chunk },
          );
        }),
  };
}

/** The file's URL beside the model's; a model given as bytes has no URL to resolve against. */
function besideModel(location: string, first: ExternalRef, model: ModelFile, req: LoadRequest): { url: string } {
  if ('bytes' in req.source) {
    throw new ExternalDataError(
      `Tensor "${first.tensor}" is stored in the external data file "${location}", and the model was given as bytes. Pass the file in the externalData option: { externalData: { '${location}': urlOrBytes } }.`,
      { file: location, tensor: first.tensor, reason: 'missing' },
    );
  }
  return { url: new URL(location, model.label).href };
}

/** Download progress of all data files together; a file's total is its furthest tensor until its server says. */
class Progress {
  private readonly totals = new Map<string, number>();
  private readonly loaded = new Map<string, number>();

  constructor(
    refs: ExternalRef[],
    private readonly sink: ((p: WireProgress) => void) | undefined,
  ) {
    for (const r of refs) this.totals.set(r.location, Math.max(this.totals.get(r.location) ?? 0, r.offset + r.length));
  }

  /** Bytes of the given files (their furthest tensor's end). */
  totalOf(locations: string[]): number {
    return locations.reduce((a, l) => a + (this.totals.get(l) ?? 0), 0);
  }

  for(location: string): (p: WireProgress) => void {
    return (p) => {
      if (p.phase !== 'download') return this.sink?.(p);
      if (p.total !== undefined) this.totals.set(location, p.total);
      this.loaded.set(location, p.loaded);
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      this.sink?.({ phase: 'download', loaded: sum(this.loaded), total: sum(this.totals) });
    };
  }
}

/** Data files of at least this many bytes in all ask the browser for persistent storage. */
const LARGE_BYTES = 100 * 2 ** 20;

/**
 * Fails before any download when the origin's storage cannot hold `needed` more bytes even after
 * evicting every cached model (`navigator.storage.estimate()`; unknown quota passes).
 */
async function checkQuota(needed: number, label: string): Promise<void> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  const est = await storage?.estimate?.().catch(() => undefined);
  if (!est?.quota) return;
  const evictable = await cacheUsage()
    .then((u) => u.entryBytes)
    .catch(() => 0);
  const short = quotaShortfall(needed, est.quota, est.usage ?? 0, evictable);
  if (short > 0) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    throw new StorageQuotaError(
      `The external data of ${label} needs ${mib(needed)} in the weight cache, and this origin's storage has ${mib(needed - short)} it can use (quota ${mib(est.quota)}, used ${mib(est.usage ?? 0)}, of which ${mib(evictable)} evictable cached models). Free storage, or load with cache: 'bypass' to download without caching.`,
      { url: label, needed, available: needed - short, quota: est.quota, usage: est.usage ?? 0 },
    );
  }
}

/** How many bytes `needed` exceeds what the storage can give (0 when it fits). */
export function quotaShortfall(needed: number, quota: number, usage: number, evictable: number): number {
  return Math.max(0, needed - Math.max(0, quota - usage + evictable));
}
