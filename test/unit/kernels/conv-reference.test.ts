import { describe, expect, it } from 'vitest';
import { KernelError } from '../../../src/errors';
import { convGeometry } from '../../../src/kernels/conv-math';
import { convIntegerRef } from '../../../src/kernels/conv-reference';
import type { IntTensor } from '../../../src/kernels/int8-math';
import { convAttrsOf, convOnnxCases, type CaseTensor } from './onnx-cases';

function intTensor(t: CaseTensor): IntTensor {
  return { data: t.type === 'int8' ? Int8Array.from(t.data) : Uint8Array.from(t.data), type: t.type === 'int8' ? 'int8' : 'uint8', dims: t.dims };
}

describe('ConvInteger CPU reference vs ONNX conformance data (bit-exact)', () => {
  const cases = convOnnxCases();
  it('finds the three ConvInteger cases', () => {
    expect(cases.map((c) => c.name.split('/')[0])).toEqual(['test_basic_convinteger', 'test_convinteger_with_padding', 'test_convinteger_without_padding']);
  });
  for (const c of cases) {
    it(c.name, () => {
      const [x, w, xZp, wZp] = c.inputs as CaseTensor[];
      const r = convIntegerRef(intTensor(x!), intTensor(w!), convAttrsOf(c), xZp?.data[0] ?? 0, wZp?.data);
      expect(r.dims).toEqual(c.outputs[0]!.dims);
      expect([...r.data]).toEqual(c.outputs[0]!.data);
    });
  }
});

describe('convGeometry', () => {
  it('resolves auto_pad SAME_UPPER / SAME_LOWER / VALID like ONNX', () => {
    const g = (autoPad: string, strides = [2, 2]) => convGeometry('Conv', [1, 1, 5, 6], [1, 1, 3, 2], { autoPad, strides });
    expect([g('SAME_UPPER').oh, g('SAME_UPPER').ow, g('SAME_UPPER').pt, g('SAME_UPPER').pl]).toEqual([3, 3, 1, 0]);
    // total pad along W: (3−1)·2 + 2 − 6 = 0; along H: (3−1)·2 + 3 − 5 = 2 → 1 before either way.
    expect([g('SAME_LOWER').pt, g('SAME_LOWER').pl]).toEqual([1, 0]);
    expect(convGeometry('Conv', [1, 1, 4, 4], [1, 1, 2, 2], { autoPad: 'SAME_LOWER' }).pt).toBe(1);
    expect(convGeometry('Conv', [1, 1, 4, 4], [1, 1, 2, 2], { autoPad: 'SAME_UPPER' }).pt).toBe(0);
    expect(g('VALID').outDims).toEqual([1, 1, 2, 3]);
  });
  it('treats 1-D as height 1 and honours dilations and groups', () => {
    const g = convGeometry('Conv', [2, 4, 10], [6, 2, 3], { group: 2, dilations: [2], pads: [1, 0], strides: [3] });
    expect(g).toMatchObject({ h: 1, kh: 1, kw: 3, cg: 2, mg: 3, ow: 3, pl: 1, k: 6, outDims: [2, 6, 3] });
  });
  it('refuses what it cannot run, saying what to fix', () => {
    expect(() => convGeometry('Conv', [1, 1, 2, 2, 2], [1, 1, 1, 1, 1])).toThrow(/1-D \[N, C, L\] or 2-D/);
    expect(() => convGeometry('Conv', [1, 4, 5, 5], [2, 3, 1, 1], { group: 2 })).toThrow(KernelError);
    expect(() => convGeometry('Conv', [1, 1, 2, 2], [1, 1, 3, 3])).toThrow(/does not fit/);
    expect(() => convGeometry('Conv', [1, 1, 5, 5], [1, 1, 3, 3], { autoPad: 'SAME' })).toThrow(/not an ONNX value/);
  });
});
