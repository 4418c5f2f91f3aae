// @ts-check
// HTML of what the read interface (query.mjs) returns: the serving/SLO table (added under the
// collector's own dashboard), and a whole page for when the dashboard reads from Prometheus.

/**
 * @typedef {import('./query.mjs').SeriesRow} SeriesRow
 * @typedef {import('./query.mjs').ServingRow} ServingRow
 */

/** @param {unknown} s */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** @param {number | null} v @param {number} [digits] */
const fmt = (v, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const SLO_COLORS = { ok: '#2ca02c', warning: '#ff7f0e', breached: '#d62728' };

/** The SLO state and serving gauges per model, or '' when no client reported any. @param {ServingRow[]} rows */
export function renderServing(rows) {
  if (rows.length === 0) return '';
  const body = rows
    .map((r) => {
      const slo = r.slo ? `<b style="color:${SLO_COLORS[r.slo]}">${r.slo}</b>` : '–';
      return `<tr><td>${esc(r.model)}</td><td>${esc(r.version)}</td><td>${esc(r.backend)}</td><td>${slo}</td><td>${fmt(r.burnFast)}</td><td>${fmt(r.burnSlow)}</td><td>${fmt(r.budgetLeft)}</td><td>${fmt(r.queueLength, 0)}</td><td>${fmt(r.utilization)}</td></tr>`;
    })
    .join('');
  return `<h2>Serving and SLOs</h2><table><tr><th>model</th><th>version</th><th>backend</th><th>SLO</th><th>burn fast</th><th>burn slow</th><th>budget left</th><th>queue</th><th>utilization</th></tr>${body}</table>`;
}

/**
 * The dashboard when it reads from Prometheus: percentiles per series and the serving table
 * (no CDF plot: PromQL answers quantiles, not the buckets the plot draws).
 * @param {string} metric @param {SeriesRow[]} series @param {ServingRow[]} serving @param {string} source
 */
export function renderFleetPage(metric, series, serving, source) {
  const rows = series
    .map(
      (s) =>
        `<tr><td>${esc(s.model)}</td><td>${esc(s.version)}</td><td>${esc(s.backend)}</td><td>${fmt(s.count, 0)}</td><td>${fmt(s.p50)}</td><td>${fmt(s.p90)}</td><td>${fmt(s.p95)}</td><td>${fmt(s.p99)}</td><td>${fmt(s.mean)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>webq8 latency</title><style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}</style></head>
<body><h1>webq8 fleet latency — ${esc(metric)}</h1><p>Source: ${esc(source)}</p>
<table><tr><th>model</th><th>version</th><th>backend</th><th>count</th><th>p50 ms</th><th>p90</th><th>p95</th><th>p99</th><th>mean</th></tr>${rows}</table>
${renderServing(serving)}<p>JSON: <a href="/api/fleet">/api/fleet</a></p></body></html>`;
}
