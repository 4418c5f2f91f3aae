/**
 * How two answers to the same inputs are compared (load-time verification, src/worker/verify.ts):
 * float outputs by relative L2 error ‖got − want‖ / ‖want‖ over the elements finite in both, and by
 * whether the same elements are NaN or ±Inf (a NaN is a wrong answer, not noise); integer and bool
 * outputs element by element, exactly. Relative L2 rather than max |diff|: one element moved by a
 * flipped int8 rounding barely moves it, a wrong kernel moves it by about 1.
 */
import type { TensorLike, VerifiedOutput } from '../types';

/** Default tolerance of float plans: the same math in another order (fp32 sums) stays far below it. */
export const FLOAT_TOLERANCE = 1e-3;
/**
 * Default tolerance of plans that quantize activations at run time (DynamicQuantizeLinear): a tiny
 * float difference upstream may flip one activation scale's rounding and move whole rows by one
 * quantization step (measured: up to 0.0225 max |diff| on a BERT-shaped q8 encoder, on ORT's own WebGPU EP too).
 */
export const QUANTIZED_TOLERANCE = 3e-2;

/** One output compared, with whether it passed. */
export type Comparison = VerifiedOutput & { ok: boolean };

/** Compares `got` (the GPU plan's) with `want` (the reference's) for output `name` at `step`. */
export function compareTensor(name: string, got: TensorLike, want: TensorLike, tolerance: number, step = 0): Comparison {
  const base = { name, step };
  if (got.type !== want.type || got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) {
    return { ...base, metric: 'shape', value: 1, tolerance: 0, ok: false };
  }
  const a = asNumbers(got);
  const b = asNumbers(want);
  if (!isFloat(got.type)) {
    let mismatch = 0;
    for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) mismatch++;
    return { ...base, metric: 'mismatch', value: mismatch, tolerance: 0, ok: mismatch === 0 };
  }
  let nonFinite = 0;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    const fx = Number.isFinite(x);
    const fy = Number.isFinite(y);
    if (!fx || !fy) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) nonFinite++;
      continue;
    }
    diff += (x - y) ** 2;
    norm += y * y;
  }
  if (nonFinite > 0) return { ...base, metric: 'nonFinite', value: nonFinite, tolerance: 0, ok: false };
  const value = relL2(diff, norm);
  return { ...base, metric: 'relL2', value, tolerance, ok: value <= tolerance };
}

/**
 * Relative L2 error; against an all-zero reference, the absolute norm of the difference (any
 * difference from an exact zero answer counts in full).
 */
function relL2(diff: number, norm: number): number {
  return norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
}

/** The worst comparison per output name: failed before passed, then the larger value. */
export function worstPerOutput(all: readonly Comparison[]): Comparison[] {
  const worst = new Map<string, Comparison>();
  for (const c of all) {
    const w = worst.get(c.name);
    if (!w || badness(c) > badness(w)) worst.set(c.name, c);
  }
  return [...worst.values()];
}

function badness(c: Comparison): number {
  return (c.ok ? 0 : 2 ** 40) + (c.tolerance > 0 ? c.value / c.tolerance : c.value);
}

/** One line naming the output, the metric and its value, e.g. `output "y" relL2 0.41 > 0.001 (step 0)`. */
export function describeComparison(c: Comparison | VerifiedOutput): string {
  const at = c.step > 0 ? ` at step ${c.step}` : '';
  switch (c.metric) {
    case 'error':
      return `the GPU plan failed where ORT WASM answered${at}: ${c.detail ?? 'unknown error'}`;
    case 'shape':
      return `output "${c.name}" has another shape or type than ORT WASM's${at}`;
    case 'mismatch':
      return `output "${c.name}" differs from ORT WASM's in ${c.value} element(s) (integers must match exactly)${at}`;
    case 'nonFinite':
      return `output "${c.name}" has ${c.value} element(s) whose NaN/Inf status differs from ORT WASM's${at}`;
    default:
      return `output "${c.name}" relL2 ${c.value.toPrecision(3)} vs ORT WASM (tolerance ${c.tolerance})${at}`;
  }
}

function isFloat(type: TensorLike['type']): boolean {
  return type === 'float32' || type === 'float64' || type === 'float16';
}

/** The elements as numbers (float16 decoded from its bits, 64-bit integers as bigint compared exactly). */
function asNumbers(t: TensorLike): ArrayLike<number | bigint> {
  if (t.type === 'float16' && t.data instanceof Uint16Array) return Array.from(t.data, halfToFloat);
  return t.data as ArrayLike<number | bigint>;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
