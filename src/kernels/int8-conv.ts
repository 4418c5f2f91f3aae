/**
 * Host side of the int8 conv kernels: ConvInteger (int32 out), the fused dequantize epilogue
 * (float32 out) and QLinearConv's requantization (uint8/int8 out). Two loops share shaders/int8-conv-common.wgsl: the implicit GEMM
 * (int8-conv-gemm.wgsl, with the matmuls' dp4a or portable arithmetic and their weight packing,
 * one matrix per group) and the direct loop (int8-conv-direct.wgsl) for depthwise convs.
 */
import dp4a from '../../shaders/int8-dp4a.wgsl?raw';
import portable from '../../shaders/int8-portable.wgsl?raw';
import common from '../../shaders/int8-conv-common.wgsl?raw';
import direct from '../../shaders/int8-conv-direct.wgsl?raw';
import gemm from '../../shaders/int8-conv-gemm.wgsl?raw';
import outAtomic from '../../shaders/int8-out-atomic.wgsl?raw';
import outPlain from '../../shaders/int8-out-plain.wgsl?raw';
import { KernelError } from '../errors';
import { convGeometry, type ConvAttrs, type ConvGeometry } from './conv-math';
import { STORAGE_USAGE, type GpuContext } from './gpu-context';
import { zeroPointAt, type Int8Type, type IntTensor, type ZeroPoints } from './int8-math';
import { zeroBuffer, type Int8Variant } from './int8-matmul';
import { packInt8Weights, type PackedInt8Weights } from './int8-weights';
import { MAX_WORKGROUPS_PER_DIM, spreadWorkgroups, type Program } from './program';
import { packUniforms, type UniformLayout } from './uniforms';

/** Which loop runs a conv: the implicit GEMM (with an arithmetic variant) or the direct loop. */
export type Int8ConvKernel = { layout: 'gemm'; variant: Int8Variant } | { layout: 'direct' };

/** The weights of one conv, prepared for its kernel. */
export interface GpuConvWeights {
  layout: Int8ConvKernel['layout'];
  /** The weight's dims `[M, C/group, (KH,) KW]`. */
  dims: number[];
  group: number;
  /** Whether the GEMM must accumulate A's row sums (some zb' ≠ 0). */
  rowsum: boolean;
  /** GEMM: packed words and per-column terms; direct: i32 weights and zero points. */
  buffers: [GPUBuffer, GPUBuffer];
  dispose(): void;
}

/** What the epilogue writes. */
export type Int8ConvEpilogue =
  | { kind: 'int32' }
  /** `f32(Y) · (a_scale · w_scale[m]) (+ bias[m])`, then Relu when asked; `colF` = w_scale[M] then bias[M]. */
  /** `program`: col_f holds the fused epilogue program after the bias (shaders/int8-conv-common.wgsl). */
  | { kind: 'float32'; aScale: GPUBuffer; colF: GPUBuffer; bias: boolean; relu?: boolean; program?: boolean }
  /** QLinearConv: `saturate(round(f32(Y + bias[m]) · mult[m]) + yZp)`; `colF` = mult[M] then the int32 bias bits[M]. */
  | { kind: 'requant'; colF: GPUBuffer; yZp: number; yType: Int8Type };

const MODES = { int32: 0, float32: 1, requant: 2 } as const;

/**
 * The loop webq8 picks for a weight: direct for depthwise-like convs (one input channel per group,
 * or fewer than 4 output channels per group, where the GEMM's 4-column tiles would idle), else the
 * GEMM with `variant`.
 */
export function defaultConvKernel(wDims: readonly number[], group: number, variant: Int8Variant): Int8ConvKernel {
  const cg = wDims[1] as number;
  return cg === 1 || (wDims[0] as number) / group < 4 ? { layout: 'direct' } : { layout: 'gemm', variant };
}

/** The GEMM's B of each group (`[K, M/group]`, the transposed weight rows), packed one after another. */
function packConvGemm(w: IntTensor, group: number, wZp?: ZeroPoints): PackedInt8Weights[] {
  const m = w.dims[0] as number;
  const k = w.data.length / m;
  const mg = m / group;
  return Array.from({ length: group }, (_, g) => {
    const data = new (w.type === 'uint8' ? Uint8Array : Int8Array)(k * mg);
    for (let j = 0; j < mg; j++) for (let kk = 0; kk < k; kk++) data[kk * mg + j] = w.data[(g * mg + j) * k + kk] as number;
    const zp = wZp === undefined || typeof wZp === 'number' || wZp.length === 1 ? wZp : Array.from({ length: mg }, (_, j) => zeroPointAt(wZp, g * mg + j));
    return packInt8Weights({ data, type: w.type, dims: [k, mg] }, zp);
  });
}

/** Prepares the weight `w` (`[M, C/group, (KH,) KW]`, zero points scalar or per output channel) for `layout`. */
export function uploadConvWeights(ctx: GpuContext, w: IntTensor, group: number, wZp: ZeroPoints | undefined, layout: Int8ConvKernel['layout']): GpuConvWeights {
  const m = w.dims[0] as number;
  if (w.dims.length < 3 || m < 1 || m % group !== 0 || w.data.length % m !== 0)
    throw new KernelError(`ConvInteger: the weight has dims ${JSON.stringify(w.dims)}; it must be [M, C/group, (KH,) KW] with M a multiple of group ${group}.`);
  if (wZp !== undefined && typeof wZp !== 'number' && wZp.length !== 1 && wZp.length !== m)
    throw new KernelError(`ConvInteger: w_zero_point has ${wZp.length} values, and it must have 1 or M = ${m} (one per output channel).`);
  let buffers: [GPUBuffer, GPUBuffer];
  let rowsum = false;
  if (layout === 'direct') {
    const zps = Int32Array.from({ length: m }, (_, i) => zeroPointAt(wZp, i));
    buffers = [ctx.uploadConstant(Int32Array.from(w.data), 'int8.conv.weights'), ctx.uploadConstant(zps, 'int8.conv.wzp')];
  } else {
    const packs = packConvGemm(w, group, wZp);
    rowsum = packs.some((p) => p.rowsum);
    const words = new Uint32Array(packs.reduce((n, p) => n + p.words.length, 0));
    const info = new Int32Array(packs.reduce((n, p) => n + p.colInfo.length, 0));
    packs.forEach((p, g) => {
      words.set(p.words, g * p.words.length);
      info.set(p.colInfo, g * p.colInfo.length);
    });
    buffers = [ctx.uploadConstant(words, 'int8.conv.weights'), ctx.uploadConstant(info, 'int8.conv.colinfo')];
  }
  return {
    layout,
    dims: [...w.dims],
    group,
    rowsum,
    buffers,
    dispose() {
      for (const b of buffers) ctx.freeConstant(b);
    },
  };
}

/** `Params` of int8-conv-common.wgsl, field for field. */
const PARAMS = [
  ['batch', 'u32'],
  ['c', 'u32'],
  ['in_h', 'u32'],
  ['in_w', 'u32'],
  ['m', 'u32'],
  ['mg', 'u32'],
  ['cg', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['oh', 'u32'],
  ['ow', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['dh', 'u32'],
  ['dw', 'u32'],
  ['pt', 'u32'],
  ['pl', 'u32'],
  ['k', 'u32'],
  ['n4', 'u32'],
  ['kwords', 'u32'],
  ['rows', 'u32'],
  ['a_xor', 'u32'],
  ['flags', 'u32'],
  ['y_zp', 'i32'],
] as const satisfies UniformLayout;

/** Pixels per GEMM invocation (`TILE_ROWS` in int8-conv-gemm.wgsl). */
const TILE_ROWS = 4;
const GEMM_WG = [4, 16] as const;
const DIRECT_WG = 64;

/** The program of `kernel` for one conv of geometry `g`. */
export function int8ConvProgram(kernel: Int8ConvKernel, g: ConvGeometry, mode: Int8ConvEpilogue['kind'], rowsum: boolean): Program {
  const MODE = MODES[mode];
  // MODE 2's bytes share words (OR-ed in): the atomic output binding; else plain stores.
  const [out, q] = mode === 'requant' ? [outAtomic, '-q'] : [outPlain, ''];
  if (kernel.layout === 'direct') {
    return {
      shaderKey: `int8-conv-direct${q}`,
      label: 'webq8:int8.conv.direct',
      code: `${direct}\n${common}\n${out}`,
      constants: { MODE, WG: DIRECT_WG },
      workgroups: spreadWorkgroups(Math.ceil((g.batch * g.m * g.oh * g.ow) / DIRECT_WG)),
    };
  }
  const rows = g.batch * g.oh * g.ow;
  const workgroups: [number, number, number] = [Math.ceil(Math.ceil(g.mg / 4) / GEMM_WG[0]), Math.ceil(rows / TILE_ROWS / GEMM_WG[1]), g.group];
  if (workgroups.some((w) => w > MAX_WORKGROUPS_PER_DIM))
    throw new KernelError(
      `int8 conv: ${rows} output pixels and ${g.group} groups need ${workgroups.join('x')} workgroups, over WebGPU's ${MAX_WORKGROUPS_PER_DIM} per dimension; split the batch or the image.`,
    );
  return {
    shaderKey: `int8-conv-gemm-${kernel.variant}${q}`,
    label: `webq8:int8.conv.gemm-${kernel.variant}`,
    // The arithmetic file goes first: a `requires` directive must open the module.
    code: `${kernel.variant === 'dp4a' ? dp4a : portable}\n${gemm}\n${common}\n${out}`,
    constants: { MODE, WG_X: GEMM_WG[0], WG_Y: GEMM_WG[1], ROWSUM: rowsum ? 1 : 0 },
    workgroups,
  };
}

/** Arguments of {@link int8Conv}. */
export interface Int8ConvArgs {
  x: GPUBuffer;
  xType: Int8Type;
  xDims: readonly number[];
  /** x_zero_point's byte (a 4-byte aligned buffer). Absent = 0. */
  xZp?: GPUBuffer;
  weights: GpuConvWeights;
  attrs: ConvAttrs;
  epilogue: Int8ConvEpilogue;
  /** The GEMM's arithmetic (ignored by the direct loop). */
  variant: Int8Variant;
}

/** Output of {@link int8Conv}: a pooled buffer the caller owns. */
export interface Int8ConvOutput {
  buffer: GPUBuffer;
  type: 'int32' | 'float32' | Int8Type;
  dims: number[];
}

/** Runs one int8 conv. Throws {@link KernelError} for shapes and attributes it cannot run. */
export function int8Conv(ctx: GpuContext, args: Int8ConvArgs): Int8ConvOutput {
  const w = args.weights;
  const g = convGeometry('ConvInteger', args.xDims, w.dims, { ...args.attrs, group: w.group });
  const inBytes = g.batch * g.c * g.h * g.w;
  if (args.x.size < inBytes) throw new KernelError(`int8 conv: x's buffer holds ${args.x.size} bytes, and x ${JSON.stringify(args.xDims)} needs ${inBytes}.`);
  const kernel: Int8ConvKernel = w.layout === 'direct' ? { layout: 'direct' } : { layout: 'gemm', variant: args.variant };
  const ep = args.epilogue;
  const program = int8ConvProgram(kernel, g, ep.kind, w.rowsum);
  const count = g.batch * g.m * g.oh * g.ow;
  const bytes = ep.kind === 'requant' ? Math.ceil(count / 4) * 4 : count * 4;
  const out = ctx.buffers.acquire(bytes, STORAGE_USAGE, `int8.conv.${ep.kind}`);
  if (ep.kind === 'requant') ctx.clear(out, bytes);
  const zeros = zeroBuffer(ctx);
  const params = packUniforms(PARAMS, {
    batch: g.batch,
    c: g.c,
    in_h: g.h,
    in_w: g.w,
    m: g.m,
    mg: g.mg,
    cg: g.cg,
    kh: g.kh,
    kw: g.kw,
    oh: g.oh,
    ow: g.ow,
    sh: g.sh,
    sw: g.sw,
    dh: g.dh,
    dw: g.dw,
    pt: g.pt,
    pl: g.pl,
    k: g.k,
    n4: Math.ceil(g.mg / 4),
    kwords: Math.ceil(g.k / 4),
    rows: g.batch * g.oh * g.ow,
    a_xor: args.xType === 'uint8' ? 0x80 : 0,
    flags: ep.kind === 'float32' ? (ep.bias ? 1 : 0) | (ep.relu ? 4 : 0) | (ep.program ? 16 : 0) : ep.kind === 'requant' && ep.yType === 'int8' ? 2 : 0,
    y_zp: ep.kind === 'requant' ? ep.yZp : 0,
  });
  const bindings = [
    args.x,
    ...w.buffers,
    args.xZp ?? zeros,
    ep.kind === 'float32' ? ep.aScale : zeros,
    ep.kind === 'int32' ? zeros : ep.colF,
    { buffer: out, size: bytes },
  ];
  ctx.dispatch(program, bindings, params);
  return { buffer: out, type: ep.kind === 'requant' ? ep.yType : ep.kind, dims: g.outDims };
}
