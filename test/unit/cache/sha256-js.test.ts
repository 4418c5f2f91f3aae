import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256 } from '../../../src/cache/sha256-js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('JS SHA-256 (for non-secure contexts)', () => {
  it('matches node:crypto across block-boundary lengths and random data', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 100_003]) {
      const data = Uint8Array.from({ length: n }, rand);
      expect(hex(sha256(data)), `length ${n}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });
  it('gives the FIPS 180-4 test vector for "abc"', () => {
    expect(hex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('incremental JS SHA-256 (a download hashed as it arrives)', () => {
  it('equals node:crypto for the same bytes given in seeded random pieces, across block boundaries', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (const n of [0, 1, 63, 64, 65, 127, 128, 4099, 100_003]) {
      const data = Uint8Array.from({ length: n }, () => rand(256));
      for (const maxPiece of [1, 7, 64, 1000]) {
        const h = new Sha256();
        for (let at = 0; at < n;) {
          const len = Math.min(n - at, rand(maxPiece) + 1);
          h.update(data.subarray(at, at + len));
          at += len;
        }
        expect(hex(h.digest()), `length ${n}, pieces ≤ ${maxPiece}`).toBe(createHash('sha256').update(data).digest('hex'));
      }
    }
  });
});
