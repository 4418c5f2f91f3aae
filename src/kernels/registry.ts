/**
 * Kernel steps of an execution plan, by op name. A factory prepares a kernel once at load (it may
 * upload and prepack constant weights); the prepared kernel then runs per request on GPU tensors.
 * The plan executor (src/worker/executor.ts) only knows this interface.
 */
import { KernelError } from '../errors';
import type { DType, TensorLike } from '../types';
import type { GpuContext } from './gpu-context';

/** A tensor resident in a GPU buffer. `buffer.size` may exceed the tensor's bytes (pooled). */
export interface GpuTensor {
  buffer: GPUBuffer;
  type: DType;
  dims: number[];
}

/** What a plan says about one kernel step. */
export interface KernelStepDef {
  /** Registered op name, e.g. `affine`. */
  op: string;
  /** JSON-safe attributes. */
  attrs: Record<string, unknown>;
  /** Constant inputs (weights), prepared once at load. */
  constants?: Record<string, TensorLike>;
}

/** How one run asks kernels to deviate from the plain operator (the executor passes it to every step). */
export interface KernelRunOptions {
  /**
   * `DynamicQuantizeLinear` quantizes each slice of its input's first dimension on its own (and the
   * matmuls reading it take one scale and zero point per slice): a batched decode step, where each
   * slice is one sequence, so each gets the bits it would get alone. Off: ONNX's per-tensor operator.
   */
  quantizePerSlice?: boolean;
}

/** A kernel ready to run. Output buffers come from `ctx.buffers`; the executor releases them. */
export interface PreparedKernel {
  run(inputs: GpuTensor[], options?: KernelRunOptions): GpuTensor[];
  /** Frees prepacked weights. */
  dispose(): void;
}

/** Prepares a {@link KernelStepDef} on a context. */
export type KernelFactory = (ctx: GpuContext, def: KernelStepDef) => PreparedKernel;

const factories = new Map<string, KernelFactory>();

/** Registers (or replaces) the factory of `op`. webq8's own ops come from `registerBuiltinKernels()`. */
export function registerKernel(op: string, factory: KernelFactory): void {
  factories.set(op, factory);
}

/** Whether a factory is registered for `op`. */
export function hasKernel(op: string): boolean {
  return factories.has(op);
}

/** Prepares `def`, or throws {@link KernelError} naming the known ops. */
export function prepareKernel(ctx: GpuContext, def: KernelStepDef): PreparedKernel {
  const factory = factories.get(def.op);
  if (!factory) throw new KernelError(`Unknown kernel op "${def.op}". Known ops: ${[...factories.keys()].join(', ')}.`, { op: def.op });
  return factory(ctx, def);
}

/** Element count of `dims`. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
