/**
 * webq8 telemetry: on-device latency histograms and their OTLP/HTTP JSON export. The runtime uses
 * {@link createTelemetry}; the lower pieces are exported for custom pipelines and tests.
 */
export { createTelemetry, metricsUrl, type Telemetry, type GaugeSample } from './telemetry.js';
export { histogram } from './histogram.js';
export { createRecorder, type Recorder, type RecorderOptions, type Collected } from './recorder.js';
export { encodeMetrics, metricName, DEFAULT_MAX_BODY_BYTES, type EncodeOptions } from './encode.js';
export { createExporter, systemClock, BATCH_HEADER, type Exporter, type ExporterOptions } from './exporter.js';
export { memoryOutboxStore, idbOutboxStore, defaultOutboxStore } from './outbox.js';
export { onHide, onOnline } from './page-events.js';
export type * from './types.js';
export type * from './otlp-types.js';
