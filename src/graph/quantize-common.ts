/**
 * What the two quantizers share (./quantize.ts, dynamic int8 as ORT's `quantize_dynamic`;
 * ./quantize-weights.ts, weight-only QDQ): their options and report, which MatMul weights qualify,
 * and ORT's symmetric int8 weight math.
 */
import { ONNX } from '../dtypes';
import { roundHalfEven } from '../kernels/int8-math';
import { ModelFormatError } from '../errors';
import { decodeModel, dimsOf, type GraphProto, type ModelProto, type TensorProto } from './onnx-model';
import { assertOnnx } from './sniff';

/**
 * Decodes a model to quantize. @throws {@link ModelFormatError} when `bytes` are not an ONNX model or
 * its graph has no nodes (an empty or truncated file must not turn into a "quantized" model).
 */
export function decodeForQuantize(bytes: Uint8Array, options: QuantizeOptions): { model: ModelProto; graph: GraphProto } {
  const source = options.source ?? 'model';
  assertOnnx(bytes, source);
  const model = decodeModel(bytes, source);
  const graph = model.graph;
  if (!graph?.node?.length) {
    throw new ModelFormatError(
      `${source} has a graph with no nodes, so there is nothing to quantize. Check that it is the exported model, not an empty or placeholder file.`,
      { source },
    );
  }
  return { model, graph };
}

/** Options of the quantizers. */
export interface QuantizeOptions {
  /** One scale per output column (ORT's `per_channel=True`) instead of one per weight. */
  perChannel?: boolean;
  /**
   * Which ops to quantize (quantizeDynamic): `'MatMul'`, `'Conv'` (1-D and 2-D, one scale per
   * weight; see ./quantize-conv.ts). Default `['MatMul']`.
   */
  ops?: ('MatMul' | 'Conv')[];
  /** Node names or weight names to leave in float. */
  exclude?: string[];
  /** What to call the input in error messages (the CLI passes the file name); default `'model'`. */
  source?: string;
}

/** What a quantizer did. */
export interface QuantizeReport {
  /** Names of the MatMul (and Conv) nodes replaced. */
  quantized: string[];
  /** MatMuls left in float, with the reason. */
  skipped: { node: string; reason: string }[];
  /** Default-domain opset before and after. */
  opset: { from: number; to: number };
  /** Float weight bytes replaced, and the int8 bytes that replaced them. */
  weightBytes: { float: number; int8: number };
}

/** Whether a MatMul weight can be quantized: `undefined` yes; `null`: not a candidate at all; a string: left in float, and why. */
export function skipReason(w: TensorProto | undefined, name: string, wName: string, exclude: Set<string>): string | null | undefined {
  if (exclude.has(name) || exclude.has(wName)) return 'excluded';
  if (!w) return 'the weight is not a constant';
  if (w.dataType !== ONNX.FLOAT) return 'the weight is not float32';
  if (dimsOf(w).length !== 2) return `the weight has dims ${JSON.stringify(dimsOf(w))}, not [K, N]`;
  return undefined;
}

/**
 * ORT's symmetric QInt8 weight quantization of a row-major `[K, N]` weight: `scale = max|W| / 127`
 * (per tensor, or per column when `perChannel`), `q = clamp(round_half_even(W / scale), −127, 127)`.
 * An all-zero range uses scale 1 (as ORT does).
 */
export function quantizeWeight(w: Float32Array, dims: number[], perChannel: boolean): { data: Int8Array; scale: Float32Array } {
  const [k = 0, n = 0] = dims;
  const cols = perChannel ? n : 1;
  const absmax = new Float32Array(cols);
  for (let r = 0; r < k; r++)
    for (let c = 0; c < n; c++) {
      const j = perChannel ? c : 0;
      absmax[j] = Math.max(absmax[j]!, Math.abs(w[r * n + c]!));
    }
  const scale = absmax.map((m) => (m === 0 ? 1 : Math.fround(Math.fround(2 * m) / 254)));
  const data = new Int8Array(k * n);
  for (let r = 0; r < k; r++)
    for (let c = 0; c < n; c++) {
      const s = scale[perChannel ? c : 0]!;
      data[r * n + c] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(w[r * n + c]! / s))));
    }
  return { data, scale };
}
