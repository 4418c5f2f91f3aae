// The demo's generate panel: `model.generate` on webq8's synthetic decoder (fp32, or q8 made by
// `webq8 quantize`; both prepared by scripts/demo-models.mjs when the demo starts). Its weights are
// seeded random numbers: the ids mean nothing, the speed is real. Ids are shown as they stream in,
// with time to first token, time per output token and decode tokens/s updated on every token.
import { fmtMs, sparklineSvg } from './plot.js';

const $ = (id) => document.getElementById(id);

/** Parses "1, 2 3" into ids below `vocab`; throws with a message the page shows. */
function parsePrompt(text, vocab) {
  const ids = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (!ids.length || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= vocab)) {
    throw new Error(`The prompt is token ids: integers from 0 to ${vocab - 1}, separated by spaces.`);
  }
  return ids;
}

/** Live figures of one answer from the arrival times of its tokens (ms since `generate()`). */
function liveFigures(arrivals) {
  const n = arrivals.length;
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]);
  const decodeMs = n > 1 ? arrivals[n - 1] - arrivals[0] : 0;
  return {
    ttft: n ? `${arrivals[0].toFixed(1)} ms` : '–',
    tpot: gaps.length ? `${(decodeMs / gaps.length).toFixed(1)} ms mean, last ${gaps[gaps.length - 1].toFixed(1)} ms` : '–',
    rate: gaps.length ? `${((1000 * gaps.length) / decodeMs).toFixed(1)} tokens/s (decode), ${((1000 * n) / arrivals[n - 1]).toFixed(1)} overall` : '–',
  };
}

/** The per-token latency (gap between arrivals) as a sparkline, with its numbers as text. */
function showSpark(arrivals) {
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]);
  if (!gaps.length) return;
  const text = `${gaps.length} gaps, last ${fmtMs(gaps.at(-1))} ms, max ${fmtMs(Math.max(...gaps))} ms`;
  $('gen-spark').innerHTML = `${sparklineSvg(gaps, { label: `per-token latency: ${text}` })} <span>${text}</span>`;
}

/** Wires the generate panel to `runtime`; `prepared` resolves to models.json (or null). */
export function setupGeneratePanel(runtime, prepared) {
  const models = new Map(); // "variant backend" -> Promise<Model>
  let controller = null;
  prepared.then((p) => {
    const c = p?.decoder.config;
    $('gen-shape').textContent = c
      ? `${c.layers} layers × ${c.hidden}, ${c.heads} heads, vocabulary ${c.vocab}, context ${c.maxPositions}`
      : 'not prepared: start the demo with npm run demo';
  });

  const load = async (variant, backend) => {
    const p = await prepared;
    if (!p) throw new Error('The decoder is built when the demo starts: run `npm run demo`.');
    const key = `${variant} ${backend}`;
    if (!models.has(key)) {
      const m = runtime.load(p.decoder[variant].url, { backend });
      m.catch(() => models.delete(key));
      models.set(key, m);
    }
    return { model: await models.get(key), vocab: p.decoder.config.vocab };
  };

  const generate = async () => {
    controller = new AbortController();
    $('gen-go').textContent = 'Stop';
    $('gen-ids').textContent = '';
    $('gen-finish').classList.remove('error');
    document.body.dataset.genState = 'running';
    for (const id of ['gen-ttft', 'gen-tpot', 'gen-rate', 'gen-finish']) $(id).textContent = '–';
    try {
      const { model, vocab } = await load($('gen-model').value, $('gen-backend').value);
      const s = model.info.strategy;
      $('gen-info').textContent = `${model.info.source.split('/').pop()} on ${model.info.backend.backend}${s ? `, strategy ${s.strategy}` : ''}`;
      const prompt = parsePrompt($('gen-prompt').value, vocab);
      const t0 = performance.now();
      const stream = model.generate(prompt, { maxNewTokens: Number($('gen-tokens').value), signal: controller.signal });
      const ids = [];
      const arrivals = [];
      for await (const id of stream) {
        arrivals.push(performance.now() - t0);
        ids.push(id);
        $('gen-ids').textContent = ids.join(' ');
        const live = liveFigures(arrivals);
        $('gen-ttft').textContent = live.ttft;
        $('gen-tpot').textContent = live.tpot;
        $('gen-rate').textContent = live.rate;
        showSpark(arrivals);
      }
      const { finishReason, stats } = await stream.result;
      $('gen-finish').textContent =
        `${finishReason}: ${stats.newTokens} new tokens after ${stats.promptTokens} prompt tokens; busy ${stats.busyMs.toFixed(1)} ms`;
      document.body.dataset.genState = 'done';
    } catch (e) {
      const stopped = e.name === 'AbortError' && controller?.signal.aborted;
      $('gen-finish').textContent = stopped
        ? `stopped after ${$('gen-ids').textContent.split(' ').filter(Boolean).length} tokens`
        : `${e.name} [${e.code ?? '-'}]: ${e.message}`;
      $('gen-finish').classList.toggle('error', !stopped);
      document.body.dataset.genState = stopped ? 'stopped' : 'error';
    } finally {
      controller = null;
      $('gen-go').textContent = 'Generate';
    }
  };

  $('gen-go').addEventListener('click', () => (controller ? controller.abort() : generate()));
}
