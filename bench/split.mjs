#!/usr/bin/env node
// `npm run bench -- split` (after `npm run build`): the cost of a weight split into column blocks
// (src/kernels/weight-parts.ts: a weight above the device's maxStorageBufferBindingSize runs as one
// dispatch per block) against the same weight unsplit, side by side in one page. Each shape's
// QuantizedMatMul step (float32 epilogue with bias, the loop the adapter's defaults pick) is prepared
// twice: with the device's limit, and with a forced limit that splits its weight into PARTS blocks.
// Times are wall clock from submit to onSubmittedWorkDone of REPS calls recorded into one submission,
// best of up to RUNS after one warm-up, interleaved (unsplit, split, unsplit, ...). Goal: ≤ 1.10×.
import { cpus, loadavg } from 'node:os';
import { openBenchPage, table } from './browser.mjs';

// Shapes M×K×N: a decode row through a 4 MiB weight, a short prompt, a batch (WEBQ8_SPLIT_SHAPES=1x4096x4096,… for others).
const SHAPES = (process.env.WEBQ8_SPLIT_SHAPES ?? '1x2048x2048,16x768x3072,64x768x768').split(',').map((s) => s.split('x').map(Number));
const PARTS = Number(process.env.WEBQ8_SPLIT_PARTS ?? 4);
const RUNS = Number(process.env.WEBQ8_BENCH_RUNS ?? 5);
const REPS = 10;
const GOAL = 1.1;

/** Page side: times each shape unsplit and split; returns rows of figures. */
async function pageSplit({ shapes, parts, runs, reps }) {
  const { ortAndKernels, bestOf } = await import('/bench/page-bench.mjs');
  const { k } = await ortAndKernels();
  const adapter = await navigator.gpu.requestAdapter();
  const ctx = new k.GpuContext(await adapter.requestDevice());
  const info = adapter.info ?? {};
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rows = [];
  for (const [m, kk, n] of shapes) {
    const def = {
      op: 'QuantizedMatMul',
      attrs: {},
      constants: {
        B: { type: 'int8', dims: [kk, n], data: Int8Array.from({ length: kk * n }, () => Math.floor(rand() * 256) - 128) },
        b_scale: { type: 'float32', dims: [n], data: Float32Array.from({ length: n }, () => 0.01 * rand()) },
        bias: { type: 'float32', dims: [n], data: Float32Array.from({ length: n }, () => rand() - 0.5) },
      },
    };
    const blockBytes = Math.ceil(kk / 4) * 16;
    const limit = blockBytes * Math.ceil(Math.ceil(n / 4) / parts);
    const unsplit = k.prepareKernel(ctx, def);
    k.forceWeightPartLimit(limit);
    const split = k.prepareKernel(ctx, def);
    k.forceWeightPartLimit(undefined);
    const inputs = [
      {
        buffer: ctx.upload(
          Uint8Array.from({ length: m * kk }, () => Math.floor(rand() * 256)),
          'bench.a',
        ),
        type: 'uint8',
        dims: [m, kk],
      },
      { buffer: ctx.upload(Float32Array.from([0.02]), 'bench.ascale'), type: 'float32', dims: [] },
      { buffer: ctx.upload(Uint8Array.from([128, 0, 0, 0]), 'bench.azp'), type: 'uint8', dims: [] },
    ];
    const time = (kernel) => async () => {
      ctx.record(() => {
        for (let i = 0; i < reps; i++) for (const o of kernel.run(inputs)) ctx.buffers.release(o.buffer);
      });
      await ctx.device.queue.onSubmittedWorkDone();
    };
    const before = ctx.counters.dispatches;
    await time(split)();
    const dispatches = (ctx.counters.dispatches - before) / reps;
    let a = Infinity;
    let b = Infinity;
    for (let r = 0; r < runs; r++) {
      a = Math.min(a, (await bestOf(time(unsplit), 1, 0)).ms);
      b = Math.min(b, (await bestOf(time(split), 1, 0)).ms);
    }
    rows.push({ shape: `${m}x${kk}x${n}`, weightKiB: (kk * n) / 1024, limitKiB: limit / 1024, dispatches, unsplitMs: a / reps, splitMs: b / reps });
    unsplit.dispose();
    split.dispose();
    for (const t of inputs) ctx.buffers.release(t.buffer);
  }
  ctx.device.destroy();
  return { rows, adapter: `${info.vendor ?? '?'} ${info.architecture ?? '?'}${adapter.isFallbackAdapter || info.isFallbackAdapter ? ' (fallback)' : ''}` };
}

export async function run() {
  const { page, close } = await openBenchPage();
  try {
    const { rows, adapter } = await page.evaluate(pageSplit, { shapes: SHAPES, parts: PARTS, runs: RUNS, reps: REPS });
    console.log(`\n## Split weights: ${PARTS} column blocks vs one (QuantizedMatMul, int8 weights, float32 out)`);
    console.log(`adapter: ${adapter}; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}; best of ${RUNS} × ${REPS} calls per submission, interleaved`);
    console.log(
      table(
        ['M×K×N', 'weight KiB', 'forced limit KiB', 'dispatches (split)', 'unsplit ms', 'split ms', 'split ÷ unsplit', `goal ≤ ${GOAL}×`],
        rows.map((r) => {
          const ratio = r.splitMs / r.unsplitMs;
          return [
            r.shape,
            r.weightKiB.toFixed(0),
            r.limitKiB.toFixed(0),
            r.dispatches,
            r.unsplitMs.toFixed(2),
            r.splitMs.toFixed(2),
            `${ratio.toFixed(2)}×`,
            ratio <= GOAL ? 'met' : 'not met',
          ];
        }),
      ),
    );
  } finally {
    await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
