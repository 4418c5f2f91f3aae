import { describe, expect, it } from 'vitest';
import { packUniforms } from '../../../src/kernels/uniforms';

describe('packUniforms', () => {
  it('writes each field at 4·index in its own type, little-endian, padded to 16 bytes', () => {
    const layout = [
      ['n', 'u32'],
      ['zp', 'i32'],
      ['scale', 'f32'],
      ['big', 'u32'],
      ['_pad', 'u32'],
    ] as const;
    const bytes = packUniforms(layout, { n: 7, zp: -3, scale: 0.5, big: 0x80808080 });
    expect(bytes.byteLength).toBe(32);
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(0, true)).toBe(7);
    expect(v.getInt32(4, true)).toBe(-3);
    expect(v.getFloat32(8, true)).toBe(0.5);
    expect(v.getUint32(12, true)).toBe(0x80808080);
    expect(v.getUint32(16, true)).toBe(0);
  });
});
