/** Turning what was recorded into OTLP bodies and handing them to the exporter: now, and every interval. */
import { encodeMetrics } from '../encode.js';
import { sampleGauges } from './gauges.js';
import type { TelemetryState } from './telemetry-state.js';

/** Encodes everything recorded since the previous call ([] when nothing was). */
export function collectBodies(state: TelemetryState): string[] {
  const collected = state.recorder.collect();
  // Gauges ride along with activity: an idle page sends nothing.
  const active = collected.histograms.length > 0 || collected.errors.length > 0;
  return encodeMetrics(collected, state.encodeOptions, active ? sampleGauges(state.gaugeSources) : []);
}

/**
 * Exports what was recorded (with keepalive when the page is unloading); with nothing new, retries
 * the outbox instead. Does nothing without an exporter. Never rejects.
 */
export async function flush(state: TelemetryState, unloading = false): Promise<void> {
  const exporter = state.exporter;
  if (!exporter) return;
  try {
    const bodies = collectBodies(state);
    if (bodies.length > 0 || unloading) await exporter.send(bodies, unloading);
    else await exporter.drain();
  } catch {
    /* never rejects */
  }
}

/** Flushes every `intervalMs` until dispose; the next interval starts when the flush has finished. */
export function flushEvery(state: TelemetryState): void {
  state.timer = state.clock.setTimeout(() => {
    void flush(state).finally(() => {
      if (!state.disposed) flushEvery(state);
    });
  }, state.intervalMs);
}
