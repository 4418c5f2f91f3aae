import type { CacheStore, CacheTable } from './store';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Simulated storage quota in bytes over all tables: a write that would exceed it rejects with a
   * `QuotaExceededError` DOMException, as IndexedDB does. Default: unlimited.
   */
  quotaBytes?: number;
}

/** A {@link CacheStore} with its tables exposed as Maps, so tests can inspect and damage them. */
export interface MemoryStore extends CacheStore {
  readonly maps: {
    entries: Map<string, unknown>;
    chunks: Map<string, unknown>;
    artifacts: Map<string, unknown>;
  };
}

/**
 * An in-memory {@link CacheStore} for Node tests and for pages without IndexedDB. Values are
 * copied with `structuredClone` on the way in and out, like IndexedDB does.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maps = { entries: new Map<string, unknown>(), chunks: new Map<string, unknown>(), artifacts: new Map<string, unknown>() };
  const used = (): number => {
    let n = 0;
    for (const m of Object.values(maps)) for (const v of m.values()) n += sizeOf(v);
    return n;
  };
  function table<V>(map: Map<string, unknown>): CacheTable<V> {
    const t: CacheTable<V> = {
      get: async (key) => structuredClone(map.get(key)) as V | undefined,
      getMany: async (keys) => keys.map((k) => structuredClone(map.get(k)) as V | undefined),
      set: (key, value) => t.setMany([[key, value]]),
      setMany: async (entries) => {
        if (options.quotaBytes !== undefined) {
          const freed = entries.reduce((n, [k]) => n + sizeOf(map.get(k)), 0);
          const added = entries.reduce((n, [, v]) => n + sizeOf(v), 0);
          if (used() - freed + added > options.quotaBytes) {
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          }
        }
        for (const [k, v] of entries) map.set(k, structuredClone(v));
      },
      delMany: async (keys) => {
        for (const k of keys) map.delete(k);
      },
      keys: async () => [...map.keys()],
    };
    return t;
  }
  return {
    maps,
    entries: table(maps.entries),
    chunks: table(maps.chunks),
    artifacts: table(maps.artifacts),
    estimate: async () => ({ usage: used(), quota: options.quotaBytes }),
  };
}

/** Byte size of binary values; records count as small. */
function sizeOf(v: unknown): number {
  if (v instanceof Uint8Array) return v.byteLength;
  return v === undefined ? 0 : 256;
}
