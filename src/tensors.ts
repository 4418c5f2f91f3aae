/**
 * Tensor helpers shared by the main thread and the worker: dtype sizes, typed-array views, and
 * the transfer list that moves tensor memory across `postMessage` instead of copying it.
 */
import { InputError } from './errors';
import type { DType, TensorData, TensorLike, TensorMap } from './types';

export { bytesPerElement, typedArrayFor } from './dtypes';

/**
 * Plain `{type, dims, data}` from an `ort.Tensor` or a plain tensor. GPU-resident ORT tensors
 * cannot cross into the worker: they are rejected with a message saying how to fix it.
 */
export function toPlainTensor(name: string, t: unknown): TensorLike {
  const x = t as { type?: unknown; dims?: unknown; data?: unknown; location?: unknown; cpuData?: unknown };
  if (!x || typeof x !== 'object') throw new InputError(`Input "${name}" is ${String(t)}; pass a tensor {type, dims, data} or an ort.Tensor.`, { input: name });
  if (x.location !== undefined && x.location !== 'cpu' && x.location !== 'cpu-pinned') {
    throw new InputError(
      `Input "${name}" lives in ${String(x.location)}; webq8 runs models in a worker and needs CPU data. Call \`await tensor.getData()\` and pass {type, dims, data}.`,
      { input: name },
    );
  }
  const data = x.location !== undefined ? (x.cpuData ?? x.data) : x.data;
  return { type: x.type as DType, dims: Array.isArray(x.dims) ? [...(x.dims as number[])] : (x.dims as number[]), data: data as TensorData };
}

/**
 * The buffers to transfer for `tensors`. A view that covers only part of its buffer is copied
 * first (transferring would detach the caller's unrelated data), and SharedArrayBuffers are
 * left to be shared. Returns the (possibly copied) tensors and the transfer list.
 */
export function transferable(tensors: TensorMap): { tensors: TensorMap; transfer: ArrayBuffer[] } {
  const out: TensorMap = {};
  const seen = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(tensors)) {
    let data = t.data;
    const buf = data?.buffer;
    if (buf instanceof ArrayBuffer) {
      if (data.byteOffset !== 0 || data.byteLength !== buf.byteLength || seen.has(buf)) data = data.slice() as TensorData;
      seen.add(data.buffer as ArrayBuffer);
    }
    out[name] = { type: t.type, dims: t.dims, data };
  }
  return { tensors: out, transfer: [...seen] };
}

/**
 * A deep copy of `feeds` (new dims and new buffers): a copy stays whole when the original's buffers
 * are transferred to a Worker (a second replica's retry, a shadow run, a warm-up with recent inputs).
 */
export function copyFeeds(feeds: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = { type: t.type, dims: [...t.dims], data: t.data.slice() as TensorData };
  return out;
}
