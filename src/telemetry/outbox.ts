/**
 * Outbox stores for unsent OTLP bodies: IndexedDB (through idb-keyval, in its own database so it
 * never races the model cache's schema) in browsers, memory elsewhere. Like idb-keyval, the
 * exporter takes the store as its last argument with a lazy default ({@link defaultOutboxStore}).
 */
import { createStore, delMany, set, values, type UseStore } from 'idb-keyval';
import type { OutboxEntry, OutboxStore } from './types.js';

const byId = (a: OutboxEntry, b: OutboxEntry): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** An outbox in memory (Node, tests, or browsers without IndexedDB). */
export function memoryOutboxStore(): OutboxStore {
  const map = new Map<string, OutboxEntry>();
  return {
    async put(entry) {
      map.set(entry.id, { ...entry });
    },
    async delete(ids) {
      for (const id of ids) map.delete(id);
    },
    async list() {
      return [...map.values()].map((e) => ({ ...e })).sort(byId);
    },
  };
}

/**
 * An outbox in IndexedDB database `dbName`, object store `storeName`. The database is opened on
 * first use, not here (idb-keyval's `createStore` opens eagerly), so creating it is free.
 */
export function idbOutboxStore(dbName = 'webq8-telemetry', storeName = 'outbox'): OutboxStore {
  let store: UseStore | undefined;
  const use = (): UseStore => (store ??= createStore(dbName, storeName));
  return {
    put: (entry) => set(entry.id, entry, use()),
    delete: (ids) => delMany(ids, use()),
    async list() {
      return (await values<OutboxEntry>(use())).sort(byId);
    },
  };
}

let defaultStore: OutboxStore | undefined;

/** The shared default: IndexedDB where it exists, else memory. Created on first call. */
export function defaultOutboxStore(): OutboxStore {
  return (defaultStore ??= typeof indexedDB !== 'undefined' ? idbOutboxStore() : memoryOutboxStore());
}

let seq = 0;

/** A unique, time-ordered outbox id (sorts by creation time, then by creation order). */
export function outboxId(nowMs: number, random: () => number): string {
  seq = (seq + 1) % 36 ** 5;
  const rand = Math.floor(random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `${Math.floor(nowMs).toString(36).padStart(10, '0')}-${seq.toString(36).padStart(5, '0')}-${rand}`;
}
