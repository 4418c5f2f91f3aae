// @ts-check
// One read interface over two stores, for the dashboard and for release analysis: the collector's
// merged in-memory state (what the embedded journal replays into; the zero-setup default) or a
// Prometheus-compatible store through PromQL over its HTTP API (prom-query.mjs). Which one is
// configuration: `createQuery({ aggregator })` or `createQuery({ prometheus: url })`.
import { clone, createHistogram, merge } from '../src/isomorphic/exphist.js';
import { summary } from './aggregate.mjs';
import { prometheusQuery } from './prom-query.mjs';
import { servingRows } from './serving-rows.mjs';

/** The latency metric release analysis compares versions on. */
export const RUN_METRIC = 'webq8.run.duration';
const ERRORS_METRIC = 'webq8.errors';

/**
 * Latency and errors of one model version. Percentiles in ms, null without samples.
 * @typedef {{ version: string, backend?: string, count: number, errors: number, p50: number | null, p95: number | null, p99: number | null }} VersionRow
 */
/**
 * One dashboard row: one (model, version, backend) series of a latency metric.
 * @typedef {{ metric: string, model: string, version: string, backend: string, count: number, p50: number | null, p90: number | null,
 *   p95: number | null, p99: number | null, mean: number | null }} SeriesRow
 */
/**
 * The serving gauges of one (model, version, backend): the SLO state and what drives it.
 * @typedef {{ model: string, version: string, backend: string, slo: 'ok' | 'warning' | 'breached' | null, burnFast: number | null,
 *   burnSlow: number | null, budgetLeft: number | null, queueLength: number | null, utilization: number | null }} ServingRow
 */
/**
 * Selector of {@link Query.versions}: `backend` restricts to one backend (and the rows carry it);
 * `metric` is the OTLP latency metric (default {@link RUN_METRIC}).
 * @typedef {{ backend?: string, metric?: string }} VersionSelector
 */
/**
 * The read interface.
 * @typedef {object} Query
 * @property {(model: string, selector?: VersionSelector) => Promise<VersionRow[]>} versions
 *   Per version of `model` (OTLP `webq8.model.id`; versions are `webq8.model.version`): run count,
 *   error count (`webq8.errors`, every code) and p50/p95/p99 of `webq8.run.duration`, sorted by version.
 * @property {(metric?: string) => Promise<SeriesRow[]>} series
 *   Every (model, version, backend) series of a latency metric (default {@link RUN_METRIC}), sorted.
 * @property {() => Promise<ServingRow[]>} serving
 *   The latest serving gauges (SLO state, burn rates, budget left, queue length, utilization), sorted.
 * @property {'memory' | 'prometheus'} store
 */
/**
 * @typedef {ReturnType<import('./aggregate.mjs').createAggregator>} Aggregator
 * @typedef {ReturnType<import('./fleet-state.mjs').createFleetState>} FleetState
 * @typedef {{ aggregator: Aggregator, fleet?: FleetState }} MemoryStore
 *   The collector's state: latencies and errors from the aggregator (all time since the journal
 *   began), gauges from the fleet state.
 * @typedef {import('./prom-query.mjs').PrometheusStore} PrometheusStore
 */

/**
 * The read interface over `store`.
 * @param {MemoryStore | PrometheusStore} store
 * @returns {Query}
 */
export function createQuery(store) {
  return 'prometheus' in store ? prometheusQuery(store) : memoryQuery(store);
}

/** @param {MemoryStore} store @returns {Query} */
function memoryQuery({ aggregator, fleet }) {
  return {
    store: 'memory',
    async versions(model, selector = {}) {
      const series = aggregator.series({ metric: selector.metric ?? RUN_METRIC, model }).filter((s) => !selector.backend || s.backend === selector.backend);
      /** @type {Map<string, import('../src/telemetry/types.js').HistogramState>} */
      const byVersion = new Map();
      for (const s of series) {
        const h = byVersion.get(s.version);
        if (h) merge(h, s.histogram);
        else byVersion.set(s.version, clone(s.histogram));
      }
      const errors = aggregator.latency({ model }).errors.filter((e) => e.metric === ERRORS_METRIC && (!selector.backend || e.backend === selector.backend));
      // A version whose every run failed has errors and no latency: it must still show.
      const versions = new Set([...byVersion.keys(), ...errors.map((e) => e.version)]);
      return [...versions].sort().map((version) => {
        const { count, p50, p95, p99 } = summary(byVersion.get(version) ?? createHistogram());
        const errorCount = errors.filter((e) => e.version === version).reduce((n, e) => n + e.count, 0);
        return { version, ...(selector.backend ? { backend: selector.backend } : {}), count, errors: errorCount, p50, p95, p99 };
      });
    },
    async series(metric = RUN_METRIC) {
      return aggregator.series({ metric }).map((s) => {
        const { count, p50, p90, p95, p99, mean } = summary(s.histogram);
        return { metric, model: s.model, version: s.version, backend: s.backend, count, p50, p90, p95, p99, mean };
      });
    },
    async serving() {
      return servingRows((fleet?.gauges() ?? []).map((g) => ({ name: g.name, labels: g.labels, value: g.value })));
    },
  };
}
