/**
 * Kernels or ORT per shape class. A model loaded with `strategy: 'auto'` on WebGPU keeps both plans
 * compiled: the partitioned one (webq8's kernels between ORT segments) and the plain model in one
 * ORT session. Which is faster depends on the shapes (at M = 1 our int8 GEMV wins by far; at large
 * M ORT's own matmuls may win), so the choice is made per shape class: the symbolic dimensions of
 * the request, each rounded up to a power of two. No request waits for a measurement: the first
 * request of a new class runs at once on the plan its nearest measured class chose (the load-time
 * probe's, at first; plain ORT when none was measured), and both plans are then measured on a copy
 * of its feeds in the model's idle time ({@link AdaptiveExecutor.runWhenIdle}: the engine runs each
 * sample only when no request of the model is waiting) — one warm-up run each (the first run of a
 * shape compiles for it), the faster of two runs to size the samples (enough when one plan takes
 * {@link DECISIVE}× the other), then {@link SAMPLES} timed samples each, interleaved, every sample
 * repeating the run until it lasts {@link MIN_SAMPLE_MS} (`performance.now` is coarse in Workers).
 * The faster plan is then kept: later requests of the class run only that plan. Decisions live
 * with the compiled-artifact cache (src/worker/prepare.ts), so a returning visitor measures
 * nothing. A plan that fails on a class is never chosen for it.
 */
import type { RunStrategy } from '../protocol';
import type { TensorLike, TensorMap, ValueInfo } from '../types';
import { isFixedDim } from '../dims';
import type { Executor, PlanExecutor, PlanValue, RunResult, RunValuesOptions } from './executor';
import { syntheticFeeds } from '../synthetic-feeds';

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

/** Runs `work` when the model has no request waiting (the engine's per-model chain); immediately by default. */
export type IdleRunner = <T>(work: () => Promise<T>) => Promise<T>;

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
  /** Classes whose measurement is under way (in idle time). */
  private readonly measuring = new Map<string, Promise<void>>();
  /** Where idle-time measurement samples run ({@link setIdleRunner}); until then measurements wait in `held`. */
  private runWhenIdle: IdleRunner | null = null;
  private held: [string, TensorMap][] = [];

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
    return this.dispatch(feeds, (e, o) => e.run(feeds, o), options);
  }

  runValues(feeds: Record<string, PlanValue>, options: RunValuesOptions = {}): Promise<RunResult<Map<string, PlanValue>>> {
    return this.dispatch(feeds, (e, o) => e.runValues(feeds, o), options);
  }

  async dispose(): Promise<void> {
    await this.kernels.dispose();
    await this.ort.dispose();
  }

  /** The class of these feeds, measured now if it was not (load-time probe and warm-up); resolves once it is decided. */
  async measureNow(feeds: TensorMap): Promise<{ shapeClass: string; decision: ShapeDecision }> {
    const cls = this.classOf(feeds);
    if (!this.decision(cls)) await (this.measuring.get(cls) ?? this.measureClass(cls, feeds, (work) => work()));
    return { shapeClass: cls, decision: this.decision(cls)! };
  }

  /**
   * Where idle-time samples run from now on: the engine's per-model idle slots (a sample runs only
   * while no request of the model waits). Measurements asked for before (during the load) start now.
   */
  setIdleRunner(runner: IdleRunner): void {
    this.runWhenIdle = runner;
    for (const [cls, feeds] of this.held.splice(0)) this.startMeasuring(cls, feeds, runner);
  }

  /** Settles when every measurement under way has (tests and benches wait for the decisions with it). */
  async idle(): Promise<void> {
    while (this.measuring.size > 0) await Promise.allSettled([...this.measuring.values()]);
  }

  private classOf(feeds: Record<string, { dims: readonly number[] }>): string {
    return shapeClass(this.inputs, Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, t.dims])));
  }

  private async dispatch<R extends RunResult<unknown>>(
    feeds: Record<string, { dims: readonly number[] }>,
    once: (e: PlanExecutor, options: RunValuesOptions) => Promise<R>,
    options: RunValuesOptions,
  ): Promise<R> {
    // Only the kernel plan can quantize per slice (a batched decode step): ORT's DynamicQuantizeLinear
    // would quantize the whole batch with one scale.
    if (options.quantizePerSlice) return once(this.kernels, options);
    const cls = this.classOf(feeds);
    const decision = this.decision(cls);
    if (decision) {
      const result = await once(decision.strategy === 'kernels' ? this.kernels : this.ort, options);
      const measured = { kernelsMs: decision.kernelsMs, ortMs: decision.ortMs, runs: decision.runs };
      return { ...result, strategy: { strategy: decision.strategy, shapeClass: cls, measured, provisional: false } };
    }
    // Not measured yet: answer now on the expected plan (the other one if it fails), measure in idle time.
    const first = this.expected(cls);
    const second = first === 'kernels' ? 'ort' : 'kernels';
    let ran: 'kernels' | 'ort' = first;
    const result = await once(this.plan(first), options).catch((err: unknown) => {
      ran = second;
      return once(this.plan(second), options).catch(() => Promise.reject(err));
    });
    this.measureLater(cls, feeds);
    const strategy: RunStrategy = { strategy: ran, shapeClass: cls, measured: { kernelsMs: NaN, ortMs: NaN, runs: 0 }, provisional: true };
    return { ...result, strategy };
  }

  private plan(name: 'kernels' | 'ort'): PlanExecutor {
    return name === 'kernels' ? this.kernels : this.ort;
  }

  /**
   * The plan of the nearest measured class: same inputs, the least total distance in powers of two
   * between their symbolic sizes (`x:16` is nearer `x:32` than `x:1`); plain ORT when none is.
   */
  private expected(cls: string): 'kernels' | 'ort' {
    const sizes = (c: string) =>
      new Map(
        c.split(',').map((part) => [
          part.slice(0, part.lastIndexOf(':')),
          part
            .slice(part.lastIndexOf(':') + 1)
            .split('x')
            .map(Number),
        ]),
      );
    const mine = sizes(cls);
    let best: { distance: number; strategy: 'kernels' | 'ort' } | null = null;
    for (const [other, d] of Object.entries(this.decisions)) {
      const theirs = sizes(other);
      if (theirs.size !== mine.size || [...mine.keys()].some((k) => theirs.get(k)?.length !== mine.get(k)!.length)) continue;
      let distance = 0;
      for (const [k, v] of mine) v.forEach((n, i) => (distance += Math.abs(Math.log2(Math.max(n, 1)) - Math.log2(Math.max(theirs.get(k)![i]!, 1)))));
      if (!best || distance < best.distance) best = { distance, strategy: d.strategy };
    }
    return best?.strategy ?? 'ort';
  }

  /**
   * Measures `cls` in idle time, on the request's own CPU feeds (`run`) or, for GPU feeds
   * (`runValues`), on seeded random feeds of the same dims. Once per class; a failed measurement
   * (the model went away, both plans failed) leaves the class to be measured after its next request.
   */
  private measureLater(cls: string, feeds: Record<string, { dims: readonly number[] }>): void {
    if (this.measuring.has(cls)) return;
    const values = Object.values(feeds) as (PlanValue | TensorLike)[];
    const onCpu = values.every((v) => !('where' in v) || v.where === 'cpu');
    const cpu: TensorMap | null = onCpu
      ? Object.fromEntries(
          Object.entries(feeds as Record<string, PlanValue | TensorLike>).map(([n, v]) => [
            n,
            { type: v.type, dims: [...v.dims], data: (v as TensorLike).data },
          ]),
        )
      : syntheticFeeds(this.inputs, Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, [...t.dims]])), 1, 'random');
    if (!cpu) return; // an input we cannot synthesize: the class stays on its expected plan
    if (this.runWhenIdle) this.startMeasuring(cls, cpu, this.runWhenIdle);
    else if (!this.held.some(([c]) => c === cls)) this.held.push([cls, cpu]);
  }

  private startMeasuring(cls: string, feeds: TensorMap, slot: IdleRunner): void {
    if (!this.measuring.has(cls) && !this.decision(cls)) void this.measureClass(cls, feeds, slot).catch(() => undefined);
  }

  private measureClass(cls: string, feeds: TensorMap, slot: IdleRunner): Promise<void> {
    const done = this.measure((e) => e.run(feeds, {}), slot)
      .then(async (decision) => {
        this.decisions[cls] = decision;
        await this.onDecision(cls, decision);
      })
      .finally(() => this.measuring.delete(cls));
    this.measuring.set(cls, done);
    return done;
  }

  /** Measures both plans as the module comment says, each timed sample in its own `slot`. */
  private async measure(once: (e: PlanExecutor) => Promise<unknown>, slot: IdleRunner): Promise<ShapeDecision> {
    const timed = (plan: 'kernels' | 'ort', repeat: number): Promise<number> =>
      slot(async () => {
        const t0 = performance.now();
        for (let i = 0; i < repeat; i++) await once(this.plan(plan));
        return (performance.now() - t0) / repeat;
      });
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
    return { strategy, kernelsMs, ortMs, runs };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
}
