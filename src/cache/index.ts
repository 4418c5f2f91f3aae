/**
 * The model cache: content-addressed, chunked, atomic, evicting, versioned model bytes in
 * IndexedDB, plus compiled artifacts. The worker calls {@link loadModelBytes}; the management
 * functions back `runtime.cache.{list, delete, clear, usage}`. Every function takes the store as its
 * optional last argument (default: IndexedDB `webq8-cache`, opened on first use).
 */
export { loadModelBytes } from './load';
export { listEntries, deleteEntries, clearCache, cacheUsage, type EntrySelector } from './manage';
export { pin } from './evict';
export { getArtifact, putArtifact, listArtifacts } from './artifacts';
export { collectOrphans } from './gc';
export { fetchModelBytes } from './fetcher';
export { sha256Hex, parseExpectedSha256 } from './hash';
export { createMemoryStore } from './memory-store';
export type * from './types';
export { loadModelRanges } from './load-ranges';
export { bytesRanges, type ByteRanges } from './ranges';
export { CorruptEntry } from './entries';
