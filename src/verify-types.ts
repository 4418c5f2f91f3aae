/** Types of load-time verification against ORT's WASM EP (see `LoadOptions.verify`, docs/verify.md). */
import type { TensorMap } from './types';

/** What to do when the GPU plan and ORT's WASM EP disagree at load. */
export type DivergeAction = 'fallback' | 'error' | 'report';

/** Load-time verification of the GPU plan against ORT's WASM EP (see `docs/verify.md`). */
export interface VerifyOptions {
  /** Shapes of the synthetic inputs by input name, as in `WarmupOptions.shapes`. */
  shapes?: Record<string, readonly number[]>;
  /** Inputs used as given (a sample rate, token ids), as in `WarmupOptions.feeds`; the others are seeded random. */
  feeds?: TensorMap;
  /**
   * Steps compared. With more than one, each step's outputs are fed back to the inputs they name
   * (`stateN` → `state`, `present…` → `past…`, `hn` → `h`), so recurrent state is checked over time. Default 1.
   */
  runs?: number;
  /**
   * Largest relative L2 error a float output may have. Default 1e-3, or 3e-2 when the plan
   * quantizes activations at run time (DynamicQuantizeLinear: one flipped rounding moves an element).
   */
  tolerance?: number;
  /** `'fallback'` (default) serves the model from WASM; `'error'` rejects the load with `NumericsError`; `'report'` keeps the GPU plan. */
  onDiverge?: DivergeAction;
  /** Models larger than this (bytes) are not verified by default (the WASM reference holds a second copy). Default 256 MiB. */
  maxBytes?: number;
  /** Seed of the synthetic inputs. Default 1. */
  seed?: number;
  /**
   * Verification in service: this fraction of production runs (e.g. 0.01) is run again on a WASM
   * reference session in the Worker's idle time, after the answer was sent. Default 0 (off).
   */
  sampleRate?: number;
  /** Sampled runs (copies of their feeds and outputs) waiting for idle time; more are dropped. Default 4. */
  maxPending?: number;
}

/** Sampled verification of production runs so far (see `VerifyOptions.sampleRate`, docs/verify.md). */
export interface ServiceVerifyStats {
  sampleRate: number;
  /** Samples compared with the WASM reference. */
  checked: number;
  agreed: number;
  diverged: number;
  /** Samples not checked: the pending queue was full, or the model was busy until it was disposed. */
  dropped: number;
  /** Samples waiting for idle time. */
  pending: number;
  /** The worst output of any check so far (largest value relative to its tolerance), or null. */
  worst: VerifiedOutput | null;
  /** Divergences by output name. */
  divergedOutputs: Record<string, number>;
  /** Why the last divergence happened and what was done, when one did. */
  lastDivergence?: string;
  /** The worst failing output of the last check that diverged (what the incident reports), when one did. */
  lastDiverged?: VerifiedOutput;
}

/** One compared output: the metric, its value and the tolerance it was held to. */
export interface VerifiedOutput {
  name: string;
  /**
   * `relL2` (float: ‖gpu − wasm‖ / ‖wasm‖ over elements finite in both), `nonFinite` (elements whose
   * NaN/±Inf status differs), `mismatch` (integer/bool elements that differ), `shape` (another shape
   * or type, or missing), `error` (the GPU plan threw where WASM answered; `detail` says what).
   */
  metric: 'relL2' | 'nonFinite' | 'mismatch' | 'shape' | 'error';
  value: number;
  tolerance: number;
  /** Which step of a multi-run check (0-based). */
  step: number;
  /** The GPU plan's error message (metric `error`). */
  detail?: string;
}

/** What load-time verification found. */
export interface VerifyInfo {
  /** `agreed`: within tolerance; `diverged`: an output was not; `skipped`: not checked (see `reason`). */
  status: 'agreed' | 'diverged' | 'skipped';
  reason: string;
  /** The worst step of each output (all of them when agreed; empty when skipped). */
  outputs: VerifiedOutput[];
  /** Milliseconds the check added to the load. */
  ms: number;
  /** What was done about a divergence. */
  action?: DivergeAction;
  /** Sampled verification in service, as of the model's last answer (with `verify.sampleRate`). */
  service?: ServiceVerifyStats;
}

/**
 * A divergence found in service, as webq8 reports it to the telemetry endpoint's collector
 * (`POST <endpoint>/api/verify/incidents`, JSON): one per model version and output on each page,
 * the first time that output diverges (later ones are counted in `webq8.verify.divergences`).
 */
export interface VerifyIncident {
  /** What found it: verification in service. */
  kind: 'verify';
  /** Shared with release incidents: the GPU plan's numbers are wrong on this device. */
  rule: 'numerics';
  /** `'client'`: found on this device. */
  scope: 'client';
  /** ISO time. */
  at: string;
  /** The model id, as in telemetry (`webq8.model.id`). */
  model: string;
  /** The release version, when the model is followed as a release. */
  version?: string;
  /** The worst failing output of the check, its metric, value and tolerance. */
  output: string;
  /** The metric that failed (`mismatch` for a generation's tokens). */
  metric: VerifiedOutput['metric'];
  /** Its value, and the largest value that passes. */
  value: number;
  tolerance: number;
  /** The backend serving the model after the divergence (`'wasm'` after `onDiverge: 'fallback'`). */
  backend: string;
  /** The WebGPU adapter's vendor and architecture (`GPUAdapterInfo`). */
  adapterVendor?: string;
  adapterArchitecture?: string;
  /** Browser name and major version (`'Chrome 156'`). */
  browser?: string;
  /** The webq8 library version. */
  webq8Version?: string;
  /** Checks and divergences of the model on this page as of the report. */
  checked: number;
  diverged: number;
}
