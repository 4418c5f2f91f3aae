/**
 * Programs of the int8 loops shaped for real GPUs (the older loops in int8-matmul.ts were shaped on
 * SwiftShader, a CPU emulation where one thread per column is cheap):
 * - `splitk` (shaders/int8-gemv-splitk.wgsl): GEMV for 1–32 rows, `wgY` threads per column group
 *   splitting K inside the workgroup, `loads` independent 16-byte B loads per thread per step, up to
 *   8 rows per pass over B, and optionally `splits` workgroups along K whose partial sums meet in a
 *   zeroed int32 buffer (exact int32 `atomicAdd`) before {@link splitKFinishProgram} applies the
 *   epilogue;
 * - `gemm` (shaders/int8-gemm.wgsl): 256-thread workgroups, 64 × 64 (`rows` 4) or 128 × 64 (`rows`
 *   8) output tiles, K-tiles staged in workgroup memory, a register tile per thread, plain stores.
 * Both share the arithmetic files, the bindings and the epilogue of the older loops, so every
 * epilogue (int32, dequantized float32, requantized) works through them unchanged.
 */
import dp4a from '../../shaders/int8-dp4a.wgsl?raw';
import gemm from '../../shaders/int8-gemm.wgsl?raw';
import splitk from '../../shaders/int8-gemv-splitk.wgsl?raw';
import reduceSg from '../../shaders/int8-gemv-reduce-sg.wgsl?raw';
import reduceWg from '../../shaders/int8-gemv-reduce-wg.wgsl?raw';
import common from '../../shaders/int8-matmul-common.wgsl?raw';
import outAtomic from '../../shaders/int8-out-atomic.wgsl?raw';
import outPlain from '../../shaders/int8-out-plain.wgsl?raw';
import finishLoop from '../../shaders/int8-splitk-finish.wgsl?raw';
import portable from '../../shaders/int8-portable.wgsl?raw';
import { KernelError } from '../errors';
import { MAX_WORKGROUPS_PER_DIM, type Program } from './program';

/** Fields of an int8 kernel that only the GPU-shaped loops read. */
export interface Int8GpuFields {
  /** `splitk`: rows per pass over B (1–8); `gemm`: rows per thread (4 → 64 × 64 tiles, 8 → 128 × 64). */
  rows?: number;
  /** `splitk`: workgroups along K (1 = none; 0 = as many as fill the GPU, see {@link autoSplits}); their partial sums are added atomically. */
  splits?: number;
  /** `splitk`: independent vec4<u32> loads of B per thread per step (2–4). */
  loads?: number;
  /** `splitk`: how a column's partial sums are added: workgroup memory, or subgroup shuffles (needs the device feature `subgroups`). */
  reduce?: 'workgroup' | 'subgroup';
}

/** The GPU-shaped loop of a kernel and its workgroup shape. */
export interface Int8GpuKernel extends Int8GpuFields {
  variant: 'dp4a' | 'portable';
  layout: 'splitk' | 'gemm';
  /** `splitk`: column groups per workgroup; `gemm`: 16. */
  wgX: number;
  /** `splitk`: threads per column group (a power of two); `gemm`: 16. */
  wgY: number;
}

/** What a program needs to know about one matmul. */
export interface Int8ProgramShape {
  /** The epilogue kind (int32 out, dequantized float32, or requantized int8/uint8). */
  mode: 'int32' | 'float32' | 'requant';
  /** Whether B's packing carries per-column sums (the dp4a uint8-activation correction). */
  rowsum: boolean;
  /** Rows per matrix. */
  m: number;
  /** Inner size. */
  k: number;
  /** Column groups of four: ceil(N / 4). */
  n4: number;
  /** Matrices in the batch (grid z). */
  matrices: number;
}

const ARITHMETIC = { dp4a, portable } as const;
const MODES = { int32: 0, float32: 1, requant: 2 } as const;
/** Rows of one `gemm` tile per `rows` of each thread (16 thread rows). */
const GEMM_THREAD_ROWS = 16;

/** The output file: plain stores unless words are shared (requantized bytes) or summed (split-K). */
function outFile(mode: Int8ProgramShape['mode'], summed: boolean): string {
  return mode === 'requant' || summed ? outAtomic : outPlain;
}

function checkGrid(workgroups: [number, number, number], shape: Int8ProgramShape): void {
  if (workgroups.some((w) => w > MAX_WORKGROUPS_PER_DIM)) {
    throw new KernelError(
      `int8 matmul: ${shape.m} rows x ${shape.matrices} matrices need ${workgroups.join('x')} workgroups, over WebGPU's ${MAX_WORKGROUPS_PER_DIM} per dimension; split the batch.`,
      { m: shape.m, matrices: shape.matrices },
    );
  }
}

function checkSplitK(kernel: Int8GpuKernel): { rows: number; splits: number; loads: number } {
  const rows = kernel.rows ?? 1;
  const splits = kernel.splits || 1;
  const loads = kernel.loads ?? 4;
  const pow2 = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
  if (!pow2(kernel.wgY) || kernel.wgX * kernel.wgY > 256 || !(kernel.wgX >= 1))
    throw new KernelError(`int8 matmul: the splitk layout takes a power-of-two wgY and at most 256 threads, and got ${kernel.wgX}x${kernel.wgY}.`);
  if (!(rows >= 1 && rows <= 8) || !(loads >= 1 && loads <= 4) || !(splits >= 1 && Number.isInteger(splits)))
    throw new KernelError(`int8 matmul: the splitk layout takes 1–8 rows, 1–4 loads and a whole number of splits, and got ${rows}, ${loads}, ${splits}.`);
  return { rows, splits, loads };
}

/** The program of a GPU-shaped `kernel` for one matmul of `shape` (the first pass, when split-K). */
export function int8GpuProgram(kernel: Int8GpuKernel, shape: Int8ProgramShape): Program {
  const { mode, rowsum, m, k, n4, matrices } = shape;
  const arithmetic = ARITHMETIC[kernel.variant];
  const common_ = { MODE: MODES[mode], ROWSUM: rowsum ? 1 : 0, K_ALIGNED: k % 4 === 0 ? 1 : 0 };
  if (kernel.layout === 'gemm') {
    const tm = kernel.rows ?? 4;
    if (tm !== 4 && tm !== 8) throw new KernelError(`int8 matmul: the gemm layout takes 4 or 8 rows per thread, and got ${tm}.`);
    const workgroups: [number, number, number] = [Math.ceil(n4 / 16), Math.ceil(m / (GEMM_THREAD_ROWS * tm)), matrices];
    checkGrid(workgroups, shape);
    return {
      shaderKey: `int8-gemm-${kernel.variant}-${mode === 'requant' ? 'atomic' : 'plain'}`,
      label: `webq8:int8.gemm-${kernel.variant}`,
      code: `${arithmetic}\n${gemm}\n${common}\n${outFile(mode, false)}`,
      constants: { ...common_, TM: tm },
      workgroups,
    };
  }
  const { rows, splits, loads } = checkSplitK(kernel);
  const sg = kernel.reduce === 'subgroup';
  const workgroups: [number, number, number] = [Math.ceil(n4 / kernel.wgX), Math.ceil(m / rows) * splits, matrices];
  checkGrid(workgroups, shape);
  const out = splits > 1 ? 'atomic' : mode === 'requant' ? 'atomic' : 'plain';
  return {
    shaderKey: `int8-splitk-${kernel.variant}-${sg ? 'sg' : 'wg'}-${out}`,
    label: `webq8:int8.splitk-${kernel.variant}`,
    // Directives first: `enable subgroups` and the dp4a file's `requires` must open the module.
    code: `${sg ? 'enable subgroups;\n' : ''}${arithmetic}\n${splitk}\n${sg ? reduceSg : reduceWg}\n${common}\n${outFile(mode, splits > 1)}`,
    // Split across workgroups, the pass adds int32 partial sums whatever the epilogue (the finish
    // pass applies it): MODE 0 for all, so every mode shares one pipeline.
    constants: {
      ...common_,
      ...(splits > 1 ? { MODE: 0 } : {}),
      WG_X: kernel.wgX,
      WG_Y: kernel.wgY,
      ROWS: rows,
      SPLITS: splits,
      LOADS: loads,
      PARTIAL: splits > 1 ? 1 : 0,
    },
    workgroups,
  };
}

/** Whether `kernel` runs in two passes (split-K across workgroups, then {@link splitKFinishProgram}). */
export function isSplitK(kernel: { layout: string; splits?: number }): boolean {
  return kernel.layout === 'splitk' && (kernel.splits ?? 1) > 1;
}

/** The epilogue pass of a split-K GEMV: reads the int32 sums bound as `a`, writes `mode`'s output. */
export function splitKFinishProgram(variant: 'dp4a' | 'portable', shape: Int8ProgramShape): Program {
  const wgX = 64;
  const workgroups: [number, number, number] = [Math.ceil(shape.n4 / wgX), shape.m, shape.matrices];
  checkGrid(workgroups, shape);
  return {
    shaderKey: `int8-splitk-finish-${variant}-${shape.mode === 'requant' ? 'atomic' : 'plain'}`,
    label: `webq8:int8.splitk-finish`,
    code: `${ARITHMETIC[variant]}\n${finishLoop}\n${common}\n${outFile(shape.mode, false)}`,
    // No K_ALIGNED: this pass never reads A's words (a_word), so K's alignment would only compile
    // the same shader twice.
    constants: { MODE: MODES[shape.mode], WG_X: wgX },
    workgroups,
  };
}

/** Name suffix of the GPU-shaped fields, e.g. ` r4 s2 l4 sg`. */
export function int8GpuNameSuffix(k: Int8GpuFields & { layout: string }): string {
  if (k.layout === 'gemm') return ` r${k.rows ?? 4}`;
  if (k.layout !== 'splitk') return '';
  return ` r${k.rows ?? 1} s${k.splits === 0 ? 'auto' : (k.splits ?? 1)} l${k.loads ?? 4}${k.reduce === 'subgroup' ? ' sg' : ''}`;
}

/** Workgroups a split-K GEMV aims for before it stops splitting K (WebGPU does not expose the number of compute units; 256 fills two waves of a 64-unit GPU at two workgroups each). */
export const SPLITK_TARGET_WORKGROUPS = 256;

/**
 * The number of K splits of a `splitk` kernel whose `splits` is 0 ("as many as fill the GPU"):
 * enough that column blocks × row blocks × splits reaches {@link SPLITK_TARGET_WORKGROUPS}, but each
 * split keeps at least one full step (wgY · loads k-words) of K.
 */
export function autoSplits(kernel: Int8GpuFields & { wgX: number; wgY: number }, m: number, n4: number, kw: number): number {
  const blocks = Math.ceil(n4 / kernel.wgX) * Math.ceil(m / (kernel.rows ?? 1));
  const maxSplits = Math.max(1, Math.floor(kw / (kernel.wgY * (kernel.loads ?? 4))));
  return Math.max(1, Math.min(maxSplits, Math.ceil(SPLITK_TARGET_WORKGROUPS / blocks)));
}
