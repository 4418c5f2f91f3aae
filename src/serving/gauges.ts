/**
 * Queueing gauges of one served model, over a sliding window: arrival rate λ, mean time in system
 * W, mean number in system L (time-integrated), mean service time, utilization ρ, queue length,
 * and counts of what was refused or dropped, by reason. Little's law (L = λ·W) holds for any
 * stable queue, so the three measured independently must agree: a free check of the bookkeeping.
 */
import { SlidingWindow } from './window';

/** Why a request did not run. */
export type ShedReason = 'overloaded' | 'deadline-estimate' | 'deadline-queued' | 'displaced' | 'aborted';

const KEYS = ['arrivals', 'completions', 'sojournMs', 'areaMs', 'busyMs', 'served', 'serviceMs', 'batches', 'batchItems'] as const;
type Key = (typeof KEYS)[number];

/** A snapshot of {@link ServingGauges}. */
export interface GaugeSnapshot {
  /** Admitted requests per second (λ). */
  arrivalRate: number;
  /** Mean milliseconds an admitted request spent from `run()` to its answer (W). */
  meanTimeInSystemMs: number;
  /** Mean requests queued or running, time-averaged (L). */
  meanInSystem: number;
  /** Requests queued or running right now. */
  inSystem: number;
  /** Requests waiting right now. */
  queueLength: number;
  /** Mean milliseconds a replica spent per dispatch (a batch counts once). */
  meanServiceMs: number;
  /** Fraction of replica time spent running (ρ), averaged over replicas. */
  utilization: number;
  /** Requests that did not run, by reason (since load). */
  shed: Record<ShedReason, number>;
  /** Dispatches by batch size (since load): `{ '1': 120, '4': 30 }`. */
  batchSizes: Record<string, number>;
  /** Seconds the rates and means cover. */
  windowSeconds: number;
}

/** Live gauges; `now` is injectable for tests. */
export class ServingGauges {
  private readonly window: SlidingWindow<Key>;
  private readonly started: number;
  private inSystem = 0;
  private queued = 0;
  private lastChange: number;
  private readonly shed: Record<ShedReason, number> = { overloaded: 0, 'deadline-estimate': 0, 'deadline-queued': 0, displaced: 0, aborted: 0 };
  private readonly batchSizes: Record<string, number> = {};
  /** Per second: the fastest service time per request of a dispatch (a ring like the window's). */
  private readonly fastest: { second: number; ms: number }[];

  constructor(
    private readonly replicas: () => number,
    windowSeconds = 10,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.window = new SlidingWindow(KEYS, windowSeconds);
    this.fastest = Array.from({ length: Math.max(1, Math.ceil(windowSeconds)) }, () => ({ second: -Infinity, ms: Infinity }));
    this.started = this.lastChange = now();
  }

  /** An admitted request entered the queue. */
  admitted(): void {
    this.integrate();
    this.inSystem++;
    this.queued++;
    this.window.add(this.now(), { arrivals: 1 });
  }

  /** A queued request left the queue (to run, or dropped). */
  dequeued(): void {
    this.queued--;
  }

  /** A request went back into the queue (its replica died, or its batch is split). */
  requeued(): void {
    this.queued++;
  }

  /** An admitted request was answered or failed after `sojournMs` in the system. */
  left(sojournMs: number): void {
    this.integrate();
    this.inSystem--;
    this.window.add(this.now(), { completions: 1, sojournMs });
  }

  /** A request was refused or dropped. */
  refused(reason: ShedReason): void {
    this.shed[reason]++;
  }

  /** A replica finished a dispatch of `size` requests that took `serviceMs`. */
  served(size: number, serviceMs: number): void {
    this.window.add(this.now(), { busyMs: serviceMs, served: 1, serviceMs, batches: 1, batchItems: size });
    this.batchSizes[size] = (this.batchSizes[size] ?? 0) + 1;
    const second = Math.floor(this.now() / 1000);
    const f = this.fastest[second % this.fastest.length]!;
    if (f.second !== second) [f.second, f.ms] = [second, Infinity];
    f.ms = Math.min(f.ms, serviceMs / Math.max(1, size));
  }

  /** Dispatches completed in the last `seconds`. */
  dispatches(seconds?: number): number {
    return this.window.sum(this.now(), seconds).served;
  }

  /** Seconds the window spans. */
  get windowSeconds(): number {
    return this.window.seconds;
  }

  /** The fastest service time per request of a dispatch in the last `seconds` (whole buckets), or null when none completed. */
  fastestServiceMs(seconds: number): number | null {
    const now = Math.floor(this.now() / 1000);
    let ms = Infinity;
    for (const f of this.fastest) if (f.second <= now && f.second > now - seconds) ms = Math.min(ms, f.ms);
    return Number.isFinite(ms) ? ms : null;
  }

  /** Mean service time per dispatch over the last `seconds` (default: the window), or null when none completed. */
  meanServiceMs(seconds?: number): number | null {
    const t = this.window.sum(this.now(), seconds);
    return t.served > 0 ? t.serviceMs / t.served : null;
  }

  /**
   * Mean service time per request over the last `seconds` (default: the window; a batch's time
   * shared by its requests), or null when none completed.
   */
  meanServicePerRequestMs(seconds?: number): number | null {
    const t = this.window.sum(this.now(), seconds);
    return t.batchItems > 0 ? t.serviceMs / t.batchItems : null;
  }

  /** Admitted arrivals per millisecond over the window. */
  arrivalsPerMs(): number {
    const now = this.now();
    return this.window.sum(now).arrivals / this.window.spanMs(now, this.started);
  }

  snapshot(): GaugeSnapshot {
    this.integrate();
    const now = this.now();
    const t = this.window.sum(now);
    const span = this.window.spanMs(now, this.started);
    return {
      arrivalRate: (t.arrivals / span) * 1000,
      meanTimeInSystemMs: t.completions > 0 ? t.sojournMs / t.completions : 0,
      meanInSystem: t.areaMs / span,
      inSystem: this.inSystem,
      queueLength: this.queued,
      meanServiceMs: t.served > 0 ? t.serviceMs / t.served : 0,
      utilization: Math.min(1, t.busyMs / (span * Math.max(1, this.replicas()))),
      shed: { ...this.shed },
      batchSizes: { ...this.batchSizes },
      windowSeconds: Math.min(this.window.seconds, span / 1000),
    };
  }

  /** Adds L × dt since the last change to the window, split at second boundaries. */
  private integrate(): void {
    const now = this.now();
    // Older time would land in buckets already out of the window.
    let t = Math.max(this.lastChange, now - this.window.seconds * 1000);
    this.lastChange = now;
    if (this.inSystem === 0) return;
    while (t < now) {
      const edge = Math.min(now, (Math.floor(t / 1000) + 1) * 1000);
      this.window.add(t, { areaMs: this.inSystem * (edge - t) });
      t = edge;
    }
  }
}
