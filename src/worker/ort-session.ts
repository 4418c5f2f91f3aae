/**
 * The ORT sessions of a plan: created with their outputs kept on the GPU where a later step reads
 * them, labelled for profiles, counted (a leak check reads it) and released once — every call into
 * ORT through the Worker's gate (src/worker/ort-gate.ts).
 */
import { ModelFormatError, RuntimeCrashedError } from '../errors';
import { externalDataOf } from '../graph/external-stream';
import type { PlanStep } from '../graph/plan';
import type { PreparedKernel } from '../kernels/registry';
import type { Backend } from '../types';
import { ort } from './ort';
import { ortCall } from './ort-gate';

/** An ORT step of a plan with its session. */
export interface PreparedOrt {
  step: PlanStep & { kind: 'ort' };
  session: ort.InferenceSession;
  gpuOutputs: Set<string>;
}

/** A kernel step of a plan, prepacked. */
export interface PreparedKernelStep {
  step: PlanStep & { kind: 'kernel' };
  kernel: PreparedKernel;
}

export async function createSession(step: PlanStep & { kind: 'ort' }, backend: Backend, onGpu: (planName: string) => boolean): Promise<PreparedOrt> {
  // preferredOutputLocation must name outputs before the session exists, so only outputs named in
  // the step's `outputs` mapping can stay on the GPU (multi-step plans always name them).
  const gpuOutputs = new Set(
    Object.entries(step.outputs ?? {})
      .filter(([, plan]) => onGpu(plan))
      .map(([sub]) => sub),
  );
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  };
  // A streamed file's ranges are read now: ORT copies them, and nothing here keeps them.
  if (step.externalData?.length) options.externalData = await externalDataOf(step.externalData);
  // A whole model as one step names no outputs: keep all of them on the GPU when asked to.
  if (!step.outputs && onGpu('')) options.preferredOutputLocation = 'gpu-buffer';
  else if (gpuOutputs.size > 0) options.preferredOutputLocation = Object.fromEntries([...gpuOutputs].map((n) => [n, 'gpu-buffer' as const]));
  try {
    const session = await ortCall(() => ort.InferenceSession.create(step.model, options));
    liveSessions++;
    return { step, session, gpuOutputs };
  } catch (cause) {
    if (cause instanceof RuntimeCrashedError) throw cause; // a dead ORT instance, not a bad model
    const why = `onnxruntime-web could not create a ${backend} session from this model: ${cause instanceof Error ? cause.message : String(cause)}`;
    throw new ModelFormatError(`${why}. Check that the bytes are a valid ONNX model.`, { backend }, { cause });
  }
}

/** A profile label for an ORT segment: what it produces. */
export function ortLabel(s: PreparedOrt): string {
  const outs = s.session.outputNames.map((n) => s.step.outputs?.[n] ?? n);
  return `ORT → ${outs[0] ?? '?'}${outs.length > 1 ? ` +${outs.length - 1}` : ''}`;
}

/** ORT sessions created by executors and not released yet (a leak check reads it). */
let liveSessions = 0;

/** ORT sessions of live executors (created minus released). */
export function liveOrtSessions(): number {
  return liveSessions;
}

/** Releases every step once; a second call (after a device loss rebuilt the executor) is a no-op. */
export async function disposeSteps(steps: (PreparedOrt | PreparedKernelStep)[]): Promise<void> {
  for (const s of steps.splice(0)) {
    try {
      if ('session' in s) {
        liveSessions--;
        await ortCall(() => s.session.release());
      } else s.kernel.dispose();
    } catch {
      /* best effort: a lost device or released session */
    }
  }
}
