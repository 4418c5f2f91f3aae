/**
 * A model's service-level objective and its error budget, the way SRE practice alerts on them
 * (Google SRE workbook, "Alerting on SLOs"): a request is a bad event when it fails or is slower than
 * `p95Ms`; the budget allows 5 % slow requests (that is what "p95 ≤ X" means) and `errorRate`
 * failed ones. The burn rate is the observed bad fraction over the allowed one (1 = spending the
 * budget exactly as fast as the window allows), measured over a slow window (`windowMs`) and a fast
 * one (a twelfth of it, the workbook's 1 h : 5 min ratio). `breached` when both burn at ≥ 1 (the
 * budget is being exhausted now, not just in the past), `warning` when one does, `ok` otherwise.
 * The fast window lets the state return to `ok` soon after the problem stops.
 */
import { SlidingWindow } from './window';

/** A latency and error objective (see the module comment). */
export interface SloOptions {
  /** A request slower than this (ms, whole call) counts against the budget; 5 % may be. */
  p95Ms: number;
  /** Fraction of failed requests allowed (default 0.01). Shed and deadline-dropped requests count as failed. */
  errorRate?: number;
  /** The slow window in ms (default 60 000); the fast window is a twelfth of it. */
  windowMs?: number;
  /** Fewer events than this in the slow window keep the state `ok` (default 20): no verdict from a handful. */
  minEvents?: number;
}

/** The SLO state of a model (`model.stats().health`). */
export interface Health {
  state: 'ok' | 'warning' | 'breached';
  /** Burn rates over the fast and the slow window (0 when nothing happened). */
  burnRate: { fast: number; slow: number };
  /** Fraction of the slow window's error budget left (1 = untouched; negative = overspent). */
  budgetLeft: number;
  /** Events counted in the slow window. */
  events: number;
  /** The objective this is measured against. */
  slo: Required<SloOptions>;
}

const LATENCY_BUDGET = 0.05;
const KEYS = ['events', 'slow', 'failed'] as const;

/** Tracks one model's SLO; `now` is injectable for tests. */
export class SloTracker {
  readonly slo: Required<SloOptions>;
  private readonly window: SlidingWindow<(typeof KEYS)[number]>;
  private state: Health['state'] = 'ok';
  private readonly listeners = new Set<(h: Health) => void>();

  constructor(
    options: SloOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.slo = { errorRate: 0.01, windowMs: 60_000, minEvents: 20, ...options };
    this.window = new SlidingWindow(KEYS, Math.ceil(this.slo.windowMs / 1000));
  }

  /** Records one answered request. */
  ok(latencyMs: number): void {
    this.record({ events: 1, slow: latencyMs > this.slo.p95Ms ? 1 : 0 });
  }

  /** Records one failed, shed or dropped request. */
  failed(): void {
    this.record({ events: 1, failed: 1 });
  }

  /** The current health (see the module comment). */
  health(): Health {
    const now = this.now();
    const seconds = this.window.seconds;
    const slow = this.burn(this.window.sum(now, seconds));
    const fast = this.burn(this.window.sum(now, Math.max(1, Math.round(seconds / 12))));
    const events = this.window.sum(now, seconds).events;
    const enough = events >= this.slo.minEvents;
    const state: Health['state'] = !enough ? 'ok' : slow >= 1 && fast >= 1 ? 'breached' : slow >= 1 || fast >= 1 ? 'warning' : 'ok';
    return { state, burnRate: { fast, slow }, budgetLeft: 1 - slow, events, slo: this.slo };
  }

  /** Calls `listener` whenever the state changes; returns the unsubscribe function. */
  onChange(listener: (h: Health) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(values: { events: number; slow?: number; failed?: number }): void {
    this.window.add(this.now(), values);
    const h = this.health();
    if (h.state === this.state) return;
    this.state = h.state;
    for (const l of this.listeners) {
      try {
        l(h);
      } catch {
        /* a listener's error must not break serving */
      }
    }
  }

  private burn(t: { events: number; slow: number; failed: number }): number {
    if (t.events === 0) return 0;
    return Math.max(t.slow / t.events / LATENCY_BUDGET, t.failed / t.events / this.slo.errorRate);
  }
}
