// Several models at once on WebGPU in one runtime. onnxruntime-web's WebGPU build yields to
// JavaScript inside Run() (asyncify: a mapped buffer for a CPU-fallback op, an output download) and
// is not re-entrant across sessions of one instance (ORT issues 32561, 27592): before webq8 ran one
// ORT call at a time per Worker, two models' concurrent runs aborted the WASM instance for good.
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp } from '../unit/graph/models';
import { DECODERS, writeDecoders } from './generate-models';
import { expect, test } from './fixtures';

const K = 64;
const Q8 = [...quantizeDynamic(mlp(K, 48, { second: true }), { perChannel: true }).bytes];
const FP32 = [...mlp(K, 32)];

test.beforeAll(() => writeDecoders());

test('q8 (ORT plan with CPU-fallback ops), q8 (kernel plan) and fp32 models run at once on WebGPU, beside a generate stream and a profile: every answer equals the model alone', async ({
  webq8Page: page,
}) => {
  test.setTimeout(240_000);
  const r = await page.evaluate(
    async ({ q8, fp32, k, decoder }) => {
      const { createRuntime } = await import('/dist/index.js');
      const advanced = await import('/dist/advanced.js');
      const feeds = (m: number, seed: number) => ({
        x: { type: 'float32' as const, dims: [m, k], data: Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37 + seed)) },
      });
      const rt = createRuntime();
      const opts = { backend: 'webgpu' as const, cache: 'bypass' as const };
      const models = [
        await rt.load(new Uint8Array(q8), { ...opts, strategy: 'ort' }),
        await rt.load(new Uint8Array(q8), { ...opts, strategy: 'ort' }),
        await rt.load(new Uint8Array(q8), { ...opts, strategy: 'kernels' }),
        await rt.load(new Uint8Array(fp32), opts),
      ];
      const gen = await rt.load(decoder, { backend: 'webgpu', strategy: 'kernels' });
      const prompt = [5, 17, 99, 3];
      const alone = {
        outs: [] as Float32Array[][],
        tokens: await gen.generate(prompt, { maxNewTokens: 6 }).result.then((r) => [...r.tokens]),
      };
      // Each model alone, one request at a time.
      for (const [i, m] of models.entries()) {
        const outs = [];
        for (let j = 0; j < 3; j++) outs.push((await m.run(feeds(1 + j, i * 10 + j))).y!.data as Float32Array);
        alone.outs.push(outs);
      }
      // Everything at once: 3 runs per model from different callers, a generate stream and a profile.
      const stream = gen.generate(prompt, { maxNewTokens: 6 });
      const runs = models.map((m, i) => Promise.all([0, 1, 2].map((j) => m.run(feeds(1 + j, i * 10 + j)).then((o) => o.y!.data as Float32Array))));
      const profile = advanced.profile(models[0]!, feeds(2, 99));
      const [together, tokens, prof] = await Promise.all([Promise.all(runs), stream.result.then((r) => [...r.tokens]), profile]);
      const maxDiff = together.map((outs, i) => outs.map((o, j) => o.reduce((d, v, e) => Math.max(d, Math.abs(v - alone.outs[i]![j]![e]!)), 0)));
      // A fresh load still works afterwards.
      const again = await rt.load(new Uint8Array(fp32), opts);
      const y = (await again.run(feeds(1, 0))).y!.data as Float32Array;
      const strategies = models.map((m) => m.info.strategy?.strategy ?? 'ort');
      await rt.dispose();
      return { maxDiff, tokens, aloneTokens: alone.tokens, profileSteps: prof.steps.length, again: y.length, strategies };
    },
    { q8: Q8, fp32: FP32, k: K, decoder: DECODERS.tiny },
  );
  expect(r.strategies).toEqual(['ort', 'ort', 'kernels', 'ort']);
  for (const d of r.maxDiff.flat()) expect(d).toBe(0);
  expect(r.tokens).toEqual(r.aloneTokens);
  expect(r.profileSteps).toBeGreaterThan(0);
  expect(r.again).toBe(32);
});

test('dispose of one model while its runs and another model’s runs are in flight: the others finish correctly, its own calls reject with DISPOSED', async ({
  webq8Page: page,
}) => {
  test.setTimeout(180_000);
  const r = await page.evaluate(
    async ({ q8, k }) => {
      const { createRuntime } = await import('/dist/index.js');
      const feeds = (m: number, seed: number) => ({
        x: { type: 'float32' as const, dims: [m, k], data: Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37 + seed)) },
      });
      const rt = createRuntime();
      const opts = { backend: 'webgpu' as const, cache: 'bypass' as const, strategy: 'ort' as const };
      const [a, b] = [await rt.load(new Uint8Array(q8), opts), await rt.load(new Uint8Array(q8), opts)];
      const want = await Promise.all([1, 2, 3].map((j) => b.run(feeds(j, j)).then((o) => [...(o.y!.data as Float32Array)])));
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? String(e),
        );
      const aRuns = [1, 2, 3].map((j) => outcome(a.run(feeds(j, j))));
      const bRuns = [1, 2, 3].map((j) => b.run(feeds(j, j)).then((o) => [...(o.y!.data as Float32Array)]));
      await a.dispose();
      const after = await outcome(a.run(feeds(1, 1)));
      const [aDone, bDone] = await Promise.all([Promise.all(aRuns), Promise.all(bRuns)]);
      await rt.dispose();
      return { aDone, bDone, want, after };
    },
    { q8: Q8, k: K },
  );
  expect(r.bDone).toEqual(r.want);
  expect(r.after).toBe('DISPOSED');
  // A run already inside the Worker finishes; one still queued is refused.
  for (const o of r.aDone) expect(['ok', 'DISPOSED']).toContain(o);
});

test('an aborted ORT instance: requests in flight reject with RuntimeCrashedError, the Worker is rebuilt, every model answers as before and a new load works', async ({
  webq8Page: page,
}) => {
  test.setTimeout(240_000);
  const r = await page.evaluate(
    async ({ q8, fp32, k }) => {
      const { createRuntime } = await import('/dist/index.js');
      const feeds = (m: number, seed: number) => ({
        x: { type: 'float32' as const, dims: [m, k], data: Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37 + seed)) },
      });
      const rt = createRuntime();
      const models = [
        await rt.load(new Uint8Array(q8), { backend: 'webgpu', strategy: 'kernels', cache: 'bypass' }),
        await rt.load(new Uint8Array(fp32), { backend: 'webgpu', cache: 'bypass' }),
        await rt.load(new Uint8Array(q8), { backend: 'wasm', cache: 'bypass' }),
      ];
      const run = (i: number) => models[i]!.run(feeds(2, i)).then((o) => [...(o.y!.data as Float32Array)]);
      const before = [await run(0), await run(1), await run(2)];
      const ids = models.map((m) => m.info.id);
      const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
      await debug('crash-ort');
      const failed = await Promise.all(
        [0, 1, 2].map((i) =>
          run(i).then(
            () => 'ok',
            (e: { code?: string; name?: string }) => `${e.name}:${e.code}`,
          ),
        ),
      );
      const after = [await run(0), await run(1), await run(2)];
      const fresh = await rt.load(new Uint8Array(fp32), { backend: 'webgpu', cache: 'bypass' });
      const freshOut = [...((await fresh.run(feeds(2, 1))).y!.data as Float32Array)];
      const stats = rt.stats();
      const infos = models.map((m) => ({ backend: m.info.backend.backend, inputs: m.info.inputs.length }));
      await rt.dispose();
      return { before, after, failed, freshOut, workers: stats.workers, crashErrors: stats.latency.errors, ids, infos };
    },
    { q8: Q8, fp32: FP32, k: K },
  );
  // The next call into ORT traps: the request that made it fails with the crash, and so does every one
  // still on the dead instance (a request that finished before it is answered); none is refused otherwise.
  expect(r.failed).toContain('RuntimeCrashedError:RUNTIME_CRASHED');
  for (const f of r.failed) expect(['RuntimeCrashedError:RUNTIME_CRASHED', 'ok']).toContain(f);
  expect(r.after).toEqual(r.before);
  expect(r.freshOut).toEqual(r.before[1]);
  expect(r.workers).toEqual({ count: 1, rebuilds: 1 });
  expect(r.infos).toEqual([
    { backend: 'webgpu', inputs: 1 },
    { backend: 'webgpu', inputs: 1 },
    { backend: 'wasm', inputs: 1 },
  ]);
});
