/**
 * Delivers OTLP/HTTP JSON bodies so that none is lost: every body is written to the outbox before
 * it is sent and deleted only after a 2xx. Retryable failures (429/502/503/504, network errors)
 * wait with backoff (Retry-After honoured) and block later batches; other statuses drop the batch
 * with a counted reason; the outbox is capped (oldest dropped, counted). Each body carries a
 * unique `x-webq8-batch` header so a collector can drop the duplicates that at-least-once
 * delivery produces (a keepalive send during unload whose response never arrives is sent again on
 * the next load). Never throws or rejects.
 */
import { DEFAULT_MAX_BODY_BYTES } from './encode.js';
import { defaultOutboxStore, outboxId } from './outbox.js';
import { outcomeOf, parseRetryAfter, retryDelay, type BackoffOptions } from './retry.js';
import type { Clock, ExportStats, FetchLike, OutboxEntry, OutboxStore } from './types.js';

/** Header carrying the outbox id of a body (an idempotency key). */
export const BATCH_HEADER = 'x-webq8-batch';

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

/** The default clock: Date.now and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

const bytes = (s: string): number => new TextEncoder().encode(s).byteLength;

/** Creates an exporter. `store` defaults lazily to IndexedDB (browser) or memory (Node). */
export function createExporter(options: ExporterOptions, store: OutboxStore = defaultOutboxStore()): Exporter {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const cap = Math.max(1, options.maxOutboxEntries ?? 200);
  const keepaliveBudget = options.keepaliveBudget ?? DEFAULT_MAX_BODY_BYTES;
  const counters: ExportStats = { sent: 0, retries: 0, pending: 0, dropped: {} };
  let timer: unknown;
  let draining: Promise<void> | undefined;
  let again = false;
  let disposed = false;
  // Ids with a request in flight: visibilitychange→hidden and pagehide often fire back to back.
  const inFlight = new Set<string>();

  const drop = (reason: string, n = 1): void => {
    counters.dropped[reason] = (counters.dropped[reason] ?? 0) + n;
  };

  function post(entry: OutboxEntry, keepalive: boolean): ReturnType<FetchLike> {
    const doFetch = options.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (!doFetch) return Promise.reject(new Error('fetch is not available'));
    const headers = { ...options.headers, 'content-type': 'application/json', [BATCH_HEADER]: entry.id };
    return doFetch(options.url, { method: 'POST', headers, body: entry.body, keepalive });
  }

  /** One attempt; returns false when later batches should wait (retryable failure). */
  async function attempt(entry: OutboxEntry, keepalive: boolean): Promise<boolean> {
    let status = 0;
    let retryAfter: string | null = null;
    inFlight.add(entry.id);
    try {
      const res = await post(entry, keepalive);
      status = res.status;
      // Readable cross-origin only if the collector sends Access-Control-Expose-Headers: Retry-After.
      retryAfter = res.headers.get('retry-after');
    } catch {
      status = 0; // network error, offline, CORS refusal: keep and retry
    } finally {
      inFlight.delete(entry.id);
    }
    const outcome = outcomeOf(status);
    if (outcome === 'retry') {
      const now = clock.now();
      const delay = retryDelay(entry.attempts + 1, parseRetryAfter(retryAfter, now), random, options.backoff);
      await store.put({ ...entry, attempts: entry.attempts + 1, notBefore: now + delay });
      counters.retries++;
      schedule(delay);
      return false;
    }
    await store.delete([entry.id]);
    if (outcome === 'sent') counters.sent++;
    else drop(`http-${status}`);
    return true;
  }

  function schedule(delay: number): void {
    if (disposed) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = undefined;
      void drain();
    }, delay);
  }

  async function enforceCap(): Promise<void> {
    const all = await store.list();
    if (all.length > cap) {
      const excess = all.slice(0, all.length - cap);
      await store.delete(excess.map((e) => e.id));
      drop('outbox-full', excess.length);
    }
    counters.pending = Math.min(all.length, cap);
  }

  async function drainOnce(): Promise<void> {
    const entries = await store.list();
    for (const entry of entries) {
      if (inFlight.has(entry.id)) break;
      if (entry.notBefore > clock.now()) {
        schedule(entry.notBefore - clock.now());
        break;
      }
      if (!(await attempt(entry, false))) break;
    }
    counters.pending = (await store.list()).length;
  }

  function drain(): Promise<void> {
    // Single flight; a request that arrives mid-drain makes it go round once more (it may have
    // listed the outbox before the new batch was written).
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      do {
        again = false;
        try {
          await drainOnce();
        } catch {
          /* store unavailable (private mode, quota): try again next time */
        }
      } while (again);
      // Cleared here, not in a .finally(): that runs a tick later, and a request arriving in
      // between would be folded into a drain that has already finished.
      draining = undefined;
    })();
    return draining;
  }

  /**
   * Page is going away: start every due send now (within the keepalive budget), persist in parallel.
   * OTLP JSON always needs a CORS preflight cross-origin; old Chromium (crbug.com/810466) and some
   * TV builds reject keepalive + preflight with a TypeError: that counts as a network error and the
   * batch simply waits in the outbox for the next page.
   */
  async function sendUnloading(fresh: OutboxEntry[]): Promise<void> {
    let budget = keepaliveBudget;
    const sends: Promise<unknown>[] = [];
    const fire = (e: OutboxEntry): void => {
      const size = bytes(e.body);
      if (size > budget || e.notBefore > clock.now() || inFlight.has(e.id)) return;
      budget -= size;
      sends.push(attempt(e, true).catch(() => undefined));
    };
    const persisted = Promise.all(fresh.map((e) => store.put(e))).catch(() => undefined);
    // Fresh batches first: they exist nowhere else if IndexedDB does not finish before unload.
    fresh.forEach(fire);
    await persisted;
    const ids = new Set(fresh.map((e) => e.id));
    for (const e of await store.list()) if (!ids.has(e.id)) fire(e);
    await Promise.all(sends);
    await enforceCap();
  }

  return {
    async send(bodies, unloading = false) {
      try {
        const fresh = bodies.map((body) => ({ id: outboxId(clock.now(), random), body, attempts: 0, notBefore: 0 }));
        if (unloading) return await sendUnloading(fresh);
        for (const e of fresh) await store.put(e);
        await enforceCap();
        await drain();
      } catch {
        /* never throws into the caller */
      }
    },
    async persist(bodies) {
      try {
        for (const body of bodies) await store.put({ id: outboxId(clock.now(), random), body, attempts: 0, notBefore: 0 });
        await enforceCap();
      } catch {
        /* never throws into the caller */
      }
    },
    drain,
    stats: () => ({ ...counters, dropped: { ...counters.dropped } }),
    dispose() {
      disposed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
