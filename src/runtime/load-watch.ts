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
  /** Settles like `work`, or rejects with {@link LoadTimeoutError} (after calling `onTimeout`). */
  run<T>(work: Promise<T>): Promise<T>;
}

/** Starts a watchdog; `timeoutMs` 0 (or not finite) disables it. */
export function watchLoad(timeoutMs: number = DEFAULT_LOAD_TIMEOUT_MS, onTimeout: () => void): LoadWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let phase: LoadPhase | undefined;
  let expire: (err: Error) => void = () => {};
  const expired = new Promise<never>((_, reject) => (expire = reject));
  const enabled = timeoutMs > 0 && Number.isFinite(timeoutMs);
  const arm = () => {
    clearTimeout(timer);
    if (!enabled) return;
    timer = setTimeout(() => {
      onTimeout();
      const where = phase ? `in its "${phase}" phase` : "while webq8's Worker and onnxruntime-web started";
      expire(new LoadTimeoutError(`The load made no progress for ${timeoutMs} ms ${where}, so it was cancelled. Check the network panel for a request that stalled, or raise LoadOptions.timeoutMs (0 waits forever).`, { timeoutMs, ...(phase ? { phase } : {}) }));
    }, timeoutMs);
  };
  arm();
  return {
    progress(p) {
      phase = p ?? phase;
      arm();
    },
    async run(work) {
      try {
        return await Promise.race([work, expired]);
      } finally {
        clearTimeout(timer);
        work.catch(() => undefined);
      }
    },
  };
}
