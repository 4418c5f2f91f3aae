/**
 * One version's record on this client, as the local rollback rules read it: a histogram of service
 * times (the Worker's run time, `reply.timings.runMs`, so that a shadow run waiting behind user runs
 * compares fairly with a served one) and counts of successes and of errors that count against the
 * version.
 */
import { countsAgainstVersion } from '../isomorphic/evaluate.js';
import { createHistogram, quantile, record } from '../isomorphic/exphist.js';
import type { VersionStats } from '../types';

/** Successes, errors and service-time histogram of one version on this client. */
export class LocalStats {
  private readonly histogram = createHistogram();
  private errors = 0;

  /** A run that succeeded in `ms` of service time. */
  ok(ms: number): void {
    record(this.histogram, ms);
  }

  /** A run that failed with `err`; caller errors (bad input, aborts) are not the version's. */
  failed(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (countsAgainstVersion(typeof code === 'string' ? code : 'INTERNAL')) this.errors++;
  }

  /** Samples so far (successes and counted errors). */
  get samples(): number {
    return this.histogram.count + this.errors;
  }

  /** The {@link VersionStats} of `version`. */
  of(version: string): VersionStats {
    const h = this.histogram;
    return { version, count: h.count, errors: this.errors, p50: quantile(h, 0.5), p95: quantile(h, 0.95), p99: quantile(h, 0.99), histogram: h };
  }
}
