/**
 * `webq8/advanced`: tools for looking inside a model and composing execution plans by hand. Most
 * applications need only the main entry (`webq8`); these functions take a model or runtime from it.
 */
// Types come from the main entry only: dist/advanced.d.ts then imports them from 'webq8' instead of
// declaring its own copies (a class declared twice is two types to TypeScript). scripts/build-types.mjs.
import type { LoadOptions, Model, Plan, RunProfile, Runtime, TensorLike } from './index';
import { plainFeeds } from './runtime/model';

/**
 * Runs `feeds` once through `model` with every plan step timed to the end of its GPU work: ms per
 * ORT segment and per webq8 kernel step, the time between them (`boundaryMs`) and the readback.
 * Each step waits for the GPU, so a profiled run is slower than a plain one; use it to see where a
 * run goes, not to measure latency. It runs in the Worker of the model's first replica, in turn with
 * its runs, outside the serving queue; the feeds are copied, not transferred, and the outputs dropped.
 * @throws `InputError` for feeds the model does not take; the model keeps serving. `DisposedError`
 *   for a disposed model.
 */
export async function profile(model: Model, feeds: Record<string, TensorLike | object>): Promise<RunProfile> {
  const replica = model._replica();
  return replica.profile(plainFeeds(feeds));
}

/**
 * **Experimental, low-level.** Loads an explicit execution plan into `runtime`'s Worker: ORT
 * sub-models and webq8 kernels run in order on ORT's GPUDevice, with tensors handed over as GPU
 * buffers. `runtime.load` builds such plans itself; this exists for tools and tests that compose
 * steps by hand. The model it returns is an ordinary {@link Model} with one replica.
 */
export function loadPlan(runtime: Runtime, plan: Plan, options: Pick<LoadOptions, 'backend' | 'signal'> = {}): Promise<Model> {
  return runtime._loadPlan(plan, options);
}

export type { Plan, PlanStep, OrtStep, KernelStep, KernelStepDef, ExternalDataFile, ExternalRanges, ExternalSource, RunProfile, StepProfile } from './index';
