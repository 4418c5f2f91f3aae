/**
 * The streaming side of external data: a model's data files read by ranges (an
 * {@link ExternalSource}), never whole, on the kernel plan.
 * - Before planning, {@link readEarly} reads every external tensor except the int8 matrices (the
 *   scales, zero points and biases the patterns inspect: small).
 * - An int8 matrix stays in its file: `toTensor` gives a placeholder naming its range, and
 *   {@link hydrateStep} reads it when its kernel step is prepared (one tensor at a time, packed
 *   into its GPU buffer and dropped). A rebuild after a lost device reads it again.
 * - An ORT segment gets a file of its own ranges only: {@link segmentExternal} lays them out one
 *   after another and rewrites the segment's `offset` entries, and {@link externalDataOf} reads
 *   them when the session is created (ORT copies them; the Worker drops them).
 */
import onnxProto from 'onnx-proto';
import { ONNX } from '../dtypes';
import type { TensorLike } from '../types';
import { allTensors, fileBytes, locationsOf, refOf, type ExternalFiles, type StreamedFile } from './external-data';
import { decodeModel, deferredSlice, dimsOf, isExternal, type ExternalSource, type NodeProto, type TensorProto } from './onnx-model';
import type { ExternalDataFile, ExternalRanges, KernelStep } from './plan';

const { onnx } = onnxProto;

/** int8/uint8 matrices of at least this many bytes are read when their kernel step is prepared. */
export const DEFER_MIN_BYTES = 1024;

/** Whether `t` is read by {@link hydrateStep} instead of before planning. */
function deferred(t: TensorProto): boolean {
  const dims = dimsOf(t);
  const bytes = dims.reduce((a, b) => a * b, 1);
  return (t.dataType === ONNX.INT8 || t.dataType === ONNX.UINT8) && dims.length === 2 && bytes >= DEFER_MIN_BYTES;
}

/**
 * The data files of the model `bytes` for planning: each reader, with the bytes of its tensors
 * that planning reads (all but the int8 matrices), read in file order. Ranges outside a file are
 * left for `bindExternalData` to report.
 */
export async function readEarly(bytes: Uint8Array, sources: ReadonlyMap<string, ExternalSource>, label?: string): Promise<Map<string, StreamedFile>> {
  const model = decodeModel(bytes, label);
  const refs = [...allTensors(model.graph ?? {})]
    .filter((t) => isExternal(t) && !deferred(t))
    .map(refOf)
    .sort((a, b) => (a.location === b.location ? a.offset - b.offset : a.location < b.location ? -1 : 1));
  const early = new Map<string, Map<number, Uint8Array>>();
  for (const r of refs) {
    const source = sources.get(r.location);
    if (!source || r.offset + r.length > source.size) continue;
    const got = early.get(r.location) ?? new Map<number, Uint8Array>();
    early.set(r.location, got);
    got.set(r.offset, await source.read(r.offset, r.length));
  }
  return new Map([...sources].map(([location, source]) => [location, { source, early: early.get(location) ?? new Map() }]));
}

/**
 * `step` with every constant left in its file read (int8 matrices: views of the bytes read, no
 * copy). The first one is read into `scratch.bytes` (grown as needed), which the caller reuses
 * from step to step once each is packed: one tensor's buffer for the whole plan.
 */
export async function hydrateStep(step: KernelStep, scratch: { bytes?: Uint8Array } = {}): Promise<KernelStep> {
  const entries = Object.entries(step.constants ?? {});
  if (!entries.some(([, t]) => deferredSlice(t))) return step;
  const constants: Record<string, TensorLike> = {};
  for (const [name, t] of entries) {
    const slice = deferredSlice(t);
    if (!slice) {
      constants[name] = t;
      continue;
    }
    // A reader that copies fills the scratch buffer; one that gives views of bytes it holds needs none.
    const into = slice.source.copies
      ? (scratch.bytes = scratch.bytes && scratch.bytes.length >= slice.length ? scratch.bytes : new Uint8Array(slice.length))
      : undefined;
    const bytes = await slice.source.read(slice.offset, slice.length, into);
    scratch = {}; // a second constant of this step needs its own buffer
    const data = t.type === 'int8' ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
    constants[name] = { type: t.type, dims: t.dims, data };
  }
  return { ...step, constants };
}

/** Bytes of a constant: its range when it is still in its file. */
export function constantBytes(t: TensorLike): number {
  return deferredSlice(t)?.length ?? t.data.byteLength;
}

/** The data files of an ORT step, read (ranges assembled into one buffer per file) for ORT's `externalData` option. */
export async function externalDataOf(files: readonly ExternalDataFile[]): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const f of files) {
    if ('data' in f) {
      out.push({ path: f.path, data: f.data });
      continue;
    }
    const data = new Uint8Array(f.ranges.bytes);
    for (const p of f.ranges.parts) data.set(await f.ranges.source.read(p.offset, p.length), p.at);
    out.push({ path: f.path, data });
  }
  return out;
}

/** Bytes per read of a whole file (progress is reported per read). */
const WHOLE_PART_BYTES = 16 * 2 ** 20;

/** A whole data file as the ranges of an ORT step (read in parts of {@link WHOLE_PART_BYTES}). */
export function wholeFile(path: string, file: Uint8Array | StreamedFile): ExternalDataFile {
  if (file instanceof Uint8Array) return { path, data: file };
  const size = fileBytes(file);
  const parts = Array.from({ length: Math.ceil(size / WHOLE_PART_BYTES) }, (_, i) => {
    const at = i * WHOLE_PART_BYTES;
    return { offset: at, length: Math.min(WHOLE_PART_BYTES, size - at), at };
  });
  return { path, ranges: { source: file.source, parts, bytes: size } };
}

/** Alignment of each range in a segment's own file. */
const ALIGN = 16;

/**
 * The external data of a segment made of `initializers` and `constantNodes`: files given whole are
 * named as they are; a streamed file becomes the segment's own ranges, laid out one after another,
 * with the tensors (copies) pointing at their new offsets.
 */
export function segmentExternal(
  initializers: TensorProto[],
  constantNodes: NodeProto[],
  files: ExternalFiles,
): { initializers: TensorProto[]; constantNodes: NodeProto[]; externalData: ExternalDataFile[] } {
  const layouts = new Map<string, { source: ExternalSource; parts: ExternalRanges['parts']; at: Map<string, number>; bytes: number }>();
  const externalData: ExternalDataFile[] = [];
  for (const path of locationsOf(initializers, constantNodes)) {
    const f = files.get(path);
    if (f instanceof Uint8Array) externalData.push({ path, data: f });
    else if (f) layouts.set(path, { source: f.source, parts: [], at: new Map(), bytes: 0 });
  }
  const move = (t: TensorProto): TensorProto => {
    if (!isExternal(t)) return t;
    const r = refOf(t);
    const layout = layouts.get(r.location);
    if (!layout) return t;
    const key = `${r.offset}:${r.length}`;
    let at = layout.at.get(key);
    if (at === undefined) {
      at = layout.bytes;
      layout.at.set(key, at);
      layout.parts.push({ offset: r.offset, length: r.length, at });
      layout.bytes = Math.ceil((at + r.length) / ALIGN) * ALIGN;
    }
    const entries = [
      { key: 'location', value: r.location },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(r.length) },
    ].map((e) => onnx.StringStringEntryProto.create(e));
    return onnx.TensorProto.create({ ...t, externalData: entries });
  };
  const node = (n: NodeProto): NodeProto =>
    onnx.NodeProto.create({
      ...n,
      attribute: (n.attribute ?? []).map((a) =>
        a.t || a.tensors?.length ? onnx.AttributeProto.create({ ...a, ...(a.t ? { t: move(a.t) } : {}), tensors: (a.tensors ?? []).map(move) }) : a,
      ),
    });
  const moved = { initializers: initializers.map(move), constantNodes: constantNodes.map(node) };
  for (const [path, l] of layouts) externalData.push({ path, ranges: { source: l.source, parts: l.parts, bytes: l.bytes } });
  return { ...moved, externalData };
}
