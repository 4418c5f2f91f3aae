/**
 * `webq8/kernels`: webq8's WGSL kernels and the machinery that runs them, usable on any GPUDevice
 * (the runtime uses onnxruntime-web's). Low-level and semver-experimental until 1.0.
 */
export { GpuContext, STORAGE_USAGE, BufferUsage, align } from './gpu-context';
export type { GpuContextOptions, GpuCounters } from './gpu-context';
export { BufferPool, sizeClass } from './buffer-pool';
export { PipelineCache, pipelineKey } from './pipeline-cache';
export { spreadWorkgroups, MAX_WORKGROUPS_PER_DIM } from './program';
export type { Program, BufferBinding } from './program';
export { affine, affineProgram } from './affine';
export type { AffineAttrs } from './affine';
export { registerKernel, prepareKernel, elementCount } from './registry';
export type { GpuTensor, KernelStepDef, PreparedKernel, KernelFactory } from './registry';
