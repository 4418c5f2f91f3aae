/**
 * Plan strategy per model: run the partitioned plan (webq8's int8 kernels between ORT segments) or
 * the plain model in one ORT session. `'auto'` keeps both compiled and chooses per shape class of
 * the requests (src/worker/adaptive.ts); at load it measures one probe class on seeded random
 * inputs (symbolic dimensions: 1 for the first axis, {@link PROBE_DIM} for the others), which is
 * what `model.info.strategy` reports. Only the WebGPU backend has anything to choose (on WASM every
 * op runs on the CPU already): callers handle other backends without parsing the model
 * (src/worker/prepare.ts). A kernel plan that fails to prepare falls back to plain ORT with the
 * reason recorded, and one that fails on a shape class is not chosen for it — never a wrong answer.
 */
import type { PlannedModel } from '../graph/partition';
import type { Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { Backend, StrategyDecision, StrategyRequest, TensorMap, ValueInfo } from '../types';
import { hasKernel } from '../kernels/registry';
import { syntheticFeeds } from '../synthetic-feeds';
import { AdaptiveExecutor, type ShapeDecision, type ShapeDecisions } from './adaptive';
import { PlanExecutor, type Executor } from './executor';

/** Size of a symbolic non-batch dimension in the `'auto'` probe at load. */
export const PROBE_DIM = 32;

/**
 * How a model's executor is built (and rebuilt after a device loss or for `generate`): one plan,
 * or both plans choosing per shape class with the decisions made so far.
 */
export type ExecutorRecipe =
  { plan: Plan } | { kernels: Plan; ort: Plan; decisions: ShapeDecisions; onDecision?: (shapeClass: string, decision: ShapeDecision) => void | Promise<void> };

/** Builds the executor of `recipe`; `outputsOnGpu` leaves the plan outputs on the GPU (see {@link Plan.outputsOnGpu}). */
export async function buildExecutor(recipe: ExecutorRecipe, backend: Backend, getGpu: () => Promise<GpuContext>, outputsOnGpu = false): Promise<Executor> {
  const on = (plan: Plan): Plan => (outputsOnGpu ? { ...plan, outputsOnGpu } : plan);
  if ('plan' in recipe) return PlanExecutor.create(on(recipe.plan), backend, getGpu);
  // ORT first: its session creates ORT's device, which the kernels run on (ORT #26107).
  const ort = await PlanExecutor.create(on(recipe.ort), backend, getGpu);
  try {
    return new AdaptiveExecutor(await PlanExecutor.create(on(recipe.kernels), backend, getGpu), ort, recipe.decisions, recipe.onDecision);
  } catch (err) {
    await ort.dispose();
    throw err;
  }
}

/** The chosen recipe, its prepared executor and the decision. */
export interface ChosenPlan {
  recipe: ExecutorRecipe;
  executor: Executor;
  strategy: StrategyDecision;
}

/**
 * Picks and prepares the plan for `planned` on `backend` (see the module comment). `decisions`
 * and `onDecision` carry the per-class decisions of `'auto'` (empty for a first load).
 */
export async function choosePlan(
  planned: PlannedModel,
  backend: Backend,
  requested: StrategyRequest,
  getGpu: () => Promise<GpuContext>,
  onDecision?: (shapeClass: string, decision: ShapeDecision) => void | Promise<void>,
  size?: { modelBytes: number; bothPlansMaxBytes: number },
): Promise<ChosenPlan> {
  const ort = async (reason: string, executor?: PlanExecutor): Promise<ChosenPlan> => ({
    recipe: { plan: planned.ort },
    executor: executor ?? (await PlanExecutor.create(planned.ort, backend, getGpu)),
    strategy: { strategy: 'ort', requested, reason },
  });
  if (!planned.kernels) return ort('No int8 matmul pattern matched: the model runs in one ORT session.');
  if (requested === 'ort') return ort("Plain ORT was requested (strategy 'ort').");
  const unknown = planned.kernels.steps.find((s) => s.kind === 'kernel' && !hasKernel(s.op));
  if (unknown?.kind === 'kernel') return ort(`The kernel plan uses op ${unknown.op}, which this build does not register; using plain ORT.`);
  // Kernels run on ORT's GPUDevice, which the anchor session provides (src/worker/ort.ts), so a
  // plan that starts with a kernel step needs no plain session: 'kernels' never builds one (it
  // would read every weight of the model once more). Above the size limit, 'auto' keeps one plan:
  // both would hold the weights twice.
  const one = requested === 'auto' && size !== undefined && size.modelBytes > size.bothPlansMaxBytes;
  const plain = requested === 'auto' && !one ? await PlanExecutor.create(planned.ort, backend, getGpu) : null;
  let kernels: PlanExecutor;
  try {
    kernels = await PlanExecutor.create(planned.kernels, backend, getGpu);
  } catch (err) {
    const reason = `The kernel plan could not be prepared (${message(err)}); using plain ORT.`;
    return ort(reason, plain ?? undefined);
  }
  if (requested === 'kernels' || one || !plain) {
    await plain?.dispose();
    const reason = one ? oneReason(size!) : "webq8's kernels were requested (strategy 'kernels').";
    return { recipe: { plan: planned.kernels }, executor: kernels, strategy: { strategy: 'kernels', requested, reason, ...(one ? { onePlan: true } : {}) } };
  }
  const recipe: ExecutorRecipe = { kernels: planned.kernels, ort: planned.ort, decisions: {}, ...(onDecision ? { onDecision } : {}) };
  const executor = new AdaptiveExecutor(kernels, plain, recipe.decisions, onDecision);
  try {
    return { recipe, executor, strategy: await probe(executor, requested) };
  } catch (err) {
    await executor.dispose(); // nothing was handed out
    throw err;
  }
}

/** Measures the probe class at load and describes the result as the model's {@link StrategyDecision}. */
async function probe(executor: AdaptiveExecutor, requested: StrategyRequest): Promise<StrategyDecision> {
  const later =
    "Both plans stay compiled; each new shape class is answered at once on its nearest measured class's plan, measured in idle time, and the faster plan kept for it (see model.stats().lastRun.strategy).";
  const feeds = probeFeeds(executor.inputInfo());
  if (!feeds)
    return { strategy: 'kernels', requested, perShape: true, reason: `The inputs have types we cannot synthesize, so nothing was measured at load. ${later}` };
  let s;
  try {
    s = await executor.measureNow(feeds);
  } catch (err) {
    return { strategy: 'kernels', requested, perShape: true, reason: `Both plans failed the probe run at load (${message(err)}). ${later}` };
  }
  const { kernelsMs, ortMs } = s.decision;
  const why =
    s.decision.strategy === 'kernels'
      ? Number.isNaN(ortMs)
        ? 'plain ORT failed the probe run'
        : `webq8's kernels ${fmt(kernelsMs)} vs ${fmt(ortMs)} for plain ORT`
      : Number.isNaN(kernelsMs)
        ? 'the kernel plan failed the probe run'
        : `plain ORT ${fmt(ortMs)} vs ${fmt(kernelsMs)} with webq8's kernels`;
  return {
    strategy: s.decision.strategy,
    requested,
    perShape: true,
    probeClass: s.shapeClass,
    reason: `Measured on this device at the probe shape (${s.shapeClass || 'fixed shapes'}): ${why}. ${later}`,
    measured: { kernelsMs, ortMs, runs: s.decision.runs },
  };
}

/** Seeded random feeds for `inputs` (floats in [-1, 1), integers 0), or null when a type cannot be synthesized. */
export function probeFeeds(inputs: ValueInfo[]): TensorMap | null {
  return syntheticFeeds(inputs, {}, PROBE_DIM, 'random');
}

function oneReason(size: { modelBytes: number; bothPlansMaxBytes: number }): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `The model (${mib(size.modelBytes)}) is above bothPlansMaxBytes (${mib(size.bothPlansMaxBytes)}): keeping both plans would hold its weights twice, so only the kernel plan (int8 weights in webq8's GPU buffers, not in ORT's WASM heap) was built, without measuring.`;
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
