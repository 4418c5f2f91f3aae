// Small quantized conv models for the conv pattern tests (unit: planning; browser:
// conv-qlinear.spec.ts runs them against ORT WASM), built with webq8's own ONNX builder in the
// layouts ORT's quantizer writes: QDQ (QuantizeLinear → DequantizeLinear around each conv, int8
// weights per output channel on axis 0, the bias as DequantizeLinear of int32 at s_x·s_w) and
// QLinearConv (QOperator format).
import { buildModel, type NodeSpec } from '../../../src/graph/onnx-builder';
import type { TensorLike } from '../../../src/types';

const f32 = (dims: number[], v: number[]): TensorLike => ({ type: 'float32', dims, data: Float32Array.from(v) });
const i8 = (dims: number[], v: number[]): TensorLike => ({ type: 'int8', dims, data: Int8Array.from(v) });
const u8 = (dims: number[], v: number[]): TensorLike => ({ type: 'uint8', dims, data: Uint8Array.from(v) });
const i32 = (dims: number[], v: number[]): TensorLike => ({ type: 'int32', dims, data: Int32Array.from(v) });
const pattern = (n: number, mul: number, span: number, lo: number) => Array.from({ length: n }, (_, i) => ((i * mul) % span) + lo);

/** Input `x` float32 [1, C_IN, H, W] of {@link qdqConvModel}. */
export const QDQ_CONV_INPUT = [1, 4, 9, 11];

/**
 * QDQ convs: `x → Q → DQ → Conv(3×3/2, pads 1, DQ(int8 W [8,4,3,3], per-channel), DQ(int32 bias)) →
 * Relu → Q → DQ → Conv(depthwise 3×3, DQ(uint8 W, per-tensor, zp 128), float bias) → y`, and a
 * weight-only conv `y2 = Conv(x, DQ(int8 W))` (float activation), which stays in ORT.
 */
export function qdqConvModel(): Uint8Array {
  const [sx, sh] = [0.03, 0.02];
  const ws = pattern(8, 7, 5, 1).map((v) => v * 0.004);
  const nodes: NodeSpec[] = [
    { op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
    { op: 'DequantizeLinear', inputs: ['xq', 'sx', 'zx'], outputs: ['xd'] },
    { op: 'DequantizeLinear', inputs: ['w1q', 'w1s', 'w1z'], outputs: ['w1'], attrs: { axis: 0 } },
    { op: 'DequantizeLinear', inputs: ['b1q', 'b1s'], outputs: ['b1'] },
    { op: 'Conv', inputs: ['xd', 'w1', 'b1'], outputs: ['c1'], name: 'conv1', attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
    { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'QuantizeLinear', inputs: ['r1', 'sh', 'zh'], outputs: ['hq'] },
    { op: 'DequantizeLinear', inputs: ['hq', 'sh', 'zh'], outputs: ['hd'] },
    { op: 'DequantizeLinear', inputs: ['w2q', 'w2s', 'w2z'], outputs: ['w2'] },
    { op: 'Conv', inputs: ['hd', 'w2', 'b2'], outputs: ['y'], name: 'conv2', attrs: { group: 8, pads: [1, 1, 1, 1] } },
    { op: 'DequantizeLinear', inputs: ['w3q', 'w3s'], outputs: ['w3'], attrs: { axis: 0 } },
    { op: 'Conv', inputs: ['x', 'w3'], outputs: ['y2'], name: 'conv_weight_only' },
  ];
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: QDQ_CONV_INPUT }],
    outputs: [
      { name: 'y', type: 'float32', dims: [1, 8, 'h', 'w'] },
      { name: 'y2', type: 'float32', dims: [1, 2, 'h2', 'w2'] },
    ],
    nodes,
    initializers: {
      sx: f32([], [sx]),
      zx: u8([], [128]),
      w1q: i8([8, 4, 3, 3], pattern(288, 37, 255, -127)),
      w1s: f32([8], ws),
      w1z: i8([8], Array(8).fill(0)),
      b1q: i32([8], pattern(8, 911, 4001, -2000)),
      b1s: f32(
        [8],
        ws.map((w) => Math.fround(sx * w)),
      ),
      sh: f32([], [sh]),
      zh: u8([], [0]),
      w2q: u8([8, 1, 3, 3], pattern(72, 53, 255, 0)),
      w2s: f32([], [0.01]),
      w2z: u8([], [128]),
      b2: f32(
        [8],
        pattern(8, 3, 7, -3).map((v) => v * 0.1),
      ),
      w3q: i8([2, 4, 1, 1], [5, -7, 9, 11, -13, 15, 17, -19]),
      w3s: f32([2], [0.05, 0.02]),
    },
    opset: 13,
  });
}

/** QLinearConv (uint8 x [1, 6, 7, 8] → uint8 y): int8 weights [4, 3, 3, 3], group 2, per-channel scales, int32 bias. */
export function qlinearConvModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'uint8', dims: [1, 6, 7, 8] }],
    outputs: [{ name: 'y', type: 'uint8', dims: [1, 4, 7, 8] }],
    nodes: [
      {
        op: 'QLinearConv',
        inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'],
        outputs: ['y'],
        name: 'qconv',
        attrs: { group: 2, pads: [1, 1, 1, 1] },
      },
    ],
    initializers: {
      xs: f32([], [0.02]),
      xz: u8([], [120]),
      w: i8([4, 3, 3, 3], pattern(108, 41, 255, -127)),
      ws: f32([4], [0.01, 0.02, 0.015, 0.005]),
      wz: i8([4], [0, 0, 0, 0]),
      ys: f32([], [0.25]),
      yz: u8([], [100]),
      b: i32([4], [300, -1200, 50, 4000]),
    },
    opset: 13,
  });
}
