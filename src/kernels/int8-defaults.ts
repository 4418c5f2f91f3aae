/**
 * The int8 kernel an adapter gets before (or without) measuring, by adapter class rather than by
 * the WGSL language feature alone:
 * - `fallback` (SwiftShader or any fallback adapter, a CPU emulation): the SwiftShader-shaped loops
 *   of {@link defaultInt8Kernel}, measured best there (one thread per column is cheap, workgroup
 *   memory is ordinary RAM), with the portable arithmetic for more than one row;
 * - `apple` (Metal): the GPU-shaped loops without dp4a: Tint lowers `dot4I8Packed` to shifts and
 *   multiplies there (onnxruntime's WebGPU EP skips its dp4a path on Apple too), so the portable
 *   unpack-and-multiply arithmetic is no slower and keeps the registers for the tile;
 * - `gpu` (every other real adapter): the GPU-shaped loops (src/kernels/int8-gpu-loops.ts) with dp4a
 *   where the language feature exists: split-K GEMV up to 32 rows, the 64 × 64 workgroup-tiled GEMM
 *   above; the GEMV reduces with subgroup shuffles where the device has `subgroups`.
 * Pure functions of plain facts, so the choice table is unit-tested in Node with fake adapters.
 */
import { defaultInt8Kernel, type Int8Kernel, type Int8Variant, type Int8VariantRequest } from './int8-matmul';

/** Which family of defaults an adapter gets (see the module comment). */
export type Int8AdapterClass = 'fallback' | 'apple' | 'gpu';

/** What the choice depends on, read from a device (see {@link deviceFacts}) or made up in tests. */
export interface Int8AdapterFacts {
  vendor?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
  /** The WGSL language feature `packed_4x8_integer_dot_product`. */
  dp4a: boolean;
  /** The device feature `subgroups`. */
  subgroups: boolean;
}

/** The class of an adapter: emulated first, then Apple by vendor or architecture, else a real GPU. */
export function int8AdapterClass(f: Int8AdapterFacts): Int8AdapterClass {
  if (f.isFallbackAdapter === true || f.architecture === 'swiftshader') return 'fallback';
  const v = `${f.vendor ?? ''} ${f.architecture ?? ''}`.toLowerCase();
  return /\bapple\b|metal/.test(v) ? 'apple' : 'gpu';
}

/** The facts of `device` (its adapter info where the browser exposes `GPUDevice.adapterInfo`). */
export function deviceFacts(device: GPUDevice, dp4a: boolean): Int8AdapterFacts {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  return {
    vendor: info?.vendor,
    architecture: info?.architecture,
    isFallbackAdapter: info?.isFallbackAdapter,
    dp4a,
    subgroups: device.features.has('subgroups'),
  };
}

/** The variants an adapter may run (and measure): no dp4a without the feature or on Apple. */
export function int8Variants(f: Int8AdapterFacts): Int8Variant[] {
  return f.dp4a && int8AdapterClass(f) !== 'apple' ? ['dp4a', 'portable'] : ['portable'];
}

/** Rows from which the GEMM takes 128 × 64 tiles (8 rows per thread) rather than 64 × 64. */
const TALL_TILE_ROWS = 512;

/** The GPU-shaped kernel for `rows` rows (`gpu` and `apple` classes). */
export function gpuInt8Kernel(rows: number, variant: Int8Variant, subgroups: boolean): Int8Kernel {
  if (rows <= 32) {
    // 8 column groups (128 contiguous bytes of a B row) x 32 threads along K, 4 loads in flight each,
    // up to 8 rows per pass over B, K split across workgroups as far as N leaves the GPU idle.
    return { variant, layout: 'splitk', wgX: 8, wgY: 32, rows: Math.min(8, rows), splits: 0, loads: 4, reduce: subgroups ? 'subgroup' : 'workgroup' };
  }
  return { variant, layout: 'gemm', wgX: 16, wgY: 16, rows: rows >= TALL_TILE_ROWS ? 8 : 4 };
}

/**
 * The untuned kernel for `rows` rows on an adapter with facts `f`, honouring a forced variant
 * (`request`; 'auto' = the class's choice). Forcing dp4a where the feature is missing is refused
 * earlier, by `resolveVariant`.
 */
export function adapterDefaultKernel(rows: number, f: Int8AdapterFacts, request: Int8VariantRequest = 'auto'): Int8Kernel {
  const cls = int8AdapterClass(f);
  const variant: Int8Variant = request !== 'auto' ? request : (int8Variants(f)[0] as Int8Variant);
  if (cls === 'fallback') {
    // Emulated dot4I8Packed: the unpacked portable path won every multi-row tile measured there
    // (M = 16: 3.9 vs 6.7 ms), while dp4a kept the edge on the GEMV (M = 1: 0.9 vs 1.4 ms).
    return defaultInt8Kernel(rows, request === 'auto' && rows > 1 ? 'portable' : variant, true);
  }
  return gpuInt8Kernel(rows, variant, f.subgroups);
}
