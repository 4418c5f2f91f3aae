import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './test/browser/chromium';

// One port per checkout (from a hash of its path), so test runs in two worktrees never share (and
// reuse) each other's server. WEBQ8_TEST_PORT overrides it.
const checkoutHash = [...process.cwd()].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
const PORT = Number(process.env.WEBQ8_TEST_PORT ?? 4200 + (checkoutHash % 700));

// Spec files that take a minute or more on SwiftShader, started first: Playwright hands files to its
// workers in order, so a long file started last keeps one worker busy while the other has nothing
// left to do. The `rest` project runs every other file after them.
const LONG_FIRST = [
  'kernels.spec.ts',
  'kernels-gpu-loops.spec.ts',
  'partition.spec.ts',
  'demo.spec.ts',
  'unknown-dims.spec.ts',
  'verify.spec.ts',
  'runtime.spec.ts',
  'demo-try.spec.ts',
  'generate.spec.ts',
  'concurrency.spec.ts',
].map((file) => `**/${file}`);

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
    { name: 'long', testMatch: LONG_FIRST },
    { name: 'rest', testIgnore: LONG_FIRST },
  ],
  webServer: {
    command: `node scripts/serve.mjs --port ${PORT}`,
    url: `http://localhost:${PORT}/package.json`,
    reuseExistingServer: !process.env.CI,
    stdout: 'ignore',
  },
});
