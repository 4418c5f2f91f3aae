import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { validateFeeds } from '../../src/worker/validate';
import type { TensorLike, ValueInfo } from '../../src/types';

const declared: ValueInfo[] = [
  { name: 'x', type: 'float32', dims: ['batch', 3, 48, null] },
  { name: 'ids', type: 'int64', dims: [2] },
];
const x = (dims = [1, 3, 48, 5]): TensorLike => ({ type: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
const ids: TensorLike = { type: 'int64', dims: [2], data: new BigInt64Array(2) };

function err(f: () => void): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('validateFeeds', () => {
  it('accepts matching feeds with any value for symbolic/unknown dims', () => {
    expect(() => validateFeeds(declared, { x: x([7, 3, 48, 100]), ids })).not.toThrow();
  });
  it('names an unknown input and lists the expected ones', () => {
    const e = err(() => validateFeeds(declared, { x: x(), ids, y: ids }));
    expect(e.details.input).toBe('y');
    expect(e.message).toContain('"x" float32[batch, 3, 48, ?]');
  });
  it('names a missing input', () => {
    expect(err(() => validateFeeds(declared, { x: x() })).details.input).toBe('ids');
  });
  it('rejects a wrong dtype, saying which typed array to use', () => {
    const e = err(() => validateFeeds(declared, { x: { type: 'int32', dims: [1, 3, 48, 5], data: new Int32Array(720) }, ids }));
    expect(e.message).toContain('Float32Array');
    expect(e.details.got).toBe('int32');
  });
  it('rejects data whose array type does not match its dtype', () => {
    const e = err(() => validateFeeds(declared, { x: { type: 'float32', dims: [2], data: new Int32Array(2) } as unknown as TensorLike, ids }));
    expect(e.details.got).toBe('Int32Array');
  });
  it('rejects a wrong rank, a wrong fixed dim, and a length mismatch', () => {
    expect(err(() => validateFeeds(declared, { x: x([3, 48, 5]), ids })).message).toMatch(/rank 3/);
    expect(err(() => validateFeeds(declared, { x: x([1, 4, 48, 5]), ids })).details.axis).toBe(1);
    expect(err(() => validateFeeds(declared, { x: { ...x(), data: new Float32Array(3) }, ids })).message).toMatch(/3 data elements/);
    expect(err(() => validateFeeds(declared, { x: { ...x(), dims: [1, 3, 48, -1] }, ids })).message).toMatch(/non-negative integer/);
  });
  it('rejects non-objects', () => {
    expect(() => validateFeeds(declared, null as unknown as Record<string, TensorLike>)).toThrow(InputError);
    expect(() => validateFeeds(declared, { x: 5 as unknown as TensorLike, ids })).toThrow(/not a tensor/);
  });
});
