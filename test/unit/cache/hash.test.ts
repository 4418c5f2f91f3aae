import { describe, expect, it } from 'vitest';
import { parseExpectedSha256, sha256Hex } from '../../../src/cache';
import { IntegrityError } from '../../../src/errors';
import { modelBytes, nodeSha256 } from './fake-server';

describe('hash', () => {
  it('sha256Hex matches Node crypto', async () => {
    const bytes = modelBytes(100_003);
    expect(await sha256Hex(bytes)).toBe(await nodeSha256(bytes));
  });

  it('accepts hex in either case and SRI sha256-<base64> for the same digest', async () => {
    const hex = await nodeSha256(modelBytes(10));
    const b64 = Buffer.from(hex, 'hex').toString('base64');
    expect(parseExpectedSha256(hex.toUpperCase())).toBe(hex);
    expect(parseExpectedSha256(`sha256-${b64}`)).toBe(hex);
    expect(parseExpectedSha256(` sha256-${b64.replace(/=$/, '')} `)).toBe(hex);
  });

  it.each(['', 'abc', 'sha384-' + 'A'.repeat(64), 'sha256-not*base64', 'g'.repeat(64)])('rejects %j with an IntegrityError', (bad) => {
    expect(() => parseExpectedSha256(bad)).toThrow(IntegrityError);
  });
});
