// The weight cache survives a real browser restart: Chromium with a persistent user-data-dir loads
// the model (a miss, one download), quits, starts again on the same dir, and loads it from
// IndexedDB — the one request for the .onnx is the revalidation the test server's
// `Cache-Control: no-cache` asks for, answered 304 without a body — and the same outputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './chromium';
import { MODELS, expect, test } from './fixtures';

interface RunResult {
  cache: { status: string; reason?: string };
  sha256: string;
  dims: readonly number[];
  data: number[];
}

/** One browser session: load the cls model through the runtime, run it once on a fixed input. */
async function loadAndRun(context: BrowserContext, baseURL: string, modelFetches: number[]): Promise<RunResult> {
  context.on('response', (r) => {
    if (new URL(r.url()).pathname.endsWith('.onnx')) modelFetches.push(r.status());
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${baseURL}/test/browser/blank.html`);
  return page.evaluate(async (url) => {
    const webq8 = await import('/dist/index.js');
    const rt = webq8.createRuntime();
    try {
      const model = await rt.load(url, { backend: 'wasm' });
      const data = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.013));
      const out = Object.values(await model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data } }))[0]!;
      return { cache: model.info.cache, sha256: model.info.sha256, dims: out.dims, data: Array.from(out.data as Float32Array) };
    } finally {
      await rt.dispose();
    }
  }, MODELS.cls);
}

test('the cache persists across a browser restart: the second session reads IndexedDB after a 304, same outputs', async ({ baseURL }) => {
  if (!baseURL) throw new Error('The Playwright config has no baseURL.');
  const dir = mkdtempSync(join(tmpdir(), 'webq8-restart-'));
  const launch = () => chromium.launchPersistentContext(dir, { executablePath: findChromium(), args: CHROMIUM_ARGS });
  try {
    const firstFetches: number[] = [];
    let context = await launch();
    const first = await loadAndRun(context, baseURL, firstFetches).finally(() => context.close());

    const secondFetches: number[] = [];
    context = await launch();
    const second = await loadAndRun(context, baseURL, secondFetches).finally(() => context.close());

    expect(first.cache).toEqual({ status: 'miss' });
    expect(firstFetches).toEqual([200]); // the response counter does see the model's download
    expect(second.cache).toEqual({ status: 'revalidated' });
    expect(secondFetches).toEqual([304]);
    expect(second.sha256).toBe(first.sha256);
    expect(first.dims).toEqual([1, 2]);
    expect(second.dims).toEqual(first.dims);
    expect(second.data).toEqual(first.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
