/**
 * How far two versions' answers to the same inputs are apart: the largest absolute difference of
 * any element, the cosine similarity of the outputs (all of them, flattened), and whether the top-1
 * answer agrees — argmax along the last axis, for every row of every output. An output whose last
 * axis has one element (a score, a regression) agrees when every element is within
 * `1e-3 × (1 + |stable|)`. Outputs are compared by name; a missing output or a shape change is a
 * disagreement.
 */
import type { AgreementStats, TensorLike, TensorMap } from '../types';

/** One comparison. */
export interface Comparison {
  maxAbsDiff: number;
  cosine: number;
  top1: boolean;
}

const SCALAR_TOLERANCE = 1e-3;

/** Compares `other`'s outputs with the reference (stable) outputs `ref`. */
export function compareOutputs(ref: TensorMap, other: TensorMap): Comparison {
  let maxAbsDiff = 0;
  let dot = 0;
  let normRef = 0;
  let normOther = 0;
  let top1 = true;
  for (const [name, a] of Object.entries(ref)) {
    const b = other[name];
    if (!b || !sameShape(a, b)) return { maxAbsDiff: Infinity, cosine: 0, top1: false };
    const x = numbers(a);
    const y = numbers(b);
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      // NaN on one side only is as far apart as values get.
      maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? (Number.isNaN(x[i]!) && Number.isNaN(y[i]!) ? 0 : Infinity) : d);
      dot += x[i]! * y[i]!;
      normRef += x[i]! * x[i]!;
      normOther += y[i]! * y[i]!;
    }
    top1 &&= sameTop1(x, y, a.dims[a.dims.length - 1] ?? 1);
  }
  const cosine = normRef === 0 && normOther === 0 ? 1 : dot / Math.sqrt(normRef * normOther);
  return { maxAbsDiff, cosine: Number.isFinite(cosine) ? cosine : 0, top1 };
}

function sameShape(a: TensorLike, b: TensorLike): boolean {
  return a.type === b.type && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

function numbers(t: TensorLike): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  return out;
}

function sameTop1(x: Float64Array, y: Float64Array, last: number): boolean {
  if (last <= 1) return x.every((v, i) => Math.abs(v - y[i]!) <= SCALAR_TOLERANCE * (1 + Math.abs(v)));
  for (let row = 0; row < x.length; row += last) {
    if (argmax(x, row, last) !== argmax(y, row, last)) return false;
  }
  return true;
}

function argmax(v: Float64Array, from: number, n: number): number {
  let best = from;
  for (let i = from + 1; i < from + n; i++) if (v[i]! > v[best]!) best = i;
  return best - from;
}

/** The running tally of one version pair. */
export class AgreementTally {
  private compared = 0;
  private disagreed = 0;
  private maxAbsDiff = 0;
  private minCosine = 1;
  private sumCosine = 0;
  private skipped = 0;

  constructor(
    readonly stable: string,
    readonly candidate: string,
  ) {}

  add(c: Comparison): void {
    this.compared++;
    if (!c.top1) this.disagreed++;
    this.maxAbsDiff = Math.max(this.maxAbsDiff, c.maxAbsDiff);
    this.minCosine = Math.min(this.minCosine, c.cosine);
    this.sumCosine += c.cosine;
  }

  /** A shadow run that was not started (page busy, or one still running). */
  skip(): void {
    this.skipped++;
  }

  /** The counts the disagreement rule reads. */
  counts(): { compared: number; disagreed: number } {
    return { compared: this.compared, disagreed: this.disagreed };
  }

  stats(): AgreementStats {
    const { stable, candidate, compared, disagreed, maxAbsDiff, minCosine, skipped } = this;
    return {
      stable,
      candidate,
      compared,
      disagreed,
      maxAbsDiff,
      minCosine: compared ? minCosine : NaN,
      meanCosine: compared ? this.sumCosine / compared : NaN,
      skipped,
    };
  }
}
