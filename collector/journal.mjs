// @ts-check
// Append-only journal of accepted requests (one JSON line each), replayed on start so that a
// restart loses nothing. A request is journaled (appendFileSync) before it is acknowledged.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * @typedef {{ batch?: string, at: string, body: unknown }} JournalRecord
 */

/** @param {string} file */
export function openJournal(file) {
  mkdirSync(dirname(file), { recursive: true });
  return {
    /**
     * Calls `fn` for each complete record in order. A torn last line (crash mid-write) is skipped.
     * @param {(r: JournalRecord) => void} fn
     * @returns {number} records replayed
     */
    replay(fn) {
      if (!existsSync(file)) return 0;
      let n = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        fn(record);
        n++;
      }
      return n;
    },
    /** @param {JournalRecord} record */
    append(record) {
      // One write per line, so a line is either whole or the torn tail that replay skips.
      appendFileSync(file, `\n${JSON.stringify(record)}\n`);
    },
  };
}
