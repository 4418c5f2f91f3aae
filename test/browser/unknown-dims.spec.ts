// Models with dynamic dims that ORT web reports as 4294967295 (no dim_value, no dim_param), int64
// scalar inputs, recurrent state fed back across runs, and If subgraphs: Silero VAD from the
// @ricky0123/vad-web package (v5: unnamed dims; legacy: named dims, LSTM state h/c). Each runs
// through webq8 on wasm and forced webgpu and is compared, chunk by chunk, with onnxruntime-web
// run directly in the same page on the same execution provider (the oracle).
// On webgpu the oracle is ORT's own WebGPU EP, not its WASM EP: on SwiftShader, ORT 1.30's WebGPU EP
// gives different Silero v5 probabilities from its WASM EP (up to ~0.4 apart; reproduced with ORT
// alone, no webq8 involved), so WASM cannot be the reference for what webq8 does on webgpu.
import { expect, test } from './fixtures';

const VAD = '/node_modules/@ricky0123/vad-web/dist';
const MODELS = {
  v5: { url: `${VAD}/silero_vad_v5.onnx`, state: { state: { out: 'stateN', dims: [2, 1, 128] } } },
  legacy: { url: `${VAD}/silero_vad_legacy.onnx`, state: { h: { out: 'hn', dims: [2, 1, 64] }, c: { out: 'cn', dims: [2, 1, 64] } } },
};
type Vad = (typeof MODELS)[keyof typeof MODELS];

/**
 * In the page: 8 chunks of 512 samples (16 kHz) of seeded synthetic audio — noise, then voiced
 * harmonics — through webq8 and through ORT, each feeding its own state outputs back as the next
 * chunk's state inputs. Also ORT with the state reset every chunk, to show the state matters.
 */
async function runVad({ url, backend, state }: Vad & { backend: 'wasm' | 'webgpu' }) {
  const { createRuntime } = await import('/dist/index.js');
  // @ts-expect-error: served file, no types at this path (the package's own types describe it)
  const ort: typeof import('onnxruntime-web/webgpu') = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs');
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const chunks = Array.from({ length: 8 }, (_, k) =>
    Float32Array.from({ length: 512 }, (_, i) => {
      const t = (k * 512 + i) / 16000;
      const voiced = k >= 3 ? 0.5 * [1, 2, 3, 4, 5].reduce((s, h) => s + Math.sin(2 * Math.PI * 140 * h * t) / h, 0) : 0;
      return voiced + 0.02 * rand();
    }),
  );
  type F32 = { type: 'float32'; dims: number[]; data: Float32Array };
  const zeros = (): Record<string, F32> =>
    Object.fromEntries(
      Object.entries(state).map(([name, s]) => [name, { type: 'float32' as const, dims: s.dims, data: new Float32Array(s.dims.reduce((a, b) => a * b, 1)) }]),
    );
  const sr = () => ({ type: 'int64' as const, dims: [] as number[], data: BigInt64Array.of(16000n) });
  const rt = createRuntime();
  const model = await rt.load(url, { backend });
  const session = await ort.InferenceSession.create(url, { executionProviders: [backend] });
  const toOrt = (f: Record<string, { type: string; dims: number[]; data: Float32Array | BigInt64Array }>) =>
    Object.fromEntries(Object.entries(f).map(([n, t]) => [n, new ort.Tensor(t.type as 'float32', t.data.slice() as Float32Array, t.dims)]));
  const stateOf = (out: Record<string, { dims: readonly number[]; data: unknown }>): Record<string, F32> =>
    Object.fromEntries(
      Object.entries(state).map(([n, s]) => [n, { type: 'float32' as const, dims: [...out[s.out]!.dims], data: out[s.out]!.data as Float32Array }]),
    );
  const ours: number[] = [],
    oracle: number[] = [],
    reset: number[] = [];
  let stateOurs = zeros(),
    stateOrt = zeros();
  let maxStateDiff = 0;
  for (const chunk of chunks) {
    const feeds = () => ({ input: { type: 'float32' as const, dims: [1, 512], data: chunk.slice() }, sr: sr() });
    const a = await model.run({ ...feeds(), ...stateOurs });
    const b = await session.run(toOrt({ ...feeds(), ...stateOrt }));
    const c = await session.run(toOrt({ ...feeds(), ...zeros() }));
    ours.push((a.output!.data as Float32Array)[0]!);
    oracle.push((b.output!.data as Float32Array)[0]!);
    reset.push((c.output!.data as Float32Array)[0]!);
    stateOurs = stateOf(a);
    stateOrt = stateOf(b);
    for (const n of Object.keys(state)) {
      const x = stateOurs[n]!.data,
        y = stateOrt[n]!.data;
      for (let i = 0; i < x.length; i++) maxStateDiff = Math.max(maxStateDiff, Math.abs(x[i]! - y[i]!));
    }
  }
  const result = { info: model.info, ours, oracle, reset, maxStateDiff, outputDims: Object.values(stateOurs).map((t) => t.dims) };
  await session.release();
  await rt.dispose();
  return JSON.parse(JSON.stringify(result)) as typeof result;
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

for (const backend of ['wasm', 'webgpu'] as const) {
  // The same ORT build and EP on both sides: only a different GPU device separates them on webgpu.
  const tolerance = 1e-6;

  test(`Silero VAD v5 (unnamed dims, int64 scalar sr, If, state fed back) on ${backend} equals ORT`, async ({ webq8Page: page }) => {
    const r = await page.evaluate(runVad, { ...MODELS.v5, backend });
    expect(r.info.backend.backend).toBe(backend);
    // ORT says 4294967295 for these dims; model.info must say "unknown", not a size.
    expect(r.info.inputs).toEqual([
      { name: 'input', type: 'float32', dims: [null, null] },
      { name: 'state', type: 'float32', dims: [2, null, 128] },
      { name: 'sr', type: 'int64', dims: [] },
    ]);
    expect(r.info.outputs.find((o) => o.name === 'stateN')?.dims).toEqual([null, null, null]);
    expect(r.outputDims).toEqual([[2, 1, 128]]);
    expect(maxDiff(r.ours, r.oracle)).toBeLessThanOrEqual(tolerance);
    expect(r.maxStateDiff).toBeLessThanOrEqual(tolerance * 10);
    // The fed-back state changes the answer: resetting it gives different probabilities.
    expect(maxDiff(r.oracle, r.reset)).toBeGreaterThan(1e-3);
  });

  test(`Silero VAD legacy (named dims, LSTM h/c state, If) on ${backend} equals ORT`, async ({ webq8Page: page }) => {
    const r = await page.evaluate(runVad, { ...MODELS.legacy, backend });
    expect(r.info.inputs.map((i) => [i.name, i.dims])).toEqual([
      ['input', ['batch', 'sequence']],
      ['sr', []],
      ['h', [2, 'batch', 64]],
      ['c', [2, 'batch', 64]],
    ]);
    expect(r.outputDims).toEqual([
      [2, 1, 64],
      [2, 1, 64],
    ]);
    expect(maxDiff(r.ours, r.oracle)).toBeLessThanOrEqual(tolerance);
    expect(r.maxStateDiff).toBeLessThanOrEqual(tolerance * 10);
    expect(maxDiff(r.oracle, r.reset)).toBeGreaterThan(1e-3);
  });
}

test('an input with unnamed dims still gets rank and dtype checked, with "?" in the message', async ({ runtimePage: page }) => {
  const r = await page.evaluate(async (url) => {
    const { rt } = globalThis.webq8Test!;
    const model = await rt.load(url, { backend: 'wasm' });
    const state = { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) };
    const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };
    const err = await model
      .run({ input: { type: 'float32', dims: [512], data: new Float32Array(512) }, state, sr })
      .catch((e: { name: string; code: string; message: string }) => ({ name: e.name, code: e.code, message: e.message }));
    const ok = await model.run({
      input: { type: 'float32', dims: [1, 512], data: new Float32Array(512) },
      state: { ...state, data: new Float32Array(256) },
      sr: { ...sr, data: BigInt64Array.of(16000n) },
    });
    return { err, okDims: ok.output!.dims };
  }, MODELS.v5.url);
  expect(r.err).toMatchObject({ name: 'InputError', code: 'INPUT_INVALID' });
  expect((r.err as { message: string }).message).toContain('float32[?, ?]');
  expect(r.okDims).toEqual([1, 1]);
});
