/**
 * The worker's implementation of {@link WorkerApi}: loads models into plan executors, runs them
 * one request at a time per model, and owns the shared GPU context on ORT's device.
 */
import { transfer as comlinkTransfer } from 'comlink';
import { AbortError, DeviceLostError, DisposedError, ModelFormatError } from '../errors';
import { assertOnnx } from '../graph/sniff';
import type { Plan } from '../graph/plan';
import { GpuContext } from '../kernels/gpu-context';
import { transferable } from '../tensors';
import type { BackendDecision, BackendRequest, ModelInfo, StrategyRequest, TensorMap } from '../types';
import type { WorkerApi } from './api';
import { chooseBackend, probeGpu } from './backend';
import { PlanExecutor } from './executor';
import { preparePlan } from './plan-choice';
import { cacheUsage, clearCache, deleteEntries, listEntries, loadModelBytes, pin, sha256Hex } from '../cache';
import type { CacheEntryInfo, CacheUsage, EntrySelector, LoadedModelBytes } from '../cache';
import { configureOrt, ortDevice, releaseOrtDevice } from './ort';
import type { LoadRequest, RunReply, WireProgress, WorkerConfig } from './protocol';
import { validateFeeds } from './validate';
import { warmUp, warmupOptions } from './warmup';

interface LoadedModel {
  info: ModelInfo;
  plan: Plan;
  decision: BackendDecision;
  executor: PlanExecutor;
  /** Tail of this model's request chain: runs execute one at a time, in order. */
  tail: Promise<unknown>;
  /** Set when the GPU device was lost under this model: the next run rebuilds its executor. */
  stale: boolean;
}

/** Implements the worker API. One instance per worker. */
export class Engine implements WorkerApi {
  private readonly models = new Map<string, LoadedModel>();
  private readonly loads = new Map<string, AbortController>();
  private readonly cancelled = new Set<string>();
  private readonly pins = new Map<string, () => void>();
  private gpu: GpuContext | null = null;
  private nextId = 1;
  private disposed = false;

  async init(config: WorkerConfig): Promise<void> {
    configureOrt(config);
  }

  async load(req: LoadRequest, onProgress?: (p: WireProgress) => void): Promise<ModelInfo> {
    this.assertOpen();
    const warmup = warmupOptions(req.warmup);
    const abort = new AbortController();
    this.loads.set(req.requestId, abort);
    try {
      const t0 = performance.now();
      const got = await this.fetchBytes(req, abort.signal, onProgress);
      const label = req.source.kind === 'bytes' ? (req.source.label ?? 'bytes') : (got.url ?? req.source.url);
      const fetchMs = performance.now() - t0;
      assertOnnx(got.bytes, label);
      if (abort.signal.aborted) throw new AbortError('The load was aborted by its AbortSignal.');
      onProgress?.({ phase: 'compile', loaded: 0 });
      const plan: Plan = { inputs: [], outputs: [], steps: [{ kind: 'ort', model: got.bytes }] };
      const cache = got.cache === 'none' ? { status: 'none' as const } : { status: got.cache, reason: got.reason, detail: got.detail };
      const meta = { source: label, bytes: got.bytes.byteLength, fetchMs, sha256: got.sha256, cache, modelId: got.id, version: got.version };
      const info = await this.prepare(plan, req.backend, meta, abort.signal, req.strategy ?? 'auto');
      // Warm-up (src/worker/warmup.ts) before the caller can queue a run; a failed one unloads the model.
      if (warmup) info.warmup = await warmUp(this.models.get(info.id)!.executor, info.inputs, warmup, abort.signal).catch(async (err: unknown) => {
        await this.disposeModel(info.id);
        throw err;
      });
      // Pinned while loaded: eviction never removes a model in use (in any tab).
      if (got.cache !== 'none') this.pins.set(info.id, await pin(got.sha256));
      return info;
    } finally {
      this.loads.delete(req.requestId);
    }
  }

  async loadPlan(requestId: string, plan: Plan, backend: BackendRequest): Promise<ModelInfo> {
    this.assertOpen();
    const abort = new AbortController();
    this.loads.set(requestId, abort);
    try {
      const bytes = plan.steps.reduce((n, s) => n + (s.kind === 'ort' ? s.model.byteLength : 0), 0);
      return await this.prepare(plan, backend, { source: 'plan', bytes, fetchMs: 0, sha256: '', cache: { status: 'none' } }, abort.signal);
    } finally {
      this.loads.delete(requestId);
    }
  }

  async run(modelId: string, requestId: string, feeds: TensorMap): Promise<RunReply> {
    const model = this.model(modelId);
    const queued = performance.now();
    const result = model.tail.then(async () => {
      if (this.cancelled.delete(requestId)) throw new AbortError('The run was aborted by its AbortSignal before it started.', { requestId });
      if (!this.models.has(modelId)) throw new DisposedError(`Model ${modelId} was disposed while this run was queued.`, { modelId });
      validateFeeds(model.info.inputs, feeds);
      if (model.stale) await this.rebuild(model);
      const start = performance.now();
      const { outputs, counters, phases } = await this.raceDeviceLoss(model, model.executor.run(feeds));
      const reply: RunReply = { outputs, counters, timings: { queueMs: start - queued, runMs: performance.now() - start, ...phases } };
      return reply;
    });
    model.tail = result.catch(() => undefined);
    const reply = await result;
    const { tensors, transfer } = transferable(reply.outputs);
    return comlinkTransfer({ ...reply, outputs: tensors }, transfer);
  }

  cancel(requestId: string): void {
    const load = this.loads.get(requestId);
    if (load) load.abort();
    else this.cancelled.add(requestId);
  }

  async debug(command: 'lose-device'): Promise<void> {
    if (command === 'lose-device') {
      const gpu = await this.getGpu();
      gpu.device.destroy();
      await gpu.lost;
    }
  }

  async disposeModel(modelId: string): Promise<void> {
    const model = this.models.get(modelId);
    if (!model) return;
    this.models.delete(modelId);
    this.pins.get(modelId)?.();
    this.pins.delete(modelId);
    await model.tail;
    await model.executor.dispose();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const id of [...this.models.keys()]) await this.disposeModel(id);
    this.gpu?.dispose();
    this.gpu = null;
  }

  async cacheList(): Promise<CacheEntryInfo[]> {
    return listEntries();
  }

  async cacheDelete(selector: EntrySelector): Promise<number> {
    return deleteEntries(selector);
  }

  async cacheClear(): Promise<void> {
    return clearCache();
  }

  async cacheUsage(): Promise<CacheUsage> {
    return cacheUsage();
  }

  /** Model bytes from the weight cache or the network (URLs), or as given (bytes, hashed for the record). */
  private async fetchBytes(
    req: LoadRequest,
    signal: AbortSignal,
    onProgress?: (p: WireProgress) => void,
  ): Promise<Omit<LoadedModelBytes, 'cache'> & { cache: LoadedModelBytes['cache'] | 'none' }> {
    const s = req.source;
    if (s.kind === 'bytes') return { bytes: s.bytes, sha256: await sha256Hex(s.bytes), cache: 'none' };
    const source = s.kind === 'manifest' ? { manifest: s.url } : { url: s.url, sha256: s.sha256, size: s.size, id: s.id, version: s.version };
    return loadModelBytes(source, { cache: req.cache, requireIntegrity: req.requireIntegrity, maxBytes: req.cacheMaxBytes, onProgress, signal });
  }

  private async prepare(plan: Plan, backend: BackendRequest, meta: Pick<ModelInfo, 'source' | 'bytes' | 'sha256' | 'cache' | 'modelId' | 'version'> & { fetchMs: number }, signal: AbortSignal, strategy?: StrategyRequest): Promise<ModelInfo> {
    const probe = await probeGpu();
    const decision = chooseBackend(backend, probe);
    const t0 = performance.now();
    // Models loaded from bytes/URLs get a partitioned plan and a strategy (src/worker/plan-choice.ts);
    // explicit plans (loadPlan) run as given.
    const onlyStep = plan.steps[0];
    const chosen =
      strategy && onlyStep?.kind === 'ort'
        ? await preparePlan(onlyStep.model, meta.sha256, decision.backend, probe.adapter, strategy, () => this.getGpu(), meta.source)
        : null;
    if (chosen) plan = chosen.plan;
    const executor = chosen?.executor ?? (await PlanExecutor.create(plan, decision.backend, () => this.getGpu()));
    if (signal.aborted) {
      await executor.dispose();
      throw new AbortError('The load was aborted by its AbortSignal.');
    }
    const id = `m${this.nextId++}`;
    const info: ModelInfo = {
      id,
      inputs: executor.inputInfo(),
      outputs: executor.outputInfo(),
      backend: decision,
      adapter: probe.adapter,
      bytes: meta.bytes,
      source: meta.source,
      sha256: meta.sha256,
      cache: meta.cache,
      ...(meta.modelId !== undefined ? { modelId: meta.modelId } : {}),
      ...(meta.version !== undefined ? { version: meta.version } : {}),
      loadTimings: { fetchMs: meta.fetchMs, compileMs: performance.now() - t0 },
      ...(chosen ? { strategy: chosen.strategy } : {}),
      ...(chosen?.placement ? { placement: chosen.placement } : {}),
    };
    if (info.outputs.length === 0) throw new ModelFormatError(`${meta.source} declares no outputs; there is nothing to run.`);
    this.models.set(id, { info, plan, decision, executor, tail: Promise.resolve(), stale: false });
    return info;
  }

  /** The GPU context on ORT's device, rebuilt if the device was lost. */
  private async getGpu(): Promise<GpuContext> {
    if (this.gpu && !this.gpu.lostInfo) return this.gpu;
    if (this.gpu) {
      // ORT keeps a device while any WebGPU session lives: release every session on the lost one
      // (their models rebuild on their next run) and the anchor, so ORT creates a fresh device.
      for (const m of this.models.values()) {
        if (m.decision.backend !== 'webgpu') continue;
        m.stale = true;
        await m.executor.dispose();
      }
      await releaseOrtDevice();
    }
    this.gpu?.dispose();
    const ctx = new GpuContext(await ortDevice(), {
      onLost: () => {
        for (const m of this.models.values()) if (m.decision.backend === 'webgpu') m.stale = true;
      },
    });
    this.gpu = ctx;
    return ctx;
  }

  private async rebuild(model: LoadedModel): Promise<void> {
    // A fresh GPU context first: it releases every session on the lost device (this one's too).
    if (model.decision.backend === 'webgpu') await this.getGpu();
    await model.executor.dispose();
    model.executor = await PlanExecutor.create(model.plan, model.decision.backend, () => this.getGpu());
    model.stale = false;
  }

  /** Rejects with {@link DeviceLostError} if the GPU device is lost while `work` is in flight. */
  private async raceDeviceLoss<T>(model: LoadedModel, work: Promise<T>): Promise<T> {
    // A context already lost belongs to a device ORT replaced (e.g. after its last session was released).
    const gpu = model.decision.backend === 'webgpu' && !this.gpu?.lostInfo ? this.gpu : null;
    if (!gpu) return work;
    const lost = gpu.lost.then((info): never => {
      throw new DeviceLostError(`The GPU device was lost during this run (${info.reason}: ${info.message}). Retry: the next run rebuilds GPU state.`, { reason: info.reason });
    });
    work.catch(() => undefined);
    return Promise.race([work, lost]);
  }

  private model(modelId: string): LoadedModel {
    this.assertOpen();
    const model = this.models.get(modelId);
    if (!model) throw new DisposedError(`Model ${modelId} is disposed (or was never loaded). Load it again with runtime.load().`, { modelId });
    return model;
  }

  private assertOpen(): void {
    if (this.disposed) throw new DisposedError('This runtime is disposed. Create a new one with createRuntime().');
  }
}
