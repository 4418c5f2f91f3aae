/**
 * Reading, writing and dropping one model entry: a manifest record plus its chunks.
 *
 * Write protocol (atomic by order): manifest `pending` → every chunk (each with its SHA-256) →
 * manifest `complete`. Readers only trust `complete` manifests, so a write interrupted anywhere
 * (error, abort, crash, closed tab) leaves no complete entry; `collectOrphans` removes the rest.
 */
import type { HttpValidators } from './freshness';
import { sha256Hex } from './hash';
import { LOCK, withLock } from './locks';
import { report } from './progress';
import { chunkKey, entryChunkKey, type CacheStore } from './store';
import type { EntryRecord, LoadProgress } from './types';

/** Default chunk size: small enough that no single IndexedDB value is huge, large enough to keep transactions few. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Labels stored with an entry. */
export interface EntryLabels {
  id?: string;
  version?: string;
  url?: string;
}

/** A stored chunk is missing, has the wrong length, or fails its hash. */
export class CorruptEntry extends Error {
  constructor(
    readonly sha256: string,
    readonly chunk: number,
  ) {
    super(`Cache entry ${sha256} is corrupt at chunk ${chunk}.`);
    this.name = 'CorruptEntry';
  }
}

/** All manifest records (complete and pending). */
export async function allEntries(store: CacheStore): Promise<EntryRecord[]> {
  const recs = await store.entries.getMany(await store.entries.keys());
  return recs.filter((r): r is EntryRecord => r !== undefined);
}

/**
 * Finds a complete entry: by hash when one is expected; otherwise by id + version when an id is
 * given, else by URL (the most recently used match), skipping entries retired by newer bytes at
 * their URL. A plain URL's entry is then kept fresh by HTTP rules (src/cache/revalidate.ts).
 */
export async function findEntry(store: CacheStore, sha256: string | undefined, labels: EntryLabels): Promise<EntryRecord | undefined> {
  if (sha256) {
    const rec = await store.entries.get(sha256);
    return rec?.state === 'complete' ? rec : undefined;
  }
  const matches = (await allEntries(store)).filter(
    (r) =>
      r.state === 'complete' &&
      r.supersededBy === undefined &&
      (labels.id !== undefined ? r.id === labels.id && r.version === labels.version : r.url === labels.url),
  );
  return matches.sort((a, b) => b.lastUsed - a.lastUsed)[0];
}

/**
 * Reads and reassembles an entry, checking every chunk's length and SHA-256. Throws
 * {@link CorruptEntry} on the first bad chunk. Chunks are read in order with {@link READ_AHEAD}
 * more requested while one is checked (the storage reads as the page hashes), so peak memory is
 * the model plus a few chunks; each verified chunk is reported as `verify` progress.
 */
export async function readEntry(store: CacheStore, rec: EntryRecord, onProgress?: (p: LoadProgress) => void): Promise<Uint8Array> {
  const out = new Uint8Array(rec.size);
  const pending: Promise<unknown>[] = [];
  const request = (i: number) => {
    if (i >= rec.chunkCount) return;
    const read = store.chunks.get(entryChunkKey(rec, i));
    read.catch(() => undefined); // a read left behind by a bad chunk must not reject unhandled; awaited, it still throws
    pending.push(read);
  };
  for (let i = 0; i <= READ_AHEAD; i++) request(i);
  for (let i = 0; i < rec.chunkCount; i++) {
    const chunk = await pending.shift();
    request(i + READ_AHEAD + 1);
    const at = i * rec.chunkBytes;
    const want = Math.min(rec.chunkBytes, rec.size - at);
    if (!(chunk instanceof Uint8Array) || chunk.length !== want || (await sha256Hex(chunk)) !== rec.chunkHashes[i]) {
      throw new CorruptEntry(rec.sha256, i);
    }
    out.set(chunk, at);
    report(onProgress, { phase: 'verify', loaded: at + want, total: rec.size });
  }
  return out;
}

/** Chunks requested from the storage ahead of the one being checked. */
const READ_AHEAD = 2;

/**
 * Stores verified `bytes` (whose hash is `sha256`) as a new complete entry, following the write
 * protocol above. On failure it removes what it wrote and rethrows (e.g. `QuotaExceededError`).
 */
export async function writeEntry(
  store: CacheStore,
  bytes: Uint8Array,
  sha256: string,
  labels: EntryLabels,
  chunkBytes: number,
  onProgress?: (p: LoadProgress) => void,
  http?: HttpValidators,
): Promise<EntryRecord> {
  const now = Date.now();
  const chunkCount = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const rec: EntryRecord = {
    sha256,
    size: bytes.length,
    chunkBytes,
    chunkCount,
    chunkHashes: [],
    ...defined(labels),
    createdAt: now,
    lastUsed: now,
    state: 'pending',
    ...(http ? { http } : {}),
  };
  return withLock(LOCK.write, { mode: 'shared' }, async () => {
    let started = 0;
    // One chunk is written while the next is copied and hashed, into two buffers taken in turn.
    let writing: Promise<void> | undefined;
    const scratch: Uint8Array[] = [];
    try {
      await store.entries.set(sha256, rec);
      for (let i = 0; i < chunkCount; i++) {
        const chunk = chunkCopy(bytes, i, chunkBytes, scratch);
        rec.chunkHashes.push(await sha256Hex(chunk));
        await writing;
        started = i + 1;
        const loaded = Math.min(bytes.length, started * chunkBytes);
        writing = store.chunks.set(chunkKey(sha256, i), chunk).then(() => report(onProgress, { phase: 'store', loaded, total: bytes.length }));
        writing.catch(() => undefined); // awaited above or below; this only keeps a failure from going unhandled meanwhile
      }
      await writing;
      rec.state = 'complete';
      await store.entries.set(sha256, rec);
      return rec;
    } catch (err) {
      await writing?.catch(() => undefined); // let the last write land before removing what was written
      await removeEntry(store, sha256, started).catch(() => undefined);
      throw err;
    }
  });
}

/**
 * Chunk `i` of `bytes` as a buffer of its own (IndexedDB clones a view's whole buffer, so a view of
 * the model would store all of it). Full chunks reuse two buffers in turn: IndexedDB has cloned a
 * chunk once its write resolved, and a buffer is refilled only after the write before last did.
 */
function chunkCopy(bytes: Uint8Array, i: number, chunkBytes: number, scratch: Uint8Array[]): Uint8Array {
  const part = bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes);
  if (part.length !== chunkBytes) return part.slice();
  const buf = (scratch[i % 2] ??= new Uint8Array(chunkBytes));
  buf.set(part);
  return buf;
}

/** Marks an entry as just used (LRU order). Best effort: a failure here never fails a load. */
export async function touchEntry(store: CacheStore, rec: EntryRecord): Promise<void> {
  try {
    await store.entries.set(rec.sha256, { ...rec, lastUsed: Date.now() });
  } catch {
    /* LRU order is advisory */
  }
}

/**
 * Removes an entry: manifest first (so it stops being visible), then its first `chunkCount` chunks
 * (under `chunkId`, the entry's own when it has one). A crash in between leaves only orphan chunks,
 * which `collectOrphans` removes.
 */
export async function removeEntry(store: CacheStore, sha256: string, chunkCount: number, chunkId = sha256): Promise<void> {
  await store.entries.delMany([sha256]);
  await store.chunks.delMany(Array.from({ length: chunkCount }, (_, i) => chunkKey(chunkId, i)));
}

/** `o` without its undefined fields (so spreading it never overwrites with undefined). */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
