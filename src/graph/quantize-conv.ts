/**
 * The Conv half of ./quantize.ts (`webq8 quantize --ops Conv`), the way ORT's `quantize_dynamic`
 * writes it: a `Conv` with a constant float32 weight `[M, C/group, (KH,) KW]` becomes
 *
 *   X → DynamicQuantizeLinear (shared with every other reader of X)
 *   ConvInteger(X_quantized, W_quantized, X_zero_point, W_zero_point) (the Conv's attributes)
 *   → Cast(to float) → Mul(·, Mul(X_scale, W_scale)) [→ Add(bias as [1, M, 1(, 1)])]
 *
 * Weights are symmetric int8 with one scale per weight (zero point 0): ORT's CPU ConvInteger, which
 * runs these nodes wherever webq8's kernels do not, takes only a scalar weight zero point.
 */
import { ONNX } from '../dtypes';
import { dimsOf, onnx, toTensor, type GraphIndex, type NodeProto, type TensorProto } from './onnx-model';
import { quantizeWeight, type QuantizeReport } from './quantize-common';

/** What the quantizer's loop shares with this rewrite. */
export interface ConvRewrite {
  ix: GraphIndex;
  report: QuantizeReport;
  /** New initializers. */
  inits: TensorProto[];
  /** Output nodes so far. */
  out: NodeProto[];
  /** Float weights (and biases) replaced, dropped when nothing reads them any more. */
  replaced: Set<string>;
  make(opType: string, name: string, input: string[], output: string[], ...attribute: object[]): NodeProto;
  raw(name: string, dataType: number, dims: number[], rawData: Uint8Array): TensorProto;
}

/** Why the Conv `node` stays float (`undefined`: it is quantized). */
function convSkipReason(ix: GraphIndex, node: NodeProto, exclude: Set<string>): string | undefined {
  const [, w = '', b] = node.input ?? [];
  const t = ix.constants.get(w);
  if (exclude.has(node.name ?? '') || exclude.has(w)) return 'excluded';
  if (!t) return 'the weight is not a constant';
  if (t.dataType !== ONNX.FLOAT) return 'the weight is not float32';
  const rank = dimsOf(t).length;
  if (rank !== 3 && rank !== 4) return `the weight has dims ${JSON.stringify(dimsOf(t))}; only 1-D and 2-D convs are quantized`;
  if (b && ix.constants.get(b)?.dataType !== ONNX.FLOAT) return 'the bias is not a float32 constant';
  return undefined;
}

/** Rewrites the Conv `node` (named `name`) into `r.out`, or keeps it float and reports why. */
export function quantizeConv(
  r: ConvRewrite,
  node: NodeProto,
  name: string,
  dql: (x: string) => { y: string; scale: string; zp: string },
  exclude: Set<string>,
): void {
  const why = convSkipReason(r.ix, node, exclude);
  if (why) {
    r.out.push(node);
    r.report.skipped.push({ node: name, reason: why });
    return;
  }
  const [x = '', w = '', b] = node.input ?? [];
  const y = node.output?.[0] ?? '';
  const t = r.ix.constants.get(w)!;
  const dims = dimsOf(t);
  const f = toTensor(t).data as Float32Array;
  const q = quantizeWeight(f, [1, f.length], false);
  const names = { q: `${w}_quantized`, scale: `${w}_scale`, zp: `${w}_zero_point` };
  if (!r.replaced.has(w)) {
    r.inits.push(
      r.raw(names.q, ONNX.INT8, dims, new Uint8Array(q.data.buffer)),
      r.raw(names.scale, ONNX.FLOAT, [], new Uint8Array(q.scale.buffer)),
      r.raw(names.zp, ONNX.INT8, [], new Uint8Array(1)),
    );
    r.replaced.add(w);
    r.report.weightBytes.float += f.byteLength;
    r.report.weightBytes.int8 += q.data.byteLength;
  }
  const a = dql(x);
  const convOut = `${y}_output_quantized`;
  const castOut = `${convOut}_cast_output`;
  const scales = `${name}_scales_mul`;
  const scaled = b ? `${y}_output_scaled` : y;
  r.out.push(
    r.make('ConvInteger', `${name}_quant`, [a.y, names.q, a.zp, names.zp], [convOut], ...(node.attribute ?? [])),
    r.make('Cast', `${convOut}_cast`, [convOut], [castOut], { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
    r.make('Mul', scales, [a.scale, names.scale], [`${scales}:0`]),
    r.make('Mul', `${name}_output_scale_mul`, [castOut, `${scales}:0`], [scaled]),
  );
  if (b) {
    // The bias as [1, M, 1(, 1)], so Add broadcasts it along NCHW's channel axis.
    const bias = toTensor(r.ix.constants.get(b)!).data as Float32Array;
    const shaped = `${b}_reshaped`;
    if (!r.replaced.has(b)) {
      r.inits.push(r.raw(shaped, ONNX.FLOAT, [1, bias.length, ...dims.slice(2).map(() => 1)], new Uint8Array(bias.slice().buffer)));
      r.replaced.add(b);
    }
    r.out.push(r.make('Add', `${name}_bias_add`, [scaled, shaped], [y]));
  }
  r.report.quantized.push(name);
}
