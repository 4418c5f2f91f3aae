import type { ExporterState } from './exporter-state.js';
import type { FetchLike, OutboxEntry } from '../types.js';

/** Header carrying the outbox id of a body (an idempotency key). */
export const BATCH_HEADER = 'x-webq8-batch';

/** POSTs one outbox entry as OTLP/HTTP JSON. Rejects when the runtime has no fetch at all. */
export function postBatch(state: ExporterState, entry: OutboxEntry, keepalive: boolean): ReturnType<FetchLike> {
  const doFetch = state.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (!doFetch) return Promise.reject(new Error('fetch is not available'));
  const headers = { ...state.headers, 'content-type': 'application/json', [BATCH_HEADER]: entry.id };
  return doFetch(state.url, { method: 'POST', headers, body: entry.body, keepalive });
}
