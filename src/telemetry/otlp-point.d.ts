// Types of otlp-point.js (plain JS so the Node collector can run it without a build step).
import type { HistogramState, SeriesAttributes, ResourceAttributes } from './types.js';
import type { OtlpKeyValue, OtlpExponentialPoint } from './otlp-types.js';

/** Wire attribute names by attribute field (`modelId` → `webq8.model.id`, `errorCode` → `error.type`, …). */
export declare const WIRE_KEYS: Readonly<Record<WireField, string>>;
/** Fields that have a wire attribute name. */
export type WireField = keyof SeriesAttributes | keyof ResourceAttributes | 'sampleRate' | 'errorCode';
/** OTLP AggregationTemporality.DELTA (1). */
export declare const TEMPORALITY_DELTA: number;
/** OTLP AggregationTemporality.CUMULATIVE (2). */
export declare const TEMPORALITY_CUMULATIVE: number;
/** Wall-clock ms → OTLP `fixed64` nanoseconds as a decimal string (exact, no 2^53 overflow). */
export declare function nanos(ms: number): string;
/** A flat record → OTLP `KeyValue[]` (strings, booleans, finite numbers; others skipped). */
export declare function toAttributes(record: Record<string, unknown>): OtlpKeyValue[];
/** OTLP `KeyValue[]` → a flat record (string, bool, int, double values; others skipped). */
export declare function fromAttributes(list: unknown): Record<string, string | number | boolean>;
/** A histogram → an OTLP JSON `ExponentialHistogramDataPoint` (buckets trimmed). */
export declare function toPoint(h: HistogramState, attributes: Record<string, unknown>, startMs: number, endMs: number): OtlpExponentialPoint;
/** A uint64 as decimal string or number → number (NaN if invalid or beyond 2^53). */
export declare function parseUint(v: unknown): number;
/** An OTLP JSON data point → histogram state, or a string saying what is wrong with it. */
export declare function fromPoint(p: unknown, maxBuckets?: number): HistogramState | string;
