import { describe, expect, it } from 'vitest';
import { KernelError } from '../../../src/errors';
import {
  dequantizeRef,
  dynamicQuantizeLinearRef,
  matMulIntegerRef,
  matmulShape,
  qlinearMatMulRef,
  roundHalfEven,
  type IntTensor,
} from '../../../src/kernels/reference';
import { int8OnnxCases, type CaseTensor } from './onnx-cases';

function intTensor(t: CaseTensor): IntTensor {
  return { data: t.type === 'int8' ? Int8Array.from(t.data) : Uint8Array.from(t.data), type: t.type === 'int8' ? 'int8' : 'uint8', dims: t.dims };
}

describe('CPU reference vs ONNX conformance data (bit-exact)', () => {
  const cases = int8OnnxCases();
  it('finds all six int8 cases', () => {
    expect(cases.map((c) => c.name.split('/')[0])).toEqual([
      'test_dynamicquantizelinear',
      'test_dynamicquantizelinear_max_adjusted',
      'test_dynamicquantizelinear_min_adjusted',
      'test_matmulinteger',
      'test_qlinearmatmul_2D',
      'test_qlinearmatmul_3D',
    ]);
  });
  for (const c of cases) {
    it(c.name, () => {
      const [i0, i1, i2, i3, i4, i5, i6, i7] = c.inputs as CaseTensor[];
      if (c.op === 'DynamicQuantizeLinear') {
        const r = dynamicQuantizeLinearRef(Float32Array.from(i0!.data));
        expect([...r.y]).toEqual(c.outputs[0]!.data);
        expect(r.scale).toBe(c.outputs[1]!.data[0]);
        expect(r.zeroPoint).toBe(c.outputs[2]!.data[0]);
      } else if (c.op === 'MatMulInteger') {
        const r = matMulIntegerRef(intTensor(i0!), intTensor(i1!), i2?.data, i3?.data);
        expect([...r.data]).toEqual(c.outputs[0]!.data);
        expect(r.dims).toEqual(c.outputs[0]!.dims);
      } else {
        const r = qlinearMatMulRef(intTensor(i0!), intTensor(i3!), {
          aScale: i1!.data[0]!,
          aZp: i2!.data[0]!,
          bScale: i4!.data,
          bZp: i5!.data,
          yScale: i6!.data[0]!,
          yZp: i7!.data[0]!,
          yType: i7!.type === 'int8' ? 'int8' : 'uint8',
        });
        expect([...r.data]).toEqual(c.outputs[0]!.data);
        expect(r.dims).toEqual(c.outputs[0]!.dims);
      }
    });
  }
});

describe('CPU reference edge cases', () => {
  it('rounds half to even', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([-2, -2, -0, 0, 2, 2, 4, 2, 3]);
  });
  it('quantizes all-zero input with scale 1/255 and zero point 0 (ONNX reference)', () => {
    const r = dynamicQuantizeLinearRef(new Float32Array(5));
    expect(r).toEqual({ y: new Uint8Array(5), scale: Math.fround(1 / 255), zeroPoint: 0 });
  });
  it('quantizes negative-only input with zero point 255', () => {
    const r = dynamicQuantizeLinearRef(Float32Array.from([-1, -2, -0.5]));
    expect(r.zeroPoint).toBe(255);
    expect([...r.y]).toEqual([128, 0, 191]);
  });
  it('applies the NaN/Inf policy: excluded from the range, NaN → zp, ±Inf saturate', () => {
    const r = dynamicQuantizeLinearRef(Float32Array.from([NaN, Infinity, -Infinity, -1, 1]));
    const plain = dynamicQuantizeLinearRef(Float32Array.from([-1, 1]));
    expect(r.scale).toBe(plain.scale);
    expect([...r.y]).toEqual([r.zeroPoint, 255, 0, plain.y[0], plain.y[1]]);
  });
  it('dequantizes in the order of Cast → Mul(a_scale·b_scale) → Add', () => {
    const out = dequantizeRef(Int32Array.from([3, -7]), 2, { aScale: 0.1, bScale: [0.2, 0.3], bias: [1, 2] });
    const f = Math.fround;
    expect(out[1]).toBe(f(f(-7 * f(f(0.1) * f(0.3))) + 2));
  });
  it('rejects empty and mismatched shapes with KernelError', () => {
    expect(() => matmulShape('MatMulInteger', [2, 0], [0, 3])).toThrow(/K is 0/);
    expect(() => matmulShape('MatMulInteger', [2, 4], [5, 3])).toThrow(KernelError);
    expect(() => matmulShape('MatMulInteger', [0, 4], [4, 3])).toThrow(/empty/);
    expect(() => matmulShape('MatMulInteger', [2, 2, 4], [3, 4, 3])).toThrow(/batch dims/);
    expect(() => dynamicQuantizeLinearRef(new Float32Array(0))).toThrow(/empty/);
  });
});
