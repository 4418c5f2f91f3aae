/**
 * OTLP/HTTP JSON encoding of collected deltas, split into request bodies that each fit a byte
 * budget (fetch keepalive bodies share ~64 KiB while a page unloads). Latencies become
 * `ExponentialHistogram` metrics (`webq8.<metric>.duration`, unit ms; counts such as tokens per
 * answer as `webq8.<metric>` in their own unit), errors one monotonic `Sum`
 * (`webq8.errors`, attribute `error.type`), all with DELTA temporality; registered gauges
 * (`webq8.serving.<name>`, lib/gauges.ts) are sampled into the same bodies.
 */
import { downscale } from '../isomorphic/exphist.js';
import { nanos, toAttributes, toPoint, TEMPORALITY_DELTA } from '../isomorphic/otlp-point.js';
import type { Collected } from './recorder.js';
import type { CollectedGauge } from './lib/gauges.js';
import { utf8Length as bytes } from './lib/utf8-length.js';

/** Default body budget: 60 KiB, under the ~64 KiB keepalive budget with room for headers. */
export const DEFAULT_MAX_BODY_BYTES = 60 * 1024;

/** Options of {@link encodeMetrics}. */
export interface EncodeOptions {
  /** Resource attributes (wire names), sent in every body. */
  resource?: Record<string, string | number | boolean>;
  /** Instrumentation scope version (the webq8 version). */
  scopeVersion?: string;
  /** Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

interface Unit {
  metric: string;
  /** The JSON of the metric object up to its data points, and what closes it. */
  open: string;
  close: string;
  point: string;
}

/** Series that count rather than time: no `.duration` in their name, and their own unit. */
const COUNT_UNITS: Readonly<Record<string, string>> = { 'generate.tokens': '{token}' };

/** OTLP metric name of a latency series (or of a count series, see {@link COUNT_UNITS}). */
export function metricName(metric: string): string {
  return metric in COUNT_UNITS ? `webq8.${metric}` : `webq8.${metric}.duration`;
}

function histogramUnits(collected: Collected, budget: number): Unit[] {
  return collected.histograms.map((c) => {
    const name = metricName(c.metric);
    const unit = COUNT_UNITS[c.metric] ?? 'ms';
    const open = `{"name":${JSON.stringify(name)},"unit":${JSON.stringify(unit)},"exponentialHistogram":{"aggregationTemporality":${TEMPORALITY_DELTA},"dataPoints":[`;
    let point = JSON.stringify(toPoint(c.histogram, c.attributes, c.startMs, collected.endMs));
    // A point that cannot fit on its own is coarsened (halving its buckets) rather than lost.
    while (bytes(open + point) + 256 > budget && c.histogram.counts.length > 1) {
      downscale(c.histogram, 1);
      point = JSON.stringify(toPoint(c.histogram, c.attributes, c.startMs, collected.endMs));
    }
    return { metric: name, open, close: ']}}', point };
  });
}

function gaugeUnits(gauges: readonly CollectedGauge[], endMs: number): Unit[] {
  return gauges.map((g) => {
    const name = `webq8.serving.${g.name}`;
    return {
      metric: name,
      open: `{"name":${JSON.stringify(name)},"gauge":{"dataPoints":[`,
      close: ']}}',
      point: JSON.stringify({ attributes: toAttributes(g.attributes), timeUnixNano: nanos(endMs), asDouble: g.value }),
    };
  });
}

function errorUnits(collected: Collected): Unit[] {
  const open = `{"name":"webq8.errors","unit":"{error}","sum":{"aggregationTemporality":${TEMPORALITY_DELTA},"isMonotonic":true,"dataPoints":[`;
  return collected.errors.map((e) => ({
    metric: e.metric ?? 'webq8.errors',
    open: e.metric ? `{"name":${JSON.stringify(e.metric)},"sum":{"aggregationTemporality":${TEMPORALITY_DELTA},"isMonotonic":true,"dataPoints":[` : open,
    close: ']}}',
    point: JSON.stringify({
      attributes: toAttributes(e.attributes),
      startTimeUnixNano: nanos(e.startMs),
      timeUnixNano: nanos(collected.endMs),
      asInt: String(e.count),
    }),
  }));
}

/**
 * Encodes collected deltas as `ExportMetricsServiceRequest` JSON bodies, none larger than the
 * budget (unless one attribute set alone is larger). Returns [] when nothing was recorded.
 */
export function encodeMetrics(collected: Collected, options: EncodeOptions = {}, gauges: readonly CollectedGauge[] = []): string[] {
  const budget = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const scope = options.scopeVersion ? { name: 'webq8', version: options.scopeVersion } : { name: 'webq8' };
  const prefix =
    `{"resourceMetrics":[{"resource":{"attributes":${JSON.stringify(toAttributes(options.resource ?? {}))}},` +
    `"scopeMetrics":[{"scope":${JSON.stringify(scope)},"metrics":[`;
  const suffix = ']}]}]}';
  const units = [...histogramUnits(collected, budget), ...errorUnits(collected), ...gaugeUnits(gauges, collected.endMs)];
  units.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));

  const bodies: string[] = [];
  let groups = new Map<string, { open: string; close: string; points: string[] }>();
  let size = bytes(prefix) + bytes(suffix);
  const emptySize = size;
  const finish = (): void => {
    if (groups.size === 0) return;
    const metrics = [...groups.values()].map((g) => g.open + g.points.join(',') + g.close);
    bodies.push(prefix + metrics.join(',') + suffix);
    groups = new Map();
    size = emptySize;
  };
  for (const u of units) {
    const pointBytes = bytes(u.point);
    const group = groups.get(u.metric);
    const cost = group ? pointBytes + 1 : bytes(u.open) + bytes(u.close) + pointBytes + (groups.size > 0 ? 1 : 0);
    if (size + cost > budget && groups.size > 0) {
      finish();
      groups.set(u.metric, { open: u.open, close: u.close, points: [u.point] });
      size += bytes(u.open) + bytes(u.close) + pointBytes;
      continue;
    }
    if (group) group.points.push(u.point);
    else groups.set(u.metric, { open: u.open, close: u.close, points: [u.point] });
    size += cost;
  }
  finish();
  return bodies;
}
