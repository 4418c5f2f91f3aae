/**
 * Public data types. Tensors are ORT-compatible: any object with `type`, `dims` and `data`
 * (an `ort.Tensor` qualifies) can be fed, and outputs come back in that shape, so they can be
 * passed straight to `new ort.Tensor(out.type, out.data, out.dims)`.
 */
import type { Placement } from './graph/placement';

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
 * A model to load: a URL, its bytes, a URL with its expected SHA-256 (hex or SRI `sha256-<base64>`)
 * and labels, or the URL of a manifest JSON `{id, version, url, sha256, size}`.
 */
export type ModelSource =
  | string
  | URL
  | ArrayBuffer
  | Uint8Array
  | { url: string | URL; sha256?: string; size?: number; id?: string; version?: string }
  | { manifest: string | URL };

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
  cache?: 'default' | 'refresh' | 'bypass';
  /** Refuse to load a URL without an expected SHA-256 (`IntegrityRequiredError`). */
  requireIntegrity?: boolean;
  /**
   * Milliseconds the load may go without progress (bytes downloaded, a phase started) before it is
   * cancelled with a `LoadTimeoutError`. Default 120 000; `0` waits forever.
   */
  timeoutMs?: number;
}

/** Options of `model.run`. */
export interface RunOptions {
  /** Cancels the run. A run still queued never starts; a running one resolves into an `AbortError`. */
  signal?: AbortSignal;
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
}
