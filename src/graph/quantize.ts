/**
 * A JS port of the part of ORT's `quantize_dynamic` (QInt8 weights; `MatMul`, and `Conv` with
 * `ops: ['MatMul', 'Conv']`, see ./quantize-conv.ts) that webq8 runs:
 * every `MatMul` whose second input is a constant float32 `[K, N]` weight becomes
 *
 *   X → DynamicQuantizeLinear → (X_quantized, X_scale, X_zero_point)         (once per activation)
 *   MatMulInteger(X_quantized, W_quantized, X_zero_point, W_zero_point) → Cast(to float)
 *   → Mul(·, Mul(X_scale, W_scale))                                           = the MatMul's output
 *
 * with ORT's names (`W_quantized`, `W_scale`, `W_zero_point`, `<node>_scales_mul`, …) and ORT's
 * weight math: symmetric int8 in [−127, 127], `scale = max|W| / 127` per tensor (or per output column
 * with `perChannel`), zero point 0, round half to even. The default-domain opset is raised to 11
 * when lower (see ./opset.ts). Runs in Node and in browsers; `bin/webq8.mjs` is its CLI.
 */
import { dimsOf, indexGraph, onnx, toTensor, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './onnx-model';
import { upgradeOpset } from './opset';
import { ONNX } from '../dtypes';
import { decodeForQuantize, quantizeWeight, skipReason, type QuantizeOptions, type QuantizeReport } from './quantize-common';
import { quantizeConv, type ConvRewrite } from './quantize-conv';

export { quantizeWeight, type QuantizeOptions, type QuantizeReport } from './quantize-common';
export { quantizeWeightsOnly } from './quantize-weights';

/**
 * Quantizes `bytes` (an ONNX model) as described in the module comment.
 * @throws {@link ModelFormatError} when `bytes` are not an ONNX model or its graph has no nodes
 *   (an empty or truncated file must not turn into a "quantized" model).
 */
export function quantizeDynamic(bytes: Uint8Array, options: QuantizeOptions = {}): { bytes: Uint8Array; report: QuantizeReport } {
  const { model, graph } = decodeForQuantize(bytes, options);
  const ix = indexGraph(graph);
  const exclude = new Set(options.exclude ?? []);
  const report: QuantizeReport = { quantized: [], skipped: [], opset: { from: 0, to: 0 }, weightBytes: { float: 0, int8: 0 } };
  const newInit: TensorProto[] = [];
  const weights = new Map<string, { q: string; scale: string; zp: string }>();
  const dqls = new Map<string, { y: string; scale: string; zp: string }>();
  const out: NodeProto[] = [];
  const replacedWeights = new Set<string>();
  const ops = new Set(options.ops ?? ['MatMul']);
  const dqlOf = (x: string) => {
    let a = dqls.get(x);
    if (!a) {
      a = { y: `${x}_quantized`, scale: `${x}_scale`, zp: `${x}_zero_point` };
      out.push(make('DynamicQuantizeLinear', `${x}_QuantizeLinear`, [x], [a.y, a.scale, a.zp]));
      dqls.set(x, a);
    }
    return a;
  };
  const convs: ConvRewrite = { ix, report, inits: newInit, out, replaced: replacedWeights, make, raw };
  ix.nodes.forEach((node, i) => {
    const plain = !node.domain || node.domain === 'ai.onnx';
    if (plain && node.opType === 'Conv' && ops.has('Conv')) return quantizeConv(convs, node, node.name || `Conv_${i}`, dqlOf, exclude);
    const name = node.name || `MatMul_${i}`;
    const [x = '', w = ''] = node.input ?? [];
    const why = node.opType !== 'MatMul' || !plain || !ops.has('MatMul') ? null : skipReason(ix.constants.get(w), name, w, exclude);
    if (why !== undefined) {
      if (why) report.skipped.push({ node: name, reason: why });
      out.push(node);
      return;
    }
    const y = node.output?.[0] ?? '';
    let wq = weights.get(w);
    if (!wq) {
      wq = quantizeInitializer(ix.constants.get(w)!, w, options.perChannel ?? false, newInit, report);
      weights.set(w, wq);
      replacedWeights.add(w);
    }
    const a = dqlOf(x);
    const mmOut = `${y}_output_quantized`;
    const castOut = `${mmOut}_cast_output`;
    const scales = `${name}_scales_mul`;
    out.push(
      make('MatMulInteger', `${name}_quant`, [a.y, wq.q, a.zp, wq.zp], [mmOut]),
      make('Cast', `${mmOut}_cast`, [mmOut], [castOut], { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
      make('Mul', scales, [a.scale, wq.scale], [`${scales}:0`]),
      make('Mul', `${name}_output_scale_mul`, [castOut, `${scales}:0`], [y]),
    );
    report.quantized.push(name);
  });
  finishGraph(model, graph, convs);
  return { bytes: onnx.ModelProto.encode(model).finish(), report };
}

/** Drops float weights nothing reads any more (initializers and Constant nodes) and raises the opset. */
function finishGraph(model: ModelProto, graph: GraphProto, r: ConvRewrite): void {
  const { ix, out, replaced: replacedWeights, report, inits: newInit } = r;
  const stillRead = new Set(out.flatMap((n) => n.input ?? []));
  const dead = (v: string) => replacedWeights.has(v) && !stillRead.has(v) && !ix.graphOutputs.has(v);
  graph.node = out.filter((n) => !(n.opType === 'Constant' && dead(n.output?.[0] ?? '')));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dead(t.name ?? '')), ...newInit];
  graph.input = (graph.input ?? []).filter((v) => !dead(v.name ?? ''));
  const target = report.quantized.length > 0 ? 11 : 0;
  report.opset.from = upgradeOpset(model, target);
  report.opset.to = Math.max(report.opset.from, target);
}

/** Quantizes weight `t` (named `w`) into initializers appended to `into`; returns their names. */
function quantizeInitializer(
  t: TensorProto,
  w: string,
  perChannel: boolean,
  into: TensorProto[],
  report: QuantizeReport,
): { q: string; scale: string; zp: string } {
  const f = toTensor(t);
  const q = quantizeWeight(f.data as Float32Array, dimsOf(t), perChannel);
  const names = { q: `${w}_quantized`, scale: `${w}_scale`, zp: `${w}_zero_point` };
  const n = q.scale.length;
  into.push(
    raw(names.q, ONNX.INT8, f.dims as number[], new Uint8Array(q.data.buffer)),
    raw(names.scale, ONNX.FLOAT, n > 1 ? [n] : [], new Uint8Array(q.scale.buffer)),
    raw(names.zp, ONNX.INT8, n > 1 ? [n] : [], new Uint8Array(n)),
  );
  report.weightBytes.float += f.data.byteLength;
  report.weightBytes.int8 += q.data.byteLength;
  return names;
}

function raw(name: string, dataType: number, dims: number[], rawData: Uint8Array): TensorProto {
  return onnx.TensorProto.create({ name, dataType, dims, rawData });
}

function make(opType: string, name: string, input: string[], output: string[], ...attribute: object[]): NodeProto {
  return onnx.NodeProto.create({ opType, name, input, output, domain: '', attribute: attribute.map((a) => onnx.AttributeProto.create(a)) });
}
