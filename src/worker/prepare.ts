/**
 * What a model load prepares beyond fetching: the plan (partitioned or one ORT step), its executor,
 * the kernels-vs-ORT decision (which `'auto'` measures by running both) and the placement — with a
 * warm start from the compiled-artifact cache: keyed by (model SHA-256, webq8 version, adapter), so
 * a returning visitor skips parsing, partitioning and the measurement. ORT's own session creation
 * still runs.
 */
import { getArtifact, putArtifact } from '../cache';
import type { ArtifactKey } from '../cache';
import { planModel } from '../graph/partition';
import { ortPlan, type Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { AdapterInfo, Backend, Placement, StrategyDecision, StrategyRequest } from '../types';
import { VERSION } from '../version';
import { PlanExecutor } from './executor';
import { choosePlan } from './strategy';

/** A model ready to run: its plan, the executor built from it, and how the plan was chosen. */
export interface PreparedModel {
  plan: Plan;
  executor: PlanExecutor;
  /** Absent for explicit plans (`runtime.loadPlan`), which run as given. */
  strategy?: StrategyDecision;
  placement?: Placement;
}

/** What {@link prepareModel} needs to know about the model and where it runs. */
export interface PrepareInput {
  bytes: Uint8Array;
  /** SHA-256 of `bytes` (hex): the artifact cache key. */
  sha256: string;
  backend: Backend;
  adapter: AdapterInfo | null;
  strategy: StrategyRequest;
  /** Name used in messages. */
  source: string;
}

/** The artifact stored per (model, webq8 version, adapter): the decision and the plan it picked. */
interface PlanArtifact extends Record<string, unknown> {
  strategy: StrategyDecision;
  placement: Placement;
  /** The kernel plan when the strategy is `kernels`; absent for plain ORT (the original bytes). */
  kernelPlan?: Plan;
}

/** Identifies the adapter an artifact was measured on. */
export function adapterKey(backend: Backend, adapter: AdapterInfo | null): string {
  return adapter ? `${backend}:${adapter.vendor}:${adapter.architecture}:${adapter.device}` : backend;
}

/** Prepares model bytes for `input.backend`. On WASM every op already runs on the CPU, so the model is not even parsed. */
export async function prepareModel(input: PrepareInput, getGpu: () => Promise<GpuContext>): Promise<PreparedModel> {
  const { bytes, backend, strategy: requested } = input;
  if (backend !== 'webgpu') {
    const plan = ortPlan(bytes);
    const strategy: StrategyDecision = {
      strategy: 'ort',
      requested,
      reason: `The backend is ${backend}: ORT runs every op on the CPU, so there is nothing to partition.`,
    };
    return { plan, executor: await PlanExecutor.create(plan, backend, getGpu), strategy };
  }
  const key: ArtifactKey | null =
    input.sha256 && requested === 'auto'
      ? { modelSha256: input.sha256, webq8Version: VERSION, adapterKey: adapterKey(backend, input.adapter), kind: 'plan' }
      : null;
  const warm = key ? await fromArtifact(key, bytes, getGpu) : null;
  if (warm && 'executor' in warm) return warm;
  const planned = planModel(bytes, { source: input.source });
  const chosen = await choosePlan(planned, backend, requested, getGpu);
  if (warm) chosen.strategy.artifactDropped = warm.dropped;
  if (key) {
    const artifact: PlanArtifact = { strategy: chosen.strategy, placement: planned.placement };
    if (chosen.strategy.strategy === 'kernels') artifact.kernelPlan = chosen.plan;
    // Never throws (an artifact is an optimization); awaited so a worker closed right after the load
    // still keeps it. It replaces a dropped artifact under the same key.
    await putArtifact(key, artifact);
  }
  return { ...chosen, placement: planned.placement };
}

/**
 * The model prepared from a cached artifact; `{ dropped }` with the reason when one exists but no
 * longer works (it is then planned afresh and the new artifact replaces it); null when there is none.
 */
async function fromArtifact(key: ArtifactKey, bytes: Uint8Array, getGpu: () => Promise<GpuContext>): Promise<PreparedModel | { dropped: string } | null> {
  const cached = await getArtifact<PlanArtifact>(key);
  if (!cached) return null;
  if (typeof cached.strategy?.strategy !== 'string' || (cached.strategy.strategy === 'kernels' && !cached.kernelPlan)) {
    return { dropped: 'The cached plan artifact is malformed (no decision, or a kernels decision without its plan).' };
  }
  const plan = cached.strategy.strategy === 'kernels' && cached.kernelPlan ? cached.kernelPlan : ortPlan(bytes);
  try {
    const executor = await PlanExecutor.create(plan, 'webgpu', getGpu);
    return { plan, executor, strategy: { ...cached.strategy, cached: true }, placement: cached.placement };
  } catch (err) {
    // E.g. a kernel op this build no longer has. PlanExecutor.create freed what it had made.
    return { dropped: `The cached plan no longer prepares: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
  }
}
