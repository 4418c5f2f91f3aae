/**
 * A download streamed into the weight cache: the body goes into a new entry chunk by chunk as it
 * arrives, hashed as it goes (the file by an incremental SHA-256, each chunk by WebCrypto), so the
 * file is never whole in memory. A model's data files load this way (`lazy` loads in
 * src/cache/load.ts), and the kernel plan then reads their ranges from the entry.
 *
 * The file's hash, which names the entry, is known only at the end, so the chunks are written
 * under a random `chunkId` and the entry's record, `complete`, last: readers trust only complete
 * records, as with `writeEntry`. A failure or a cancel removes every chunk written; a crash leaves
 * chunks that belong to no entry, which orphan collection removes (the write lock is held
 * throughout, so collection never runs under a download).
 */
import { defined, removeEntry, type EntryLabels } from './entries';
import { evictOne, makeRoom } from './evict';
import { fetchModelStream, type BodyWriter } from './fetcher';
import { isNoStore, readValidators, type HttpValidators } from './freshness';
import { checkExpected, sha256Hex, toHex } from './hash';
import { LOCK, withLock } from './locks';
import { report } from './progress';
import { isQuotaError, relabelEntry } from './put';
import { Sha256 } from './sha256-js';
import { chunkKey, type CacheStore } from './store';
import type { CacheReason, EntryRecord, LoadModelBytesOptions, ResolvedSource } from './types';

/** The cache cannot take the file (full, over `maxBytes`, `no-store`, storage failing): download it without caching. */
export class StoreRefused extends Error {
  constructor(
    readonly reason: CacheReason,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'StoreRefused';
  }
}

/** What {@link downloadToEntry} needs besides the source. */
export interface StreamEntryOptions extends Pick<LoadModelBytesOptions, 'signal' | 'onProgress' | 'maxRetries' | 'maxBytes' | 'storeNoStore'> {
  chunkBytes: number;
  /** The entry is found by a plain URL: keep the response's validators, and honour its `no-store`. */
  plainUrl: boolean;
}

/**
 * Downloads `ref` into a new complete entry labelled `labels` and returns its record (an existing
 * complete entry of the same bytes is relabelled and returned instead). Throws {@link StoreRefused}
 * when the cache cannot take the file (nothing of it stays), `IntegrityError` when its hash is not
 * `expected`, and the fetcher's errors (`ModelLoadError`, `ContentLengthError`, `AbortError`).
 */
export async function downloadToEntry(
  store: CacheStore,
  ref: ResolvedSource,
  expected: string | undefined,
  labels: EntryLabels,
  options: StreamEntryOptions,
  doFetch: typeof fetch,
): Promise<{ rec: EntryRecord; http?: HttpValidators }> {
  return withLock(LOCK.write, { mode: 'shared' }, async () => {
    const writer = new EntryWriter(store, options);
    try {
      const { response, size } = await fetchModelStream(ref.url, writer, {
        signal: options.signal,
        onProgress: options.onProgress,
        maxRetries: options.maxRetries,
        expectedSize: ref.size,
        fetch: doFetch,
        httpCache: 'no-store', // the weight cache is the cache
      });
      const http = options.plainUrl ? readValidators(response, Date.now()) : undefined;
      report(options.onProgress, { phase: 'verify', loaded: size, total: size });
      const rec = await writer.finish(ref.url, expected, labels, http);
      return { rec, ...(http ? { http } : {}) };
    } catch (err) {
      await writer.discard().catch(() => undefined);
      throw err instanceof StoreRefused || isStorageError(err) ? refused(err) : err;
    }
  });
}

/** Fills chunks of `chunkBytes` from the body, two buffers in turn, and stores each as it fills. */
class EntryWriter implements BodyWriter {
  private readonly id = `stream-${randomId()}`;
  private readonly buffers: Uint8Array[] = [];
  private hash = new Sha256();
  private chunkHashes: string[] = [];
  private index = 0;
  private fill = 0;
  private size = 0;
  /** The write of the last full chunk, awaited before its buffer's turn comes again. */
  private writing: Promise<void> | undefined;
  private total: number | undefined;

  constructor(
    private readonly store: CacheStore,
    private readonly options: StreamEntryOptions,
  ) {}

  async begin(response: Response, total: number | undefined): Promise<void> {
    await this.discard(); // a restart after a cut body sends the file from byte 0 again
    if (this.options.plainUrl && !this.options.storeNoStore && isNoStore(readValidators(response, Date.now()))) {
      throw new StoreRefused('no-store', `The server sent ${response.url || 'the file'} with Cache-Control: no-store, so it is not cached.`);
    }
    this.total = total;
    if (total === undefined) return;
    const room = await makeRoom(this.store, total, this.options.maxBytes, '');
    if (!room.ok) throw new StoreRefused(room.reason, room.detail);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.size += bytes.length;
    const { chunkBytes } = this.options;
    for (let at = 0; at < bytes.length;) {
      const buf = (this.buffers[this.index % 2] ??= new Uint8Array(chunkBytes));
      const n = Math.min(chunkBytes - this.fill, bytes.length - at);
      buf.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === chunkBytes) await this.flush(buf);
    }
  }

  /** Stores the last chunk, checks the hash and writes the record (or relabels the same bytes already stored). */
  async finish(url: string, expected: string | undefined, labels: EntryLabels, http: HttpValidators | undefined): Promise<EntryRecord> {
    // The last chunk (a buffer of its own: IndexedDB clones a view's whole buffer); an empty file is one empty chunk.
    if (this.fill > 0 || this.index === 0) await this.flush(this.buffers[this.index % 2]?.slice(0, this.fill) ?? new Uint8Array(0));
    await this.writing;
    const sha256 = toHex(this.hash.digest());
    checkExpected(url, expected, sha256);
    const now = Date.now();
    const existing = await this.store.entries.get(sha256);
    if (existing?.state === 'complete') {
      await this.discard();
      return relabelEntry(this.store, existing, labels, http);
    }
    if (existing) await removeEntry(this.store, sha256, existing.chunkCount, existing.chunkId);
    const rec: EntryRecord = {
      sha256,
      chunkId: this.id,
      size: this.size,
      chunkBytes: this.options.chunkBytes,
      chunkCount: this.index,
      chunkHashes: this.chunkHashes,
      ...defined(labels),
      createdAt: now,
      lastUsed: now,
      state: 'complete',
      ...(http ? { http } : {}),
    };
    await this.store.entries.set(sha256, rec);
    this.index = 0; // the chunks are the entry's now: discard leaves them
    return rec;
  }

  /** Removes the chunks written so far and starts over. */
  async discard(): Promise<void> {
    await this.writing?.catch(() => undefined);
    this.writing = undefined;
    const written = Array.from({ length: this.index }, (_, i) => chunkKey(this.id, i));
    this.hash = new Sha256();
    this.chunkHashes = [];
    this.index = this.fill = this.size = 0;
    if (written.length > 0) await this.store.chunks.delMany(written);
  }

  /** Hashes chunk `index` and starts its write once the one before has landed (its buffer is then free). */
  private async flush(chunk: Uint8Array): Promise<void> {
    const i = this.index;
    this.chunkHashes.push(await sha256Hex(chunk));
    await this.writing;
    this.writing = this.put(i, chunk);
    this.writing.catch(() => undefined); // awaited by the next flush, finish or discard
    this.index = i + 1;
    this.fill = 0;
  }

  /** Writes one chunk, evicting least-recently-used entries while the storage is full. */
  private async put(i: number, chunk: Uint8Array): Promise<void> {
    for (;;) {
      try {
        await this.store.chunks.set(chunkKey(this.id, i), chunk);
        const loaded = Math.min(this.size, (i + 1) * this.options.chunkBytes);
        report(this.options.onProgress, { phase: 'store', loaded, total: this.total ?? loaded });
        return;
      } catch (err) {
        if (!isQuotaError(err)) throw err;
        if (!(await evictOne(this.store, ''))) throw new StoreRefused('quota', `Storage quota exceeded and nothing more can be evicted: ${String(err)}`);
      }
    }
  }
}

/** An IndexedDB failure (not one of the download's own errors, which carry a webq8 `code`). */
function isStorageError(err: unknown): boolean {
  return (typeof DOMException !== 'undefined' && err instanceof DOMException) || isQuotaError(err);
}

function refused(err: unknown): StoreRefused {
  return err instanceof StoreRefused ? err : new StoreRefused('unavailable', `The cache could not store the model: ${String(err)}`);
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return Array.from({ length: 4 }, () => Math.floor(Math.random() * 2 ** 32).toString(16)).join('');
}
