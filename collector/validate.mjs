// @ts-check
// Parses an OTLP/HTTP JSON ExportMetricsServiceRequest into the points the collector aggregates,
// or a reason it is malformed (sent back with 400). Exponential histograms (DELTA temporality) and
// integer Sums (error counters) are read; other metric kinds are accepted and ignored.
import { fromAttributes, fromPoint, parseUint, TEMPORALITY_DELTA, WIRE_KEYS } from '../src/isomorphic/otlp-point.js';

/** Longest metric name or series attribute value kept (OTel caps instrument names at 255). */
export const MAX_NAME_LENGTH = 256;
/** The attributes that name a series; their values are kept in memory, so their length is capped. */
const IDENTITY = [WIRE_KEYS.modelId, WIRE_KEYS.modelVersion, WIRE_KEYS.backend, WIRE_KEYS.errorCode];

/**
 * @typedef {import('../src/telemetry/types.js').HistogramState} HistogramState
 * @typedef {{ metric: string, attrs: Record<string, string | number | boolean>, histogram: HistogramState }} HistogramPoint
 * @typedef {{ metric: string, attrs: Record<string, string | number | boolean>, count: number }} CounterPoint
 * @typedef {{ histograms: HistogramPoint[], counters: CounterPoint[] }} Parsed
 */

/** JSON arrays hold anything: callers check each element. @param {unknown} v @param {string} where @returns {any[] | string} */
function list(v, where) {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : `${where} must be an array`;
}

/**
 * The point's attributes over the resource's, or a reason when a series attribute is too long.
 * @param {Record<string, string | number | boolean>} resource @param {unknown} attributes @param {string} where
 */
function attrsOf(resource, attributes, where) {
  const attrs = { ...resource, ...fromAttributes(attributes) };
  for (const k of IDENTITY) {
    const v = attrs[k];
    if (typeof v === 'string' && v.length > MAX_NAME_LENGTH) return `${where}: attribute ${k} is longer than ${MAX_NAME_LENGTH} characters`;
  }
  return attrs;
}

/**
 * @param {any} metric
 * @param {string} where
 * @param {Record<string, string | number | boolean>} resource
 * @param {Parsed} out
 * @returns {string | undefined} a reason when malformed
 */
function readMetric(metric, where, resource, out) {
  if (!metric || typeof metric !== 'object') return `${where} must be an object`;
  if (typeof metric.name !== 'string' || metric.name === '') return `${where}.name must be a non-empty string`;
  if (metric.name.length > MAX_NAME_LENGTH) return `${where}.name is longer than ${MAX_NAME_LENGTH} characters`;
  const eh = metric.exponentialHistogram;
  if (eh) {
    if (eh.aggregationTemporality !== TEMPORALITY_DELTA) {
      return `${where}.exponentialHistogram.aggregationTemporality must be 1 (DELTA, enums as integers); cumulative points cannot be merged across clients`;
    }
    const points = list(eh.dataPoints, `${where}.exponentialHistogram.dataPoints`);
    if (typeof points === 'string') return points;
    for (const [i, p] of points.entries()) {
      const h = fromPoint(p);
      if (typeof h === 'string') return `${where}.exponentialHistogram.dataPoints[${i}]: ${h}`;
      const attrs = attrsOf(resource, p.attributes, `${where}.exponentialHistogram.dataPoints[${i}]`);
      if (typeof attrs === 'string') return attrs;
      out.histograms.push({ metric: metric.name, attrs, histogram: h });
    }
  }
  const sum = metric.sum;
  if (sum && sum.isMonotonic === true) {
    const points = list(sum.dataPoints, `${where}.sum.dataPoints`);
    if (typeof points === 'string') return points;
    for (const [i, p] of points.entries()) {
      const n = parseUint(p?.asInt);
      if (Number.isNaN(n)) return `${where}.sum.dataPoints[${i}].asInt must be a non-negative integer`;
      const attrs = attrsOf(resource, p?.attributes, `${where}.sum.dataPoints[${i}]`);
      if (typeof attrs === 'string') return attrs;
      out.counters.push({ metric: metric.name, attrs, count: n });
    }
  }
  return undefined;
}

/**
 * @param {unknown} body the parsed JSON
 * @returns {Parsed | string}
 */
export function parseExport(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object (ExportMetricsServiceRequest)';
  /** @type {Parsed} */
  const out = { histograms: [], counters: [] };
  const rms = list(/** @type {any} */ (body).resourceMetrics, 'resourceMetrics');
  if (typeof rms === 'string') return rms;
  for (const [r, rm] of rms.entries()) {
    if (!rm || typeof rm !== 'object') return `resourceMetrics[${r}] must be an object`;
    const resource = fromAttributes(rm.resource?.attributes);
    const sms = list(rm.scopeMetrics, `resourceMetrics[${r}].scopeMetrics`);
    if (typeof sms === 'string') return sms;
    for (const [s, sm] of sms.entries()) {
      const metrics = list(sm?.metrics, `resourceMetrics[${r}].scopeMetrics[${s}].metrics`);
      if (typeof metrics === 'string') return metrics;
      for (const [m, metric] of metrics.entries()) {
        const reason = readMetric(metric, `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`, resource, out);
        if (reason) return reason;
      }
    }
  }
  return out;
}
