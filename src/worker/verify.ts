/**
 * Load-time verification (`LoadOptions.verify`): before a WebGPU model is handed out, its chosen
 * plan and a temporary session of the same bytes on ORT's WASM EP — an independent implementation
 * of every op, already in this Worker — answer the same seeded random inputs, and every output is
 * compared (src/worker/compare.ts). Why: GPU answers go silently wrong on some devices (a driver, a
 * quantized path, an EP bug: on SwiftShader ORT 1.30's WebGPU EP gives Silero VAD a speech
 * probability of 0.047 where its WASM EP gives 0.0076), and nothing else checks them on the
 * device they run on. Inputs are seeded random floats in [-1, 1), not zeros: zeros hide most bugs.
 * The engine decides what a divergence does (src/worker/engine.ts).
 */
import { AbortError, InputError } from '../errors';
import { ortPlan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { Backend, DivergeAction, TensorLike, TensorMap, ValueInfo, VerifyInfo, VerifyOptions } from '../types';
import { compareTensor, describeComparison, FLOAT_TOLERANCE, QUANTIZED_TOLERANCE, worstPerOutput, type Comparison } from './compare';
import { PlanExecutor, type Executor } from './executor';
import { nextFeeds } from './feedback';
import { syntheticFeeds } from '../synthetic-feeds';
import { validateFeeds } from './validate';

/** Defaults of {@link VerifyOptions} (the tolerance depends on the plan: see compare.ts). */
export const VERIFY_DEFAULTS = { runs: 1, onDiverge: 'fallback', maxBytes: 256 * 2 ** 20, seed: 1, sampleRate: 0, maxPending: 4 } as const;

/** `LoadOptions.verify` resolved; null when verification is off. */
export type ResolvedVerify = Required<Omit<VerifyOptions, 'tolerance'>> & { tolerance?: number };

/** What the check found, and the reference executor when the engine should serve from it. */
export interface VerifyOutcome {
  info: VerifyInfo;
  /** The WASM session of the model, kept (not released) only when `onDiverge` is `'fallback'` and the plans diverged. */
  reference?: Executor;
}

/** The resolved form of `LoadOptions.verify` (default on); null for `false`. */
export function verifyOptions(request: boolean | VerifyOptions | undefined): ResolvedVerify | null {
  if (request === false) return null;
  const o: VerifyOptions = request === undefined || request === true ? {} : request;
  if (typeof o !== 'object' || o === null)
    throw new InputError(`verify must be true, false or {shapes, feeds, runs, tolerance, onDiverge, maxBytes}; got ${String(request)}.`);
  const r = { ...VERIFY_DEFAULTS, shapes: {}, feeds: {}, ...o } as ResolvedVerify;
  if (!Number.isInteger(r.runs) || r.runs < 1)
    throw new InputError(`verify.runs is ${String(r.runs)}; it must be a positive integer (e.g. 3).`, { runs: r.runs });
  if (r.tolerance !== undefined && !(typeof r.tolerance === 'number' && r.tolerance >= 0))
    throw new InputError(`verify.tolerance is ${String(r.tolerance)}; it must be a non-negative relative L2 error (e.g. ${FLOAT_TOLERANCE}).`);
  if (!['fallback', 'error', 'report'].includes(r.onDiverge))
    throw new InputError(`verify.onDiverge is ${String(r.onDiverge)}; it must be 'fallback', 'error' or 'report'.`, { onDiverge: r.onDiverge });
  if (!(typeof r.maxBytes === 'number' && r.maxBytes >= 0)) throw new InputError(`verify.maxBytes is ${String(r.maxBytes)}; it must be a number of bytes.`);
  if (!(typeof r.sampleRate === 'number' && r.sampleRate >= 0 && r.sampleRate <= 1))
    throw new InputError(`verify.sampleRate is ${String(r.sampleRate)}; it must be a fraction of runs between 0 and 1 (e.g. 0.01).`, {
      sampleRate: r.sampleRate,
    });
  if (!Number.isInteger(r.maxPending) || r.maxPending < 1)
    throw new InputError(`verify.maxPending is ${String(r.maxPending)}; it must be a positive integer (e.g. 4).`, { maxPending: r.maxPending });
  return r;
}

/** What {@link verifyAtLoad} checks: the model's bytes, where its plan runs, and the plan's executor. */
export interface VerifySubject {
  bytes: Uint8Array;
  backend: Backend;
  executor: Executor;
  signal?: AbortSignal;
}

/**
 * Runs the check (see the module comment); the reference is released unless the engine is to serve
 * from it. `makeReference` builds the WASM session (a stand-in in unit tests).
 */
export async function verifyAtLoad(subject: VerifySubject, options: ResolvedVerify, makeReference = wasmReference): Promise<VerifyOutcome> {
  const t0 = performance.now();
  const skipped = (reason: string): VerifyOutcome => ({ info: { status: 'skipped', reason, outputs: [], ms: performance.now() - t0 } });
  if (subject.backend !== 'webgpu') return skipped(`The model runs on ${subject.backend}: ORT's WASM EP is the reference itself.`);
  if (subject.bytes.byteLength > options.maxBytes) {
    return skipped(
      `The model is ${mib(subject.bytes.byteLength)}, above verify.maxBytes (${mib(options.maxBytes)}): the WASM reference would hold a second copy. Raise verify.maxBytes to check it.`,
    );
  }
  const tolerance = options.tolerance ?? (quantizesAtRunTime(subject.bytes) ? QUANTIZED_TOLERANCE : FLOAT_TOLERANCE);
  let reference: Executor;
  try {
    reference = await makeReference(subject.bytes);
  } catch (err) {
    return skipped(`ORT's WASM EP could not create a session of this model (${message(err)}).`);
  }
  let keep = false;
  try {
    // The model's own declared inputs: a kernel plan that starts with a kernel step knows no input types.
    const inputs = reference.inputInfo();
    if (!verifyFeeds(inputs, options)) return skipped('An input is not a tensor, so no inputs could be synthesized.');
    const feedsAt = (step: number) => verifyFeeds(inputs, { ...options, seed: options.seed + step })!;
    const found = await compareRuns(subject, reference, feedsAt, tolerance, options.runs);
    if ('skip' in found) return skipped(found.skip);
    const outputs = worstPerOutput(found.all);
    const bad = outputs.filter((c) => !c.ok);
    const ms = performance.now() - t0;
    const strip = ({ ok: _ok, ...c }: Comparison) => c;
    if (bad.length === 0) {
      const reason = `Every output agreed with ORT's WASM EP on seeded random inputs (${options.runs} run(s), tolerance ${tolerance}).`;
      return { info: { status: 'agreed', reason, outputs: outputs.map(strip), ms } };
    }
    const reason = `The GPU plan diverged from ORT's WASM EP on this device: ${bad.map(describeComparison).join('; ')}.`;
    keep = options.onDiverge === 'fallback';
    const info: VerifyInfo = { status: 'diverged', reason, outputs: outputs.map(strip), ms, action: options.onDiverge as DivergeAction };
    return keep ? { info, reference } : { info };
  } finally {
    if (!keep) await reference.dispose();
  }
}

/**
 * Runs both plans `runs` times and compares every output of every step. Each step gets fresh
 * seeded inputs (a new frame, a new token), except those fed back: there each plan gets its own
 * previous output, so a plan whose state drifts is seen drifting.
 */
async function compareRuns(
  subject: VerifySubject,
  reference: Executor,
  feedsAt: (step: number) => TensorMap,
  tolerance: number,
  runs: number,
): Promise<{ all: Comparison[] } | { skip: string }> {
  const all: Comparison[] = [];
  let [gpuFeeds, refFeeds] = [feedsAt(0), feedsAt(0)];
  for (let step = 0; step < runs; step++) {
    if (subject.signal?.aborted) throw new AbortError('The load was aborted by its AbortSignal during verification.');
    let want: Record<string, TensorLike>;
    try {
      want = (await reference.run(refFeeds)).outputs;
    } catch (err) {
      return { skip: `ORT's WASM EP failed on the synthetic inputs (${message(err)}); pass verify.shapes and verify.feeds like the inputs your users send.` };
    }
    let got: Record<string, TensorLike>;
    try {
      got = (await subject.executor.run(gpuFeeds)).outputs;
    } catch (err) {
      all.push({ name: '(run)', metric: 'error', value: 1, tolerance: 0, step, ok: false, detail: message(err) });
      break;
    }
    for (const [name, w] of Object.entries(want)) {
      const g = got[name];
      all.push(g ? compareTensor(name, g, w, tolerance, step) : { name, metric: 'shape', value: 1, tolerance: 0, step, ok: false });
    }
    const fresh = feedsAt(step + 1);
    [gpuFeeds, refFeeds] = [nextFeeds(fresh, got), nextFeeds(fresh, want)];
  }
  return { all };
}

/** Seeded random feeds for the check: the given feeds as they are, floats in [-1, 1), integers 0 (often indices). */
export function verifyFeeds(inputs: readonly ValueInfo[], options: Pick<ResolvedVerify, 'shapes' | 'feeds' | 'seed'>): TensorMap | null {
  const unknown = [...Object.keys(options.shapes), ...Object.keys(options.feeds)].find((n) => !inputs.some((v) => v.name === n));
  if (unknown !== undefined) throw new InputError(`verify names "${unknown}", which is not an input of this model.`, { input: unknown });
  const givenShapes = Object.fromEntries(Object.entries(options.feeds).map(([n, t]) => [n, t.dims]));
  const synthetic = syntheticFeeds(inputs, { ...options.shapes, ...givenShapes });
  if (!synthetic) return null;
  let seed = (options.seed >>> 0) ^ 0x2545f491;
  const random = () => {
    // mulberry32: small, seeded, good enough to spread values over [-1, 1).
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
  for (const t of Object.values(synthetic))
    if (t.data instanceof Float32Array || t.data instanceof Float64Array) t.data.forEach((_, i, a) => (a[i] = random()));
  const feeds = { ...synthetic, ...options.feeds };
  try {
    validateFeeds(inputs, feeds);
  } catch (err) {
    throw new InputError(`verify.shapes or verify.feeds do not fit the model: ${message(err)}`, { verify: true });
  }
  return feeds;
}

/** Whether the model quantizes activations at run time (its answers may then move by one quantization step). */
export function quantizesAtRunTime(bytes: Uint8Array): boolean {
  return contains(bytes, 'DynamicQuantize') || contains(bytes, 'MatMulNBits');
}

/** Whether the ASCII `text` occurs in `bytes` (op types are plain strings in the protobuf). */
function contains(bytes: Uint8Array, text: string): boolean {
  const needle = Array.from(text, (c) => c.charCodeAt(0));
  const first = needle[0]!;
  for (let i = bytes.indexOf(first); i >= 0 && i <= bytes.length - needle.length; i = bytes.indexOf(first, i + 1)) {
    if (needle.every((b, k) => bytes[i + k] === b)) return true;
  }
  return false;
}

/** The model in one session on ORT's WASM EP. */
export function wasmReference(bytes: Uint8Array): Promise<Executor> {
  const noGpu = (): Promise<GpuContext> => Promise.reject(new Error('The WASM reference has no GPU steps.'));
  return PlanExecutor.create(ortPlan(bytes), 'wasm', noGpu);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
