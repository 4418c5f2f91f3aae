import { delMany, get, getMany, keys, promisifyRequest, set, setMany, type UseStore } from 'idb-keyval';
import { createMemoryStore } from './memory-store';
import type { CacheStore, CacheTable } from './store';

/** Bump when the object stores change; `onupgradeneeded` creates what is missing. */
const SCHEMA_VERSION = 1;
const STORE_NAMES = ['entries', 'chunks', 'artifacts'] as const;

/**
 * A {@link CacheStore} on IndexedDB: one database (default `webq8-cache`) with three object stores,
 * driven through idb-keyval's verbs. idb-keyval's own `createStore` opens one object store per
 * database, so this opens the database itself and hands idb-keyval one `UseStore` per object store.
 * No transaction spans two stores; see `store.ts` for why none is needed.
 *
 * Nothing is opened until the first call. The open promise is cached and dropped when the browser
 * closes the connection or another tab upgrades the schema (like idb-keyval). Browser
 * `DOMException`s (e.g. `QuotaExceededError`) pass through untouched.
 */
export function createIdbStore(dbName = 'webq8-cache'): CacheStore {
  let opening: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    if (!opening) {
      const req = indexedDB.open(dbName, SCHEMA_VERSION);
      req.onupgradeneeded = () => {
        for (const name of STORE_NAMES) if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
      };
      opening = promisifyRequest(req).then(
        (db) => {
          db.onclose = () => (opening = undefined);
          // Let another tab upgrade the schema; we reopen on next use.
          db.onversionchange = () => {
            db.close();
            opening = undefined;
          };
          return db;
        },
        (err: unknown) => {
          opening = undefined;
          throw err;
        },
      );
    }
    return opening;
  };
  const useStore =
    (name: (typeof STORE_NAMES)[number]): UseStore =>
    (mode, callback) =>
      open().then((db) => callback(db.transaction(name, mode).objectStore(name)));
  const storage = (): StorageManager | undefined => (typeof navigator === 'undefined' ? undefined : navigator.storage);
  return {
    entries: idbTable(useStore('entries')),
    chunks: idbTable(useStore('chunks')),
    artifacts: idbTable(useStore('artifacts')),
    estimate: async () => (await storage()?.estimate()) ?? {},
    // persist() is exposed to windows only; in a worker it is absent and this resolves false.
    persist: async () => (await storage()?.persist?.()) ?? false,
    persisted: async () => (await storage()?.persisted?.()) ?? false,
  };
}

function idbTable<V>(store: UseStore): CacheTable<V> {
  return {
    get: (key) => get<V>(key, store),
    getMany: (ks) => getMany<V>(ks, store),
    set: (key, value) => set(key, value, store),
    setMany: (entries) => setMany(entries, store),
    delMany: (ks) => delMany(ks, store),
    keys: () => keys<string>(store),
  };
}

let defaultStore: CacheStore | undefined;

/**
 * The store cache functions use when none is passed: IndexedDB when the environment has it,
 * otherwise an in-memory store for this context's lifetime. Created on first use, then reused.
 */
export function getDefaultStore(): CacheStore {
  defaultStore ??= typeof indexedDB === 'undefined' ? createMemoryStore() : createIdbStore();
  return defaultStore;
}
