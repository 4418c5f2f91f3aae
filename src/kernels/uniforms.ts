/**
 * Uniform buffers packed by field name, not array index: a kernel declares its WGSL `Params`
 * struct once as a {@link UniformLayout} (same fields, same order) and fills it by name. Every field
 * is a 4-byte scalar, so field i sits at byte 4·i; the size is rounded up to 16 bytes as WGSL's
 * uniform layout requires.
 */

/** Scalar types of a uniform field. */
export type UniformType = 'u32' | 'i32' | 'f32';

/** The fields of a WGSL `Params` struct, in declaration order. */
export type UniformLayout = readonly (readonly [name: string, type: UniformType])[];

/** Values for every named field of `L` (padding fields, named `_…`, may be left out). */
export type UniformValues<L extends UniformLayout> = { [F in L[number] as F[0] extends `_${string}` ? never : F[0]]: number };

/** Packs `values` by `layout` into the bytes of a uniform buffer. */
export function packUniforms<L extends UniformLayout>(layout: L, values: UniformValues<L>): Uint8Array {
  const bytes = new ArrayBuffer(Math.ceil((layout.length * 4) / 16) * 16 || 16);
  const view = new DataView(bytes);
  const given = values as Record<string, number>;
  layout.forEach(([name, type], i) => {
    const v = given[name] ?? 0;
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return new Uint8Array(bytes);
}
