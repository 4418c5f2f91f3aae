// Small ONNX models for the graph tests, built with webq8's own builder.
import onnxProto from 'onnx-proto';
import { buildModel, tensorProto, type NodeSpec } from '../../../src/graph/onnx-builder';
import type { TensorLike } from '../../../src/types';

const { onnx } = onnxProto;

/** Deterministic float32 data. */
export function floats(n: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + seed) * 0.5);
}

/** `y = MatMul(x, w)`: the input feeds the MatMul directly, so a q8 plan of it starts with a kernel step. */
export function matmulFirst(k = 8, n = 4): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', n] }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'], name: 'mm0' }],
    initializers: { w: { type: 'float32', dims: [k, n], data: floats(k * n) } },
    opset: 13,
  });
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
  const k = 8,
    n = 4;
  const s = (v: number): TensorLike => ({ type: 'float32', dims: [], data: new Float32Array([v]) });
  const zp = (type: 'uint8' | 'int8', v: number): TensorLike => ({ type, dims: [], data: type === 'uint8' ? new Uint8Array([v]) : new Int8Array([v]) });
  return buildModel({
    inputs: [{ name: 'a', type: aZpType, dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'uint8', dims: ['m', n] }],
    nodes: [{ op: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'], name: 'qmm' }],
    initializers: {
      as: s(0.02),
      az: zp(aZpType, aZpType === 'uint8' ? 128 : 0),
      b: { type: 'int8', dims: [k, n], data: Int8Array.from({ length: k * n }, (_, i) => ((i * 37) % 255) - 127) },
      bs: s(0.01),
      bz: zp('int8', 0),
      ys: s(0.05),
      yz: zp('uint8', 128),
    },
    opset: 13,
  });
}

/** QDQ: x → Q → DQ → MatMul(·, DQ(const int8 W)) → y, optionally without the activation Q/DQ. */
export function qdq(withActivationQdq = true): Uint8Array {
  const k = 8,
    n = 4;
  const nodes: NodeSpec[] = [{ op: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['wd'], attrs: { axis: 1 } }];
  if (withActivationQdq)
    nodes.push({ op: 'QuantizeLinear', inputs: ['x', 'as', 'az'], outputs: ['xq'] }, { op: 'DequantizeLinear', inputs: ['xq', 'as', 'az'], outputs: ['xd'] });
  nodes.push({ op: 'MatMul', inputs: [withActivationQdq ? 'xd' : 'x', 'wd'], outputs: ['y'], name: 'mm' });
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['m', n] }],
    nodes,
    initializers: {
      wq: { type: 'int8', dims: [k, n], data: Int8Array.from({ length: k * n }, (_, i) => ((i * 53) % 255) - 127) },
      ws: { type: 'float32', dims: [n], data: new Float32Array([0.01, 0.02, 0.03, 0.04]) },
      wz: { type: 'int8', dims: [n], data: new Int8Array(n) },
      as: { type: 'float32', dims: [], data: new Float32Array([0.02]) },
      az: { type: 'uint8', dims: [], data: new Uint8Array([128]) },
    },
    opset: 13,
  });
}

/** MatMulInteger whose weight is a graph input (not constant), and a 3-D ConvInteger (the conv kernels take 1-D and 2-D). */
export function unsupportedInt8(): Uint8Array {
  return buildModel({
    inputs: [
      { name: 'a', type: 'uint8', dims: [2, 4] },
      { name: 'b', type: 'uint8', dims: [4, 3] },
      { name: 'ci', type: 'uint8', dims: [1, 1, 3, 3, 3] },
    ],
    outputs: [
      { name: 'y', type: 'int32', dims: [2, 3] },
      { name: 'c', type: 'int32', dims: [1, 1, 2, 2, 2] },
    ],
    nodes: [
      { op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'], name: 'mmi' },
      { op: 'ConvInteger', inputs: ['ci', 'cw'], outputs: ['c'], name: 'conv' },
    ],
    initializers: { cw: { type: 'uint8', dims: [1, 1, 2, 2, 2], data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) } },
    opset: 13,
  });
}

/** Seeded integers in [lo, hi]. */
function ints(count: number, lo: number, hi: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => lo + ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (hi - lo + 1)));
}

/** Options of {@link weightOnlyQdq}. */
export interface WeightOnlyOptions {
  type: 'int8' | 'uint8';
  /** 'tensor' (one scale), 'column' (axis 1), or a block size along K (axis 0, opset 21). */
  scales: 'tensor' | 'column' | number;
  zeroPoint?: boolean;
  seed?: number;
}

/** `y = relu(MatMul(x, DequantizeLinear(Wq, scale[, zp])))`, x float32 ['m', K]: weight-only QDQ. */
export function weightOnlyQdq(k: number, n: number, o: WeightOnlyOptions): Uint8Array {
  const seed = o.seed ?? 3;
  const [lo, hi] = o.type === 'int8' ? [-128, 127] : [0, 255];
  const blocks = typeof o.scales === 'number' ? Math.ceil(k / o.scales) : 1;
  const sdims = o.scales === 'tensor' ? [] : o.scales === 'column' ? [n] : [blocks, n];
  const scount = sdims.reduce((a, b) => a * b, 1);
  const Arr = o.type === 'int8' ? Int8Array : Uint8Array;
  const w: TensorLike = { type: o.type, dims: [k, n], data: Arr.from(ints(k * n, lo, hi, seed)) };
  const scale: TensorLike = { type: 'float32', dims: sdims, data: Float32Array.from({ length: scount }, (_, i) => 0.002 + 0.001 * ((i * 7) % 5)) };
  const zp: TensorLike = { type: o.type, dims: sdims, data: Arr.from(ints(scount, o.type === 'int8' ? -10 : 118, o.type === 'int8' ? 10 : 138, seed + 1)) };
  const attrs: Record<string, number> = typeof o.scales === 'number' ? { axis: 0, block_size: o.scales } : { axis: 1 };
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['m', n] }],
    nodes: [
      { op: 'DequantizeLinear', inputs: ['wq', 'ws', ...(o.zeroPoint ? ['wz'] : [])], outputs: ['w'], attrs, name: 'dq_w' },
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m0'], name: 'mm' },
      { op: 'Relu', inputs: ['m0'], outputs: ['y'] },
    ],
    initializers: { wq: w, ws: scale, ...(o.zeroPoint ? { wz: zp } : {}) },
    opset: typeof o.scales === 'number' ? 21 : 13,
  });
}

/** `y = MatMulNBits(x, B, scales[, zp][, bias])` with bits = 8 (com.microsoft), x float32 ['m', K]. */
export function matMulNBits8(k: number, n: number, block: number, o: { zeroPoint?: boolean; bias?: boolean; bits?: number; seed?: number } = {}): Uint8Array {
  const seed = o.seed ?? 5;
  const kb = Math.ceil(k / block);
  const b: TensorLike = { type: 'uint8', dims: [n, kb, block], data: Uint8Array.from(ints(n * kb * block, 0, 255, seed)) };
  const scales: TensorLike = { type: 'float32', dims: [n * kb], data: Float32Array.from({ length: n * kb }, (_, i) => 0.001 + 0.0005 * (i % 7)) };
  const zp: TensorLike = { type: 'uint8', dims: [n * kb], data: Uint8Array.from(ints(n * kb, 100, 156, seed + 1)) };
  const bias: TensorLike = { type: 'float32', dims: [n], data: floats(n, seed) };
  const inputs = ['x', 'b', 's', o.zeroPoint ? 'z' : '', '', o.bias ? 'bias' : ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['m', k] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['m', n] }],
    nodes: [
      {
        op: 'MatMulNBits',
        domain: 'com.microsoft',
        inputs,
        outputs: ['y'],
        attrs: { K: k, N: n, bits: o.bits ?? 8, block_size: block, accuracy_level: 0 },
        name: 'nbits',
      },
    ],
    initializers: { b, s: scales, ...(o.zeroPoint ? { z: zp } : {}), ...(o.bias ? { bias } : {}) },
    domains: { 'com.microsoft': 1 },
    opset: 17,
  });
}

/**
 * `bytes` with every initializer of at least `threshold` bytes moved into one external data file
 * named `location` (offsets aligned to 64 bytes): webq8's own writer of the external-data form,
 * next to the `onnx` package's (test/fixtures/external-data/make.py).
 */
export function splitExternal(bytes: Uint8Array, location: string, threshold = 256): { model: Uint8Array; data: Uint8Array } {
  const m = onnx.ModelProto.decode(bytes);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of m.graph!.initializer!) {
    const raw = t.rawData;
    if (!raw || raw.byteLength < threshold) continue;
    const pad = (64 - (offset % 64)) % 64;
    parts.push(new Uint8Array(pad), raw.slice());
    offset += pad;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ].map((e) => onnx.StringStringEntryProto.create(e));
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
    offset += raw.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.byteLength;
  }
  return { model: onnx.ModelProto.encode(m).finish(), data };
}
