/**
 * A sliding window of per-second buckets: the storage under the serving gauges and the SLO tracker.
 * Adding to "now" lands in the current second's bucket; buckets older than the window are reused,
 * so memory is fixed (one bucket per second of window) whatever the request rate.
 */

/** A bucket's counters, all additive. */
export type Counters<K extends string> = Record<K, number>;

/** Fixed-size ring of per-second {@link Counters}. */
export class SlidingWindow<K extends string> {
  private readonly buckets: { second: number; c: Counters<K> }[];

  /**
   * @param keys the counters each bucket holds
   * @param seconds how many seconds the window spans (at least 1)
   */
  constructor(
    private readonly keys: readonly K[],
    readonly seconds: number,
  ) {
    this.buckets = Array.from({ length: Math.max(1, Math.ceil(seconds)) }, () => ({ second: -Infinity, c: this.zero() }));
  }

  /** Adds `values` to the bucket of time `nowMs`. */
  add(nowMs: number, values: Partial<Counters<K>>): void {
    const b = this.bucket(nowMs);
    for (const k of Object.keys(values) as K[]) b.c[k] += values[k] ?? 0;
  }

  /** Sums the buckets of the last `seconds` (default: the whole window) up to `nowMs`. */
  sum(nowMs: number, seconds = this.seconds): Counters<K> {
    const now = Math.floor(nowMs / 1000);
    const totals = this.zero();
    for (const b of this.buckets) {
      if (b.second > now || b.second <= now - seconds) continue;
      for (const k of this.keys) totals[k] += b.c[k];
    }
    return totals;
  }

  /**
   * Milliseconds the last `seconds` cover up to `nowMs`, given the window began filling at
   * `startMs`: whole buckets back to the first one, the current one only as far as `nowMs`.
   */
  spanMs(nowMs: number, startMs: number, seconds = this.seconds): number {
    const windowStart = (Math.floor(nowMs / 1000) - Math.min(seconds, this.seconds) + 1) * 1000;
    return Math.max(1, nowMs - Math.max(windowStart, startMs));
  }

  private bucket(nowMs: number): { second: number; c: Counters<K> } {
    const second = Math.floor(nowMs / 1000);
    const b = this.buckets[second % this.buckets.length]!;
    if (b.second !== second) {
      b.second = second;
      b.c = this.zero();
    }
    return b;
  }

  private zero(): Counters<K> {
    return Object.fromEntries(this.keys.map((k) => [k, 0])) as Counters<K>;
  }
}
