/**
 * Picks the int8 matmul kernel per (adapter, shape class) by measuring once, because the fastest
 * member differs by hardware: SwiftShader emulates `dot4I8Packed` (slower than unpacked i32 math),
 * real GPUs run it natively (~4× fp32 MAC throughput). A {@link GpuContext} is one device on one
 * adapter, so results are cached per context. Until a class is tuned, {@link chooseInt8Kernel}
 * returns {@link defaultInt8Kernel}.
 */
import type { GpuContext } from './gpu-context';
import { adapterDefaultKernel, deviceFacts, gpuInt8Kernel, int8AdapterClass, int8Variants } from './int8-defaults';
import { hasDp4a, int8KernelName, int8Matmul, resolveVariant, type Int8Kernel, type Int8Variant, type Int8VariantRequest } from './int8-matmul';
import { packInt8Weights, uploadInt8Weights } from './int8-weights';

/** Shape classes that get their own measured choice: one row (GEMV), up to 32 rows, more. */
export type Int8ShapeClass = 'm1' | 'small' | 'large';

/** The class of a matmul with `rows` rows per B matrix. */
export function int8ShapeClass(rows: number): Int8ShapeClass {
  return rows <= 1 ? 'm1' : rows <= 32 ? 'small' : 'large';
}

/** Rows measured for each class (a proxy: tuning at 512 rows on a software adapter would take seconds). */
const PROXY_ROWS: Record<Int8ShapeClass, number> = { m1: 1, small: 16, large: 64 };

/** One measured candidate. */
export interface Int8Measurement {
  kernel: string;
  /** Best of a few interleaved samples, each {@link TUNE_BATCH} dispatches submitted back to back then `onSubmittedWorkDone`, per dispatch, in ms. */
  ms: number;
}

/** The measured choice of one shape class. */
export interface Int8Choice {
  shapeClass: Int8ShapeClass;
  /** The proxy shape that was measured. */
  shape: { m: number; k: number; n: number };
  /** Fastest kernel overall, and fastest per variant (for callers that force a variant). */
  best: Int8Kernel;
  bestByVariant: Partial<Record<Int8Variant, Int8Kernel>>;
  measurements: Int8Measurement[];
}

/**
 * Dispatches per timing sample. One dispatch per `onSubmittedWorkDone` measures the browser's
 * completion polling as much as the kernel: on SwiftShader in Chromium an empty dispatch "took"
 * 0.3–2.5 ms that way, against 0.2 ms per dispatch when 20 were timed together.
 */
export const TUNE_BATCH = 4;

const choices = new WeakMap<GpuContext, Map<Int8ShapeClass, Int8Choice>>();

/** Every choice measured on `ctx` so far (plain data, for stats and the benchmark). */
export function int8KernelChoices(ctx: GpuContext): Int8Choice[] {
  return [...(choices.get(ctx)?.values() ?? [])];
}

const overrides = new WeakMap<GpuContext, (rows: number) => Int8Kernel | undefined>();

/**
 * Test and bench hook: from now on {@link chooseInt8Kernel} on `ctx` returns `pick(rows)` whenever it
 * is defined (a forced variant request included), so the registered ops run a chosen loop, e.g. the
 * GPU-shaped ones on SwiftShader. `undefined` removes the hook.
 */
export function setInt8KernelOverride(ctx: GpuContext, pick: ((rows: number) => Int8Kernel | undefined) | undefined): void {
  if (pick) overrides.set(ctx, pick);
  else overrides.delete(ctx);
}

/**
 * The kernel for `rows` rows on `ctx`: the hook's ({@link setInt8KernelOverride}), else the measured
 * one when its class was tuned, else the adapter class's default (src/kernels/int8-defaults.ts).
 */
export function chooseInt8Kernel(ctx: GpuContext, rows: number, request: Int8VariantRequest = 'auto'): Int8Kernel {
  const forced = overrides.get(ctx)?.(rows);
  if (forced) return forced;
  const choice = choices.get(ctx)?.get(int8ShapeClass(rows));
  if (choice) {
    const k = request === 'auto' ? choice.best : choice.bestByVariant[request];
    // The class was measured at 16 rows: a wide tile keeps no more row blocks than `rows` fills.
    if (k?.layout === 'wide' && rows < k.wgY) return { ...k, wgY: Math.max(4, Math.ceil(rows / 4) * 4) };
    // Likewise a split-K GEMV keeps no more rows per pass than `rows`.
    if (k?.layout === 'splitk') return { ...k, rows: Math.min(8, rows) };
    if (k) return k;
  }
  if (request !== 'auto') resolveVariant(request); // throws when dp4a is forced but missing
  return adapterDefaultKernel(rows, deviceFacts(ctx.device, hasDp4a()), request);
}

/**
 * The candidates measured for a class. `gpuShaped` (real adapters) adds the GPU-shaped loops:
 * split-K GEMVs (with and without split-K across workgroups) up to 32 rows, the tiled GEMM above.
 */
export function int8Candidates(cls: Int8ShapeClass, variants: readonly Int8Variant[], gpuShaped = false, subgroups = false): Int8Kernel[] {
  const out: Int8Kernel[] = [];
  for (const variant of variants) {
    if (gpuShaped) {
      const rows = PROXY_ROWS[cls];
      const base = gpuInt8Kernel(rows, variant, subgroups);
      out.push(base);
      if (base.layout === 'splitk') out.push({ ...base, splits: 1 }, { ...base, wgX: 4, wgY: 64, loads: 2 });
      else out.push({ ...base, rows: base.rows === 8 ? 4 : 8 });
    }
    // Big workgroups suit GPUs; small ones (16×1) suit emulated adapters, which run a workgroup on
    // one CPU thread. Both kinds are measured: which wins is the adapter's business.
    if (cls !== 'large') {
      out.push({ variant, layout: 'gemv', wgX: 64, wgY: 4 }, { variant, layout: 'gemv', wgX: 32, wgY: 8 }, { variant, layout: 'gemv', wgX: 16, wgY: 1 });
    }
    // Wide tiles: B read once for 4–16 rows, 8 or 16 columns per invocation (int8-matmul-wide.wgsl).
    if (cls !== 'm1') out.push({ variant, layout: 'wide', wgX: 8, wgY: 16, cols: 16 }, { variant, layout: 'wide', wgX: 8, wgY: 16, cols: 8 });
    if (cls === 'small') out.push({ variant, layout: 'wide', wgX: 8, wgY: 8, cols: 16 }, { variant, layout: 'wide', wgX: 8, wgY: 4, cols: 8 });
    if (cls !== 'm1') {
      out.push(
        { variant, layout: 'tiled', wgX: 16, wgY: 4 },
        { variant, layout: 'tiled', wgX: 8, wgY: 8 },
        { variant, layout: 'tiled', wgX: 32, wgY: 2 },
        { variant, layout: 'tiled', wgX: 16, wgY: 1 },
      );
    }
  }
  return out;
}

/**
 * Measures the candidates of the class of `shape.m` once (at a proxy shape with `shape`'s K and N,
 * capped at 1024) and caches the winner on `ctx`; later calls for the same class return the cache.
 */
export async function tuneInt8Matmul(ctx: GpuContext, shape: { m: number; k: number; n: number }, reps = 4): Promise<Int8Choice> {
  const cls = int8ShapeClass(shape.m);
  let perCtx = choices.get(ctx);
  const hit = perCtx?.get(cls);
  if (hit) return hit;
  const m = PROXY_ROWS[cls];
  const k = Math.min(shape.k, 1024);
  const n = Math.min(shape.n, 1024);
  const facts = deviceFacts(ctx.device, hasDp4a());
  const variants = int8Variants(facts);
  // Deterministic pseudo-random operands (timing does not depend on values); symmetric int8 weights,
  // quantize_dynamic's default.
  const bData = new Int8Array(k * n).map((_, i) => ((i * 2654435761) >>> 24) - 128);
  const weights = uploadInt8Weights(ctx, packInt8Weights({ data: bData, type: 'int8', dims: [k, n] }));
  const a = ctx.upload(
    new Uint8Array(m * k).map((_, i) => (i * 40503) & 0xff),
    'int8.tune.a',
  );
  const measurements: Int8Measurement[] = [];
  let best: { kernel: Int8Kernel; ms: number } | undefined;
  const bestByVariant: Partial<Record<Int8Variant, { kernel: Int8Kernel; ms: number }>> = {};
  const candidates = int8Candidates(cls, variants, int8AdapterClass(facts) !== 'fallback', facts.subgroups);
  const times = candidates.map(() => Infinity);
  const runOnce = async (kernel: Int8Kernel, batch: number) => {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      const out = int8Matmul(ctx, { a, aType: 'uint8', aDims: [m, k], weights, epilogue: { kind: 'int32' }, kernel });
      ctx.buffers.release(out.buffer); // reusable at once: later writes are queued after this dispatch
    }
    await ctx.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / batch;
  };
  try {
    // Round 0 compiles; later rounds visit the candidates in turn (interleaved, so a burst of load
    // from elsewhere on the machine hits all of them alike) and keep each one's best time.
    for (let round = 0; round <= reps; round++) {
      for (const [i, kernel] of candidates.entries()) {
        const dt = await runOnce(kernel, round === 0 ? 1 : TUNE_BATCH);
        if (round > 0) times[i] = Math.min(times[i] as number, dt);
      }
    }
    for (const [i, kernel] of candidates.entries()) {
      const ms = times[i] as number;
      measurements.push({ kernel: int8KernelName(kernel), ms });
      if (!best || ms < best.ms) best = { kernel, ms };
      const bv = bestByVariant[kernel.variant];
      if (!bv || ms < bv.ms) bestByVariant[kernel.variant] = { kernel, ms };
    }
  } finally {
    weights.dispose();
    ctx.buffers.release(a);
  }
  const choice: Int8Choice = {
    shapeClass: cls,
    shape: { m, k, n },
    best: (best as { kernel: Int8Kernel }).kernel,
    bestByVariant: Object.fromEntries(Object.entries(bestByVariant).map(([v, x]) => [v, x.kernel])),
    measurements,
  };
  if (!perCtx) choices.set(ctx, (perCtx = new Map()));
  perCtx.set(cls, choice);
  return choice;
}
