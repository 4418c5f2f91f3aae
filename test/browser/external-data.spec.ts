// External data (ONNX `external_data`) end to end in Chromium: models saved in the external-data
// form by the `onnx` Python package (test/fixtures/external-data/make.py) and by webq8's own
// writer load by URL (data files found beside the model), as bytes with the `externalData` option,
// on ORT's WASM EP and on the kernel plan, and give exactly the outputs of the embedded model. A
// missing, truncated or mismatched data file is an ExternalDataError naming file and tensor, the
// cache keeps nothing of that load, and the runtime keeps serving; so does a cancelled download.
import { mkdirSync, writeFileSync } from 'node:fs';
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp, splitExternal } from '../unit/graph/models';
import { expect, repoFile, test } from './fixtures';

const DIR = '/test/fixtures/external-data';
const OWN = '/.cache/external-data';

test.beforeAll(() => {
  const q8 = quantizeDynamic(mlp(64, 48, { second: true })).bytes;
  const split = splitExternal(q8, 'own-q8.bin');
  mkdirSync(new URL(`../..${OWN}/`, import.meta.url), { recursive: true });
  writeFileSync(new URL(`../..${OWN}/own-q8.onnx`, import.meta.url), q8);
  writeFileSync(new URL(`../..${OWN}/own-q8-ext.onnx`, import.meta.url), split.model);
  writeFileSync(new URL(`../..${OWN}/own-q8.bin`, import.meta.url), split.data);
});

test('external-data models (onnx package, webq8 writer; one and two files) equal the embedded model on WASM and on the kernel plan', async ({
  webq8Page: page,
}) => {
  test.setTimeout(120_000);
  const r = await page.evaluate(
    async ({ dir, own, bin }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const x = (k: number) => ({
        x: { type: 'float32' as const, dims: [3, k], data: Float32Array.from({ length: 3 * k }, (_, i) => Math.sin(i * 0.37) * 2) },
      });
      type Opts = Parameters<typeof rt.load>[1];
      const out = async (src: Parameters<typeof rt.load>[0], opts: Opts, k: number) => {
        const m = await rt.load(src, opts);
        const y = Object.values(await m.run(x(k)))[0]!;
        const info = {
          strategy: m.info.strategy?.strategy,
          onePlan: m.info.strategy?.onePlan,
          memory: m.info.memory,
          externalData: m.info.externalData?.map((f) => [f.location, f.bytes, f.cache.status]),
        };
        await m.dispose();
        return { y: Array.from(y.data as Float32Array), info };
      };
      const wasm = { backend: 'wasm' } as const;
      const kernels = { backend: 'webgpu', strategy: 'kernels' } as const;
      const res: Record<string, Awaited<ReturnType<typeof out>>> = {};
      for (const [name, opts] of [
        ['wasm', wasm],
        ['kernels', kernels],
      ] as const) {
        res[`${name}.embedded`] = await out(`${dir}/mlp-q8.onnx`, opts, 64);
        res[`${name}.onnx-package`] = await out(`${dir}/mlp-q8-ext.onnx`, opts, 64);
      }
      // Two files and webq8's own writer on the kernel plan (the one that reads the data files itself).
      res['kernels.two-files'] = await out(`${dir}/mlp-q8-two.onnx`, kernels, 64);
      res['kernels.own-embedded'] = await out(`${own}/own-q8.onnx`, kernels, 64);
      res['kernels.own-split'] = await out(`${own}/own-q8-ext.onnx`, kernels, 64);
      res['auto.one-plan'] = await out(`${dir}/mlp-q8-ext.onnx`, { backend: 'webgpu', strategy: 'auto', bothPlansMaxBytes: 4096 }, 64);
      const model = new Uint8Array(await (await fetch(`${dir}/mlp-q8-ext.onnx`)).arrayBuffer());
      res['wasm.bytes'] = await out(model, { ...wasm, externalData: { 'mlp-q8-ext.bin': new Uint8Array(bin) } }, 64);
      res['kernels.option-url'] = await out(model, { ...kernels, externalData: { 'mlp-q8-ext.bin': `${dir}/mlp-q8-ext.bin` } }, 64);
      const list = (await rt.cache.list()).map((e) => e.url?.split('/').pop()).sort();
      await rt.dispose();
      return { res, list };
    },
    { dir: DIR, own: OWN, bin: Array.from(repoFile(`${DIR}/mlp-q8-ext.bin`)) },
  );
  const { res } = r;
  for (const name of ['wasm.onnx-package', 'wasm.bytes']) expect(res[name]!.y, name).toEqual(res['wasm.embedded']!.y);
  for (const name of ['kernels.onnx-package', 'kernels.two-files', 'kernels.option-url', 'auto.one-plan'])
    expect(res[name]!.y, name).toEqual(res['kernels.embedded']!.y);
  expect(res['kernels.own-split']!.y).toEqual(res['kernels.own-embedded']!.y);
  // The WASM loads came first (miss); the kernel plan's read the same entries back, each revalidated
  // with a 304 first (the test server sends an ETag and `Cache-Control: no-cache` for model files).
  expect(res['wasm.onnx-package']!.info.externalData).toEqual([['mlp-q8-ext.bin', 9984, 'miss']]);
  expect(res['kernels.onnx-package']!.info.externalData).toEqual([['mlp-q8-ext.bin', 9984, 'revalidated']]);
  // WASM: ORT gets the whole model (1322-byte .onnx + every external range), and the Worker then lets
  // the data file go (it keeps the .onnx only); the kernel plan keeps the int8 weights (6144 + 3072
  // bytes) in webq8's GPU buffers, and ORT gets only the rest.
  expect(res['wasm.onnx-package']!.info.memory).toEqual({ kernelGpuBytes: 0, ortBytes: 1322 + 9984, heldBytes: 1322 });
  expect(res['wasm.bytes']!.info.memory!.heldBytes).toBe(1322);
  const km = res['kernels.onnx-package']!.info.memory!;
  expect(km.kernelGpuBytes).toBeGreaterThanOrEqual(6144 + 3072);
  expect(km.ortBytes).toBeLessThan(6144);
  // Above bothPlansMaxBytes, 'auto' keeps the kernel plan only, unmeasured, and says so.
  expect(res['auto.one-plan']!.info).toMatchObject({ strategy: 'kernels', onePlan: true });
  expect(res['auto.one-plan']!.y).toEqual(res['kernels.embedded']!.y);
  expect(res['kernels.two-files']!.info.externalData).toEqual([
    ['w1.bin', 6144, 'miss'],
    ['w2.bin', 3072, 'miss'],
  ]);
  expect(res['wasm.bytes']!.info.externalData).toEqual([['mlp-q8-ext.bin', 9984, 'none']]);
  // Each data file is its own cache entry, next to its model's.
  expect(r.list).toEqual([
    'mlp-q8-ext.bin',
    'mlp-q8-ext.onnx',
    'mlp-q8-two.onnx',
    'mlp-q8.onnx',
    'own-q8-ext.onnx',
    'own-q8.bin',
    'own-q8.onnx',
    'w1.bin',
    'w2.bin',
  ]);
});

test('missing, truncated and mismatched data files: ExternalDataError naming file and tensor, nothing cached, the runtime keeps serving', async ({
  webq8Page: page,
}) => {
  test.setTimeout(60_000);
  await page.route('**/gone/*.bin', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.route('**/short/mlp-q8-ext.bin', (route) =>
    route.fulfill({ status: 200, body: Buffer.from(repoFile(`${DIR}/mlp-q8-ext.bin`).subarray(0, 7000)) }),
  );
  for (const d of ['gone', 'short'])
    await page.route(`**/${d}/mlp-q8-ext.onnx`, (route) => route.fulfill({ status: 200, body: Buffer.from(repoFile(`${DIR}/mlp-q8-ext.onnx`)) }));
  const r = await page.evaluate(
    async ({ dir }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const fail = async (src: Parameters<typeof rt.load>[0], opts: Parameters<typeof rt.load>[1]) => {
        try {
          await rt.load(src, opts);
          return 'loaded';
        } catch (e) {
          const err = e as { name: string; code?: string; details?: Record<string, unknown>; message: string };
          return { name: err.name, code: err.code, file: err.details?.file, tensor: err.details?.tensor, reason: err.details?.reason, message: err.message };
        }
      };
      const base = new URL(dir, location.href).href.replace(/[^/]+$/, '');
      const missing = await fail(`${base}gone/mlp-q8-ext.onnx`, { backend: 'wasm' });
      const truncated = await fail(`${base}short/mlp-q8-ext.onnx`, { backend: 'webgpu', strategy: 'kernels' });
      const model = new Uint8Array(await (await fetch(`${dir}/mlp-q8-ext.onnx`)).arrayBuffer());
      const wrong = await fail(model, { backend: 'wasm', externalData: { 'mlp-q8-ext.bin': new Uint8Array(4000) } });
      const noOption = await fail(model, { backend: 'wasm' });
      const listed = (await rt.cache.list()).length;
      const ok = await rt.load(`${dir}/mlp-q8.onnx`, { backend: 'wasm' });
      const y = Object.values(await ok.run({ x: { type: 'float32', dims: [1, 64], data: new Float32Array(64).fill(0.5) } }))[0]!;
      await rt.dispose();
      return { missing, truncated, wrong, noOption, listed, served: y.dims };
    },
    { dir: DIR },
  );
  const named = (reason: string) => ({ name: 'ExternalDataError', code: 'EXTERNAL_DATA', file: 'mlp-q8-ext.bin', reason });
  expect(r.missing).toMatchObject({ ...named('missing'), tensor: 'l1_W_quantized' });
  expect(r.truncated).toMatchObject({ ...named('truncated'), tensor: 'l2_W_quantized' });
  expect(r.wrong).toMatchObject({ ...named('truncated'), tensor: 'l1_W_quantized' });
  expect(r.noOption).toMatchObject({ ...named('missing'), tensor: 'l1_W_quantized' });
  expect((r.noOption as { message: string }).message).toContain('externalData');
  expect(r.listed).toBe(0);
  expect(r.served).toEqual([1, 32]);
});

test('cancelling a two-file model mid-download leaves nothing in the cache; the runtime keeps serving', async ({ webq8Page: page }) => {
  test.setTimeout(150_000);
  const r = await page.evaluate(
    async ({ dir }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const abort = new AbortController();
      // The server sends the .onnx and w1.bin (6144 bytes) whole and half of w2.bin (3072 bytes), then
      // holds w2.bin's body until the connection closes: the abort comes while the second file is
      // mid-body, with no race against the download finishing.
      let seen = 0;
      const onProgress = (p: { phase: string; loaded: number }) => {
        if (p.phase !== 'download') return;
        seen = Math.max(seen, p.loaded);
        if (p.loaded >= 6144 + 1536) abort.abort();
      };
      // Nothing waits forever: without the progress the abort comes anyway, and `seen` says so below.
      const bound = setTimeout(() => abort.abort(), 90_000);
      let error: string | null = null;
      try {
        await rt.load(`/__hold/w2.bin${dir}/mlp-q8-two.onnx`, { backend: 'wasm', signal: abort.signal, onProgress });
      } catch (e) {
        error = (e as Error).name;
      }
      clearTimeout(bound);
      // The load rejects on the page at once; the Worker drops what it stored when its download ends:
      // the entries, and every chunk (the stored first file's, written under a stream id, and any of
      // the second). A bounded wait for that condition (not a timing assertion).
      const chunkCount = async () => {
        const db = await new Promise<IDBDatabase>((ok, ko) =>
          Object.assign(indexedDB.open('webq8-cache'), { onsuccess: (e: Event) => ok((e.target as IDBOpenDBRequest).result), onerror: ko }),
        );
        const n = await new Promise<number>((ok) =>
          Object.assign(db.transaction('chunks').objectStore('chunks').count(), { onsuccess: (e: Event) => ok((e.target as IDBRequest<number>).result) }),
        );
        db.close();
        return n;
      };
      let listed = await rt.cache.list();
      let chunks = await chunkCount();
      for (let i = 0; i < 300 && (listed.length > 0 || chunks > 0); i++) {
        await new Promise((done) => setTimeout(done, 100));
        [listed, chunks] = [await rt.cache.list(), await chunkCount()];
      }
      const ok = await rt.load(`${dir}/mlp-q8-two.onnx`, { backend: 'wasm' });
      const y = Object.values(await ok.run({ x: { type: 'float32', dims: [1, 64], data: new Float32Array(64).fill(0.5) } }))[0]!;
      const after = ok.info.externalData?.map((f) => [f.location, f.cache.status]);
      await rt.dispose();
      return { error, seen, listed: listed.map((e) => e.url), chunks, after, served: y.dims };
    },
    { dir: DIR },
  );
  expect(r.error).toBe('AbortError');
  expect(r.seen).toBeGreaterThanOrEqual(6144 + 1536);
  expect(r.seen).toBeLessThan(6144 + 3072);
  expect(r.listed).toEqual([]);
  expect(r.chunks).toBe(0);
  expect(r.after).toEqual([
    ['w1.bin', 'miss'],
    ['w2.bin', 'miss'],
  ]);
  expect(r.served).toEqual([1, 32]);
});

test('a weight above the storage-binding limit is split into column blocks: the kernel plan runs it bit-exact, and model.info says so; one that cannot be split finely enough keeps plain ORT, which serves', async ({
  webq8Page: page,
}) => {
  test.setTimeout(120_000);
  const r = await page.evaluate(
    async ({ dir }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const x = () => ({ x: { type: 'float32' as const, dims: [1, 64], data: new Float32Array(64).fill(0.5) } });
      const load = async () => {
        const m = await rt.load(`${dir}/mlp-q8-ext.onnx`, { backend: 'webgpu', strategy: 'kernels' });
        const y = Array.from(Object.values(await m.run(x()))[0]!.data as Float32Array);
        const { strategy, reason } = m.info.strategy!;
        const limits = m.info.adapter?.deviceLimits;
        const split = m.info.memory?.splitWeights;
        await m.dispose();
        return { y, strategy, reason, limits, split };
      };
      const within = await load();
      const a = (await navigator.gpu.requestAdapter())!.limits;
      const offered = { maxBufferSize: a.maxBufferSize, maxStorageBufferBindingSize: a.maxStorageBufferBindingSize };
      // The test hook: a 4 KiB limit instead of the device's; the fixture's first weight is int8 [64, 96] = 6144 bytes.
      await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!('small-binding-limit');
      const above = await load();
      // 128 bytes: 4 columns of W1 (all 64 rows) need 256, so it cannot be split finely enough.
      await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!('tiny-binding-limit');
      const tooLarge = await load();
      await rt.dispose();
      return { within, above, tooLarge, offered };
    },
    { dir: DIR },
  );
  expect(r.within.strategy).toBe('kernels');
  // The limits ORT's device was created with: at least WebGPU's defaults, at most what the adapter offers.
  const limits = r.within.limits!;
  console.log(`ORT's device: ${JSON.stringify(limits)}; the adapter offers ${JSON.stringify(r.offered)}`);
  expect(limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
  expect(limits.maxBufferSize).toBeGreaterThanOrEqual(256 * 2 ** 20);
  expect(limits.maxStorageBufferBindingSize).toBeLessThanOrEqual(r.offered.maxStorageBufferBindingSize);
  expect(limits.maxBufferSize).toBeLessThanOrEqual(r.offered.maxBufferSize);
  expect(r.within.split).toBeUndefined();
  // W1 (int8 [64, 96], 6 KiB packed) in two blocks of 48 columns; W2 ([96, 32], 3 KiB) fits.
  expect(r.above.strategy).toBe('kernels');
  expect(r.above.split).toEqual({ weights: 1, parts: 2, limit: 4096 });
  expect(r.above.y).toEqual(r.within.y);
  // WeightTooLargeError inside the load: plain ORT (on WebGPU) serves, and the reason says why.
  expect(r.tooLarge.strategy).toBe('ort');
  expect(r.tooLarge.reason).toMatch(/\[64, 96\] needs .* for one block of 4 columns .* cannot be split finely enough/);
  expect(r.tooLarge.y).toHaveLength(r.within.y.length);
  r.tooLarge.y.forEach((v, i) => expect(v).toBeCloseTo(r.within.y[i]!, 4));
});

test('streamed from the weight cache in 4 KiB chunks: kernel plan equals the embedded model cold, warm and after a lost device, holds no data file; a corrupt cached chunk is ExternalDataError, nothing stays, the next load downloads again', async ({
  webq8Page: page,
}) => {
  test.setTimeout(60_000);
  const r = await page.evaluate(
    async ({ dir }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const debug = (c: string) => (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!(c);
      await debug('tiny-data-chunks');
      const x = () => ({ x: { type: 'float32' as const, dims: [3, 64], data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i * 0.37) * 2) } });
      const kernels = { backend: 'webgpu', strategy: 'kernels' } as const;
      const y = async (m: Awaited<ReturnType<typeof rt.load>>) => Array.from(Object.values(await m.run(x()))[0]!.data as Float32Array);
      const embedded = await rt.load(`${dir}/mlp-q8.onnx`, kernels);
      const want = await y(embedded);
      await embedded.dispose();
      const load = async () => {
        const m = await rt.load(`${dir}/mlp-q8-ext.onnx`, kernels);
        return { m, y: await y(m), memory: m.info.memory, file: m.info.externalData![0]! };
      };
      const cold = await load();
      await cold.m.dispose();
      const warm = await load();
      // A lost device: the kernels are rebuilt, their weights read from the cache again.
      await debug('lose-device');
      const lost = await y(warm.m).catch(() => y(warm.m));
      await warm.m.dispose();
      // Corrupt the second of the data file's three 4 KiB chunks in IndexedDB.
      const db = await new Promise<IDBDatabase>((ok, ko) =>
        Object.assign(indexedDB.open('webq8-cache'), { onsuccess: (e: Event) => ok((e.target as IDBOpenDBRequest).result), onerror: ko }),
      );
      const tx = (store: string, mode: IDBTransactionMode) => db.transaction(store, mode).objectStore(store);
      const get = <T>(store: string, key: string) =>
        new Promise<T>((ok) => Object.assign(tx(store, 'readonly').get(key), { onsuccess: (e: Event) => ok((e.target as IDBRequest).result) }));
      // The cold download was streamed into the cache: its chunks were written before its hash was known.
      const { chunkId } = await get<{ chunkId?: string }>('entries', warm.file.sha256);
      const key = `${chunkId}/000001`;
      const chunk = await get<Uint8Array>('chunks', key);
      const bad = chunk.slice();
      bad[100] = bad[100]! ^ 0xff;
      await new Promise((ok) => Object.assign(tx('chunks', 'readwrite').put(bad, key), { onsuccess: ok }));
      db.close();
      const corrupt = await rt.load(`${dir}/mlp-q8-ext.onnx`, kernels).then(
        () => 'loaded',
        (e: { name: string; details?: Record<string, unknown> }) => ({ name: e.name, file: e.details?.file, reason: e.details?.reason }),
      );
      const listed = (await rt.cache.list()).map((e) => e.url?.split('/').pop());
      const again = await load();
      await rt.dispose();
      return { want, cold, warm, lost, corrupt, listed, chunkId, again: { y: again.y, cache: again.file.cache.status } };
    },
    { dir: DIR },
  );
  expect(r.cold.y).toEqual(r.want);
  expect(r.warm.y).toEqual(r.want);
  expect(r.lost).toEqual(r.want);
  expect(r.again.y).toEqual(r.want);
  expect([r.cold.file.cache.status, r.warm.file.cache.status]).toEqual(['miss', 'revalidated']);
  // The Worker keeps the 1322-byte .onnx only; the int8 weights are in webq8's GPU buffers.
  for (const l of [r.cold, r.warm]) expect(l.memory).toMatchObject({ heldBytes: 1322, kernelGpuBytes: expect.any(Number) });
  expect(r.warm.memory!.kernelGpuBytes).toBeGreaterThanOrEqual(6144 + 3072);
  expect(r.chunkId).toMatch(/^stream-/);
  expect(r.corrupt).toEqual({ name: 'ExternalDataError', file: 'mlp-q8-ext.bin', reason: 'corrupt' });
  expect(r.listed).not.toContain('mlp-q8-ext.bin');
  expect(r.again.cache).toBe('miss');
});
