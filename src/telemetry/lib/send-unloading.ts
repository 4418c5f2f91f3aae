import { attempt } from './drain.js';
import { enforceCap } from './enforce-cap.js';
import type { ExporterState } from './exporter-state.js';
import { utf8Length } from './utf8-length.js';
import type { OutboxEntry } from '../types.js';

/**
 * The page is going away: start every due send now with keepalive (within the keepalive budget)
 * while the fresh batches are persisted in parallel. OTLP JSON always needs a CORS preflight
 * cross-origin; old Chromium (crbug.com/810466) and some TV builds reject keepalive + preflight with
 * a TypeError: that counts as a network error and the batch simply waits in the outbox for the next page.
 */
export async function sendUnloading(state: ExporterState, fresh: OutboxEntry[]): Promise<void> {
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
