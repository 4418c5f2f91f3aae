/**
 * An execution plan: what the worker runs for one model. Steps are in topological order; each
 * reads and writes named values. An `ort` step is a (sub-)model run by an ORT session; a `kernel`
 * step is one of webq8's WGSL kernels (src/kernels/registry.ts). A plain model is one `ort` step
 * ({@link ortPlan}); the partitioner (src/graph/partition.ts) produces plans that alternate the
 * two, with tensors handed between them as GPU buffers on ORT's device.
 */
import type { KernelStepDef } from '../kernels/registry';
import type { ValueInfo } from '../types';
import type { ExternalSource } from './onnx-model';

/** Runs an ONNX (sub-)model in ORT. `inputs`/`outputs` map the sub-model's names to plan value names. */
export interface OrtStep {
  kind: 'ort';
  /** Serialized ONNX model. */
  model: Uint8Array;
  /**
   * sub-model input name → plan value name. May be omitted (identity) only in a one-step plan:
   * the executor learns what a step reads from these maps before its session exists.
   */
  inputs?: Record<string, string>;
  /** sub-model output name → plan value name (identity when omitted). */
  outputs?: Record<string, string>;
  /**
   * The data files its tensors stored as ONNX external data read, by the `location` the model
   * names (`path`). Handed to ORT's `externalData` session option, which copies only the ranges
   * the sub-model's tensors name.
   */
  externalData?: ExternalDataFile[];
}

/**
 * One external data file of an ORT step: its `location` in the model (`path`), and its bytes, or
 * the ranges of a file read by ranges that make it up (read when the session is created). Plans
 * made by the Worker's streaming load use `ranges`; a plan passed to `loadPlan` crosses to the
 * Worker by structured clone, so it gives `data`.
 */
export type ExternalDataFile = { path: string; data: Uint8Array } | { path: string; ranges: ExternalRanges };

/**
 * An ORT step's data file made of ranges of another file (the weight-streaming load): `parts[i]`
 * copies `length` bytes from `offset` of `source` to `at`; the file is `bytes` long.
 */
export interface ExternalRanges {
  /** The file the ranges are read from. */
  source: ExternalSource;
  /** Each range: `length` bytes from `offset` of `source`, placed at `at`. */
  parts: { offset: number; length: number; at: number }[];
  /** The length of the file the parts make up. */
  bytes: number;
}

/** Runs a webq8 kernel on GPU tensors. */
export interface KernelStep extends KernelStepDef {
  kind: 'kernel';
  /** Plan value names read, in the kernel's input order. */
  inputs: string[];
  /** Plan value names written, in the kernel's output order. */
  outputs: string[];
}

/** One step of a {@link Plan}. */
export type PlanStep = OrtStep | KernelStep;

/** A whole plan. `inputs`/`outputs` are the model's graph inputs and outputs (plan value names). */
export interface Plan {
  inputs: string[];
  outputs: string[];
  steps: PlanStep[];
  /**
   * The graph inputs and outputs as the model declares them. The executor reads a value's type and
   * dims from the ORT session that takes or gives it; a value only kernel steps touch (an int8
   * plan that starts with DynamicQuantizeLinear on the input) is described from here.
   */
  declared?: ValueInfo[];
  /**
   * Leave the plan outputs on the GPU (WebGPU only): `generate` feeds a decoder's `present.*`
   * straight back as `past_key_values.*` and samples from `logits` there. `run` then reads them back.
   */
  outputsOnGpu?: boolean;
}

/**
 * The whole model as one ORT step. Its inputs and outputs are left empty: the executor takes them
 * from the session it creates (the model's own graph inputs and outputs).
 */
export function ortPlan(model: Uint8Array, externalData?: ExternalDataFile[]): Plan {
  return { inputs: [], outputs: [], steps: [{ kind: 'ort', model, ...(externalData?.length ? { externalData } : {}) }] };
}
