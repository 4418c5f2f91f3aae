/**
 * Plan strategy per model: run the partitioned plan (webq8's int8 kernels between ORT segments) or
 * the plain model in one ORT session. `'auto'` measures both once at load, on the device, with
 * zero-filled inputs (symbolic dimensions: 1 for the first axis, {@link PROBE_DIM} for the others),
 * and keeps the faster one. Only the WebGPU backend has anything to choose (on WASM every op runs on
 * the CPU already): callers handle other backends without parsing the model (src/worker/prepare.ts).
 * A kernel plan that fails to prepare or to run falls back to plain ORT with the reason recorded —
 * never a wrong answer.
 */
import type { PlannedModel } from '../graph/partition';
import type { Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { Backend, StrategyDecision, StrategyRequest, TensorMap, ValueInfo } from '../types';
import { hasKernel } from '../kernels/registry';
import { syntheticFeeds } from './synthetic-feeds';
import { PlanExecutor } from './executor';

/** Size of a symbolic non-batch dimension in the `'auto'` measurement. */
export const PROBE_DIM = 32;
/** Timed runs per plan in the `'auto'` measurement (after one warm-up run). */
export const PROBE_RUNS = 2;

/** The chosen plan, its prepared executor and the decision. */
export interface ChosenPlan {
  plan: Plan;
  executor: PlanExecutor;
  strategy: StrategyDecision;
}

/** Picks and prepares the plan for `planned` on `backend` (see the module comment). */
export async function choosePlan(planned: PlannedModel, backend: Backend, requested: StrategyRequest, getGpu: () => Promise<GpuContext>): Promise<ChosenPlan> {
  const ort = async (reason: string, measured?: StrategyDecision['measured']): Promise<ChosenPlan> => ({
    plan: planned.ort,
    executor: await PlanExecutor.create(planned.ort, backend, getGpu),
    strategy: { strategy: 'ort', requested, reason, ...(measured ? { measured } : {}) },
  });
  if (!planned.kernels) return ort('No int8 matmul pattern matched: the model runs in one ORT session.');
  if (requested === 'ort') return ort("Plain ORT was requested (strategy 'ort').");
  const unknown = planned.kernels.steps.find((s) => s.kind === 'kernel' && !hasKernel(s.op));
  if (unknown?.kind === 'kernel') return ort(`The kernel plan uses op ${unknown.op}, which this build does not register; using plain ORT.`);
  // Kernels run on ORT's GPUDevice, which exists only once an ORT WebGPU session does (ORT #26107):
  // a plan that starts with a kernel step needs the plain session first (auto needs it anyway).
  const plain = requested === 'auto' || planned.kernels.steps[0]?.kind === 'kernel' ? await PlanExecutor.create(planned.ort, backend, getGpu) : null;
  let kernels: PlanExecutor;
  try {
    kernels = await PlanExecutor.create(planned.kernels, backend, getGpu);
  } catch (err) {
    const reason = `The kernel plan could not be prepared (${message(err)}); using plain ORT.`;
    return plain ? { plan: planned.ort, executor: plain, strategy: { strategy: 'ort', requested, reason } } : ort(reason);
  }
  if (requested === 'kernels' || !plain) {
    await plain?.dispose();
    return {
      plan: planned.kernels,
      executor: kernels,
      strategy: { strategy: 'kernels', requested, reason: "webq8's kernels were requested (strategy 'kernels')." },
    };
  }
  try {
    return await measureAndKeep({ ort: planned.ort, kernels: planned.kernels }, requested, plain, kernels);
  } catch (err) {
    // Nothing was handed out: neither executor may outlive a failed choice.
    await plain.dispose();
    await kernels.dispose();
    throw err;
  }
}

/** Runs both executors on probe feeds, keeps the faster one and disposes the other. */
async function measureAndKeep(
  plans: { ort: Plan; kernels: Plan },
  requested: StrategyRequest,
  plain: PlanExecutor,
  kernels: PlanExecutor,
): Promise<ChosenPlan> {
  const feeds = probeFeeds(plain.inputInfo());
  const kernelsMs = feeds ? await measure(kernels, feeds) : null;
  const ortMs = feeds ? await measure(plain, feeds) : null;
  const measured = { kernelsMs: kernelsMs ?? NaN, ortMs: ortMs ?? NaN, runs: PROBE_RUNS };
  const keepKernels = kernelsMs !== null && (ortMs === null || kernelsMs <= ortMs);
  await (keepKernels ? plain : kernels).dispose();
  if (keepKernels) {
    const why = ortMs === null ? 'plain ORT failed the measurement run' : `${fmt(kernelsMs)} vs ${fmt(ortMs)} for plain ORT`;
    return {
      plan: plans.kernels,
      executor: kernels,
      strategy: { strategy: 'kernels', requested, reason: `Measured on this device: webq8's kernels ${why}.`, measured },
    };
  }
  const why =
    kernelsMs === null
      ? feeds
        ? 'the kernel plan failed its measurement run'
        : 'the inputs have types we cannot synthesize, so nothing was measured'
      : `plain ORT ${fmt(ortMs!)} vs ${fmt(kernelsMs)} with webq8's kernels`;
  return { plan: plans.ort, executor: plain, strategy: { strategy: 'ort', requested, reason: `Measured on this device: ${why}.`, measured } };
}

/** Zero-filled feeds for `inputs`, or null when a type cannot be synthesized (see src/worker/synthetic-feeds.ts). */
export function probeFeeds(inputs: ValueInfo[]): TensorMap | null {
  return syntheticFeeds(inputs, {}, PROBE_DIM);
}

/** Median of {@link PROBE_RUNS} timed runs after a warm-up; null when a run throws. */
async function measure(executor: PlanExecutor, feeds: TensorMap): Promise<number | null> {
  try {
    await executor.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < PROBE_RUNS; i++) {
      const t0 = performance.now();
      await executor.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor((times.length - 1) / 2)] ?? null;
  } catch {
    return null;
  }
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
