/**
 * The device's storage-buffer binding limit, checked for every kernel weight before it is packed and
 * uploaded. A kernel binds each constant as one storage buffer, and a device binds at most
 * `maxStorageBufferBindingSize` bytes per buffer (128 MiB by WebGPU's default, and what many Android
 * devices offer) in buffers of at most `maxBufferSize`. The weight of a matmul step (B, b or W) above
 * that is split along N into column blocks that each fit (src/kernels/weight-parts.ts), so the
 * check only plans it here, and throws its `WeightTooLargeError` when 4 columns alone do not fit.
 * Any other constant (a conv's weight) is not split: above the limit, preparing it throws a
 * {@link KernelError} that names the kernel step, the weight, its size and the limit, before that
 * weight reaches the GPU. Either way the load then keeps plain ORT and says why in
 * `model.info.strategy.reason` (src/worker/strategy.ts).
 */
import { KernelError } from '../errors';
import type { KernelStep, Plan } from '../graph/plan';
import { forceWeightPartLimit, int8BlockBytes, planWeightParts, weightOnlyBlockBytes, weightPartLimit } from '../kernels/weight-parts';
import type { ModelMemory } from '../types';

/** Test hook: check and split kernel weights against `bytes` instead of the device's limit (from now on, in this Worker). */
export function forceBindingLimit(bytes: number): void {
  forceWeightPartLimit(bytes);
}

/** The limit `'small-binding-limit'` sets: small enough for the test fixtures' weights. */
export const SMALL_BINDING_LIMIT = 4096;

/** The limit `'tiny-binding-limit'` sets: below one block of 4 columns of a weight with K ≥ 32. */
export const TINY_BINDING_LIMIT = 128;

/** The constant each matmul op splits along N when it is larger than one binding, and its bytes per block of 4 columns. */
const SPLIT: Record<string, { name: string; blockBytes: (k: number, matrices: number, step: KernelStep) => number }> = {
  MatMulInteger: { name: 'B', blockBytes: int8BlockBytes },
  QuantizedMatMul: { name: 'B', blockBytes: int8BlockBytes },
  QLinearMatMul: { name: 'b', blockBytes: int8BlockBytes },
  // The scale blocks as src/kernels/w8a32-ops.ts reads `block_size` (absent: one block).
  WeightOnlyMatMul: {
    name: 'W',
    blockBytes: (k, _m, step) => weightOnlyBlockBytes(k, Math.ceil(k / Math.min(Math.max(1, Math.floor(Number(step.attrs.block_size ?? k) || k)), k))),
  },
};

/** How many column blocks the split weight `constant` of `step` is packed into on a device of `limit` (1: not split); undefined for a constant that is never split. */
function splitParts(step: KernelStep, constant: string, limit: number): number | undefined {
  const split = SPLIT[step.op];
  const t = step.constants?.[constant];
  if (!t || split?.name !== constant || t.dims.length < 2) return undefined;
  const [k, n] = t.dims.slice(-2) as [number, number];
  const matrices = t.dims.slice(0, -2).reduce((a, b) => a * b, 1);
  return planWeightParts({ op: step.op, dims: t.dims, n, blockBytes: split.blockBytes(k, matrices, step) }, limit).length;
}

/**
 * Throws {@link KernelError} when a constant of kernel step `index` that is never split needs a
 * storage binding larger than the device's limit (or the forced test limit), and
 * `WeightTooLargeError` when its matmul weight cannot be split finely enough.
 */
export function checkBindingLimit(step: KernelStep, index: number, device: GPUDevice): void {
  const limit = weightPartLimit(device);
  for (const [constant, t] of Object.entries(step.constants ?? {})) {
    if (splitParts(step, constant, limit) !== undefined) continue;
    const bytes = boundBytes(t.type, t.dims, t.data.byteLength);
    if (bytes <= limit) continue;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;
    throw new KernelError(
      `Kernel step ${index} (${step.op}, writing "${step.outputs[0] ?? ''}") binds its ${constant} weight, ${t.type} [${t.dims.join(', ')}], as ${mib(bytes)}, and this GPU binds at most ${mib(limit)} per storage buffer (maxStorageBufferBindingSize = ${limit}). webq8 splits only matmul weights across bindings: load this model with backend: 'wasm', or with strategy: 'ort' (ORT's WebGPU EP has the same limit per tensor).`,
      { op: step.op, step: index, constant, dims: [...t.dims], bytes, limit, limitName: 'maxStorageBufferBindingSize' },
    );
  }
}

/** `model.info.memory.splitWeights` of prepared `plans` on `device`: the matmul weights split into column blocks; undefined when none is. */
export function splitWeightsOf(plans: readonly Plan[], device: GPUDevice): ModelMemory['splitWeights'] {
  const limit = weightPartLimit(device);
  let weights = 0;
  let parts = 0;
  for (const step of plans.flatMap((p) => p.steps)) {
    if (step.kind !== 'kernel') continue;
    const count = splitParts(step, SPLIT[step.op]?.name ?? '', limit) ?? 1;
    if (count === 1) continue;
    weights++;
    parts += count;
  }
  return weights ? { weights, parts, limit } : undefined;
}

/** Bytes a constant occupies once prepacked: int8 matrices are padded to multiples of 4 in K and N. */
function boundBytes(type: string, dims: readonly number[], byteLength: number): number {
  if ((type !== 'int8' && type !== 'uint8') || dims.length < 2) return byteLength;
  const k = dims[dims.length - 2]!;
  const n = dims[dims.length - 1]!;
  const matrices = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  return matrices * Math.ceil(k / 4) * 4 * Math.ceil(n / 4) * 4;
}
