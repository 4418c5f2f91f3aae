// Token generation benchmark: TTFT and TPOT p50/p95 and tokens/s of `model.generate` on a decoder
// with GPT-2-small shapes (12 layers × 768, 12 heads, vocabulary 32768) whose weights are SYNTHETIC
// (seeded random numbers from src/graph/decoder-builder.ts: the tokens mean nothing, the shapes and
// ops are a real decoder's). Configurations: fp32 and q8 (webq8's quantizer) on ORT's WebGPU EP, q8
// on webq8's int8 kernels between ORT WebGPU segments, fp32 and q8 on ORT's WASM EP; one stream at a
// time and 4 streams, run one after another and then concurrently (wall clock of all 4 each; the
// concurrent ones share batched decode steps where the plan allows it, src/worker/decode-batcher.ts). Each
// configuration answers once untimed (ORT compiles its WebGPU shaders per shape on first use), then
// ANSWERS times timed for TTFT/TPOT, every answer the same lengths.
// Environment: WEBQ8_GEN_TOKENS (new tokens per answer), WEBQ8_GEN_PROMPT (prompt tokens),
// WEBQ8_GEN_ANSWERS (timed answers per configuration), WEBQ8_GEN_ROUNDS (rounds of 4 sequential then
// 4 concurrent answers), WEBQ8_GEN_ONLY (comma-separated config names).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importSources } from '../scripts/node-sources.mjs';
import { openBenchPage, table } from './browser.mjs';

const env = process.env;
const TOKENS = Number(env.WEBQ8_GEN_TOKENS ?? 8);
const PROMPT = Number(env.WEBQ8_GEN_PROMPT ?? 8);
const ANSWERS = Number(env.WEBQ8_GEN_ANSWERS ?? 2);
const STREAMS = 4;
/** Rounds of (4 sequential answers, then 4 concurrent ones) per configuration. */
const ROUNDS = Number(env.WEBQ8_GEN_ROUNDS ?? 3);
/** GPT-2-small shapes (its vocabulary rounded down to 2^15). */
const GPT2_SMALL_SHAPES = { layers: 12, hidden: 768, heads: 12, vocab: 32768, maxPositions: 1024 };
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = `${ROOT}.cache/generate-bench/`;
/** Bump when the builder changes: the cached models are rebuilt. */
const MODEL_VERSION = 1;

// ORT's WebGPU EP runs this fp32 model at ~13 s per token on SwiftShader: it answers with fewer
// tokens, once, and without the 4-stream run (which would take ~15 minutes alone).
const SLOW = { tokens: Math.min(TOKENS, 4), answers: 1, streams: 0 };
const CONFIGS = [
  { name: 'webgpu fp32 ORT', model: 'fp32', load: { backend: 'webgpu', strategy: 'ort' }, ...SLOW },
  { name: 'webgpu q8 ORT', model: 'q8', load: { backend: 'webgpu', strategy: 'ort' } },
  { name: 'webgpu q8 webq8-kernels', model: 'q8', load: { backend: 'webgpu', strategy: 'kernels' } },
  { name: 'wasm fp32', model: 'fp32', load: { backend: 'wasm' } },
  { name: 'wasm q8', model: 'q8', load: { backend: 'wasm' } },
].filter((c) => !env.WEBQ8_GEN_ONLY || env.WEBQ8_GEN_ONLY.split(',').includes(c.name));

/** The fp32 and q8 models (built once, kept in .cache/generate-bench/), as served URLs. */
async function models() {
  const url = (v) => `/.cache/generate-bench/gpt2-small-shapes-v${MODEL_VERSION}-${v}.onnx`;
  if (!existsSync(`${ROOT}${url('q8').slice(1)}`)) {
    const { buildDecoder, quantizeDynamic } = await importSources(
      { decoder: 'src/graph/decoder-builder.ts', quantize: 'src/graph/quantize.ts' },
      `${ROOT}.cache/bench/generate-src-${process.pid}/`,
    );
    mkdirSync(DIR, { recursive: true });
    const fp32 = buildDecoder(GPT2_SMALL_SHAPES);
    const put = (v, bytes) => {
      writeFileSync(`${ROOT}${url(v).slice(1)}.tmp`, bytes);
      renameSync(`${ROOT}${url(v).slice(1)}.tmp`, `${ROOT}${url(v).slice(1)}`);
    };
    put('fp32', fp32);
    put('q8', quantizeDynamic(fp32).bytes);
  }
  return { fp32: url('fp32'), q8: url('q8') };
}

/** Runs in the page: loads one configuration and measures it. */
async function measureInPage({ url, load, tokens, promptLength, answers, streams, rounds }) {
  if (!streams) streams = 0;
  const { createRuntime } = await import('/dist/index.js');
  const rt = createRuntime();
  const prompt = (seed) => Array.from({ length: promptLength }, (_, i) => (seed * 7919 + i * 104729) % 32768);
  const opts = { maxNewTokens: tokens };
  const t0 = performance.now();
  const model = await rt.load(url, { ...load, cache: 'bypass' });
  const loadMs = performance.now() - t0;
  await model.generate(prompt(0), opts).result; // untimed: compiles shaders for these lengths
  const single = [];
  for (let a = 0; a < answers; a++) single.push((await model.generate(prompt(a + 1), opts).result).stats);
  // Sequential and concurrent alternate round by round, so a change of load on this machine hits both.
  let sequentialMs = 0;
  let concurrentMs = 0;
  const sequential = [];
  const together = [];
  for (let round = 0; round < (streams ? rounds : 0); round++) {
    const s0 = performance.now();
    for (let s = 0; s < streams; s++) sequential.push((await model.generate(prompt(s + 1), opts).result).stats);
    sequentialMs += performance.now() - s0;
    const w0 = performance.now();
    together.push(...(await Promise.all(Array.from({ length: streams }, (_, s) => model.generate(prompt(s + 1), opts).result))));
    concurrentMs += performance.now() - w0;
  }
  const info = {
    strategy: model.info.strategy?.strategy,
    adapter: model.info.adapter ? `${model.info.adapter.vendor} ${model.info.adapter.architecture}` : 'none',
    kernelNodes: model.info.placement?.kernelNodes ?? 0,
  };
  await rt.dispose();
  return {
    loadMs,
    single,
    sequentialMs,
    sequentialTpot: sequential.flatMap((s) => s.tpotMs),
    concurrent: {
      ms: concurrentMs,
      tokens: together.reduce((n, r) => n + r.tokens.length, 0),
      tpot: together.flatMap((r) => r.stats.tpotMs),
      largestBatch: Math.max(0, ...together.map((r) => r.stats.batching.largestBatch)),
      unbatchedReason: together[0]?.stats.batching.unbatchedReason,
    },
    info,
  };
}

function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
}

/** Runs the benchmark and prints its table and goals. */
export async function run() {
  const urls = await models();
  const { page, close } = await openBenchPage();
  const rows = [];
  try {
    for (const c of CONFIGS) {
      const tokens = c.tokens ?? TOKENS;
      const r = await page.evaluate(measureInPage, {
        url: urls[c.model],
        load: c.load,
        tokens,
        promptLength: PROMPT,
        answers: c.answers ?? ANSWERS,
        streams: c.streams ?? STREAMS,
        rounds: ROUNDS,
      });
      const tpot = r.single.flatMap((s) => s.tpotMs);
      const decodeMs = r.single.reduce((n, s) => n + s.tpotMs.reduce((a, b) => a + b, 0), 0);
      rows.push({
        ...c,
        tokens,
        answers: r.single.length,
        info: r.info,
        loadMs: r.loadMs,
        ttft: [
          quantile(
            r.single.map((s) => s.ttftMs),
            0.5,
          ),
          quantile(
            r.single.map((s) => s.ttftMs),
            0.95,
          ),
        ],
        tpot: [quantile(tpot, 0.5), quantile(tpot, 0.95)],
        decodeTps: (tpot.length / decodeMs) * 1000,
        busyPer1k: r.single.reduce((n, s) => n + s.busyMsPer1kTokens, 0) / r.single.length,
        readbackPerToken: r.single.reduce((n, s) => n + s.counters.readbackBytes, 0) / r.single.reduce((n, s) => n + s.newTokens, 0),
        sequentialTps: r.sequentialMs > 0 ? ((STREAMS * ROUNDS * tokens) / r.sequentialMs) * 1000 : NaN,
        concurrentTps: r.concurrent.tokens ? (r.concurrent.tokens / r.concurrent.ms) * 1000 : NaN,
        concurrentTpotP95: quantile(r.concurrent.tpot, 0.95),
        sequentialTpotP95: quantile(r.sequentialTpot, 0.95),
        sequentialTpotP50: quantile(r.sequentialTpot, 0.5),
        concurrentTpotP50: quantile(r.concurrent.tpot, 0.5),
        largestBatch: r.concurrent.largestBatch,
        unbatchedReason: r.concurrent.unbatchedReason,
      });
      console.error(`[generate] ${c.name} done`);
    }
  } finally {
    await close();
  }
  report(rows);
}

function report(rows) {
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const adapter = rows.find((r) => r.load.backend === 'webgpu')?.info.adapter ?? 'none';
  console.log(`\n## generate — SYNTHETIC decoder weights (seeded random), GPT-2-small shapes: 12 layers × 768, 12 heads, vocabulary 32768`);
  console.log(
    `prompt ${PROMPT} tokens; per configuration 1 untimed answer, then the timed ones, then ${ROUNDS} rounds of ${STREAMS} sequential and ${STREAMS} concurrent answers; WebGPU adapter: ${adapter}`,
  );
  console.log(
    table(
      [
        'config',
        'strategy',
        'tokens × answers',
        'TTFT p50',
        'TTFT p95',
        'TPOT p50',
        'TPOT p95',
        'decode tok/s',
        'busy ms/1k tok',
        'readback B/tok',
        `${STREAMS} seq tok/s`,
        `${STREAMS} conc tok/s`,
        'seq TPOT p95',
        'conc TPOT p95',
        'batch',
      ],
      rows.map((r) => [
        r.name,
        r.info.strategy,
        `${r.tokens} × ${r.answers}`,
        f(r.ttft[0]),
        f(r.ttft[1]),
        f(r.tpot[0]),
        f(r.tpot[1]),
        f(r.decodeTps, 2),
        f(r.busyPer1k, 0),
        f(r.readbackPerToken, 1),
        f(r.sequentialTps, 2),
        f(r.concurrentTps, 2),
        f(r.sequentialTpotP95),
        f(r.concurrentTpotP95),
        r.largestBatch ? String(r.largestBatch) : '-',
      ]),
    ),
  );
  const by = (name) => rows.find((r) => r.name === name);
  const kernels = by('webgpu q8 webq8-kernels');
  const ortQ8 = by('webgpu q8 ORT');
  console.log('\ngoals:');
  if (kernels && ortQ8)
    console.log(`  q8 decode on webq8 kernels vs ORT WebGPU EP, same q8 model: ${f(kernels.decodeTps / ortQ8.decodeTps, 2)}× tokens/s (goal ≥ 3×)`);
  for (const r of rows.filter((x) => Number.isFinite(x.concurrentTps))) {
    const how = r.unbatchedReason ? `unbatched: ${r.unbatchedReason}` : `batched decode steps, up to ${r.largestBatch} sequences per model call`;
    console.log(
      `  ${r.name}: ${STREAMS} concurrent streams vs ${STREAMS} sequential: ${f(r.concurrentTps / r.sequentialTps, 2)}× total tokens/s, TPOT p50 ${f(r.concurrentTpotP50)} vs ${f(r.sequentialTpotP50)} ms, p95 ${f(r.concurrentTpotP95)} vs ${f(r.sequentialTpotP95)} ms (goal ≥ 2× at equal TPOT p95; ${how})`,
    );
  }
  console.log(
    '  (on a fallback adapter such as SwiftShader the "GPU" is the CPU: ORT runs this q8 model\'s MatMulInteger on its CPU EP, and the kernel plan pays one ORT session run per segment, 49 per token here)',
  );
  const worst = Math.max(...rows.filter((r) => r.load.backend === 'webgpu').map((r) => r.readbackPerToken));
  if (Number.isFinite(worst)) console.log(`  readback per token on WebGPU: at most ${f(worst, 1)} bytes (goal ≤ 8)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
