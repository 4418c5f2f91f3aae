/**
 * The slice of the OTLP/HTTP JSON metrics wire format webq8 emits (opentelemetry-proto
 * `ExportMetricsServiceRequest` in its JSON mapping: lowerCamelCase, enums as integers, 64-bit
 * integers as decimal strings).
 */

/** `common.v1.AnyValue` (the variants we use). */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  /** int64 as a decimal string. */
  intValue?: string;
  doubleValue?: number;
}

/** `common.v1.KeyValue`. */
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** `metrics.v1.ExponentialHistogramDataPoint`. */
export interface OtlpExponentialPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum: number;
  scale: number;
  zeroCount: string;
  positive: { offset: number; bucketCounts: string[] };
  zeroThreshold: number;
  min?: number;
  max?: number;
}

/** `metrics.v1.NumberDataPoint` with an integer value. */
export interface OtlpIntPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt: string;
}

/** `metrics.v1.Metric` with the two data kinds we send. */
export interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  exponentialHistogram?: { aggregationTemporality: number; dataPoints: OtlpExponentialPoint[] };
  sum?: { aggregationTemporality: number; isMonotonic: boolean; dataPoints: OtlpIntPoint[] };
}

/** `collector.metrics.v1.ExportMetricsServiceRequest`. */
export interface OtlpMetricsRequest {
  resourceMetrics: {
    resource: { attributes: OtlpKeyValue[] };
    scopeMetrics: { scope: { name: string; version?: string }; metrics: OtlpMetric[] }[];
  }[];
}
