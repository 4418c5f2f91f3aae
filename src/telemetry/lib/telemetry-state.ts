/**
 * The state of one telemetry object (see `createTelemetry`): its recorder, the exporter (only with
 * an endpoint), the encoder options, and the timers and listeners that dispose must stop.
 */
import type { EncodeOptions } from '../encode.js';
import type { Exporter } from '../exporter.js';
import type { Recorder } from '../recorder.js';
import type { Clock, ResourceAttributes } from '../types.js';
import type { Unsubscribe } from '../page-events.js';
import type { GaugeSample } from './gauges.js';

/** Settings resolved from `TelemetryOptions`, plus what changes over the telemetry's life. */
export interface TelemetryState {
  readonly clock: Clock;
  readonly recorder: Recorder;
  /** Sampling rate in [0, 1] (also sent as a resource attribute when < 1). */
  readonly sampleRate: number;
  /** Export interval (ms, ≥ 1000). */
  readonly intervalMs: number;
  /** Delay from a sample to its checkpoint into the outbox (ms, ≥ 0). */
  readonly checkpointMs: number;
  /** The resource attributes given so far (options, then every `setResource`), merged. */
  resource: ResourceAttributes;
  /** `resource` is replaced, in wire form, whenever `setResource` adds attributes. */
  readonly encodeOptions: EncodeOptions;
  /** Only with an endpoint; undefined also when setting up the export failed. */
  exporter: Exporter | undefined;
  /** Page listeners to remove on dispose. */
  readonly unsubscribe: Unsubscribe[];
  /** Handle of the export interval timer. */
  timer: unknown;
  /** Handle of the pending checkpoint, if any. */
  checkpointTimer: unknown;
  disposed: boolean;
  /** Gauge sources registered with `addGauges`, read at export time. */
  readonly gaugeSources: Set<() => GaugeSample[]>;
}
