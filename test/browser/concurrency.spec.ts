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
      const profile = models[0]!.profile(feeds(2, 99));
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
