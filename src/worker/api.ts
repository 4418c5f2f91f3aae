/**
 * The worker's whole RPC surface: one typed interface, called through comlink from
 * src/runtime/. Tensor buffers are transferred both ways (see src/tensors.ts).
 */
import type { CacheEntryInfo, CacheUsage, EntrySelector } from '../cache';
import type { Plan } from '../graph/plan';
import type { BackendRequest, TensorMap } from '../types';
import type { LoadReply, LoadRequest, RunReply, WireProgress, WorkerConfig } from './protocol';

/** What the worker exposes. Every method may reject with a {@link WebQ8Error} subclass. */
export interface WorkerApi {
  /** Configures ORT (wasm paths, threads, log level). Call once, first. */
  init(config: WorkerConfig): Promise<void>;
  /** Fetches (if a URL), checks and compiles a model. `onProgress` is a comlink proxy. */
  load(request: LoadRequest, onProgress?: (p: WireProgress) => void): Promise<LoadReply>;
  /** Prepares an explicit execution plan (ORT sub-models and webq8 kernels). */
  loadPlan(requestId: string, plan: Plan, backend: BackendRequest): Promise<LoadReply>;
  /** Runs a model. Requests of one model run one at a time, in order. */
  run(modelId: string, requestId: string, feeds: TensorMap): Promise<RunReply>;
  /** Cancels a queued run or an ongoing load; a no-op for finished requests. */
  cancel(requestId: string): void;
  /** Weight cache management (IndexedDB, shared by every runtime of the origin). */
  cacheList(): Promise<CacheEntryInfo[]>;
  cacheDelete(selector: EntrySelector): Promise<number>;
  cacheClear(): Promise<void>;
  cacheUsage(): Promise<CacheUsage>;
  /** Frees a model's sessions and GPU memory. */
  disposeModel(modelId: string): Promise<void>;
  /**
   * @internal Test hooks. `'lose-device'` destroys the GPU device under the loaded models to
   * exercise device-loss handling (there is no other way to make a device get lost on demand).
   */
  debug(command: 'lose-device'): Promise<void>;
  /** Frees everything. */
  dispose(): Promise<void>;
}
