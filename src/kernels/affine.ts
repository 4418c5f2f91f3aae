/**
 * Host side of shaders/affine.wgsl: `y = x * scale + bias` on float32, elementwise.
 */
import code from '../../shaders/affine.wgsl?raw';
import { KernelError } from '../errors';
import type { GpuContext } from './gpu-context';
import { STORAGE_USAGE } from './gpu-context';
import { spreadWorkgroups, type Program } from './program';
import { packUniforms, type UniformLayout } from './uniforms';

const WORKGROUP_SIZE = 64;

/** `Params` of affine.wgsl. */
const PARAMS = [
  ['n', 'u32'],
  ['scale', 'f32'],
  ['bias', 'f32'],
  ['_pad', 'u32'],
] as const satisfies UniformLayout;

/** Attributes of the affine kernel. */
export interface AffineAttrs {
  scale: number;
  bias: number;
}

/** The program for `n` elements. */
export function affineProgram(n: number): Program {
  return {
    shaderKey: 'affine',
    label: 'webq8:affine',
    code,
    constants: { WORKGROUP_SIZE },
    workgroups: spreadWorkgroups(Math.ceil(n / WORKGROUP_SIZE)),
  };
}

/**
 * Computes `x * scale + bias` for `n` float32 elements of `x` into a new pooled buffer, which the
 * caller owns (release it to `ctx.buffers`).
 */
export function affine(ctx: GpuContext, x: GPUBuffer, n: number, attrs: AffineAttrs): GPUBuffer {
  if (!Number.isInteger(n) || n <= 0) throw new KernelError(`affine: element count is ${n}, and it must be a positive integer.`, { n });
  if (x.size < n * 4) throw new KernelError(`affine: input buffer holds ${x.size} bytes, and ${n} float32 elements need ${n * 4}.`, { n, bytes: x.size });
  const y = ctx.buffers.acquire(n * 4, STORAGE_USAGE, 'affine.y');
  const params = packUniforms(PARAMS, { n, scale: attrs.scale, bias: attrs.bias });
  ctx.dispatch(
    affineProgram(n),
    [
      { buffer: x, size: n * 4 },
      { buffer: y, size: n * 4 },
    ],
    params,
  );
  return y;
}
