/**
 * Runs a {@link Plan}: ORT sessions and webq8 kernels in order, on ORT's GPUDevice when the backend
 * is WebGPU. Values between steps stay where the producer left them: an ORT output consumed by a
 * later step stays on the GPU (`preferredOutputLocation: 'gpu-buffer'`), kernels read and write
 * pooled GPU buffers, and ORT reads ours through `Tensor.fromGpuBuffer`. Only plan inputs go up and
 * plan outputs come down; every buffer is released right after its last consumer ran.
 */
import { KernelError, ModelFormatError } from '../errors';
import type { Plan } from '../graph/plan';
import { hydrateStep } from '../graph/external-stream';
import { elementCount, prepareKernel, type GpuTensor, type KernelRunOptions } from '../kernels/registry';
import { BindingCache } from '../kernels/binding-cache';
import type { GpuContext, GpuCounters } from '../kernels/gpu-context';
import type { RunCounters, RunPhases, RunStrategy, StepProfile } from '../protocol';
import type { Backend, DType, TensorLike, ValueInfo } from '../types';
import { ort, ortDevice } from './ort';
import { ortCall, ortRelease } from './ort-gate';
import { createSession, disposeSteps, ortLabel, type PreparedKernelStep, type PreparedOrt } from './ort-session';
import { bytesPerElement, typedArrayFor } from '../tensors';
import { normalizeDim } from '../dims';
import { injectKernelFault } from './faults';
import { checkBindingLimit } from './binding-limit';

/** A plan value where a step left it: CPU data, or a GPU buffer with the way to free it. */
export type PlanValue = ({ where: 'cpu'; data: TensorLike['data'] } | { where: 'gpu'; buffer: GPUBuffer; release: () => void }) & {
  type: DType;
  dims: number[];
};
type Value = PlanValue;

/** Options of one run; the kernel options reach every kernel step (a batched decode step quantizes per sequence). */
export interface RunValuesOptions extends KernelRunOptions {
  /**
   * Time every step: each ORT segment and each kernel step is followed by a wait for the GPU
   * queue, and its wall time is pushed here (a profiled run is slower than a plain one).
   */
  profile?: RunProfiler;
}

/** Where a profiled run leaves its step times, and when it started (ms, `performance.now`; set by the run when NaN or by `run`). */
export interface RunProfiler {
  steps: StepProfile[];
  startMs: number;
}

/** What a run returns besides its outputs. */
export interface RunResult<O> {
  outputs: O;
  counters: RunCounters;
  phases: RunPhases;
  /** Which plan ran it when the executor chooses per shape class (src/worker/adaptive.ts). */
  strategy?: RunStrategy;
}

/** What the engine, warm-up and generation need from an executor: a {@link PlanExecutor} or a per-shape choice between two. */
export interface Executor {
  /** Runs on CPU feeds and returns CPU outputs. */
  run(feeds: Record<string, TensorLike>, options?: RunValuesOptions): Promise<RunResult<Record<string, TensorLike>>>;
  /** Runs on feeds that may be on the GPU; see {@link PlanExecutor.runValues}. */
  runValues(feeds: Record<string, PlanValue>, options?: RunValuesOptions): Promise<RunResult<Map<string, PlanValue>>>;
  inputInfo(): ValueInfo[];
  outputInfo(): ValueInfo[];
  dispose(): Promise<void>;
  /** Decides the plan for the class of these feeds now, if the executor chooses per class (warm-up of `'auto'`). */
  measureNow?(feeds: Record<string, TensorLike>): Promise<unknown>;
}

/** A plan prepared for one backend: sessions created, kernels prepacked. */
export class PlanExecutor implements Executor {
  /** Bind groups and uniforms of this plan's kernel steps, made on first use and reused by later runs. */
  private readonly bindings = new BindingCache();

  private constructor(
    readonly plan: Plan,
    readonly backend: Backend,
    private readonly steps: (PreparedOrt | PreparedKernelStep)[],
    private readonly lastUse: Map<string, number>,
    private readonly gpu: GpuContext | null,
  ) {}

  /**
   * Creates ORT sessions and prepares kernels. `getGpu` is called after the first WebGPU session
   * exists (ORT's device is only available then) and only if the plan has kernel steps.
   */
  static async create(plan: Plan, backend: Backend, getGpu: () => Promise<GpuContext>): Promise<PlanExecutor> {
    const lastUse = lastUses(plan);
    const consumedLater = (name: string, i: number) => (lastUse.get(name) ?? -1) > i;
    const prepared: (PreparedOrt | PreparedKernelStep)[] = [];
    const scratch = {}; // one buffer for the weights read from data files, reused step by step
    let gpu: GpuContext | null = null;
    try {
      for (const [i, step] of plan.steps.entries()) {
        if (step.kind === 'ort') {
          const keep = (name: string) => !!plan.outputsOnGpu && (plan.outputs.length === 0 || plan.outputs.includes(name));
          prepared.push(await createSession(step, backend, (name) => backend === 'webgpu' && (consumedLater(name, i) || keep(name))));
        } else {
          if (backend !== 'webgpu')
            throw new KernelError(`Plan step ${i} (${step.op}) is a GPU kernel, and the backend is ${backend}. Load this plan with backend 'webgpu'.`);
          gpu ??= await getGpu();
          const g = gpu;
          const def = await hydrateStep(step, scratch); // weights left in their data file are read now, one step at a time
          checkBindingLimit(def, i, g.device);
          const { value: kernel, errors } = g.guard(`preparing kernel step ${i} (${step.op})`, () => prepareKernel(g, def));
          def.constants = step.constants; // a kernel may keep its def: not the bytes it packed
          prepared.push({ step, kernel });
          await errors;
        }
      }
      // Plan outputs left on the GPU are read back through our context (run) or by the caller (runValues).
      if (plan.outputsOnGpu && backend === 'webgpu') gpu ??= await getGpu();
    } catch (err) {
      await disposeSteps(prepared);
      throw err;
    }
    const only = prepared.length === 1 ? prepared[0] : undefined;
    if (only && 'session' in only && plan.inputs.length === 0 && plan.outputs.length === 0) {
      // A whole model as one step: its graph inputs and outputs are the plan's.
      plan = { ...plan, inputs: [...only.session.inputNames], outputs: [...only.session.outputNames] };
    }
    return new PlanExecutor(plan, backend, prepared, lastUse, gpu);
  }

  /** Whether the plan has webq8 kernel steps. */
  get hasKernels(): boolean {
    return this.steps.some((s) => !('session' in s));
  }

  /** Declared inputs of the plan, from the first ORT session that reads each (kernel-only inputs: unknown). */
  inputInfo(): ValueInfo[] {
    return this.plan.inputs.map((name) => this.findInfo(name, 'input'));
  }

  /** Declared outputs of the plan, from the ORT session that writes each. */
  outputInfo(): ValueInfo[] {
    return this.plan.outputs.map((name) => this.findInfo(name, 'output'));
  }

  /** Runs the plan on CPU feeds and returns CPU outputs plus counters. */
  async run(feeds: Record<string, TensorLike>, options: RunValuesOptions = {}): Promise<RunResult<Record<string, TensorLike>>> {
    if (options.profile) options.profile.startMs = performance.now();
    const values: Record<string, Value> = {};
    for (const [name, t] of Object.entries(feeds)) values[name] = { where: 'cpu', type: t.type, dims: [...t.dims], data: t.data };
    const { outputs: env, counters, phases } = await this.runValues(values, options);
    try {
      const t1 = performance.now();
      const outputs: Record<string, TensorLike> = {};
      for (const name of this.plan.outputs) outputs[name] = await this.download(name, env, counters);
      phases.readbackMs = performance.now() - t1;
      return { outputs, counters, phases };
    } finally {
      for (const v of env.values()) if (v.where === 'gpu') v.release();
    }
  }

  /**
   * Runs the plan on feeds that may already be on the GPU and returns the plan outputs where the
   * steps left them (on the GPU when the plan has `outputsOnGpu`). The caller owns the returned GPU
   * values (release each) and keeps owning its GPU feeds: the plan never releases a feed's buffer.
   * `options` reach every kernel step (a batched decode step quantizes per sequence).
   */
  async runValues(feeds: Record<string, PlanValue>, options: RunValuesOptions = {}): Promise<RunResult<Map<string, PlanValue>>> {
    this.gpu?.assertAlive();
    const profile = options.profile;
    if (profile && Number.isNaN(profile.startMs)) profile.startMs = performance.now();
    const counters: RunCounters = { uploads: 0, readbacks: 0, ortSegments: 0, kernelDispatches: 0, submits: 0, bindGroups: 0 };
    const gpuBefore = this.gpu ? { ...this.gpu.counters } : null;
    const env = new Map<string, Value>();
    for (const [name, v] of Object.entries(feeds)) env.set(name, v.where === 'gpu' ? { ...v, release: () => undefined } : v);
    const phases: RunPhases = { ortMs: 0, kernelsMs: 0, readbackMs: 0 };
    // WebGPU errors of our kernels, one error-scope pair per stretch of consecutive kernel steps.
    const gpuErrors: Promise<void>[] = [];
    try {
      for (let i = 0; i < this.steps.length;) {
        const t0 = performance.now();
        const s = this.steps[i]!;
        if ('session' in s) {
          await this.runOrt(s, env, counters);
          if (profile) await this.settle(profile, i, t0);
          phases.ortMs += performance.now() - t0;
          this.releaseAfter(i++, env);
          continue;
        }
        const from = i;
        // Profiled: one kernel step at a time, each timed to the end of its GPU work.
        while (i < this.steps.length && !('session' in this.steps[i]!) && !(profile && i > from)) i++;
        // Recorded into one command encoder and submitted once, with this plan's bind groups.
        const gpu = this.gpu!;
        const { errors } = gpu.guard(`kernel steps ${from}..${i - 1} of the plan`, () =>
          gpu.record(() => this.runKernels(from, i, env, options), { bindings: this.bindings }),
        );
        // Handled now (Promise.all below reports it): it may reject while a later ORT step is awaited.
        errors.catch(() => undefined);
        gpuErrors.push(errors);
        if (profile) await this.settle(profile, from, t0);
        phases.kernelsMs += performance.now() - t0;
      }
      // Before handing outputs on: a rejected kernel leaves its output undefined.
      await Promise.all(gpuErrors);
      const outputs = new Map<string, Value>();
      for (const name of this.plan.outputs) {
        const v = env.get(name);
        if (!v) throw new ModelFormatError(`Plan output "${name}" was not produced by any step.`);
        outputs.set(name, v);
        env.delete(name);
      }
      return { outputs, counters: this.withGpuCounters(counters, gpuBefore), phases };
    } finally {
      for (const v of env.values()) if (v.where === 'gpu') v.release();
    }
  }

  /** Runs kernel steps `from` until `to` (exclusive), synchronously, releasing values after their last use. */
  private runKernels(from: number, to: number, env: Map<string, Value>, options?: KernelRunOptions): void {
    for (let i = from; i < to; i++) {
      this.runKernel(this.steps[i] as PreparedKernelStep, env, options);
      this.releaseAfter(i, env);
    }
  }

  /** Waits for the GPU queue (WebGPU) and records step `i`'s time since `t0` (see {@link RunValuesOptions.profile}). */
  private async settle(profile: RunProfiler, i: number, t0: number): Promise<void> {
    if (this.backend === 'webgpu') await (this.gpu?.device ?? (await ortDevice())).queue.onSubmittedWorkDone();
    const s = this.steps[i]!;
    const label = 'session' in s ? ortLabel(s) : s.step.op;
    profile.steps.push({ index: i, kind: 'session' in s ? 'ort' : 'kernel', label, ms: performance.now() - t0 });
  }

  /** Releases sessions and prepacked weights. */
  async dispose(): Promise<void> {
    this.bindings.dispose();
    await disposeSteps(this.steps);
  }

  private async runOrt(s: PreparedOrt, env: Map<string, Value>, counters: RunCounters): Promise<void> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const subName of s.session.inputNames) {
      const v = env.get(s.step.inputs?.[subName] ?? subName);
      if (!v) throw new ModelFormatError(`Plan value "${subName}" is used before any step produced it.`);
      if (v.where === 'gpu') {
        // ORT's GPU tensors have no int8: int8 data travels as uint8 (same bytes).
        const dataType = (v.type === 'int8' ? 'uint8' : v.type) as ort.Tensor.GpuBufferDataTypes;
        feeds[subName] = ort.Tensor.fromGpuBuffer(v.buffer, { dataType, dims: v.dims });
      } else {
        feeds[subName] = new ort.Tensor(v.type, v.data as never, v.dims);
        if (this.backend === 'webgpu') counters.uploads++;
      }
    }
    const results = await ortCall(() => s.session.run(feeds));
    counters.ortSegments++;
    for (const [subName, t] of Object.entries(results)) {
      const name = s.step.outputs?.[subName] ?? subName;
      if (!this.lastUse.has(name) && !this.plan.outputs.includes(name)) {
        ortRelease(() => t.dispose());
        continue;
      }
      const tensor = t as ort.Tensor;
      if (tensor.location === 'gpu-buffer') {
        env.set(name, {
          where: 'gpu',
          type: tensor.type as DType,
          dims: [...tensor.dims],
          buffer: tensor.gpuBuffer,
          release: () => ortRelease(() => tensor.dispose()),
        });
      } else {
        if (this.backend === 'webgpu') counters.readbacks++;
        env.set(name, { where: 'cpu', type: tensor.type as DType, dims: [...tensor.dims], data: tensor.data as TensorLike['data'] });
      }
    }
  }

  private runKernel(s: PreparedKernelStep, env: Map<string, Value>, options?: KernelRunOptions): void {
    const gpu = this.gpu!;
    const inputs: GpuTensor[] = s.step.inputs.map((name) => {
      const v = env.get(name);
      if (!v) throw new ModelFormatError(`Plan value "${name}" is used before any step produced it.`);
      if (v.where === 'gpu') return { buffer: v.buffer, type: v.type, dims: v.dims };
      const buffer = gpu.upload(v.data, name);
      // Replace the CPU value so a second GPU consumer does not upload it again.
      env.set(name, { where: 'gpu', type: v.type, dims: v.dims, buffer, release: () => gpu.buffers.release(buffer) });
      return { buffer, type: v.type, dims: v.dims };
    });
    const outputs = injectKernelFault(gpu, s.kernel.run(inputs, options)); // unchanged unless a test armed it (faults.ts)
    outputs.forEach((t, k) => {
      const name = s.step.outputs[k];
      if (name) env.set(name, { where: 'gpu', type: t.type, dims: t.dims, buffer: t.buffer, release: () => gpu.buffers.release(t.buffer) });
      else gpu.buffers.release(t.buffer);
    });
  }

  private releaseAfter(i: number, env: Map<string, Value>): void {
    for (const [name, v] of env) {
      if (this.plan.outputs.includes(name) || (this.lastUse.get(name) ?? -1) > i) continue;
      if (v.where === 'gpu') v.release();
      env.delete(name);
    }
  }

  private async download(name: string, env: Map<string, Value>, counters: RunCounters): Promise<TensorLike> {
    const v = env.get(name)!;
    if (v.where === 'cpu') return { type: v.type, dims: v.dims, data: v.data };
    const bytes = elementCount(v.dims) * bytesPerElement(v.type);
    const raw = await this.gpu!.readback(v.buffer, bytes);
    counters.readbacks++;
    return { type: v.type, dims: v.dims, data: typedArrayFor(v.type, raw) };
  }

  private withGpuCounters(c: RunCounters, before: GpuCounters | null): RunCounters {
    if (!this.gpu || !before) return c;
    const now = this.gpu.counters;
    return {
      ...c,
      kernelDispatches: now.dispatches - before.dispatches,
      uploads: c.uploads + now.uploads - before.uploads,
      submits: now.submits - before.submits,
      bindGroups: now.bindGroups - before.bindGroups,
    };
  }

  private findInfo(name: string, role: 'input' | 'output'): ValueInfo {
    for (const s of this.steps) {
      if (!('session' in s)) continue;
      const map = role === 'input' ? s.step.inputs : s.step.outputs;
      const subName = Object.entries(map ?? {}).find(([, plan]) => plan === name)?.[0] ?? name;
      const meta = (role === 'input' ? s.session.inputMetadata : s.session.outputMetadata).find((m) => m.name === subName);
      if (meta) return toValueInfo(meta);
    }
    return this.plan.declared?.find((v) => v.name === name) ?? { name, type: 'unknown', dims: [] };
  }
}

/** For each value name, the index of the last step that reads it. */
function lastUses(plan: Plan): Map<string, number> {
  const last = new Map<string, number>();
  plan.steps.forEach((step, i) => {
    const reads = step.kind === 'kernel' ? step.inputs : Object.entries(step.inputs ?? {}).map(([, plan]) => plan);
    for (const name of reads) last.set(name, i);
  });
  return last;
}

function toValueInfo(meta: ort.InferenceSession.ValueMetadata): ValueInfo {
  if (!meta.isTensor) return { name: meta.name, type: 'unknown', dims: [] };
  return {
    name: meta.name,
    type: meta.type as DType,
    // ORT reports an unnamed dynamic dim as 4294967295: normalizeDim makes it null, not a size.
    dims: meta.shape.map(normalizeDim),
  };
}
