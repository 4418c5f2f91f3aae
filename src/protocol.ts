/**
 * The wire between the main thread (src/runtime/) and the worker (src/worker/): the worker's RPC
 * interface, its message payloads, the run counters, and the comlink `"throw"` handler that keeps
 * webq8's error classes intact. Both sides import this file; neither imports the other.
 *
 * Comlink's default `"throw"` handler sends only `{name, message, stack}`, so `instanceof`, `code`
 * and `details` would be lost; {@link installErrorTransfer} replaces it on both sides.
 */
import { transferHandlers } from 'comlink';
import type { CacheEntryInfo, CacheUsage, EntrySelector } from './cache';
import { deserializeError, serializeError, type SerializedError } from './errors';
import type { Plan } from './graph/plan';
import type { GpuResourceCounts } from './kernels/gpu-context';
import type {
  Backend,
  BackendDecision,
  BackendRequest,
  CacheMode,
  FinishReason,
  LoadOptions,
  LoadPhase,
  ModelInfo,
  ModelManifestRef,
  ModelRef,
  ServiceVerifyStats,
  StrategyRequest,
  TensorMap,
} from './types';

/** Sent once when the worker starts: how to configure onnxruntime-web. */
export interface WorkerConfig {
  /** Where ORT's `.wasm`/`.mjs` are served: a folder URL ending in `/`, or one URL per file (see `RuntimeOptions.wasmPaths`). */
  wasmPaths?: string | { mjs: string; wasm: string };
  numThreads?: number;
  logLevel?: 'verbose' | 'info' | 'warning' | 'error';
}

/** A model's bytes, sent by the page (transferred). */
export interface ModelBytes {
  bytes: Uint8Array;
  /** Name used in messages and `model.info.source`. */
  label?: string;
}

/**
 * A `ModelSource` as it crosses into the worker: URLs absolute, `URL` objects as strings, bytes as
 * a `Uint8Array` of their own. The worker hands refs and manifests on to the weight cache unchanged.
 */
export type WireSource = (ModelRef & { url: string }) | (ModelManifestRef & { manifest: string }) | ModelBytes;

/** Load options after defaults (src/defaults.ts): what the worker needs to prepare a model. */
export interface ResolvedLoadOptions {
  backend: BackendRequest;
  strategy: StrategyRequest;
  cache: CacheMode;
  requireIntegrity: boolean;
  /** Upper bound on the bytes the weight cache may hold (a runtime option). */
  cacheMaxBytes?: number;
  /** How a cached plain URL is revalidated (see `LoadOptions.revalidate`). */
  revalidate?: LoadOptions['revalidate'];
  /** Load-time warm-up (see `LoadOptions.warmup`; checked in the worker, src/worker/warmup.ts). */
  warmup?: LoadOptions['warmup'];
  /** External data files by location (see `LoadOptions.externalData`): absolute URLs or transferred bytes. */
  externalData?: Record<string, WireSource>;
  /** See `LoadOptions.bothPlansMaxBytes`. */
  bothPlansMaxBytes: number;
  /** Load-time verification against ORT's WASM EP (see `LoadOptions.verify`; checked in the worker, src/worker/verify.ts). */
  verify?: LoadOptions['verify'];
}

/** `runtime.load` as the worker receives it. */
export interface LoadRequest {
  requestId: string;
  source: WireSource;
  options: ResolvedLoadOptions;
}

/** Progress events forwarded from the worker. */
export interface WireProgress {
  phase: LoadPhase;
  loaded: number;
  total?: number;
}

/** Milliseconds of one run spent in ORT sessions, in encoding our kernels, and in reading outputs back. */
export interface RunPhases {
  ortMs: number;
  kernelsMs: number;
  readbackMs: number;
}

/** Per-run counters: how much crossed the CPU↔GPU boundary and what ran. */
export interface RunCounters {
  uploads: number;
  readbacks: number;
  ortSegments: number;
  kernelDispatches: number;
  /** Command buffers webq8 submitted for its kernel steps: one per stretch of consecutive kernel steps. */
  submits: number;
  /** Bind groups webq8 created (none on a repeated run of a shape: each plan keeps its own). */
  bindGroups: number;
}

/**
 * Which plan ran a request of a model loaded with `strategy: 'auto'` on WebGPU, which keeps both
 * plans compiled and decides per shape class (see docs/guide.md "Choosing kernels or ORT per shape").
 */
export interface RunStrategy {
  strategy: 'kernels' | 'ort';
  /** The class of the request's symbolic dimensions, e.g. `x:1x16` (each size rounded up to a power of two). */
  shapeClass: string;
  /** Median ms per run of each plan on this class (NaN when that plan failed it, or while `provisional`; `runs` 0 then). */
  measured: { kernelsMs: number; ortMs: number; runs: number };
  /**
   * True while the class is not measured yet: this request ran at once on the plan of the nearest
   * measured class (plain ORT when none), and both plans are measured in the model's idle time.
   */
  provisional: boolean;
}

/** Time of one plan step in a profiled run (see `profile` in `webq8/advanced`). */
export interface StepProfile {
  /** Index of the step in the plan. */
  index: number;
  kind: 'ort' | 'kernel';
  /** The kernel op, or what an ORT segment produces. */
  label: string;
  /** Wall ms from the step's start to the end of its GPU work. */
  ms: number;
}

/** Where one run's time went (see `profile` in `webq8/advanced`). */
export interface RunProfile {
  /** Every step, in order: ORT segments and webq8 kernel steps. */
  steps: StepProfile[];
  /** Time between the steps: uploads, handing values over, releasing buffers. */
  boundaryMs: number;
  /** Reading the outputs back to the CPU. */
  readbackMs: number;
  /** The whole profiled run. */
  totalMs: number;
  /** The plan profiled: the kernel plan or one ORT session. */
  plan: 'kernels' | 'ort';
  counters: RunCounters;
}

/** The answer to `run`. Output buffers are transferred. */
export interface RunReply {
  outputs: TensorMap;
  counters: RunCounters;
  /** Present for models that choose their plan per shape class. */
  strategy?: RunStrategy;
  /**
   * Milliseconds the request waited behind earlier runs of the same model (`queueMs`), ran
   * (`runMs`), and of that, spent in ORT, encoding our kernels, and reading outputs back.
   */
  timings: { queueMs: number; runMs: number } & RunPhases;
  /**
   * Sampled verification in service (`verify.sampleRate`): its counts as of this answer, and the
   * backend the model is now served from when a divergence switched it to WASM.
   */
  verify?: { service: ServiceVerifyStats; backend?: BackendDecision };
}

/** `model.generate` as the worker receives it (options checked and defaulted on the main thread). */
export interface GenerateRequest {
  /** The prompt's token ids. */
  inputIds: number[];
  maxNewTokens: number;
  /** Generation ends after any of these ids (which is included in the output). */
  stopTokens: number[];
  /** `topK: 1` is greedy. `seed` starts the per-sequence PRNG that draws each sample's `u`. */
  sampling: { topK: number; temperature: number; topP: number; seed: number };
  /** Most tokens (prompt + generated) the cache may hold. */
  maxContext: number;
  /** Milliseconds from the worker's receipt after which no new step starts (Infinity: none). */
  deadlineMs: number;
}

/** Tokens streamed from the worker: ids `index`, `index + 1`, … of the answer. */
export interface TokenEvent {
  index: number;
  ids: number[];
}

/** What one generation moved across the CPU↔GPU boundary and ran (see docs/guide.md "Generating tokens"). */
export interface GenerateCounters {
  /** Decode steps run (prefill included). */
  steps: number;
  /** Host→GPU copies (on WASM: 0). */
  uploads: number;
  /** GPU→host copies (on WASM: 0). */
  readbacks: number;
  /** Bytes of those copies: on WebGPU 4 per step (one token id) when the cache and logits stay on the GPU. */
  readbackBytes: number;
  ortSegments: number;
  kernelDispatches: number;
}

/**
 * How a generation's decode steps were batched with other generations on the same model. A shared
 * step counts once in each of its sequences' {@link GenerateCounters}, except `readbackBytes`,
 * which gets the sequence's own 4 bytes of the step's readback.
 */
export interface GenerateBatching {
  /** Steps this sequence ran in one model call with others. */
  sharedSteps: number;
  /** Most sequences in one of its steps (1: it always ran alone). */
  largestBatch: number;
  /** Why this model's steps run one sequence at a time although others were waiting; absent when they may be batched. */
  unbatchedReason?: string;
}

/** The answer to `generate` once it has finished. */
export interface GenerateReply {
  tokens: number[];
  finishReason: FinishReason;
  counters: GenerateCounters;
  /**
   * Milliseconds waiting for the model (behind other runs and steps), running steps (device-busy:
   * the cost proxy), and from receipt to the first token.
   */
  timings: { queueMs: number; busyMs: number; ttftMs: number };
  /** Largest size of this sequence's KV cache, in bytes. */
  cacheBytes: number;
  batching: GenerateBatching;
  /** Sampled verification in service, as in {@link RunReply} (a greedy generation may be sampled too). */
  verify?: RunReply['verify'];
}

/**
 * Debug commands of {@link WorkerApi.debug}: `'lose-device'` destroys the GPU device under the
 * loaded models; `'gpu-counts'` answers {@link GpuCounts} (leak checks compare them around a
 * load/dispose cycle); `'invalid-binding'` makes the next kernel dispatch bind a buffer WebGPU
 * rejects (the run then fails with `GpuError`); `'kv-cache-bytes'` answers the bytes all live
 * generations hold, `'kv-sequences'` how many sequences hold a cache; `'crash-ort'` makes the
 * next call into onnxruntime fail as a WebAssembly trap would (the instance is then dead for good);
 * `'corrupt-kernels'` makes every kernel step of later runs overwrite part of its first output (a
 * wrong GPU answer, for the verification tests) until `'heal-kernels'`; `'small-binding-limit'`
 * checks and splits kernel weights against a 4 KiB storage-binding limit instead of the device's,
 * from then on (matmul weights above it are split into column blocks, others refused);
 * `'tiny-binding-limit'` does the same against 128 bytes, below 4 columns of the fixtures' weights
 * (`WeightTooLargeError`: the load keeps plain ORT); `'tiny-data-chunks'` stores external data files in the weight cache in 4 KiB chunks, from then on.
 */
export type DebugCommand =
  | 'lose-device'
  | 'gpu-counts'
  | 'invalid-binding'
  | 'kv-cache-bytes'
  | 'kv-sequences'
  | 'crash-ort'
  | 'corrupt-kernels'
  | 'heal-kernels'
  | 'small-binding-limit'
  | 'tiny-binding-limit'
  | 'tiny-data-chunks';

/** The answer to `debug('gpu-counts')`: live GPU objects on ORT's device and live ORT sessions. */
export interface GpuCounts extends GpuResourceCounts {
  /** ORT sessions of loaded models (created minus released), any backend; the device anchor not included. */
  sessions: number;
}

/** What the worker exposes. Every method may reject with a `WebQ8Error` subclass. */
export interface WorkerApi {
  /** Configures ORT (wasm paths, threads, log level). Call once, first. */
  init(config: WorkerConfig): Promise<void>;
  /** Fetches (if a URL), checks, partitions and compiles a model. `onProgress` is a comlink proxy. */
  load(request: LoadRequest, onProgress?: (p: WireProgress) => void): Promise<ModelInfo>;
  /** Prepares an explicit execution plan (ORT sub-models and webq8 kernels) as given. */
  loadPlan(requestId: string, plan: Plan, backend: Backend | 'auto'): Promise<ModelInfo>;
  /** Runs a model. Requests of one model run one at a time, in order. */
  run(modelId: string, requestId: string, feeds: TensorMap): Promise<RunReply>;
  /**
   * Generates tokens from a decoder model, streaming them to `onTokens` (a comlink proxy) as they
   * come; resolves when the answer is complete. Rejects with `NotADecoderError`,
   * `ContextOverflowError`, `AbortError` (after `cancel`), `DeadlineExceededError`.
   */
  generate(modelId: string, requestId: string, request: GenerateRequest, onTokens: (event: TokenEvent) => void): Promise<GenerateReply>;
  /**
   * Runs a model once with every step timed to the end of its GPU work (in the model's request
   * order, like `run`). The outputs are dropped: the answer is where the time went.
   */
  profile(modelId: string, feeds: TensorMap): Promise<RunProfile>;
  /** Cancels a queued run, an ongoing load or a generation; a no-op for finished requests. */
  cancel(requestId: string): void;
  /** Weight cache management (IndexedDB, shared by every runtime of the origin). */
  cacheList(): Promise<CacheEntryInfo[]>;
  cacheDelete(selector: EntrySelector): Promise<number>;
  cacheClear(): Promise<void>;
  cacheUsage(): Promise<CacheUsage>;
  /** Frees a model's sessions and GPU memory. */
  disposeModel(modelId: string): Promise<void>;
  /**
   * Test hooks. `'lose-device'` destroys the GPU device under the loaded models to exercise
   * device-loss handling (there is no other way to make a device get lost on demand);
   * `'gpu-counts'` returns {@link GpuCounts} (it creates the GPU context if there is none yet);
   * `'invalid-binding'` makes WebGPU reject the next kernel dispatch.
   */
  debug(command: DebugCommand): Promise<GpuCounts | number | void>;
  /** Frees everything. */
  dispose(): Promise<void>;
}

/* The Worker's lifeline (src/worker/lifeline.ts ↔ src/runtime/worker-link.ts), beside comlink. */

/** Messages of the lifeline. `alive` goes worker → main; the others are test hooks, main → worker. */
export type LifelineMessage =
  | { webq8Lifeline: 'alive'; lock: string | null }
  /** Test hook: the worker ends itself (`self.close()`), as a crash would. */
  | { webq8Lifeline: 'close' }
  /** Test hook: the worker throws an uncaught error outside any request. */
  | { webq8Lifeline: 'throw' };

/** True for a lifeline message (and for nothing comlink sends). */
export function isLifelineMessage(data: unknown): data is LifelineMessage {
  return typeof data === 'object' && data !== null && typeof (data as { webq8Lifeline?: unknown }).webq8Lifeline === 'string';
}

let installed = false;

/** Installs the error-preserving `"throw"` handler (idempotent; call on both sides). */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get('throw');
  if (!original) return;
  transferHandlers.set('throw', {
    canHandle: original.canHandle,
    serialize(thrown: unknown) {
      const { value } = thrown as { value: unknown };
      return [{ isError: true, value: serializeError(value) }, []];
    },
    deserialize(serialized: unknown): never {
      const s = serialized as { isError: boolean; value: unknown };
      if (s.isError) throw deserializeError(s.value as SerializedError);
      throw s.value;
    },
  });
}
