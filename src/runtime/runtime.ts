/**
 * The main-thread facade: `createRuntime()` starts webq8's module Worker and returns a
 * {@link Runtime} that loads models into it. Nothing heavy runs on the main thread: URLs are
 * fetched, checked and compiled in the worker, and tensors cross by transfer.
 */
import { proxy, releaseProxy, transfer, type Remote } from 'comlink';
import { DisposedError, ModelLoadError } from '../errors';
import type { Plan } from '../graph/plan';
import type { LoadOptions, ModelSource, RuntimeOptions } from '../types';
import type { WorkerApi } from '../worker/api';
import { installErrorTransfer, type LoadRequest, type WireSource, type WorkerConfig } from '../worker/protocol';
import type { CacheEntryInfo, CacheUsage, EntrySelector } from '../cache';
import { Model, seriesAttributes, withAbort, type ModelHost } from './model';
import { createTelemetry, type ExportStats, type LatencyMetric, type Telemetry, type TelemetryStats } from '../telemetry';
import { VERSION } from '../version';
import { WorkerLink, type WorkerLinkDebug } from './worker-link';
import { watchLoad } from './load-watch';

/** A webq8 runtime: one Worker, any number of models. */
export class Runtime {
  private readonly link: WorkerLink;
  private readonly api: Remote<WorkerApi>;
  private readonly ready: Promise<void>;
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
    this.link = new WorkerLink(options.workerUrl);
    this.api = this.link.api;
    this.ready = this.api.init({ wasmPaths: wasmPaths(options.wasmPaths), numThreads: options.numThreads, logLevel: options.logLevel });
    this.ready.catch(() => undefined); // a worker that fails to start rejects every call; this one may have no caller
    this.telemetry = createTelemetry({ ...options.telemetry, resource: { webq8Version: VERSION } });
    this.host = {
      worker: this.api,
      telemetry: this.telemetry,
      nextRequestId: () => this.nextRequestId(),
      onDispose: (m) => this.models.delete(m),
    };
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
   *   {@link BackendUnavailableError} (WebGPU forced but absent), {@link AbortError},
   *   {@link LoadTimeoutError} (no progress for `timeoutMs`), {@link WorkerError} (the Worker or
   *   onnxruntime-web's files could not be loaded, or the Worker died).
   */
  async load(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
    this.assertOpen();
    const { wire, transfers } = toWireSource(source);
    const requestId = this.nextRequestId();
    const onProgress = options.onProgress;
    // Fails the load with LoadTimeoutError when it makes no progress for options.timeoutMs.
    const watch = watchLoad(options.timeoutMs, () => void this.api.cancel(requestId));
    await watch.guard(this.ready);
    const request: LoadRequest = {
      requestId,
      source: wire,
      backend: options.backend ?? 'auto',
      strategy: options.strategy,
      cache: options.cache,
      requireIntegrity: options.requireIntegrity,
      cacheMaxBytes: this.options.cache?.maxBytes,
    };
    const info = await this.recordLoadErrors(
      watch.run(withAbort(this.api.load(transfer(request, transfers), proxy(watch.relay(onProgress))), options.signal, () => void this.api.cancel(requestId))),
    );
    const a = info.adapter;
    if (a) this.telemetry.setResource({ adapterVendor: a.vendor, adapterArchitecture: a.architecture });
    // A cached copy that failed its hash was dropped and re-fetched: the load succeeded, but count it.
    if (info.cache.reason === 'corrupt') this.telemetry.recordError('CACHE_CORRUPT', seriesAttributes(info));
    return this.track(new Model(info, this.host));
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
    const info = await this.recordLoadErrors(withAbort(this.api.loadPlan(requestId, plan, options.backend ?? 'webgpu'), options.signal, () => void this.api.cancel(requestId)));
    return this.track(new Model(info, this.host));
  }

  /** @internal Test hooks (see WorkerApi.debug and WorkerLink.debug). */
  async _debug(command: 'lose-device' | WorkerLinkDebug): Promise<void> {
    await this.ready;
    if (command === 'lose-device') await this.api.debug(command);
    else this.link.debug(command);
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
    this.link.close();
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

/** ORT's file URLs, absolute against the page (the worker's base URL differs) and cloneable (no URL objects). */
function wasmPaths(paths: RuntimeOptions['wasmPaths']): WorkerConfig['wasmPaths'] {
  if (paths === undefined) return undefined;
  if (typeof paths === 'string' || paths instanceof URL) return absolute(paths);
  return { mjs: absolute(paths.mjs), wasm: absolute(paths.wasm) };
}

function toWireSource(source: ModelSource): { wire: WireSource; transfers: Transferable[] } {
  if (typeof source === 'string' || source instanceof URL) return { wire: { kind: 'url', url: absolute(source) }, transfers: [] };
  if (source instanceof ArrayBuffer) return { wire: { kind: 'bytes', bytes: new Uint8Array(source.slice(0)) }, transfers: [] };
  if (source instanceof Uint8Array) {
    // Copy: the caller keeps its bytes; the copy is transferred, not cloned again.
    const bytes = source.slice();
    return { wire: { kind: 'bytes', bytes }, transfers: [bytes.buffer] };
  }
  if (source && typeof source === 'object' && 'url' in source) {
    const { sha256, size, id, version } = source;
    return { wire: { kind: 'url', url: absolute(source.url), sha256, size, id, version }, transfers: [] };
  }
  if (source && typeof source === 'object' && 'manifest' in source) return { wire: { kind: 'manifest', url: absolute(source.manifest) }, transfers: [] };
  throw new ModelLoadError(`Cannot load ${String(source)}: pass a URL, an ArrayBuffer/Uint8Array of ONNX bytes, {url, sha256}, or {manifest}.`);
}

/** Resolves relative URLs against the page, since the worker's base URL differs. */
function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
