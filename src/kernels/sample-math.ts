/**
 * Token sampling on the CPU, the same algorithm as shaders/sample-topk.wgsl in the same float32
 * order: the k largest logits (value descending, index ascending; NaN as the lowest value),
 * softmax(logit / temperature) weights, the smallest prefix reaching top-p of the weight, and the
 * candidate where the running weight first exceeds u · (kept weight). The WASM backend samples
 * with it, and the GPU kernel's tests compare against it. Also the seeded PRNG both backends draw
 * `u` from, so a seed gives the same stream wherever the model runs.
 */

/** Largest k the GPU kernel handles (its `MAX_K`); larger requests are clamped to it. */
export const MAX_TOP_K = 64;

/** One row's sampling parameters. `topK: 1` is greedy. */
export interface SampleParams {
  topK: number;
  temperature: number;
  topP: number;
  /** Uniform in [0, 1): where in the kept weight the pick falls. */
  u: number;
}

const LOWEST = -3.4028234663852886e38;

function clean(x: number): number {
  return Number.isNaN(x) ? LOWEST : Math.max(x, LOWEST);
}

/** The `k` best (value, index) pairs of `row` in the kernel's order. */
export function topCandidates(row: ArrayLike<number>, k: number): { values: number[]; indices: number[] } {
  const values: number[] = [];
  const indices: number[] = [];
  // A sorted insertion list of at most k entries: O(n·k) worst case, like the kernel's rounds.
  for (let j = 0; j < row.length; j++) {
    const v = clean(row[j]!);
    if (values.length === k && !(v > values[k - 1]!)) continue; // ties keep the lower index already held
    let at = values.length;
    while (at > 0 && v > values[at - 1]!) at--;
    values.splice(at, 0, v);
    indices.splice(at, 0, j);
    if (values.length > k) {
      values.pop();
      indices.pop();
    }
  }
  return { values, indices };
}

/** Samples one token id from `row` (one position's logits). */
export function sampleRow(row: ArrayLike<number>, p: SampleParams): number {
  const k = Math.max(1, Math.min(p.topK, MAX_TOP_K, row.length));
  const { values, indices } = topCandidates(row, k);
  const f = Math.fround;
  const top = values[0]!;
  const weight = (v: number) => f(Math.exp(f(f(v - top) / f(p.temperature))));
  let total = 0;
  for (const v of values) total = f(total + weight(v));
  let kept = 0;
  let keptTotal = 0;
  do {
    keptTotal = f(keptTotal + weight(values[kept]!));
    kept++;
  } while (kept < k && keptTotal < f(f(p.topP) * total));
  const target = f(f(p.u) * keptTotal);
  let acc = 0;
  for (let i = 0; i < kept; i++) {
    acc = f(acc + weight(values[i]!));
    if (acc > target) return indices[i]!;
  }
  return indices[kept - 1]!;
}

/** mulberry32, seeded: the per-sequence source of `u` (one draw per sampled token). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
