import { describe, expect, it } from 'vitest';
import { SloTracker, type Health } from '../../../src/serving/slo';

// A clock the test moves by hand: the tracker's windows are per-second buckets.
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('SloTracker', () => {
  it('stays ok while slow requests stay within the 5 % a p95 objective allows', () => {
    const c = clock();
    const slo = new SloTracker({ p95Ms: 50, windowMs: 60_000, minEvents: 20 }, c.now);
    for (let i = 0; i < 200; i++) {
      slo.ok(i % 50 === 0 ? 80 : 10); // 2 % slow
      c.advance(100);
    }
    const h = slo.health();
    expect(h.state).toBe('ok');
    expect(h.burnRate.slow).toBeCloseTo(0.4, 1);
    expect(h.budgetLeft).toBeGreaterThan(0.5);
  });

  it('goes ok → warning → breached under an injected slow path, fires change events, and recovers through the fast window', () => {
    const c = clock();
    const slo = new SloTracker({ p95Ms: 50, windowMs: 60_000, minEvents: 20 }, c.now);
    const states: Health['state'][] = [];
    slo.onChange((h) => states.push(h.state));
    for (let i = 0; i < 300; i++) {
      slo.ok(10);
      c.advance(100);
    }
    expect(slo.health().state).toBe('ok');
    // The slow path: every request takes 200 ms. The fast window (5 s) burns first: warning; once the
    // slow window's budget is spent too: breached.
    for (let i = 0; i < 100; i++) {
      slo.ok(200);
      c.advance(100);
      if (i === 10) expect(slo.health().state).toBe('warning');
    }
    expect(slo.health().state).toBe('breached');
    expect(slo.health().budgetLeft).toBeLessThan(0);
    // Healthy again: the fast window clears within seconds, so the state leaves 'breached'.
    for (let i = 0; i < 100; i++) {
      slo.ok(10);
      c.advance(100);
    }
    expect(slo.health().state).toBe('warning');
    expect(states).toEqual(['warning', 'breached', 'warning']);
  });

  it('counts failures against errorRate', () => {
    const c = clock();
    const slo = new SloTracker({ p95Ms: 1000, errorRate: 0.1, minEvents: 10 }, c.now);
    for (let i = 0; i < 100; i++) {
      if (i % 4 === 0) slo.failed();
      else slo.ok(1);
      c.advance(10);
    }
    expect(slo.health().burnRate.slow).toBeCloseTo(2.5, 5);
    expect(slo.health().state).toBe('breached');
  });

  it('gives no verdict from fewer than minEvents events', () => {
    const c = clock();
    const slo = new SloTracker({ p95Ms: 1, minEvents: 20 }, c.now);
    for (let i = 0; i < 19; i++) slo.ok(100);
    expect(slo.health().state).toBe('ok');
    slo.ok(100);
    expect(slo.health().state).toBe('breached');
  });
});
