import { countDrop } from './export-counters.js';
import type { ExporterState } from './exporter-state.js';

/** Drops the oldest batches beyond the outbox cap (counted as 'outbox-full') and updates `pending`. */
export async function enforceCap(state: ExporterState): Promise<void> {
  const all = await state.store.list();
  if (all.length > state.cap) {
    const excess = all.slice(0, all.length - state.cap);
    await state.store.delete(excess.map((e) => e.id));
    countDrop(state.counters, 'outbox-full', excess.length);
  }
  state.counters.pending = Math.min(all.length, state.cap);
}
