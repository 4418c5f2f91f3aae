/**
 * The engine's side of verification in service (src/worker/verify-service.ts): when a model's
 * request chain is idle, one sampled run is checked as a request of that chain (so it takes its
 * turn in ORT's gate and a dispose waits for it), and it gives its turn away when a request came
 * in meanwhile. A divergence under `onDiverge: 'fallback'` serves the model from the reference
 * session from then on, with the reason in its backend decision; `'report'` and `'error'` keep the
 * GPU plan (the answer was already delivered: there is no load left to reject) and count it.
 */
import { ortPlan } from '../graph/plan';
import type { RunReply } from '../protocol';
import type { BackendDecision, DivergeAction, ModelInfo, TensorLike, TensorMap } from '../types';
import type { Executor } from './executor';
import type { ExecutorRecipe } from './strategy';
import type { ResolvedVerify } from './verify';
import { ServiceVerifier, type Verdict } from './verify-service';

/** What of a loaded model the check reads and, on a fallback, replaces. */
export interface ServiceVerifiedModel {
  info: ModelInfo;
  decision: BackendDecision;
  executor: Executor;
  recipe: ExecutorRecipe;
  outputsOnGpu: boolean;
  /** Requests of the model queued or running (checks included). */
  inflight: number;
  verifier?: ServiceVerifier;
  onDiverge?: DivergeAction;
}

/** How a check enters the model's request chain: `whenItsTurn` may throw to give the turn away. */
export type ChainEntry = (work: () => Promise<void>, whenItsTurn: () => void) => Promise<void>;

/** Thrown at a check's turn when a request waits behind it: the check goes back to waiting. */
class GaveWay extends Error {}

/**
 * Schedules the next check of `model` once the current task is over, if a sample waits and
 * nothing runs; `alive` says whether the model is still loaded. Called after every request.
 */
export function checkWhenIdle(model: ServiceVerifiedModel, alive: () => boolean, enter: ChainEntry): void {
  const v = model.verifier;
  if (!v || v.busy || !v.waiting || model.inflight > 0) return;
  v.busy = true;
  setTimeout(() => {
    if (!alive() || model.inflight > 0) {
      v.busy = false; // the request in flight schedules it again when it ends
      return;
    }
    const work = async () => {
      const verdict = await v.checkOne();
      if (verdict && !verdict.ok) await onDivergence(model, v, verdict);
    };
    const giveWay = () => {
      if (model.inflight > 1) throw new GaveWay();
    };
    enter(work, giveWay)
      .catch(() => undefined) // a check never fails a request; GaveWay leaves the sample queued
      .finally(() => {
        v.busy = false;
        if (alive()) checkWhenIdle(model, alive, enter);
      });
  }, 0);
}

/** Applies `onDiverge` to a divergence found in service (inside the model's chain: nothing else of it runs). */
async function onDivergence(model: ServiceVerifiedModel, v: ServiceVerifier, verdict: Verdict): Promise<void> {
  if ((model.onDiverge ?? 'fallback') !== 'fallback' || model.decision.backend !== 'webgpu') return;
  const reference = await v.takeReference();
  if (!reference) return;
  await model.executor.dispose();
  const reason = `Served from ORT's WASM EP: ${verdict.reason.replace(/^A sampled/, 'a sampled')}`;
  model.executor = reference;
  model.recipe = { plan: ortPlan(v.bytes) };
  model.outputsOnGpu = false;
  model.decision = { backend: 'wasm', requested: model.decision.requested, reason };
  model.info.backend = model.decision;
  if (model.info.strategy) model.info.strategy = { ...model.info.strategy, strategy: 'ort', reason };
  v.noteAction("The model is served from ORT's WASM EP from then on (verify.onDiverge 'fallback').");
  await v.dispose(); // samples still waiting are dropped: nothing on the GPU is left to check
}

/**
 * Starts verification in service for a model just loaded, when `verify.sampleRate` asks for it and
 * the model runs on WebGPU with a load-time check that was not skipped (a model too large for a
 * second copy is not sampled either).
 */
export function startServiceVerify(model: ServiceVerifiedModel, bytes: Uint8Array, options: ResolvedVerify | null): void {
  if (!options || options.sampleRate <= 0 || model.decision.backend !== 'webgpu' || !model.info.verify || model.info.verify.status === 'skipped') return;
  model.verifier = new ServiceVerifier(bytes, options);
  model.onDiverge = options.onDiverge;
  model.info.verify.service = model.verifier.stats();
}

/**
 * Offers a production run of `model` to its verifier (which copies the outputs: they are
 * transferred to the caller) and returns the counts and backend its answer carries; undefined
 * when the model is not sampled.
 */
export function sampleRun(model: ServiceVerifiedModel, feeds: TensorMap, outputs: Readonly<Record<string, TensorLike>>): RunReply['verify'] {
  if (!model.verifier) return undefined;
  if (model.decision.backend === 'webgpu') model.verifier.offer(feeds, outputs);
  return { service: model.verifier.stats(), backend: model.decision };
}
