/**
 * A GPU kernel as data (tfjs-backend-webgpu's "program"): the WGSL, its override constants, and
 * the dispatch size. Host modules in src/kernels/ build programs; {@link GpuContext.dispatch} runs
 * them, compiling each (shader, constants) pair once.
 */
export interface Program {
  /** Identifies the shader source and variant; part of the pipeline-cache key. */
  shaderKey: string;
  /** Label for the pipeline and its bind group (shows up in WebGPU error messages). */
  label: string;
  /** WGSL source. */
  code: string;
  /** Entry point; default `main`. */
  entryPoint?: string;
  /** Values for the shader's `override` constants (tile and workgroup sizes). */
  constants?: Record<string, number>;
  /** Workgroups to dispatch in x, y, z. */
  workgroups: readonly [number, number?, number?];
}

/** A buffer bound to a program, optionally a sub-range (pooled buffers may be larger than the tensor). */
export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** Largest workgroup count per dimension WebGPU guarantees. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Splits `count` workgroups over x and y so neither exceeds the per-dimension limit; shaders
 * recover the linear index as `wid.x + wid.y * num_workgroups.x`.
 */
export function spreadWorkgroups(count: number): [number, number] {
  if (count <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, count), 1];
  const y = Math.ceil(count / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(count / y), y];
}
