// A server that declares the wrong Content-Length (scripts/server.mjs /__lie-length/): through the
// runtime the load fails with a ContentLengthError that says how many bytes came, and nothing is
// cached. Longer than the body: resumes cannot finish it. Shorter (the browser cuts the body at
// the declared length): caught against the manifest's size.
import { MODELS, expect, repoFile, test } from './fixtures';

test('a wrong Content-Length is a ContentLengthError through the runtime, and nothing is cached', async ({ webq8Page: page }) => {
  const size = repoFile(MODELS.cls).byteLength;
  const r = await page.evaluate(
    async ({ path, size }) => {
      const webq8 = await import('/dist/index.js');
      const rt = webq8.createRuntime();
      const attempt = async (source: Parameters<typeof rt.load>[0]) => {
        try {
          await rt.load(source, { backend: 'wasm' });
          return { name: 'loaded', code: undefined, expected: NaN, received: NaN };
        } catch (e) {
          const err = e as { name: string; code?: string; details?: { expected?: number; received?: number } };
          return { name: err.name, code: err.code, expected: err.details?.expected ?? NaN, received: err.details?.received ?? NaN };
        }
      };
      const longer = await attempt(`/__lie-length${path}?delta=1000`);
      const manifest = { id: 'cls', version: '1', url: `${location.origin}/__lie-length${path}?delta=-1000`, size };
      const shorter = await attempt({ manifest: `data:application/json,${encodeURIComponent(JSON.stringify(manifest))}` });
      const entries = (await rt.cache.list()).length;
      const honest = await rt.load(path, { backend: 'wasm' });
      await rt.dispose();
      return { longer, shorter, entries, honest: honest.info.cache.status };
    },
    { path: MODELS.cls, size },
  );
  // Chromium errors the body stream at the short close and may drop its last buffered bytes, so
  // `received` is at most the real size, not exactly it.
  expect(r.longer).toEqual({ name: 'ContentLengthError', code: 'CONTENT_LENGTH', expected: size + 1000, received: expect.any(Number) });
  expect(r.longer.received).toBeLessThanOrEqual(size);
  expect(r.shorter).toEqual({ name: 'ContentLengthError', code: 'CONTENT_LENGTH', expected: size, received: size - 1000 });
  expect(r.entries).toBe(0);
  // The same bytes from an honest URL load and are stored: the failures left nothing in the way.
  expect(r.honest).toBe('miss');
});
