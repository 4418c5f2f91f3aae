/**
 * The engine's side of verification in service (src/worker/verify-service.ts): each sampled run is
 * checked as idle work of its model (src/worker/idle.ts, shared with `'auto'`'s measurements): it
 * starts only while no request of the model is queued or running, one piece of idle work at a
 * time, as a turn of the model's request chain (so it takes its turn in ORT's gate and a dispose
 * waits for it); a request arriving meanwhile waits for that one check only. A divergence under `onDiverge: 'fallback'` serves the model from the reference
 * session from then on, with the reason in its backend decision; `'report'` and `'error'` keep the
 * GPU plan (the answer was already delivered: there is no load left to reject) and count it.
 */
import { ortPlan } from '../graph/plan';
import type { DecoderIo } from '../decoder-io';
import type { GenerateReply, GenerateRequest, RunReply } from '../protocol';
import type { BackendDecision, DivergeAction, ModelInfo, TensorLike, TensorMap } from '../types';
import type { Executor } from './executor';
import type { IdleSlots } from './idle';
import type { ExecutorRecipe } from './strategy';
import type { ResolvedVerify } from './verify';
import { checkableGeneration } from './verify-generate';
import { ServiceVerifier, type Verdict } from './verify-service';

/** What of a loaded model the check reads and, on a fallback, replaces. */
export interface ServiceVerifiedModel {
  info: ModelInfo;
  decision: BackendDecision;
  executor: Executor;
  recipe: ExecutorRecipe;
  outputsOnGpu: boolean;
  /** The model's idle-time work and the requests it yields to. */
  idle: IdleSlots;
  verifier?: ServiceVerifier;
  onDiverge?: DivergeAction;
}

/** A turn of the model's request chain for idle work (the engine's `enqueue` with `idle: true`). */
export type IdleTurn = (work: () => Promise<void>) => Promise<void>;

/** Queues the check of the sampled runs waiting, as idle work of `model` (see the module comment). */
export function checkWhenIdle(model: ServiceVerifiedModel, turn: IdleTurn): void {
  const v = model.verifier;
  if (!v || v.busy || !v.waiting) return;
  v.busy = true;
  const work = async () => {
    const verdict = await v.checkOne();
    if (verdict && !verdict.ok) await onDivergence(model, v, verdict);
  };
  model.idle
    .schedule(() => turn(work))
    .then(
      () => {
        v.busy = false;
        checkWhenIdle(model, turn); // the next sample, if one waits
      },
      () => {
        v.busy = false; // a check never fails a request; after a failure (or a dispose) the next sampled run tries again
      },
    );
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

/** Offers a finished greedy generation of `model` to its verifier (src/worker/verify-generate.ts); its counts for the reply, as {@link sampleRun}. */
export function sampleGeneration(model: ServiceVerifiedModel, io: DecoderIo, request: GenerateRequest, reply: GenerateReply): RunReply['verify'] {
  const v = model.verifier;
  if (!v) return undefined;
  if (model.decision.backend === 'webgpu' && checkableGeneration(request.sampling)) v.offerGeneration(io, request.inputIds, reply.tokens);
  return v.takeChanged() ? { service: v.stats(), backend: model.decision } : undefined;
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
 * when the model is not sampled or nothing changed since the last answer that carried them.
 */
export function sampleRun(model: ServiceVerifiedModel, feeds: TensorMap, outputs: Readonly<Record<string, TensorLike>>): RunReply['verify'] {
  const v = model.verifier;
  if (!v) return undefined;
  if (model.decision.backend === 'webgpu') v.offer(feeds, outputs);
  // Only an answer after a change carries the counts (the main thread keeps the last ones it got).
  return v.takeChanged() ? { service: v.stats(), backend: model.decision } : undefined;
}
