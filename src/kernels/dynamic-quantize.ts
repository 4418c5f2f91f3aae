/**
 * Host side of DynamicQuantizeLinear: float32 → uint8 + scale + zero point, per tensor, in three
 * dispatches with nothing read back (shaders/dynamic-quantize-minmax.wgsl → partial ranges,
 * dynamic-quantize-params.wgsl → scale and zero point, dynamic-quantize.wgsl → y; each with
 * dynamic-quantize-common.wgsl), or, for small tensors, in one (dynamic-quantize-small.wgsl).
 * Bit-exact with ONNX's reference (`dynamicQuantizeLinearRef`) whatever the workgroup size: min and
 * max are exact, and each element is quantized on its own.
 */
import minmaxCode from '../../shaders/dynamic-quantize-minmax.wgsl?raw';
import commonCode from '../../shaders/dynamic-quantize-common.wgsl?raw';
import paramsCode from '../../shaders/dynamic-quantize-params.wgsl?raw';
import quantizeCode from '../../shaders/dynamic-quantize.wgsl?raw';
import smallCode from '../../shaders/dynamic-quantize-small.wgsl?raw';
import slicesCode from '../../shaders/dynamic-quantize-slices.wgsl?raw';
import { KernelError } from '../errors';
import { STORAGE_USAGE, type GpuContext } from './gpu-context';
import { isEmulatedAdapter } from './int8-matmul';
import { MAX_WORKGROUPS_PER_DIM, spreadWorkgroups, type Program } from './program';
import { packUniforms, type UniformLayout } from './uniforms';

/** `Params` of dynamic-quantize-common.wgsl. */
const PARAMS = [
  ['n', 'u32'],
  ['chunk', 'u32'],
  ['parts', 'u32'],
  ['words', 'u32'],
] as const satisfies UniformLayout;

const WG = 256;
/** Elements per min/max workgroup at least; beyond 256 workgroups the chunks grow instead. */
const MIN_CHUNK = 4096;
const MAX_PARTS = 256;
/**
 * Up to this many elements, one fused single-workgroup dispatch (dynamic-quantize-small.wgsl)
 * replaces the three passes. Measured on SwiftShader (2 cores): a dispatch costs ≈ 0.2 ms of
 * overhead; one pass vs three took 0.36 vs 1.2 ms at 768 elements and 1.25 vs 2.0–3.4 ms at 12288.
 */
export const DQL_SMALL_MAX = 16384;
/** Workgroup size of the one-workgroup passes on emulated adapters: on SwiftShader 64 beat 256 (0.36 vs 0.76 ms at 768 elements; fewer barrier participants). */
const SMALL_WG_EMULATED = 64;

/**
 * Workgroup size of the one-workgroup passes (a small tensor, or one slice per workgroup) on
 * `device`: 64 on emulated adapters (SwiftShader), 256 on real GPUs, where the decode step's
 * activations (one row of K = 768–4096) are the whole pass and one 64-thread workgroup would leave
 * the compute unit mostly idle: 256 threads read 4× as much in flight. Any power of two up to 256
 * gives the same bits.
 */
export function dqlWorkgroupSize(device: GPUDevice): number {
  return isEmulatedAdapter(device) ? SMALL_WG_EMULATED : WG;
}

/** Refuses a workgroup size the shaders' tree reduction cannot take (not a power of two, or above 256). */
function checkWorkgroup(wg: number): void {
  if (!Number.isInteger(wg) || wg < 1 || wg > WG || (wg & (wg - 1)) !== 0)
    throw new KernelError(`DynamicQuantizeLinear: a workgroup of ${wg} invocations; pass a power of two from 1 to ${WG}.`, { wg });
}

/** The three outputs of DynamicQuantizeLinear, each in its own pooled buffer the caller owns. */
export interface DynamicQuantizeResult {
  /** uint8 elements, 4 per word, zero-padded to a multiple of 4 bytes. */
  y: GPUBuffer;
  /** One float32: `y_scale`. */
  scale: GPUBuffer;
  /** One uint8 (in a 4-byte word): `y_zero_point`. */
  zeroPoint: GPUBuffer;
}

/** The single-dispatch program for `n` ≤ {@link DQL_SMALL_MAX} elements, `wg` invocations (a power of two ≤ 256; exposed for tests and benchmarks). */
export function dynamicQuantizeSmallProgram(wg = SMALL_WG_EMULATED): Program {
  return { shaderKey: 'dql-small', label: 'webq8:dql.small', code: `${smallCode}\n${commonCode}`, constants: { WG: wg }, workgroups: [1] };
}

/** The three programs for `n` elements (exposed for tests and benchmarks). */
export function dynamicQuantizePrograms(n: number): { minmax: Program; params: Program; quantize: Program; parts: number; chunk: number } {
  const parts = Math.min(MAX_PARTS, Math.ceil(n / MIN_CHUNK));
  const chunk = Math.ceil(n / parts);
  return {
    parts,
    chunk,
    minmax: { shaderKey: 'dql-minmax', label: 'webq8:dql.minmax', code: `${minmaxCode}\n${commonCode}`, constants: { WG }, workgroups: [parts] },
    params: { shaderKey: 'dql-params', label: 'webq8:dql.params', code: `${paramsCode}\n${commonCode}`, constants: { WG }, workgroups: [1] },
    quantize: {
      shaderKey: 'dql-quantize',
      label: 'webq8:dql.quantize',
      code: `${quantizeCode}\n${commonCode}`,
      constants: { WG },
      workgroups: spreadWorkgroups(Math.ceil(Math.ceil(n / 4) / WG)),
    },
  };
}

/**
 * Quantizes `n` float32 elements of `x` (ONNX DynamicQuantizeLinear). Non-finite inputs follow the
 * NaN/Inf policy documented in src/kernels/reference.ts. Release the results to `ctx.buffers`.
 * Up to `smallMax` elements (default {@link DQL_SMALL_MAX}; 0 forces the three passes) it runs as
 * one dispatch of `wg` invocations (default {@link dqlWorkgroupSize}); every path gives identical bits.
 */
export function dynamicQuantizeLinear(
  ctx: GpuContext,
  x: GPUBuffer,
  n: number,
  smallMax = DQL_SMALL_MAX,
  wg = dqlWorkgroupSize(ctx.device),
): DynamicQuantizeResult {
  if (!Number.isInteger(n) || n <= 0) throw new KernelError(`DynamicQuantizeLinear: the input has ${n} elements, and it needs at least one.`, { n });
  if (x.size < n * 4) throw new KernelError(`DynamicQuantizeLinear: the input buffer holds ${x.size} bytes, and ${n} float32 elements need ${n * 4}.`, { n });
  checkWorkgroup(wg);
  const y = ctx.buffers.acquire(Math.ceil(n / 4) * 4, STORAGE_USAGE, 'dql.y');
  const scale = ctx.buffers.acquire(4, STORAGE_USAGE, 'dql.scale');
  const zeroPoint = ctx.buffers.acquire(4, STORAGE_USAGE, 'dql.zero_point');
  const xb = { buffer: x, size: n * 4 };
  if (n <= smallMax) {
    ctx.dispatch(dynamicQuantizeSmallProgram(wg), [xb, scale, zeroPoint, y], packUniforms(PARAMS, { n, chunk: n, parts: 1, words: Math.ceil(n / 4) }));
    return { y, scale, zeroPoint };
  }
  const p = dynamicQuantizePrograms(n);
  const partials = ctx.buffers.acquire(p.parts * 8, STORAGE_USAGE, 'dql.partials');
  const params = packUniforms(PARAMS, { n, chunk: p.chunk, parts: p.parts, words: Math.ceil(n / 4) });
  ctx.dispatch(p.minmax, [xb, { buffer: partials, size: p.parts * 8 }], params);
  ctx.dispatch(p.params, [{ buffer: partials, size: p.parts * 8 }, scale, zeroPoint], params);
  ctx.dispatch(p.quantize, [xb, scale, zeroPoint, y], params);
  // Safe to pool right away: later uses of the buffer are ordered after this submit.
  ctx.buffers.release(partials);
  return { y, scale, zeroPoint };
}

/** The per-slice program (dynamic-quantize-slices.wgsl): one workgroup of `wg` invocations per slice. */
function dynamicQuantizeSlicesProgram(slices: number, wg: number): Program {
  return { shaderKey: 'dql-slices', label: 'webq8:dql.slices', code: `${slicesCode}\n${commonCode}`, constants: { WG: wg }, workgroups: [slices] };
}

/**
 * Quantizes each of `slices` consecutive runs of `n` float32 elements of `x` on its own (its own
 * scale and zero point): `scale` holds `slices` float32, `zeroPoint` `slices` bytes (4 per word).
 * Slice s equals {@link dynamicQuantizeLinear} of those `n` elements alone, bit for bit. For the
 * batched decode step, where each slice is one sequence's activations. Each slice is one workgroup
 * of `wg` invocations (default {@link dqlWorkgroupSize}). Release the results to `ctx.buffers`.
 */
export function dynamicQuantizeSlices(ctx: GpuContext, x: GPUBuffer, slices: number, n: number, wg = dqlWorkgroupSize(ctx.device)): DynamicQuantizeResult {
  if (!Number.isInteger(n) || n <= 0) throw new KernelError(`DynamicQuantizeLinear per slice: a slice has ${n} elements, and it needs at least one.`, { n });
  if (!Number.isInteger(slices) || slices < 1 || slices > MAX_WORKGROUPS_PER_DIM)
    throw new KernelError(`DynamicQuantizeLinear per slice: ${slices} slices; pass 1 to ${MAX_WORKGROUPS_PER_DIM}.`, { slices });
  checkWorkgroup(wg);
  const total = slices * n;
  if (x.size < total * 4)
    throw new KernelError(`DynamicQuantizeLinear per slice: the input buffer holds ${x.size} bytes, and ${total} float32 elements need ${total * 4}.`, {
      n,
      slices,
    });
  const words = Math.ceil(total / 4);
  const y = ctx.buffers.acquire(words * 4, STORAGE_USAGE, 'dql.y');
  const scale = ctx.buffers.acquire(slices * 4, STORAGE_USAGE, 'dql.scale');
  const zpBytes = Math.ceil(slices / 4) * 4;
  const zeroPoint = ctx.buffers.acquire(zpBytes, STORAGE_USAGE, 'dql.zero_point');
  // Bytes are OR-ed in atomically, so the (pooled, stale) buffers must start at zero.
  ctx.clear(y, words * 4);
  ctx.clear(zeroPoint, zpBytes);
  const params = packUniforms(PARAMS, { n, chunk: n, parts: slices, words });
  ctx.dispatch(
    dynamicQuantizeSlicesProgram(slices, wg),
    [
      { buffer: x, size: total * 4 },
      { buffer: scale, size: slices * 4 },
      { buffer: zeroPoint, size: zpBytes },
      { buffer: y, size: words * 4 },
    ],
    params,
  );
  return { y, scale, zeroPoint };
}
