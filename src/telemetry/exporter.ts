/**
 * Delivers OTLP/HTTP JSON bodies so that none is lost: every body is written to the outbox before
 * it is sent and deleted only after a 2xx. Retryable failures (429/502/503/504, network errors)
 * wait with backoff (Retry-After honoured) and block later batches; other statuses drop the batch
 * with a counted reason; the outbox is capped (oldest dropped, counted). Each body carries a
 * unique `x-webq8-batch` header so a collector can drop the duplicates that at-least-once
 * delivery produces (a keepalive send during unload whose response never arrives is sent again on
 * the next load). Never throws or rejects.
 *
 * The delivery steps live in `lib/` as functions over one {@link ExporterState}: `deliver` (one
 * attempt), `drain` (the single-flight loop and its retry timer), `enforceCap`, `sendUnloading`.
 */
import { DEFAULT_MAX_BODY_BYTES } from './encode.js';
import { defaultOutboxStore, outboxId } from './outbox.js';
import type { BackoffOptions } from './retry.js';
import type { Clock, ExportStats, FetchLike, OutboxEntry, OutboxStore } from './types.js';
import { drain, stopDraining } from './lib/drain.js';
import { enforceCap } from './lib/enforce-cap.js';
import { emptyExportStats } from './lib/export-counters.js';
import type { ExporterState } from './lib/exporter-state.js';
import { sendUnloading } from './lib/send-unloading.js';
import { systemClock } from './lib/system-clock.js';

export { BATCH_HEADER } from './lib/post-batch.js';
export { systemClock };

/** Options of {@link createExporter}. */
export interface ExporterOptions {
  /** Full URL of the OTLP metrics endpoint (…/v1/metrics). */
  url: string;
  headers?: Record<string, string>;
  /** Outbox cap in batches; default 200. */
  maxOutboxEntries?: number;
  /** Total body bytes sent with keepalive during one unload; default 60 KiB. */
  keepaliveBudget?: number;
  backoff?: BackoffOptions;
  fetch?: FetchLike;
  clock?: Clock;
  random?: () => number;
}

/** Sends bodies; see {@link createExporter}. */
export interface Exporter {
  /** Persists bodies in the outbox, then delivers what is due. `unloading` sends with keepalive at once. */
  send(bodies: string[], unloading?: boolean): Promise<void>;
  /** Persists bodies in the outbox without sending (a checkpoint; the next drain delivers them). */
  persist(bodies: string[]): Promise<void>;
  /** Delivers what is due from the outbox (previous pages' leftovers, backed-off batches). */
  drain(): Promise<void>;
  /** Counters. */
  stats(): ExportStats;
  /** Cancels the retry timer. */
  dispose(): void;
}

/** Creates an exporter. `store` defaults lazily to IndexedDB (browser) or memory (Node). */
export function createExporter(options: ExporterOptions, store: OutboxStore = defaultOutboxStore()): Exporter {
  const state = initialState(options, store);
  const entry = (body: string): OutboxEntry => ({ id: outboxId(state.clock.now(), state.random), body, attempts: 0, notBefore: 0 });
  return {
    async send(bodies, unloading = false) {
      try {
        const fresh = bodies.map(entry);
        if (unloading) return await sendUnloading(state, fresh);
        for (const e of fresh) await store.put(e);
        await enforceCap(state);
        await drain(state);
      } catch {
        /* never throws into the caller */
      }
    },
    async persist(bodies) {
      try {
        for (const body of bodies) await store.put(entry(body));
        await enforceCap(state);
      } catch {
        /* never throws into the caller */
      }
    },
    drain: () => drain(state),
    stats: () => ({ ...state.counters, dropped: { ...state.counters.dropped } }),
    dispose: () => stopDraining(state),
  };
}

function initialState(options: ExporterOptions, store: OutboxStore): ExporterState {
  return {
    url: options.url,
    headers: options.headers,
    fetch: options.fetch,
    backoff: options.backoff,
    store,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    cap: Math.max(1, options.maxOutboxEntries ?? 200),
    keepaliveBudget: options.keepaliveBudget ?? DEFAULT_MAX_BODY_BYTES,
    counters: emptyExportStats(),
    inFlight: new Set(),
    timer: undefined,
    draining: undefined,
    again: false,
    disposed: false,
  };
}
