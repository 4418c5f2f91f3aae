/**
 * `WeightOnlyMatMul`, the plan step of weight-only int8 matmuls (QDQ weight-only `MatMul(X,
 * DequantizeLinear(W))` and `com.microsoft` `MatMulNBits` with `bits = 8`, see src/graph/): inputs
 * `[X: float32 [..., K]]`; constants `W` (uint8/int8 `[K, N]`), `scale` (`[blocks, N]`, `[N]` or one
 * value), optional `zero_point` (shaped like `scale`, W's type) and `bias` (`[N]`); attrs
 * `block_size` (rows of K per scale block; absent = one block). Output `[Y: float32 [..., N]]`.
 */
import { KernelError } from '../errors';
import type { TensorLike } from '../types';
import type { KernelFactory } from './registry';
import { packWeightOnly, uploadWeightOnly, w8a32Matmul } from './w8a32';

function constant(op: string, constants: Record<string, TensorLike> | undefined, name: string): TensorLike | undefined {
  const t = constants?.[name];
  if (t && !ArrayBuffer.isView(t.data)) throw new KernelError(`${op}: the constant "${name}" has no data.`);
  return t;
}

/** Prepares a `WeightOnlyMatMul` step: packs and uploads the weights once. */
export const weightOnlyMatMulStep: KernelFactory = (ctx, def) => {
  const op = 'WeightOnlyMatMul';
  const W = constant(op, def.constants, 'W');
  const scale = constant(op, def.constants, 'scale');
  if (!W || (W.type !== 'uint8' && W.type !== 'int8') || W.dims.length !== 2)
    throw new KernelError(`${op}: the constant "W" must be a uint8/int8 [K, N] tensor.`, { op });
  if (!scale || scale.type !== 'float32') throw new KernelError(`${op}: the constant "scale" must be float32.`, { op });
  const zp = constant(op, def.constants, 'zero_point');
  const bias = constant(op, def.constants, 'bias');
  const [k, n] = W.dims as [number, number];
  const block = Number(def.attrs.block_size ?? k) || k;
  const packed = packWeightOnly({
    data: W.data as Uint8Array | Int8Array,
    type: W.type,
    k,
    n,
    block,
    scales: scale.data as Float32Array,
    ...(zp ? { zeros: zp.data as ArrayLike<number> } : {}),
  });
  const weights = uploadWeightOnly(ctx, packed);
  const biasBuf = bias ? ctx.upload(bias.data as Float32Array, 'w8a32.bias') : undefined;
  return {
    run([x]) {
      if (!x || x.type !== 'float32') throw new KernelError(`${op} takes one float32 tensor [..., K], and got ${x ? x.type : 'none'}.`, { op });
      const out = w8a32Matmul(ctx, x.buffer, x.dims, weights, biasBuf);
      return [{ buffer: out.buffer, type: 'float32', dims: out.dims }];
    },
    dispose() {
      weights.dispose();
      if (biasBuf) ctx.buffers.release(biasBuf);
    },
  };
};
