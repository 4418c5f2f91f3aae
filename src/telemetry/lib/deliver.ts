import { countDrop } from './export-counters.js';
import type { ExporterState } from './exporter-state.js';
import { postBatch } from './post-batch.js';
import { outcomeOf, parseRetryAfter, retryDelay } from '../retry.js';
import type { OutboxEntry } from '../types.js';

/**
 * One attempt at one batch. Delivered (2xx) or refused for good (any other non-retryable status):
 * removed from the outbox and counted. Retryable (429/502/503/504, network error): kept with a later
 * `notBefore` and one more attempt, and the delay is returned so the caller can set the retry timer.
 */
export async function deliver(state: ExporterState, entry: OutboxEntry, keepalive: boolean): Promise<number | undefined> {
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
