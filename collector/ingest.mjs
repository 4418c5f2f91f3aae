// @ts-check
// The collector's state machine, without HTTP: a request body is validated whole, checked against
// the dedup window and the series cap, journaled, and only then merged — so what is acknowledged
// is exactly what a restart replays, and nothing that could hurt the process ever reaches the
// journal. Replay runs the same checks on every record (journals written by older versions may
// hold anything) and skips what fails them.
import { createAggregator } from './aggregate.mjs';
import { batchKey, createDedupWindow } from './dedup.mjs';
import { openJournal } from './journal.mjs';
import { parseExport } from './validate.mjs';

/**
 * @typedef {{
 *   dataFile?: string, maxBodyBytes: number, maxSeries: number, dedupMaxIds: number,
 *   dedupWindowMs: number, compactBytes: number, log: (msg: string) => void,
 *   onMerged?: (parsed: import('./validate.mjs').Parsed, body: unknown, replayed: boolean) => void,
 * }} StoreOptions
 *   `onMerged`: called after a body is merged (fleet.mjs: gauges, remote write); must not throw.
 * @typedef {{ status: number, body: Record<string, unknown>, headers?: Record<string, string> }} Outcome
 */

/** Batch ids per snapshot line. */
const IDS_PER_LINE = 1000;

/**
 * Opens (and replays) the store.
 * @param {StoreOptions} options
 */
export async function openStore(options) {
  const agg = createAggregator({ maxSeries: options.maxSeries });
  const dedup = createDedupWindow({ maxIds: options.dedupMaxIds, windowMs: options.dedupWindowMs });
  // A journal line is one accepted body re-serialized plus a few fields; longer lines are damage.
  const journal = options.dataFile ? openJournal(options.dataFile, { maxLineBytes: 2 * options.maxBodyBytes + 4096, log: options.log }) : undefined;
  let compactions = 0;
  let nextCompaction = options.compactBytes;

  /**
   * Merges a journaled or snapshotted body; false when it does not pass today's checks.
   * @param {unknown} body @param {unknown} batch @param {unknown} at
   */
  function restore(body, batch, at) {
    const parsed = parseExport(body);
    if (typeof parsed === 'string') return false;
    const key = typeof batch === 'string' && batch !== '' ? batchKey(batch) : undefined;
    if ((key && dedup.has(key)) || agg.admit(parsed)) return false;
    try {
      agg.add(parsed);
    } catch (err) {
      options.log(`replay: ${/** @type {Error} */ (err).message}`);
      return false;
    }
    options.onMerged?.(parsed, body, true);
    if (key) dedup.add(key, typeof at === 'string' && Date.parse(at) ? Date.parse(at) : Date.now());
    return true;
  }

  /** @returns {Generator<import('./journal.mjs').SnapshotLine>} */
  function* snapshotLines() {
    for (const body of agg.snapshot()) yield { body };
    const ids = dedup.entries();
    for (let i = 0; i < ids.length; i += IDS_PER_LINE) yield { batches: ids.slice(i, i + IDS_PER_LINE) };
  }

  function maybeCompact() {
    if (!journal || journal.bytes < nextCompaction) return;
    try {
      journal.compact(snapshotLines());
      compactions++;
      nextCompaction = options.compactBytes;
    } catch (err) {
      // Not fatal: the journal keeps everything; try again after another compactBytes.
      options.log(`compaction failed: ${/** @type {Error} */ (err).message}`);
      nextCompaction = journal.bytes + options.compactBytes;
    }
  }

  const replay = journal
    ? await journal.replay(
        (line) => {
          if (line.body !== undefined) return restore(line.body, undefined, undefined);
          if (!Array.isArray(line.batches)) return false;
          for (const e of line.batches) if (Array.isArray(e) && typeof e[0] === 'string' && Number.isFinite(e[1])) dedup.add(batchKey(e[0]), e[1]);
          return true;
        },
        (r) => restore(r.body, r.batch, r.at),
      )
    : { replayed: 0, skipped: 0, lastSeq: 0 };
  maybeCompact();

  return {
    agg,
    replayed: replay.replayed,
    skipped: replay.skipped,

    /**
     * Takes one parsed request body.
     * @param {unknown} json @param {string | undefined} batch the `x-webq8-batch` header
     * @returns {Outcome}
     */
    accept(json, batch) {
      const parsed = parseExport(json);
      if (typeof parsed === 'string') return { status: 400, body: { error: parsed } };
      const key = batch ? batchKey(batch) : undefined;
      if (key && dedup.has(key)) return { status: 200, body: {} }; // a re-send of what we already have
      const refused = agg.admit(parsed);
      if (refused) return { status: 413, body: { error: refused } };
      try {
        journal?.append({ batch: key, at: new Date().toISOString(), body: json });
      } catch (err) {
        options.log(`journal append failed: ${/** @type {Error} */ (err).message}`);
        return { status: 503, body: { error: 'cannot persist the batch right now; retry later' }, headers: { 'retry-after': '5' } };
      }
      if (key) dedup.add(key);
      agg.add(parsed);
      options.onMerged?.(parsed, json, false);
      maybeCompact();
      return { status: 200, body: {} };
    },

    /** The `/api/status` document. */
    status() {
      return {
        ...agg.size,
        dedupIds: dedup.size,
        journalBytes: journal?.bytes ?? 0,
        compactions,
        replayed: replay.replayed,
        skipped: replay.skipped,
        rssBytes: process.memoryUsage().rss,
      };
    },
  };
}
