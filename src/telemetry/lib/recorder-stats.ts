/** The recorder's local summary: lifetime percentiles and error counts over the matching series. */
import { createHistogram, merge, quantile } from '../../isomorphic/exphist.js';
import type { HistogramState, LatencyMetric, SeriesAttributes, StatsFilter, TelemetryStats } from '../types.js';
import type { RecorderState } from './recorder-state.js';
import { matchesFilter, SERIES_FIELDS } from './series-attributes.js';

/** Merges the series that match `filter` (exported and not yet exported samples alike). */
export function recorderStats(state: RecorderState, filter: StatsFilter): TelemetryStats {
  const metric = filter.metric ?? 'run';
  const { histogram: h, shared } = mergeMatching(state, metric, filter);
  const empty = h.count === 0;
  const stats: TelemetryStats = {
    metric,
    count: h.count,
    p50: quantile(h, 0.5),
    p90: quantile(h, 0.9),
    p95: quantile(h, 0.95),
    p99: quantile(h, 0.99),
    min: empty ? NaN : h.min,
    max: empty ? NaN : h.max,
    mean: empty ? NaN : h.sum / h.count,
    errors: errorCounts(state, filter),
    attributes: shared,
  };
  if (shared.backend !== undefined) stats.backend = shared.backend;
  return stats;
}

/** One histogram over the matching latency series, and the attributes all of them share. */
function mergeMatching(state: RecorderState, metric: LatencyMetric, filter: SeriesAttributes): { histogram: HistogramState; shared: SeriesAttributes } {
  const histogram = createHistogram(state.histogram);
  let shared: SeriesAttributes | undefined;
  for (const s of state.series) {
    if (s.metric !== metric || !matchesFilter(s.attrs, filter)) continue;
    merge(histogram, s.total);
    merge(histogram, s.delta);
    if (!shared) shared = { ...s.attrs };
    else for (const f of SERIES_FIELDS) if (shared[f] !== s.attrs[f]) delete shared[f];
  }
  return { histogram, shared: shared ?? {} };
}

/** Error counts by code over the matching error series (whatever the filter's metric). */
function errorCounts(state: RecorderState, filter: SeriesAttributes): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of state.errors) {
    if (!e.counter && matchesFilter(e.attrs, filter)) counts[e.code] = (counts[e.code] ?? 0) + e.total + e.delta;
  }
  return counts;
}
