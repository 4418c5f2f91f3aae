/**
 * webq8: serve quantized ONNX models in the browser — onnxruntime-web in a Worker, int8 matmuls
 * in webq8's own WGSL kernels. This module only re-exports the public API.
 */
export { createRuntime, Runtime } from './runtime/runtime';
export { Model } from './runtime/model';
export type { RunStats } from './runtime/model';
export { TokenStream } from './runtime/token-stream';
export type { GenerateResult, GenerateStats } from './runtime/generate-types';
export {
  WebQ8Error,
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
} from './errors';
export type { ErrorCode, WorkerFailure } from './errors';
export type * from './types';
export type { Plan, PlanStep, OrtStep, KernelStep } from './graph/plan';
export type { RunCounters, RunPhases, GenerateCounters, GenerateBatching, RunProfile, RunStrategy, StepProfile } from './protocol';
export type { TelemetryStats, ExportStats, LatencyMetric } from './telemetry';
export type { CacheEntryInfo, CacheUsage, EntrySelector } from './cache';
export { VERSION } from './version';
