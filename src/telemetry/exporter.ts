/**
 * Delivers OTLP/HTTP JSON bodies so that none is lost: every body is written to the outbox before
 * it is sent and deleted only after a 2xx. Retryable failures (429/502/503/504, network errors)
 * wait with backoff (Retry-After honoured) and block later batches; other statuses drop the batch
 * with a counted reason; the outbox is capped (oldest dropped, counted). Each body carries a
 * unique `x-webq8-batch` header so a collector can drop the duplicates that at-least-once
 * delivery produces (a keepalive send during unload whose response never arrives is sent again on
 * the next load). Never throws or rejects.
 *
 * Below `createExporter`, the delivery steps are functions over one {@link ExporterState}: `deliver`
 * (one attempt), `drain` (the single-flight loop and its retry timer), `enforceCap`, `sendUnloading`.
 */
import { DEFAULT_MAX_BODY_BYTES } from './encode.js';
import { defaultOutboxStore, outboxId } from './outbox.js';
import { outcomeOf, parseRetryAfter, retryDelay, type BackoffOptions } from './retry.js';
import type { Clock, ExportStats, FetchLike, OutboxEntry, OutboxStore } from './types.js';
import { countDrop, emptyExportStats } from './lib/export-counters.js';
import { systemClock } from './lib/system-clock.js';
import { utf8Length } from './lib/utf8-length.js';

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

/** Settings resolved from `ExporterOptions`, plus what changes while batches are delivered. */
interface ExporterState {
  readonly url: string;
  readonly headers: Record<string, string> | undefined;
  /** Undefined: `globalThis.fetch`, looked up at each request (a page may replace it later). */
  readonly fetch: FetchLike | undefined;
  readonly backoff: BackoffOptions | undefined;
  readonly store: OutboxStore;
  readonly clock: Clock;
  readonly random: () => number;
  /** Outbox cap in batches (≥ 1). */
  readonly cap: number;
  /** Body bytes one unload may send with keepalive. */
  readonly keepaliveBudget: number;
  readonly counters: ExportStats;
  /** Ids with a request in flight: visibilitychange→hidden and pagehide often fire back to back. */
  readonly inFlight: Set<string>;
  /** Handle of the retry timer while one is set. */
  timer: unknown;
  /** The drain under way; there is at most one. */
  draining: Promise<void> | undefined;
  /** A drain was asked for while one was under way: it goes round once more. */
  again: boolean;
  /** Set by dispose: no more timers. */
  disposed: boolean;
}

/** Header carrying the outbox id of a body (an idempotency key). */
export const BATCH_HEADER = 'x-webq8-batch';

/** POSTs one outbox entry as OTLP/HTTP JSON. Rejects when the runtime has no fetch at all. */
function postBatch(state: ExporterState, entry: OutboxEntry, keepalive: boolean): ReturnType<FetchLike> {
  const doFetch = state.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (!doFetch) return Promise.reject(new Error('fetch is not available'));
  const headers = { ...state.headers, 'content-type': 'application/json', [BATCH_HEADER]: entry.id };
  return doFetch(state.url, { method: 'POST', headers, body: entry.body, keepalive });
}

/**
 * One attempt at one batch. Delivered (2xx) or refused for good (any other non-retryable status):
 * removed from the outbox and counted. Retryable (429/502/503/504, network error): kept with a later
 * `notBefore` and one more attempt, and the delay is returned so the caller can set the retry timer.
 */
async function deliver(state: ExporterState, entry: OutboxEntry, keepalive: boolean): Promise<number | undefined> {
  const { status, retryAfter } = await request(state, entry, keepalive);
  const outcome = outcomeOf(status);
  if (outcome === 'retry') {
    const now = state.clock.now();
    const delay = retryDelay(entry.attempts + 1, parseRetryAfter(retryAfter, now), state.random, state.backoff);
    await state.store.put({ ...entry, attempts: entry.attempts + 1, notBefore: now + delay });
    state.counters.retries++;
    return delay;
  }
  await state.store.delete([entry.id]);
  if (outcome === 'sent') state.counters.sent++;
  else countDrop(state.counters, `http-${status}`);
  return undefined;
}

/** The response status (0: no response) and its Retry-After; the id is marked in flight meanwhile. */
async function request(state: ExporterState, entry: OutboxEntry, keepalive: boolean): Promise<{ status: number; retryAfter: string | null }> {
  state.inFlight.add(entry.id);
  try {
    const res = await postBatch(state, entry, keepalive);
    // Readable cross-origin only if the collector sends Access-Control-Expose-Headers: Retry-After.
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 0, retryAfter: null }; // network error, offline, CORS refusal: keep and retry
  } finally {
    state.inFlight.delete(entry.id);
  }
}

// Draining the outbox: one drain at a time, oldest batch first, stopping at the first batch that is
// in flight, not yet due, or has just failed retryably (later batches wait behind it); a timer
// drains again when the waiting batch is due.

/** Delivers what is due. Single flight: a call during a drain joins it and makes it go round once more. */
function drain(state: ExporterState): Promise<void> {
  // The running drain may have listed the outbox before the caller's batch was written.
  if (state.draining) {
    state.again = true;
    return state.draining;
  }
  state.draining = drainLoop(state);
  return state.draining;
}

async function drainLoop(state: ExporterState): Promise<void> {
  do {
    state.again = false;
    try {
      await drainOnce(state);
    } catch {
      /* store unavailable (private mode, quota): try again next time */
    }
  } while (state.again);
  // Cleared here, not in a .finally(): that runs a tick later, and a request arriving in
  // between would be folded into a drain that has already finished.
  state.draining = undefined;
}

async function drainOnce(state: ExporterState): Promise<void> {
  const { clock, store } = state;
  for (const entry of await store.list()) {
    if (state.inFlight.has(entry.id)) break;
    if (entry.notBefore > clock.now()) {
      scheduleDrain(state, entry.notBefore - clock.now());
      break;
    }
    if (!(await attempt(state, entry, false))) break;
  }
  state.counters.pending = (await store.list()).length;
}

/** One delivery attempt; on a retryable failure sets the retry timer and returns false (later batches wait). */
async function attempt(state: ExporterState, entry: OutboxEntry, keepalive: boolean): Promise<boolean> {
  const delay = await deliver(state, entry, keepalive);
  if (delay === undefined) return true;
  scheduleDrain(state, delay);
  return false;
}

/** (Re)sets the one retry timer to drain in `delay` ms, unless disposed. */
function scheduleDrain(state: ExporterState, delay: number): void {
  if (state.disposed) return;
  if (state.timer !== undefined) state.clock.clearTimeout(state.timer);
  state.timer = state.clock.setTimeout(() => {
    state.timer = undefined;
    void drain(state);
  }, delay);
}

/** Cancels the retry timer for good (dispose); a drain under way finishes but sets no new timer. */
function stopDraining(state: ExporterState): void {
  state.disposed = true;
  if (state.timer !== undefined) state.clock.clearTimeout(state.timer);
  state.timer = undefined;
}

/** Drops the oldest batches beyond the outbox cap (counted as 'outbox-full') and updates `pending`. */
async function enforceCap(state: ExporterState): Promise<void> {
  const all = await state.store.list();
  if (all.length > state.cap) {
    const excess = all.slice(0, all.length - state.cap);
    await state.store.delete(excess.map((e) => e.id));
    countDrop(state.counters, 'outbox-full', excess.length);
  }
  state.counters.pending = Math.min(all.length, state.cap);
}

/**
 * The page is going away: start every due send now with keepalive (within the keepalive budget)
 * while the fresh batches are persisted in parallel. OTLP JSON always needs a CORS preflight
 * cross-origin; old Chromium (crbug.com/810466) and some TV builds reject keepalive + preflight with
 * a TypeError: that counts as a network error and the batch simply waits in the outbox for the next page.
 */
async function sendUnloading(state: ExporterState, fresh: OutboxEntry[]): Promise<void> {
  let budget = state.keepaliveBudget;
  const sends: Promise<unknown>[] = [];
  const fire = (e: OutboxEntry): void => {
    const size = utf8Length(e.body);
    if (size > budget || e.notBefore > state.clock.now() || state.inFlight.has(e.id)) return;
    budget -= size;
    sends.push(attempt(state, e, true).catch(() => undefined));
  };
  const persisted = Promise.all(fresh.map((e) => state.store.put(e))).catch(() => undefined);
  // Fresh batches first: they exist nowhere else if IndexedDB does not finish before unload.
  fresh.forEach(fire);
  await persisted;
  const ids = new Set(fresh.map((e) => e.id));
  for (const e of await state.store.list()) if (!ids.has(e.id)) fire(e);
  await Promise.all(sends);
  await enforceCap(state);
}
