import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from '../browser/chromium';

// The consumer apps: webq8's packed tarball in a Vite build, the Vite dev server, a webpack 5 build
// and a page with no bundler, each in headless Chromium (see consumers.spec.ts). Run after
// `npm run build`: `npm run test:consumers`.
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  globalSetup: './prepare.ts',
  timeout: 300_000,
  expect: { timeout: 30_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: { launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS } },
});
