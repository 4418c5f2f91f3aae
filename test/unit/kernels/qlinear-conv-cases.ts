// Seeded random QLinearConv cases (test/browser/conv-qlinear.spec.ts) and their onnxruntime-web
// WASM oracle: the ConvInteger generator's convs (conv-cases.ts) with scales, an int32 bias and an
// output zero point added, restricted to what ORT's CPU QLinearConv runs, so that ORT computes every
// case itself: uint8 input with uint8 or int8 weight, int8 input with int8 weight, the output in the
// input's type, and one weight zero point (per-channel w_zero_point must repeat one value in ORT,
// "by design if the quantization is symmetric"); per-channel w_scale is free.
import type { TensorLike } from '../../../src/types';
import { convGeometry } from '../../../src/kernels/conv-math';
import { onnxAttrs } from './conv-oracle';
import { randomConvCases, type ConvCase } from './conv-cases';
import { rng } from './int8-cases';
import { ModelBatch, tensor, type OracleModel } from './ort-oracle';

/** One QLinearConv case: a conv (`o`; `o.wZp` scalar or one value repeated per channel) and its requantization. */
export interface QLinearConvCase {
  o: ConvCase;
  xScale: number;
  /** One, or one per output channel. */
  wScale: number[];
  yScale: number;
  yZp: number;
  /** int32, one per output channel. */
  bias?: number[];
}

/** `count` cases from seed `seed`; y_scale is drawn so that outputs spread over the range and some saturate. */
export function qlinearConvCases(count: number, seed: number): QLinearConvCase[] {
  const r = rng(seed);
  const f = Math.fround;
  return randomConvCases(count, seed).map((c) => {
    // int8 x with uint8 w: ORT has no kernel; w − 128 with w_zp − 128 keeps every difference.
    const shift = c.x.type === 'int8' && c.w.type === 'uint8' ? 128 : 0;
    const wType = shift ? 'int8' : c.w.type;
    const m = c.w.dims[0] as number;
    const zp0 = (c.wZp?.[0] ?? (wType === 'uint8' ? 128 : 0)) - shift;
    const mode = r();
    const wZp = mode < 0.2 ? undefined : mode < 0.6 ? [zp0] : Array.from({ length: m }, () => zp0);
    const o: ConvCase = { ...c, w: { ...c.w, type: wType, data: c.w.data.map((v) => v - shift) }, xZp: c.xZp ?? 0, ...(wZp ? { wZp } : {}) };
    if (!wZp) delete o.wZp;
    const k = convGeometry('QLinearConv', c.x.dims, c.w.dims, c.attrs).k;
    const xScale = f(0.001 + r() * 0.05);
    const wScale = Array.from({ length: r() < 0.5 ? 1 : m }, () => f(0.001 + r() * 0.05));
    const yScale = f(xScale * (wScale[0] as number) * Math.sqrt(k) * (20 + r() * 100));
    const yZp = c.x.type === 'uint8' ? Math.floor(r() * 256) : Math.floor(r() * 256) - 128;
    const bias = r() < 0.6 ? Array.from({ length: m }, () => Math.floor((r() - 0.5) * 4000 * Math.sqrt(k))) : undefined;
    return { o, xScale, wScale, yScale, yZp, ...(bias ? { bias } : {}) };
  });
}

const f32 = (v: number[]) => tensor('float32', v.length === 1 ? [] : [v.length], v);

/** The constants of a case's `QLinearConv` kernel step (ONNX input names). */
export function qlinearConvConstants(q: QLinearConvCase): Record<string, TensorLike> {
  const { o } = q;
  const m = o.w.dims[0] as number;
  const zp = o.wZp ?? [0];
  return {
    w: tensor(o.w.type, o.w.dims, o.w.data),
    x_scale: f32([q.xScale]),
    x_zero_point: tensor(o.x.type, [], [o.xZp ?? 0]),
    w_scale: f32(q.wScale),
    w_zero_point: tensor(o.w.type, zp.length === 1 ? [] : [m], zp),
    y_scale: f32([q.yScale]),
    y_zero_point: tensor(o.x.type, [], [q.yZp]),
    ...(q.bias ? { B: { type: 'int32', dims: [m], data: Int32Array.from(q.bias) } as TensorLike } : {}),
  };
}

/** ORT models computing each case's `y` (output key `y`, NCHW, in the input's type). */
export function qlinearConvOracle(cases: QLinearConvCase[]): OracleModel[] {
  const batch = new ModelBatch();
  cases.forEach((q, ci) => {
    const { o } = q;
    const g = convGeometry('QLinearConv', o.x.dims, o.w.dims, o.attrs);
    const consts = qlinearConvConstants(q);
    const x = batch.input(batch.name('x'), o.x);
    const name = (key: string) => batch.init(batch.name(key), consts[key] as TensorLike);
    const inputs = [x, name('x_scale'), name('x_zero_point'), name('w'), name('w_scale'), name('w_zero_point'), name('y_scale'), name('y_zero_point')];
    if (q.bias) inputs.push(name('B'));
    const spec = { name: batch.name('y'), type: o.x.type, dims: g.outDims.map((_, i) => `d${i}`) };
    batch.node('QLinearConv', inputs, [{ spec, to: { c: ci, key: 'y', offset: 0 } }], onnxAttrs(o.attrs, o.x.dims.slice(2), o.w.dims.slice(2)));
    batch.endCase();
  });
  return batch.flush();
}
