import { IntegrityError } from '../errors';
import { sha256 } from './sha256-js';
import type { Sha256Hex } from './types';

/**
 * SHA-256 of `bytes` as lowercase hex, with WebCrypto. `crypto.subtle.digest` has no incremental
 * API, so callers hash a whole buffer at once (the assembled model, or one chunk).
 */
export async function sha256Hex(bytes: Uint8Array): Promise<Sha256Hex> {
  const subtle = globalThis.crypto?.subtle;
  // crypto.subtle exists only in secure contexts; plain-http pages get the (slower) JS version.
  if (!subtle) return toHex(sha256(bytes));
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

/** Throws `IntegrityError` when the bytes at `url` hash to `actual` but `expected` was given and differs. */
export function checkExpected(url: string, expected: string | undefined, actual: Sha256Hex): void {
  if (expected === undefined || actual === expected) return;
  throw new IntegrityError(`The model at ${url} has SHA-256 ${actual}, expected ${expected}. It was not cached or used; check the URL or the expected hash.`, {
    url,
    expected,
    actual,
  });
}

/**
 * Normalizes an expected hash to lowercase hex. Accepts 64 hex characters or an SRI string
 * `sha256-<base64>`; anything else is an {@link IntegrityError} saying which forms are accepted.
 */
export function parseExpectedSha256(expected: string): Sha256Hex {
  const s = expected.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  const sri = /^sha256-([A-Za-z0-9+/_-]{43}=?)$/.exec(s);
  if (sri?.[1]) {
    const bin = atob(sri[1].replace(/-/g, '+').replace(/_/g, '/'));
    if (bin.length === 32) return toHex(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  throw new IntegrityError(`Expected hash "${expected}" is not a SHA-256. Pass 64 hex characters or an SRI string "sha256-<base64>".`, {
    expected,
    reason: 'malformed',
  });
}

/** `bytes` as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
