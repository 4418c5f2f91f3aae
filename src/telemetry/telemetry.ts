/**
 * `createTelemetry`: the one object the runtime holds. It records latencies and errors locally
 * (always; `stats()` works without an endpoint) and, only when an endpoint is configured, exports
 * them as OTLP/HTTP JSON every interval, when the page is hidden or unloaded, and on dispose.
 *
 * The moving parts live in `lib/` as functions over one {@link TelemetryState}: `flush` /
 * `flushEvery` (export now, every interval) and `scheduleCheckpoint` (samples put at rest early).
 */
import { DEFAULT_MAX_BODY_BYTES } from './encode.js';
import { createExporter } from './exporter.js';
import { onHide, onOnline } from './page-events.js';
import { createRecorder } from './recorder.js';
import type { VerifyIncident } from '../verify-types.js';
import type { ExportStats, LatencyMetric, OutboxStore, ResourceAttributes, SeriesAttributes, StatsFilter, TelemetryOptions, TelemetryStats } from './types.js';
import { scheduleCheckpoint } from './lib/checkpoint.js';
import { emptyExportStats } from './lib/export-counters.js';
import { flush, flushEvery } from './lib/flush.js';
import { incidentsUrl, postIncident } from './lib/incidents.js';
import { metricsUrl } from './lib/metrics-url.js';
import { resourceAttributes } from './lib/resource-attributes.js';
import { systemClock } from './lib/system-clock.js';
import type { GaugeSample } from './lib/gauges.js';
import type { TelemetryState } from './lib/telemetry-state.js';

export type { GaugeSample };

export { metricsUrl };

/** What the runtime calls; see {@link createTelemetry}. Every method is safe to call after dispose. */
export interface Telemetry {
  /** Records one latency sample in ms (≈ 0.1 µs; never throws, never blocks). */
  record(metric: LatencyMetric, ms: number, attrs?: SeriesAttributes): void;
  /** Counts one error by its stable code (e.g. a `WebQ8Error`'s `code`). */
  recordError(code: string, attrs?: SeriesAttributes): void;
  /** Adds `n` to counter `metric` (exported as an OTLP monotonic sum); `extra` adds wire attributes. */
  count(metric: string, n: number, attrs?: SeriesAttributes, extra?: Record<string, string>): void;
  /** Local percentiles (ms) and error counts over the matching series, since creation. */
  stats(filter?: StatsFilter): TelemetryStats;
  /** Exporter counters (sent, retries, pending, dropped by reason); all zero without an endpoint. */
  exportStats(): ExportStats;
  /** Exports everything recorded so far now (and retries the outbox). Never rejects. */
  flush(): Promise<void>;
  /** Stops timers and listeners after a final flush. Never rejects. */
  dispose(): Promise<void>;
  /** Adds resource attributes learnt later (the adapter is known only after the first load). */
  setResource(resource: ResourceAttributes): void;
  /** Registers gauges sampled at each export (see lib/gauges.ts); returns the unregister function. */
  addGauges(source: () => GaugeSample[]): () => void;
  /** Reports an incident to the endpoint's collector (lib/incidents.ts); does nothing without an endpoint. Never rejects. */
  incident(incident: VerifyIncident): Promise<void>;
}

/**
 * Creates the telemetry of one runtime. Without `options.endpoint` nothing leaves the page.
 * `store` (the outbox for unsent batches) defaults lazily to IndexedDB in browsers, memory in Node.
 */
export function createTelemetry(options: TelemetryOptions = {}, store?: OutboxStore): Telemetry {
  const state = initialState(options);
  if (options.endpoint) startExport(state, options.endpoint, options, store);
  return {
    record(metric, ms, attrs) {
      state.recorder.record(metric, ms, attrs);
      scheduleCheckpoint(state);
    },
    recordError(code, attrs) {
      state.recorder.recordError(code, attrs);
      scheduleCheckpoint(state);
    },
    count(metric, n, attrs, extra) {
      state.recorder.count(metric, n, attrs, extra);
      scheduleCheckpoint(state);
    },
    stats: state.recorder.stats,
    exportStats: () => state.exporter?.stats() ?? emptyExportStats(),
    flush: () => flush(state, false),
    setResource: (r) => setResource(state, r),
    addGauges(source) {
      state.gaugeSources.add(source);
      return () => void state.gaugeSources.delete(source);
    },
    dispose: () => dispose(state),
    incident: async (incident) => {
      if (options.endpoint && !state.disposed) await postIncident(incidentsUrl(options.endpoint), incident, state.resource, options);
    },
  };
}

function initialState(options: TelemetryOptions): TelemetryState {
  const clock = options.clock ?? systemClock;
  const sampleRate = Math.min(1, Math.max(0, options.sampleRate ?? 1));
  const resource = options.resource ?? {};
  const recorder = createRecorder({
    sampleRate,
    histogram: options.maxBuckets ? { maxBuckets: options.maxBuckets } : {},
    now: () => clock.now(),
    random: options.random,
  });
  return {
    clock,
    recorder,
    sampleRate,
    intervalMs: Math.max(1000, options.intervalMs ?? 15_000),
    checkpointMs: Math.max(0, options.checkpointMs ?? 1000),
    resource,
    encodeOptions: {
      resource: resourceAttributes(resource, sampleRate),
      scopeVersion: resource.webq8Version,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    },
    exporter: undefined,
    unsubscribe: [],
    timer: undefined,
    checkpointTimer: undefined,
    disposed: false,
    gaugeSources: new Set(),
  };
}

/** Creates the exporter, delivers what earlier pages left behind, and starts the interval and page hooks. */
function startExport(state: TelemetryState, endpoint: string, options: TelemetryOptions, store: OutboxStore | undefined): void {
  try {
    const exporter = createExporter(
      {
        url: metricsUrl(endpoint),
        headers: options.headers,
        maxOutboxEntries: options.maxOutboxEntries,
        keepaliveBudget: state.encodeOptions.maxBodyBytes,
        fetch: options.fetch,
        clock: state.clock,
        random: options.random,
      },
      store,
    );
    state.exporter = exporter;
    if (options.flushOnHide !== false) state.unsubscribe.push(onHide(() => void flush(state, true)));
    state.unsubscribe.push(onOnline(() => void state.exporter?.drain()));
    void exporter.drain();
    flushEvery(state);
  } catch {
    state.exporter = undefined;
  }
}

function setResource(state: TelemetryState, r: ResourceAttributes): void {
  try {
    state.resource = { ...state.resource, ...r };
    state.encodeOptions.resource = resourceAttributes(state.resource, state.sampleRate);
  } catch {
    /* never throws */
  }
}

async function dispose(state: TelemetryState): Promise<void> {
  if (state.disposed) return;
  state.disposed = true;
  if (state.timer !== undefined) state.clock.clearTimeout(state.timer);
  if (state.checkpointTimer !== undefined) state.clock.clearTimeout(state.checkpointTimer);
  for (const off of state.unsubscribe) off();
  await flush(state, false);
  state.exporter?.dispose();
}
