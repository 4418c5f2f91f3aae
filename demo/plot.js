// @ts-check
// The demo's and the collector dashboard's plots: small SVG drawn from plain numbers, returned as
// markup strings (pure functions, the same in the page and in Node). Every data mark has the class
// `mark` (tests count them) and a <title> with its numbers; every plot has an aria-label, and the
// callers put the same numbers beside it as text. Axes and labels use `currentColor`, and the
// series colours are mid-tone, so a plot reads on a light and on a dark page.

/** Series colours, readable on white and on near-black. */
export const COLORS = ['#3b82f6', '#ef4444', '#10b981', '#a855f7', '#f59e0b', '#06b6d4', '#ec4899', '#84cc16'];

/** HTML/SVG text escape. @param {unknown} s */
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A number of milliseconds, with a precision that suits its size. @param {number} v */
export const fmtMs = (v) => (!Number.isFinite(v) ? '–' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : v.toFixed(0));

/** Nearest-rank percentile (q in [0, 1]) of ascending `sorted`; NaN when empty. @param {number[]} sorted @param {number} q */
export function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
}

/** Empirical CDF points [value, fraction ≤ value] of samples. @param {number[]} values @returns {[number, number][]} */
export function cdfPoints(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.map((v, i) => [v, (i + 1) / s.length]);
}

/** @param {number} w @param {number} h @param {string} label @param {string} body @param {string} [cls] */
function frame(w, h, label, body, cls = 'plot') {
  return `<svg class="${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

/** @param {number} x @param {number} y @param {string} t @param {string} [anchor] */
const text = (x, y, t, anchor = 'middle') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="11" fill="currentColor" text-anchor="${anchor}">${esc(t)}</text>`;
/** @param {number} x1 @param {number} y1 @param {number} x2 @param {number} y2 */
const grid = (x1, y1, x2, y2) =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="currentColor" stroke-opacity="0.18"/>`;

/**
 * A scale from [lo, hi] onto [a, b]: linear, or log10 (values clamped to > 0). A single value
 * (lo = hi) gets room around it, so one sample still draws.
 * @param {number} lo @param {number} hi @param {number} a @param {number} b @param {boolean} log
 */
function scale(lo, hi, a, b, log) {
  if (log) {
    const l = Math.floor(Math.log10(Math.max(lo, 1e-6)));
    const h = Math.max(l + 1, Math.ceil(Math.log10(Math.max(hi, 1e-6))));
    const f = (/** @type {number} */ v) => a + ((Math.log10(Math.max(v, 10 ** l)) - l) / (h - l)) * (b - a);
    return { f, ticks: Array.from({ length: h - l + 1 }, (_, i) => 10 ** (l + i)) };
  }
  const pad = hi > lo ? 0 : Math.max(Math.abs(lo) * 0.1, 1);
  const [l, h] = [Math.min(0, lo - pad), hi + pad];
  const f = (/** @type {number} */ v) => a + ((v - l) / (h - l)) * (b - a);
  return { f, ticks: [0, 1, 2, 3, 4].map((i) => l + ((h - l) * i) / 4) };
}

/**
 * Overlaid step CDFs. Each series has its samples (`values`) or ready points (`points`, [x, fraction]);
 * `marks` adds labelled ticks on a series' curve (p50, p95), `extra` single points drawn apart
 * (the warm-up run). One `path.mark` per series with points.
 * @param {{ label: string, values?: number[], points?: [number, number][], marks?: { label: string, x: number }[], extra?: { label: string, x: number }[] }[]} series
 * `log: 'auto'` uses a log axis when the values span more than 20×.
 * @param {{ width?: number, height?: number, log?: boolean | 'auto', label?: string, unit?: string }} [options]
 */
export function cdfSvg(series, { width = 560, height = 220, log = false, label = 'latency CDF', unit = 'ms' } = {}) {
  const curves = series.map((s) => s.points ?? cdfPoints(s.values ?? []));
  const xs = [...curves.flat().map(([x]) => x), ...series.flatMap((s) => (s.extra ?? []).map((e) => e.x))];
  if (!xs.length) return frame(width, 40, `${label}: no data`, text(width / 2, 24, 'no data yet'));
  const [L, R, T, B] = [44, 12, 10, 28];
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  const sx = scale(lo, hi, L, width - R, log === 'auto' ? lo > 0 && hi / lo > 20 : log);
  const y = (/** @type {number} */ f) => height - B - f * (height - T - B);
  const parts = sx.ticks.map((t) => grid(sx.f(t), y(0), sx.f(t), y(1)) + text(sx.f(t), height - 10, `${fmtMs(t)} ${unit}`));
  for (const f of [0, 0.5, 0.95, 1]) parts.push(grid(L, y(f), width - R, y(f)), text(L - 4, y(f) + 4, String(f), 'end'));
  series.forEach((s, i) => {
    const pts = /** @type {[number, number][]} */ (curves[i]);
    const c = COLORS[i % COLORS.length];
    if (pts.length) {
      let d = `M${sx.f(/** @type {[number, number]} */ (pts[0])[0]).toFixed(1)},${y(0).toFixed(1)}`;
      pts.forEach(([, f], k) => {
        d += `V${y(f).toFixed(1)}`;
        if (k + 1 < pts.length) d += `H${sx.f(/** @type {[number, number]} */ (pts[k + 1])[0]).toFixed(1)}`;
      });
      parts.push(
        `<path class="mark" data-series="${esc(s.label)}" d="${d}" fill="none" stroke="${c}" stroke-width="1.8"><title>${esc(s.label)}: ${pts.length} samples</title></path>`,
      );
    }
    const at = (/** @type {number} */ x) => pts.find(([px]) => px >= x)?.[1] ?? 1;
    for (const m of s.marks ?? []) {
      parts.push(
        `<circle class="mark pct" cx="${sx.f(m.x).toFixed(1)}" cy="${y(at(m.x)).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(`${s.label} ${m.label} ${fmtMs(m.x)} ${unit}`)}</title></circle>`,
      );
    }
    for (const e of s.extra ?? []) {
      const [ex, ey] = [sx.f(e.x), y(0) - 6 - 8 * i];
      parts.push(
        `<path class="mark extra" d="M${ex.toFixed(1)},${(ey - 5).toFixed(1)}l4,5l-4,5l-4,-5z" fill="none" stroke="${c}" stroke-width="1.5"><title>${esc(`${s.label} ${e.label} ${fmtMs(e.x)} ${unit}`)}</title></path>`,
      );
    }
  });
  return frame(width, height, label, parts.join(''));
}

/**
 * Plan strips: one horizontal bar per row, one `rect.mark` per step, widths proportional to the
 * step's ms on a scale shared by the rows (so plans compare); <title> names each step.
 * @param {{ label: string, steps: { label: string, kind: string, ms: number }[] }[]} rows
 * @param {{ width?: number, label?: string }} [options]
 */
export function stripSvg(rows, { width = 560, label = 'plan steps' } = {}) {
  const [L, R, ROW] = [110, 8, 30];
  const total = Math.max(1e-9, ...rows.map((r) => r.steps.reduce((a, s) => a + Math.max(0, s.ms), 0)));
  const w = (/** @type {number} */ v) => (Math.max(0, v) / total) * (width - L - R);
  const parts = rows.map((r, i) => {
    let x = L;
    const y = 6 + i * ROW;
    const steps = r.steps.map((s, k) => {
      const sw = Math.max(1.5, w(s.ms));
      const fill = s.kind === 'kernel' ? COLORS[2] : COLORS[0];
      const rect = `<rect class="mark" data-kind="${esc(s.kind)}" x="${x.toFixed(1)}" y="${y}" width="${sw.toFixed(1)}" height="${ROW - 10}" fill="${fill}" fill-opacity="${k % 2 ? 0.65 : 0.95}" stroke="currentColor" stroke-opacity="0.4" stroke-width="0.5"><title>${esc(`step ${k}: ${s.kind === 'kernel' ? 'webq8 kernel' : 'ORT segment'} ${s.label}, ${fmtMs(s.ms)} ms`)}</title></rect>`;
      x += sw;
      return rect;
    });
    return `<g data-row="${esc(r.label)}">${text(L - 6, y + ROW / 2 + 4, r.label, 'end')}${steps.join('')}</g>`;
  });
  return frame(width, rows.length * ROW + 8, label, parts.join(''));
}

/**
 * Lines over time (x in seconds): one `path.mark` per series with points; y from 0.
 * @param {{ label: string, points: [number, number][] }[]} series
 * @param {{ width?: number, height?: number, label?: string, unit?: string }} [options]
 */
export function linesSvg(series, { width = 560, height = 160, label = 'over time', unit = '' } = {}) {
  const all = series.flatMap((s) => s.points);
  if (!all.length) return frame(width, 40, `${label}: no data`, text(width / 2, 24, 'no data yet'));
  const [L, R, T, B] = [44, 12, 10, 24];
  const xs = all.map(([x]) => x);
  const sx = scale(Math.min(...xs), Math.max(...xs), L, width - R, false);
  const sy = scale(0, Math.max(...all.map(([, v]) => v)), height - B, T, false);
  const parts = sy.ticks.map((t) => grid(L, sy.f(t), width - R, sy.f(t)) + text(L - 4, sy.f(t) + 4, `${fmtMs(t)}${unit}`, 'end'));
  parts.push(text(width - R, height - 6, 'time (s)', 'end'));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map(([x, v], k) => `${k ? 'L' : 'M'}${sx.f(x).toFixed(1)},${sy.f(v).toFixed(1)}`).join('');
    parts.push(
      `<path class="mark" data-series="${esc(s.label)}" d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6"><title>${esc(s.label)}</title></path>`,
    );
  });
  return frame(width, height, label, parts.join(''));
}

/** A sparkline of `values` (one `path.mark`, plus a dot on the last value). @param {number[]} values @param {{ width?: number, height?: number, label?: string }} [options] */
export function sparklineSvg(values, { width = 240, height = 36, label = 'sparkline' } = {}) {
  if (!values.length) return frame(width, height, `${label}: no data`, '', 'plot spark');
  const max = Math.max(...values, 1e-9);
  const x = (/** @type {number} */ i) => 2 + (values.length > 1 ? (i / (values.length - 1)) * (width - 6) : (width - 6) / 2);
  const y = (/** @type {number} */ v) => height - 3 - (v / max) * (height - 6);
  const d = values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const last = values.length - 1;
  return frame(
    width,
    height,
    label,
    `<path class="mark" d="${d}" fill="none" stroke="${COLORS[0]}" stroke-width="1.5"/><circle cx="${x(last).toFixed(1)}" cy="${y(/** @type {number} */ (values[last])).toFixed(1)}" r="2.5" fill="${COLORS[1]}"/>`,
    'plot spark',
  );
}

/** A small histogram of samples: one `rect.mark` per occupied bin. @param {number[]} values @param {{ width?: number, height?: number, bins?: number, label?: string, unit?: string }} [options] */
export function histogramSvg(values, { width = 320, height = 90, bins = 12, label = 'histogram', unit = 'ms' } = {}) {
  if (!values.length) return frame(width, 40, `${label}: no data`, text(width / 2, 24, 'no data yet'));
  const [L, R, B] = [8, 8, 18];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const step = hi > lo ? (hi - lo) / bins : 1;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / step))]++;
  const bw = (width - L - R) / bins;
  const top = Math.max(...counts);
  const parts = counts.map((n, i) =>
    n
      ? `<rect class="mark" x="${(L + i * bw + 1).toFixed(1)}" y="${(height - B - (n / top) * (height - B - 6)).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${((n / top) * (height - B - 6)).toFixed(1)}" fill="${COLORS[0]}"><title>${n} in ${fmtMs(lo + i * step)}–${fmtMs(lo + (i + 1) * step)} ${unit}</title></rect>`
      : '',
  );
  parts.push(text(L, height - 4, `${fmtMs(lo)} ${unit}`, 'start'), text(width - R, height - 4, `${fmtMs(hi > lo ? hi : lo + step)} ${unit}`, 'end'));
  return frame(width, height, label, parts.join(''));
}

/** A <table> of text cells (escaped), with a header row. @param {string[]} head @param {(string | number)[][]} rows @param {string} [attrs] */
export function tableHtml(head, rows, attrs = '') {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  return `<table ${attrs}><thead><tr>${th}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
