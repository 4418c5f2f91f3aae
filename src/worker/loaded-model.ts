/** What the engine keeps of a loaded model: its executor, how to rebuild it, and its request chain. */
import type { BackendDecision, ModelInfo } from '../types';
import type { DecodeBatcher } from './decode-batcher';
import type { Executor } from './executor';
import type { IdleSlots } from './idle';
import type { ExecutorRecipe } from './strategy';
import type { ServiceVerifiedModel } from './verify-idle';

/** See the module comment. */
export interface LoadedModel extends ServiceVerifiedModel {
  info: ModelInfo;
  /** How the executor is (re)built. */
  recipe: ExecutorRecipe;
  /** Set by the first `generate` on WebGPU: the plan outputs stay on the GPU from then on. */
  outputsOnGpu: boolean;
  decision: BackendDecision;
  executor: Executor;
  /** Tail of this model's request chain: runs execute one at a time, in order. */
  tail: Promise<unknown>;
  /** Set when the GPU device was lost under this model: the next run rebuilds its executor. */
  stale: boolean;
  /**
   * The executor's current run, settled or not. A run rejected with DeviceLostError may still be
   * inside ORT: its session must not be released (nor the next run started) until this settles.
   */
  busy: Promise<unknown>;
  /** Batches the decode steps of this model's generations; made at its first `generate`. */
  batcher?: DecodeBatcher;
  /** Idle-time work (an `'auto'` model's measurements) and the requests it yields to (src/worker/idle.ts). */
  idle: IdleSlots;
}
