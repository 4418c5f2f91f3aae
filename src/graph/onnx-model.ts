/**
 * Reading ONNX models for the partitioner and the quantizer: decode a ModelProto, index its
 * values (producers, consumers, constants) and turn TensorProtos into {@link TensorLike}s.
 *
 * Memory: protobufjs decodes `bytes` fields as `subarray` views of the input, so the weights of a
 * decoded model (`raw_data`, which every exporter we know writes) are not copied; only the graph
 * structure is materialised. Models that store weights in the typed repeated fields (`float_data`,
 * …) cost a JS number array per tensor instead — still correct, just heavier.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { ModelFormatError } from '../errors';
import { allocTyped, dtypeOfOnnx, ONNX } from '../dtypes';
import type { DType, TensorLike, ValueInfo } from '../types';

// onnx-proto is CommonJS: a default import works in Node ESM, Vite and Playwright alike.
const { onnx } = onnxProto;

export { onnx };
/** Decoded protobuf message types, re-exported for the other graph modules. */
export type ModelProto = OnnxTypes.ModelProto;
/** A decoded NodeProto. */
export type NodeProto = OnnxTypes.INodeProto;
/** A decoded TensorProto. */
export type TensorProto = OnnxTypes.ITensorProto;
/** A decoded GraphProto. */
export type GraphProto = OnnxTypes.IGraphProto;
/** A decoded ValueInfoProto. */
export type ValueInfoProto = OnnxTypes.IValueInfoProto;

/** A protobufjs 64-bit integer (Long) or a plain number. */
export type IntLike = number | { toNumber(): number };

/**
 * A graph input or output as the model declares it: element type (`'unknown'` for non-tensors or
 * types webq8 does not carry) and dims (a number, the symbol's name, or `null` when unnamed).
 */
export function declaredValue(v: ValueInfoProto): ValueInfo {
  const tensor = v.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d) => (d.dimValue != null ? num(d.dimValue) : d.dimParam || null));
  return { name: v.name ?? '', type: (tensor && dtypeOfOnnx(tensor.elemType)) || 'unknown', dims };
}

/** `x` as a JS number (int64 fields decode as Long objects). */
export function num(x: IntLike | null | undefined): number {
  if (x === null || x === undefined) return 0;
  return typeof x === 'number' ? x : x.toNumber();
}

/** Decodes ONNX bytes; throws {@link ModelFormatError} with the decoder's reason. */
export function decodeModel(bytes: Uint8Array, source = 'model'): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new ModelFormatError(
      `${source} could not be decoded as an ONNX ModelProto: ${cause instanceof Error ? cause.message : String(cause)}.`,
      { source },
      { cause },
    );
  }
}

/** The opset version of the default (`ai.onnx`) domain. */
export function defaultOpset(model: ModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return o ? num(o.version as IntLike) : 1;
}

/** An attribute of `node` by name. */
export function attr(node: NodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

/** An INT attribute (or `fallback`). */
export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? num(a.i as IntLike) : fallback;
}

/** The tensor's dims as numbers. */
export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => num(d as IntLike));
}

/**
 * Bytes of external tensors bound by `bindExternalData` (src/graph/external-data.ts), keyed by the
 * tensor's `externalData` array: decoded protos are shallow-copied in places
 * (`constantNodeTensor`), and every copy shares that array.
 */
const BOUND = new WeakMap<object, Uint8Array>();

/** Whether `t` keeps its bytes in an external data file. */
export function isExternal(t: TensorProto): boolean {
  return (t.externalData ?? []).length > 0 || t.dataLocation === 1;
}

/** A data file read by ranges (the weight cache's reader over a stored entry, or bytes in hand). */
export interface ExternalSource {
  /** The file's length in bytes. */
  readonly size: number;
  /** Whether `read` copies (then into `into` when it is long enough); else it gives views of bytes it holds. */
  readonly copies?: boolean;
  /** Bytes `[offset, offset + length)` of the file (see {@link ExternalSource.copies}). */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
}

/** Where the bytes of a tensor read later live: its file and its range there. */
export interface ExternalSlice {
  source: ExternalSource;
  offset: number;
  length: number;
}

/** External tensors bound to a slice (read when a kernel step is prepared), keyed like {@link BOUND}. */
const SLICED = new WeakMap<object, ExternalSlice>();
/** The placeholders {@link toTensor} returns for them. */
const DEFERRED = new WeakMap<TensorLike, ExternalSlice>();

/** Lets {@link toTensor} give external tensor `t` as a placeholder that names `slice` (see {@link deferredSlice}). */
export function bindTensorSlice(t: TensorProto, slice: ExternalSlice): void {
  t.externalData ??= [];
  SLICED.set(t.externalData, slice);
}

/** The file range of a tensor {@link toTensor} left unread, or undefined for a tensor with its data. */
export function deferredSlice(t: TensorLike): ExternalSlice | undefined {
  return DEFERRED.get(t);
}

/** A tensor whose bytes stay in `slice` until a kernel step is prepared; reading its `data` before is a bug. */
function deferredTensor(type: DType, dims: number[], name: string, slice: ExternalSlice): TensorLike {
  const t = { type, dims } as unknown as TensorLike;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    get() {
      throw new ModelFormatError(`Tensor "${name}" is read from its data file when its kernel step is prepared; it was needed before.`, { tensor: name });
    },
  });
  DEFERRED.set(t, slice);
  return t;
}

/** Lets {@link toTensor} read external tensor `t` from `bytes` (a view of its data file). */
export function bindTensorBytes(t: TensorProto, bytes: Uint8Array): void {
  t.externalData ??= [];
  BOUND.set(t.externalData, bytes);
}

/**
 * A TensorProto as a {@link TensorLike} with its own (aligned, copied) typed array, so it keeps
 * no reference to the model bytes. External tensors are read from their bound data file; one not
 * bound, or of an unknown type, is a {@link ModelFormatError}.
 */
export function toTensor(t: TensorProto): TensorLike {
  const type = dtypeOfOnnx(t.dataType);
  const name = t.name ?? '(unnamed)';
  if (!type) throw new ModelFormatError(`Tensor "${name}" has ONNX data type ${t.dataType}, which webq8 does not read.`, { tensor: name });
  const external = isExternal(t);
  const slice = external && t.externalData ? SLICED.get(t.externalData) : undefined;
  if (slice) return deferredTensor(type, dimsOf(t), name, slice);
  const raw = external ? t.externalData && BOUND.get(t.externalData) : t.rawData;
  if (external && !raw) {
    throw new ModelFormatError(
      `Tensor "${name}" uses external data that was not provided; load the model by URL, or pass its data files as the externalData option.`,
      {
        tensor: name,
      },
    );
  }
  const dims = dimsOf(t);
  const count = dims.reduce((a, b) => a * b, 1);
  const out = allocTyped(type, count);
  if (raw && raw.byteLength > 0) {
    const bytes = new Uint8Array(out.buffer);
    if (raw.byteLength !== bytes.byteLength)
      throw new ModelFormatError(`Tensor "${name}" has ${raw.byteLength} raw bytes, and dims ${JSON.stringify(dims)} need ${bytes.byteLength}.`, {
        tensor: name,
      });
    bytes.set(raw);
    return { type, dims, data: out };
  }
  const field = typedField(t, type);
  if (field.length !== count)
    throw new ModelFormatError(`Tensor "${name}" has ${field.length} values, and dims ${JSON.stringify(dims)} need ${count}.`, { tensor: name });
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) field.forEach((v, i) => (out[i] = BigInt(num(v as IntLike))));
  else if (type === 'float16')
    field.forEach((v, i) => (out[i] = num(v as IntLike) & 0xffff)); // int32_data holds the bits
  else field.forEach((v, i) => (out[i] = num(v as IntLike)));
  return { type, dims, data: out };
}

function typedField(t: TensorProto, type: DType): unknown[] {
  switch (type) {
    case 'float32':
      return t.floatData ?? [];
    case 'float64':
      return t.doubleData ?? [];
    case 'int64':
      return t.int64Data ?? [];
    case 'uint32':
    case 'uint64':
      return t.uint64Data ?? [];
    default:
      return t.int32Data ?? [];
  }
}

/** The tensor a `Constant` node holds (its `value` attribute, or a scalar/list attribute), or undefined. */
export function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  const out = node.output?.[0] ?? '';
  for (const a of node.attribute ?? []) {
    if (a.name === 'value' && a.t) return { ...a.t, name: out };
    if (a.name === 'value_float') return onnx.TensorProto.create({ name: out, dataType: ONNX.FLOAT, dims: [], floatData: [a.f ?? 0] });
    if (a.name === 'value_floats')
      return onnx.TensorProto.create({ name: out, dataType: ONNX.FLOAT, dims: [(a.floats ?? []).length], floatData: a.floats ?? [] });
    if (a.name === 'value_int') return onnx.TensorProto.create({ name: out, dataType: ONNX.INT64, dims: [], int64Data: [a.i ?? 0] });
    if (a.name === 'value_ints') return onnx.TensorProto.create({ name: out, dataType: ONNX.INT64, dims: [(a.ints ?? []).length], int64Data: a.ints ?? [] });
  }
  return undefined;
}

/** An index of one graph: constants, producers and consumers by value name. */
export interface GraphIndex {
  graph: GraphProto;
  nodes: NodeProto[];
  /** Constant values by name: initializers and `Constant` node outputs. */
  constants: Map<string, TensorProto>;
  /** Index of the `Constant` node that produces a value (absent for initializers). */
  constantNode: Map<string, number>;
  /** Index of the node producing each value. */
  producer: Map<string, number>;
  /** Indices of the nodes reading each value (a node reading it twice is listed once). */
  consumers: Map<string, number[]>;
  graphInputs: Set<string>;
  graphOutputs: Set<string>;
}

/** Builds the {@link GraphIndex} of `graph`; inputs include outer-scope names read by subgraphs. */
export function indexGraph(graph: GraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const constants = new Map<string, TensorProto>();
  const constantNode = new Map<string, number>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) producer.set(o, i);
    if (n.opType === 'Constant' && !n.domain) {
      const t = constantNodeTensor(n);
      const o = n.output?.[0];
      if (t && o) {
        constants.set(o, t);
        constantNode.set(o, i);
      }
    }
    for (const v of new Set(nodeReads(n))) {
      const list = consumers.get(v) ?? [];
      list.push(i);
      consumers.set(v, list);
    }
  });
  return {
    graph,
    nodes,
    constants,
    constantNode,
    producer,
    consumers,
    graphInputs: new Set((graph.input ?? []).map((v) => v.name ?? '').filter((n) => !constants.has(n))),
    graphOutputs: new Set((graph.output ?? []).map((v) => v.name ?? '')),
  };
}

/** Every value name a node reads: its inputs plus outer-scope names its subgraphs use. */
export function nodeReads(node: NodeProto): string[] {
  const reads = (node.input ?? []).filter((s) => s !== '');
  for (const a of node.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) reads.push(...outerReads(g));
  return reads;
}

function outerReads(g: GraphProto): string[] {
  const defined = new Set<string>([...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  const reads: string[] = [];
  for (const n of g.node ?? []) {
    for (const v of nodeReads(n)) if (!defined.has(v)) reads.push(v);
    for (const o of n.output ?? []) defined.add(o);
  }
  return reads;
}
