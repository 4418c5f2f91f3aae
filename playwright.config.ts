import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './test/browser/chromium';

// One port per checkout (from a hash of its path), so test runs in two worktrees never share (and
// reuse) each other's server. WEBQ8_TEST_PORT overrides it.
const checkoutHash = [...process.cwd()].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
const PORT = Number(process.env.WEBQ8_TEST_PORT ?? 4200 + (checkoutHash % 700));

// The order files start in. Playwright hands spec files to its workers in the order of its queue:
// alphabetical, but every file whose worker-scoped fixture differs (the kernel specs' shared page)
// after all the others. So kernels.spec.ts, the longest file, started last and ran alone while the
// other worker had nothing left to do. The longest files now start first, in three projects queued
// in this order, and the short files fill in around them.
const glob = (files: string[]) => files.map((file) => `**/${file}`);
const KERNELS_FIRST = glob(['kernels.spec.ts', 'kernels-gpu-loops.spec.ts']);
/** The real-model files that take a minute or more on SwiftShader. */
const LONG_NEXT = glob([
  'partition.spec.ts',
  'demo.spec.ts',
  'unknown-dims.spec.ts',
  'verify.spec.ts',
  'runtime.spec.ts',
  'demo-try.spec.ts',
  'generate.spec.ts',
  'concurrency.spec.ts',
  'release.spec.ts',
  'serving.spec.ts',
]);

// Browser behaviour tests: real headless Chromium, WebGPU on whatever adapter it has (SwiftShader in
// CI), pages served from localhost by scripts/serve.mjs. Run `npm run build` first (npm test does).
export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: process.env.CI ? 2 : 2,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
  },
  projects: [
    { name: 'kernels', testMatch: KERNELS_FIRST },
    { name: 'long', testMatch: LONG_NEXT },
    { name: 'rest', testIgnore: [...KERNELS_FIRST, ...LONG_NEXT] },
  ],
  webServer: {
    command: `node scripts/serve.mjs --port ${PORT}`,
    url: `http://localhost:${PORT}/package.json`,
    reuseExistingServer: !process.env.CI,
    stdout: 'ignore',
  },
});
