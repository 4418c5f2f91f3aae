/**
 * Weight-only int8 quantization, the QDQ form many exporters write: every `MatMul` whose second input
 * is a constant float32 `[K, N]` weight reads `DequantizeLinear(W_q, W_scale)` instead, with ORT's
 * symmetric int8 weight math (`quantizeWeight` in ./quantize.ts). The activation stays float, so on
 * the WebGPU backend webq8 runs these matmuls on its W8A32 kernel (src/kernels/w8a32.ts) with int8
 * weights on the GPU. Per-column scales need opset 13 (`DequantizeLinear` axis); older models get
 * one scale per weight, and opset 9 models are raised to 11 (DequantizeLinear exists from 10).
 */
import { ONNX } from '../dtypes';
import { defaultOpset, dimsOf, indexGraph, onnx, toTensor, type NodeProto } from './onnx-model';
import { upgradeOpset } from './opset';
import { decodeForQuantize, quantizeWeight, skipReason, type QuantizeOptions, type QuantizeReport } from './quantize-common';

/** Quantizes the MatMul weights of `bytes` to int8 behind `DequantizeLinear` (see the module comment). */
export function quantizeWeightsOnly(bytes: Uint8Array, options: QuantizeOptions = {}): { bytes: Uint8Array; report: QuantizeReport } {
  const { model, graph } = decodeForQuantize(bytes, options);
  const ix = indexGraph(graph);
  const perChannel = options.perChannel === true && defaultOpset(model) >= 13;
  const exclude = new Set(options.exclude ?? []);
  const report: QuantizeReport = { quantized: [], skipped: [], opset: { from: 0, to: 0 }, weightBytes: { float: 0, int8: 0 } };
  const done = new Map<string, string>(); // float weight → its dequantized value
  const out: NodeProto[] = [];
  ix.nodes.forEach((node, i) => {
    const name = node.name || `MatMul_${i}`;
    const w = node.input?.[1] ?? '';
    const isMatMul = node.opType === 'MatMul' && (!node.domain || node.domain === 'ai.onnx');
    const why = isMatMul ? skipReason(ix.constants.get(w), name, w, exclude) : null;
    if (why !== undefined) {
      if (why) report.skipped.push({ node: name, reason: why });
      out.push(node);
      return;
    }
    if (!done.has(w)) {
      const t = ix.constants.get(w)!;
      const dims = dimsOf(t);
      const q = quantizeWeight(toTensor(t).data as Float32Array, dims, perChannel);
      graph.initializer = [
        ...(graph.initializer ?? []),
        onnx.TensorProto.create({ name: `${w}_quantized`, dataType: ONNX.INT8, dims, rawData: new Uint8Array(q.data.buffer) }),
        onnx.TensorProto.create({ name: `${w}_scale`, dataType: ONNX.FLOAT, dims: perChannel ? [dims[1]!] : [], rawData: new Uint8Array(q.scale.buffer) }),
      ];
      const attribute = perChannel ? [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] : [];
      out.push(
        onnx.NodeProto.create({
          opType: 'DequantizeLinear',
          name: `${w}_DequantizeLinear`,
          input: [`${w}_quantized`, `${w}_scale`],
          output: [`${w}_dequantized`],
          domain: '',
          attribute,
        }),
      );
      done.set(w, `${w}_dequantized`);
      report.weightBytes.float += q.data.length * 4;
      report.weightBytes.int8 += q.data.length;
    }
    out.push({ ...node, input: [node.input?.[0] ?? '', done.get(w)!, ...(node.input ?? []).slice(2)] } as NodeProto);
    report.quantized.push(name);
  });
  graph.node = out;
  const target = report.quantized.length > 0 ? 11 : 0;
  report.opset.from = upgradeOpset(model, target);
  report.opset.to = Math.max(report.opset.from, target);
  return { bytes: onnx.ModelProto.encode(model).finish(), report };
}
