// onnxruntime-web's WASM ConvInteger as the oracle of the int8 conv suite: each random case as
// one-node subgraphs (many per model), run by ort-runner.ts. ORT's CPU ConvInteger takes
// uint8 input and weight with scalar zero points, so cases are rewritten by exact identities and
// ORT still does the arithmetic: int8 values and zero points + 128 as uint8 (every difference
// unchanged); per-channel w_zero_point → two convs whose int32 answers the harness combines (below).
import type { NodeSpec } from '../../../src/graph/onnx-builder';
import { convGeometry, type ConvAttrs } from '../../../src/kernels/conv-math';
import type { ConvCase } from './conv-cases';
import type { IntCase } from './int8-cases';
import { ModelBatch, tensor, type OracleModel } from './ort-oracle';

const toU8 = (t: IntCase['type'], v: number[]) => (t === 'int8' ? v.map((x) => x + 128) : v);

/**
 * auto_pad as explicit pads, from ONNX's definition (ORT 1.30 refused some auto_pad nodes of these
 * models with "both 'auto_pad' and 'pads'"): SAME_* pads to ceil(in / stride) outputs, the odd pixel
 * at the end (UPPER) or the start (LOWER); VALID pads nothing. The generator never combines SAME_*
 * with dilations.
 */
function explicitPads(a: ConvAttrs, spatial: number[], kernel: number[]): number[] {
  if (a.autoPad === 'VALID') return [...spatial.map(() => 0), ...spatial.map(() => 0)];
  const totals = spatial.map((n, i) => {
    const s = a.strides?.[i] ?? 1;
    return Math.max(0, (Math.ceil(n / s) - 1) * s + (kernel[i] as number) - n);
  });
  const begin = totals.map((t) => (a.autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
  return [...begin, ...totals.map((t, i) => t - (begin[i] as number))];
}

export function onnxAttrs(a: ConvAttrs, spatial: number[], kernel: number[]): NodeSpec['attrs'] {
  const pads = a.autoPad ? explicitPads(a, spatial, kernel) : a.pads;
  return {
    ...(a.dilations ? { dilations: [...a.dilations] } : {}),
    ...(a.group ? { group: a.group } : {}),
    ...(a.kernelShape ? { kernel_shape: [...a.kernelShape] } : {}),
    ...(pads ? { pads: [...pads] } : {}),
    ...(a.strides ? { strides: [...a.strides] } : {}),
  };
}

/** Output dims left to ORT (its own shape inference), so its answer does not lean on ours. */
const symbolic = (dims: number[]) => dims.map((_, i) => `d${i}`);

/** ORT models computing each case's int32 `y` (NCHW, output key `y`). */
export function convOracle(cases: ConvCase[]): OracleModel[] {
  const batch = new ModelBatch();
  cases.forEach((c, ci) => {
    const g = convGeometry('ConvInteger', c.x.dims, c.w.dims, c.attrs);
    const x = toU8(c.x.type, c.x.data);
    const w = toU8(c.w.type, c.w.data);
    const xZp = toU8(c.x.type, [c.xZp ?? 0])[0] as number;
    const wZp = toU8(c.w.type, c.wZp ?? [0]);
    const spatial = c.x.dims.slice(2);
    const zp = batch.input(batch.name('xz'), { type: 'uint8', dims: [], data: [xZp] });
    if (wZp.length === 1) {
      const xi = batch.input(batch.name('x'), { type: 'uint8', dims: c.x.dims, data: x });
      const wi = batch.init(batch.name('w'), tensor('uint8', c.w.dims, w));
      const wz = batch.init(batch.name('wz'), tensor('uint8', [], wZp));
      batch.node(
        'ConvInteger',
        [xi, wi, zp, wz],
        [{ spec: { name: batch.name('y'), type: 'int32', dims: symbolic(g.outDims) }, to: { c: ci, key: 'y', offset: 0 } }],
        onnxAttrs(c.attrs, spatial, c.w.dims.slice(2)),
      );
      batch.endCase();
      return;
    }
    // Per-channel zero points, by Σ(x − zx)(w − zw[m]) = Σ(x − zx)·w − zw[m]·Σ(x − zx): ORT computes
    // both sums (the second with an all-ones filter), the harness combines them
    // (conv-harness.ts `ortY`).
    const xi = batch.input(batch.name('x'), { type: 'uint8', dims: c.x.dims, data: x });
    const attrs = onnxAttrs(c.attrs, spatial, c.w.dims.slice(2));
    const zero = batch.init(batch.name('wz'), tensor('uint8', [], [0]));
    for (const [key, filter] of [
      ['xw', w],
      ['x1', w.map(() => 1)],
    ] as const) {
      const wi = batch.init(batch.name('w'), tensor('uint8', c.w.dims, filter));
      const spec = { name: batch.name('y'), type: 'int32' as const, dims: symbolic(g.outDims) };
      batch.node('ConvInteger', [xi, wi, zp, zero], [{ spec, to: { c: ci, key, offset: 0 } }], attrs);
    }
    batch.endCase();
  });
  return batch.flush();
}
