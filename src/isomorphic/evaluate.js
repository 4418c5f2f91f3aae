// @ts-check
// The release decision: one pure function over two versions' counts and histograms, shared by the
// browser (local rollback, src/release/) and the reference collector (fleet rollback and promotion,
// collector/release-decision.mjs). Plain ESM JavaScript typed with JSDoc (see src/isomorphic/README.md).
//
// The statistics, stated (docs/operations.md "Releasing a new model version"):
// - Latency: a distribution-free one-sided bound on each version's p95 from order statistics. For n
//   samples, the k-th smallest value is below the true q-quantile with probability P(Bin(n, q) ≥ k);
//   we take the ranks whose bound holds with probability ≥ 1 − ALPHA each side and read them from the
//   histogram at the edge of their bucket (the bucket edge adds the histogram's resolution to the
//   bound instead of hiding it). The candidate is rolled back when its lower bound exceeds
//   `p95Ratio` × stable's upper bound, and passes when its upper bound is within `p95Ratio` × stable's
//   lower bound. Without a histogram the point estimates are compared (stated in the evidence).
// - Error rate and disagreement: Wilson score bounds on each proportion, compared the same way.
// - Nothing decides before `minSamples` on each side. Each evaluation has a false-alarm rate of at
//   most 2·ALPHA per rule; evaluating again as data grows is not corrected for (sequential peeking),
//   which is why the minimum sample and the rules' margins matter.
import { bucketLower } from './exphist.js';

/** Defaults of the manifest's `rules`. */
export const RELEASE_RULE_DEFAULTS = Object.freeze({ p95Ratio: 1.5, errorRateDelta: 0.02, disagreement: 0.05, minSamples: 200 });

/** One-sided error of each bound. */
export const ALPHA = 0.025;
/** The standard normal quantile 1 − ALPHA. */
const Z = 1.959964;
/** Error codes that are the caller's doing, not the version's: they never count against it. */
export const CALLER_ERRORS = Object.freeze(['INPUT_INVALID', 'ABORTED', 'DISPOSED']);

/** @param {string} code */
export function countsAgainstVersion(code) {
  return !CALLER_ERRORS.includes(code);
}

/**
 * P(Bin(n, q) ≤ k) for k = 0..n, by the pmf recurrence in log space (exact enough for n ≤ 1e5);
 * beyond that the normal approximation with continuity correction.
 * @param {number} n @param {number} q @returns {(k: number) => number}
 */
function binomialCdf(n, q) {
  if (n > 100_000) {
    const mean = n * q;
    const sd = Math.sqrt(n * q * (1 - q));
    return (k) => normalCdf((k + 0.5 - mean) / sd);
  }
  const cdf = new Float64Array(n + 1);
  let logPmf = n * Math.log1p(-q);
  const step = Math.log(q) - Math.log1p(-q);
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    sum += Math.exp(logPmf);
    cdf[k] = Math.min(1, sum);
    logPmf += Math.log(n - k) - Math.log(k + 1) + step;
  }
  return (k) => (k < 0 ? 0 : k >= n ? 1 : /** @type {number} */ (cdf[k]));
}

/** @param {number} x Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). */
function normalCdf(x) {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * The edge of the bucket holding the `rank`-th smallest value (1-based): its lower edge for a lower
 * bound, its upper edge for an upper one, clamped to the recorded min/max.
 * @param {import('../types.js').HistogramCounts} h @param {number} rank @param {'lower' | 'upper'} side
 */
function valueAtRank(h, rank, side) {
  if (rank <= h.zeroCount) return side === 'lower' ? 0 : Math.min(h.max, h.zeroThreshold);
  let seen = h.zeroCount;
  for (let j = 0; j < h.counts.length; j++) {
    seen += h.counts[j] ?? 0;
    if (seen >= rank) {
      const edge = bucketLower(h.scale, h.offset + j + (side === 'upper' ? 1 : 0));
      return side === 'lower' ? Math.max(h.min, edge) : Math.min(h.max, edge);
    }
  }
  return h.max;
}

/**
 * Distribution-free bounds on the `q`-quantile of the population a histogram sampled: each holds
 * with probability ≥ 1 − `alpha`. `upper` is Infinity while too few samples support one.
 * @param {import('../types.js').HistogramCounts} h @param {number} q @param {number} [alpha]
 */
export function quantileBounds(h, q, alpha = ALPHA) {
  const n = h.count;
  if (n === 0) return { lower: 0, upper: Infinity };
  const cdf = binomialCdf(n, q);
  let hi = 0;
  while (hi <= n && cdf(hi) < 1 - alpha) hi++;
  let lo = 0;
  while (lo + 1 <= n && cdf(lo) <= alpha) lo++;
  return { lower: lo === 0 ? 0 : valueAtRank(h, lo, 'lower'), upper: hi + 1 > n ? Infinity : valueAtRank(h, hi + 1, 'upper') };
}

/**
 * Wilson score bounds on a proportion `k / n`, each one-sided at 1 − ALPHA.
 * @param {number} k @param {number} n
 */
export function rateBounds(k, n) {
  if (n === 0) return { lower: 0, upper: 1 };
  const p = k / n;
  const z2 = Z * Z;
  const centre = p + z2 / (2 * n);
  const spread = Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, (centre - spread) / (1 + z2 / n)), upper: Math.min(1, (centre + spread) / (1 + z2 / n)) };
}

/** @typedef {'pass' | 'fail' | 'undecided'} Verdict */
/** @typedef {{ verdict: Verdict, evidence: Record<string, number | string | boolean | null> }} Check */

const round = (/** @type {number} */ v) => (Number.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v === Infinity ? 'Infinity' : null);

/** @param {import('../types.js').VersionStats} s @param {import('../types.js').VersionStats} c @param {number} limit @returns {Check} */
function errorCheck(s, c, limit) {
  const sb = rateBounds(s.errors, s.count + s.errors);
  const cb = rateBounds(c.errors, c.count + c.errors);
  const verdict = cb.lower - sb.upper > limit ? 'fail' : cb.upper - sb.lower <= limit ? 'pass' : 'undecided';
  const evidence = {
    limit,
    statistic: 'Wilson 97.5% one-sided bounds',
    stableErrors: s.errors,
    stableRuns: s.count + s.errors,
    candidateErrors: c.errors,
    candidateRuns: c.count + c.errors,
  };
  return {
    verdict,
    evidence: { ...evidence, stableUpper: round(sb.upper), stableLower: round(sb.lower), candidateLower: round(cb.lower), candidateUpper: round(cb.upper) },
  };
}

/** @param {import('../types.js').VersionStats} s @param {import('../types.js').VersionStats} c @param {number} ratio @returns {Check} */
function latencyCheck(s, c, ratio) {
  if (!s.histogram || !c.histogram) {
    const r = c.p95 / s.p95;
    const verdict = !Number.isFinite(r) ? 'undecided' : r > ratio ? 'fail' : 'pass';
    return {
      verdict,
      evidence: { limit: ratio, statistic: 'point estimates (no histogram)', stableP95: round(s.p95), candidateP95: round(c.p95), ratio: round(r) },
    };
  }
  const sb = quantileBounds(s.histogram, 0.95);
  const cb = quantileBounds(c.histogram, 0.95);
  const verdict = cb.lower > ratio * sb.upper ? 'fail' : cb.upper <= ratio * sb.lower ? 'pass' : 'undecided';
  return {
    verdict,
    evidence: {
      limit: ratio,
      statistic: 'order-statistic 97.5% one-sided bounds on p95, at bucket edges',
      stableP95: round(s.p95),
      candidateP95: round(c.p95),
      stableLower: round(sb.lower),
      stableUpper: round(sb.upper),
      candidateLower: round(cb.lower),
      candidateUpper: round(cb.upper),
    },
  };
}

/** @param {{ compared: number, disagreed: number }} a @param {number} limit @returns {Check} */
function disagreementCheck(a, limit) {
  const b = rateBounds(a.disagreed, a.compared);
  const verdict = b.lower > limit ? 'fail' : b.upper <= limit ? 'pass' : 'undecided';
  return {
    verdict,
    evidence: { limit, statistic: 'Wilson 97.5% one-sided bounds', compared: a.compared, disagreed: a.disagreed, lower: round(b.lower), upper: round(b.upper) },
  };
}

/**
 * Decides a rollout from the two versions' stats: `rollback` as soon as one rule fails with
 * confidence (after the minimum samples), `promote` when every rule passes with confidence, `wait`
 * otherwise. Disagreement is judged only where the stats carry shadow comparisons.
 * @param {import('../types.js').ReleaseRules | undefined} rules
 * @param {{ stable: import('../types.js').VersionStats, candidate: import('../types.js').VersionStats }} stats
 * @returns {import('../types.js').ReleaseDecision}
 */
export function evaluateRelease(rules, { stable, candidate }) {
  const r = { ...RELEASE_RULE_DEFAULTS, ...rules };
  const min = r.minSamples;
  /** @type {[import('../types.js').ReleaseRule, Check][]} */
  const checks = [];
  const a = candidate.agreement;
  if (a && a.compared >= min) checks.push(['disagreement', disagreementCheck(a, r.disagreement)]);
  const enough = stable.count + stable.errors >= min && candidate.count + candidate.errors >= min;
  if (enough) checks.push(['errorRateDelta', errorCheck(stable, candidate, r.errorRateDelta)]);
  if (enough && stable.count >= min && candidate.count >= min) checks.push(['p95Ratio', latencyCheck(stable, candidate, r.p95Ratio)]);
  const failed = checks.find(([, c]) => c.verdict === 'fail');
  if (failed) return { decision: 'rollback', rule: failed[0], evidence: failed[1].evidence };
  if (checks.length < 2 || (a && a.compared < min)) {
    const evidence = {
      minSamples: min,
      stableRuns: stable.count + stable.errors,
      candidateRuns: candidate.count + candidate.errors,
      compared: a ? a.compared : null,
    };
    return { decision: 'wait', rule: 'minSamples', evidence };
  }
  const open = checks.find(([, c]) => c.verdict === 'undecided');
  if (open) return { decision: 'wait', rule: open[0], evidence: open[1].evidence };
  return { decision: 'promote', rule: null, evidence: Object.fromEntries(checks.map(([name, c]) => [name, c.verdict])) };
}
