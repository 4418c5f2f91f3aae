/**
 * webq8's own plan ops, registered explicitly: the worker's engine calls
 * {@link registerBuiltinKernels} once before it prepares a plan, and apps that drive the registry
 * themselves (the `webq8/kernels` subpath) call it too. Registration is explicit, not a side effect
 * of importing a module, so it does not depend on what a bundler keeps: package.json's `sideEffects`
 * lists `dist/worker.js` (which starts the Worker's RPC on import), `dist/kernels.js` and
 * `dist/chunks/`, and any other module may be dropped when nothing imported from it is used.
 */
import { KernelError } from '../errors';
import { affine } from './affine';
import { CONV_KERNELS } from './conv-ops';
import { INT8_KERNELS } from './int8-ops';
import { elementCount, registerKernel, type KernelFactory } from './registry';
import { weightOnlyMatMulStep } from './w8a32-ops';
import { sampleTokensStep } from './sample';

/** `affine`: `y = x · scale + bias` on one float32 tensor (the hand-off plan tests use it). */
const affineStep: KernelFactory = (ctx, def) => {
  const scale = Number(def.attrs.scale ?? 1);
  const bias = Number(def.attrs.bias ?? 0);
  return {
    run([x]) {
      if (!x || x.type !== 'float32') throw new KernelError(`affine takes one float32 tensor, and got ${x ? x.type : 'none'}.`);
      return [{ buffer: affine(ctx, x.buffer, elementCount(x.dims), { scale, bias }), type: 'float32', dims: [...x.dims] }];
    },
    dispose() {},
  };
};

/** Every op webq8 ships, by name. */
export const BUILTIN_KERNELS: Readonly<Record<string, KernelFactory>> = {
  affine: affineStep,
  SampleTokens: sampleTokensStep,
  ...INT8_KERNELS,
  ...CONV_KERNELS,
  WeightOnlyMatMul: weightOnlyMatMulStep,
};

/** Registers {@link BUILTIN_KERNELS} in the kernel registry. Idempotent. */
export function registerBuiltinKernels(): void {
  for (const [op, factory] of Object.entries(BUILTIN_KERNELS)) registerKernel(op, factory);
}
