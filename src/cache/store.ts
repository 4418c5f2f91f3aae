/**
 * The storage the cache runs on: three key-value tables and two optional storage-manager hooks.
 * `createIdbStore()` implements it on IndexedDB, `createMemoryStore()` in memory (Node tests).
 *
 * The tables need no transaction spanning two of them: atomicity comes from write order (chunks
 * first, then the manifest marked `complete`; on delete the manifest goes first), and anything a
 * crash leaves behind is collected by `collectOrphans`.
 */
import type { ArtifactMeta, ArtifactValue, EntryRecord } from './types';

/** One key-value table, shaped like idb-keyval's verbs. `setMany`/`delMany` are atomic. */
export interface CacheTable<V> {
  get(key: string): Promise<V | undefined>;
  getMany(keys: string[]): Promise<(V | undefined)[]>;
  set(key: string, value: V): Promise<void>;
  setMany(entries: [string, V][]): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  keys(): Promise<string[]>;
}

/** Storage usage and quota of the origin, as `navigator.storage.estimate()` reports them. */
export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

/** The storage a cache lives in. Pass one as the last argument of every cache function. */
export interface CacheStore {
  /** Manifest records keyed by SHA-256. */
  readonly entries: CacheTable<EntryRecord>;
  /** Chunk bytes keyed by {@link chunkKey}. */
  readonly chunks: CacheTable<Uint8Array>;
  /** Artifact values and metadata keyed by {@link artifactDataKey} / {@link artifactMetaKey}. */
  readonly artifacts: CacheTable<ArtifactValue | ArtifactMeta>;
  /** Origin storage estimate; absent or throwing means unknown. */
  estimate?(): Promise<StorageEstimateLike>;
  /** Requests persistent storage; resolves to whether it is granted. */
  persist?(): Promise<boolean>;
  /** Whether storage is already persistent. */
  persisted?(): Promise<boolean>;
}

/** Key of chunk `index` of entry `sha256`; zero-padded so keys sort by index. */
export function chunkKey(sha256: string, index: number): string {
  return `${sha256}/${String(index).padStart(6, '0')}`;
}

/** Key of chunk `index` of the entry `rec` (its chunks live under `chunkId` when it has one). */
export function entryChunkKey(rec: { sha256: string; chunkId?: string }, index: number): string {
  return chunkKey(rec.chunkId ?? rec.sha256, index);
}

/** Key of an artifact's metadata record. */
export function artifactMetaKey(id: string): string {
  return `meta/${id}`;
}

/** Key of an artifact's value. */
export function artifactDataKey(id: string): string {
  return `data/${id}`;
}
