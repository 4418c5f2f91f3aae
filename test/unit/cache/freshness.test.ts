import { describe, expect, it } from 'vitest';
import { conditionalHeaders, freshness, mergeValidators, parseCacheControl, readValidators, type HttpValidators } from '../../../src/cache/freshness';

const T0 = Date.UTC(2026, 0, 1);
const at = (v: Partial<HttpValidators>): HttpValidators => ({ receivedAt: T0, ...v });

describe('parseCacheControl', () => {
  it('reads the directives case-insensitively, with quoted and spaced arguments', () => {
    expect(parseCacheControl('public, MAX-AGE=600, Immutable')).toEqual({ maxAge: 600, immutable: true, noCache: false, noStore: false });
    expect(parseCacheControl('max-age = "30" ,no-cache')).toMatchObject({ maxAge: 30, noCache: true });
    expect(parseCacheControl('no-cache="Set-Cookie, X-Foo", no-store')).toEqual({ immutable: false, noCache: true, noStore: true });
    expect(parseCacheControl('private="a,max-age=9"')).toEqual({ immutable: false, noCache: false, noStore: false });
  });

  it('treats a malformed or conflicting max-age as stale, and caps a huge one', () => {
    expect(parseCacheControl('max-age=abc').maxAge).toBe(0);
    expect(parseCacheControl('max-age=-5').maxAge).toBe(0);
    expect(parseCacheControl('max-age').maxAge).toBe(0);
    expect(parseCacheControl('max-age=10, max-age=20').maxAge).toBe(0);
    expect(parseCacheControl('max-age=10, max-age=10').maxAge).toBe(10);
    expect(parseCacheControl('max-age=99999999999999999999').maxAge).toBe(2 ** 31);
  });

  it('never throws and stays within its bounds on hostile values (seeded fuzz)', () => {
    let seed = 26;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const atoms = ['max-age', 'no-cache', 'no-store', 'immutable', '=', ',', '"', '\\', ' ', '\t', '0', '9', '-', 'x', ';', 'é', '\u0000', '"a,b"'];
    for (let i = 0; i < 2000; i++) {
      const value = Array.from({ length: rand(40) }, () => atoms[rand(atoms.length)]).join('');
      const cc = parseCacheControl(value);
      expect(typeof cc.noCache).toBe('boolean');
      if (cc.maxAge !== undefined) expect(Number.isInteger(cc.maxAge) && cc.maxAge >= 0 && cc.maxAge <= 2 ** 31).toBe(true);
      // The decision is always one of the three actions, whatever the header says.
      expect(['fresh', 'revalidate', 'unvalidatable']).toContain(freshness(at({ cacheControl: value, etag: '"e"' }), T0 + rand(10 ** 9)).action);
    }
    // A long adversarial value (unterminated quotes, backslashes) is parsed in bounded time and size.
    expect(parseCacheControl('"\\'.repeat(200_000) + ', no-store').noStore).toBe(false);
    expect(parseCacheControl('max-age=5,' + ' '.repeat(100_000)).maxAge).toBe(5);
  });
});

describe('freshness', () => {
  it('immutable or younger than max-age: no request; older: revalidate with the ETag', () => {
    expect(freshness(at({ cacheControl: 'max-age=31536000, immutable' }), T0 + 400 * 86400_000)).toEqual({ action: 'fresh' });
    expect(freshness(at({ cacheControl: 'max-age=60', etag: '"a"' }), T0 + 59_000)).toEqual({ action: 'fresh' });
    expect(freshness(at({ cacheControl: 'max-age=60', etag: '"a"' }), T0 + 61_000)).toEqual({ action: 'revalidate', headers: { 'If-None-Match': '"a"' } });
  });

  it('counts the Age header and the Date the server stamped into the age', () => {
    expect(freshness(at({ cacheControl: 'max-age=60', age: 50, etag: '"a"' }), T0 + 11_000).action).toBe('revalidate');
    expect(freshness(at({ cacheControl: 'max-age=60', date: new Date(T0 - 55_000).toUTCString(), etag: '"a"' }), T0 + 6_000).action).toBe('revalidate');
  });

  it('no-cache always revalidates, even immutable; Last-Modified is used without an ETag', () => {
    const lm = new Date(T0 - 86400_000).toUTCString();
    expect(freshness(at({ cacheControl: 'immutable, no-cache', lastModified: lm }), T0)).toEqual({
      action: 'revalidate',
      headers: { 'If-Modified-Since': lm },
    });
  });

  it('Expires − Date gives the lifetime; an invalid Expires is already stale', () => {
    const date = new Date(T0).toUTCString();
    const expires = new Date(T0 + 3600_000).toUTCString();
    expect(freshness(at({ date, expires, etag: '"a"' }), T0 + 1000).action).toBe('fresh');
    expect(freshness(at({ date, expires: '0', etag: '"a"' }), T0 + 1000).action).toBe('revalidate');
  });

  it('no validators and no lifetime: unvalidatable; an unparsable Last-Modified is no validator', () => {
    expect(freshness(at({}), T0).action).toBe('unvalidatable');
    expect(freshness(at({ lastModified: 'yesterday' }), T0).action).toBe('unvalidatable');
    expect(conditionalHeaders(at({ etag: 'W/"1"', lastModified: new Date(T0).toUTCString() }))).toEqual({ 'If-None-Match': 'W/"1"' });
  });
});

describe('readValidators / mergeValidators', () => {
  it('reads the caching headers of a response; a 304 updates them and drops the old Age', () => {
    const res = new Response(null, { headers: { etag: '"v1"', 'cache-control': 'no-cache', age: '7', 'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT' } });
    const v = readValidators(res, T0);
    expect(v).toEqual({ receivedAt: T0, etag: '"v1"', cacheControl: 'no-cache', age: 7, lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' });
    const after = mergeValidators(v, readValidators(new Response(null, { headers: { 'cache-control': 'max-age=5' } }), T0 + 1000));
    expect(after).toEqual({ receivedAt: T0 + 1000, etag: '"v1"', cacheControl: 'max-age=5', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' });
  });
});
