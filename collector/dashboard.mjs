// @ts-check
// The collector's HTML dashboard: a table of fleet percentiles and an inline-SVG plot of each
// series' latency CDF on a log axis (server-rendered, no script, refreshes itself).
import { bucketLower, trimmed, VALUE_LOG2_LIMIT } from '../src/shared/exphist.js';

/** @typedef {import('./aggregate.mjs').Series} Series */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const W = 720;
const H = 300;
const PAD = 44;

/** @param {unknown} s */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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

/** @param {Series[]} series the plotted ones, non-empty */
function plot(series) {
  const curves = series.map(cdf);
  // A loop, not Math.min(...xs): spreading 100k+ points overflows the call stack.
  let min = Infinity;
  let max = -Infinity;
  for (const pts of curves) {
    for (const [px] of pts) {
      if (px < min) min = px;
      if (px > max) max = px;
    }
  }
  if (min > max) return '<p>No latency data yet.</p>';
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
  const x = (/** @type {number} */ v) => PAD + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (W - 2 * PAD);
  const y = (/** @type {number} */ f) => H - PAD + -f * (H - 2 * PAD);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="latency CDF">`];
  for (let d = lo; d <= hi; d++) {
    parts.push(`<line x1="${x(10 ** d)}" y1="${y(0)}" x2="${x(10 ** d)}" y2="${y(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(10 ** d)}" y="${H - PAD + 16}" font-size="11" text-anchor="middle">${esc(ms(10 ** d))} ms</text>`);
  }
  for (const f of [0, 0.5, 0.9, 1]) {
    parts.push(`<line x1="${PAD}" y1="${y(f)}" x2="${W - PAD}" y2="${y(f)}" stroke="#eee"/>`);
    parts.push(`<text x="${PAD - 4}" y="${y(f) + 4}" font-size="11" text-anchor="end">${f}</text>`);
  }
  curves.forEach((pts, i) => {
    const d = pts.map(([px, f], k) => `${k ? 'L' : 'M'}${x(px).toFixed(1)},${y(f).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
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
<title>webq8 latency</title><style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}</style></head>
<body><h1>webq8 fleet latency — ${esc(metric)}</h1><p>${links}</p>${plot(plotted)}
<table><tr><th></th><th>model</th><th>version</th><th>backend</th><th>count</th><th>p50 ms</th><th>p90</th><th>p95</th><th>p99</th><th>max</th></tr>${rows}</table>${extra}
<p>${doc.series.length > MAX_ROWS ? `${doc.series.length - MAX_ROWS} more series in ` : 'JSON: '}<a href="/api/latency">/api/latency</a></p></body></html>`;
}
