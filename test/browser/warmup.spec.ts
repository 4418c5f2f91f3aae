// The `warmup` load option through the Worker, on real models: it makes the runs it reports, on
// synthetic inputs that respect the model's dims (named symbols agree across inputs; unnamed ones
// need the caller's shapes, and a failed warm-up says so and unloads nothing else), and leaves the
// model answering exactly as an unwarmed one. Speed is not asserted here: `npm run bench -- runtime`
// measures what warm-up buys.
import { quantizeDynamic } from '../../src/graph/quantize';
import { matmulFirst } from '../unit/graph/models';
import { MODELS, expect, test } from './fixtures';

const VAD = '/node_modules/@ricky0123/vad-web/dist';
// The tests count warm-up runs, so each gives warm-up a budget (600 s) that only the run count can end
// first: with the default 3 s, a loaded machine stops warm-up early.

test('warmup makes the runs model.info reports, and the warmed model answers exactly like a cold one', async ({ runtimePage: page }) => {
  const r = await page.evaluate(async (url) => {
    const { rt } = globalThis.webq8Test!;
    const warm = await rt.load(url, { backend: 'wasm', warmup: { runs: 3, budgetMs: 600_000, shapes: { x: [1, 3, 48, 96] } } });
    const cold = await rt.load(url, { backend: 'wasm' });
    const input = () => ({
      x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.37)) },
    });
    const a = (await warm.run(input()))['softmax_0.tmp_0']!.data as Float32Array;
    const b = (await cold.run(input()))['softmax_0.tmp_0']!.data as Float32Array;
    return { warmup: warm.info.warmup, coldWarmup: cold.info.warmup ?? null, a: [...a], b: [...b] };
  }, MODELS.cls);
  expect(r.warmup).toMatchObject({ runs: 3, stopped: 'runs', shapes: { x: [1, 3, 48, 96] } });
  expect(r.warmup!.ms).toBeGreaterThan(0);
  expect(r.warmup!.firstMs).toBeGreaterThan(0);
  expect(r.coldWarmup).toBeNull();
  expect(r.a).toEqual(r.b);
  expect(r.a.length).toBe(2);
});

test('a kernel plan whose input only a kernel reads (DynamicQuantizeLinear first) describes it and warms up on it', async ({ runtimePage: page }) => {
  const r = await page.evaluate(
    async (bytes) => {
      const { rt } = globalThis.webq8Test!;
      const model = await rt.load(new Uint8Array(bytes), { backend: 'webgpu', strategy: 'kernels', verify: false, warmup: { runs: 2, budgetMs: 600_000 } });
      return { inputs: model.info.inputs, outputs: model.info.outputs, warmup: model.info.warmup, strategy: model.info.strategy?.strategy };
    },
    [...quantizeDynamic(matmulFirst(16, 8)).bytes],
  );
  expect(r.strategy).toBe('kernels');
  expect(r.inputs).toEqual([{ name: 'x', type: 'float32', dims: ['n', 16] }]);
  expect(r.outputs).toEqual([{ name: 'y', type: 'float32', dims: ['n', 8] }]);
  expect(r.warmup).toMatchObject({ runs: 2, stopped: 'runs', shapes: { x: [1, 16] } });
});

test('warmup synthesizes inputs that agree on named symbolic dims (Silero legacy: input[batch, sequence], h/c[2, batch, 64], int64 sr)', async ({
  runtimePage: page,
}) => {
  const info = await page.evaluate(async (url) => {
    const { rt } = globalThis.webq8Test!;
    const model = await rt.load(url, { backend: 'wasm', warmup: { runs: 2, budgetMs: 600_000, shapes: { input: [2, 512] } } });
    return model.info.warmup;
  }, `${VAD}/silero_vad_legacy.onnx`);
  expect(info).toMatchObject({ runs: 2, stopped: 'runs', shapes: { input: [2, 512], sr: [], h: [2, 2, 64], c: [2, 2, 64] } });
});

test('unnamed dims cannot be matched across inputs: warm-up fails with an InputError naming the shapes; with shapes and a given sr it runs', async ({
  runtimePage: page,
}) => {
  const r = await page.evaluate(async (url) => {
    const { rt } = globalThis.webq8Test!;
    const err = await rt.load(url, { backend: 'wasm', warmup: 2 }).then(
      () => null,
      (e: { name: string; code: string; message: string; details: Record<string, unknown> }) => ({
        name: e.name,
        code: e.code,
        message: e.message,
        details: e.details,
      }),
    );
    const badOption = await rt.load(url, { backend: 'wasm', warmup: { runs: -1 } }).then(
      () => null,
      (e: { name: string; message: string }) => ({ name: e.name, message: e.message }),
    );
    // The runtime keeps serving: the same model with the shapes Silero v5 takes at 16 kHz, and the
    // sample rate given as a value (zero would pick its 8 kHz branch, which wants 256 samples).
    const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };
    const model = await rt.load(url, {
      backend: 'wasm',
      warmup: { runs: 2, budgetMs: 600_000, shapes: { input: [1, 512], state: [2, 1, 128] }, feeds: { sr } },
    });
    const out = await model.run({
      input: { type: 'float32', dims: [1, 512], data: new Float32Array(512) },
      state: { type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) },
      sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) },
    });
    return { err, badOption, warmup: model.info.warmup, outDims: out.output!.dims };
  }, `${VAD}/silero_vad_v5.onnx`);
  expect(r.err).toMatchObject({
    name: 'InputError',
    code: 'INPUT_INVALID',
    details: { warmup: true, shapes: { input: [1, 32], state: [2, 32, 128], sr: [] } },
  });
  expect(r.err!.message).toMatch(/Warm-up run 1 failed .*warmup\.shapes.*warmup\.feeds/);
  expect(r.badOption).toMatchObject({ name: 'InputError' });
  expect(r.badOption!.message).toContain('warmup.runs');
  expect(r.warmup).toMatchObject({ runs: 2, stopped: 'runs', shapes: { input: [1, 512], state: [2, 1, 128], sr: [] } });
  expect(r.outDims).toEqual([1, 1]);
});
