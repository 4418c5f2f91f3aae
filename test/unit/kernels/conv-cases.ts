// Seeded random cases of the int8 conv suite (test/browser/conv-kernels.spec.ts), generated in Node
// so the same cases go to our GPU kernels, the CPU reference (both in the page) and onnxruntime-web's
// WASM ConvInteger (conv-oracle.ts). Plain arrays: JSON-safe.
import type { ConvAttrs } from '../../../src/kernels/conv-math';
import { convGeometry } from '../../../src/kernels/conv-math';
import { rng, type IntCase } from './int8-cases';

/** One ConvInteger case. */
export interface ConvCase {
  x: IntCase;
  w: IntCase;
  attrs: ConvAttrs;
  xZp?: number;
  /** Scalar (one value) or one per output channel. */
  wZp?: number[];
}

/**
 * `count` random convs: 1-D and 2-D, plain, grouped and depthwise, strides, dilations, explicit and
 * automatic pads, uint8/int8 inputs and weights, absent/scalar/per-channel zero points. Sizes stay
 * small: the adapter runs on the CPU.
 */
export function randomConvCases(count: number, seed: number): ConvCase[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const oneD = r() < 0.25;
    const kind = r();
    const group = kind < 0.55 ? 1 : kind < 0.8 ? int(2, 8) : int(2, 3);
    const depthwise = kind >= 0.55 && kind < 0.8;
    const cg = depthwise ? 1 : int(1, r() < 0.15 ? 24 : 8);
    const mg = depthwise ? int(1, 2) : int(1, r() < 0.2 ? 20 : 9);
    const kernel = oneD ? [int(1, 7)] : [int(1, 5), int(1, 5)];
    const strides = kernel.map(() => (r() < 0.6 ? 1 : int(2, 3)));
    const dilations = kernel.map(() => (r() < 0.75 ? 1 : 2));
    const spatial = kernel.map((k, i) => (k - 1) * (dilations[i] as number) + 1 + int(0, oneD ? 20 : 9));
    const padMode = r();
    const attrs: ConvAttrs = { group, strides, dilations, ...(r() < 0.5 ? { kernelShape: kernel } : {}) };
    if (padMode < 0.2) attrs.autoPad = (['SAME_UPPER', 'SAME_LOWER', 'VALID'] as const)[int(0, 2)];
    // ORT refuses dilations with SAME_* padding (its oracle could not judge the case).
    if (attrs.autoPad?.startsWith('SAME')) attrs.dilations = kernel.map(() => 1);
    else if (padMode < 0.7) attrs.pads = [...kernel.map(() => int(0, 2)), ...kernel.map(() => int(0, 2))];
    const c = cg * group;
    const m = mg * group;
    const xDims = [int(1, 2), c, ...spatial];
    const wDims = [m, cg, ...kernel];
    try {
      convGeometry('ConvInteger', xDims, wDims, attrs);
    } catch {
      continue; // a kernel wider than the padded input: draw again
    }
    const type = () => (r() < 0.5 ? 'uint8' : 'int8') as IntCase['type'];
    const values = (t: IntCase['type'], n: number, lo = 0, span = 255) => Array.from({ length: n }, () => (t === 'uint8' ? 0 : -128) + lo + int(0, span));
    const xt = type();
    const wt = type();
    const wSpan = r() < 0.3 ? 100 : 255;
    const wLo = int(0, 255 - wSpan);
    const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
    const zpMode = int(0, 2);
    cases.push({
      x: { type: xt, dims: xDims, data: values(xt, size(xDims)) },
      w: { type: wt, dims: wDims, data: values(wt, size(wDims), wLo, wSpan) },
      attrs,
      ...(r() < 0.7 ? { xZp: values(xt, 1)[0] } : {}),
      ...(zpMode === 0 ? {} : { wZp: values(wt, zpMode === 1 ? 1 : m, wLo, wSpan) }),
    });
  }
  return cases;
}

/** Output elements of a case. */
export function convOutputElements(c: ConvCase): number {
  return convGeometry('ConvInteger', c.x.dims, c.w.dims, c.attrs).outDims.reduce((a, b) => a * b, 1);
}
