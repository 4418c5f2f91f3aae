/**
 * Byte ranges of one stored file without the whole file in memory: a reader over a complete
 * entry's chunks (each chunk's length and SHA-256 checked on every read, as `readEntry` does), or
 * over bytes in hand. A range may start and end anywhere, across any number of chunk boundaries.
 * The weight-streaming load reads a model's data files through it (src/worker/external-data.ts).
 */
import { CorruptEntry, removeEntry } from './entries';
import { sha256Hex } from './hash';
import { entryChunkKey, type CacheStore } from './store';
import type { EntryRecord } from './types';

/** Reads ranges of one file. */
export interface ByteRanges {
  /** The file's length in bytes. */
  readonly size: number;
  /** Bytes the reader keeps in memory for as long as it lives (0 for a cache entry). */
  readonly heldBytes: number;
  /** Whether `read` copies (from an entry) rather than giving views (of bytes in hand). */
  readonly copies: boolean;
  /**
   * Bytes `[offset, offset + length)`: from an entry, a new array (or the start of `into`, when it
   * is long enough); a view of the bytes in hand otherwise (do not write to it). Throws
   * {@link CorruptEntry} (the entry is then deleted) when a stored chunk is missing or fails its
   * hash, `RangeError` for a range outside the file.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
}

/** A reader over `bytes` (views, no copy). */
export function bytesRanges(bytes: Uint8Array): ByteRanges {
  return {
    size: bytes.byteLength,
    heldBytes: bytes.byteLength,
    copies: false,
    read: async (offset, length) => bytes.subarray(...span(offset, length, bytes.byteLength)),
  };
}

/** Chunks requested ahead while one is copied: the storage reads as the page hashes. */
const READ_AHEAD = 2;

/**
 * A reader over the complete entry `rec` of `store`. It keeps the last chunk it checked (small
 * tensors side by side are read from it), nothing else. A bad chunk deletes the entry, so the next
 * load downloads the file again.
 */
export function entryRanges(store: CacheStore, rec: EntryRecord): ByteRanges {
  let last: { index: number; bytes: Uint8Array } | null = null;
  const fetchChunk = async (i: number): Promise<Uint8Array> => {
    if (last?.index === i) return last.bytes;
    const chunk = await store.chunks.get(entryChunkKey(rec, i));
    const want = Math.min(rec.chunkBytes, rec.size - i * rec.chunkBytes);
    if (!(chunk instanceof Uint8Array) || chunk.length !== want || (await sha256Hex(chunk)) !== rec.chunkHashes[i]) {
      await removeEntry(store, rec.sha256, rec.chunkCount, rec.chunkId).catch(() => undefined);
      throw new CorruptEntry(rec.sha256, i);
    }
    last = { index: i, bytes: chunk };
    return chunk;
  };
  return {
    size: rec.size,
    heldBytes: 0,
    copies: true,
    async read(offset, length, into) {
      const [from, to] = span(offset, length, rec.size);
      const out = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
      if (out.length === 0) return out;
      const first = Math.floor(from / rec.chunkBytes);
      const end = Math.floor((to - 1) / rec.chunkBytes);
      const pending: Promise<Uint8Array>[] = [];
      const request = (i: number) => {
        if (i > end) return;
        const p = fetchChunk(i);
        p.catch(() => undefined); // awaited below; a read left behind by a bad chunk must not reject unhandled
        pending.push(p);
      };
      for (let i = first; i <= Math.min(end, first + READ_AHEAD); i++) request(i);
      for (let i = first; i <= end; i++) {
        const chunk = await pending.shift()!;
        request(i + READ_AHEAD + 1);
        const at = i * rec.chunkBytes;
        const a = Math.max(from, at);
        const b = Math.min(to, at + chunk.length);
        out.set(chunk.subarray(a - at, b - at), a - from);
      }
      return out;
    },
  };
}

/** `[offset, offset + length)` checked against a file of `size` bytes. */
function span(offset: number, length: number, size: number): [number, number] {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`Bytes ${offset}–${offset + length} are outside the file (${size} bytes).`);
  }
  return [offset, offset + length];
}
