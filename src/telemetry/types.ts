/**
 * Types of webq8's on-device telemetry: options, attributes, stats, the histogram state and the
 * exporter's injectable pieces (clock, fetch, outbox store).
 *
 * Privacy: telemetry sends only latency histograms, error counts by code, and the attributes in
 * {@link SeriesAttributes} / {@link ResourceAttributes} (model identity, backend, adapter, library
 * version, page origin). The attribute set is a closed allow-list on purpose: there is no way to
 * attach inputs, outputs, URLs with query strings or other user data. Nothing is sent unless the
 * app configures an `endpoint`.
 */
import type { HistogramCounts } from '../types';

/**
 * Plain, JSON-safe state of a base-2 exponential histogram (OTLP `ExponentialHistogram` model): the
 * bucket counts a release decision reads ({@link HistogramCounts}) plus what recording needs.
 */
export interface HistogramState extends HistogramCounts {
  /** Downscale rather than hold more than this many buckets. */
  maxBuckets: number;
  sum: number;
}

/** Options of `createHistogram` (exphist.js). */
export interface HistogramOptions {
  /** Starting (finest) scale; default 6 (≤ 0.54 % relative error). */
  scale?: number;
  /** Bucket cap before downscaling; default 2048 (scale 6 holds 10 µs–60 s without downscaling). */
  maxBuckets?: number;
  /** Default 0. */
  zeroThreshold?: number;
}

/** Latency series webq8 records; `webq8.<name>.duration` on the wire, unit ms. */
export type LatencyMetric =
  /** Whole request as the caller sees it: `run()` call to result, main thread. */
  | 'run'
  | 'run.queue'
  | 'run.transfer'
  | 'run.ort'
  | 'run.kernels'
  | 'run.readback'
  /** GPU timestamp-query time; coarse: Chrome quantizes timestamps to 100 µs. */
  | 'run.gpu'
  /** `model.generate`: time to first token (prefill), as the caller sees it. */
  | 'generate.ttft'
  /** Time per output token after the first (one sample per token). */
  | 'generate.tpot'
  /** Tokens per answer (a count, not ms: exported as `webq8.generate.tokens`, unit `{token}`). */
  | 'generate.tokens'
  /** Device-busy ms per answer: the time the model ran this answer's steps (the cost proxy). */
  | 'generate.busy'
  /** Device-busy ms per 1,000 generated tokens, one sample per answer. */
  | 'generate.busy_per_1k_tokens'
  | 'load.download'
  | 'load.verify'
  | 'load.compile'
  | 'load.first_run';

/**
 * Per-series attributes (the closed allow-list; see the privacy note at the top of this file).
 * Every field is optional; absent fields are not sent.
 */
export interface SeriesAttributes {
  modelId?: string;
  modelVersion?: string;
  modelSha256?: string;
  /** 'webgpu' | 'wasm' | … */
  backend?: string;
  /** Partition plan strategy chosen for the model. */
  planStrategy?: string;
}

/** Attributes of the device/page, sent once per payload as OTLP resource attributes. */
export interface ResourceAttributes {
  webq8Version?: string;
  /** Default: `location.origin` where available. */
  pageOrigin?: string;
  /** The WebGPU adapter's vendor and architecture (set by the runtime after the first load). */
  adapterVendor?: string;
  adapterArchitecture?: string;
  /** Browser name and major version (`'Chrome 156'`); default: read from `navigator.userAgentData` or `navigator.userAgent`. */
  browser?: string;
}

/** Injectable time source (tests drive it by hand). */
export interface Clock {
  /** Wall-clock ms since the epoch (used for OTLP timestamps and backoff deadlines). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The subset of `fetch` the exporter uses. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; keepalive: boolean },
) => Promise<{ status: number; headers: { get(name: string): string | null } }>;

/** One unsent OTLP/HTTP JSON body waiting in the outbox. */
export interface OutboxEntry {
  /** Time-ordered unique id; also sent as `x-webq8-batch` so a collector can drop duplicates. */
  id: string;
  body: string;
  /** Failed attempts so far. */
  attempts: number;
  /** Do not retry before this wall-clock time (ms). */
  notBefore: number;
}

/** Where unsent batches wait (IndexedDB in browsers, memory in Node). All methods may reject. */
export interface OutboxStore {
  put(entry: OutboxEntry): Promise<void>;
  delete(ids: string[]): Promise<void>;
  /** All entries, oldest first. */
  list(): Promise<OutboxEntry[]>;
}

/** Options of `createTelemetry` (the runtime passes `createRuntime({telemetry})` through). */
export interface TelemetryOptions {
  /** OTLP/HTTP base URL (`/v1/metrics` appended unless already there). No endpoint: nothing is sent. */
  endpoint?: string;
  /** Extra request headers (e.g. an API key for the collector). */
  headers?: Record<string, string>;
  /** Export interval, ms; default 15 000. */
  intervalMs?: number;
  /** Fraction of latency samples recorded, 0–1; default 1. Errors are always counted. */
  sampleRate?: number;
  /** Device/page attributes. */
  resource?: ResourceAttributes;
  /** Largest request body, bytes; default 60 KiB (the keepalive budget is ~64 KiB). */
  maxBodyBytes?: number;
  /** Outbox cap in batches; the oldest are dropped beyond it (counted). Default 200. */
  maxOutboxEntries?: number;
  /** Histogram bucket cap; default 2048. */
  maxBuckets?: number;
  /** Flush with `fetch(…, {keepalive})` on visibilitychange→hidden and pagehide; default true. */
  flushOnHide?: boolean;
  /**
   * Milliseconds after a sample before it is checkpointed into the outbox (IndexedDB), default 1000.
   * IndexedDB writes started while a page unloads often never commit, so samples are put at rest
   * early: an abrupt close loses at most this window (the unload keepalive send still tries).
   */
  checkpointMs?: number;
  /** @internal Injected for tests; default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** @internal Injected for tests; default Date.now / setTimeout. */
  clock?: Clock;
  /** @internal Injected for tests (sampling and backoff jitter); default Math.random. */
  random?: () => number;
}

/** Which series {@link TelemetryStats} merges; absent fields match everything. */
export interface StatsFilter extends SeriesAttributes {
  /** Default 'run'. */
  metric?: LatencyMetric;
}

/** Local latency summary (ms), merged over the series that match a {@link StatsFilter}. */
export interface TelemetryStats {
  metric: LatencyMetric;
  /** Recorded samples (after sampling). */
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
  /** Error counts by code. */
  errors: Record<string, number>;
  /** The backend, when every matching series has the same one. */
  backend?: string;
  /** Attributes shared by every matching series. */
  attributes: SeriesAttributes;
}

/** Counters of the exporter itself. */
export interface ExportStats {
  /** Batches delivered (2xx). */
  sent: number;
  /** Failed attempts that will be retried. */
  retries: number;
  /** Batches waiting in the outbox. */
  pending: number;
  /** Batches given up, by reason ('outbox-full', 'http-400', 'http-413', …). */
  dropped: Record<string, number>;
}
