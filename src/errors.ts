/**
 * Named errors with a stable `code`. Every error webq8 raises is a {@link WebQ8Error}; callers
 * may switch on `err.code`. The classes survive the worker boundary: `installErrorTransfer()`
 * replaces comlink's default `"throw"` handler (which keeps only name/message/stack) with one that
 * also carries `code` and `details` and rebuilds the right class on the other side.
 */

/**
 * The error table: every named error class and its stable code, in one place. {@link ErrorCode} is
 * derived from it, the worker-boundary transfer's class registry must name exactly these classes (the
 * compiler checks), and test/unit/errors.test.ts checks that each class raises its code here and that
 * docs/reference.md's table and the package's exports list exactly these classes. New codes may be
 * added; existing ones never change meaning.
 */
const ERROR_TABLE = {
  ModelLoadError: 'MODEL_LOAD_FAILED',
  ModelFormatError: 'MODEL_FORMAT',
  InputError: 'INPUT_INVALID',
  BackendUnavailableError: 'BACKEND_UNAVAILABLE',
  DisposedError: 'DISPOSED',
  AbortError: 'ABORTED',
  DeviceLostError: 'DEVICE_LOST',
  GpuError: 'GPU_ERROR',
  KernelError: 'KERNEL_INVALID',
  OverloadedError: 'OVERLOADED',
  DeadlineExceededError: 'DEADLINE_EXCEEDED',
  NotADecoderError: 'NOT_A_DECODER',
  ContextOverflowError: 'CONTEXT_OVERFLOW',
  IntegrityError: 'INTEGRITY',
  ExternalDataError: 'EXTERNAL_DATA',
  StorageQuotaError: 'STORAGE_QUOTA',
  IntegrityRequiredError: 'INTEGRITY_REQUIRED',
  ContentLengthError: 'CONTENT_LENGTH',
  CacheError: 'CACHE',
  ReleaseManifestError: 'RELEASE_MANIFEST',
  WorkerError: 'WORKER',
  LoadTimeoutError: 'LOAD_TIMEOUT',
  RuntimeCrashedError: 'RUNTIME_CRASHED',
  NumericsError: 'NUMERICS',
  WeightTooLargeError: 'WEIGHT_TOO_LARGE',
} as const;

/** Names of the named error classes (the keys of the error table). */
type ErrorName = keyof typeof ERROR_TABLE;

/**
 * Stable machine-readable error codes: those of the error table, and `INTERNAL` (a bug in webq8 or
 * below). Spelled out for the published types; the compiler checks it against the table both ways.
 */
export type ErrorCode =
  | 'MODEL_LOAD_FAILED'
  | 'MODEL_FORMAT'
  | 'INPUT_INVALID'
  | 'BACKEND_UNAVAILABLE'
  | 'DISPOSED'
  | 'ABORTED'
  | 'DEVICE_LOST'
  | 'GPU_ERROR'
  | 'KERNEL_INVALID'
  | 'INTERNAL'
  | 'INTEGRITY'
  | 'INTEGRITY_REQUIRED'
  | 'CONTENT_LENGTH'
  | 'CACHE'
  | 'OVERLOADED'
  | 'DEADLINE_EXCEEDED'
  | 'RELEASE_MANIFEST'
  | 'WORKER'
  | 'LOAD_TIMEOUT'
  | 'NOT_A_DECODER'
  | 'CONTEXT_OVERFLOW'
  | 'RUNTIME_CRASHED'
  | 'EXTERNAL_DATA'
  | 'STORAGE_QUOTA'
  | 'NUMERICS'
  | 'WEIGHT_TOO_LARGE';

/** Compiles only when {@link ErrorCode} names exactly the table's codes and `INTERNAL`. */
type ExactlyTheTable = [Exclude<ErrorCode, 'INTERNAL'>] extends [(typeof ERROR_TABLE)[ErrorName]]
  ? [(typeof ERROR_TABLE)[ErrorName]] extends [ErrorCode]
    ? true
    : never
  : never;
const exactlyTheTable: ExactlyTheTable = true;
void exactlyTheTable;

/** Base class of every webq8 error. */
export class WebQ8Error extends Error {
  /** Stable code; see {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** Structured, JSON-safe facts about the failure (URL, status, input name, ...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebQ8Error';
    this.code = code;
    this.details = details;
  }
}

/** The model could not be fetched (HTTP status, network error). `details.url`, `details.status`. */
export class ModelLoadError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.ModelLoadError, message, details, options);
    this.name = 'ModelLoadError';
  }
}

/** The bytes are not a valid ONNX model, or ORT refused to build a session from them. */
export class ModelFormatError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.ModelFormatError, message, details, options);
    this.name = 'ModelFormatError';
  }
}

/** A feed is missing, unknown, or has the wrong dtype or shape. `details.input` names it. */
export class InputError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.InputError, message, details);
    this.name = 'InputError';
  }
}

/** A backend was forced (`backend: 'webgpu'`) but this browser or device cannot provide it. */
export class BackendUnavailableError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.BackendUnavailableError, message, details, options);
    this.name = 'BackendUnavailableError';
  }
}

/** The model or runtime was disposed before or during the call. */
export class DisposedError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.DisposedError, message, details);
    this.name = 'DisposedError';
  }
}

/** The caller aborted the request through its `AbortSignal`. */
export class AbortError extends WebQ8Error {
  constructor(message = 'The run was aborted by its AbortSignal.', details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.AbortError, message, details);
    this.name = 'AbortError';
  }
}

/** The GPUDevice was lost while a request was in flight; the next request rebuilds GPU state. */
export class DeviceLostError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.DeviceLostError, message, details);
    this.name = 'DeviceLostError';
  }
}

/** WebGPU reported a validation or out-of-memory error for one of webq8's own kernels. */
export class GpuError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.GpuError, message, details);
    this.name = 'GpuError';
  }
}

/** A kernel was called with arguments it cannot handle (shape, dtype, size limits). */
export class KernelError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.KernelError, message, details);
    this.name = 'KernelError';
  }
}

/**
 * The model's queue is full (`serving.maxQueue`), or the request was displaced by a more urgent one:
 * the request never ran. Back off, lower the request rate, or raise `maxQueue`.
 * `details`: `queueLength`, `estimatedWaitMs`, `reason` (`'queue-full'` or `'displaced'`).
 */
export class OverloadedError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.OverloadedError, message, details);
    this.name = 'OverloadedError';
  }
}

/**
 * The request's deadline (`deadlineMs` / `deadline`) could not be met: either the estimated wait
 * already exceeded it when `run()` was called, or it passed while the request was queued. The request
 * never ran. `details`: `deadlineMs`, `estimatedWaitMs` or `waitedMs`.
 */
export class DeadlineExceededError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.DeadlineExceededError, message, details);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * `model.generate()` was called on a model without the inputs and outputs of an ONNX decoder export
 * (`input_ids`, `attention_mask`, optional `position_ids`, `past_key_values.{i}.key|value` →
 * `logits`, `present.{i}.key|value`). `details`: `missing`, `unexpected` (names), `expected` (the
 * convention, in words).
 */
export class NotADecoderError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.NotADecoderError, message, details);
    this.name = 'NotADecoderError';
  }
}

/**
 * A generation would hold more tokens than its `maxContext` (prompt + `maxNewTokens`); nothing ran.
 * `details`: `promptTokens`, `maxNewTokens`, `maxContext`.
 */
export class ContextOverflowError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.ContextOverflowError, message, details);
    this.name = 'ContextOverflowError';
  }
}

/**
 * The model bytes do not match the expected SHA-256 (or the expected hash is malformed). The bytes
 * were neither cached nor returned. `details.url`, `details.expected`, `details.actual`.
 */
export class IntegrityError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.IntegrityError, message, details);
    this.name = 'IntegrityError';
  }
}

/**
 * An external data file of the model (ONNX `external_data`) is missing, truncated, or does not fit
 * the tensor that names it. `details.file` (the location the model names), `details.tensor`,
 * `details.reason`: `missing` | `truncated` | `mismatch` | `location` (a path outside the model's folder).
 * Nothing of the load stays in the weight cache.
 */
export class ExternalDataError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.ExternalDataError, message, details, options);
    this.name = 'ExternalDataError';
  }
}

/**
 * The weight cache's storage cannot hold the model (`navigator.storage.estimate()` before the
 * download). `details.needed` and `details.available` in bytes, `details.url`.
 */
export class StorageQuotaError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.StorageQuotaError, message, details);
    this.name = 'StorageQuotaError';
  }
}

/** `requireIntegrity` is set but the model source carries no expected hash. `details.url`. */
export class IntegrityRequiredError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.IntegrityRequiredError, message, details);
    this.name = 'IntegrityRequiredError';
  }
}

/**
 * The body length differs from the declared `Content-Length` (or the expected size), even after
 * resuming. `details.url`, `details.expected`, `details.received`.
 */
export class ContentLengthError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.ContentLengthError, message, details);
    this.name = 'ContentLengthError';
  }
}

/**
 * A cache management call (`list`, `delete`, `clear`, `usage`) failed, e.g. IndexedDB is
 * unavailable. Loads never raise it: they fall back to the network (`cache: 'bypassed'`).
 */
export class CacheError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.CacheError, message, details, options);
    this.name = 'CacheError';
  }
}

/**
 * A release manifest is malformed: not JSON, too large, or a field missing or out of range. The
 * model keeps serving what it served. `details.url`, `details.field` (e.g. `'candidate.fraction'`).
 */
export class ReleaseManifestError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.ReleaseManifestError, message, details);
    this.name = 'ReleaseManifestError';
  }
}

/** Why a {@link WorkerError} was raised (`details.reason`). */
export type WorkerFailure =
  /** The Worker script did not load or run: HTTP error, wrong MIME type, syntax error. Fatal. */
  | 'start-failed'
  /** The Worker stopped (crashed, ran out of memory, was terminated). Fatal. */
  | 'crashed'
  /** Code in the Worker threw outside any request; the calls in flight were rejected. */
  | 'uncaught-error'
  /** A reply could not be deserialized (`messageerror`); the calls in flight were rejected. */
  | 'message-error'
  /** onnxruntime-web's `.mjs`/`.wasm` are missing or are not what they should be at their URL. */
  | 'ort-assets'
  /** onnxruntime-web failed to initialise although its files were found (e.g. a version mismatch). */
  | 'ort-init';

/**
 * webq8's Worker, or onnxruntime-web inside it, cannot serve requests. `details.reason` says why
 * (see {@link WorkerFailure}), `details.url` names what failed to load, and `details.fatal` is
 * `true` when the runtime is unusable: every later call rejects the same way, and the fix is a
 * new runtime (`createRuntime()`, then load the models again). The runtime does not restart a
 * dead Worker itself, because the models loaded in it are gone with it.
 */
export class WorkerError extends WebQ8Error {
  constructor(
    message: string,
    details: Record<string, unknown> & { reason?: WorkerFailure; url?: string; fatal?: boolean } = {},
    options?: { cause?: unknown },
  ) {
    super(ERROR_TABLE.WorkerError, message, details, options);
    this.name = 'WorkerError';
  }
}

/**
 * `runtime.load` made no progress (no bytes downloaded, no phase started) for `timeoutMs`
 * (see `LoadOptions.timeoutMs`): a stalled server, or a Worker that never answers. The load was
 * cancelled. `details.timeoutMs`, `details.phase` (the last phase reached, if any).
 */
export class LoadTimeoutError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.LoadTimeoutError, message, details);
    this.name = 'LoadTimeoutError';
  }
}

/**
 * onnxruntime-web's WebAssembly instance in a Worker aborted (a trap such as `memory access out of
 * bounds`, or `Aborted(...)`): every request in flight on that Worker fails with this error. The
 * instance cannot be used again, so webq8 replaces the Worker and loads its models again (from the
 * weight cache) before their next request; the models' handles keep working, and you may retry.
 * `details.trap` is the original message; `details.modelId` the model whose request saw it.
 */
export class RuntimeCrashedError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ERROR_TABLE.RuntimeCrashedError, message, details, options);
    this.name = 'RuntimeCrashedError';
  }
}

/**
 * The GPU plan's answers diverged from ORT's WASM EP on this device at load, and the load asked to
 * fail (`verify.onDiverge: 'error'`). `details.output`, `details.metric`, `details.value`,
 * `details.tolerance`, `details.adapter`. Load with `onDiverge: 'fallback'` (the default) to serve
 * the model from WASM instead, or with `backend: 'wasm'`.
 */
export class NumericsError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.NumericsError, message, details);
    this.name = 'NumericsError';
  }
}

/**
 * A kernel weight cannot be split finely enough for this GPU: one block of 4 of its columns (all its
 * K rows) is larger than the largest storage binding (or buffer) the device allows, so even a split
 * weight cannot be bound. `details.op`, `details.dims`, `details.blockBytes` (one 4-column block),
 * `details.limit` and `details.limitName`. The load keeps plain ORT and says so in
 * `model.info.strategy.reason`; on such a device load the model with `backend: 'wasm'`.
 */
export class WeightTooLargeError extends WebQ8Error {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_TABLE.WeightTooLargeError, message, details);
    this.name = 'WeightTooLargeError';
  }
}

/** The class registry of the worker-boundary transfer: exactly the classes of the error table. */
const classes: { readonly [N in ErrorName]: new (message: string, details: Record<string, unknown>) => WebQ8Error } = {
  ModelLoadError,
  ModelFormatError,
  InputError,
  BackendUnavailableError,
  DisposedError,
  AbortError,
  DeviceLostError,
  GpuError,
  KernelError,
  IntegrityError,
  IntegrityRequiredError,
  ContentLengthError,
  CacheError,
  OverloadedError,
  DeadlineExceededError,
  ReleaseManifestError,
  WorkerError,
  LoadTimeoutError,
  NotADecoderError,
  ContextOverflowError,
  RuntimeCrashedError,
  ExternalDataError,
  StorageQuotaError,
  NumericsError,
  WeightTooLargeError,
};

/** The plain-object form of an error as it crosses `postMessage`. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  details?: Record<string, unknown>;
}

/** Turns any thrown value into a structured-clone-safe object. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof WebQ8Error) {
    return { name: err.name, message: err.message, stack: err.stack, code: err.code, details: jsonSafe(err.details) };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** Rebuilds the error class from its serialized form (the inverse of {@link serializeError}). */
export function deserializeError(s: SerializedError): Error {
  const Ctor = Object.hasOwn(classes, s.name) ? classes[s.name as ErrorName] : undefined;
  let err: Error;
  if (Ctor) {
    err = new Ctor(s.message, s.details ?? {});
  } else if (s.code) {
    err = new WebQ8Error(s.code, s.message, s.details ?? {});
    err.name = s.name;
  } else {
    err = new Error(s.message);
    err.name = s.name;
  }
  if (s.stack) err.stack = s.stack;
  return err;
}

function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
