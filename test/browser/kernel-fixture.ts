// The kernel specs' fixture: one page per Playwright worker that owns webq8's kernel context (the
// module from /dist/kernels.js, a GPUDevice, a GpuContext and the page side of
// test/unit/kernels/browser-harness.ts), shared by every kernel test the worker runs, and disposed
// when the worker ends. SwiftShader compiles each pipeline variant in seconds, and a GpuContext
// caches its pipelines, so sharing the context compiles each variant once per worker instead of
// once per test; the onnxruntime oracle runs in Node once per case set and worker, and its answers
// stay in the page. A failed test makes Playwright start a new worker, so a broken page is never reused.
import { createHash } from 'node:crypto';
import { expect, test as base, type Page } from '@playwright/test';
import { installKernelHarness } from '../unit/kernels/browser-harness';
import type { OracleModel } from '../unit/kernels/ort-oracle';
import { runOracle, type OracleAnswers } from '../unit/kernels/ort-runner';

interface WorkerFixtures {
  kernelWorkerPage: Page;
}

interface Fixtures {
  /**
   * The worker's kernel page (`window.__int8`, `window.__gpuBase`). Uncaught page errors during the
   * test fail it, and the forced-kernel hook is removed after it.
   */
  kernelPage: Page;
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  kernelWorkerPage: [
    async ({ browser }, use, workerInfo) => {
      const context = await browser.newContext({ baseURL: workerInfo.project.use.baseURL });
      const page = await context.newPage();
      await page.goto('/test/browser/blank.html');
      await page.evaluate(installKernelHarness);
      await use(page);
      await page.evaluate(() => window.__gpuBase.dispose());
      await context.close();
    },
    { scope: 'worker' },
  ],
  kernelPage: async ({ kernelWorkerPage: page }, use) => {
    const errors: string[] = [];
    const onError = (e: Error) => errors.push(`${e.name}: ${e.message}`);
    page.on('pageerror', onError);
    const counts = () =>
      page.evaluate(() => {
        const { ctx, work } = window.__gpuBase;
        return { ...work, dispatches: ctx.counters.dispatches, pipelines: ctx.pipelines.size };
      });
    const before = await counts();
    await use(page);
    page.off('pageerror', onError);
    const after = await counts();
    const delta = Object.fromEntries(Object.entries(after).map(([key, v]) => [key, v - before[key as keyof typeof before]]));
    // The work of the test, for comparing harness changes by counts rather than by noisy times.
    console.log(`kernel work of "${test.info().title}": ${JSON.stringify(delta)} (pipelines compiled in this worker: ${after.pipelines})`);
    await page.evaluate(() => window.__int8.force(undefined));
    expect(errors, 'uncaught errors in the page').toEqual([]);
  },
});

/** What an oracle run covered. */
export interface OracleRun {
  sessions: number;
  nodes: number;
  cases: number;
}

/** The oracle runs of this worker by name: their key and answers (the worker's pages may come and go). */
const runs = new Map<string, { key: string; answers: OracleAnswers }>();

/**
 * Runs onnxruntime's WASM kernels on `models` in Node once per worker (the same name with other
 * models runs again) and puts the answers into `window.__ort.results[name]` of `page` for the
 * harness, unless the page has them already.
 */
export async function oracle(page: Page, name: string, models: OracleModel[]): Promise<OracleRun> {
  const t0 = Date.now();
  const key = `${name}:${createHash('sha256').update(JSON.stringify(models)).digest('hex')}`;
  let run = runs.get(name);
  const fresh = !run || run.key !== key;
  if (fresh) {
    run = { key, answers: await runOracle(models) };
    runs.set(name, run);
  }
  const { byCase, ...counts } = run!.answers;
  const inPage = await page.evaluate(({ name, key }) => window.__ort?.keys?.[name] === key, { name, key });
  if (!inPage)
    await page.evaluate(
      ({ name, key, byCase }) => {
        window.__ort ??= { results: {}, keys: {} };
        window.__ort.results[name] = byCase;
        (window.__ort.keys ??= {})[name] = key;
      },
      { name, key, byCase },
    );
  const how = fresh ? `in ${counts.nodes} subgraphs, ${counts.sessions} sessions` : 'answers kept from an earlier test of this worker';
  console.log(`onnxruntime oracle "${name}": ${counts.cases} cases ${how}, ${Date.now() - t0} ms`);
  return counts;
}

export { expect };
