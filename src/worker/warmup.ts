/**
 * Load-time warm-up (`LoadOptions.warmup`): zero-filled runs of a freshly prepared model before
 * `load` resolves, bounded in runs and in time, in the spirit of Triton's `model_warmup`.
 *
 * Why: V8 compiles WebAssembly lazily with its baseline compiler (Liftoff) and recompiles a
 * function with its optimizing compiler (TurboFan) only after that function has used up a
 * per-function execution budget ("dynamic tiering"). ORT's kernels are WebAssembly, so a model's
 * first runs are several times slower than its steady state until enough of its code has tiered up —
 * on PP-OCR cls/wasm the first ~150 runs (bench/runtime.mjs measures it). Web pages cannot
 * change V8's tiering, but they can spend the budget before the user's first run: these runs.
 * V8 shares compiled modules between the page and its Workers, so a warm model also warms others
 * in the same tab (the same ORT code).
 */
import { AbortError, InputError } from '../errors';
import type { TensorMap, ValueInfo, WarmupInfo, WarmupOptions } from '../types';
import type { Executor } from './executor';
import { syntheticFeeds } from '../synthetic-feeds';
import { describe, validateFeeds } from './validate';

/** Defaults of {@link WarmupOptions}: enough runs for PP-OCR cls on WASM to reach its steady state, within a bound. */
export const WARMUP_DEFAULTS = { runs: 200, budgetMs: 3000 } as const;

/** The resolved form of `LoadOptions.warmup`; null when warm-up is off. */
export function warmupOptions(request: boolean | number | WarmupOptions | undefined): Required<WarmupOptions> | null {
  if (request === undefined || request === false || request === 0) return null;
  const o: WarmupOptions = request === true ? {} : typeof request === 'number' ? { runs: request } : request;
  if (typeof o !== 'object' || o === null) throw new InputError(`warmup must be true, a number of runs, or {runs, budgetMs, shapes}; got ${String(request)}.`);
  const runs = o.runs ?? WARMUP_DEFAULTS.runs;
  const budgetMs = o.budgetMs ?? WARMUP_DEFAULTS.budgetMs;
  if (!Number.isInteger(runs) || runs < 0)
    throw new InputError(`warmup.runs is ${String(runs)}; it must be a non-negative integer (e.g. ${WARMUP_DEFAULTS.runs}).`, { runs });
  if (typeof budgetMs !== 'number' || !(budgetMs > 0))
    throw new InputError(`warmup.budgetMs is ${String(budgetMs)}; it must be a positive number of milliseconds (e.g. ${WARMUP_DEFAULTS.budgetMs}).`, {
      budgetMs,
    });
  const shapes = o.shapes ?? {};
  for (const [name, dims] of Object.entries(shapes)) {
    if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new InputError(`warmup.shapes["${name}"] must be an array of non-negative integers, e.g. [1, 3, 48, 192].`, { input: name });
    }
  }
  const feeds = o.feeds ?? {};
  if (typeof feeds !== 'object' || feeds === null) throw new InputError('warmup.feeds must map input names to plain tensors {type, dims, data}.');
  return { runs, budgetMs, shapes, feeds };
}

/**
 * Runs `executor` up to `options.runs` times on synthetic inputs, stopping once `budgetMs` is
 * spent. A failing run rejects the load with an {@link InputError} naming the shapes it tried,
 * since the shapes (guessed or given) are what the caller can change.
 */
export async function warmUp(executor: Executor, inputs: readonly ValueInfo[], options: Required<WarmupOptions>, signal?: AbortSignal): Promise<WarmupInfo> {
  const feeds = synthesize(inputs, options);
  const shapes = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, [...t.dims]]));
  const times: number[] = [];
  const t0 = performance.now();
  let stopped: WarmupInfo['stopped'] = 'runs';
  // 'auto': the warmed class is decided now, so its first request runs on the plan kept for it.
  if (options.runs > 0) await executor.measureNow?.(feeds).catch(() => undefined); // a failing run is reported below
  while (times.length < options.runs) {
    if (signal?.aborted) throw new AbortError('The load was aborted by its AbortSignal during warm-up.');
    if (performance.now() - t0 >= options.budgetMs) {
      stopped = 'budget';
      break;
    }
    const t = performance.now();
    try {
      await executor.run(feeds);
    } catch (cause) {
      const tried = Object.entries(shapes)
        .map(([n, d]) => `${n}: [${d.join(', ')}]`)
        .join(', ');
      throw new InputError(
        `Warm-up run ${times.length + 1} failed on inputs of shapes ${tried} (zero-filled unless given in warmup.feeds): ${cause instanceof Error ? cause.message : String(cause)}. Pass warmup.shapes (and warmup.feeds for inputs whose values matter) like the inputs your users send.`,
        { warmup: true, shapes },
      );
    }
    times.push(performance.now() - t);
  }
  return { runs: times.length, ms: performance.now() - t0, stopped, firstMs: times[0] ?? 0, lastMs: median(times.slice(-5)), shapes };
}

function synthesize(inputs: readonly ValueInfo[], { shapes, feeds: given }: Required<WarmupOptions>): TensorMap {
  const unknown = [...Object.keys(shapes), ...Object.keys(given)].find((n) => !inputs.some((v) => v.name === n));
  if (unknown !== undefined) {
    throw new InputError(`warmup names "${unknown}", which is not an input; the inputs are ${inputs.map((v) => `"${v.name}" ${describe(v)}`).join(', ')}.`, {
      input: unknown,
    });
  }
  for (const [name, t] of Object.entries(given)) {
    if (!ArrayBuffer.isView(t?.data)) {
      // Options cross into the Worker by structured clone, which drops an ort.Tensor's `data` getter.
      throw new InputError(
        `warmup.feeds["${name}"] must be a plain {type, dims, data} tensor; for an ort.Tensor pass {type: t.type, dims: t.dims, data: t.data}.`,
        { input: name, warmup: true },
      );
    }
  }
  // Given feeds are used as they are; their dims also size the named symbols they declare.
  const givenShapes = Object.fromEntries(
    Object.entries(given)
      .filter(([, t]) => Array.isArray(t.dims))
      .map(([n, t]) => [n, t.dims]),
  );
  const synthetic = syntheticFeeds(inputs, { ...shapes, ...givenShapes });
  if (!synthetic) throw new InputError('Warm-up cannot synthesize inputs for this model: an input is not a tensor. Load it without warmup.', { warmup: true });
  const feeds = { ...synthetic, ...given };
  try {
    validateFeeds(inputs, feeds);
  } catch (err) {
    throw new InputError(`warmup.shapes or warmup.feeds do not fit the model: ${(err as Error).message}`, { ...(err as InputError).details, warmup: true });
  }
  return feeds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : 0;
}
