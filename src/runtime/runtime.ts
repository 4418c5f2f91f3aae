/**
 * The main-thread facade: `createRuntime()` starts webq8's module Worker and returns a
 * {@link Runtime} that loads models into it. Nothing heavy runs on the main thread: URLs are
 * fetched, checked and compiled in the worker, and tensors cross by transfer.
 */
import { proxy, releaseProxy, transfer, wrap, type Remote } from 'comlink';
import { DisposedError, ModelLoadError } from '../errors';
import type { Plan } from '../graph/plan';
import { LOAD_DEFAULTS, PLAN_BACKEND_DEFAULT, resolveLoadOptions } from '../defaults';
import { installErrorTransfer, type DebugCommand, type LoadRequest, type WireSource, type WorkerApi, type WorkerConfig } from '../protocol';
import { Server } from '../serving/server';
import type { BackendRequest, LoadOptions, ModelInfo, ModelSource, RuntimeOptions } from '../types';
import type { CacheEntryInfo, CacheUsage, EntrySelector } from '../cache';
import { Model, seriesAttributes, withAbort, type ModelHost } from './model';
import { replicaBackends, serveModel, type ServeContext } from './serve-model';
import { workerReplica } from './worker-replica';
import { createTelemetry, type ExportStats, type LatencyMetric, type Telemetry, type TelemetryStats } from '../telemetry';
import { VERSION } from '../version';

/**
 * Key of the runtime's test hooks (`WorkerApi.debug`, e.g. `'lose-device'`). They are deliberately
 * not on the public type: webq8's browser tests call `runtime[Symbol.for('webq8.debug')](command)`.
 */
const DEBUG_KEY = Symbol.for('webq8.debug');

// Kept in a variable so bundlers leave it alone: in the published package, worker.js sits next
// to index.js. Apps whose bundler moves files pass `workerUrl`.
const WORKER_FILE = './worker.js';

/** A webq8 runtime: one Worker, any number of models. */
export class Runtime {
  private readonly worker: Worker;
  private readonly api: Remote<WorkerApi>;
  private readonly ready: Promise<void>;
  private readonly workerUrl: string | URL;
  private readonly models = new Set<Model>();
  private readonly telemetry: Telemetry;
  private readonly host: ModelHost;
  private requests = 0;
  private disposed = false;

  /** @internal Use {@link createRuntime}. */
  constructor(private readonly options: RuntimeOptions = {}) {
    installErrorTransfer();
    // persist() exists only in windows, not in the worker that owns the cache.
    if (options.cache?.persist) void globalThis.navigator?.storage?.persist?.().catch(() => false);
    this.workerUrl = options.workerUrl ?? new URL(WORKER_FILE, import.meta.url);
    this.worker = new Worker(this.workerUrl, { type: 'module', name: 'webq8' });
    this.api = wrap<WorkerApi>(this.worker);
    this.ready = this.api.init(this.workerConfig());
    this.telemetry = createTelemetry({ ...options.telemetry, resource: { webq8Version: VERSION } });
    const debug = async (command: DebugCommand) => {
      await this.ready;
      return this.api.debug(command);
    };
    Object.defineProperty(this, DEBUG_KEY, { value: debug });
    this.host = { telemetry: this.telemetry, onDispose: (m) => this.models.delete(m) };
  }

  /**
   * Latency and error statistics of every model of this runtime (see `model.stats()` for one),
   * and the exporter's counters (`sent`, `retries`, `pending`, `dropped` by reason).
   */
  stats(metric: LatencyMetric = 'run'): { latency: TelemetryStats; export: ExportStats } {
    return { latency: this.telemetry.stats({ metric }), export: this.telemetry.exportStats() };
  }

  /** Sends recorded telemetry now (it is also sent every interval and when the page is hidden). Never rejects. */
  flushTelemetry(): Promise<void> {
    return this.telemetry.flush();
  }

  /**
   * Loads a model into the worker: fetches a URL there (or takes bytes), checks it is ONNX, picks
   * the backend (see {@link LoadOptions.backend}) and compiles it.
   * @throws {@link ModelLoadError} (HTTP/network), {@link ModelFormatError} (not ONNX),
   *   {@link BackendUnavailableError} (WebGPU forced but absent), {@link AbortError}.
   */
  async load(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
    this.assertOpen();
    const backends = replicaBackends(options.serving, options.backend ?? LOAD_DEFAULTS.backend);
    const loadInto = (api: Remote<WorkerApi>, backend: BackendRequest, onProgress?: LoadOptions['onProgress']): Promise<ModelInfo> => {
      const { wire, transfers } = toWireSource(source);
      const requestId = this.nextRequestId();
      const request: LoadRequest = { requestId, source: wire, options: resolveLoadOptions({ ...options, backend }, this.options.cache?.maxBytes) };
      const work = api.load(transfer(request, transfers), onProgress ? proxy(onProgress) : undefined);
      return withAbort(work, options.signal, () => void api.cancel(requestId));
    };
    await this.ready;
    const info = await this.recordLoadErrors(loadInto(this.api, backends[0]!, options.onProgress));
    const a = info.adapter;
    if (a) this.telemetry.setResource({ adapterVendor: a.vendor, adapterArchitecture: a.architecture });
    // A cached copy that failed its hash was dropped and re-fetched: the load succeeded, but count it.
    if (info.cache.reason === 'corrupt') this.telemetry.recordError('CACHE_CORRUPT', seriesAttributes(info));
    const server = await this.recordLoadErrors(serveModel(info, options.serving, backends, this.serveContext(loadInto))).catch(async (err) => {
      await this.api.disposeModel(info.id).catch(() => undefined);
      throw err;
    });
    return this.track(new Model(info, this.host, server));
  }

  /**
   * **Experimental, low-level.** Loads an explicit execution plan: ORT sub-models and webq8
   * kernels run in order on ORT's GPUDevice, with tensors handed over as GPU buffers. `runtime.load`
   * builds such plans itself; this exists for tools and tests that compose steps by hand.
   */
  async loadPlan(plan: Plan, options: Pick<LoadOptions, 'backend' | 'signal'> = {}): Promise<Model> {
    this.assertOpen();
    const requestId = this.nextRequestId();
    await this.ready;
    const info = await this.recordLoadErrors(withAbort(this.api.loadPlan(requestId, plan, options.backend ?? PLAN_BACKEND_DEFAULT), options.signal, () => void this.api.cancel(requestId)));
    const server = new Server({}, [workerReplica('0', this.api, info)], info.inputs, { nextRequestId: () => this.nextRequestId() });
    return this.track(new Model(info, this.host, server));
  }

  /**
   * The weight cache (IndexedDB, shared by every runtime of this origin): `list()` entries with
   * size, last use and state; `delete({sha256} | {id, version?})`; `clear()`; `usage()`.
   */
  readonly cache = {
    list: async (): Promise<CacheEntryInfo[]> => (await this.ready, this.api.cacheList()),
    delete: async (selector: EntrySelector): Promise<number> => (await this.ready, this.api.cacheDelete(selector)),
    clear: async (): Promise<void> => (await this.ready, this.api.cacheClear()),
    usage: async (): Promise<CacheUsage> => (await this.ready, this.api.cacheUsage()),
  };

  /** Models loaded and not yet disposed. */
  get loadedModels(): readonly Model[] {
    return [...this.models];
  }

  /** Disposes every model and terminates the worker. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await Promise.race([this.api.dispose(), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      /* the worker may already be gone */
    }
    await this.telemetry.dispose();
    this.api[releaseProxy]();
    this.worker.terminate();
    this.models.clear();
  }

  private async recordLoadErrors<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      this.telemetry.recordError((err as { code?: string }).code ?? 'INTERNAL');
      throw err;
    }
  }

  private track(model: Model): Model {
    if (this.disposed) {
      void model.dispose();
      throw new DisposedError('The runtime was disposed while the model loaded.');
    }
    this.models.add(model);
    return model;
  }

  private serveContext(loadInto: (api: Remote<WorkerApi>, backend: BackendRequest) => Promise<ModelInfo>): ServeContext {
    return {
      primary: this.api,
      spawn: async () => {
        const worker = new Worker(this.workerUrl, { type: 'module', name: 'webq8-replica' });
        const api = wrap<WorkerApi>(worker);
        await api.init(this.workerConfig());
        return { api, terminate: () => (api[releaseProxy](), worker.terminate()) };
      },
      loadInto,
      nextRequestId: () => this.nextRequestId(),
      isWorkerLost: (err) => (err as { code?: string } | null)?.code === 'WORKER_FAILED',
    };
  }

  private workerConfig(): WorkerConfig {
    const { wasmPaths, numThreads, logLevel } = this.options;
    return { wasmPaths, numThreads, logLevel };
  }

  private nextRequestId(): string {
    return `r${++this.requests}`;
  }

  private assertOpen(): void {
    if (this.disposed) throw new DisposedError('This runtime is disposed. Create a new one with createRuntime().');
  }
}

/**
 * Starts a webq8 runtime (a dedicated module Worker running onnxruntime-web).
 * @example
 * const rt = createRuntime();
 * const model = await rt.load('/models/cls.onnx');
 * const out = await model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data } });
 */
export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}

function toWireSource(source: ModelSource): { wire: WireSource; transfers: Transferable[] } {
  if (typeof source === 'string' || source instanceof URL) return { wire: { url: absolute(source) }, transfers: [] };
  if (source instanceof ArrayBuffer) return { wire: { bytes: new Uint8Array(source.slice(0)) }, transfers: [] };
  if (source instanceof Uint8Array) {
    // Copy: the caller keeps its bytes; the copy is transferred, not cloned again.
    const bytes = source.slice();
    return { wire: { bytes }, transfers: [bytes.buffer] };
  }
  if (source && typeof source === 'object' && 'url' in source) {
    const { sha256, size, id, version } = source;
    return { wire: { url: absolute(source.url), sha256, size, id, version }, transfers: [] };
  }
  if (source && typeof source === 'object' && 'manifest' in source) return { wire: { manifest: absolute(source.manifest) }, transfers: [] };
  throw new ModelLoadError(`Cannot load ${String(source)}: pass a URL, an ArrayBuffer/Uint8Array of ONNX bytes, {url, sha256}, or {manifest}.`);
}

/** Resolves relative URLs against the page, since the worker's base URL differs. */
function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
