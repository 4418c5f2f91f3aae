// @ts-check
// The collector's HTML dashboard: a table of fleet percentiles and an inline-SVG plot of each
// series' latency CDF on a log axis (server-rendered, no script, refreshes itself).
import { bucketLower, trimmed, VALUE_LOG2_LIMIT } from '../src/isomorphic/exphist.js';
import { cdfSvg, COLORS, esc } from '../demo/plot.js';

/** @typedef {import('./aggregate.mjs').Series} Series */

const W = 720;
const H = 300;

/** @param {number | null} v */
const ms = (v) => (v === null ? '–' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));

/** Series drawn in the plot and rows in the table (the JSON API has them all). */
const MAX_PLOTTED = 12;
const MAX_ROWS = 500;
/** Axis bounds: the value range histograms may hold (see VALUE_LOG2_LIMIT in exphist.js). */
const X_MIN = 2 ** -VALUE_LOG2_LIMIT;
const X_MAX = 2 ** VALUE_LOG2_LIMIT;

/** CDF points [latency ms, fraction] of a histogram: one per occupied bucket's upper bound. @param {Series} s */
function cdf(s) {
  const h = s.histogram;
  const t = trimmed(h);
  /** @type {[number, number][]} */
  const pts = [];
  let seen = h.zeroCount;
  for (let j = 0; j < t.counts.length; j++) {
    const n = t.counts[j] ?? 0;
    if (n === 0) continue;
    seen += n;
    const x = Math.min(h.max, bucketLower(h.scale, t.offset + j + 1));
    pts.push([Math.min(X_MAX, Math.max(X_MIN, x)), seen / h.count]);
  }
  return pts;
}

/**
 * The CDFs of `series` on a log axis (demo/plot.js draws it; a series with one sample is a step).
 * @param {Series[]} series @param {string} label
 */
function plot(series, label) {
  const curves = series.map((s) => ({ label: `${s.model} ${s.version} ${s.backend}`, points: cdf(s) })).filter((c) => c.points.length);
  if (!curves.length) return '<p>No latency data yet.</p>';
  return cdfSvg(curves, { width: W, height: H, log: true, label });
}

/**
 * One small CDF per model version (its backends as curves), for comparing versions side by side.
 * @param {Series[]} series the plotted ones
 */
function perVersion(series) {
  /** @type {Map<string, Series[]>} */
  const groups = new Map();
  for (const s of series) {
    const k = `${s.model} @ ${s.version}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  if (groups.size < 2) return '';
  const figs = [...groups].map(([k, g]) => `<figure><figcaption>${esc(k)}</figcaption>${plot(g, `latency CDF of ${k}`)}</figure>`);
  return `<h2>Per model version</h2><div style="display:flex;flex-wrap:wrap;gap:12px">${figs.join('')}</div>`;
}

/**
 * A table of devices (WebGPU adapter, backend) with their percentiles for `metric`.
 * @param {ReturnType<import('./aggregate.mjs').createAggregator>} agg @param {string} metric
 */
function deviceTable(agg, metric) {
  const rows = agg.devices(metric);
  if (!rows.length) return '';
  const tr = rows.map((d) => `<tr><td>${esc(d.adapter)}</td><td>${esc(d.backend)}</td><td>${d.count}</td><td>${ms(d.p50)}</td><td>${ms(d.p95)}</td></tr>`);
  return `<h2>Devices</h2><table><tr><th>adapter</th><th>backend</th><th>count</th><th>p50 ms</th><th>p95</th></tr>${tr.join('')}</table>`;
}

/**
 * @param {ReturnType<import('./aggregate.mjs').createAggregator>} agg
 * @param {string} metric
 * @param {string} [extra] HTML under the table (fleet.mjs: the serving/SLO table)
 */
export function renderDashboard(agg, metric, extra = '') {
  const doc = agg.latency({ metric });
  const series = agg.series({ metric });
  // doc.series and series are in the same (key) order; only plotted series get a colour key.
  const plotted = series.filter((s) => s.histogram.count > 0).slice(0, MAX_PLOTTED);
  const colour = new Map(plotted.map((s, k) => [s, COLORS[k % COLORS.length]]));
  const key = (/** @type {number} */ i) => {
    const c = colour.get(/** @type {Series} */ (series[i]));
    return c ? `<td style="color:${c}">■</td>` : '<td></td>';
  };
  const rows = doc.series
    .slice(0, MAX_ROWS)
    .map(
      (s, i) =>
        `<tr>${key(i)}<td>${esc(s.model)}</td><td>${esc(s.version)}</td><td>${esc(s.backend)}</td><td>${s.count}</td><td>${ms(s.p50)}</td><td>${ms(s.p90)}</td><td>${ms(s.p95)}</td><td>${ms(s.p99)}</td><td>${ms(s.max)}</td></tr>`,
    )
    .join('');
  const metrics = [...new Set(agg.series().map((s) => s.metric))];
  const links = metrics.map((m) => `<a href="/?metric=${encodeURIComponent(m)}">${esc(m)}</a>`).join(' · ');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<meta name="color-scheme" content="light dark"><title>webq8 latency</title><style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #8884}svg{max-width:100%;height:auto}figure{margin:0}</style></head>
<body><h1>webq8 fleet latency — ${esc(metric)}</h1><p>${links}</p>${plot(plotted, `latency CDF, ${metric}`)}
${perVersion(plotted)}<table><tr><th></th><th>model</th><th>version</th><th>backend</th><th>count</th><th>p50 ms</th><th>p90</th><th>p95</th><th>p99</th><th>max</th></tr>${rows}</table>${deviceTable(agg, metric)}${extra}
<p>${doc.series.length > MAX_ROWS ? `${doc.series.length - MAX_ROWS} more series in ` : 'JSON: '}<a href="/api/latency">/api/latency</a></p></body></html>`;
}
