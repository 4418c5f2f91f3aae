/**
 * The load timeout: a load fails with {@link LoadTimeoutError} when it makes no progress for
 * `timeoutMs`. Progress, not total time, so a large model on a slow link still loads, while a
 * stalled server, an ORT initialisation that never settles or a Worker that never answers does not
 * leave `runtime.load` pending forever.
 */
import { LoadTimeoutError } from '../errors';
import type { LoadPhase } from '../types';

/** Default of `LoadOptions.timeoutMs`. */
export const DEFAULT_LOAD_TIMEOUT_MS = 120_000;

/** A running load's watchdog. */
export interface LoadWatch {
  /** Re-arms the timer (call on every progress event). */
  progress(phase?: LoadPhase): void;
  /** A progress callback that re-arms the timer, then calls `onProgress`. */
  relay<P extends { phase: LoadPhase }>(onProgress?: (p: P) => void): (p: P) => void;
  /** Settles like `work`, or rejects with {@link LoadTimeoutError}; the watch keeps running (see {@link run}). */
  guard<T>(work: Promise<T>): Promise<T>;
  /** Like {@link guard}, for the load's last step: the watch stops when `work` settles. */
  run<T>(work: Promise<T>): Promise<T>;
}

/** Starts a watchdog that calls `onTimeout` and fails the guarded work; `timeoutMs` 0 (or not finite) disables it. */
export function watchLoad(timeoutMs: number = DEFAULT_LOAD_TIMEOUT_MS, onTimeout: () => void): LoadWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let phase: LoadPhase | undefined;
  let expire: (err: Error) => void = () => {};
  const expired = new Promise<never>((_, reject) => (expire = reject));
  expired.catch(() => undefined); // it may fire after the load failed otherwise
  const enabled = timeoutMs > 0 && Number.isFinite(timeoutMs);
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    if (!enabled) return;
    timer = setTimeout(() => {
      onTimeout();
      const where = phase ? `in its "${phase}" phase` : "while webq8's Worker and onnxruntime-web started";
      expire(
        new LoadTimeoutError(
          `The load made no progress for ${timeoutMs} ms ${where}, so it was cancelled. Check the network panel for a request that stalled, or raise LoadOptions.timeoutMs (0 waits forever).`,
          { timeoutMs, ...(phase ? { phase } : {}) },
        ),
      );
    }, timeoutMs);
  };
  const guard = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await Promise.race([work, expired]);
    } catch (err) {
      stop(); // the load is over
      work.catch(() => undefined);
      throw err;
    }
  };
  const progress = (p?: LoadPhase) => {
    phase = p ?? phase;
    arm();
  };
  arm();
  return {
    progress,
    relay: (onProgress) => (p) => {
      progress(p.phase);
      onProgress?.(p);
    },
    guard,
    async run(work) {
      try {
        return await guard(work);
      } finally {
        stop();
      }
    },
  };
}
