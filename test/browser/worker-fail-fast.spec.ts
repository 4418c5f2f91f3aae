// A Worker that cannot start, onnxruntime-web files that cannot load, a Worker that dies mid-run, a
// stalled load: every pending and later call rejects with a named error instead of hanging (comlink
// alone never settles a call on a Worker whose script 404s or that was terminated).
import { MODELS, expect, test } from './fixtures';
import type { Page } from '@playwright/test';

// Independent cases: run them side by side (with --workers=2) to shake out races between runtimes.
test.describe.configure({ mode: 'parallel' });
// This file breaks the Worker on purpose: the hook's own uncaught error, and what ORT's glue throws
// in the page when it is handed a .wasm of another build, are expected here (and only here).
// (One RegExp: `test.use` reads an array value as a [value, options] tuple.)
test.use({ expectedPageErrors: /webq8 test hook: an uncaught error in the Worker|Cannot read properties of undefined \(reading '\w+'\)/ });

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';

interface Outcome {
  name?: string;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  resolved?: boolean;
}

/** Creates a runtime with `options` in the page, then `load(model)` twice and `cache.list()`: each outcome. */
async function failingRuntime(page: Page, options: Record<string, unknown>, model = MODELS.cls): Promise<Outcome[]> {
  return page.evaluate(
    async ({ options, model }) => {
      const { createRuntime } = await import('/dist/index.js');
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => ({ resolved: true }),
          (e: { name: string; code: string; message: string; details: Record<string, unknown> }) => ({
            name: e.name,
            code: e.code,
            message: e.message,
            details: e.details,
          }),
        );
      const rt = createRuntime(options);
      const out = [await settle(rt.load(model, { backend: 'wasm' })), await settle(rt.load(model, { backend: 'wasm' })), await settle(rt.cache.list())];
      await rt.dispose();
      return out;
    },
    { options, model },
  );
}

test('a Worker script that 404s, has the wrong MIME type or a syntax error: every call rejects with WorkerError naming the URL', async ({
  webq8Page: page,
}) => {
  const syntaxError = await page.evaluate(() => URL.createObjectURL(new Blob(['export const broken = ;'], { type: 'text/javascript' })));
  for (const workerUrl of ['/__status/404', '/package.json', syntaxError]) {
    const results = await failingRuntime(page, { workerUrl });
    for (const r of results) {
      expect(r, workerUrl).toMatchObject({ name: 'WorkerError', code: 'WORKER', details: { reason: 'start-failed', fatal: true } });
      expect(r.message).toContain(workerUrl.startsWith('blob:') ? workerUrl : `http://localhost`);
      expect(r.message).toContain('workerUrl');
    }
    expect(String(results[0]!.details!.url)).toContain(workerUrl.startsWith('blob:') ? workerUrl : workerUrl.slice(1));
  }
});

test("onnxruntime-web's .mjs or .wasm missing, its .wasm replaced by an HTML page, or a .wasm of another build: WorkerError names the file", async ({
  webq8Page: page,
}) => {
  const missing = await failingRuntime(page, { wasmPaths: '/no-such-folder/' });
  for (const r of missing.slice(0, 2)) {
    expect(r).toMatchObject({
      name: 'WorkerError',
      code: 'WORKER',
      details: { reason: 'ort-assets', url: `${new URL(page.url()).origin}/no-such-folder/ort-wasm-simd-threaded.asyncify.mjs` },
    });
    expect(r.message).toContain('HTTP 404');
    expect(r.message).toContain('wasmPaths');
  }
  expect(missing[2]).toEqual({ resolved: true }); // the cache does not need ORT

  const mjs = `${ORT_DIST}ort-wasm-simd-threaded.asyncify.mjs`;
  for (const [wasm, problem] of [
    ['/test/browser/blank.html', 'not WebAssembly'],
    ['/no-such-folder/ort.wasm', 'HTTP 404'],
  ] as const) {
    for (const r of (await failingRuntime(page, { wasmPaths: { mjs, wasm } })).slice(0, 2)) {
      expect(r).toMatchObject({ name: 'WorkerError', details: { reason: 'ort-assets', url: `${new URL(page.url()).origin}${wasm}` } });
      expect(r.message).toContain(problem);
    }
  }

  // Both files exist and are what they claim, but they do not belong together: ORT cannot start.
  const mismatch = await failingRuntime(page, {
    wasmPaths: { mjs: `${ORT_DIST}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${ORT_DIST}ort-wasm-simd-threaded.jsep.wasm` },
  });
  for (const r of mismatch.slice(0, 2)) {
    expect(r).toMatchObject({ name: 'WorkerError', details: { reason: 'ort-init' } });
    expect(r.message).toContain('1.30.0');
  }
});

/**
 * In the page: starts a load from a server that never sends the body, and once the server saw the
 * request, resolves to `{ stalled }`, the load's settled outcome (wrapped: an async function would
 * flatten the promise and wait for it).
 */
const STALLED_LOAD = `async (rt, settle) => {
  const path = '/__hang/' + Math.random().toString(36).slice(2) + '.onnx';
  const stalled = settle(rt.load(path, { timeoutMs: 0 }));
  while (!(await (await fetch('/__requests')).json())[path]) await new Promise((ok) => setTimeout(ok, 20));
  return { stalled };
}`;

for (const how of ['terminate', 'close'] as const) {
  test(`the Worker dies (${how === 'terminate' ? 'terminated from outside' : 'it closes itself'}): the call in flight and every later call reject with WorkerError; dispose still resolves`, async ({
    webq8Page: page,
  }) => {
    const r = await page.evaluate(
      async ({ url, how, stalledLoad }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime();
        const model = await rt.load(url, { backend: 'wasm' });
        const feeds = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
        await model.run(feeds()); // it works before
        const settle = (p: Promise<unknown>) =>
          p.then(
            () => ({ resolved: true }),
            (e: { name: string; code: string; message: string; details: Record<string, unknown> }) => ({
              name: e.name,
              code: e.code,
              message: e.message,
              details: e.details,
            }),
          );
        const { stalled } = await (0, eval)(stalledLoad)(rt, settle);
        await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!(how);
        const first = await stalled;
        const later = [await settle(model.run(feeds())), await settle(rt.load(url, { backend: 'wasm' })), await settle(rt.cache.usage())];
        const disposed = await settle(Promise.all([model.dispose(), rt.dispose()]));
        return { first, later, disposed };
      },
      { url: MODELS.cls, how, stalledLoad: STALLED_LOAD },
    );
    for (const l of [r.first, ...r.later]) {
      expect(l).toMatchObject({ name: 'WorkerError', code: 'WORKER', details: { reason: 'crashed', fatal: true } });
      expect(l.message).toContain('createRuntime()');
    }
    expect(r.disposed).toEqual({ resolved: true });
  });
}

test('an uncaught error in the Worker rejects the calls in flight; the runtime keeps serving', async ({ webq8Page: page }) => {
  const r = await page.evaluate(
    async ({ url, stalledLoad }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => ({ resolved: true }),
          (e: { name: string; details: Record<string, unknown> }) => ({ name: e.name, details: e.details }),
        );
      const { stalled } = await (0, eval)(stalledLoad)(rt, settle);
      await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!('throw');
      const first = await stalled;
      const model = await rt.load(url, { backend: 'wasm' });
      const out = await model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
      await rt.dispose();
      return { first, dims: Object.values(out)[0]!.dims };
    },
    { url: MODELS.cls, stalledLoad: STALLED_LOAD },
  );
  expect(r.first).toMatchObject({ name: 'WorkerError', details: { reason: 'uncaught-error', fatal: false } });
  expect(r.dims).toEqual([1, 2]);
});

test('a load that makes no progress rejects with LoadTimeoutError (stalled model download, Worker script that never arrives)', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = await import('/dist/index.js');
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => ({ resolved: true }),
        (e: { name: string; code: string; details: Record<string, unknown> }) => ({ name: e.name, code: e.code, details: e.details }),
      );
    const rt = createRuntime();
    await rt.load(url, { backend: 'wasm' }); // ORT is up: the stall below is the model server's
    const stalledModel = await settle(rt.load(`/__hang/${Math.random()}.onnx`, { timeoutMs: 1000 }));
    const model = await rt.load(url, { backend: 'wasm' }); // the runtime keeps serving
    await rt.dispose();
    const never = createRuntime({ workerUrl: `/__hang/${Math.random()}.js` });
    const stalledWorker = await settle(never.load(url, { timeoutMs: 1000 }));
    await never.dispose();
    return { stalledModel, stalledWorker, loaded: model.info.outputs.length };
  }, MODELS.cls);
  expect(r.stalledModel).toMatchObject({ name: 'LoadTimeoutError', code: 'LOAD_TIMEOUT', details: { timeoutMs: 1000, phase: 'download' } });
  expect(r.stalledWorker).toMatchObject({ name: 'LoadTimeoutError', code: 'LOAD_TIMEOUT', details: { timeoutMs: 1000 } });
  expect(r.stalledWorker).not.toHaveProperty('details.phase');
  expect(r.loaded).toBe(1);
});

test('the overrides for CDNs and hand-copied files still work: workerUrl, and wasmPaths as a folder or {mjs, wasm}', async ({ webq8Page: page }) => {
  const r = await page.evaluate(
    async ({ url, ortDist }) => {
      const { createRuntime } = await import('/dist/index.js');
      const sums: number[] = [];
      for (const wasmPaths of [
        ortDist,
        { mjs: `${ortDist}ort-wasm-simd-threaded.asyncify.mjs`, wasm: new URL(`${ortDist}ort-wasm-simd-threaded.asyncify.wasm`, location.href) },
      ]) {
        const rt = createRuntime({ workerUrl: new URL('/dist/worker.js', location.href), wasmPaths });
        const model = await rt.load(url, { backend: 'wasm' });
        const out = await model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.5) } });
        sums.push((Object.values(out)[0]!.data as Float32Array).reduce((a, b) => a + b, 0));
        await rt.dispose();
      }
      return sums;
    },
    { url: MODELS.cls, ortDist: ORT_DIST },
  );
  for (const s of r) expect(Math.abs(s - 1)).toBeLessThan(1e-5); // a softmax over two classes
});
