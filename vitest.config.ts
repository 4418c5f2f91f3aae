import { defineConfig } from 'vitest/config';

// Node-side unit tests only; browser behaviour is tested by Playwright (test/browser).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
