// The release manifest as hostile input: the validator (shared by browser and collector) and the
// fetcher (size bound, Content-Digest, ETag, version labels that must keep their bytes), with a
// seeded fuzz that must never crash, hang or let a malformed manifest through.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryReleaseStore, rememberVersion } from '../../../src/release/client-store';
import { fetchManifest } from '../../../src/release/fetch-manifest';
import { checkManifest } from '../../../src/isomorphic/manifest.js';
import { prng } from '../telemetry/helpers';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const valid = () => ({
  model: 'cls',
  stable: { version: '1.0.0', url: 'models/cls-1.onnx', sha256: SHA_A, size: 1000 },
  candidate: { version: '1.1.0', url: 'https://cdn.example/cls-2.onnx', sha256: SHA_B.toUpperCase(), size: 2000, mode: 'canary', fraction: 0.1 },
  rules: { p95Ratio: 1.2, minSamples: 50 },
});
const BASE = 'https://example.test/api/release/cls';

describe('checkManifest', () => {
  it('returns a clean copy: URLs resolved against the manifest, hashes lowercased, unknown fields dropped', () => {
    // JSON.parse makes "__proto__" an own key, as a hostile body would.
    const r = checkManifest(JSON.parse(JSON.stringify({ ...valid(), extra: 1 }).replace('{', '{"__proto__":{"polluted":true},')), BASE);
    expect(r).toEqual({
      manifest: {
        model: 'cls',
        stable: { version: '1.0.0', url: 'https://example.test/api/release/models/cls-1.onnx', sha256: SHA_A, size: 1000 },
        candidate: { version: '1.1.0', url: 'https://cdn.example/cls-2.onnx', sha256: SHA_B, size: 2000, mode: 'canary', fraction: 0.1 },
        rules: { p95Ratio: 1.2, minSamples: 50 },
      },
    });
  });

  it.each([
    ['model', (m: ReturnType<typeof valid>) => ({ ...m, model: '../etc' })],
    ['stable.sha256', (m: ReturnType<typeof valid>) => ({ ...m, stable: { ...m.stable, sha256: 'abc' } })],
    ['stable.size', (m: ReturnType<typeof valid>) => ({ ...m, stable: { ...m.stable, size: 1.5 } })],
    ['stable.url', (m: ReturnType<typeof valid>) => ({ ...m, stable: { ...m.stable, url: 'javascript:alert(1)' } })],
    ['candidate.mode', (m: ReturnType<typeof valid>) => ({ ...m, candidate: { ...m.candidate, mode: 'all' } })],
    ['candidate.fraction', (m: ReturnType<typeof valid>) => ({ ...m, candidate: { ...m.candidate, fraction: 1.01 } })],
    ['candidate.version', (m: ReturnType<typeof valid>) => ({ ...m, candidate: { ...m.candidate, version: '1.0.0' } })],
    ['rules.minSamples', (m: ReturnType<typeof valid>) => ({ ...m, rules: { minSamples: 0 } })],
    ['rules.p95Ratio', (m: ReturnType<typeof valid>) => ({ ...m, rules: { p95Ratio: Number.NaN } })],
  ])('names the bad field: %s', (field, mutate) => {
    const r = checkManifest(mutate(valid()), BASE);
    expect('error' in r && r.error.field).toBe(field);
  });

  it('fuzz (seeded): mutated manifests are either refused with a field or come back valid and stable', () => {
    const rand = prng(42);
    const junk = [null, -1, 0, 1e300, '', 'x'.repeat(5000), [], {}, true, 'ftp://x/y', '１.0', '\u0000'];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const m = JSON.parse(JSON.stringify(valid())) as Record<string, Record<string, unknown>>;
      for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
        const part = pick(['stable', 'candidate', 'rules', 'top'] as const);
        const target = part === 'top' ? (m as Record<string, unknown>) : m[part];
        if (!target || typeof target !== 'object') continue;
        const key = pick(Object.keys(target).concat(['__proto__', 'constructor']));
        if (rand() < 0.3) delete target[key];
        else target[key] = pick(junk);
      }
      const r = checkManifest(m, BASE);
      if ('error' in r) {
        refused++;
        expect(typeof r.error.field).toBe('string');
        expect(r.error.reason.length).toBeGreaterThan(5);
      } else {
        expect(checkManifest(JSON.parse(JSON.stringify(r.manifest)), BASE)).toEqual(r);
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });
});

/** A fetch that answers with `body` and headers, recording the request headers it got. */
function server(body: string, headers: Record<string, string> = {}, status = 200) {
  const seen: Record<string, string>[] = [];
  const doFetch = (async (_url: string, init: RequestInit) => {
    seen.push({ ...(init.headers as Record<string, string>) });
    return new Response(status === 304 ? null : body, { status, headers });
  }) as typeof fetch;
  return { doFetch, seen };
}
const digestOf = (s: string) => `sha-256=:${createHash('sha256').update(s).digest('base64')}:`;

describe('fetchManifest', () => {
  const body = JSON.stringify(valid());

  it('checks the Content-Digest, returns the ETag, and sends it back as If-None-Match', async () => {
    const store = memoryReleaseStore();
    const ok = server(body, { etag: '"v1"', 'content-digest': digestOf(body) });
    const got = await fetchManifest(BASE, { fetch: ok.doFetch, store });
    expect(got).toMatchObject({ etag: '"v1"', manifest: { model: 'cls' } });
    const again = server('', {}, 304);
    expect(await fetchManifest(BASE, { fetch: again.doFetch, store, etag: '"v1"' })).toBe('unchanged');
    expect(again.seen[0]).toEqual({ 'if-none-match': '"v1"' });
  });

  it('refuses a body that does not match its Content-Digest with IntegrityError', async () => {
    const tampered = body.replace('0.1', '1');
    const err = await fetchManifest(BASE, { fetch: server(tampered, { 'content-digest': digestOf(body) }).doFetch, store: memoryReleaseStore() }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'IntegrityError', code: 'INTEGRITY' });
  });

  it('with requireIntegrity, refuses a manifest without a digest', async () => {
    const err = await fetchManifest(BASE, { fetch: server(body).doFetch, store: memoryReleaseStore(), requireIntegrity: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTEGRITY_REQUIRED' });
  });

  it('refuses a version label re-pointed at other bytes than it was verified with', async () => {
    const store = memoryReleaseStore();
    await rememberVersion('cls', '1.0.0', 'c'.repeat(64), store);
    const err = await fetchManifest(BASE, { fetch: server(body).doFetch, store }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTEGRITY', details: { version: '1.0.0', expected: 'c'.repeat(64), actual: SHA_A } });
  });

  it.each([
    ['too large', 'x'.repeat(70_000), 200, 'RELEASE_MANIFEST'],
    ['not JSON', '{"model": ', 200, 'RELEASE_MANIFEST'],
    ['invalid', JSON.stringify({ model: 'cls' }), 200, 'RELEASE_MANIFEST'],
    ['HTTP 503', '', 503, 'MODEL_LOAD_FAILED'],
  ])('%s → named error', async (_, text, status, code) => {
    const err = await fetchManifest(BASE, { fetch: server(text, {}, status).doFetch, store: memoryReleaseStore() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
  });
});
