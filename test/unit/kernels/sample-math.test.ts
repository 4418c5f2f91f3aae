import { describe, expect, it } from 'vitest';
import { sampleRow, seededUniform, topCandidates } from '../../../src/kernels/sample-math';

describe("CPU sampler (the GPU kernel's twin)", () => {
  it('orders candidates by value, then by lower index; NaN last', () => {
    expect(topCandidates([2, NaN, 5, 5, -Infinity, 3], 4)).toEqual({ values: [5, 5, 3, 2], indices: [2, 3, 5, 0] });
    expect(topCandidates([1, 1, 1], 2).indices).toEqual([0, 1]);
  });

  it('greedy is argmax; top-p tiny keeps one candidate whatever u is', () => {
    const row = [0.1, 2, -1, 1.9];
    expect(sampleRow(row, { topK: 1, temperature: 1, topP: 1, u: 0.99 })).toBe(1);
    expect(sampleRow(row, { topK: 64, temperature: 1, topP: 1e-6, u: 0.99 })).toBe(1);
  });

  it('draws each candidate with its softmax(logit / T) probability within the top-k', () => {
    const row = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const draw = seededUniform(42);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleRow(row, { topK: 3, temperature: 1, topP: 1, u: draw() })]!++;
    // Top-3 renormalizes 0.5, 0.3, 0.15 over 0.95; the fourth is never drawn.
    const want = [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0];
    counts.forEach((c, i) => expect(Math.abs(c / n - want[i]!)).toBeLessThan(0.015));
    // Temperature 2 flattens: p ∝ sqrt(p0).
    const flat = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) flat[sampleRow(row, { topK: 4, temperature: 2, topP: 1, u: draw() })]!++;
    const roots = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
    const sum = roots.reduce((a, b) => a + b);
    flat.forEach((c, i) => expect(Math.abs(c / n - roots[i]! / sum)).toBeLessThan(0.015));
  });

  it('top-p keeps the smallest prefix reaching p', () => {
    const row = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const seen = new Set<number>();
    const draw = seededUniform(1);
    for (let i = 0; i < 2000; i++) seen.add(sampleRow(row, { topK: 64, temperature: 1, topP: 0.75, u: draw() }));
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('the seeded uniform source repeats per seed and stays in [0, 1)', () => {
    const a = seededUniform(7);
    const b = seededUniform(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(seededUniform(8)()).not.toBe(seededUniform(7)());
  });
});
