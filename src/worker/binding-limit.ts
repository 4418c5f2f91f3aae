/**
 * The device's storage-buffer binding limit, checked for every kernel weight before it is packed and
 * uploaded. A kernel binds each prepacked weight as one storage buffer, so a weight larger than the
 * device's `maxStorageBufferBindingSize` (128 MiB by WebGPU's default, and what many Android devices
 * offer) cannot run on the kernel plan: preparing it throws a {@link KernelError} that names the
 * kernel step, the weight, its size and the limit, before that weight reaches the GPU. The load then
 * keeps plain ORT and says why in `model.info.strategy.reason` (src/worker/strategy.ts). Weights are
 * not split across bindings (yet).
 */
import { KernelError } from '../errors';
import type { KernelStep } from '../graph/plan';

/** A smaller limit than the device's, set by the `'small-binding-limit'` test hook (bytes). */
let forced: number | undefined;

/** Test hook: check kernel weights against `bytes` instead of the device's limit (from now on, in this Worker). */
export function forceBindingLimit(bytes: number): void {
  forced = bytes;
}

/** The limit `'small-binding-limit'` sets: small enough for the test fixtures' weights. */
export const SMALL_BINDING_LIMIT = 4096;

/**
 * Throws {@link KernelError} when a constant of kernel step `index` needs a storage binding larger
 * than `device.limits.maxStorageBufferBindingSize` (or the forced test limit).
 */
export function checkBindingLimit(step: KernelStep, index: number, device: GPUDevice): void {
  const deviceLimit = device.limits.maxStorageBufferBindingSize;
  const limit = Math.min(forced ?? deviceLimit, deviceLimit);
  for (const [constant, t] of Object.entries(step.constants ?? {})) {
    const bytes = boundBytes(t.type, t.dims, t.data.byteLength);
    if (bytes <= limit) continue;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;
    throw new KernelError(
      `Kernel step ${index} (${step.op}, writing "${step.outputs[0] ?? ''}") binds its ${constant} weight, ${t.type} [${t.dims.join(', ')}], as ${mib(bytes)}, and this GPU binds at most ${mib(limit)} per storage buffer (maxStorageBufferBindingSize = ${limit}). webq8 does not split weights across bindings: load this model with backend: 'wasm', or with strategy: 'ort' (ORT's WebGPU EP has the same limit per tensor), or split the MatMul into narrower ones.`,
      { op: step.op, step: index, constant, dims: [...t.dims], bytes, limit, limitName: 'maxStorageBufferBindingSize' },
    );
  }
}

/** Bytes a constant occupies once prepacked: int8 matrices are padded to multiples of 4 in K and N. */
function boundBytes(type: string, dims: readonly number[], byteLength: number): number {
  if ((type !== 'int8' && type !== 'uint8') || dims.length < 2) return byteLength;
  const k = dims[dims.length - 2]!;
  const n = dims[dims.length - 1]!;
  const matrices = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  return matrices * Math.ceil(k / 4) * 4 * Math.ceil(n / 4) * 4;
}
