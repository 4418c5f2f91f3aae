// The weight cache through the runtime: the second load of a URL reads IndexedDB (no network),
// model.info carries the SHA-256 and cache outcome, integrity is enforced, and the management API
// sees the entry.
import { createHash } from 'node:crypto';
import { MODELS, expect, repoFile, test } from './fixtures';

test('runtime.load caches by SHA-256: miss, then hit without fetching; wrong hash is an IntegrityError', async ({ webq8Page: page }) => {
  const sha256 = createHash('sha256').update(repoFile(MODELS.cls)).digest('hex');
  const modelFetches: string[] = [];
  page.on('request', (r) => r.url().endsWith('.onnx') && modelFetches.push(r.url()));
  const r = await page.evaluate(
    async ({ url, sha256 }) => {
      const webq8 = await import('/dist/index.js');
      const rt = webq8.createRuntime();
      const phases = new Set<string>();
      const first = await rt.load({ url, id: 'ppocr-cls', version: '2.0' }, { backend: 'wasm', onProgress: (p) => phases.add(p.phase) });
      const second = await rt.load({ url, sha256 }, { backend: 'wasm' });
      const list = await rt.cache.list();
      const usage = await rt.cache.usage();
      let integrity: unknown = null;
      try {
        await rt.load({ url, sha256: '0'.repeat(64) }, { backend: 'wasm', cache: 'refresh' });
      } catch (e) {
        integrity = { name: (e as Error).name, code: (e as { code?: string }).code };
      }
      const out = await second.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
      const deleted = await rt.cache.delete({ id: 'ppocr-cls' });
      const third = await rt.load(url, { backend: 'wasm' });
      await rt.dispose();
      return {
        first: { sha256: first.info.sha256, cache: first.info.cache, modelId: first.info.modelId, version: first.info.version },
        second: second.info.cache,
        third: third.info.cache,
        phases: [...phases].sort(),
        list,
        usage,
        integrity,
        deleted,
        outDims: Object.values(out)[0]!.dims,
      };
    },
    { url: MODELS.cls, sha256 },
  );
  expect(r.first).toEqual({ sha256, cache: { status: 'miss' }, modelId: 'ppocr-cls', version: '2.0' });
  expect(r.second).toEqual({ status: 'hit' });
  expect(r.phases).toEqual(['compile', 'download', 'store', 'verify']);
  expect(r.list).toHaveLength(1);
  expect(r.list[0]).toMatchObject({ sha256, id: 'ppocr-cls', version: '2.0', state: 'complete', pinned: true });
  expect(r.usage.entries).toBe(1);
  expect(r.usage.entryBytes).toBe(repoFile(MODELS.cls).byteLength);
  expect(r.integrity).toEqual({ name: 'IntegrityError', code: 'INTEGRITY' });
  expect(r.outDims).toEqual([1, 2]);
  expect(r.deleted).toBe(1);
  expect(r.third).toEqual({ status: 'miss' });
  // first load, the refresh with a wrong hash, and the load after delete: the hit fetched nothing.
  expect(modelFetches).toHaveLength(3);
});
