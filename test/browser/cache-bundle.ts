// The cache's own module as a page can import it (no runtime, no worker), for specs that test the
// weight cache on real IndexedDB, Web Locks and fetch. Each Playwright worker process builds its
// bundle into its own directory under .cache/ (git-ignored), not dist/: `npm run build` empties
// dist/ and may run concurrently in a shared tree.
import { rmSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { build } from 'vite';

const BUNDLE_DIR = `.cache/test-cache-${process.pid}`;
const BUNDLE = `/${BUNDLE_DIR}/cache.js`;

/** Builds the bundle (call from `test.beforeAll`). */
export async function buildCacheBundle(): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir: BUNDLE_DIR,
      emptyOutDir: true,
      minify: false,
      lib: { entry: 'src/cache/index.ts', formats: ['es'], fileName: () => 'cache.js' },
    },
  });
}

/** Removes the bundle (call from `test.afterAll`). */
export function removeCacheBundle(): void {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
}

/** Summary of a load in the page; errors come back as `{error: name, code}`. */
export interface LoadSummary {
  cache?: string;
  reason?: string;
  detail?: string;
  previous?: string;
  sha256?: string;
  size?: number;
  error?: string;
  code?: string;
}

/** `loadModelBytes(source, options)` in the page. */
export function load(page: Page, source: unknown, options: Record<string, unknown> = {}): Promise<LoadSummary> {
  return page.evaluate(
    async ({ bundle, source, options }) => {
      const c = await import(bundle);
      try {
        const r = await c.loadModelBytes(source, options);
        return { cache: r.cache, reason: r.reason, detail: r.detail, previous: r.previous, sha256: r.sha256, size: r.bytes.length };
      } catch (e) {
        return { error: (e as Error).name, code: (e as { code?: string }).code };
      }
    },
    { bundle: BUNDLE, source, options },
  );
}

/** `listEntries()` in the page. */
export function list(page: Page): Promise<{ sha256: string; url?: string; size: number; state: string; pinned: boolean }[]> {
  return page.evaluate(async (bundle) => (await import(bundle)).listEntries(), BUNDLE);
}
