/**
 * `model.info.memory`: where a loaded model's bytes went, computed from its recipe (no browser
 * API reports a worker's or a GPU process's memory).
 */
import { externalRefs } from '../graph/external-data';
import { constantBytes } from '../graph/external-stream';
import { decodeModel } from '../graph/onnx-model';
import type { Plan } from '../graph/plan';
import type { ModelMemory } from '../types';
import type { ExecutorRecipe } from './strategy';

/** The {@link ModelMemory} of a prepared recipe whose model and data files are `heldBytes` in all. */
export function memoryOf(recipe: ExecutorRecipe, heldBytes: number): ModelMemory {
  const plans = 'plan' in recipe ? [recipe.plan] : [recipe.kernels, recipe.ort];
  let kernelGpuBytes = 0;
  let ortBytes = 0;
  for (const plan of plans) {
    const m = planMemory(plan);
    kernelGpuBytes += m.kernelGpuBytes;
    ortBytes += m.ortBytes;
  }
  return { kernelGpuBytes, ortBytes, heldBytes };
}

function planMemory(plan: Plan): { kernelGpuBytes: number; ortBytes: number } {
  let kernelGpuBytes = 0;
  let ortBytes = 0;
  for (const step of plan.steps) {
    if (step.kind === 'kernel') {
      for (const t of Object.values(step.constants ?? {})) kernelGpuBytes += constantBytes(t);
      continue;
    }
    ortBytes += step.model.byteLength;
    // Only the ranges its tensors name are copied out of the data files.
    if (step.externalData?.length) for (const r of externalRefs(decodeModel(step.model))) ortBytes += r.length;
  }
  return { kernelGpuBytes, ortBytes };
}
