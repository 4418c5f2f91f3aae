/**
 * Tensor helpers shared by the main thread and the worker: dtype sizes, typed-array views, and
 * the transfer list that moves tensor memory across `postMessage` instead of copying it.
 */
import { InputError } from './errors';
import type { DType, TensorData, TensorLike, TensorMap } from './types';

const BYTES: Record<DType, number> = {
  float32: 4, float16: 2, float64: 8, int32: 4, uint32: 4, int64: 8, uint64: 8, int16: 2, uint16: 2, int8: 1, uint8: 1, bool: 1,
};

/** Bytes per element of `type`. */
export function bytesPerElement(type: DType): number {
  return BYTES[type];
}

/** A typed array of `type` over `buffer` (the whole buffer). */
export function typedArrayFor(type: DType, buffer: ArrayBuffer): TensorData {
  switch (type) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'uint32': return new Uint32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'uint64': return new BigUint64Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'uint16':
    case 'float16': return new Uint16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8':
    case 'bool': return new Uint8Array(buffer);
  }
}

/**
 * Plain `{type, dims, data}` from an `ort.Tensor` or a plain tensor. GPU-resident ORT tensors
 * cannot cross into the worker: they are rejected with a message saying how to fix it.
 */
export function toPlainTensor(name: string, t: unknown): TensorLike {
  const x = t as { type?: unknown; dims?: unknown; data?: unknown; location?: unknown; cpuData?: unknown };
  if (!x || typeof x !== 'object') throw new InputError(`Input "${name}" is ${String(t)}; pass a tensor {type, dims, data} or an ort.Tensor.`, { input: name });
  if (x.location !== undefined && x.location !== 'cpu' && x.location !== 'cpu-pinned') {
    throw new InputError(`Input "${name}" lives in ${String(x.location)}; webq8 runs models in a worker and needs CPU data. Call \`await tensor.getData()\` and pass {type, dims, data}.`, { input: name });
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
