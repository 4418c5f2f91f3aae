// The release decision's statistics against what statistics says, not against themselves: bounds
// that must cover the true quantile of a known distribution at their stated rate, Wilson bounds
// against textbook values, and decisions on seeded samples.
import { describe, expect, it } from 'vitest';
import { evaluateRelease, quantileBounds, rateBounds, RELEASE_RULE_DEFAULTS } from '../../../src/isomorphic/evaluate.js';
import { createHistogram, quantile, record } from '../../../src/isomorphic/exphist.js';
import type { VersionStats } from '../../../src/types';
import { normal, prng } from '../telemetry/helpers';

/** VersionStats of `n` lognormal samples (median `median` ms) with `errors` failures. */
function stats(version: string, n: number, median: number, seed: number, errors = 0): VersionStats {
  const rand = prng(seed);
  const h = createHistogram();
  for (let i = 0; i < n; i++) record(h, median * Math.exp(0.5 * normal(rand)));
  return { version, count: n, errors, p50: quantile(h, 0.5), p95: quantile(h, 0.95), p99: quantile(h, 0.99), histogram: h };
}

describe('quantileBounds', () => {
  it('covers the true p95 of a lognormal at least at the stated 97.5 % rate, each side', () => {
    // True p95 of median·exp(0.5·Z): median·exp(0.5·1.6448536).
    const truth = 10 * Math.exp(0.5 * 1.6448536);
    let lowerOk = 0;
    let upperOk = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const b = quantileBounds(stats('x', 300, 10, 1000 + t).histogram!, 0.95);
      if (b.lower <= truth) lowerOk++;
      if (b.upper >= truth) upperOk++;
    }
    // Binomial(400, 0.975) is below 380 with probability < 1 %; bucket edges only widen the bounds.
    expect(lowerOk).toBeGreaterThanOrEqual(380);
    expect(upperOk).toBeGreaterThanOrEqual(380);
    // And the bounds are not vacuous: the upper one is finite at n = 300.
    expect(quantileBounds(stats('x', 300, 10, 1).histogram!, 0.95).upper).toBeLessThan(truth * 2);
  });

  it('has no upper bound on p95 from too few samples, and none at all from none', () => {
    // P(all 50 samples ≤ p95) = 0.95^50 ≈ 0.077 > 0.025: even the maximum is no 97.5 % upper bound.
    expect(quantileBounds(stats('x', 50, 10, 2).histogram!, 0.95).upper).toBe(Infinity);
    expect(quantileBounds(createHistogram(), 0.95)).toEqual({ lower: 0, upper: Infinity });
  });
});

describe('rateBounds (Wilson score, z = 1.96)', () => {
  it('matches textbook values', () => {
    const b = rateBounds(5, 100);
    expect(b.lower).toBeCloseTo(0.0215, 3);
    expect(b.upper).toBeCloseTo(0.1118, 3);
    expect(rateBounds(0, 100).lower).toBe(0);
    expect(rateBounds(0, 100).upper).toBeCloseTo(3.8415 / 103.8415, 4);
    expect(rateBounds(0, 0)).toEqual({ lower: 0, upper: 1 });
  });
});

describe('evaluateRelease', () => {
  const rules = { p95Ratio: 1.5, errorRateDelta: 0.02, disagreement: 0.05, minSamples: 200 };

  it('waits for the minimum samples on each side, whatever the figures look like', () => {
    const d = evaluateRelease(rules, { stable: stats('1', 1000, 10, 3), candidate: stats('2', 150, 100, 4, 49) });
    expect(d).toMatchObject({ decision: 'wait', rule: 'minSamples', evidence: { minSamples: 200, candidateRuns: 199 } });
  });

  it('promotes a candidate from the same distribution once every rule passes with confidence', () => {
    expect(evaluateRelease(rules, { stable: stats('1', 2000, 10, 5), candidate: stats('2', 2000, 10, 6) })).toMatchObject({ decision: 'promote', rule: null });
  });

  it('rolls back a candidate twice as slow on p95 and says which bounds decided', () => {
    const d = evaluateRelease(rules, { stable: stats('1', 400, 10, 7), candidate: stats('2', 400, 20, 8) });
    expect(d.decision).toBe('rollback');
    expect(d.rule).toBe('p95Ratio');
    expect(d.evidence.candidateLower as number).toBeGreaterThan(1.5 * (d.evidence.stableUpper as number));
  });

  it('rolls back on error rate only when the excess is beyond doubt', () => {
    const stable = stats('1', 1000, 10, 9, 2);
    expect(evaluateRelease(rules, { stable, candidate: stats('2', 1000, 10, 10, 120) })).toMatchObject({ decision: 'rollback', rule: 'errorRateDelta' });
    // 3 % vs 0.2 % on 300 runs: the excess may or may not exceed two points — wait.
    expect(evaluateRelease(rules, { stable, candidate: stats('2', 300, 10, 10, 9) })).toMatchObject({ decision: 'wait', rule: 'errorRateDelta' });
  });

  it('rolls back on shadow disagreement before any latency data exists', () => {
    const d = evaluateRelease(
      { ...rules, minSamples: 10, disagreement: 0.2 },
      {
        stable: stats('1', 5, 10, 11),
        candidate: { ...stats('2', 0, 10, 12), agreement: { compared: 10, disagreed: 8 } },
      },
    );
    expect(d).toMatchObject({ decision: 'rollback', rule: 'disagreement', evidence: { compared: 10, disagreed: 8 } });
  });

  it('compares point estimates, and says so, when the store has no histogram', () => {
    const strip = ({ histogram: _, ...s }: VersionStats): VersionStats => s;
    const d = evaluateRelease(rules, { stable: strip(stats('1', 500, 10, 13)), candidate: strip(stats('2', 500, 30, 14)) });
    expect(d).toMatchObject({ decision: 'rollback', rule: 'p95Ratio', evidence: { statistic: 'point estimates (no histogram)' } });
  });

  it('fills absent rules with the defaults', () => {
    const d = evaluateRelease(undefined, { stable: stats('1', 150, 10, 15), candidate: stats('2', 150, 10, 16) });
    expect(d.evidence.minSamples).toBe(RELEASE_RULE_DEFAULTS.minSamples);
  });
});
