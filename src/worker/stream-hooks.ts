/**
 * Test hook of the streaming load: `'tiny-data-chunks'` stores data files in the weight cache in
 * 4 KiB chunks (instead of 4 MiB), so a test's small model has tensors split across many chunk
 * boundaries, anywhere in them.
 */

/** The chunk size `'tiny-data-chunks'` sets. */
export const TINY_DATA_CHUNK_BYTES = 4096;

let forced: number | undefined;

/** Forces the chunk size of data files stored from now on (undefined: the cache's default). */
export function forceDataChunkBytes(bytes: number | undefined): void {
  forced = bytes;
}

/** The forced chunk size of stored data files, if any. */
export function dataChunkBytes(): number | undefined {
  return forced;
}
