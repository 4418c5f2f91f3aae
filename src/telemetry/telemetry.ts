/**
 * `createTelemetry`: the one object the runtime holds. It records latencies and errors locally
 * (always; `stats()` works without an endpoint) and, only when an endpoint is configured, exports
 * them as OTLP/HTTP JSON every interval, when the page is hidden or unloaded, and on dispose.
 */
import { encodeMetrics, DEFAULT_MAX_BODY_BYTES } from './encode.js';
import { createExporter, systemClock, type Exporter } from './exporter.js';
import { WIRE_KEYS } from './otlp-point.js';
import { onHide, onOnline, type Unsubscribe } from './page-events.js';
import { createRecorder } from './recorder.js';
import type { ExportStats, LatencyMetric, OutboxStore, ResourceAttributes, SeriesAttributes, StatsFilter, TelemetryOptions, TelemetryStats } from './types.js';

/** What the runtime calls; see {@link createTelemetry}. Every method is safe to call after dispose. */
export interface Telemetry {
  /** Records one latency sample in ms (≈ 0.1 µs; never throws, never blocks). */
  record(metric: LatencyMetric, ms: number, attrs?: SeriesAttributes): void;
  /** Counts one error by its stable code (e.g. a `WebQ8Error`'s `code`). */
  recordError(code: string, attrs?: SeriesAttributes): void;
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
}

/** `endpoint` → the metrics URL: `/v1/metrics` is appended unless the URL already ends with it. */
export function metricsUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return /\/v1\/metrics$/.test(trimmed) ? trimmed : `${trimmed}/v1/metrics`;
}

function pageOrigin(): string | undefined {
  try {
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    return origin && origin !== 'null' ? origin : undefined;
  } catch {
    return undefined;
  }
}

function resourceAttributes(r: ResourceAttributes, sampleRate: number): Record<string, string | number> {
  const out: Record<string, string | number> = { 'service.name': 'webq8' };
  const withOrigin: ResourceAttributes = { pageOrigin: pageOrigin(), ...r };
  for (const f of ['webq8Version', 'pageOrigin', 'adapterVendor', 'adapterArchitecture'] as const) {
    const v = withOrigin[f];
    if (typeof v === 'string' && v !== '') out[WIRE_KEYS[f]] = v;
  }
  // Lets a collector scale counts back up when sampling is on.
  if (sampleRate < 1) out[WIRE_KEYS.sampleRate] = sampleRate;
  return out;
}

const NO_EXPORT: ExportStats = { sent: 0, retries: 0, pending: 0, dropped: {} };

/**
 * Creates the telemetry of one runtime. Without `options.endpoint` nothing leaves the page.
 * `store` (the outbox for unsent batches) defaults lazily to IndexedDB in browsers, memory in Node.
 */
export function createTelemetry(options: TelemetryOptions = {}, store?: OutboxStore): Telemetry {
  const clock = options.clock ?? systemClock;
  const sampleRate = Math.min(1, Math.max(0, options.sampleRate ?? 1));
  const recorder = createRecorder({
    sampleRate,
    histogram: options.maxBuckets ? { maxBuckets: options.maxBuckets } : {},
    now: () => clock.now(),
    random: options.random,
  });
  const intervalMs = Math.max(1000, options.intervalMs ?? 15_000);
  let resourceSpec: ResourceAttributes = options.resource ?? {};
  const resource = resourceAttributes(resourceSpec, sampleRate);
  const encodeOptions = {
    resource,
    scopeVersion: options.resource?.webq8Version,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  let exporter: Exporter | undefined;
  const unsubscribe: Unsubscribe[] = [];
  let timer: unknown;
  let disposed = false;

  async function flush(unloading = false): Promise<void> {
    if (!exporter) return;
    try {
      const bodies = encodeMetrics(recorder.collect(), encodeOptions);
      if (bodies.length > 0 || unloading) await exporter.send(bodies, unloading);
      else await exporter.drain();
    } catch {
      /* never rejects */
    }
  }

  function tick(): void {
    timer = clock.setTimeout(() => {
      void flush().finally(() => {
        if (!disposed) tick();
      });
    }, intervalMs);
  }

  if (options.endpoint) {
    try {
      exporter = createExporter(
        {
          url: metricsUrl(options.endpoint),
          headers: options.headers,
          maxOutboxEntries: options.maxOutboxEntries,
          keepaliveBudget: encodeOptions.maxBodyBytes,
          fetch: options.fetch,
          clock,
          random: options.random,
        },
        store,
      );
      if (options.flushOnHide !== false) unsubscribe.push(onHide(() => void flush(true)));
      unsubscribe.push(onOnline(() => void exporter?.drain()));
      void exporter.drain(); // what earlier pages left behind
      tick();
    } catch {
      exporter = undefined;
    }
  }

  // Checkpoints: recorded samples are moved into the persistent outbox shortly after they are
  // recorded (see TelemetryOptions.checkpointMs); the network send still happens every interval.
  const checkpointMs = Math.max(0, options.checkpointMs ?? 1000);
  let checkpointTimer: unknown;
  function scheduleCheckpoint(): void {
    if (!exporter || checkpointTimer !== undefined || disposed) return;
    checkpointTimer = clock.setTimeout(() => {
      checkpointTimer = undefined;
      try {
        const bodies = encodeMetrics(recorder.collect(), encodeOptions);
        if (bodies.length > 0) void exporter?.persist(bodies);
      } catch {
        /* never throws */
      }
    }, checkpointMs);
  }

  return {
    record(metric, ms, attrs) {
      recorder.record(metric, ms, attrs);
      if (checkpointTimer === undefined) scheduleCheckpoint();
    },
    recordError(code, attrs) {
      recorder.recordError(code, attrs);
      if (checkpointTimer === undefined) scheduleCheckpoint();
    },
    stats: recorder.stats,
    exportStats: () => exporter?.stats() ?? { ...NO_EXPORT, dropped: {} },
    flush: () => flush(false),
    setResource(r) {
      try {
        resourceSpec = { ...resourceSpec, ...r };
        encodeOptions.resource = resourceAttributes(resourceSpec, sampleRate);
      } catch {
        /* never throws */
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (checkpointTimer !== undefined) clock.clearTimeout(checkpointTimer);
      for (const off of unsubscribe) off();
      await flush(false);
      exporter?.dispose();
    },
  };
}
