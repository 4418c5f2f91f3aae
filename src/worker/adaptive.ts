/**
 * Kernels or ORT per shape class. A model loaded with `strategy: 'auto'` on WebGPU keeps both plans
 * compiled: the partitioned one (webq8's kernels between ORT segments) and the plain model in one
 * ORT session. Which is faster depends on the shapes (at M = 1 our int8 GEMV wins by far; at large
 * M ORT's own matmuls may win), so the choice is made per shape class: the symbolic dimensions of
 * the request, each rounded up to a power of two. The first request of a class runs both plans on
 * its own feeds — one warm-up run each (the first run of a shape compiles for it), the faster of
 * two runs to size the samples (enough when one plan takes {@link DECISIVE}× the other), then
 * {@link SAMPLES} timed samples each, interleaved, every sample repeating the run until it lasts
 * {@link MIN_SAMPLE_MS} (`performance.now` is coarse in Workers) — keeps the faster plan for the
 * class and answers with its result. Later requests of the class run only that plan. Decisions
 * live with the compiled-artifact cache (src/worker/prepare.ts), so a returning visitor measures
 * nothing. A plan that fails on a class is never chosen for it.
 */
import type { RunStrategy } from '../protocol';
import type { TensorLike, ValueInfo } from '../types';
import { isFixedDim } from '../dims';
import type { Executor, PlanExecutor, PlanValue, RunResult, RunValuesOptions } from './executor';

/** Timed samples per plan when a shape class is measured. */
export const SAMPLES = 3;
/** A sample repeats its run until it lasts at least this long (ms). */
export const MIN_SAMPLE_MS = 20;
/** At most this many runs per sample. */
export const MAX_REPEAT = 16;
/** When one plan's sizing runs take this many times the other's, the samples are skipped: the choice is clear. */
export const DECISIVE = 3;

/** The decision for one shape class: the plan kept and the medians behind it (NaN: that plan failed). */
export interface ShapeDecision {
  strategy: 'kernels' | 'ort';
  kernelsMs: number;
  ortMs: number;
  /** Timed runs per plan. */
  runs: number;
}

/** Decisions by shape class (see {@link shapeClass}). */
export type ShapeDecisions = Record<string, ShapeDecision>;

/**
 * The class of feeds with these dims: for each input, the sizes of its symbolic dimensions (as
 * `inputs` declares them) rounded up to a power of two, e.g. `x:16` for `x: [16, 768]` declared
 * `['batch', 768]`; `''` when the model has no symbolic dimension.
 */
export function shapeClass(inputs: readonly ValueInfo[], dims: Readonly<Record<string, readonly number[]>>): string {
  const parts: string[] = [];
  for (const v of inputs) {
    const d = dims[v.name];
    if (!d) continue;
    const dynamic = d.filter((_, i) => v.dims.length !== d.length || !isFixedDim(v.dims[i]!));
    if (dynamic.length) parts.push(`${v.name}:${dynamic.map(bucket).join('x')}`);
  }
  return parts.join(',');
}

function bucket(n: number): number {
  return n <= 1 ? Math.max(n, 0) : 2 ** Math.ceil(Math.log2(n));
}

/** Both plans of a model, choosing per shape class (see the module comment). */
export class AdaptiveExecutor implements Executor {
  /** The model's declared inputs (the plain session's), read once: every request's class comes from them. */
  private readonly inputs: ValueInfo[];

  /**
   * Takes ownership of both executors. `decisions` (from the artifact cache, or empty) is updated
   * in place; `onDecision` hears each new one (awaited: it saves the decision before the answer).
   */
  constructor(
    private readonly kernels: PlanExecutor,
    private readonly ort: PlanExecutor,
    private readonly decisions: ShapeDecisions,
    private readonly onDecision: (shapeClass: string, decision: ShapeDecision) => void | Promise<void> = () => undefined,
  ) {
    this.inputs = ort.inputInfo();
  }

  /** The decision for a class, if it was measured. */
  decision(cls: string): ShapeDecision | undefined {
    return Object.hasOwn(this.decisions, cls) ? this.decisions[cls] : undefined;
  }

  inputInfo(): ValueInfo[] {
    return this.inputs;
  }

  outputInfo(): ValueInfo[] {
    return this.ort.outputInfo();
  }

  run(feeds: Record<string, TensorLike>, options: RunValuesOptions = {}): Promise<RunResult<Record<string, TensorLike>>> {
    return this.dispatch(
      feeds,
      (e, o) => e.run(feeds, o),
      () => undefined,
      options,
    );
  }

  runValues(feeds: Record<string, PlanValue>, options: RunValuesOptions = {}): Promise<RunResult<Map<string, PlanValue>>> {
    return this.dispatch(feeds, (e, o) => e.runValues(feeds, o), releaseOutputs, options);
  }

  async dispose(): Promise<void> {
    await this.kernels.dispose();
    await this.ort.dispose();
  }

  private async dispatch<R extends RunResult<unknown>>(
    feeds: Record<string, { dims: readonly number[] }>,
    once: (e: PlanExecutor, options: RunValuesOptions) => Promise<R>,
    discard: (r: R) => void,
    options: RunValuesOptions,
  ): Promise<R> {
    // Only the kernel plan can quantize per slice (a batched decode step): ORT's DynamicQuantizeLinear
    // would quantize the whole batch with one scale.
    if (options.quantizePerSlice) return once(this.kernels, options);
    const cls = shapeClass(this.inputs, Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, t.dims])));
    let decision = this.decision(cls);
    let result: R | undefined;
    const measuredNow = !decision;
    if (!decision) {
      ({ decision, result } = await this.measure((e) => once(e, {}), discard));
      this.decisions[cls] = decision;
      await this.onDecision(cls, decision);
    }
    const executor = decision.strategy === 'kernels' ? this.kernels : this.ort;
    if (!result || options.profile) {
      if (result) discard(result);
      result = await once(executor, options);
    }
    const strategy: RunStrategy = {
      strategy: decision.strategy,
      shapeClass: cls,
      measured: { kernelsMs: decision.kernelsMs, ortMs: decision.ortMs, runs: decision.runs },
      measuredNow,
    };
    return { ...result, strategy };
  }

  /** Runs both plans as the module comment says; the kept plan's last result comes back. */
  private async measure<R>(once: (e: PlanExecutor) => Promise<R>, discard: (r: R) => void): Promise<{ decision: ShapeDecision; result: R }> {
    const kept = { kernels: undefined as R | undefined, ort: undefined as R | undefined };
    const keep = (plan: 'kernels' | 'ort', r: R) => {
      if (kept[plan] !== undefined) discard(kept[plan]);
      kept[plan] = r;
    };
    const timed = async (plan: 'kernels' | 'ort', repeat: number): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < repeat; i++) keep(plan, await once(plan === 'kernels' ? this.kernels : this.ort));
      return (performance.now() - t0) / repeat;
    };
    try {
      // Warm-up (the first run of a shape compiles for it), then the faster of two runs each to size the samples.
      const calibrate = async (plan: 'kernels' | 'ort') => {
        await timed(plan, 1);
        return Math.min(await timed(plan, 1), await timed(plan, 1));
      };
      let kernelsMs = await calibrate('kernels').catch(() => NaN);
      let ortMs = NaN;
      try {
        ortMs = await calibrate('ort');
      } catch (err) {
        // Both failed: the plain model's error is the one the caller can act on.
        if (Number.isNaN(kernelsMs)) throw err;
      }
      let runs = 1;
      const close = Math.max(kernelsMs, ortMs) < DECISIVE * Math.min(kernelsMs, ortMs);
      if (close) {
        runs = Math.min(MAX_REPEAT, Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(Math.min(kernelsMs, ortMs), 0.01))));
        const samples = { kernels: [] as number[], ort: [] as number[] };
        for (let s = 0; s < SAMPLES; s++) {
          // Alternate which plan goes first, so neither always runs right after the other.
          for (const plan of s % 2 ? (['ort', 'kernels'] as const) : (['kernels', 'ort'] as const)) samples[plan].push(await timed(plan, runs));
        }
        kernelsMs = median(samples.kernels);
        ortMs = median(samples.ort);
        runs *= SAMPLES;
      }
      const strategy = Number.isNaN(ortMs) || kernelsMs <= ortMs ? 'kernels' : 'ort';
      const result = kept[strategy]!;
      kept[strategy] = undefined;
      return { decision: { strategy, kernelsMs, ortMs, runs }, result };
    } finally {
      for (const r of Object.values(kept)) if (r !== undefined) discard(r);
    }
  }
}

function releaseOutputs(r: RunResult<Map<string, PlanValue>>): void {
  for (const v of r.outputs.values()) if (v.where === 'gpu') v.release();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
}
