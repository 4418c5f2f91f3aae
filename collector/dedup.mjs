// @ts-check
// The window of batch ids already counted, so a re-sent batch (`x-webq8-batch`) counts once.
// Bounded by age and by number: the oldest ids are forgotten first. Ids are compared in full —
// long ones by their SHA-256, so two ids that share a long prefix never collide and a hostile id
// costs a fixed 50 bytes.
import { createHash } from 'node:crypto';

/** Ids up to this length are kept as they are; longer ones as a hash. */
const MAX_PLAIN_ID = 64;

/** The key a batch id is remembered by. @param {string} id */
export function batchKey(id) {
  return id.length <= MAX_PLAIN_ID ? id : `#${createHash('sha256').update(id).digest('base64url')}`;
}

/**
 * @param {{ maxIds: number, windowMs: number, now?: () => number }} options
 */
export function createDedupWindow(options) {
  const now = options.now ?? Date.now;
  /** key → time first seen (ms); Map iteration order is insertion order, i.e. oldest first. */
  /** @type {Map<string, number>} */
  const seen = new Map();

  function evict() {
    const horizon = now() - options.windowMs;
    for (const [key, at] of seen) {
      if (seen.size <= options.maxIds && at >= horizon) break;
      seen.delete(key);
    }
  }

  return {
    /** @param {string} key */
    has: (key) => seen.has(key),
    /** Remembers `key` as seen at `at` (ms); ids already older than the window are not kept. @param {string} key @param {number} [at] */
    add(key, at = now()) {
      if (at < now() - options.windowMs) return;
      seen.set(key, at);
      evict();
    },
    get size() {
      return seen.size;
    },
    /** The remembered [key, at] pairs, oldest first (for snapshots). @returns {[string, number][]} */
    entries() {
      evict();
      return [...seen];
    },
  };
}
