// Node-side checks of how int8 kernel programs are assembled and chosen (no GPU needed).
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../../src/errors';
import { dynamicQuantizePrograms } from '../../../src/kernels/dynamic-quantize';
import { defaultInt8Kernel, int8MatmulProgram, resolveVariant } from '../../../src/kernels/int8-matmul';
import { int8Candidates, int8ShapeClass } from '../../../src/kernels/int8-tuning';

describe('int8 matmul programs', () => {
  it('puts the dp4a arithmetic (with its `requires`) first, then the loop, then the common part', () => {
    const p = int8MatmulProgram(defaultInt8Kernel(64, 'dp4a'), { mode: 'float32', rowsum: true, m: 64, k: 768, n4: 192, matrices: 1 });
    expect(p.code.startsWith('requires packed_4x8_integer_dot_product;')).toBe(true);
    expect(p.code).toContain('fn finish(');
    expect(p.constants).toEqual({ MODE: 1, WG_X: 16, WG_Y: 4, ROWSUM: 1, K_ALIGNED: 1 });
    expect(p.workgroups).toEqual([12, 2, 1]);
  });
  it('builds the portable GEMV without the language feature, split-K as an override', () => {
    const p = int8MatmulProgram(defaultInt8Kernel(1, 'portable'), { mode: 'int32', rowsum: false, m: 1, k: 770, n4: 193, matrices: 3 });
    expect(p.code).not.toContain('requires');
    expect(p.code).not.toContain('dot4I8Packed');
    expect(p.constants).toEqual({ MODE: 0, WG_X: 64, SPLIT_K: 4, ROWSUM: 0, K_ALIGNED: 0 });
    expect(p.workgroups).toEqual([4, 1, 3]);
  });
  it('builds the wide few-row loop: rows and column groups per invocation as overrides', () => {
    const kernel = defaultInt8Kernel(13, 'portable', true);
    expect(kernel).toEqual({ variant: 'portable', layout: 'wide', wgX: 8, wgY: 16, cols: 16 });
    const p = int8MatmulProgram(kernel, { mode: 'float32', rowsum: false, m: 13, k: 768, n4: 192, matrices: 1 });
    expect(p.code).toContain('override ROWS');
    expect(p.constants).toEqual({ MODE: 1, WG_X: 8, ROWS: 16, GROUPS: 4, ROWSUM: 0, K_ALIGNED: 1 });
    expect(p.workgroups).toEqual([6, 1, 1]);
    expect(defaultInt8Kernel(3, 'dp4a', true)).toEqual({ variant: 'dp4a', layout: 'wide', wgX: 8, wgY: 4, cols: 8 });
    expect(() => int8MatmulProgram({ ...kernel, wgY: 6 }, { mode: 'int32', rowsum: false, m: 13, k: 768, n4: 192, matrices: 1 })).toThrow(
      /4, 8, 12 or 16 rows/,
    );
  });
  it('refuses dispatches over the per-dimension workgroup limit', () => {
    expect(() => int8MatmulProgram(defaultInt8Kernel(1, 'portable'), { mode: 'int32', rowsum: false, m: 70000, k: 8, n4: 1, matrices: 1 })).toThrow(
      KernelError,
    );
  });
  it('resolves variants: auto falls back to portable without WebGPU; forcing dp4a there throws', () => {
    expect(resolveVariant('auto')).toBe('portable');
    expect(resolveVariant('portable')).toBe('portable');
    expect(() => resolveVariant('dp4a')).toThrow(/packed_4x8_integer_dot_product/);
  });
  it('classes shapes and offers GEMV for one row, wide and 8×4 tiles for more', () => {
    expect([1, 2, 32, 33, 512].map(int8ShapeClass)).toEqual(['m1', 'small', 'small', 'large', 'large']);
    expect(new Set(int8Candidates('m1', ['dp4a']).map((k) => k.layout))).toEqual(new Set(['gemv']));
    expect(new Set(int8Candidates('large', ['portable']).map((k) => k.layout))).toEqual(new Set(['tiled', 'wide']));
  });
});

describe('DynamicQuantizeLinear programs', () => {
  it('uses at most 256 min/max partials and one word of output per invocation', () => {
    const small = dynamicQuantizePrograms(10);
    expect(small.params.workgroups).toEqual([1]);
    expect([small.parts, small.chunk, small.quantize.workgroups[0]]).toEqual([1, 10, 1]);
    const big = dynamicQuantizePrograms(10_000_000);
    expect(big.parts).toBe(256);
    expect(big.parts * big.chunk).toBeGreaterThanOrEqual(10_000_000);
    expect(big.quantize.code).toContain('fn reduce_range(');
  });
});
