// The demo's "try your model" section: an .onnx file (picked, dropped, or a URL; `?try=URL` starts
// it) loaded in webq8's Worker on WASM and on WebGPU with each strategy that applies, then per plan:
// where each quantized op runs, the plan strip from `model.profile`, latency distributions on seeded
// inputs, and each GPU plan's outputs against WASM's. A float model can be quantized in the page
// (the `webq8/quantize` entry) and tried again as q8. The figures are pure functions in try-report.js,
// the drawing is plot.js; this file only loads, runs and writes the page.
import { copiesText, copyFeeds, compareOutputs, placementRows, seededFeeds, sizeText, symbolicDims } from './try-report.js';
import { cdfSvg, esc, fmtMs, percentile, stripSvg, tableHtml } from './plot.js';
import { profile } from '../dist/advanced.js';

const $ = (id) => document.getElementById(id);
const errorText = (e) => `${e?.name ?? 'Error'} [${e?.code ?? '-'}]: ${e?.message ?? String(e)}`;
/** What the tests read: per report ('original', 'q8'), each plan's model.info and profile. */
const hooks = (window.webq8Try = {});

/** Wires the section to `runtime`; `params` may hold try=URL, runs=N, dims=key:size,…. */
export function setupTryPanel(runtime, params) {
  let session = null; // the models of the current try, disposed when the next starts
  // ?strategies=kernels,ort limits the WebGPU plans tried (each load compiles the model again).
  const strategies = (params.get('strategies') ?? 'kernels,ort,auto').split(',').filter((s) => ['kernels', 'ort', 'auto'].includes(s));
  const start = async (load) => {
    const prev = session;
    session = { models: [], runtime, stale: false };
    const mine = session;
    if (prev) {
      prev.stale = true; // a try still loading stops at its next step (see tryModel's load)
      await Promise.allSettled(prev.models.map((m) => m.dispose()));
    }
    $('try-error').textContent = '';
    $('try-results').replaceChildren();
    document.body.dataset.try = 'loading';
    delete document.body.dataset.tryQ8;
    try {
      const { name, bytes } = await load();
      await tryModel(runtime, mine, { name, bytes, report: 'original', dims: parseDims(params.get('dims')), strategies });
      document.body.dataset.try = 'done';
    } catch (e) {
      if (mine.stale) return;
      $('try-error').textContent = errorText(e);
      document.body.dataset.try = 'error';
    } finally {
      if (!mine.stale) $('try-status').textContent = '';
    }
  };
  const fromUrl = (url) => () =>
    fetch(url).then(async (r) => {
      if (!r.ok) throw new Error(`GET ${url} answered ${r.status}: check the URL (the page fetches it, so the server must allow this origin).`);
      return { name: url.split(/[?#]/)[0].split('/').pop() || url, bytes: new Uint8Array(await r.arrayBuffer()) };
    });
  const fromFile = (file) => async () => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  if (params.has('runs')) $('try-runs').value = params.get('runs');
  $('try-go').addEventListener('click', () => $('try-url').value && start(fromUrl($('try-url').value)));
  $('try-file').addEventListener('change', () => $('try-file').files[0] && start(fromFile($('try-file').files[0])));
  const drop = $('try');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) start(fromFile(file));
  });
  if (params.has('try')) {
    $('try-url').value = params.get('try');
    $('try').scrollIntoView();
    start(fromUrl(params.get('try')));
  }
}

/** "x[3]:64,batch:2" → { 'x[3]': 64, batch: 2 }. */
function parseDims(text) {
  return Object.fromEntries(
    (text ?? '')
      .split(',')
      .map((p) => p.split(':'))
      .filter(([k, v]) => k && Number(v) > 0)
      .map(([k, v]) => [k, Number(v)]),
  );
}

/** Loads `bytes` on every plan that applies, measures, and writes one report into the page. */
async function tryModel(runtime, session, { name, bytes, report, dims, strategies }) {
  const status = (t) => ($('try-status').textContent = `${name}: ${t}`);
  status('loading on WASM…');
  const load = async (label, options) => {
    const t0 = performance.now();
    const model = await runtime.load(bytes.slice(), options);
    session.models.push(model);
    if (session.stale) {
      await model.dispose();
      throw new Error('A newer try started.');
    }
    return { label, model, loadMs: performance.now() - t0 };
  };
  const plans = [await load('wasm', { backend: 'wasm' })];
  const gpu = typeof navigator.gpu !== 'undefined' && (await navigator.gpu.requestAdapter().catch(() => null));
  const notes = [];
  if (gpu) {
    status('loading on WebGPU…');
    for (const strategy of strategies) {
      try {
        const plan = await load(`webgpu ${strategy}`, { backend: 'webgpu', strategy });
        plans.push(plan);
        // Without a kernel plan every strategy is the same single ORT session: one is enough.
        if (!plan.model.info.placement?.kernels.length) {
          plan.label = 'webgpu ort';
          break;
        }
      } catch (e) {
        notes.push(`webgpu ${strategy}: ${errorText(e)}`);
      }
    }
  } else notes.push('This browser has no WebGPU adapter: only WASM is measured.');
  const el = document.createElement('div');
  el.className = 'try-report';
  el.dataset.report = report;
  $('try-results').appendChild(el);
  const sizes = { ...Object.fromEntries(symbolicDims(plans[0].model.info.inputs).map((d) => [d.key, d.size])), ...dims };
  const measure = async () => {
    if (session.stale) return;
    const results = await measurePlans(plans, sizes, Number($('try-runs').value) || 20, status);
    if (session.stale) return;
    renderReport(el, { name, bytes, plans, results, notes, sizes, report });
    el.querySelector('.try-measure')?.addEventListener('click', () => {
      for (const input of el.querySelectorAll('.try-dim')) sizes[input.dataset.key] = Number(input.value) || 1;
      measure().catch((e) => ($('try-error').textContent = errorText(e)));
    });
    hooks[report] = {
      outputs: plans[0].model.info.outputs.map((o) => o.name),
      plans: plans.map((p, i) => ({ label: p.label, info: p.model.info, profile: results[i].profile, runs: results[i].runs.length })),
    };
    if (report === 'original') wireQuantize(el, session, { name, bytes, dims, plans, strategies });
  };
  await measure();
}

/** Per plan: one warm-up run (kept apart; its outputs are compared), `n` timed runs, one profile. */
async function measurePlans(plans, sizes, n, status) {
  const feeds = seededFeeds(plans[0].model.info.inputs, sizes);
  const results = [];
  for (const p of plans) {
    status(`${p.label}: warm-up and ${n} runs…`);
    const r = { warmup: NaN, runs: [], outputs: null, profile: null, counters: null, error: '' };
    try {
      let t0 = performance.now();
      r.outputs = await p.model.run(copyFeeds(feeds));
      r.warmup = performance.now() - t0;
      for (let i = 0; i < n; i++) {
        t0 = performance.now();
        await p.model.run(copyFeeds(feeds));
        r.runs.push(performance.now() - t0);
      }
      r.counters = p.model.stats().lastRun?.counters ?? null;
      status(`${p.label}: profiling…`);
      r.profile = await profile(p.model, copyFeeds(feeds));
    } catch (e) {
      r.error = errorText(e);
    }
    results.push(r);
  }
  return results;
}

/** Writes the report of one model into `el`. */
function renderReport(el, { name, bytes, plans, results, notes, sizes, report }) {
  const gpuPlan = plans.find((p) => p.model.info.placement && p.model.info.backend.backend === 'webgpu');
  const placement = gpuPlan?.model.info.placement;
  el.innerHTML = `<h3>${esc(report === 'q8' ? `${name} (quantized here)` : name)}, ${esc(sizeText(bytes.length))}</h3>
    ${tableHtml(
      ['plan', 'backend', 'strategy and why', 'load', 'copies per inference', 'error'],
      plans.map((p, i) => [
        p.label,
        p.model.info.backend.backend,
        p.model.info.strategy ? `${p.model.info.strategy.strategy}: ${p.model.info.strategy.reason}` : p.model.info.backend.reason,
        `${fmtMs(p.loadMs)} ms`,
        results[i].counters ? copiesText(results[i].counters) : '–',
        results[i].error,
      ]),
      'class="try-plans"',
    )}
    ${notes.map((t) => `<p class="note">${esc(t)}</p>`).join('')}
    ${shapesHtml(sizes)}
    <h4>Where each quantized op runs</h4>${placementHtml(placement)}
    <h4>The plan, step by step (model.profile)</h4>${stripHtml(plans, results)}
    <h4>Latency on seeded inputs</h4>${latencyHtml(plans, results)}
    <h4>Numerics: each GPU plan's outputs against WASM</h4>${numericsHtml(plans, results)}
    <div class="try-quantize"></div>`;
}

function shapesHtml(sizes) {
  const keys = Object.keys(sizes);
  if (!keys.length) return '<p class="note">Every input dimension is fixed.</p>';
  const fields = keys.map((k) => `<label>${esc(k)} <input class="try-dim" data-key="${esc(k)}" type="number" min="1" value="${sizes[k]}"></label>`);
  return `<p>Symbolic dimensions: ${fields.join(' ')} <button class="try-measure">Measure again</button></p>`;
}

function placementHtml(placement) {
  if (!placement) return '<p class="note">No placement: without a WebGPU plan the whole model runs in one ORT session on the CPU.</p>';
  const rows = placementRows(placement);
  const cpu = Object.entries(placement.cpuFallbackOps).map(([op, n]) => `${op} ×${n}`);
  return `${tableHtml(
    ['node', 'op', "'kernels' plan", "'ort' plan", 'why'],
    rows.map((r) => [r.node, r.op, r.kernelsPlan, r.ortPlan, `${r.why}${r.replaces > 1 ? `; replaces ${r.replaces} nodes` : ''}`]),
    'data-testid="try-placement"',
  )}
  <p>${rows.length ? `${rows.length} quantized op${rows.length === 1 ? '' : 's'}` : 'No quantized op: this is a float model (quantize it below)'}; ORT runs ${placement.ortNodes} nodes${placement.segments ? ` in ${placement.segments} segments` : ''}; ops ORT's WebGPU EP would run on the CPU (it has no kernel for them; each costs a copy to the CPU and back): <span class="try-cpu">${esc(cpu.join(', ') || 'none')}</span>.</p>`;
}

function stripHtml(plans, results) {
  const rows = plans.flatMap((p, i) => (results[i].profile ? [{ label: p.label, steps: results[i].profile.steps, totalMs: results[i].profile.totalMs }] : []));
  const text = rows.map((r) => {
    const steps = r.steps.map((s) => `${s.kind === 'kernel' ? 'kernel' : 'ORT'} ${s.label} ${fmtMs(s.ms)} ms`).join(' · ');
    return `<li>${esc(r.label)} (total ${esc(fmtMs(r.totalMs))} ms): ${esc(steps)}</li>`;
  });
  return `<figure data-testid="try-plan-strip">${stripSvg(rows, { label: 'plan steps per plan, widths by time' })}
    <figcaption>Blue: ORT segments; green: webq8 kernel steps (hover for each). Each step waits for the GPU, so a profiled run is slower than a plain one.<ul>${text.join('')}</ul></figcaption></figure>`;
}

function latencyHtml(plans, results) {
  const series = plans.map((p, i) => {
    const s = [...results[i].runs].sort((a, b) => a - b);
    return {
      label: p.label,
      values: s,
      marks: s.length
        ? [
            { label: 'p50', x: percentile(s, 0.5) },
            { label: 'p95', x: percentile(s, 0.95) },
          ]
        : [],
      extra: Number.isFinite(results[i].warmup) ? [{ label: 'warm-up', x: results[i].warmup }] : [],
    };
  });
  const rows = series.map((s, i) => [
    s.label,
    `${fmtMs(results[i].warmup)} ms`,
    s.values.length,
    `${fmtMs(percentile(s.values, 0.5))} ms`,
    `${fmtMs(percentile(s.values, 0.95))} ms`,
    `${fmtMs(s.values.at(-1) ?? NaN)} ms`,
  ]);
  return `<figure data-testid="try-latency-plot">${cdfSvg(series, { label: 'latency CDF per plan', log: 'auto' })}
    <figcaption>CDF of the timed runs per plan (dots: p50 and p95; diamond below: the warm-up run, kept apart).
    ${tableHtml(['plan', 'warm-up', 'runs', 'p50', 'p95', 'max'], rows)}</figcaption></figure>`;
}

function numericsHtml(plans, results) {
  const ref = results[0].outputs;
  const gpu = plans.map((p, i) => ({ p, r: results[i] })).slice(1);
  const names = plans[0].model.info.outputs.map((o) => o.name);
  const cell = (out, name) => {
    if (!ref || !out) return 'not run';
    const c = compareOutputs(out[name], ref[name]);
    return `rel. L2 ${c.relL2.toExponential(2)}, max |Δ| ${c.maxAbs.toExponential(2)}${c.note ? ` (${c.note})` : ''}`;
  };
  const verify = gpu.map(({ p }) => p.model.info?.verify).filter(Boolean);
  return `${tableHtml(
    ['output', ...gpu.map(({ p }) => p.label)],
    names.map((n) => [n, ...gpu.map(({ r }) => cell(r.outputs, n))]),
    'data-testid="try-numerics"',
  )}
    ${gpu.length ? '' : '<p class="note">No GPU plan to compare.</p>'}
    ${verify.length ? `<p>webq8's load-time check (model.info.verify): ${esc(verify.map((v) => JSON.stringify(v)).join('; '))}</p>` : ''}`;
}

/** For a model without int8 ops: quantize it here (the `webq8/quantize` entry), then try the q8 model. */
function wireQuantize(el, session, { name, bytes, dims, plans, strategies }) {
  const placement = plans.find((p) => p.model.info.placement)?.model.info.placement;
  // A float Conv's fallback ("float Conv: … quantize its weight") asks for exactly this.
  if (placement && (placement.kernels.length > 0 || placement.fallbacks.some((f) => !f.reason.startsWith('float ')))) return;
  const box = el.querySelector('.try-quantize');
  box.innerHTML = `<h4>Quantize here</h4><p>This model has no int8 op for webq8's kernels. <code>webq8/quantize</code> (dynamic int8, as ORT's <code>quantize_dynamic</code>) can make one in this page: <button class="try-quantize-go">Quantize</button></p><p class="try-quantize-out"></p>`;
  box.querySelector('button').addEventListener('click', async () => {
    const out = box.querySelector('.try-quantize-out');
    document.body.dataset.tryQ8 = 'loading';
    try {
      const { quantizeDynamic } = await import('../dist/quantize.js');
      // MatMuls, then Convs (a second pass, so that the page can say how many of each).
      const mm = quantizeDynamic(bytes, { source: name });
      const conv = quantizeDynamic(mm.bytes, { source: name, ops: ['Conv'] });
      const skipped = [...mm.report.skipped, ...conv.report.skipped];
      const [n, c] = [mm.report.quantized.length, conv.report.quantized.length];
      const bytesOf = (k) => mm.report.weightBytes[k] + conv.report.weightBytes[k];
      if (!n && !c) throw new Error(`Nothing to quantize: ${skipped.map((s) => `${s.node}: ${s.reason}`).join('; ') || 'no MatMul or Conv'}.`);
      const url = URL.createObjectURL(new Blob([conv.bytes], { type: 'application/octet-stream' }));
      const q8name = name.replace(/(\.onnx)?$/, '-q8.onnx');
      const counted = [n ? `${n} MatMul${n === 1 ? '' : 's'}` : '', c ? `${c} Conv${c === 1 ? '' : 's'}` : ''].filter(Boolean).join(' and ');
      out.innerHTML = `${counted} int8, ${skipped.length} kept float; weights ${esc(sizeText(bytesOf('float')))} → ${esc(sizeText(bytesOf('int8')))}; model ${esc(sizeText(bytes.length))} → ${esc(sizeText(conv.bytes.length))}. <a download="${esc(q8name)}" href="${url}">Download ${esc(q8name)}</a>`;
      await tryModel(session.runtime, session, { name: q8name, bytes: conv.bytes, report: 'q8', dims, strategies });
      document.body.dataset.tryQ8 = 'done';
    } catch (e) {
      out.textContent = errorText(e);
      out.classList.add('error');
      document.body.dataset.tryQ8 = 'error';
    } finally {
      $('try-status').textContent = '';
    }
  });
}
