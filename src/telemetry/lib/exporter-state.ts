/**
 * The state of one exporter (see `createExporter`). The delivery functions beside this file
 * (`deliver`, `drain`, `enforceCap`, `sendUnloading`) read and change it; nothing else does.
 */
import type { BackoffOptions } from '../retry.js';
import type { Clock, ExportStats, FetchLike, OutboxStore } from '../types.js';

/** Settings resolved from `ExporterOptions`, plus what changes while batches are delivered. */
export interface ExporterState {
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
