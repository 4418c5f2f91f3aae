// @ts-check
// The read interface (query.mjs) over a Prometheus-compatible store, in PromQL through the HTTP
// API (`GET /api/v1/query`). Series are the ones the remote writer makes (fleet-state.mjs).
//
// Without `window`, counts and percentiles are those of the latest cumulative sample: everything
// since the collector's journal began, the same numbers as the in-memory store. With `window`
// (a PromQL duration, '5m'), they cover that window: counts from `increase` (extrapolated, so
// not whole numbers), percentiles from `rate`.
import { promName } from './fleet-state.mjs';
import { byIdentity, servingRows } from './serving-rows.mjs';

/**
 * @typedef {{ prometheus: string, window?: string, timeoutMs?: number }} PrometheusStore
 *   `prometheus`: the base URL (`http://127.0.0.1:9090`, or a Mimir/Thanos query frontend's
 *   Prometheus API prefix).
 * @typedef {import('./query.mjs').Query} Query
 * @typedef {{ metric: Record<string, string>, value: [number, string] }} VectorSample
 */

/** Why a query against Prometheus failed; `code` is stable. */
export class PrometheusQueryError extends Error {
  /** @param {string} message @param {'PROMETHEUS_UNREACHABLE' | 'PROMETHEUS_QUERY'} code */
  constructor(message, code) {
    super(message);
    this.name = 'PrometheusQueryError';
    this.code = code;
  }
}

/** A PromQL string literal. @param {string} s */
const str = (s) => JSON.stringify(s);
/** @param {string} v */
const num = (v) => {
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n * 1e4) / 1e4 : null;
};

/** @param {PrometheusStore} store @param {string} expr @returns {Promise<VectorSample[]>} */
async function instant(store, expr) {
  const url = `${store.prometheus.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(expr)}`;
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(store.timeoutMs ?? 10_000) });
  } catch (err) {
    const e = /** @type {{ message?: string, cause?: { code?: string } }} */ (err);
    throw new PrometheusQueryError(
      `Prometheus at ${store.prometheus} did not answer (${e.cause?.code ?? e.message}); check --prometheus-url and that it runs`,
      'PROMETHEUS_UNREACHABLE',
    );
  }
  const doc = /** @type {{ status?: string, error?: string, data?: { resultType?: string, result?: VectorSample[] } }} */ (await res.json().catch(() => ({})));
  if (!res.ok || doc.status !== 'success' || doc.data?.resultType !== 'vector') {
    throw new PrometheusQueryError(`Prometheus refused ${expr}: HTTP ${res.status} ${doc.error ?? ''}`.trim(), 'PROMETHEUS_QUERY');
  }
  return doc.data.result ?? [];
}

/**
 * @typedef {{ labels: Record<string, string>, v: Record<string, number | null | undefined> }} Joined
 *   one group's labels and the value of each expression (undefined when it answered nothing)
 */

/**
 * Runs named PromQL expressions in parallel and joins their answers on the `by` labels.
 * @param {PrometheusStore} store @param {Record<string, string>} exprs @param {string[]} by
 * @returns {Promise<Joined[]>}
 */
async function joined(store, exprs, by) {
  const results = await Promise.all(Object.entries(exprs).map(async ([k, e]) => /** @type {const} */ ([k, await instant(store, e)])));
  /** @type {Map<string, Joined>} */
  const rows = new Map();
  for (const [k, samples] of results) {
    for (const s of samples) {
      const id = JSON.stringify(by.map((l) => s.metric[l] ?? ''));
      const row = rows.get(id) ?? { labels: s.metric, v: {} };
      rows.set(id, row);
      row.v[k] = num(s.value[1]);
    }
  }
  return [...rows.values()];
}

/** @param {PrometheusStore} store @returns {Query} */
export function prometheusQuery(store) {
  const w = store.window;
  /** Cumulative, or over the window: `rate` for shapes, `increase` for totals. @param {string} sel @param {'rate' | 'increase'} fn */
  const over = (sel, fn) => (w ? `${fn}(${sel}[${w}])` : sel);
  return {
    store: 'prometheus',
    async versions(model, selector = {}) {
      const matchers = `model=${str(model)}${selector.backend ? `,backend=${str(selector.backend)}` : ''}`;
      const h = `${promName(selector.metric ?? 'webq8.run.duration', 'histogram')}{${matchers}}`;
      const e = `${promName('webq8.errors', 'counter')}{${matchers}}`;
      const q = (/** @type {number} */ p) => `histogram_quantile(${p}, sum by (version) (${over(h, 'rate')}))`;
      const rows = await joined(
        store,
        {
          count: `histogram_count(sum by (version) (${over(h, 'increase')}))`,
          errors: `sum by (version) (${over(e, 'increase')})`,
          p50: q(0.5),
          p95: q(0.95),
          p99: q(0.99),
        },
        ['version'],
      );
      return rows
        .map(({ labels, v }) => ({
          version: labels.version ?? 'unknown',
          ...(selector.backend ? { backend: selector.backend } : {}),
          count: v.count ?? 0,
          errors: v.errors ?? 0,
          p50: v.p50 ?? null,
          p95: v.p95 ?? null,
          p99: v.p99 ?? null,
        }))
        .sort((a, b) => a.version.localeCompare(b.version));
    },
    async series(metric = 'webq8.run.duration') {
      const by = 'sum by (model, version, backend)';
      const h = `${by} (${over(promName(metric, 'histogram'), 'rate')})`;
      const q = (/** @type {number} */ p) => `histogram_quantile(${p}, ${h})`;
      const total = `${by} (${over(promName(metric, 'histogram'), 'increase')})`;
      const exprs = { count: `histogram_count(${total})`, sum: `histogram_sum(${total})`, p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99) };
      const rows = await joined(store, exprs, ['model', 'version', 'backend']);
      return rows
        .map(({ labels, v }) => {
          const { model = 'unknown', version = 'unknown', backend = 'unknown' } = labels;
          const count = v.count ?? 0;
          const mean = count > 0 && typeof v.sum === 'number' ? Math.round((v.sum / count) * 1e4) / 1e4 : null;
          return { metric, model, version, backend, count, p50: v.p50 ?? null, p90: v.p90 ?? null, p95: v.p95 ?? null, p99: v.p99 ?? null, mean };
        })
        .sort(byIdentity);
    },
    async serving() {
      const samples = await instant(store, '{__name__=~"webq8_serving_(slo_state|slo_burn_rate|slo_budget_left|queue_length|utilization)"}');
      return servingRows(samples.map((s) => ({ name: s.metric.__name__ ?? '', labels: s.metric, value: Number(s.value[1]) })));
    },
  };
}
