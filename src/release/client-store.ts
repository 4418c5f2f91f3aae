/**
 * What a client remembers about releases across page loads, in IndexedDB (database
 * `webq8-release`): its random client id (the canary bucket is a hash of it, so the same client lands
 * in the same cohort on every load), the versions it rolled back (never adopted again), and the
 * SHA-256 each version label was first seen with (a label never changes bytes). Like idb-keyval,
 * every function takes the store as its last argument with a lazy default; without IndexedDB the
 * store is in memory and lasts as long as the page.
 */
import { createStore, update, type UseStore } from 'idb-keyval';
import { sha256Hex } from '../cache';

/** A key-value store with an atomic read-modify-write. */
export interface ReleaseStore {
  /** Replaces the value of `key` by `fn(old)` in one transaction; resolves to the new value. */
  update<T>(key: string, fn: (old: T | undefined) => T): Promise<T>;
}

/** A {@link ReleaseStore} in memory (Node tests; pages without IndexedDB). */
export function memoryReleaseStore(): ReleaseStore {
  const map = new Map<string, unknown>();
  return {
    async update<T>(key: string, fn: (old: T | undefined) => T): Promise<T> {
      const value = fn(structuredClone(map.get(key)) as T | undefined);
      map.set(key, structuredClone(value));
      return value;
    },
  };
}

function idbReleaseStore(): ReleaseStore {
  let db: UseStore | undefined;
  return {
    async update<T>(key: string, fn: (old: T | undefined) => T): Promise<T> {
      db ??= createStore('webq8-release', 'kv');
      let value: T | undefined;
      await update<T>(key, (old) => (value = fn(old)), db);
      return value as T;
    },
  };
}

let fallback: ReleaseStore | undefined;

/** IndexedDB where it works, else memory (private modes that refuse IndexedDB). */
export function defaultReleaseStore(): ReleaseStore {
  const idb = typeof indexedDB === 'undefined' ? undefined : idbReleaseStore();
  const memory = (fallback ??= memoryReleaseStore());
  return {
    async update<T>(key: string, fn: (old: T | undefined) => T): Promise<T> {
      if (!idb) return memory.update(key, fn);
      try {
        return await idb.update(key, fn);
      } catch {
        return memory.update(key, fn);
      }
    },
  };
}

/** This client's random id: made once, then read back on every load. */
export function clientIdOf(store: ReleaseStore = defaultReleaseStore()): Promise<string> {
  return store.update<string>('client-id', (old) => (typeof old === 'string' && old.length > 0 ? old : randomId()));
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The client's canary bucket for `model`, uniform in [0, 1): the first 32 bits of
 * SHA-256(`clientId` + "\n" + `model`). A client is in a canary when `bucket < fraction`, so raising
 * the fraction only ever adds clients, and a client keeps its cohort across versions.
 */
export async function canaryBucket(clientId: string, model: string): Promise<number> {
  const hex = await sha256Hex(new TextEncoder().encode(`${clientId}\n${model}`));
  return parseInt(hex.slice(0, 8), 16) / 2 ** 32;
}

/** Versions of `model` this client rolled back, optionally adding `add`. */
export function rolledBack(model: string, add?: string, store: ReleaseStore = defaultReleaseStore()): Promise<string[]> {
  return store.update<string[]>(`rolled-back:${model}`, (old) => {
    const list = Array.isArray(old) ? old.filter((v) => typeof v === 'string') : [];
    // Bounded: a long-lived client keeps its 64 most recent rollbacks.
    return add !== undefined && !list.includes(add) ? [...list, add].slice(-64) : list;
  });
}

/**
 * Checks version labels against the SHA-256 each was verified with before (labels never seen pass)
 * and returns those whose hash changed.
 */
export async function changedVersions(
  model: string,
  versions: { version: string; sha256: string }[],
  store: ReleaseStore = defaultReleaseStore(),
): Promise<{ version: string; was: string; now: string }[]> {
  const known = await store.update<Record<string, string>>(`versions:${model}`, (old) => (old && typeof old === 'object' ? old : {}));
  return versions.flatMap((v) => {
    const was = Object.hasOwn(known, v.version) ? known[v.version] : undefined;
    return was !== undefined && was !== v.sha256 ? [{ version: v.version, was, now: v.sha256 }] : [];
  });
}

/**
 * Remembers the SHA-256 a version label was verified with (after its bytes matched), keeping the
 * first one: a later manifest that re-points the label is refused by {@link changedVersions}.
 */
export async function rememberVersion(model: string, version: string, sha256: string, store: ReleaseStore = defaultReleaseStore()): Promise<void> {
  await store.update<Record<string, string>>(`versions:${model}`, (old) => {
    const known: Record<string, string> = old && typeof old === 'object' ? { ...old } : {};
    if (!Object.hasOwn(known, version)) known[version] = sha256;
    // Bounded: the 256 most recently added labels are enough to catch a re-pointed one.
    return Object.fromEntries(Object.entries(known).slice(-256));
  });
}
