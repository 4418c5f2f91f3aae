/**
 * webq8 telemetry: on-device latency histograms and their OTLP/HTTP JSON export. The runtime uses
 * {@link createTelemetry}; the pieces below it (recorder, encoder, exporter, outbox) are imported
 * from their own files by tests and by the collector.
 */
export { createTelemetry, metricsUrl, type Telemetry, type GaugeSample } from './telemetry.js';
export { postJson } from './lib/post-json.js';
export type * from './types.js';
export type * from './otlp-types.js';
