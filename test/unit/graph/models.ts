// Small ONNX models for the graph tests, built with webq8's own builder.
import onnxProto from 'onnx-proto';
import { buildModel, tensorProto, type NodeSpec } from '../../../src/graph/onnx-builder';
import type { TensorLike } from '../../../src/types';

const { onnx } = onnxProto;

/** Deterministic float32 data. */
export function floats(n: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + seed) * 0.5);
}

/** `y = tanh(MatMul(relu(x), w))`, x float32[n, K] (symbolic n), w a constant [K, N]. */
export function mlp(k = 8, n = 4, opts: { constantNode?: boolean; second?: boolean } = {}): Uint8Array {
  const w: TensorLike = { type: 'float32', dims: [k, n], data: floats(k * n) };
  const nodes: NodeSpec[] = [
    { op: 'Relu', inputs: ['x'], outputs: ['h'] },
    { op: 'MatMul', inputs: ['h', 'w'], outputs: ['m'], name: 'mm0' },
  ];
  if (opts.constantNode) nodes.unshift({ op: 'Constant', inputs: [], outputs: ['w'], attrs: {} });
  if (opts.second) nodes.push({ op: 'MatMul', inputs: ['h', 'w2'], outputs: ['m2'], name: 'mm1' }, { op: 'Add', inputs: ['m', 'm2'], outputs: ['s'] });
  nodes.push({ op: 'Tanh', inputs: [opts.second ? 's' : 'm'], outputs: ['y'] });
  const bytes = buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', n] }],
    nodes,
    initializers: { ...(opts.constantNode ? {} : { w }), ...(opts.second ? { w2: { type: 'float32', dims: [k, n], data: floats(k * n, 2) } } : {}) },
    opset: 13,
  });
  return opts.constantNode ? withConstantValue(bytes, 'w', w) : bytes;
}

/** Sets the `value` attribute of the Constant node producing `name`. */
export function withConstantValue(bytes: Uint8Array, name: string, t: TensorLike): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const node = m.graph!.node!.find((n) => n.opType === 'Constant' && n.output![0] === name)!;
  node.attribute = [onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto(name, t) })];
  return onnx.ModelProto.encode(m).finish();
}

/** A QLinearMatMul model: a uint8[M, K] → uint8[M, N]. */
export function qlinear(aZpType: 'uint8' | 'int8' = 'uint8'): Uint8Array {
  const k = 8, n = 4;
  const s = (v: number): TensorLike => ({ type: 'float32', dims: [], data: new Float32Array([v]) });
  const zp = (type: 'uint8' | 'int8', v: number): TensorLike => ({ type, dims: [], data: type === 'uint8' ? new Uint8Array([v]) : new Int8Array([v]) });
  return buildModel({
    inputs: [{ name: 'a', type: aZpType, dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'uint8', dims: ['m', n] }],
    nodes: [{ op: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'], name: 'qmm' }],
    initializers: {
      as: s(0.02), az: zp(aZpType, aZpType === 'uint8' ? 128 : 0), b: { type: 'int8', dims: [k, n], data: Int8Array.from({ length: k * n }, (_, i) => (i * 37) % 255 - 127) },
      bs: s(0.01), bz: zp('int8', 0), ys: s(0.05), yz: zp('uint8', 128),
    },
    opset: 13,
  });
}

/** QDQ: x → Q → DQ → MatMul(·, DQ(const int8 W)) → y, optionally without the activation Q/DQ. */
export function qdq(withActivationQdq = true): Uint8Array {
  const k = 8, n = 4;
  const nodes: NodeSpec[] = [{ op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['wd'], attrs: { axis: 1 } }];
  if (withActivationQdq) nodes.push({ op: 'QuantizeLinear', inputs: ['x', 'as', 'az'], outputs: ['xq'] }, { op: 'DequantizeLinear', inputs: ['xq', 'as', 'az'], outputs: ['xd'] });
  nodes.push({ op: 'MatMul', inputs: [withActivationQdq ? 'xd' : 'x', 'wd'], outputs: ['y'], name: 'mm' });
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['m', n] }],
    nodes,
    initializers: {
      wq: { type: 'int8', dims: [k, n], data: Int8Array.from({ length: k * n }, (_, i) => (i * 53) % 255 - 127) },
      ws: { type: 'float32', dims: [n], data: new Float32Array([0.01, 0.02, 0.03, 0.04]) },
      wz: { type: 'int8', dims: [n], data: new Int8Array(n) },
      as: { type: 'float32', dims: [], data: new Float32Array([0.02]) },
      az: { type: 'uint8', dims: [], data: new Uint8Array([128]) },
    },
    opset: 13,
  });
}

/** MatMulInteger whose weight is a graph input (not constant), and a ConvInteger. */
export function unsupportedInt8(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'a', type: 'uint8', dims: [2, 4] }, { name: 'b', type: 'uint8', dims: [4, 3] }, { name: 'ci', type: 'uint8', dims: [1, 1, 3, 3] }],
    outputs: [{ name: 'y', type: 'int32', dims: [2, 3] }, { name: 'c', type: 'int32', dims: [1, 1, 2, 2] }],
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'], name: 'mmi' }, { op: 'ConvInteger', inputs: ['ci', 'cw'], outputs: ['c'], name: 'conv' }],
    initializers: { cw: { type: 'uint8', dims: [1, 1, 2, 2], data: new Uint8Array([1, 2, 3, 4]) } },
    opset: 13,
  });
}
