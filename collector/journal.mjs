// @ts-check
// Durable state of the collector: an append-only journal of accepted requests (one JSON line
// each, written before the request is acknowledged) plus a snapshot of the merged state that
// compaction writes, after which the journal starts over. Start-up streams the snapshot and then
// the journal records newer than it, line by line: no file is ever read into one string (a
// journal past ~512 MB could not be), and a line that does not parse is skipped and counted.
//
// Crash safety of compaction: the snapshot is written to a temporary file, fsynced and renamed
// over the old one; only then is the journal truncated. Every journal record carries a sequence
// number and the snapshot the last one it covers, so a crash between rename and truncate replays
// nothing twice.
import { appendFileSync, closeSync, createReadStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * @typedef {{ seq?: number, batch?: string, at?: string, body: unknown }} JournalRecord
 *   `batch` is the dedup key (see dedup.mjs); records written before sequence numbers have no `seq`.
 * @typedef {{ body?: unknown, batches?: [string, number][] }} SnapshotLine
 * @typedef {{ replayed: number, skipped: number, lastSeq: number }} ReplayStats
 */

const SNAPSHOT_VERSION = 1;

/**
 * Streams the lines of `file` (none if it does not exist). A line longer than `maxLine` bytes is
 * not assembled: it is passed on as `undefined` (counted as bad by the caller) — readline would
 * build it whole, however long.
 * @param {string} file @param {number} maxLine
 * @returns {AsyncGenerator<string | undefined>}
 */
export async function* lines(file, maxLine) {
  /** @type {import('node:fs').ReadStream} */
  let stream;
  try {
    stream = createReadStream(file);
    const s = stream;
    await new Promise((ok, fail) => s.once('open', ok).once('error', fail));
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return;
    throw err;
  }
  /** @type {Buffer[]} */
  let parts = [];
  let length = 0;
  let tooLong = false;
  for await (const chunk of stream) {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      if (!tooLong && length + nl - from <= maxLine) parts.push(chunk.subarray(from, nl));
      yield tooLong || length + nl - from > maxLine ? undefined : Buffer.concat(parts).toString('utf8');
      parts = [];
      length = 0;
      tooLong = false;
      from = nl + 1;
    }
    const rest = chunk.length - from;
    if (!tooLong && length + rest <= maxLine) parts.push(chunk.subarray(from));
    else {
      tooLong = true;
      parts = [];
    }
    length += rest;
  }
  if (length > 0) yield tooLong ? undefined : Buffer.concat(parts).toString('utf8');
}

/** @param {string} line */
function parseLine(line) {
  try {
    const v = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {string} file the journal; the snapshot is `${file}.snapshot`
 * @param {{ maxLineBytes: number, log?: (msg: string) => void }} options
 */
export function openJournal(file, options) {
  mkdirSync(dirname(file), { recursive: true });
  const snapshotFile = `${file}.snapshot`;
  const log = options.log ?? (() => {});
  let seq = 0;
  let bytes = 0;

  return {
    snapshotFile,
    /** Bytes in the journal since the last compaction. */
    get bytes() {
      return bytes;
    },

    /**
     * Feeds the snapshot's lines to `onSnapshot`, then each journal record newer than the snapshot
     * to `onRecord`, in order. A callback returns false for a record it refuses (counted as
     * skipped, like lines that do not parse). Never throws for bad content.
     * @param {(line: SnapshotLine) => boolean} onSnapshot
     * @param {(record: JournalRecord) => boolean} onRecord
     * @returns {Promise<ReplayStats>}
     */
    async replay(onSnapshot, onRecord) {
      const stats = { replayed: 0, skipped: 0, lastSeq: 0 };
      let covered = -1; // no snapshot: every record counts, numbered or not
      let first = true;
      let moveAside = '';
      for await (const line of lines(snapshotFile, options.maxLineBytes)) {
        const v = line === undefined ? undefined : parseLine(line);
        if (first) {
          first = false;
          if (v?.snapshot === SNAPSHOT_VERSION && Number.isSafeInteger(v.lastSeq)) {
            covered = v.lastSeq;
            continue;
          }
          const aside = `${snapshotFile}.corrupt-${Date.now()}`;
          log(`snapshot ${snapshotFile} has no valid header; moved to ${aside}, starting from the journal`);
          stats.skipped++;
          moveAside = aside;
          break;
        }
        if (v && onSnapshot(v)) stats.replayed++;
        else stats.skipped++;
      }
      if (moveAside) renameSync(snapshotFile, moveAside);
      for await (const line of lines(file, options.maxLineBytes)) {
        if (line === '') continue; // each record is written as "\n{…}\n"
        const r = line === undefined ? undefined : parseLine(line);
        const n = Number.isSafeInteger(r?.seq) ? r?.seq : undefined;
        // Records the snapshot already holds: a crash between its rename and the truncation.
        if (r && covered >= 0 && (n === undefined || n <= covered)) continue;
        if (r && 'body' in r && onRecord(r)) stats.replayed++;
        else stats.skipped++;
        if (n !== undefined && n > seq) seq = n;
      }
      seq = Math.max(seq, covered);
      stats.lastSeq = seq;
      try {
        bytes = statSync(file).size;
      } catch {
        bytes = 0;
      }
      return stats;
    },

    /** Appends a record (numbered here); throws when the disk refuses. @param {Omit<JournalRecord, 'seq'>} record */
    append(record) {
      const line = `\n${JSON.stringify({ seq: seq + 1, ...record })}\n`;
      // One write per line, so a line is either whole or the torn tail that replay skips.
      appendFileSync(file, line);
      seq++;
      bytes += Buffer.byteLength(line);
    },

    /**
     * Replaces the snapshot with `state` (the merged state as snapshot lines) and empties the
     * journal. Throws when the disk refuses; the old snapshot and the journal are then intact.
     * @param {Iterable<SnapshotLine>} state
     */
    compact(state) {
      const tmp = `${snapshotFile}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${JSON.stringify({ snapshot: SNAPSHOT_VERSION, lastSeq: seq, at: new Date().toISOString() })}\n`);
        for (const l of state) writeSync(fd, `${JSON.stringify(l)}\n`);
        fsyncSync(fd);
      } catch (err) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw err;
      }
      closeSync(fd);
      renameSync(tmp, snapshotFile);
      syncDir(dirname(file));
      truncateSync(file, 0);
      bytes = 0;
    },
  };
}

/** Makes a rename durable (directory entries); not possible on every platform, hence best effort. @param {string} dir */
function syncDir(dir) {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* Windows cannot open a directory; the rename is still atomic there */
  }
}
