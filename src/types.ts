/**
 * Public data types. Tensors are ORT-compatible: any object with `type`, `dims` and `data`
 * (an `ort.Tensor` qualifies) can be fed, and outputs come back in that shape, so they can be
 * passed straight to `new ort.Tensor(out.type, out.data, out.dims)`.
 */

/** Element types webq8 accepts and returns (ONNX names as ORT spells them). */
import type { VerifyInfo, VerifyOptions } from './verify-types';

export type * from './verify-types';
export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'uint32' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'bool' | 'float64' | 'uint64';

/** The typed array that holds each {@link DType}. */
export interface DTypeArrays {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** Any typed array webq8 can carry. */
export type TensorData = DTypeArrays[DType];

/** An ORT-compatible tensor: what `model.run` takes and returns. */
export interface TensorLike {
  /** Element type. */
  readonly type: DType;
  /** Shape; every entry a non-negative integer. */
  readonly dims: readonly number[];
  /** Elements in row-major order; length = product of `dims`. */
  readonly data: TensorData;
}

/** Named tensors, as ORT's `session.run` takes and returns them. */
export type TensorMap = Record<string, TensorLike>;

/** Which execution backend runs ORT's part of a model. */
export type Backend = 'webgpu' | 'wasm';

/** Backend request: a fixed backend, or `'auto'` to let webq8 decide from the hardware. */
export type BackendRequest = Backend | 'auto';

/** One input or output as declared by the model. Symbolic dimensions are strings (`'batch'`), unknown ones `null`. */
export interface ValueInfo {
  name: string;
  /** Element type, or `'unknown'` for non-tensor values (sequences, maps). */
  type: DType | 'unknown';
  dims: (number | string | null)[];
}

/** What webq8 learnt about the WebGPU adapter (empty fields where the browser has none). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software or otherwise slow adapter (SwiftShader, WARP, ...): `auto` avoids it. */
  isFallbackAdapter: boolean;
  /** Optional features present, e.g. `timestamp-query`, `subgroups`, `shader-f16`. */
  features: string[];
  /** WGSL language features, e.g. `packed_4x8_integer_dot_product`. */
  wgslLanguageFeatures: string[];
  /**
   * Limits of the GPU device ORT created (and webq8's kernels share), for a model on WebGPU once
   * that device exists: the largest buffer, and the largest one storage binding (a matmul weight
   * above it is split into column blocks, see {@link ModelMemory.splitWeights}; see docs/large-models.md).
   */
  deviceLimits?: DeviceLimits;
}

/** Buffer limits of a WebGPU device, in bytes (`GPUDevice.limits`). */
export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** The backend that was chosen for a model, and why. */
export interface BackendDecision {
  backend: Backend;
  /** What the caller asked for. */
  requested: BackendRequest;
  /** Human-readable reason, e.g. "WebGPU adapter is a fallback (swiftshader); WASM is faster there". */
  reason: string;
}

/** Everything known about a loaded model. Plain data: safe to log or `JSON.stringify`. */
export interface ModelInfo {
  /** Worker-side id of this model. */
  id: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Chosen backend and why. */
  backend: BackendDecision;
  /** WebGPU adapter details, or `null` when WebGPU is absent. */
  adapter: AdapterInfo | null;
  /** Size of the model in bytes. */
  bytes: number;
  /** Where the model came from: its URL, or `'bytes'`. */
  source: string;
  /** SHA-256 of the model bytes (lowercase hex): its key in the weight cache. */
  sha256: string;
  /** Model id and version labels, when the source or its manifest gave them. */
  modelId?: string;
  version?: string;
  /** What the weight cache did. */
  cache: CacheInfo;
  /** Milliseconds spent in each load phase (measured in the worker; `fetchMs` includes cache reads and hashing). */
  loadTimings: { fetchMs: number; compileMs: number };
  /** Kernels-vs-ORT choice for this model, and the figures behind it (absent for explicit plans). */
  strategy?: StrategyDecision;
  /** Where each node runs: kernel steps, ORT ops, fallbacks and their reasons (absent for explicit plans). */
  placement?: Placement;
  /** What load-time warm-up did (present when {@link LoadOptions.warmup} asked for it). */
  warmup?: WarmupInfo;
  /** The model's external data files (ONNX `external_data`), one row per file; absent when it has none. `bytes` above counts the `.onnx` only. */
  externalData?: ExternalDataInfo[];
  /** Where the model's bytes went (absent for explicit plans). See {@link ModelMemory}. */
  memory?: ModelMemory;
  /** Whether the GPU plan's answers were checked against ORT's WASM EP at load (see {@link LoadOptions.verify}). */
  verify?: VerifyInfo;
}

/**
 * Where a loaded model's bytes went, counted from its plans. With `strategy: 'auto'` keeping both
 * plans, both are counted.
 */
export interface ModelMemory {
  /** Weight bytes in webq8's own GPU buffers: the kernel plan's int8 weights and constants. */
  kernelGpuBytes: number;
  /**
   * Bytes handed to ORT at session creation: its (sub-)model protobufs plus the external-data
   * ranges they read. ORT copies them into its WASM heap (the WASM backend keeps them there; its
   * WebGPU EP uploads the weights to the GPU).
   */
  ortBytes: number;
  /**
   * Bytes the worker keeps in its JS heap while the model is loaded: the `.onnx`, plus data files
   * it has only in memory (given as bytes, downloaded with `cache: 'bypass'`, or not cached because
   * the cache could not take them: see `externalData[i].cache.reason`) on WebGPU. Data files in
   * the weight cache are not held: a cold download is streamed into it, the kernel plan reads them
   * by ranges, and reads them again to rebuild after a lost device. WASM lets every data file go
   * once ORT has copied it.
   */
  heldBytes: number;
  /**
   * Kernel weights larger than one storage binding of the GPU (`maxStorageBufferBindingSize`, or
   * `maxBufferSize` when smaller), each split along N into column blocks that fit and run one
   * dispatch each, bit-exact (see docs/large-models.md, "Device limits"): how many weights, into how
   * many blocks in all, and the limit in bytes they were split by. Absent when none was split.
   */
  splitWeights?: { weights: number; parts: number; limit: number };
}

/** One external data file of a loaded model (see {@link LoadOptions.externalData}). */
export interface ExternalDataInfo {
  /** The `location` the model names for it, e.g. `'model.onnx_data'`. */
  location: string;
  /** Where it came from: its URL, or `'bytes'`. */
  source: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 (lowercase hex): its own key in the weight cache. */
  sha256: string;
  /** What the weight cache did for this file. */
  cache: CacheInfo;
}

/**
 * Where one external data file comes from: a URL (relative to the page), a {@link ModelRef} (with
 * its expected SHA-256), or its bytes.
 */
export type ExternalDataSource = string | URL | ModelRef | ArrayBuffer | Uint8Array;

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /**
   * URL of webq8's worker script (`dist/worker.js` of the package). Default: found by your bundler
   * (Vite, webpack) or, without one, next to webq8's own module. Set it when you serve webq8 from a
   * CDN or copy its files yourself.
   */
  workerUrl?: string | URL;
  /**
   * Where onnxruntime-web's `.mjs`/`.wasm` files are served: a folder URL (`ort-wasm-simd-threaded.asyncify.*`
   * are appended), or one URL per file. Default: found by your bundler, or `ort/` next to the worker.
   */
  wasmPaths?: string | URL | { mjs: string | URL; wasm: string | URL };
  /** ORT WASM threads. Default: 1 unless the page is cross-origin isolated (threads need SharedArrayBuffer). */
  numThreads?: number;
  /** Log level for the worker: `'warning'` by default; `'verbose'` prints ORT's node placement. */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error';
  /**
   * On-device latency telemetry. Recording is always on (see `model.stats()`); export happens only
   * with an `endpoint` (an OTLP/HTTP collector base URL; `/v1/metrics` is appended). Only latencies,
   * error codes, model labels/hash, backend, adapter vendor/architecture, webq8 version and page
   * origin are sent — never inputs, outputs or user data.
   */
  telemetry?: { endpoint?: string; headers?: Record<string, string>; intervalMs?: number; sampleRate?: number };
  /** Weight cache limits: `maxBytes` bounds what IndexedDB may hold; `persist` asks for persistent storage. */
  cache?: { maxBytes?: number; persist?: boolean };
}

/**
 * A model to load: a URL, its bytes, a {@link ModelRef} (URL with its expected SHA-256 and labels),
 * or a {@link ModelManifestRef} (the URL of a manifest JSON `{id, version, url, sha256, size}`). This
 * one type travels from `runtime.load` through the worker into the weight cache; only its URLs are
 * made absolute on the way (the worker's base URL differs from the page's).
 */
export type ModelSource = string | URL | ArrayBuffer | Uint8Array | ModelRef | ModelManifestRef;

/** A model URL with optional expected hash, size and labels. */
export interface ModelRef {
  /** Where the model bytes are served (absolute, or relative to the page/worker location). */
  url: string | URL;
  /** Expected SHA-256: 64 hex characters or an SRI string `sha256-<base64>`. */
  sha256?: string;
  /** Expected size in bytes; a different body length is a `ContentLengthError`. */
  size?: number;
  /** Model id shown in `list()`, e.g. `'ppocr-rec'`. With `version`, it finds a cached entry without a hash. */
  id?: string;
  /** Model version label, e.g. `'4.0.1'`. Several versions of one id coexist in the cache. */
  version?: string;
}

/** A small JSON manifest describing the model: `{id, version, url, sha256, size}`. */
export interface ModelManifestRef {
  /** URL of the manifest JSON; the model `url` inside it resolves relative to this URL. */
  manifest: string | URL;
}

/** How a load uses the weight cache: read and write (`default`), neither (`bypass`), or write only (`refresh`). */
export type CacheMode = 'default' | 'bypass' | 'refresh';

/** Load phases reported by `onProgress`. */
export type LoadPhase = 'download' | 'verify' | 'store' | 'compile';

/** What the weight cache did for a load (see docs/cache.md for the rules). */
export interface CacheInfo {
  /**
   * `hit` (read from IndexedDB, no request or the server could not be asked), `revalidated` (the
   * server said the cached bytes are current), `updated` (the server had new bytes: downloaded,
   * verified and stored), `miss` (downloaded and stored), `refreshed`, `bypassed`, or `none` (bytes given).
   */
  status: 'hit' | 'miss' | 'bypassed' | 'refreshed' | 'revalidated' | 'updated' | 'none';
  /**
   * Why it was bypassed, re-fetched or not revalidated: `option`, `max-bytes`, `quota`,
   * `unavailable`, `corrupt`, `no-store`, `no-validators`, `offline`, `revalidation-failed`.
   */
  reason?: string;
  detail?: string;
  /** With `updated` (or a `refreshed` that changed the bytes): SHA-256 of the cached model these bytes replace. */
  previous?: string;
}

/** Options of `runtime.load`. */
export interface LoadOptions {
  /** `'auto'` (default) picks WebGPU only on a real (non-fallback) GPU adapter. */
  backend?: BackendRequest;
  /**
   * Int8 matmuls on webq8's WGSL kernels (`'kernels'`) or everything in ORT (`'ort'`). `'auto'`
   * (default) measures both once at load on the WebGPU backend; on WASM it is always `'ort'`.
   */
  strategy?: StrategyRequest;
  /** Cancels the load. */
  signal?: AbortSignal;
  /** Progress per phase, in bytes; `total` is `undefined` when unknown. */
  onProgress?: (p: { phase: LoadPhase; loaded: number; total?: number }) => void;
  /**
   * Weight cache use: `'default'` reads and writes IndexedDB, `'refresh'` re-downloads and replaces
   * the entry, `'bypass'` neither reads nor writes.
   */
  cache?: CacheMode;
  /** Refuse to load a URL without an expected SHA-256 (`IntegrityRequiredError`). */
  requireIntegrity?: boolean;
  /**
   * How a cached plain URL (no `sha256`, no `version`) is kept fresh by HTTP caching rules (see
   * docs/cache.md): `revalidateTimeoutMs` bounds the wait for the server's answer to a conditional
   * request before the cached bytes are used (default 5000); `storeNoStore` caches a response
   * marked `Cache-Control: no-store` anyway, for servers you cannot configure (default false).
   */
  revalidate?: { timeoutMs?: number; storeNoStore?: boolean };
  /** Queue bound, deadlines, batching, replicas and SLO of this model (see {@link ServingOptions}). */
  serving?: ServingOptions;
  /**
   * Milliseconds the load may go without progress (bytes downloaded, a phase started) before it is
   * cancelled with a `LoadTimeoutError`. Default 120 000; `0` waits forever.
   */
  timeoutMs?: number;
  /**
   * Synthetic runs during the load, so the first runs your users make are at steady-state speed
   * (the browser compiles ORT's WebAssembly with a baseline compiler first and optimizes each
   * function only once it has run enough). `true` uses the defaults, a number sets `runs`.
   * Default: off. See {@link WarmupOptions}; {@link ModelInfo.warmup} reports what happened.
   */
  warmup?: boolean | number | WarmupOptions;
  /**
   * The model's external data files (ONNX `external_data`) by the `location` the model names,
   * e.g. `{ 'model.onnx_data': bytes }`. Without it a model loaded by URL finds each file at its
   * location resolved against the model's URL; a model given as bytes needs it. Each file fetched
   * by URL is its own entry in the weight cache. See docs/large-models.md.
   */
  externalData?: Record<string, ExternalDataSource>;
  /**
   * Largest model (`.onnx` plus external data, bytes) for which `strategy: 'auto'` keeps both plans
   * compiled on WebGPU; a larger one gets the kernel plan only, decided at load
   * (`model.info.strategy.onePlan`), since both plans would hold the weights twice. Default 512 MiB.
   */
  bothPlansMaxBytes?: number;
  /**
   * Check the GPU plan's answers against ORT's WASM EP on this device before the load resolves
   * (seeded random inputs, every output compared). Default: on when the model runs on WebGPU and is
   * at most {@link VerifyOptions.maxBytes}; `false` turns it off. See {@link VerifyOptions};
   * {@link ModelInfo.verify} reports what happened.
   */
  verify?: boolean | VerifyOptions;
}

/** Load-time warm-up, in the spirit of Triton's `model_warmup`: zero-filled runs before `load` resolves. */
export interface WarmupOptions {
  /** Most synthetic runs. Default 200 (enough for PP-OCR cls on WASM to reach its steady state). */
  runs?: number;
  /** Most milliseconds warm-up may add to the load; it stops after the run in flight. Default 3000. */
  budgetMs?: number;
  /**
   * Shapes of the synthetic inputs by input name, e.g. `{ x: [1, 3, 48, 192] }`. Inputs left out
   * get their declared fixed dims, 1 for a symbolic first axis and 32 for other symbolic axes (a
   * named symbol such as `batch` gets one size across inputs). Give the shapes your users will
   * send; give them for every input whose dims the model leaves unnamed and that must agree.
   */
  shapes?: Record<string, readonly number[]>;
  /**
   * Inputs used as given, for those whose values matter (a sample rate, token ids, a mask), e.g.
   * `{ sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) } }`. Plain `{type, dims, data}`
   * objects (copied, not transferred); the other inputs are zero-filled.
   */
  feeds?: TensorMap;
}

/** What load-time warm-up did. */
export interface WarmupInfo {
  /** Synthetic runs made. */
  runs: number;
  /** Milliseconds warm-up added to the load. */
  ms: number;
  /** Why it stopped: the `runs` were done, or the `budgetMs` was spent. */
  stopped: 'runs' | 'budget';
  /** Milliseconds of the first and of the last warm-up run (median of the last five): how far runs came down. */
  firstMs: number;
  lastMs: number;
  /** The shapes of the synthetic inputs, by input name. */
  shapes: Record<string, number[]>;
}

/** Options of `model.run`. */
export interface RunOptions {
  /** Cancels the run. A run still queued never starts; a running one resolves into an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Milliseconds from now by which the answer is useful. If the estimated wait plus the expected
   * service time already exceeds it, `run` rejects at once with `DeadlineExceededError`; a request
   * still queued when it can no longer finish by it (the deadline minus the expected service time
   * has passed) is dropped and never runs. A request already running is not stopped.
   */
  deadlineMs?: number;
  /** The same as an absolute time (`Date.now()` milliseconds); the earlier of the two applies. */
  deadline?: number;
  /** `'interactive'` (default) is served first; `'background'` waits behind it and is shed first under overload. */
  priority?: Priority;
}

/**
 * Why a generation ended: `'length'` (`maxNewTokens` reached), `'stop'` (a stop token came; it is
 * the last token), `'deadline'` (`deadlineMs` passed after the first token).
 */
export type FinishReason = 'length' | 'stop' | 'deadline';

/** Sampling of `model.generate`. Without it, decoding is greedy (the most likely token each step). */
export interface SamplingOptions {
  /** Logits are divided by it before the softmax; > 0, default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens; 1 … 64, default 64 (1 is greedy). */
  topK?: number;
  /** Then keep the smallest set of those whose probability reaches topP; (0, 1], default 1. */
  topP?: number;
  /** Seed of the random draws: the same seed, prompt and model give the same tokens. Default 0. */
  seed?: number;
}

/** Options of `model.generate`. */
export interface GenerateOptions {
  /** Tokens to generate at most; default 32. */
  maxNewTokens?: number;
  /** Token ids that end the answer (e.g. end-of-text); the stop token is yielded. */
  stopTokens?: readonly number[];
  /** Random sampling; greedy without it. */
  sampling?: SamplingOptions;
  /** Ends the stream with `AbortError` and frees the sequence's cache. */
  signal?: AbortSignal;
  /**
   * Milliseconds from now after which no new token is started: before the first token the call
   * rejects with `DeadlineExceededError`; after it the answer ends with `finishReason: 'deadline'`.
   */
  deadlineMs?: number;
  /**
   * Most tokens (prompt + generated) the KV cache may hold; default 1024. A prompt plus
   * `maxNewTokens` beyond it is refused with `ContextOverflowError` before anything runs.
   */
  maxContext?: number;
}

/** Request priority: interactive requests are served first, background ones shed first. */
export type Priority = 'interactive' | 'background';

/**
 * Serving controls of a model (see docs/operations.md "Serving under load"). Every field is optional; the
 * defaults bound the queue and change nothing else.
 */
export interface ServingOptions {
  /** Requests that may wait (queued, not running). Default 256; beyond it `run` rejects with `OverloadedError`. */
  maxQueue?: number;
  /**
   * What a full queue does with a new request of the same priority: `'reject-newest'` (default:
   * the newcomer fails fast and can react, those already waiting keep their place) or `'drop-oldest'`
   * (the oldest waiting request fails instead; suits streams where only fresh input matters).
   * Either way a new interactive request first displaces the newest background one.
   */
  overflow?: 'reject-newest' | 'drop-oldest';
  /**
   * Micro-batching for models whose inputs all have a symbolic first dimension: up to `maxBatch`
   * queued requests with the same other dimensions run as one, each getting its rows back. A free
   * replica waits up to `maxWaitMs` (default 2) for more only when arrivals are fast enough to fill it
   * (arrival rate × service time > 1); otherwise it runs what is queued at once.
   */
  batching?: { maxBatch: number; maxWaitMs?: number };
  /**
   * Run the model in several Workers: a number (all on the load's backend), or one entry per replica
   * with its own backend (e.g. `[{ backend: 'webgpu' }, { backend: 'wasm' }]`). Each request goes where
   * it is expected to finish first. Default 1.
   */
  replicas?: number | { backend?: BackendRequest }[];
  /** Latency and error objective; see `model.stats().health`. */
  slo?: { p95Ms: number; errorRate?: number; windowMs?: number; minEvents?: number };
}

/** Plan strategy request: webq8's int8 kernels, plain ORT, or measure both (`'auto'`). */
export type StrategyRequest = 'auto' | 'kernels' | 'ort';

/** The plan strategy chosen for a model, and why. */
export interface StrategyDecision {
  strategy: 'kernels' | 'ort';
  requested: StrategyRequest;
  /** Human-readable reason, with the measured figures when `'auto'` measured. */
  reason: string;
  /** Median ms per run of each plan in the `'auto'` measurement (NaN when that plan failed). */
  measured?: { kernelsMs: number; ortMs: number; runs: number };
  /**
   * True when the decision (and the partitioned plan) came from the compiled-artifact cache of an
   * earlier load on this adapter and webq8 version: parsing, partitioning and measuring were skipped.
   */
  cached?: boolean;
  /**
   * Set when a compiled-artifact cache entry for this model and adapter existed but was dropped
   * (malformed, or its plan no longer prepares): why. The model was planned afresh.
   */
  artifactDropped?: string;
  /**
   * True for `'auto'` with a kernel plan on WebGPU: both plans stay compiled and each shape class of
   * the requests gets its own measured choice (`model.stats().lastRun.strategy`); `strategy` and `measured`
   * above are the choice at the probe shape measured at load.
   */
  perShape?: boolean;
  /** The shape class measured at load (see {@link StrategyDecision.perShape}). */
  probeClass?: string;
  /**
   * True when `'auto'` kept one plan because the model is larger than
   * {@link LoadOptions.bothPlansMaxBytes}: nothing was measured, and `reason` says so.
   */
  onePlan?: boolean;
}

/** Which int8 pattern a kernel step replaced (see `model.info.placement`). */
export type KernelPattern =
  'quantize_dynamic' | 'MatMulInteger' | 'ConvInteger' | 'QLinearMatMul' | 'QLinearConv' | 'qdq' | 'qdq-weight-only' | 'MatMulNBits' | 'DynamicQuantizeLinear';

/** A candidate node left to ORT, and why. */
export interface Fallback {
  node: string;
  op: string;
  reason: string;
}

/** One kernel step and the graph nodes it replaces. */
export interface KernelPlacement {
  pattern: KernelPattern;
  /** Kernel op run (e.g. `QuantizedMatMul`). */
  ops: string[];
  /** Names of the replaced ONNX nodes. */
  nodes: string[];
}

/** Per-model placement (see the module comment). */
export interface Placement {
  /** Kernel steps and the nodes they replace. */
  kernels: KernelPlacement[];
  /** Nodes replaced by kernels. */
  kernelNodes: number;
  /** Nodes left to ORT (Constant nodes not counted). */
  ortNodes: number;
  /** ORT nodes by op type. */
  ortOps: Record<string, number>;
  /** Number of ORT segments in the kernel plan (0 without one). */
  segments: number;
  /** Candidate nodes that stayed on ORT, with the reason. */
  fallbacks: Fallback[];
  /** Ops left to ORT that its WebGPU EP runs on the CPU (by type, counted). Empty when none. */
  cpuFallbackOps: Record<string, number>;
}

/**
 * A model release to follow (see docs/operations.md "Releasing a new model version"): the URL of a
 * release manifest, and how to follow it. `runtime.follow(ref)` serves its stable version, routes runs to its
 * candidate by the manifest, compares the two, rolls back on the manifest's rules, and polls the
 * manifest for changes.
 */
export interface ReleaseRef {
  /** URL of the release manifest JSON (e.g. the reference collector's `/api/release/<model>`). */
  release: string | URL;
  /** Milliseconds between manifest polls; default 60 000, at least 1 000; 0 never polls. */
  pollMs?: number;
  /**
   * This client's stable id for canary buckets. Default: a random id kept in IndexedDB (database
   * `webq8-release`), never a fingerprint. Pass your own (e.g. a hash of a signed-in user's id) to
   * keep a person in one cohort across devices.
   */
  clientId?: string;
  /** Share of a canary client's runs mirrored to the stable version for comparison, 0–1; default 0.1. */
  shadowRate?: number;
  /** Where incidents are POSTed as JSON; default `<release URL>/incidents`; `false` sends none. */
  reportUrl?: string | false;
}

/** One version of a released model: where its bytes are, and their SHA-256 and size. */
export interface ReleaseVersion {
  /** Version label, e.g. `'4.0.1'`; a label always means the same bytes. */
  version: string;
  /** Model URL, absolute or relative to the manifest's URL. */
  url: string;
  /** SHA-256 of the model bytes, 64 hex characters. */
  sha256: string;
  /** Size of the model in bytes. */
  size: number;
}

/**
 * The version being rolled out. `mode: 'canary'`: it serves the clients whose stable hash falls
 * below `fraction` (0–1). `mode: 'shadow'`: it serves nobody; every client mirrors `fraction` of its
 * runs to it after answering from stable, and compares the outputs.
 */
export interface ReleaseCandidate extends ReleaseVersion {
  mode: 'shadow' | 'canary';
  fraction: number;
}

/**
 * When a candidate is rolled back or promoted; absent fields take the defaults in
 * `RELEASE_RULE_DEFAULTS` (docs/operations.md "Releasing a new model version").
 */
export interface ReleaseRules {
  /** Largest allowed ratio of the candidate's p95 latency to stable's. */
  p95Ratio?: number;
  /** Largest allowed excess of the candidate's error rate over stable's (0.01 = one point). */
  errorRateDelta?: number;
  /** Largest allowed share of compared runs whose top-1 answer differs from stable's. */
  disagreement?: number;
  /** Samples each side needs before any rule may decide. */
  minSamples?: number;
}

/** The release manifest JSON. */
export interface ReleaseManifest {
  /** Model id (letters, digits, `._-`): the label of its telemetry series. */
  model: string;
  stable: ReleaseVersion;
  candidate?: ReleaseCandidate;
  rules?: ReleaseRules;
}

/** Latency and error counts of one version, as a decision reads them (from a client or a fleet store). */
export interface VersionStats {
  version: string;
  /** Successful runs measured. */
  count: number;
  /** Failed runs that count against the version (caller errors such as `INPUT_INVALID` excluded). */
  errors: number;
  /** Latency percentiles, ms (NaN when unknown). */
  p50: number;
  p95: number;
  p99: number;
  /**
   * The latency histogram, when the store has one: then latency is compared with distribution-free
   * bounds on the quantile; without it, with the point estimates.
   */
  histogram?: HistogramCounts;
  /** Shadow comparisons against the other version: how many, and how many disagreed on top-1. */
  agreement?: { compared: number; disagreed: number };
}

/** The bucket counts of a base-2 exponential histogram (the OTLP model; webq8's `HistogramState` is one). */
export interface HistogramCounts {
  /** base = 2^(2^-scale); bucket i holds (base^i, base^(i+1)]. */
  scale: number;
  count: number;
  /** Values ≤ `zeroThreshold` (the zero bucket). */
  zeroCount: number;
  zeroThreshold: number;
  /** Infinity while empty. */
  min: number;
  /** −Infinity while empty. */
  max: number;
  /** Index of `counts[0]`. */
  offset: number;
  /** Dense bucket counts from `offset` upwards (may carry zeros at either end). */
  counts: number[];
}

/** What a release decision says, which rule decided, and the figures it decided on. */
export interface ReleaseDecision {
  decision: 'promote' | 'rollback' | 'wait';
  /** The rule that decided (`'minSamples'` while waiting for data); null when every rule passed. */
  rule: ReleaseRule | null;
  evidence: Record<string, number | string | boolean | null>;
}

/** Names of the rules (and of the other reasons a candidate is refused). */
export type ReleaseRule = 'p95Ratio' | 'errorRateDelta' | 'disagreement' | 'minSamples' | 'integrity' | 'incompatible' | 'numerics' | 'warmup' | 'manual';

/** A rollback or refusal of a candidate: what, when, which rule, and the evidence. */
export interface ReleaseIncident {
  model: string;
  /** ISO time. */
  at: string;
  /** `'client'`: decided on this device; `'fleet'`: decided by the collector over every client. */
  scope: 'client' | 'fleet';
  stable: string;
  candidate: string;
  rule: ReleaseRule;
  evidence: Record<string, number | string | boolean | null>;
}

/** Shadow comparisons of one version pair on this client. */
export interface AgreementStats {
  stable: string;
  candidate: string;
  /** Runs compared. */
  compared: number;
  /** Of those, runs whose top-1 answer (argmax along the last axis, every row) differed. */
  disagreed: number;
  /** Largest absolute difference of any output element seen. */
  maxAbsDiff: number;
  /** Smallest and mean cosine similarity of the outputs (flattened) per run. */
  minCosine: number;
  meanCosine: number;
  /** Shadow runs not started because the page was busy or one was still running. */
  skipped: number;
}

/** What a release model is doing (see `ReleasedModel.release()`). Plain data. */
export interface ReleaseStatus {
  model: string;
  /** Stable version, and the version new runs go to now. */
  stable: string;
  serving: string;
  candidate: { version: string; mode: 'shadow' | 'canary'; fraction: number; state: 'loading' | 'ready' | 'not-in-cohort' | 'rolled-back' | 'refused' } | null;
  /** The version that served the last run, its role and why it was chosen. */
  lastRun: { version: string; role: 'stable' | 'candidate'; reason: string } | null;
  /** This client's canary bucket in [0, 1): it is in a canary when `bucket < fraction`. */
  bucket: number;
  agreement: AgreementStats[];
  incidents: ReleaseIncident[];
  /** The last failure to fetch or apply the manifest or a version (the model keeps serving). */
  lastError: { code: string; message: string; at: string } | null;
  /** Manifest fetches, version switches (blue-green), and the manifest's ETag. */
  polls: number;
  switches: number;
  etag: string | null;
}
