/**
 * Convolution geometry shared by the int8 conv kernels' host code, the graph matcher and the CPU
 * reference: ONNX Conv attributes (`auto_pad`, `pads`, `strides`, `dilations`, `group`,
 * `kernel_shape`) resolved against the input and weight shapes into one flat record. 1-D convs are
 * 2-D convs of height 1; 3-D and larger are refused.
 */
import { KernelError } from '../errors';

/** ONNX Conv attributes (names in camelCase; every one optional, ONNX defaults apply). */
export interface ConvAttrs {
  /** `NOTSET` (default: use `pads`), `SAME_UPPER`, `SAME_LOWER` or `VALID`. */
  autoPad?: string;
  dilations?: readonly number[];
  group?: number;
  kernelShape?: readonly number[];
  /** `[begin..., end...]` per spatial axis. */
  pads?: readonly number[];
  strides?: readonly number[];
}

/** A conv resolved to 2-D: every loop bound and offset the kernels need. */
export interface ConvGeometry {
  batch: number;
  /** Input channels, height, width (1-D: height 1). */
  c: number;
  h: number;
  w: number;
  /** Output channels; per group: `mg` outputs read `cg` inputs. */
  m: number;
  group: number;
  cg: number;
  mg: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Padding before the first row / column (the padding after is implied by oh, ow). */
  pt: number;
  pl: number;
  /** The GEMM's inner size: cg · kh · kw. */
  k: number;
  /** Output dims: `[N, M, OW]` (1-D) or `[N, M, OH, OW]`. */
  outDims: number[];
}

/** Padding before and the output size of one spatial axis. */
function axis(op: string, size: number, kernel: number, stride: number, dilation: number, autoPad: string, begin: number, end: number): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + span - size);
    return [autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2), out];
  }
  const [b, e] = autoPad === 'VALID' ? [0, 0] : [begin, end];
  const out = Math.floor((size + b + e - span) / stride) + 1;
  if (out < 1)
    throw new KernelError(`${op}: the kernel (${span} wide with dilation) does not fit the input (${size} + pads ${b}, ${e}); the output would be empty.`);
  return [b, out];
}

const positive = (xs: readonly number[]) => xs.every((v) => Number.isInteger(v) && v >= 1);

/**
 * Resolves a conv of input `xDims` (`[N, C, L]` or `[N, C, H, W]`) and weight `wDims`
 * (`[M, C/group, kL]` or `[M, C/group, kH, kW]`). Throws {@link KernelError} saying what to fix.
 */
export function convGeometry(op: string, xDims: readonly number[], wDims: readonly number[], attrs: ConvAttrs = {}): ConvGeometry {
  const spatial = xDims.length - 2;
  if (spatial !== 1 && spatial !== 2)
    throw new KernelError(`${op}: the input has dims ${JSON.stringify(xDims)}; the int8 conv kernels take 1-D [N, C, L] or 2-D [N, C, H, W] convs.`, { xDims });
  if (wDims.length !== xDims.length)
    throw new KernelError(`${op}: the weight has dims ${JSON.stringify(wDims)}, and it must have as many dimensions as the input ${JSON.stringify(xDims)}.`);
  const group = attrs.group ?? 1;
  const [n, c] = xDims as [number, number];
  const [m, cg] = wDims as [number, number];
  if (!Number.isInteger(group) || group < 1 || c % group !== 0 || m % group !== 0 || c / group !== cg)
    throw new KernelError(
      `${op}: group ${group} must divide the ${c} input and ${m} output channels, and the weight must have C/group = ${c / group} channels, not ${cg}.`,
    );
  const kernel = wDims.slice(2);
  if (attrs.kernelShape && attrs.kernelShape.some((v, i) => v !== kernel[i]))
    throw new KernelError(`${op}: kernel_shape ${JSON.stringify(attrs.kernelShape)} disagrees with the weight's ${JSON.stringify(kernel)}.`);
  const strides = attrs.strides ?? kernel.map(() => 1);
  const dilations = attrs.dilations ?? kernel.map(() => 1);
  const pads = attrs.pads ?? kernel.flatMap(() => [0, 0]);
  if (strides.length !== spatial || dilations.length !== spatial || pads.length !== 2 * spatial || !positive([...strides, ...dilations, ...kernel]))
    throw new KernelError(`${op}: strides, dilations (positive, one per axis) and pads (two per axis) must match a ${spatial}-D conv.`, {
      strides,
      dilations,
      pads,
    });
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new KernelError(`${op}: pads ${JSON.stringify(pads)} must be non-negative integers.`);
  const autoPad = attrs.autoPad ?? 'NOTSET';
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) throw new KernelError(`${op}: auto_pad "${autoPad}" is not an ONNX value.`);
  const two = spatial === 2;
  const [kh, kw] = two ? (kernel as [number, number]) : [1, kernel[0] as number];
  const [sh, sw] = two ? (strides as [number, number]) : [1, strides[0] as number];
  const [dh, dw] = two ? (dilations as [number, number]) : [1, dilations[0] as number];
  const [h, w] = two ? (xDims.slice(2) as [number, number]) : [1, xDims[2] as number];
  const [pt, oh] = two ? axis(op, h, kh, sh, dh, autoPad, pads[0] as number, pads[2] as number) : [0, 1];
  const [pl, ow] = two
    ? axis(op, w, kw, sw, dw, autoPad, pads[1] as number, pads[3] as number)
    : axis(op, w, kw, sw, dw, autoPad, pads[0] as number, pads[1] as number);
  if (n < 1 || c < 1 || m < 1) throw new KernelError(`${op}: the output would be empty (input ${JSON.stringify(xDims)}, weight ${JSON.stringify(wDims)}).`);
  const k = cg * kh * kw;
  if (k > 131071) throw new KernelError(`${op}: C/group · kernel area is ${k}, and int32 accumulation is exact only up to 131071; split the conv.`);
  const outDims = two ? [n, m, oh, ow] : [n, m, ow];
  return { batch: n, c, h, w, m, group, cg, mg: m / group, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, k, outDims };
}
