// The one best-effort JSON POST behind both incident reports (verification, releases): it sends
// JSON with the caller's headers and a timeout signal, discards the answer, and never rejects.
import { describe, expect, it } from 'vitest';
import { postJson, type PostFetch } from '../../../src/telemetry/lib/post-json.js';

describe('postJson', () => {
  it('POSTs the body as JSON with the extra headers and a timeout signal, and cancels the answer body', async () => {
    const seen: Parameters<PostFetch>[] = [];
    let cancelled = 0;
    await postJson(
      'http://collector.test/api/x',
      { a: 1 },
      {
        headers: { authorization: 'Bearer t' },
        fetch: async (...args) => {
          seen.push(args);
          return { body: { cancel: async () => void cancelled++ } };
        },
      },
    );
    expect(seen).toHaveLength(1);
    const [url, init] = seen[0]!;
    expect(url).toBe('http://collector.test/api/x');
    expect(init).toMatchObject({ method: 'POST', body: '{"a":1}', headers: { authorization: 'Bearer t', 'content-type': 'application/json' } });
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect(cancelled).toBe(1);
  });

  it('never rejects: a failed fetch, a throwing fetch, a body that cannot be serialized, a cancel that fails', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(postJson('http://x.test', {}, { fetch: () => Promise.reject(new TypeError('network')) })).resolves.toBeUndefined();
    await expect(
      postJson(
        'http://x.test',
        {},
        {
          fetch: () => {
            throw new Error('sync');
          },
        },
      ),
    ).resolves.toBeUndefined();
    await expect(postJson('http://x.test', cyclic, { fetch: async () => null })).resolves.toBeUndefined();
    await expect(postJson('http://x.test', {}, { fetch: async () => ({ body: { cancel: () => Promise.reject(new Error('x')) } }) })).resolves.toBeUndefined();
  });
});
