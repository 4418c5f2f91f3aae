/**
 * When to retry an OTLP/HTTP export, and how long to wait. The OTLP spec makes 429, 502, 503 and
 * 504 retryable (with Retry-After honoured); every other 4xx/5xx is final. Network failures (fetch
 * rejects: offline, DNS, CORS, collector down) are retried too: the batch waits in the outbox.
 */

/** Retry backoff bounds. */
export interface BackoffOptions {
  /** First delay, ms; default 1000. */
  baseMs?: number;
  /** Longest delay, ms (also caps Retry-After); default 5 minutes. */
  maxMs?: number;
}

/** What to do with a response status. */
export type Outcome = 'sent' | 'retry' | 'drop';

/** Classifies an HTTP status (0 = no response) for an export attempt. */
export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 0 || status === 429 || status === 502 || status === 503 || status === 504) return 'retry';
  return 'drop';
}

/** Parses Retry-After (delta-seconds or an HTTP-date) into ms from `nowMs`; undefined if absent/invalid. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Delay before attempt `attempts + 1`: Retry-After when the server gave one, else exponential
 * backoff `base·2^(attempts−1)` with jitter in [50 %, 100 %], both capped at `maxMs`.
 */
export function retryDelay(attempts: number, retryAfterMs: number | undefined, random: () => number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 300_000;
  if (retryAfterMs !== undefined) return Math.min(max, retryAfterMs);
  const exp = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.5 + random() / 2));
}
