/**
 * ONNX external data: tensors whose bytes live in files beside the `.onnx` (`data_location =
 * EXTERNAL`, `external_data = [{location}, {offset}, {length}]`), the form every model over 2 GB
 * must use. This module finds those tensors, checks them against the data files, and lets
 * {@link toTensor} read a tensor's bytes as a view of its file (no copy) once the files are bound.
 */
import { ExternalDataError } from '../errors';
import { bytesPerElement, dtypeOfOnnx } from '../dtypes';
import {
  bindTensorBytes,
  bindTensorSlice,
  dimsOf,
  isExternal,
  type ExternalSource,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './onnx-model';

export type { ExternalSource } from './onnx-model';

/** One tensor stored outside the model: where its bytes are. */
export interface ExternalRef {
  tensor: string;
  location: string;
  offset: number;
  /** Bytes; from the `length` key, or from dims × element size when the key is absent. */
  length: number;
  /** dims × element size, when the element type has a fixed size. */
  expected?: number;
}

/**
 * A data file read by ranges (src/graph/external-stream.ts): its reader, and the bytes of the
 * tensors read before planning (all but the int8 weights the kernels stream in), by offset.
 */
export interface StreamedFile {
  source: ExternalSource;
  early: ReadonlyMap<number, Uint8Array>;
}

/** Data files by `location` (the names the model gives them): whole, or read by ranges. */
export type ExternalFiles = ReadonlyMap<string, Uint8Array | StreamedFile>;

/** The length of a data file. */
export function fileBytes(f: Uint8Array | StreamedFile): number {
  return f instanceof Uint8Array ? f.byteLength : f.source.size;
}

/** Every tensor of `model` (initializers, Constant attributes, subgraphs) that is external, with where it lives. */
export function externalRefs(model: ModelProto): ExternalRef[] {
  const refs: ExternalRef[] = [];
  for (const t of allTensors(model.graph ?? {})) if (isExternal(t)) refs.push(refOf(t));
  return refs;
}

/** The data file locations `model` names, in first-use order. */
export function externalLocations(refs: readonly ExternalRef[]): string[] {
  return [...new Set(refs.map((r) => r.location))];
}

/**
 * Checks every external tensor against `files` and binds its bytes as a view of its file, so
 * {@link toTensor} reads it. Throws {@link ExternalDataError} for a file that is missing or too
 * short, or a length that does not match the tensor's dims.
 */
export function bindExternalData(model: ModelProto, files: ExternalFiles): void {
  for (const t of allTensors(model.graph ?? {})) {
    if (!isExternal(t)) continue;
    const r = refOf(t);
    const file = files.get(r.location);
    if (!file) {
      throw new ExternalDataError(`Tensor "${r.tensor}" is stored in the external data file "${r.location}", which was not provided.`, {
        file: r.location,
        tensor: r.tensor,
        reason: 'missing',
      });
    }
    checkRef(r, fileBytes(file));
    if (file instanceof Uint8Array) bindTensorBytes(t, file.subarray(r.offset, r.offset + r.length));
    else {
      const early = file.early.get(r.offset);
      if (early?.byteLength === r.length) bindTensorBytes(t, early);
      else bindTensorSlice(t, { source: file.source, offset: r.offset, length: r.length });
    }
  }
}

/**
 * Throws {@link ExternalDataError} when `r` does not fit a file of `fileBytes` (`truncated`) or its
 * length disagrees with the tensor's dims (`mismatch`).
 */
export function checkRef(r: ExternalRef, fileBytes: number): void {
  if (r.expected !== undefined && r.length !== r.expected) {
    throw new ExternalDataError(
      `Tensor "${r.tensor}" in "${r.location}" has length ${r.length}, and its dims need ${r.expected} bytes. The data file does not belong to this model, or the model is damaged.`,
      { file: r.location, tensor: r.tensor, reason: 'mismatch', length: r.length, expected: r.expected },
    );
  }
  if (r.offset + r.length > fileBytes) {
    throw new ExternalDataError(
      `Tensor "${r.tensor}" needs bytes ${r.offset}–${r.offset + r.length} of "${r.location}", and the file has ${fileBytes}. The data file is truncated or is not the one this model was saved with.`,
      { file: r.location, tensor: r.tensor, reason: 'truncated', offset: r.offset, length: r.length, fileBytes },
    );
  }
}

/**
 * Checks a location the way ORT does: a relative path inside the model's folder. Throws
 * {@link ExternalDataError} (`location`) for an absolute path or one that climbs out with `..`.
 */
export function checkLocation(location: string, tensor: string): void {
  const parts = location.split(/[\\/]/);
  if (location === '' || location.startsWith('/') || /^[a-z]+:/i.test(location) || parts.includes('..')) {
    throw new ExternalDataError(`Tensor "${tensor}" names the external data file "${location}"; only relative paths inside the model's folder are read.`, {
      file: location,
      tensor,
      reason: 'location',
    });
  }
}

/** The locations the tensors of `tensors` and `nodes` (Constant attributes) read. */
export function locationsOf(tensors: readonly TensorProto[], nodes: readonly NodeProto[]): string[] {
  const all = [...tensors, ...nodes.flatMap((n) => [...nodeTensors(n)])];
  return [...new Set(all.filter(isExternal).map((t) => refOf(t).location))];
}

export function refOf(t: TensorProto): ExternalRef {
  const tensor = t.name ?? '(unnamed)';
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location') ?? '';
  checkLocation(location, tensor);
  const type = dtypeOfOnnx(t.dataType);
  const count = dimsOf(t).reduce((a, b) => a * b, 1);
  const expected = type ? count * bytesPerElement(type) : undefined;
  const int = (key: string): number | undefined => {
    const v = kv.get(key);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      throw new ExternalDataError(`Tensor "${tensor}" has external_data ${key} = "${v}", which is not a byte count.`, {
        file: location,
        tensor,
        reason: 'mismatch',
      });
    }
    return Number(v);
  };
  const length = int('length') ?? expected;
  if (length === undefined) {
    throw new ExternalDataError(`Tensor "${tensor}" in "${location}" gives no length and its type has no fixed size.`, {
      file: location,
      tensor,
      reason: 'mismatch',
    });
  }
  return { tensor, location, offset: int('offset') ?? 0, length, ...(expected !== undefined ? { expected } : {}) };
}

export function* allTensors(g: GraphProto): Generator<TensorProto> {
  yield* g.initializer ?? [];
  for (const n of g.node ?? []) {
    yield* nodeTensors(n);
    for (const a of n.attribute ?? []) for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) yield* allTensors(sub);
  }
}

function* nodeTensors(n: NodeProto): Generator<TensorProto> {
  for (const a of n.attribute ?? []) {
    if (a.t) yield a.t;
    yield* a.tensors ?? [];
  }
}
