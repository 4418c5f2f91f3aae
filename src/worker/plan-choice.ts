/**
 * What a model load prepares beyond ORT sessions — the partitioned plan, the kernels-vs-ORT
 * decision (which `'auto'` measures by running both) and the placement — with a warm start from
 * the compiled-artifact cache: keyed by (model SHA-256, webq8 version, adapter), so a returning
 * visitor skips parsing, partitioning and the measurement. ORT's own session creation still runs.
 */
import { getArtifact, putArtifact } from '../cache';
import type { ArtifactKey } from '../cache';
import { planModel } from '../graph/partition';
import type { Placement } from '../graph/placement';
import type { Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { AdapterInfo, Backend, StrategyDecision, StrategyRequest } from '../types';
import { VERSION } from '../version';
import { PlanExecutor } from './executor';
import { choosePlan } from './strategy';

/** What {@link preparePlan} hands back to the engine. */
export interface PreparedPlan {
  plan: Plan;
  executor: PlanExecutor;
  strategy: StrategyDecision;
  placement?: Placement;
  /** Whether the decision came from the artifact cache. */
  warm: boolean;
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

/**
 * Prepares `bytes` (whose SHA-256 is `sha256`, empty when unknown) for `backend`. On WASM every
 * op already runs on the CPU, so the model is not even parsed.
 */
export async function preparePlan(
  bytes: Uint8Array,
  sha256: string,
  backend: Backend,
  adapter: AdapterInfo | null,
  requested: StrategyRequest,
  getGpu: () => Promise<GpuContext>,
  source: string,
): Promise<PreparedPlan> {
  const ortPlan: Plan = { inputs: [], outputs: [], steps: [{ kind: 'ort', model: bytes }] };
  if (backend !== 'webgpu') {
    const strategy: StrategyDecision = { strategy: 'ort', requested, reason: `The backend is ${backend}: ORT runs every op on the CPU, so there is nothing to partition.` };
    return { plan: ortPlan, executor: await PlanExecutor.create(ortPlan, backend, getGpu), strategy, warm: false };
  }
  const key: ArtifactKey | null = sha256 ? { modelSha256: sha256, webq8Version: VERSION, adapterKey: adapterKey(backend, adapter), kind: 'plan' } : null;
  const cached = key && requested === 'auto' ? await getArtifact<PlanArtifact>(key) : undefined;
  if (cached) {
    const plan = cached.strategy.strategy === 'kernels' && cached.kernelPlan ? cached.kernelPlan : ortPlan;
    try {
      const executor = await PlanExecutor.create(plan, backend, getGpu);
      const strategy = { ...cached.strategy, cached: true };
      return { plan, executor, strategy, placement: cached.placement, warm: true };
    } catch {
      /* a stale or unusable artifact: plan afresh below */
    }
  }
  const planned = planModel(bytes, { source });
  const chosen = await choosePlan(planned, backend, requested, getGpu);
  if (key && requested === 'auto') {
    const artifact: PlanArtifact = { strategy: chosen.strategy, placement: planned.placement };
    if (chosen.strategy.strategy === 'kernels') artifact.kernelPlan = chosen.plan;
    await putArtifact(key, artifact); // never throws; awaited so a worker closed right after the load still keeps it
  }
  return { ...chosen, placement: planned.placement, warm: false };
}
