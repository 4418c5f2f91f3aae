/**
 * Draining the outbox: one drain at a time, oldest batch first, stopping at the first batch that is
 * in flight, not yet due, or has just failed retryably (later batches wait behind it); a timer
 * drains again when the waiting batch is due.
 */
import { deliver } from './deliver.js';
import type { ExporterState } from './exporter-state.js';
import type { OutboxEntry } from '../types.js';

/** Delivers what is due. Single flight: a call during a drain joins it and makes it go round once more. */
export function drain(state: ExporterState): Promise<void> {
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
export async function attempt(state: ExporterState, entry: OutboxEntry, keepalive: boolean): Promise<boolean> {
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
export function stopDraining(state: ExporterState): void {
  state.disposed = true;
  if (state.timer !== undefined) state.clock.clearTimeout(state.timer);
  state.timer = undefined;
}
