/**
 * Picks the int8 matmul kernel per (adapter, shape class) by measuring once, because the fastest
 * member differs by hardware: SwiftShader emulates `dot4I8Packed` (slower than unpacked i32 math),
 * real GPUs run it natively (~4× fp32 MAC throughput). A {@link GpuContext} is one device on one
 * adapter, so results are cached per context. Until a class is tuned, {@link chooseInt8Kernel}
 * returns {@link defaultInt8Kernel}.
 */
import type { GpuContext } from './gpu-context';
import { defaultInt8Kernel, hasDp4a, int8KernelName, int8Matmul, resolveVariant, type Int8Kernel, type Int8Variant, type Int8VariantRequest } from './int8-matmul';
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
  /** Best wall time of a few interleaved runs, submit to `onSubmittedWorkDone`, in ms. */
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

const choices = new WeakMap<GpuContext, Map<Int8ShapeClass, Int8Choice>>();

/** Every choice measured on `ctx` so far (plain data, for stats and the benchmark). */
export function int8KernelChoices(ctx: GpuContext): Int8Choice[] {
  return [...(choices.get(ctx)?.values() ?? [])];
}

/** The kernel for `rows` rows on `ctx`: the measured one when its class was tuned, else the default. */
export function chooseInt8Kernel(ctx: GpuContext, rows: number, request: Int8VariantRequest = 'auto'): Int8Kernel {
  const choice = choices.get(ctx)?.get(int8ShapeClass(rows));
  if (choice) {
    const k = request === 'auto' ? choice.best : choice.bestByVariant[request];
    if (k) return k;
  }
  return defaultInt8Kernel(rows, resolveVariant(request));
}

/** The candidates measured for a class. */
export function int8Candidates(cls: Int8ShapeClass, variants: readonly Int8Variant[]): Int8Kernel[] {
  const out: Int8Kernel[] = [];
  for (const variant of variants) {
    if (cls !== 'large') {
      out.push({ variant, layout: 'gemv', wgX: 64, wgY: 4 }, { variant, layout: 'gemv', wgX: 32, wgY: 8 });
    }
    if (cls !== 'm1') {
      out.push({ variant, layout: 'tiled', wgX: 16, wgY: 4 }, { variant, layout: 'tiled', wgX: 8, wgY: 8 }, { variant, layout: 'tiled', wgX: 32, wgY: 2 });
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
  const variants: Int8Variant[] = hasDp4a() ? ['dp4a', 'portable'] : ['portable'];
  // Deterministic pseudo-random operands (timing does not depend on values); symmetric int8 weights,
  // quantize_dynamic's default.
  const bData = new Int8Array(k * n).map((_, i) => ((i * 2654435761) >>> 24) - 128);
  const weights = uploadInt8Weights(ctx, packInt8Weights({ data: bData, type: 'int8', dims: [k, n] }));
  const a = ctx.upload(new Uint8Array(m * k).map((_, i) => (i * 40503) & 0xff), 'int8.tune.a');
  const measurements: Int8Measurement[] = [];
  let best: { kernel: Int8Kernel; ms: number } | undefined;
  const bestByVariant: Partial<Record<Int8Variant, { kernel: Int8Kernel; ms: number }>> = {};
  const candidates = int8Candidates(cls, variants);
  const times = candidates.map(() => Infinity);
  const runOnce = async (kernel: Int8Kernel) => {
    const t0 = performance.now();
    const out = int8Matmul(ctx, { a, aType: 'uint8', aDims: [m, k], weights, epilogue: { kind: 'int32' }, kernel });
    await ctx.device.queue.onSubmittedWorkDone();
    ctx.buffers.release(out.buffer);
    return performance.now() - t0;
  };
  try {
    // Round 0 compiles; later rounds visit the candidates in turn (interleaved, so a burst of load
    // from elsewhere on the machine hits all of them alike) and keep each one's best time.
    for (let round = 0; round <= reps; round++) {
      for (const [i, kernel] of candidates.entries()) {
        const dt = await runOnce(kernel);
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
