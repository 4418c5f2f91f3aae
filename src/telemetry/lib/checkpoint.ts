import { collectBodies } from './flush.js';
import type { TelemetryState } from './telemetry-state.js';

/**
 * Checkpoints: recorded samples are moved into the persistent outbox `checkpointMs` after the first
 * one since the last checkpoint (see `TelemetryOptions.checkpointMs`: IndexedDB writes started
 * during unload often never commit); the network send still happens every interval.
 */
export function scheduleCheckpoint(state: TelemetryState): void {
  if (!state.exporter || state.checkpointTimer !== undefined || state.disposed) return;
  state.checkpointTimer = state.clock.setTimeout(() => {
    state.checkpointTimer = undefined;
    try {
      const bodies = collectBodies(state);
      if (bodies.length > 0) void state.exporter?.persist(bodies);
    } catch {
      /* never throws */
    }
  }, state.checkpointMs);
}
