// webq8 where users are: its packed tarball (`npm pack`, installed with npm) in a Vite production
// build, the Vite dev server, a webpack 5 production build and a page with no bundler — none with
// any asset configuration. Each app runs apps/scenario.js in headless Chromium: PP-OCR cls on
// 'auto', 'wasm' and forced 'webgpu', and an int8 MLP on WebGPU with strategy 'kernels'; the
// outputs must equal onnxruntime-web's own, run directly in Node (prepare.ts).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Page } from '@playwright/test';
import { startServer } from '../../scripts/server.mjs';
import { HERE, ROOT, expected, filesUnder } from './prepare';

const run = promisify(execFile);

interface Outcome {
  backend: string;
  dims: number[];
  data: number[];
}
type Result =
  | { ok: true; result: { cls: Record<'auto' | 'wasm' | 'webgpu', Outcome>; kernels: Outcome & { strategy: string; kernelSteps: number } } }
  | { ok: false; error: unknown };

/** Opens `url`, waits for the app's scenario, and returns its result and any request that failed. */
async function runApp(page: Page, url: string): Promise<{ result: Result; failed: string[] }> {
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && failed.push(`${r.status()} ${r.url()}`));
  // ERR_ABORTED is webq8's own doing (the weight cache cancels a response it does not need).
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && failed.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(url);
  await page.waitForFunction(() => (window as { webq8Result?: unknown }).webq8Result !== undefined, undefined, { timeout: 240_000, polling: 250 });
  return { result: await page.evaluate(() => (window as unknown as { webq8Result: Result }).webq8Result), failed };
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

/** The app's outputs equal onnxruntime-web's in Node: cls on every backend, the q8 MLP on webq8's kernels. */
function expectCorrect({ result, failed }: { result: Result; failed: string[] }): void {
  expect(result.ok ? null : result.error).toBeNull();
  expect(failed).toEqual([]);
  if (!result.ok) return;
  const want = expected();
  const { cls, kernels } = result.result;
  expect(cls.wasm.backend).toBe('wasm');
  expect(cls.webgpu.backend).toBe('webgpu');
  for (const o of Object.values(cls)) expect(o.dims).toEqual([1, 2]);
  // Same ORT WASM kernels as in Node (another build of them): equal to float rounding.
  expect(maxAbsDiff(cls.wasm.data, want.cls)).toBeLessThanOrEqual(1e-5);
  expect(maxAbsDiff(cls.auto.data, want.cls)).toBeLessThanOrEqual(1e-4);
  expect(maxAbsDiff(cls.webgpu.data, want.cls)).toBeLessThanOrEqual(1e-4);
  // The kernels ran (their registrations survived the bundler) and agree with ORT on the q8 model.
  expect(kernels).toMatchObject({ backend: 'webgpu', strategy: 'kernels', dims: [4, 32] });
  expect(kernels.kernelSteps).toBeGreaterThanOrEqual(1);
  const range = Math.max(...want.mlpQ8) - Math.min(...want.mlpQ8);
  expect(range).toBeGreaterThan(0.1);
  expect(maxAbsDiff(kernels.data, want.mlpQ8)).toBeLessThanOrEqual(1e-4 * range);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Starts a long-running tool (Vite) and resolves once it prints its local URL. */
async function serve(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(join(HERE, 'node_modules/.bin/vite'), [...args, '--port', String(port), '--strictPort'], {
    cwd: HERE,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let log = '';
  const url = await new Promise<string>((ok, fail) => {
    const onData = (b: Buffer) => {
      log += b.toString();
      const m = /Local:\s+(http:\/\/\S+)/.exec(log);
      if (m) ok(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`vite ${args.join(' ')} exited with ${code}:\n${log}`)));
  });
  return { url, proc };
}

test('the packed tarball: dist, bin, docs, README and ARCHITECTURE only, no source maps; publint and arethetypeswrong pass', async () => {
  const { tarball } = expected();
  console.log(`tarball ${(tarball.bytes / 2 ** 20).toFixed(1)} MiB, ${tarball.files.length} files: ${tarball.files.join(', ')}`);
  expect(tarball.files.filter((f) => !/^(dist\/|bin\/|docs\/|README\.md$|ARCHITECTURE\.md$|package\.json$)/.test(f))).toEqual([]);
  // The relative links and images of every packed Markdown page resolve inside the package a user installs.
  const pages = tarball.files.filter((f) => f.endsWith('.md'));
  const links = pages.flatMap((page) =>
    [...readFileSync(join(ROOT, page), 'utf8').matchAll(/\]\(((?!https?:|#)[^)#\s]+)/g)].map((m) => posix.join(posix.dirname(page), m[1]!)),
  );
  expect(links.length).toBeGreaterThan(20);
  expect(links.filter((l) => !tarball.files.includes(l))).toEqual([]);
  expect(tarball.files.filter((f) => f.endsWith('.map'))).toEqual([]);
  for (const f of [
    'dist/index.js',
    'dist/worker.js',
    'dist/index.d.ts',
    'dist/advanced.js',
    'dist/advanced.d.ts',
    'dist/kernels.d.ts',
    'dist/quantize.d.ts',
    'dist/ort/ort-wasm-simd-threaded.asyncify.mjs',
    'dist/ort/ort-wasm-simd-threaded.asyncify.wasm',
    'bin/webq8.mjs',
  ])
    expect(tarball.files).toContain(f);
  await run('npx', ['publint', '--strict', tarball.file], { cwd: ROOT });
  // ESM only: the CommonJS and node10 resolutions are not offered, by design.
  await run('npx', ['attw', tarball.file, '--profile', 'esm-only'], { cwd: ROOT });
});

test('a strict TypeScript app (skipLibCheck: false) type-checks against the packed declarations', async () => {
  await run(join(HERE, 'node_modules/.bin/tsc'), ['-p', 'apps/vite'], { cwd: HERE });
});

test("Vite production build: the Worker and ORT files are emitted, and every backend and the kernels give ORT's answers", async ({ page }) => {
  await run(join(HERE, 'node_modules/.bin/vite'), ['build', 'apps/vite'], { cwd: HERE });
  const emitted = filesUnder(join(HERE, 'apps/vite/dist/assets'));
  for (const pattern of [/^worker-.*\.js$/, /^ort-wasm-simd-threaded\.asyncify-.*\.wasm$/, /^ort-wasm-simd-threaded\.asyncify-.*\.mjs$/])
    expect(
      emitted.some((f) => pattern.test(f)),
      `${pattern} in ${emitted.join(', ')}`,
    ).toBe(true);
  const { url, proc } = await serve(['preview', 'apps/vite']);
  try {
    expectCorrect(await runApp(page, url));
  } finally {
    proc.kill();
  }
});

test('Vite dev server: the pre-bundled package finds its Worker and ORT files', async ({ page }) => {
  const { url, proc } = await serve(['apps/vite']);
  try {
    expectCorrect(await runApp(page, url));
  } finally {
    proc.kill();
  }
});

test('webpack 5 production build: the Worker and ORT files are emitted, and the answers are right', async ({ page }) => {
  await run(join(HERE, 'node_modules/.bin/webpack'), ['--config', 'apps/webpack/webpack.config.mjs'], { cwd: HERE });
  const emitted = filesUnder(join(HERE, 'apps/webpack/dist'));
  expect(emitted.filter((f) => f.endsWith('.wasm'))).toHaveLength(1);
  expect(emitted.filter((f) => f.endsWith('.mjs'))).toHaveLength(1);
  const server = await startServer({ root: join(HERE, 'apps/webpack'), quiet: true });
  try {
    expectCorrect(await runApp(page, `${server.url}/index.html`));
  } finally {
    await server.close();
  }
});

test('no bundler: an import map to the installed package, nothing else', async ({ page }) => {
  const server = await startServer({ root: HERE, quiet: true });
  try {
    expectCorrect(await runApp(page, `${server.url}/apps/plain/index.html`));
  } finally {
    await server.close();
  }
});
