import type { LoadProgress } from './types';

/** Calls a user progress callback; its exceptions must not break the load. */
export function report(onProgress: ((p: LoadProgress) => void) | undefined, p: LoadProgress): void {
  if (!onProgress) return;
  try {
    onProgress(p);
  } catch {
    /* a progress callback never fails the load */
  }
}
