/**
 * webq8: serve quantized ONNX models in the browser — onnxruntime-web in a Worker, int8 matmuls
 * in webq8's own WGSL kernels. This module only re-exports the public API: every type that appears
 * in a public signature, and nothing else (API Extractor checks both; etc/webq8.api.md is the
 * report). Tools for profiling and hand-made plans are in `webq8/advanced`.
 */
export { createRuntime, Runtime } from './runtime/runtime';
export type { WorkerStats } from './runtime/runtime';
export { Model } from './runtime/model';
export type { ModelStats, RunStats, ServingStats } from './runtime/model';
export { ReleasedModel } from './runtime/released-model';
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
  WeightTooLargeError,
} from './errors';
export type { ErrorCode, WorkerFailure } from './errors';
export type {
  DType,
  DTypeArrays,
  TensorData,
  TensorLike,
  TensorMap,
  Backend,
  BackendRequest,
  ValueInfo,
  AdapterInfo,
  DeviceLimits,
  BackendDecision,
  ModelInfo,
  ModelMemory,
  ExternalDataInfo,
  ExternalDataSource,
  RuntimeOptions,
  ModelSource,
  ModelRef,
  ModelManifestRef,
  CacheMode,
  LoadPhase,
  CacheInfo,
  LoadOptions,
  WarmupOptions,
  WarmupInfo,
  RunOptions,
  FinishReason,
  SamplingOptions,
  GenerateOptions,
  Priority,
  ServingOptions,
  StrategyRequest,
  StrategyDecision,
  KernelPattern,
  Fallback,
  KernelPlacement,
  Placement,
  ReleaseRef,
  ReleaseStatus,
  ReleaseIncident,
  ReleaseRule,
  AgreementStats,
} from './types';
export type { VerifyOptions, VerifyInfo, VerifiedOutput, DivergeAction, ServiceVerifyStats, VerifyIncident } from './verify-types';
export type { Health, SloOptions } from './serving/slo';
export type { GaugeSnapshot, ShedReason } from './serving/gauges';
export type { RunCounters, RunPhases, GenerateCounters, GenerateBatching, RunStrategy } from './protocol';
// Types of `webq8/advanced` (profile, loadPlan): declared here once, so both entries share them.
export type { RunProfile, StepProfile } from './protocol';
export type { Plan, PlanStep, OrtStep, KernelStep, ExternalDataFile, ExternalRanges } from './graph/plan';
export type { ExternalSource } from './graph/onnx-model';
export type { KernelStepDef } from './kernels/registry';
export type { TelemetryOptions, TelemetryStats, ExportStats, LatencyMetric, SeriesAttributes, ResourceAttributes } from './telemetry';
export type { CacheEntryInfo, CacheUsage, EntrySelector, EntryState, HttpValidators, Sha256Hex } from './cache';
export { VERSION } from './version';
