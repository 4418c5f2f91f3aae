/**
 * Builds small ONNX models in code: one-node models for tests and benchmarks, and (later) the
 * sub-models of a partition plan. Serialization goes through `onnx-proto` (protobufjs).
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnxType } from '../dtypes';
import type { DType, TensorLike } from '../types';

// onnx-proto is CommonJS: a default import works in Node ESM, Vite and Playwright alike.
const { onnx } = onnxProto;

/** A graph input/output: name, dtype, shape (strings are symbolic dims). */
export interface ValueSpec {
  name: string;
  type: DType;
  dims: (number | string)[];
}

/** A node: op type, input/output names, attributes (numbers, number arrays, strings). */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  name?: string;
  attrs?: Record<string, number | number[] | string | { float: number }>;
}

/** A whole model. */
export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  /** Constant tensors (weights) by name. */
  initializers?: Record<string, TensorLike>;
  /** Default opset 17. */
  opset?: number;
  /** Extra opset imports, e.g. `{ 'com.microsoft': 1 }`. */
  domains?: Record<string, number>;
  name?: string;
}

/** Serializes `spec` to ONNX bytes. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: spec.name ?? 'webq8',
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    node: spec.nodes.map((n, i) =>
      onnx.NodeProto.create({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
      }),
    ),
    initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => tensorProto(name, t)),
  });
  const opsets = [{ domain: '', version: spec.opset ?? 17 }, ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version }))];
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'webq8', opsetImport: opsets.map((o) => onnx.OperatorSetIdProto.create(o)), graph });
  return onnx.ModelProto.encode(model).finish();
}

/** A TensorProto with raw little-endian data. */
export function tensorProto(name: string, t: TensorLike): OnnxTypes.TensorProto {
  const data = t.data as ArrayBufferView;
  return onnx.TensorProto.create({
    name,
    dataType: onnxType(t.type),
    dims: [...t.dims],
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  });
}

function valueInfo(v: ValueSpec): OnnxTypes.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnxType(v.type),
        shape: onnx.TensorShapeProto.create({
          dim: v.dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: number | number[] | string | { float: number }): OnnxTypes.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return Number.isInteger(v) ? onnx.AttributeProto.create({ name, type: T.INT, i: v }) : onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
}
