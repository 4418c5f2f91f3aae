/**
 * The worker's implementation of {@link WorkerApi}. A load goes one way: fetch the bytes
 * (fetch-model.ts) → check they are ONNX → choose the backend (backend.ts) → prepare the plan and its
 * executor (prepare.ts) → register the model. A run waits for the model's earlier runs, checks the
 * feeds, and runs the executor. The engine also owns the GPU context on ORT's device and rebuilds
 * it after a device loss.
 */
import { releaseProxy, transfer as comlinkTransfer } from 'comlink';
import { cacheUsage, clearCache, deleteEntries, listEntries } from '../cache';
import type { CacheEntryInfo, CacheUsage, EntrySelector } from '../cache';
import { AbortError, DisposedError } from '../errors';
import type { Plan } from '../graph/plan';
import { registerBuiltinKernels } from '../kernels/builtins';
import { GpuContext } from '../kernels/gpu-context';
import type {
  DebugCommand,
  GenerateReply,
  GenerateRequest,
  GpuCounts,
  LoadRequest,
  RunProfile,
  RunReply,
  TokenEvent,
  WireProgress,
  WorkerApi,
  WorkerConfig,
} from '../protocol';
import { transferable } from '../tensors';
import type { AdapterInfo, BackendDecision, BackendRequest, ModelInfo, TensorMap } from '../types';
import { chooseBackend, probeGpu } from './backend';
import { failOnDeviceLoss, settled } from './device-loss';
import { PlanExecutor, type Executor } from './executor';
import { liveOrtSessions } from './ort-session';
import { fetchModel, pinEntries } from './fetch-model';
import { reportReads } from './external-data';
import { DecodeBatcher } from './decode-batcher';
import { generate } from './generate';
import { configureOrt, ortDevice, releaseOrtDevice } from './ort';
import { crashedError, ortCrash } from './ort-gate';
import { prepareModel, type PreparedModel } from './prepare';
import { profileRun } from './profile';
import { buildExecutor } from './strategy';
import { validateFeeds } from './validate';
import { verifyOptions, verifyPrepared } from './verify-load';
import { checkWhenIdle, sampleGeneration, sampleRun, startServiceVerify } from './verify-idle';
import { warmUp, warmupOptions } from './warmup';
import { describeModel, deviceLimits, type ModelMeta } from './describe';
import { gpulessHook } from './debug-hooks';
import { IdleSlots, measureWhenIdle } from './idle';
import type { LoadedModel } from './loaded-model';

/** Implements the worker API. One instance per worker. */
export class Engine implements WorkerApi {
  private readonly models = new Map<string, LoadedModel>();
  private readonly loads = new Map<string, AbortController>();
  /** Runs waiting for their turn, by request id; `true` once cancelled (they then never start). */
  private readonly waiting = new Map<string, boolean>();
  private readonly pins = new Map<string, () => void>();
  /** Generations in progress, by request id: `cancel` aborts them. */
  private readonly streams = new Map<string, AbortController>();
  private gpu: GpuContext | null = null;
  /** The context being (re)built, shared by concurrent callers of getGpu. */
  private gpuReady: Promise<GpuContext> | null = null;
  private nextId = 1;
  private disposed = false;

  constructor() {
    registerBuiltinKernels();
  }

  async init(config: WorkerConfig): Promise<void> {
    configureOrt(config);
  }

  async load(req: LoadRequest, onProgress?: (p: WireProgress) => void): Promise<ModelInfo> {
    const [warmup, verify] = [warmupOptions(req.options.warmup), verifyOptions(req.options.verify)];
    return this.withLoad(req.requestId, async (signal) => {
      const t0 = performance.now();
      const got = await fetchModel(req, signal, onProgress);
      const meta: ModelMeta = { source: got.label, bytes: got.bytes.byteLength, sha256: got.sha256, cache: got.cache, fetchMs: performance.now() - t0 };
      if (got.id !== undefined) meta.modelId = got.id;
      if (got.version !== undefined) meta.version = got.version;
      if (got.external) meta.externalData = got.external.info;
      if (signal.aborted) throw new AbortError('The load was aborted by its AbortSignal.');
      onProgress?.({ phase: 'compile', loaded: 0 });
      const { decision, adapter } = await this.decideBackend(req.options.backend);
      const t1 = performance.now();
      const input = { ...req.options, ...got, source: got.label, backend: decision.backend, adapter, externalData: got.external?.files };
      // Checked against ORT's WASM EP (src/worker/verify-load.ts): a divergence may serve it from WASM.
      // A model with external data is not (the reference would hold a second copy of a large model).
      const reads = reportReads(got.external?.files, onProgress); // the data files are read as the plan is prepared
      const prepared = await prepareModel(input, () => this.getGpu()).finally(reads);
      const checked = await verifyPrepared(prepared, decision, { ...input, signal }, got.external ? null : verify);
      const info = await this.register(checked.prepared, checked.decision, adapter, { ...meta, ...checked.info }, performance.now() - t1, signal);
      startServiceVerify(this.models.get(info.id)!, got.bytes, got.external ? null : verify); // sampled runs checked in idle time
      // Warm-up (src/worker/warmup.ts) before the caller can queue a run; a failed one unloads the model.
      if (warmup)
        info.warmup = await warmUp(this.models.get(info.id)!.executor, info.inputs, warmup, signal).catch(async (err: unknown) => {
          await this.disposeModel(info.id);
          throw err;
        });
      try {
        // Pinned while loaded: eviction never removes a model in use (in any tab).
        if (got.cache.status !== 'none') this.pins.set(info.id, await pinEntries(got));
      } catch (err) {
        await this.disposeModel(info.id); // the caller never gets the model: free it
        throw err;
      }
      return info;
    });
  }

  async loadPlan(requestId: string, plan: Plan, backend: BackendRequest): Promise<ModelInfo> {
    return this.withLoad(requestId, async (signal) => {
      const { decision, adapter } = await this.decideBackend(backend);
      const t0 = performance.now();
      const executor = await PlanExecutor.create(plan, decision.backend, () => this.getGpu());
      const bytes = plan.steps.reduce((n, s) => n + (s.kind === 'ort' ? s.model.byteLength : 0), 0);
      const meta: ModelMeta = { source: 'plan', bytes, sha256: '', cache: { status: 'none' }, fetchMs: 0 };
      return this.register({ recipe: { plan }, executor }, decision, adapter, meta, performance.now() - t0, signal);
    });
  }

  async run(modelId: string, requestId: string, feeds: TensorMap): Promise<RunReply> {
    const model = this.model(modelId);
    const queued = performance.now();
    this.waiting.set(requestId, false);
    const whenItsTurn = () => {
      const cancelled = this.waiting.get(requestId);
      this.waiting.delete(requestId);
      if (cancelled) throw new AbortError('The run was aborted by its AbortSignal before it started.', { requestId });
      validateFeeds(model.info.inputs, feeds);
    };
    let start = 0;
    const { outputs, counters, phases, strategy } = await this.enqueue(modelId, model, (executor) => ((start = performance.now()), executor.run(feeds)), {
      whenItsTurn,
    });
    const reply: RunReply = { outputs, counters, timings: { queueMs: start - queued, runMs: performance.now() - start, ...phases } };
    if (strategy) reply.strategy = strategy;
    const verify = sampleRun(model, feeds, outputs); // verify.sampleRate: checked in idle time, after this answer
    if (verify) reply.verify = verify;
    checkWhenIdle(model, (work) => this.enqueue(modelId, model, work, { idle: true }));
    const { tensors, transfer } = transferable(reply.outputs);
    return comlinkTransfer({ ...reply, outputs: tensors }, transfer);
  }

  async generate(modelId: string, requestId: string, request: GenerateRequest, onTokens: (event: TokenEvent) => void): Promise<GenerateReply> {
    const model = this.model(modelId);
    const abort = new AbortController();
    this.streams.set(requestId, abort);
    try {
      const shared = { info: model.info, backend: model.decision.backend, gpu: () => this.getGpu() };
      const turn = <T>(work: (e: Executor) => Promise<T>) => this.enqueue(modelId, model, work, { gpuOutputs: true });
      model.batcher ??= new DecodeBatcher({ ...shared, turn }, 'plan' in model.recipe ? model.recipe.plan : model.recipe.kernels);
      const reply = await generate({ ...shared, signal: abort.signal, batcher: model.batcher }, request, onTokens);
      const verify = sampleGeneration(model, model.batcher.io, request, reply); // greedy generations are checked in idle time too
      if (verify) reply.verify = verify;
      checkWhenIdle(model, (work) => this.enqueue(modelId, model, work, { idle: true }));
      return reply;
    } finally {
      this.streams.delete(requestId);
      // Close the callback's MessagePort (after the tokens already posted on it).
      void Promise.resolve((onTokens as Partial<Record<typeof releaseProxy, () => Promise<void>>>)[releaseProxy]?.()).catch(() => undefined);
    }
  }

  async profile(modelId: string, feeds: TensorMap): Promise<RunProfile> {
    const model = this.model(modelId);
    validateFeeds(model.info.inputs, feeds);
    return this.enqueue(modelId, model, (executor) => profileRun(executor, feeds));
  }

  cancel(requestId: string): void {
    this.loads.get(requestId)?.abort();
    this.streams.get(requestId)?.abort();
    // Only a run still waiting can be cancelled; ids of finished or unknown runs are not kept.
    if (this.waiting.has(requestId)) this.waiting.set(requestId, true);
  }

  async debug(command: DebugCommand): Promise<GpuCounts | number | void> {
    const hook = gpulessHook(command);
    if (hook) return hook();
    const gpu = await this.getGpu();
    if (command === 'gpu-counts') return { ...gpu.resourceCounts(), sessions: liveOrtSessions() };
    if (command === 'invalid-binding') return gpu.invalidateNextBinding();
    gpu.device.destroy();
    await gpu.lost;
  }

  async disposeModel(modelId: string): Promise<void> {
    const model = this.models.get(modelId);
    if (!model) return;
    this.models.delete(modelId);
    model.idle.close(new DisposedError(`Model ${modelId} was disposed.`, { modelId }));
    this.pins.get(modelId)?.();
    this.pins.delete(modelId);
    await model.tail;
    await model.executor.dispose();
    await model.verifier?.dispose();
    // Idle pooled buffers only serve models still loaded: none left on the GPU, none kept.
    if (this.webgpuModels().length === 0) this.gpu?.buffers.trim(0);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const id of [...this.models.keys()]) await this.disposeModel(id);
    this.gpu?.dispose();
    this.gpu = null;
  }

  // The weight cache (IndexedDB) as it is: the worker only owns it.
  readonly cacheList = (): Promise<CacheEntryInfo[]> => listEntries();
  readonly cacheDelete = (selector: EntrySelector): Promise<number> => deleteEntries(selector);
  readonly cacheClear = (): Promise<void> => clearCache();
  readonly cacheUsage = (): Promise<CacheUsage> => cacheUsage();

  /** Runs a load with an AbortController that `cancel(requestId)` reaches. */
  private async withLoad<T>(requestId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.assertOpen();
    const abort = new AbortController();
    this.loads.set(requestId, abort);
    try {
      return await work(abort.signal);
    } finally {
      this.loads.delete(requestId);
    }
  }

  private async decideBackend(requested: BackendRequest): Promise<{ decision: BackendDecision; adapter: AdapterInfo | null }> {
    const probe = await probeGpu();
    return { decision: chooseBackend(requested, probe), adapter: probe.adapter };
  }

  /** Gives a prepared model its id and {@link ModelInfo}; disposes it instead when the load was aborted, it is unusable, or anything here throws. */
  private async register(
    prepared: PreparedModel,
    decision: BackendDecision,
    adapter: AdapterInfo | null,
    meta: ModelMeta,
    compileMs: number,
    signal: AbortSignal,
  ): Promise<ModelInfo> {
    try {
      return this.describe(prepared, decision, adapter, meta, compileMs, signal);
    } catch (err) {
      await prepared.executor.dispose(); // the caller never gets this model
      throw err;
    }
  }

  /** The {@link ModelInfo} of a prepared model, now registered; throws when the load was aborted or the model is unusable. */
  private describe(...[prepared, decision, adapter, meta, compileMs, signal]: Parameters<Engine['register']>): ModelInfo {
    if (signal.aborted) throw new AbortError('The load was aborted by its AbortSignal.');
    const limits = decision.backend === 'webgpu' ? this.gpu?.device.limits : undefined;
    const withLimits = adapter && limits ? { ...adapter, deviceLimits: deviceLimits(limits) } : adapter;
    const info = describeModel(`m${this.nextId++}`, prepared, decision, withLimits, meta, compileMs);
    const fresh = { outputsOnGpu: false, stale: false, tail: Promise.resolve(), busy: Promise.resolve() };
    const model: LoadedModel = { info, recipe: prepared.recipe, decision, executor: prepared.executor, ...fresh, idle: new IdleSlots() };
    this.models.set(info.id, model);
    this.attachIdle(info.id, model);
    return info;
  }

  /** Lets an `'auto'` executor measure in the model's idle time (src/worker/idle.ts). */
  private attachIdle(modelId: string, model: LoadedModel): void {
    measureWhenIdle(model.executor, model.idle, (work) => this.enqueue(modelId, model, work, { idle: true }));
  }

  /** The GPU context on ORT's device, rebuilt (once, however many callers ask) if the device was lost. */
  private getGpu(): Promise<GpuContext> {
    if (this.gpu && !this.gpu.lostInfo) return Promise.resolve(this.gpu);
    this.gpuReady ??= this.makeGpu().finally(() => {
      this.gpuReady = null;
    });
    return this.gpuReady;
  }

  private async makeGpu(): Promise<GpuContext> {
    if (this.gpu) {
      // ORT keeps a device while any WebGPU session lives: release every session on the lost one
      // (their models rebuild on their next run) and the anchor, so ORT creates a fresh device.
      // A session is released only once its run has left ORT.
      for (const m of this.webgpuModels()) {
        m.stale = true;
        await settled(m.busy);
        await m.executor.dispose();
      }
      await releaseOrtDevice();
      this.gpu.dispose();
      this.gpu = null;
    }
    const ctx = new GpuContext(await ortDevice(), {
      onLost: () => {
        for (const m of this.webgpuModels()) m.stale = true;
      },
    });
    this.gpu = ctx;
    return ctx;
  }

  private webgpuModels(): LoadedModel[] {
    return [...this.models.values()].filter((m) => m.decision.backend === 'webgpu');
  }

  private async rebuild(modelId: string, model: LoadedModel): Promise<void> {
    // A fresh GPU context first: it releases every session on the lost device (this one's too).
    if (model.decision.backend === 'webgpu') await this.getGpu();
    await model.executor.dispose();
    model.executor = await buildExecutor(model.recipe, model.decision.backend, () => this.getGpu(), model.outputsOnGpu);
    model.stale = false;
    this.attachIdle(modelId, model);
  }

  /**
   * The model's request chain, the one road of every request that runs the model — a run, one
   * generation step, a profiled run: `work` starts once the model's earlier requests have left ORT,
   * after `whenItsTurn` (a cancelled or invalid request throws there) and a rebuild of the executor
   * if the device was lost. `gpuOutputs` (generation on WebGPU) first switches the plan, once, to keep
   * its outputs on the GPU, so the cache and logits never leave it. The request's work is `busy`
   * until it settles: after a device loss its session is not released while it is still inside ORT.
   */
  private enqueue<T>(
    modelId: string,
    model: LoadedModel,
    work: (executor: Executor) => Promise<T>,
    options: { whenItsTurn?: () => void; gpuOutputs?: boolean; idle?: boolean } = {},
  ): Promise<T> {
    // A request holds idle work back from the moment it is queued until it settles.
    const done = options.idle ? () => undefined : model.idle.request();
    const result = model.tail.then(async () => {
      options.whenItsTurn?.();
      if (!this.models.has(modelId)) throw new DisposedError(`Model ${modelId} was disposed while this request was queued.`, { modelId });
      if (options.gpuOutputs && model.decision.backend === 'webgpu' && !model.outputsOnGpu) [model.outputsOnGpu, model.stale] = [true, true];
      if (model.stale) await this.rebuild(modelId, model);
      const running = work(model.executor);
      model.busy = running;
      return this.raceDeviceLoss(model, running);
    });
    model.tail = result.catch(() => undefined).then(() => settled(model.busy));
    void model.tail.then(done);
    return result;
  }

  /** `work`, or DeviceLostError if the GPU device is lost while it is in flight (see {@link failOnDeviceLoss}). */
  private async raceDeviceLoss<T>(model: LoadedModel, work: Promise<T>): Promise<T> {
    if (model.decision.backend !== 'webgpu') return work;
    // The context of the device this run started on; a model of ORT steps only may not have made one yet.
    const gpu = this.gpu && !this.gpu.lostInfo ? this.gpu : await this.getGpu();
    return failOnDeviceLoss(gpu, work);
  }

  private model(modelId: string): LoadedModel {
    this.assertOpen();
    const model = this.models.get(modelId);
    if (!model) throw new DisposedError(`Model ${modelId} is disposed (or was never loaded). Load it again with runtime.load().`, { modelId });
    return model;
  }

  private assertOpen(): void {
    if (this.disposed) throw new DisposedError('This runtime is disposed. Create a new one with createRuntime().');
    // ORT's instance in this Worker aborted: nothing here can run again (the main thread replaces the Worker).
    const crash = ortCrash();
    if (crash) throw crashedError(crash.trap);
  }
}
