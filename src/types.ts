/**
 * Public data types. Tensors are ORT-compatible: any object with `type`, `dims` and `data`
 * (an `ort.Tensor` qualifies) can be fed, and outputs come back in that shape, so they can be
 * passed straight to `new ort.Tensor(out.type, out.data, out.dims)`.
 */

/** Element types webq8 accepts and returns (ONNX names as ORT spells them). */
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
}

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /**
   * URL of webq8's worker script. Default: `worker.js` next to webq8's own module, which is right
   * for the published package; override when your bundler moves files.
   */
  workerUrl?: string | URL;
  /**
   * Where onnxruntime-web's `.wasm`/`.mjs` files are served (a folder URL ending in `/`).
   * Default: the `ort/` folder next to the worker.
   */
  wasmPaths?: string;
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

/** What the weight cache did for a load. */
export interface CacheInfo {
  /** `hit` (read from IndexedDB), `miss` (downloaded and stored), `refreshed`, `bypassed`, or `none` (bytes given). */
  status: 'hit' | 'miss' | 'bypassed' | 'refreshed' | 'none';
  /** Why it was bypassed or re-fetched: `option`, `max-bytes`, `quota`, `unavailable`, `corrupt`. */
  reason?: string;
  detail?: string;
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
  /** Queue bound, deadlines, batching, replicas and SLO of this model (see {@link ServingOptions}). */
  serving?: ServingOptions;
}

/** Options of `model.run`. */
export interface RunOptions {
  /** Cancels the run. A run still queued never starts; a running one resolves into an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Milliseconds from now by which the answer is useful. If the estimated wait already exceeds it,
   * `run` rejects at once with `DeadlineExceededError`; a request still queued when it passes is
   * dropped (it never runs). A request already running is not stopped.
   */
  deadlineMs?: number;
  /** The same as an absolute time (`Date.now()` milliseconds); the earlier of the two applies. */
  deadline?: number;
  /** `'interactive'` (default) is served first; `'background'` waits behind it and is shed first under overload. */
  priority?: Priority;
}

/** Request priority: interactive requests are served first, background ones shed first. */
export type Priority = 'interactive' | 'background';

/**
 * Serving controls of a model (see README "Serving under load"). Every field is optional; the
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
  /** Latency and error objective; see `model.health()`. */
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
}

/** Which int8 pattern a kernel step replaced (see `model.info.placement`). */
export type KernelPattern = 'quantize_dynamic' | 'MatMulInteger' | 'QLinearMatMul' | 'qdq' | 'DynamicQuantizeLinear';

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
