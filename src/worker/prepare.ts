/**
 * What a model load prepares beyond fetching: the plan (partitioned or one ORT step), its executor,
 * the kernels-vs-ORT decision (which `'auto'` measures by running both) and the placement — with a
 * warm start from the compiled-artifact cache: keyed by (model SHA-256, webq8 version, adapter), so
 * a returning visitor skips parsing, partitioning and the measurement. ORT's own session creation
 * still runs.
 */
import { getArtifact, putArtifact } from '../cache';
import type { ArtifactKey } from '../cache';
import { readEarly, wholeFile } from '../graph/external-stream';
import { planModel } from '../graph/partition';
import { ortPlan, type Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { AdapterInfo, Backend, ModelMemory, Placement, StrategyDecision, StrategyRequest } from '../types';
import { VERSION } from '../version';
import type { ShapeDecision, ShapeDecisions } from './adaptive';
import type { Executor } from './executor';
import { splitWeightsOf } from './binding-limit';
import type { DataFile } from './external-data';
import { memoryOf } from './memory';
import { buildExecutor, choosePlan, type ExecutorRecipe } from './strategy';

/** A model ready to run: how its executor is built, the executor, and how the plan was chosen. */
export interface PreparedModel {
  recipe: ExecutorRecipe;
  executor: Executor;
  /** Absent for explicit plans (`loadPlan` of `webq8/advanced`), which run as given. */
  strategy?: StrategyDecision;
  placement?: Placement;
  memory?: ModelMemory;
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
  /** External data files by location, read by ranges (src/worker/external-data.ts). */
  externalData?: ReadonlyMap<string, DataFile> | undefined;
  /** `'auto'` keeps one plan above this many bytes (model plus data files; see `LoadOptions.bothPlansMaxBytes`). */
  bothPlansMaxBytes?: number;
}

/**
 * The artifact stored per (model, webq8 version, adapter): the decision, the kernel plan when it
 * may run (strategy `kernels`, or per shape class) and the per-class decisions made so far.
 */
interface PlanArtifact extends Record<string, unknown> {
  strategy: StrategyDecision;
  placement: Placement;
  /** Absent when only plain ORT runs (the original bytes). */
  kernelPlan?: Plan;
  decisions?: ShapeDecisions;
}

/** Identifies the adapter an artifact was measured on. */
export function adapterKey(backend: Backend, adapter: AdapterInfo | null): string {
  return adapter ? `${backend}:${adapter.vendor}:${adapter.architecture}:${adapter.device}` : backend;
}

/** Prepares model bytes for `input.backend`, with the model's {@link ModelMemory}. */
export async function prepareModel(input: PrepareInput, getGpu: () => Promise<GpuContext>): Promise<PreparedModel> {
  const files = [...(input.externalData?.values() ?? [])];
  const prepared = await prepareOnly(input, getGpu);
  for (const f of files) f.inHand = undefined; // downloaded whole (new bytes on revalidation): ORT (WASM) has its copy by now, the kernel plan its weights
  // What the Worker keeps: the .onnx, and the data files it has in hand (a cache entry is read again when needed).
  const held = files.reduce((a, f) => a + f.ranges.heldBytes, input.bytes.byteLength);
  const memory = memoryOf(prepared.recipe, held);
  if (input.backend !== 'webgpu' && 'plan' in prepared.recipe && dropDataFiles(prepared.recipe.plan)) memory.heldBytes = input.bytes.byteLength;
  const plans = 'plan' in prepared.recipe ? [prepared.recipe.plan] : [prepared.recipe.kernels];
  if (plans.some((p) => p.steps.some((s) => s.kind === 'kernel'))) {
    const splitWeights = splitWeightsOf(plans, (await getGpu()).device);
    if (splitWeights) memory.splitWeights = splitWeights;
  }
  return { ...prepared, memory };
}

/**
 * On WASM, ORT copied every external range into its heap when the session was created, and a WASM
 * session is never re-created from the plan (only a lost GPU device rebuilds one): the plan lets go
 * of its data files, so the Worker does not keep a second copy of the weights while the model is
 * loaded. Returns whether it held any.
 */
function dropDataFiles(plan: Plan): boolean {
  let held = false;
  for (const step of plan.steps) {
    if (step.kind !== 'ort' || !step.externalData) continue;
    held = true;
    delete step.externalData;
  }
  return held;
}

/** On WASM every op already runs on the CPU, so the model is not even parsed. */
async function prepareOnly(input: PrepareInput, getGpu: () => Promise<GpuContext>): Promise<PreparedModel> {
  const { bytes, backend, strategy: requested } = input;
  const files = input.externalData ?? new Map<string, DataFile>();
  if (backend !== 'webgpu') {
    // ORT copies every file into its heap: the bytes this load downloaded, else the file read whole.
    const external = [...files].map(([path, f]) => (f.inHand ? { path, data: f.inHand } : wholeFile(path, { source: f.ranges, early: new Map() })));
    const recipe = { plan: ortPlan(bytes, external) };
    const strategy: StrategyDecision = {
      strategy: 'ort',
      requested,
      reason: `The backend is ${backend}: ORT runs every op on the CPU, so there is nothing to partition.`,
    };
    return { recipe, executor: await buildExecutor(recipe, backend, getGpu), strategy };
  }
  // A plan of an external-data model holds views of its data files: too big to store as an artifact.
  const key: ArtifactKey | null =
    input.sha256 && requested === 'auto' && files.size === 0
      ? { modelSha256: input.sha256, webq8Version: VERSION, adapterKey: adapterKey(backend, input.adapter), kind: 'plan' }
      : null;
  // The artifact holds the recipe's own decisions (the executor adds each new one in place), so a
  // new per-class decision is saved by storing the artifact again (never throws: an optimization).
  let saved: PlanArtifact | null = null;
  const onDecision = async () => {
    if (key && saved) await putArtifact(key, saved);
  };
  const warm = key ? await fromArtifact(key, bytes, getGpu, onDecision) : null;
  if (warm && 'prepared' in warm) {
    saved = warm.artifact;
    return warm.prepared;
  }
  // The kernel plan streams: tensors are read by ranges when needed (src/graph/external-stream.ts),
  // from the cache entry (a cold download is streamed into it), else from the bytes in hand.
  const sources = new Map([...files].map(([location, f]) => [location, f.ranges]));
  const planned = planModel(bytes, { source: input.source, externalData: files.size ? await readEarly(bytes, sources, input.source) : undefined });
  const modelBytes = [...files.values()].reduce((a, f) => a + f.ranges.size, bytes.byteLength);
  const size = input.bothPlansMaxBytes !== undefined ? { modelBytes, bothPlansMaxBytes: input.bothPlansMaxBytes } : undefined;
  const chosen = await choosePlan(planned, backend, requested, getGpu, onDecision, size);
  if (warm) chosen.strategy.artifactDropped = warm.dropped;
  if (key) {
    const artifact: PlanArtifact = { strategy: chosen.strategy, placement: planned.placement };
    if ('kernels' in chosen.recipe) Object.assign(artifact, { kernelPlan: chosen.recipe.kernels, decisions: chosen.recipe.decisions });
    else if (chosen.strategy.strategy === 'kernels') artifact.kernelPlan = chosen.recipe.plan;
    saved = artifact;
    // Awaited so a worker closed right after the load still keeps it. It replaces a dropped artifact under the same key.
    await putArtifact(key, artifact);
  }
  return { ...chosen, placement: planned.placement };
}

/**
 * The model prepared from a cached artifact; `{ dropped }` with the reason when one exists but no
 * longer works (it is then planned afresh and the new artifact replaces it); null when there is none.
 */
async function fromArtifact(
  key: ArtifactKey,
  bytes: Uint8Array,
  getGpu: () => Promise<GpuContext>,
  onDecision: () => Promise<void>,
): Promise<{ prepared: PreparedModel; artifact: PlanArtifact } | { dropped: string } | null> {
  const cached = await getArtifact<PlanArtifact>(key);
  if (!cached) return null;
  const s = cached.strategy;
  if (typeof s?.strategy !== 'string' || ((s.strategy === 'kernels' || s.perShape) && !cached.kernelPlan)) {
    return { dropped: 'The cached plan artifact is malformed (no decision, or a kernels decision without its plan).' };
  }
  const decisions: ShapeDecisions = { ...(isRecord(cached.decisions) ? cached.decisions : {}) };
  const recipe: ExecutorRecipe = s.perShape
    ? { kernels: cached.kernelPlan!, ort: ortPlan(bytes), decisions, onDecision }
    : { plan: s.strategy === 'kernels' ? cached.kernelPlan! : ortPlan(bytes) };
  try {
    const executor = await buildExecutor(recipe, 'webgpu', getGpu);
    const artifact = s.perShape ? { ...cached, decisions } : cached;
    return { prepared: { recipe, executor, strategy: { ...s, cached: true }, placement: cached.placement }, artifact };
  } catch (err) {
    // E.g. a kernel op this build no longer has. buildExecutor freed what it had made.
    return { dropped: `The cached plan no longer prepares: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
  }
}

function isRecord(x: unknown): x is Record<string, ShapeDecision> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
