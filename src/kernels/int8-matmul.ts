/**
 * Host side of the int8 matmul kernels: MatMulInteger (int32 out), the fused dequantize epilogue
 * (float32 out) and QLinearMatMul's requantization (uint8/int8 out) share one kernel family,
 * selected by the `MODE` override. A kernel's WGSL is three files: the arithmetic (`int8-dp4a.wgsl` or
 * `int8-portable.wgsl`), the loop (`int8-matmul-tiled.wgsl`, `int8-matmul-wide.wgsl` or `int8-gemv.wgsl`) and the shared
 * bindings and epilogue. Which member runs is an {@link Int8Kernel}: see int8-tuning.ts for how it
 * is chosen (by measurement, per adapter and shape class).
 */
import dp4a from '../../shaders/int8-dp4a.wgsl?raw';
import gemv from '../../shaders/int8-gemv.wgsl?raw';
import common from '../../shaders/int8-matmul-common.wgsl?raw';
import tiled from '../../shaders/int8-matmul-tiled.wgsl?raw';
import wide from '../../shaders/int8-matmul-wide.wgsl?raw';
import portable from '../../shaders/int8-portable.wgsl?raw';
import { KernelError } from '../errors';
import { STORAGE_USAGE, type GpuContext } from './gpu-context';
import type { GpuInt8Weights } from './int8-weights';
import { MAX_WORKGROUPS_PER_DIM, type Program } from './program';
import { packUniforms, type UniformLayout } from './uniforms';
import { matmulShape, type Int8Type, type MatmulShape } from './int8-math';
import { autoSplits, int8GpuNameSuffix, int8GpuProgram, isSplitK, splitKFinishProgram, type Int8GpuFields, type Int8ProgramShape } from './int8-gpu-loops';
import outAtomic from '../../shaders/int8-out-atomic.wgsl?raw';

export type { Int8ProgramShape } from './int8-gpu-loops';

/** The two code paths: `dot4I8Packed` (WGSL `packed_4x8_integer_dot_product`) or unpack + i32 multiply. */
export type Int8Variant = 'dp4a' | 'portable';

/** A variant request: a fixed variant, or `'auto'` (measured choice, else dp4a when the adapter has it). */
export type Int8VariantRequest = Int8Variant | 'auto';

/** One member of the kernel family with its tile/workgroup override constants. */
export interface Int8Kernel extends Int8GpuFields {
  variant: Int8Variant;
  /**
   * `tiled`: 8×4 outputs per invocation; `gemv`: 4 columns of one row, split-K in the workgroup;
   * `wide`: `wgY` rows × `cols` columns per invocation (few rows; int8-matmul-wide.wgsl). Shaped for
   * real GPUs (src/kernels/int8-gpu-loops.ts): `splitk`, a GEMV with many threads per column and
   * optional split-K across workgroups; `gemm`, 64 × 64 tiles staged in workgroup memory.
   */
  layout: 'tiled' | 'gemv' | 'wide' | 'splitk' | 'gemm';
  /** Invocations along N (each owns 4 columns; `wide`: `cols`; `splitk`: column groups per workgroup; `gemm`: 16). */
  wgX: number;
  /** `tiled`: invocations along M (each owns 8 rows); `gemv`: SPLIT_K; `wide`: rows per invocation (4, 8, 12 or 16); `splitk`: threads per column group; `gemm`: 16. */
  wgY: number;
  /** `wide` only: columns per invocation, 8 (default) or 16. */
  cols?: 8 | 16;
}

/** An activation fused into the float32 epilogue. */
export type Int8Activation = 'relu' | 'tanh';

/** The activation codes of `params.flags` bits 2-3 (int8-matmul-common.wgsl). */
const ACTIVATIONS: Record<Int8Activation, number> = { relu: 1, tanh: 2 };

/** What the epilogue writes. */
export type Int8Epilogue =
  | { kind: 'int32' }
  /**
   * `act(f32(Y) · (a_scale · b_scale[j]) (+ bias[j]))`; `colF` = b_scale[N] then bias[N] (when
   * `bias`); `activation` (default none) is the Relu or Tanh that followed the chain in the graph.
   */
  | { kind: 'float32'; aScale: GPUBuffer; colF: GPUBuffer; bias: boolean; activation?: Int8Activation }
  /** `saturate(round(f32(Y) · multiplier[j]) + y_zp)`; `colF` = multiplier[N]. */
  | { kind: 'requant'; colF: GPUBuffer; yZp: number; yType: Int8Type };

/** Arguments of {@link int8Matmul}. */
export interface Int8MatmulArgs {
  /** A's bytes, row-major `[...batch, M, K]` (or `[K]`). */
  a: GPUBuffer;
  aType: Int8Type;
  aDims: readonly number[];
  /** A's zero point bytes (4-byte aligned buffer): one value, or one per row when `aZpPerRow`. Absent = 0. */
  aZp?: GPUBuffer;
  aZpPerRow?: boolean;
  /**
   * A was quantized per leading-index slice (src/kernels/dynamic-quantize.ts `dynamicQuantizeSlices`):
   * `aZp` holds one zero point and the float32 epilogue's `aScale` one scale per slice of A's
   * first dimension. Absent: one of each (or per row, see `aZpPerRow`).
   */
  aSlices?: number;
  weights: GpuInt8Weights;
  epilogue: Int8Epilogue;
  /** Which kernel; default {@link defaultInt8Kernel}. */
  kernel?: Int8Kernel;
}

/** Whether this browser's WGSL has `dot4I8Packed` (`packed_4x8_integer_dot_product`). */
export function hasDp4a(): boolean {
  const features = (globalThis.navigator as Navigator | undefined)?.gpu?.wgslLanguageFeatures;
  return features?.has('packed_4x8_integer_dot_product') ?? false;
}

/** Resolves a request to a variant this browser can compile; forcing dp4a without support throws. */
export function resolveVariant(request: Int8VariantRequest = 'auto'): Int8Variant {
  if (request === 'portable') return 'portable';
  if (request === 'dp4a' && !hasDp4a()) {
    throw new KernelError(
      'The dp4a kernels need the WGSL language feature packed_4x8_integer_dot_product, which this browser lacks; use variant "portable" or "auto".',
    );
  }
  return request === 'dp4a' || hasDp4a() ? 'dp4a' : 'portable';
}

/**
 * The kernel used before (or without) measuring: GEMV for ≤ 4 rows, else 8×4 tiles. On an emulated
 * adapter (`emulated`, see {@link isEmulatedAdapter}) workgroups are small, because SwiftShader runs
 * a workgroup on one CPU thread, and more than one row takes the wide tiles (up to 16 rows × 16
 * columns per invocation), which load the least per multiply-accumulate. Measured there (2 cores,
 * K = N = 768, per dispatch): M = 1, GEMV 64×4 ≈ 3.0 ms vs 16×1 ≈ 0.9 ms; M = 4, GEMV 16×1 ≈ 2.9 ms
 * vs wide 4×8 ≈ 1.7 ms (4×16 ≈ 2.0); M = 16, tiled ≈ 5.8 ms (any workgroup shape) vs wide 16×8
 * ≈ 4.0 ms vs 16×16 ≈ 3.5 ms. These are only the defaults: {@link tuneInt8Matmul} measures.
 */
export function defaultInt8Kernel(rows: number, variant: Int8Variant, emulated = false): Int8Kernel {
  if (emulated) {
    if (rows <= 1) return { variant, layout: 'gemv', wgX: 16, wgY: 1 };
    return { variant, layout: 'wide', wgX: 8, wgY: Math.min(16, Math.ceil(rows / 4) * 4), cols: rows <= 4 ? 8 : 16 };
  }
  return rows <= 4 ? { variant, layout: 'gemv', wgX: 64, wgY: 4 } : { variant, layout: 'tiled', wgX: 16, wgY: 4 };
}

/**
 * Whether `device` runs on a CPU-emulated adapter (SwiftShader: `architecture === 'swiftshader'`,
 * or any fallback adapter). `GPUDevice.adapterInfo` is missing in older browsers: then false.
 */
export function isEmulatedAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  return info?.architecture === 'swiftshader' || info?.isFallbackAdapter === true;
}

/** A short name of a kernel, e.g. `dp4a/tiled 16x4` or `portable/wide16 8x16` (16 columns, 16 rows). */
export function int8KernelName(k: Int8Kernel): string {
  return `${k.variant}/${k.layout}${k.layout === 'wide' ? (k.cols ?? 8) : ''} ${k.wgX}x${k.wgY}${int8GpuNameSuffix(k)}`;
}

const ARITHMETIC = { dp4a, portable } as const;
const LOOPS = { tiled, gemv, wide } as const;

const MODES = { int32: 0, float32: 1, requant: 2 } as const;

/** Rows per invocation of the tiled loop (`TILE_ROWS` in int8-matmul-tiled.wgsl). */
const TILE_ROWS = 8;

/** `Params` of int8-matmul-common.wgsl, field for field. */
const PARAMS = [
  ['m', 'u32'],
  ['n', 'u32'],
  ['k', 'u32'],
  ['n4', 'u32'],
  ['kw', 'u32'],
  ['a_xor', 'u32'],
  ['azp_mod', 'u32'],
  ['b_batched', 'u32'],
  ['flags', 'u32'],
  ['y_zp', 'i32'],
  ['azp_div', 'u32'],
  ['col0', 'u32'],
  ['n_out', 'u32'],
] as const satisfies UniformLayout;

/** The program of `kernel` for one matmul of `shape`. */
export function int8MatmulProgram(kernel: Int8Kernel, shape: Int8ProgramShape): Program {
  if (kernel.layout === 'splitk' || kernel.layout === 'gemm') return int8GpuProgram({ ...kernel, layout: kernel.layout }, shape);
  const { mode, rowsum, m, k, n4, matrices } = shape;
  const layout = kernel.layout;
  const key = `${kernel.layout}-${kernel.variant}` as const;
  const gemv = kernel.layout === 'gemv';
  const isWide = kernel.layout === 'wide';
  if (isWide && ![4, 8, 12, 16].includes(kernel.wgY))
    throw new KernelError(`int8 matmul: the wide layout takes 4, 8, 12 or 16 rows per invocation, and got ${kernel.wgY}.`);
  const groups = (kernel.cols ?? 8) / 4;
  if (isWide && groups !== 2 && groups !== 4)
    throw new KernelError(`int8 matmul: the wide layout takes 8 or 16 columns per invocation, and got ${kernel.cols}.`);
  const workgroups: [number, number, number] = isWide
    ? [Math.ceil(Math.ceil(n4 / groups) / kernel.wgX), Math.ceil(m / kernel.wgY), matrices]
    : [Math.ceil(n4 / kernel.wgX), gemv ? m : Math.ceil(Math.ceil(m / TILE_ROWS) / kernel.wgY), matrices];
  if (workgroups.some((w) => w > MAX_WORKGROUPS_PER_DIM)) {
    throw new KernelError(
      `int8 matmul: ${m} rows x ${matrices} matrices need ${workgroups.join('x')} workgroups, over WebGPU's ${MAX_WORKGROUPS_PER_DIM} per dimension; split the batch.`,
      { m, matrices },
    );
  }
  return {
    shaderKey: `int8-${key}`,
    label: `webq8:int8.${key}`,
    // The arithmetic file goes first: a `requires` directive must open the module.
    code: `${ARITHMETIC[kernel.variant]}\n${LOOPS[layout]}\n${common}\n${outAtomic}`,
    constants: {
      MODE: MODES[mode],
      WG_X: kernel.wgX,
      [gemv ? 'SPLIT_K' : isWide ? 'ROWS' : 'WG_Y']: kernel.wgY,
      ...(isWide ? { GROUPS: groups } : {}),
      ROWSUM: rowsum ? 1 : 0,
      K_ALIGNED: k % 4 === 0 ? 1 : 0,
    },
    workgroups,
  };
}

const dummies = new WeakMap<GpuContext, GPUBuffer>();

/** A small zeroed buffer bound where a kernel has nothing to read (kept until the context is disposed). */
export function zeroBuffer(ctx: GpuContext): GPUBuffer {
  let b = dummies.get(ctx);
  if (!b) {
    // A constant of the context: destroyed with it (a plain device buffer would outlive it).
    b = ctx.uploadConstant(new Uint32Array(4), 'int8.zeros');
    dummies.set(ctx, b);
  }
  return b;
}

/** Output element type and dims of {@link int8Matmul}. */
export interface Int8MatmulOutput {
  buffer: GPUBuffer;
  type: 'int32' | 'float32' | Int8Type;
  dims: number[];
}

/** The uniforms every weight part of one {@link int8Matmul} shares (all but `n`, `n4` and `col0`). */
function sharedUniforms(args: Int8MatmulArgs, s: MatmulShape, m: number) {
  const ep = args.epilogue;
  const act = ep.kind === 'float32' && ep.activation ? ACTIVATIONS[ep.activation] : 0;
  return {
    m,
    k: s.k,
    kw: args.weights.kw,
    a_xor: args.aType === 'uint8' ? 0x80808080 : 0,
    azp_mod: args.aSlices ? args.aSlices : args.aZpPerRow ? s.m : 1,
    azp_div: args.aSlices ? (s.batch * s.m) / args.aSlices : 1,
    b_batched: s.bBatched ? 1 : 0,
    flags: (ep.kind === 'float32' && ep.bias ? 1 : 0) | (ep.kind === 'requant' && ep.yType === 'int8' ? 2 : 0) | (act << 2),
    y_zp: ep.kind === 'requant' ? ep.yZp : 0,
    n_out: s.n,
  };
}

/**
 * Runs one int8 matmul `A × B` with `args.epilogue` into a new pooled buffer the caller owns.
 * Throws {@link KernelError} for shapes B's packing or WebGPU's limits do not allow.
 */
export function int8Matmul(ctx: GpuContext, args: Int8MatmulArgs): Int8MatmulOutput {
  const w = args.weights;
  const s = matmulShape('int8 matmul', args.aDims, w.dims);
  const aBytes = s.batch * s.m * s.k;
  if (args.a.size < aBytes) throw new KernelError(`int8 matmul: A's buffer holds ${args.a.size} bytes, and A ${JSON.stringify(args.aDims)} needs ${aBytes}.`);
  if (args.aSlices && s.bBatched) throw new KernelError('int8 matmul: per-slice scales of A need one B for every slice, and B is batched.');
  // A batch of A matrices against one B is a single taller matrix; a batched B needs grid z.
  const m = s.bBatched ? s.m : s.batch * s.m;
  const matrices = s.bBatched ? s.batch : 1;
  const chosen = args.kernel ?? defaultInt8Kernel(m, resolveVariant('auto'), isEmulatedAdapter(ctx.device));
  const kernel = chosen.layout === 'splitk' && chosen.splits === 0 ? { ...chosen, splits: autoSplits(chosen, m, w.n4, w.kw) } : chosen;
  const ep = args.epilogue;
  // A B split into column blocks (src/kernels/weight-parts.ts) runs once per block, into its columns of `out`.
  const parts = (w.parts ?? [{ col0: 0, n: w.n, n4: w.n4, b: w.b, colInfo: w.colInfo }]).map((part) => {
    const shape = { mode: ep.kind, rowsum: w.rowsum, m, k: s.k, n4: part.n4, matrices };
    // Programs first: a shape WebGPU cannot dispatch throws before any buffer is taken.
    return { part, program: int8MatmulProgram(kernel, shape), finish: isSplitK(kernel) ? splitKFinishProgram(kernel.variant, shape) : undefined };
  });
  const count = s.batch * s.m * s.n;
  const bytes = ep.kind === 'requant' ? Math.ceil(count / 4) * 4 : count * 4;
  const out = ctx.buffers.acquire(bytes, STORAGE_USAGE, `int8.${ep.kind}`);
  // Requantized bytes are OR-ed in atomically, so the (pooled, stale) buffer must start at zero.
  if (ep.kind === 'requant') ctx.clear(out, bytes);
  const zeros = zeroBuffer(ctx);
  const uniforms = sharedUniforms(args, s, m);
  const shared = {
    a: args.a,
    aZp: args.aZp ?? zeros,
    aScale: ep.kind === 'float32' ? ep.aScale : zeros,
    colF: ep.kind === 'int32' ? zeros : ep.colF,
    out: { buffer: out, size: bytes },
  };
  // Split-K: the splits add their partial sums into a zeroed int32 buffer, then the epilogue pass.
  const sums = isSplitK(kernel) ? ctx.buffers.acquire(count * 4, STORAGE_USAGE, 'int8.splitk') : undefined;
  if (sums) ctx.clear(sums, count * 4);
  for (const { part, program, finish } of parts) {
    const params = packUniforms(PARAMS, { ...uniforms, n: part.n, n4: part.n4, col0: part.col0 });
    const bindings = [shared.a, part.b, part.colInfo, shared.aZp, shared.aScale, shared.colF];
    if (sums && finish) {
      ctx.dispatch(program, [...bindings, { buffer: sums, size: count * 4 }], params);
      ctx.dispatch(finish, [{ buffer: sums, size: count * 4 }, ...bindings.slice(1), shared.out], params);
    } else {
      ctx.dispatch(program, [...bindings, shared.out], params);
    }
  }
  if (sums) ctx.buffers.release(sums); // reusable at once: later writes are queued after these dispatches
  const type = ep.kind === 'int32' ? 'int32' : ep.kind === 'float32' ? 'float32' : ep.yType;
  return { buffer: out, type, dims: s.outDims };
}
