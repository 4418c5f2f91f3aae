/**
 * Public types of the model cache. The cache is content-addressed: a model entry is keyed by the
 * SHA-256 of its bytes; id, version and URL are labels used to find it again.
 */
import type { CacheMode, ModelRef, ModelSource } from '../types';
import type { HttpValidators } from './freshness';

export type { HttpValidators };

export type { CacheMode, ModelRef };

/** Lowercase hex SHA-256, 64 characters. */
export type Sha256Hex = string;

/** What the weight cache loads: a URL, a {@link ModelRef} or a {@link ModelManifestRef} (no raw bytes). */
export type CacheSource = Exclude<ModelSource, ArrayBuffer | Uint8Array>;

/** A {@link ModelRef} with its URL resolved to an absolute string (a manifest read, if there was one). */
export type ResolvedSource = ModelRef & { url: string };

/** The manifest JSON format served at `ModelManifestRef.manifest`. */
export interface ModelManifest {
  id?: string;
  version?: string;
  url: string;
  sha256?: string;
  size?: number;
}

/** Which stage a progress event reports. */
export type LoadPhase = 'download' | 'verify' | 'store';

/** A progress report; `total` is absent when the server sends no usable `Content-Length`. */
export interface LoadProgress {
  phase: LoadPhase;
  loaded: number;
  total?: number;
}

/** Options of `loadModelBytes`. */
export interface LoadModelBytesOptions {
  /** Expected SHA-256 (hex or SRI `sha256-<base64>`); overrides the one in the source. */
  expectedSha256?: string;
  /** Refuse to load without an expected hash (`IntegrityRequiredError`). */
  requireIntegrity?: boolean;
  /** Cache mode; default `'default'`. */
  cache?: CacheMode;
  /** Upper bound on the bytes the cache may hold; a model larger than this is not cached. */
  maxBytes?: number;
  /** Ask the browser to make the storage persistent (`navigator.storage.persist()`), once. */
  persist?: boolean;
  /** Chunk size of stored entries in bytes; default 4 MiB. */
  chunkBytes?: number;
  /** How many times a body cut mid-stream is resumed (HTTP Range) or retried; default 3. */
  maxRetries?: number;
  /** Called as bytes are downloaded, verified and stored. Exceptions in it are ignored. */
  onProgress?: (p: LoadProgress) => void;
  /** Aborts the download (an `AbortError`); an aborted load leaves no complete cache entry. */
  signal?: AbortSignal;
  /** The `fetch` to use; default `globalThis.fetch` (tests inject a fake). */
  fetch?: typeof fetch;
  /**
   * Milliseconds a conditional request (revalidating a cached plain URL) may wait for the server's
   * answer before the cached bytes are used instead; default 5000.
   */
  revalidateTimeoutMs?: number;
  /** Store a response the server marked `Cache-Control: no-store` anyway (for servers you cannot configure). */
  storeNoStore?: boolean;
}

/** What the cache did for a load. */
export type CacheOutcome = 'hit' | 'miss' | 'bypassed' | 'refreshed' | 'revalidated' | 'updated';

/**
 * Why a load did not simply hit: `option` (cache: 'bypass'), `max-bytes` (model larger than
 * `maxBytes`), `quota` (not enough storage even after eviction), `unavailable` (no IndexedDB or it
 * failed), `corrupt` (a cached chunk failed its hash; the entry was dropped and re-fetched),
 * `no-store` (the server said `Cache-Control: no-store`; not stored), `no-validators` (a URL entry
 * the server gave neither a validator nor a freshness lifetime: it cannot be revalidated, only
 * re-downloaded with `cache: 'refresh'`), `offline` and `revalidation-failed` (a stale URL entry was
 * used because the server could not be asked).
 */
export type CacheReason = 'option' | 'max-bytes' | 'quota' | 'unavailable' | 'corrupt' | 'no-store' | 'no-validators' | 'offline' | 'revalidation-failed';

/** The result of `loadModelBytes`. */
export interface LoadedModelBytes {
  /** The verified model bytes (a fresh buffer owned by the caller; transferable). */
  bytes: Uint8Array;
  /** SHA-256 of `bytes`, lowercase hex. */
  sha256: Sha256Hex;
  cache: CacheOutcome;
  /** Set when `cache` is `bypassed`, or when a `miss` followed a dropped corrupt entry. */
  reason?: CacheReason;
  /** A human-readable detail for `reason` (e.g. the storage error message). */
  detail?: string;
  /** With `updated` (or a `refreshed` that changed the bytes): SHA-256 of the entry these bytes replace. */
  previous?: Sha256Hex;
  id?: string;
  version?: string;
  url?: string;
}

/** Lifecycle of a stored entry: `pending` while chunks are written, `complete` once verified. */
export type EntryState = 'pending' | 'complete';

/** One model entry's manifest record, as stored: a `list()` row's fields plus its chunk table. */
export interface EntryRecord extends Omit<CacheEntryInfo, 'pinned'> {
  /**
   * The key prefix of the entry's chunks ({@link chunkKey}) when it is not `sha256`: a download
   * streamed into the cache writes its chunks before its hash is known (src/cache/stream-entry.ts).
   */
  chunkId?: string;
  chunkBytes: number;
  chunkCount: number;
  /** SHA-256 (hex) of each chunk, checked on every read. */
  chunkHashes: Sha256Hex[];
}

/** A row of `list()`: an entry's manifest record without its chunk table, plus whether it is pinned. */
export interface CacheEntryInfo {
  sha256: Sha256Hex;
  size: number;
  id?: string;
  version?: string;
  url?: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last load that used the entry (LRU order). */
  lastUsed: number;
  state: EntryState;
  /** What the server said about caching the bytes at `url` (absent for loads by hash or version). */
  http?: HttpValidators;
  /**
   * Set once the server served new bytes for this entry's URL: the entry is no longer found by its
   * labels (only by hash) and is removed as soon as no loaded model pins it.
   */
  supersededBy?: Sha256Hex;
  /** Whether some loaded model holds the entry (pinned entries are never evicted). */
  pinned: boolean;
}

/** Totals returned by `usage()`. */
export interface CacheUsage {
  /** Complete model entries. */
  entries: number;
  /** Bytes of complete model entries. */
  entryBytes: number;
  /** Compiled artifacts. */
  artifacts: number;
  /** Bytes of compiled artifacts. */
  artifactBytes: number;
  /** Origin-wide figures from `navigator.storage.estimate()`, when available. */
  originUsage?: number;
  originQuota?: number;
  /** Whether `navigator.storage.persisted()` says the storage is persistent, when known. */
  persisted?: boolean;
}

/** Identifies one compiled artifact of a model (see src/cache/artifacts.ts). */
export interface ArtifactKey {
  modelSha256: Sha256Hex;
  /** The webq8 version that produced it; another version invalidates it. */
  webq8Version: string;
  /** Identifies the backend/adapter it was built for (e.g. `'webgpu:swiftshader'`); another invalidates it. */
  adapterKey: string;
  /** What it is: `'plan'` (the partition plan and strategy decision) is the one kind webq8 writes. */
  kind: string;
}

/** A stored artifact value: bytes or any structured-clone-able JSON-like data. */
export type ArtifactValue = Uint8Array | Record<string, unknown> | unknown[] | string | number | boolean;

/** Metadata kept next to each artifact. */
export interface ArtifactMeta extends ArtifactKey {
  size: number;
  createdAt: number;
}
