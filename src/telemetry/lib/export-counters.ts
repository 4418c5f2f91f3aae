/** The exporter's counters ({@link ExportStats}): a fresh zero set, and counting a dropped batch. */
import type { ExportStats } from '../types.js';

/** All counters zero (also what telemetry reports when there is no endpoint). */
export function emptyExportStats(): ExportStats {
  return { sent: 0, retries: 0, pending: 0, dropped: {} };
}

/** Counts `n` batches given up for `reason` ('outbox-full', 'http-413', …). */
export function countDrop(counters: ExportStats, reason: string, n = 1): void {
  counters.dropped[reason] = (counters.dropped[reason] ?? 0) + n;
}
