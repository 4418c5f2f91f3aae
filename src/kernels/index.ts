/**
 * `webq8/kernels`: webq8's WGSL kernels and the machinery that runs them, usable on any GPUDevice
 * (the runtime uses onnxruntime-web's). Low-level and semver-experimental until 1.0.
 */
export { GpuContext, STORAGE_USAGE, BufferUsage, align } from './gpu-context';
export type { GpuContextOptions, GpuCounters, GpuResourceCounts, RecordOptions } from './gpu-context';
export { BufferPool, sizeClass, DEFAULT_POOL_MAX_IDLE_BYTES, DEFAULT_POOL_IDLE_MS } from './buffer-pool';
export type { BufferPoolOptions } from './buffer-pool';
export type { DeviceResourceCounts } from './gpu-resources';
export { PipelineCache, pipelineKey } from './pipeline-cache';
export { BindingCache } from './binding-cache';
export { spreadWorkgroups, MAX_WORKGROUPS_PER_DIM } from './program';
export type { Program, BufferBinding } from './program';
export { affine, affineProgram } from './affine';
export type { AffineAttrs } from './affine';
export { registerKernel, prepareKernel, elementCount } from './registry';
export type { GpuTensor, KernelStepDef, PreparedKernel, KernelFactory, KernelRunOptions } from './registry';
export { dynamicQuantizeLinear, dynamicQuantizePrograms, dynamicQuantizeSmallProgram, DQL_SMALL_MAX } from './dynamic-quantize';
export { dynamicQuantizeSlices, dqlWorkgroupSize } from './dynamic-quantize';
export type { DynamicQuantizeResult } from './dynamic-quantize';
export { packInt8Weights, uploadInt8Weights } from './int8-weights';
export type { PackedInt8Weights, GpuInt8Weights, GpuInt8Part } from './int8-weights';
export { planWeightParts, weightPartLimit, forceWeightPartLimit } from './weight-parts';
export type { WeightPart, WeightShape } from './weight-parts';
export { int8Matmul, int8MatmulProgram, hasDp4a, resolveVariant, defaultInt8Kernel, isEmulatedAdapter, int8KernelName, zeroBuffer } from './int8-matmul';
export type { Int8Variant, Int8VariantRequest, Int8Kernel, Int8Epilogue, Int8Activation, Int8MatmulArgs, Int8MatmulOutput } from './int8-matmul';
export { tuneInt8Matmul, chooseInt8Kernel, int8KernelChoices, int8ShapeClass, int8Candidates, setInt8KernelOverride } from './int8-tuning';
export { adapterDefaultKernel, deviceFacts, gpuInt8Kernel, int8AdapterClass, int8Variants } from './int8-defaults';
export type { Int8AdapterClass, Int8AdapterFacts } from './int8-defaults';
export { autoSplits, int8GpuProgram, splitKFinishProgram, SPLITK_TARGET_WORKGROUPS } from './int8-gpu-loops';
export type { Int8GpuFields, Int8GpuKernel, Int8ProgramShape } from './int8-gpu-loops';
export type { Int8ShapeClass, Int8Choice, Int8Measurement } from './int8-tuning';
export { INT8_OPS, INT8_KERNELS } from './int8-ops';
export type { Int8Op } from './int8-ops';
export { registerBuiltinKernels, BUILTIN_KERNELS } from './builtins';
export { convGeometry } from './conv-math';
export type { ConvAttrs, ConvGeometry } from './conv-math';
export { convIntegerRef } from './conv-reference';
export { int8Conv, int8ConvProgram, uploadConvWeights, defaultConvKernel } from './int8-conv';
export type { Int8ConvKernel, Int8ConvEpilogue, Int8ConvArgs, Int8ConvOutput, GpuConvWeights } from './int8-conv';
export { CONV_KERNELS } from './conv-ops';
export { packWeightOnly, uploadWeightOnly, w8a32Matmul, w8a32Program, w8a32Ref, chunkRows } from './w8a32';
export type { WeightOnlyMatrix, PackedWeightOnly, GpuWeightOnly, GpuWeightOnlyPart } from './w8a32';
export { sampleTokens, sampleProgram, packSampleParams } from './sample';
export { sampleRow, topCandidates, seededUniform, MAX_TOP_K } from './sample-math';
export type { SampleParams } from './sample-math';
export {
  roundHalfEven,
  saturate,
  dynamicQuantizeLinearRef,
  matMulIntegerRef,
  dequantizeRef,
  qlinearMatMulRef,
  requantMultiplier,
  matmulShape,
  zeroPointAt,
} from './reference';
export type { Int8Type, DynamicQuantized, IntTensor, ZeroPoints, MatmulShape, DequantParams, QLinearParams } from './reference';
// Types the kernel signatures use (structural: interchangeable with the main entry's).
export type { DType, DTypeArrays, TensorData, TensorLike } from '../types';
