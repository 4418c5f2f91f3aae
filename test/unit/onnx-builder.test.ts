import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';

const { onnx } = onnxProto;
import { buildModel } from '../../src/graph/onnx-builder';
import { assertOnnx } from '../../src/graph/sniff';
import { ModelFormatError } from '../../src/errors';

describe('buildModel', () => {
  const bytes = buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', 4] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 4] }],
    nodes: [
      { op: 'Add', inputs: ['x', 'b'], outputs: ['y'] },
      { op: 'Gemm', inputs: [], outputs: [], attrs: { alpha: { float: 1 }, transB: 1 } },
    ],
    initializers: { b: { type: 'float32', dims: [4], data: new Float32Array([1, 2, 3, 4]) } },
  });

  it('round-trips through the ONNX protobuf schema', () => {
    const m = onnx.ModelProto.decode(bytes);
    const g = m.graph!;
    expect(g.input![0]!.name).toBe('x');
    expect(g.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam).toBe('n');
    expect(g.node![0]!.opType).toBe('Add');
    expect(g.node![1]!.attribute!.map((a) => a.name)).toEqual(['alpha', 'transB']);
    const init = g.initializer![0]!;
    expect(new Float32Array(Uint8Array.from(init.rawData!).buffer)).toEqual(new Float32Array([1, 2, 3, 4]));
  });

  it('passes the ONNX sniffer, and corrupted bytes do not', () => {
    expect(() => assertOnnx(bytes, 'built')).not.toThrow();
    expect(() => assertOnnx(new TextEncoder().encode('<!doctype html><p>404</p>'), 'page.html')).toThrow(ModelFormatError);
    expect(() => assertOnnx(bytes.slice(0, bytes.length - 3), 'truncated')).toThrow(/runs past the end|truncated/);
    expect(() => assertOnnx(new Uint8Array(64).fill(0xff), 'noise')).toThrow(ModelFormatError);
  });
});
