/**
 * The main-thread facade: `createRuntime()` starts webq8's module Worker and returns a
 * {@link Runtime} that loads models into it. Nothing heavy runs on the main thread: URLs are
 * fetched, checked and compiled in the worker, and tensors cross by transfer.
 */
import { proxy, transfer, type Remote } from 'comlink';
import { DisposedError, ModelLoadError } from '../errors';
import type { Plan } from '../graph/plan';
import { LOAD_DEFAULTS, PLAN_BACKEND_DEFAULT, resolveLoadOptions } from '../defaults';
import { installErrorTransfer, type DebugCommand, type GpuCounts, type LoadRequest, type WireSource, type WorkerApi, type WorkerConfig } from '../protocol';
import { Server } from '../serving/server';
import type { BackendRequest, LoadOptions, ModelInfo, ModelSource, ReleaseRef, RuntimeOptions } from '../types';
import type { CacheEntryInfo, CacheUsage, EntrySelector } from '../cache';
import { Model, seriesAttributes, withAbort, type ModelHost } from './model';
import { ReleasedModel } from './released-model';
import { loadRelease } from '../release';
import type { ModelReplica } from '../serving/replica';
import { replicaBackends, serveModel, type ServeContext } from './serve-model';
import { WorkerHost } from './worker-host';
import { wireExternalData } from './external-data';
import { watchLoad } from './load-watch';
import { WorkerLink, type WorkerLinkDebug } from './worker-link';
import { workerReplica } from './worker-replica';
import { createTelemetry, type ExportStats, type LatencyMetric, type Telemetry, type TelemetryStats } from '../telemetry';
import { VERSION } from '../version';

/**
 * Key of the runtime's test hooks (`WorkerApi.debug`, e.g. `'lose-device'`). They are deliberately
 * not on the public type: webq8's browser tests call `runtime[Symbol.for('webq8.debug')](command)`.
 */
const DEBUG_KEY = Symbol.for('webq8.debug');

/** The runtime's Workers (see `runtime.stats()`). */
export interface WorkerStats {
  /** Workers running now: the runtime's own, plus one per extra replica and per release version. */
  count: number;
  /** Workers replaced because onnxruntime-web's instance in them aborted (`RuntimeCrashedError`). */
  rebuilds: number;
}

/** A webq8 runtime: one Worker, any number of models. */
export class Runtime {
  /** The runtime's own Worker (rebuilt if ORT's instance in it aborts). */
  private readonly home: WorkerHost;
  /** Workers started for replicas and release versions (test hooks reach them). */
  private readonly spawned = new Set<WorkerHost>();
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
    this.telemetry = createTelemetry({ ...options.telemetry, resource: { webq8Version: VERSION } });
    this.home = this.startHost();
    const debug = async (command: DebugCommand | WorkerLinkDebug | 'terminate-replica') => {
      // 'terminate-replica' kills the newest Worker started for a replica, as a crash would.
      if (command === 'terminate-replica') return [...this.spawned].pop()?.current.debug('terminate');
      if (command === 'terminate' || command === 'close' || command === 'throw') return this.home.current.debug(command);
      return this.home.call<GpuCounts | number | void>((api) => api.debug(command));
    };
    Object.defineProperty(this, DEBUG_KEY, { value: debug });
    this.host = { telemetry: this.telemetry, onDispose: (m) => this.models.delete(m), nextRequestId: () => this.nextRequestId() };
  }

  /**
   * Latency and error statistics of every model of this runtime (see `model.stats()` for one),
   * and the exporter's counters (`sent`, `retries`, `pending`, `dropped` by reason).
   */
  stats(metric: LatencyMetric = 'run'): { latency: TelemetryStats; export: ExportStats; workers: WorkerStats } {
    const hosts = [this.home, ...this.spawned];
    return {
      latency: this.telemetry.stats({ metric }),
      export: this.telemetry.exportStats(),
      workers: { count: hosts.length, rebuilds: hosts.reduce((n, h) => n + h.rebuilds, 0) },
    };
  }

  /** Sends recorded telemetry now (it is also sent every interval and when the page is hidden). Never rejects. */
  flushTelemetry(): Promise<void> {
    return this.telemetry.flush();
  }

  /**
   * Loads a model into the worker: fetches a URL there (or takes bytes), checks it is ONNX, picks
   * the backend (see {@link LoadOptions.backend}) and compiles it. To follow a versioned release
   * instead, use {@link Runtime.follow}.
   * @throws {@link ModelLoadError} (HTTP/network, or a source that is not a model: a `{ release }`
   *   reference belongs to `follow`), {@link ModelFormatError} (not ONNX),
   *   {@link BackendUnavailableError} (WebGPU forced but absent), {@link AbortError}.
   */
  async load(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
    this.assertOpen();
    const { info, server } = await this.serve(source, options, false);
    return this.track(new Model(info, this.host, server));
  }

  /**
   * Follows a versioned release: fetches and checks its manifest, loads the stable version (the
   * returned model serves it at once), loads the candidate when this client should run it, and polls
   * the manifest for changes. `release` is the manifest's URL, or a {@link ReleaseRef} with the
   * polling, cohort and reporting options; `options` apply to every version it loads. See
   * docs/operations.md "Releasing a new model version".
   * @throws `ReleaseManifestError` and {@link IntegrityError} (a manifest or stable version that
   *   fails its checks), and what `load` throws for the stable version.
   */
  async follow(release: string | URL | ReleaseRef, options: LoadOptions = {}): Promise<ReleasedModel> {
    this.assertOpen();
    const ref: ReleaseRef = typeof release === 'string' || release instanceof URL ? { release } : release;
    const router = await loadRelease(ref, absolute(ref.release), {
      loadVersion: (version, dedicated) => this.serve(version, options, dedicated),
      telemetry: this.telemetry,
      attrsOf: seriesAttributes,
      requireIntegrity: options.requireIntegrity,
    });
    return this.track(new ReleasedModel(this.host, router));
  }

  /** Loads `source` behind its serving layer, in the runtime's Worker or (`dedicated`) a Worker of its own. */
  private async serve(source: ModelSource, options: LoadOptions, dedicated: boolean): Promise<{ info: ModelInfo; server: Server<ModelReplica> }> {
    const backends = replicaBackends(options.serving, options.backend ?? LOAD_DEFAULTS.backend);
    const loadInto = (api: Remote<WorkerApi>, backend: BackendRequest, onProgress?: LoadOptions['onProgress']): Promise<ModelInfo> => {
      const { wire, transfers } = toWireSource(source);
      const requestId = this.nextRequestId();
      const request: LoadRequest = { requestId, source: wire, options: resolveLoadOptions({ ...options, backend }, this.options.cache?.maxBytes) };
      const external = wireExternalData(options.externalData);
      if (external.wire) request.options.externalData = external.wire;
      // Fails the load with LoadTimeoutError when it makes no progress for options.timeoutMs.
      const watch = watchLoad(options.timeoutMs, () => void api.cancel(requestId));
      const work = api.load(transfer(request, [...transfers, ...external.transfers]), proxy(watch.relay(onProgress)));
      return watch.run(withAbort(work, options.signal, () => void api.cancel(requestId)));
    };
    await watchLoad(options.timeoutMs, () => undefined).guard(this.home.whenReady());
    const home = dedicated ? await this.spawnWorker() : this.home;
    const release = () => (home === this.home ? undefined : this.closeSpawned(home));
    try {
      const info = await this.recordLoadErrors(home.call((api) => loadInto(api, backends[0]!, options.onProgress)));
      const a = info.adapter;
      if (a) this.telemetry.setResource({ adapterVendor: a.vendor, adapterArchitecture: a.architecture });
      // A cached copy that failed its hash was dropped and re-fetched: the load succeeded, but count it.
      if (info.cache.reason === 'corrupt') this.telemetry.recordError('CACHE_CORRUPT', seriesAttributes(info));
      const server = await this.recordLoadErrors(serveModel(info, options.serving, backends, this.serveContext(loadInto, home))).catch(async (err) => {
        await home.call((api) => api.disposeModel(info.id)).catch(() => undefined);
        throw err;
      });
      return { info, server };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** @internal The advanced entry's `loadPlan` (src/advanced.ts documents it). */
  async _loadPlan(plan: Plan, options: Pick<LoadOptions, 'backend' | 'signal'> = {}): Promise<Model> {
    this.assertOpen();
    const backend = options.backend ?? PLAN_BACKEND_DEFAULT;
    const requestId = this.nextRequestId();
    const info = await this.recordLoadErrors(
      this.home.call((api) => withAbort(api.loadPlan(requestId, plan, backend), options.signal, () => void api.cancel(requestId))),
    );
    const reload = (api: Remote<WorkerApi>) => api.loadPlan(this.nextRequestId(), plan, backend);
    const server = new Server({}, [workerReplica('0', this.home, info, reload)], info.inputs, { nextRequestId: () => this.nextRequestId() });
    return this.track(new Model(info, this.host, server));
  }

  /**
   * The weight cache (IndexedDB, shared by every runtime of this origin): `list()` entries with
   * size, last use and state; `delete({sha256} | {id, version?})`; `clear()`; `usage()`.
   */
  readonly cache = {
    list: (): Promise<CacheEntryInfo[]> => this.home.call((api) => api.cacheList()),
    delete: (selector: EntrySelector): Promise<number> => this.home.call((api) => api.cacheDelete(selector)),
    clear: (): Promise<void> => this.home.call((api) => api.cacheClear()),
    usage: (): Promise<CacheUsage> => this.home.call((api) => api.cacheUsage()),
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
      // Models first: those served from Workers of their own (replicas, release versions) free them.
      const models = Promise.all([...this.models].map((m) => m.dispose().catch(() => undefined)));
      await Promise.race([models.then(() => this.home.call((api) => api.dispose())), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      /* the worker may already be gone */
    }
    await this.telemetry.dispose();
    this.home.close();
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

  private track<M extends Model>(model: M): M {
    if (this.disposed) {
      void model.dispose();
      throw new DisposedError('The runtime was disposed while the model loaded.');
    }
    this.models.add(model);
    return model;
  }

  private serveContext(loadInto: (api: Remote<WorkerApi>, backend: BackendRequest) => Promise<ModelInfo>, home: WorkerHost): ServeContext {
    return {
      primary: home,
      primaryIsRuntimes: home === this.home,
      releasePrimary: async () => (home === this.home ? undefined : this.closeSpawned(home)),
      spawn: () => this.spawnWorker(),
      loadInto,
      nextRequestId: () => this.nextRequestId(),
      isWorkerLost: (err) => {
        const e = err as { code?: string; details?: { fatal?: boolean } } | null;
        return e?.code === 'WORKER' && e.details?.fatal === true;
      },
    };
  }

  /** A Worker of webq8 (the runtime's own, or one for a replica or release version): started, configured, rebuilt after an ORT abort. */
  private startHost(): WorkerHost {
    return new WorkerHost({
      start: () => new WorkerLink(this.options.workerUrl),
      init: (api) => api.init(this.workerConfig()),
      onRebuild: () => this.telemetry.recordError('RUNTIME_CRASHED'),
    });
  }

  private async spawnWorker(): Promise<WorkerHost> {
    // A Worker of its own fails fast the same way (WorkerLink): a dead replica is a WorkerError.
    const host = this.startHost();
    this.spawned.add(host);
    try {
      await host.whenReady();
    } catch (err) {
      this.closeSpawned(host);
      throw err;
    }
    return host;
  }

  private closeSpawned(host: WorkerHost): void {
    this.spawned.delete(host);
    host.close();
  }

  private workerConfig(): WorkerConfig {
    const { numThreads, logLevel } = this.options;
    return { wasmPaths: wasmPaths(this.options.wasmPaths), numThreads, logLevel };
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
  if (source && typeof source === 'object' && 'release' in source)
    throw new ModelLoadError('runtime.load() takes a model, not a release: follow a release with runtime.follow(url).');
  throw new ModelLoadError(`Cannot load ${String(source)}: pass a URL, an ArrayBuffer/Uint8Array of ONNX bytes, {url, sha256}, or {manifest}.`);
}

/** ORT's file URLs, absolute against the page (the worker's base URL differs) and cloneable (no URL objects). */
function wasmPaths(paths: RuntimeOptions['wasmPaths']): WorkerConfig['wasmPaths'] {
  if (paths === undefined) return undefined;
  if (typeof paths === 'string' || paths instanceof URL) return absolute(paths);
  return { mjs: absolute(paths.mjs), wasm: absolute(paths.wasm) };
}

/** Resolves relative URLs against the page, since the worker's base URL differs. */
function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
