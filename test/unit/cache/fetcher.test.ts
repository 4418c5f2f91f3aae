import { describe, expect, it } from 'vitest';
import { fetchModelBytes } from '../../../src/cache';
import { AbortError, ContentLengthError, ModelLoadError } from '../../../src/errors';
import { fakeServer, MODEL_URL, modelBytes, sameBytes } from './fake-server';

const model = modelBytes(200_000);

describe.each([{ byteStream: false }, { byteStream: true }])('fetchModelBytes (%o)', ({ byteStream }) => {
  const serve = (files: Parameters<typeof fakeServer>[0], opts: Parameters<typeof fakeServer>[1] = {}) => fakeServer(files, { ...opts, byteStream });

  it('downloads the whole body and reports download progress up to the total', async () => {
    const server = serve({ [MODEL_URL]: model });
    const events: { loaded: number; total?: number }[] = [];
    const bytes = await fetchModelBytes(MODEL_URL, { fetch: server.fetch, onProgress: (p) => events.push(p) });
    expect(sameBytes(bytes, model)).toBe(true);
    expect(events.at(-1)).toEqual({ phase: 'download', loaded: model.length, total: model.length });
    expect(events.map((e) => e.loaded)).toEqual([...events.map((e) => e.loaded)].sort((a, b) => a - b));
    // A byte stream is read into the fetcher's own buffer (no buffer per network chunk).
    expect(server.reads.byob > 0).toBe(byteStream);
  });

  it('resumes a body cut mid-stream with a Range request for the rest', async () => {
    const server = serve({ [MODEL_URL]: model }, { cutAfter: 70_000, cuts: 2 });
    const bytes = await fetchModelBytes(MODEL_URL, { fetch: server.fetch });
    expect(sameBytes(bytes, model)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual([null, 'bytes=70000-', 'bytes=140000-']);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const server = serve({ [MODEL_URL]: model }, { cutAfter: 50_000, cuts: 1, ranges: false });
    const bytes = await fetchModelBytes(MODEL_URL, { fetch: server.fetch });
    expect(sameBytes(bytes, model)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxRetries cuts with a ContentLengthError', async () => {
    const server = serve({ [MODEL_URL]: model }, { cutAfter: 10_000 });
    const err = await fetchModelBytes(MODEL_URL, { fetch: server.fetch, maxRetries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentLengthError);
    expect((err as ContentLengthError).details).toMatchObject({ url: MODEL_URL, expected: model.length, received: 30_000 });
    expect(server.requests).toHaveLength(3);
  });

  it('rejects a non-OK status with a ModelLoadError naming the URL and status', async () => {
    const server = serve({ [MODEL_URL]: 404 });
    const err = await fetchModelBytes(MODEL_URL, { fetch: server.fetch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe('MODEL_LOAD_FAILED');
    expect((err as ModelLoadError).details).toEqual({ url: MODEL_URL, status: 404 });
    expect((err as Error).message).toContain(MODEL_URL);
    expect((err as Error).message).toContain('404');
  });

  it('rejects a body longer than its Content-Length', async () => {
    const server = serve({ [MODEL_URL]: model }, { contentLength: 1000 });
    await expect(fetchModelBytes(MODEL_URL, { fetch: server.fetch })).rejects.toBeInstanceOf(ContentLengthError);
  });

  it('rejects a body shorter than its Content-Length after trying to resume', async () => {
    const server = serve({ [MODEL_URL]: model.subarray(0, 5000) }, { contentLength: 9000 });
    const err = await fetchModelBytes(MODEL_URL, { fetch: server.fetch, maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentLengthError);
    expect((err as ContentLengthError).code).toBe('CONTENT_LENGTH');
  });

  it('rejects a Content-Length that differs from the manifest size', async () => {
    const server = serve({ [MODEL_URL]: model });
    await expect(fetchModelBytes(MODEL_URL, { fetch: server.fetch, expectedSize: model.length + 1 })).rejects.toBeInstanceOf(ContentLengthError);
  });

  it('stops with an AbortError when the signal aborts mid-body', async () => {
    const server = serve({ [MODEL_URL]: model });
    const ac = new AbortController();
    const p = fetchModelBytes(MODEL_URL, { fetch: server.fetch, signal: ac.signal, onProgress: (e) => e.loaded > 50_000 && ac.abort() });
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(1);
  });
});
