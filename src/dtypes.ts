/**
 * The one table of element types: ONNX `TensorProto.DataType` numbers, the names ORT and webq8 use,
 * the typed array that holds each, and its size. Every module that maps between these asks here.
 */
import type { DType, TensorData } from './types';

/** ONNX `TensorProto.DataType` numbers of the types webq8 names (the enum in onnx.proto). */
export const ONNX = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

type ArrayCtor = (new (n: number) => TensorData) & (new (b: ArrayBuffer) => TensorData);

interface DTypeRow {
  /** ONNX `TensorProto.DataType`. */
  onnx: number;
  /** Bytes per element. */
  bytes: number;
  /** The typed array that holds it (float16 and bool travel as their raw bits). */
  array: ArrayCtor;
}

const TABLE: Record<DType, DTypeRow> = {
  float32: { onnx: ONNX.FLOAT, bytes: 4, array: Float32Array },
  float16: { onnx: ONNX.FLOAT16, bytes: 2, array: Uint16Array },
  float64: { onnx: ONNX.DOUBLE, bytes: 8, array: Float64Array },
  int32: { onnx: ONNX.INT32, bytes: 4, array: Int32Array },
  uint32: { onnx: ONNX.UINT32, bytes: 4, array: Uint32Array },
  int64: { onnx: ONNX.INT64, bytes: 8, array: BigInt64Array as unknown as ArrayCtor },
  uint64: { onnx: ONNX.UINT64, bytes: 8, array: BigUint64Array as unknown as ArrayCtor },
  int16: { onnx: ONNX.INT16, bytes: 2, array: Int16Array },
  uint16: { onnx: ONNX.UINT16, bytes: 2, array: Uint16Array },
  int8: { onnx: ONNX.INT8, bytes: 1, array: Int8Array },
  uint8: { onnx: ONNX.UINT8, bytes: 1, array: Uint8Array },
  bool: { onnx: ONNX.BOOL, bytes: 1, array: Uint8Array },
};

const BY_ONNX = new Map<number, DType>(Object.entries(TABLE).map(([name, row]) => [row.onnx, name as DType]));

/** Whether `x` names a dtype webq8 carries. */
export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.hasOwn(TABLE, x);
}

/** Bytes per element of `type`. */
export function bytesPerElement(type: DType): number {
  return TABLE[type].bytes;
}

/** The ONNX `TensorProto.DataType` of `type`. */
export function onnxType(type: DType): number {
  return TABLE[type].onnx;
}

/** The dtype of an ONNX `TensorProto.DataType`, or undefined for types webq8 does not carry. */
export function dtypeOfOnnx(elemType: number | null | undefined): DType | undefined {
  return BY_ONNX.get(elemType ?? 0);
}

/** Name of the typed array that holds `type` (`'Float32Array'`, …), for messages and checks. */
export function arrayName(type: DType): string {
  return TABLE[type].array.name;
}

/** A typed array of `type` over the whole of `buffer`. */
export function typedArrayFor(type: DType, buffer: ArrayBuffer): TensorData {
  return new TABLE[type].array(buffer);
}

/** A zero-filled typed array of `type` with `count` elements. */
export function allocTyped(type: DType, count: number): TensorData {
  return new TABLE[type].array(count);
}
