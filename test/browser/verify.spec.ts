// Load-time verification in real Chromium: the GPU plan and ORT's WASM EP (the independent oracle)
// answer the same seeded random inputs. A q8 MLP on webq8's kernels agrees over 20 inputs; a kernel
// whose output is corrupted on the GPU (a debug hook) is caught at load and the model is served from
// WASM, or the load fails with NumericsError while the runtime keeps serving; Silero VAD v5 (a real
// stateful model with an `sr` input) diverges on SwiftShader's WebGPU EP and falls back; NaN and
// integer outputs are compared by their own metrics.
import { buildDecoder } from '../../src/graph/decoder-builder';
import { buildModel } from '../../src/graph/onnx-builder';
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const Q8 = [...quantizeDynamic(mlp(64, 48, { second: true }), { perChannel: true }).bytes];
const VAD_V5 = '/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx';
/** A tiny q8 decoder (seeded random weights) for greedy generations checked in service. */
const DECODER_Q8 = [...quantizeDynamic(buildDecoder({ layers: 2, hidden: 64, heads: 2, vocab: 512, maxPositions: 128 })).bytes];

/** y = x·2 (float, NaN where x is) and i = ArgMax(x) (int64), on float32[1, 16]. */
const NAN_AND_INT = [
  ...buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: [1, 16] }],
    outputs: [
      { name: 'y', type: 'float32', dims: [1, 16] },
      { name: 'i', type: 'int64', dims: [1, 1] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['y'] },
      { op: 'ArgMax', inputs: ['x'], outputs: ['i'], attrs: { axis: 1, keepdims: 1 } },
    ],
    initializers: { two: { type: 'float32', dims: [1], data: Float32Array.of(2) } },
  }),
];

/** A tiny recurrent cell: hn = tanh(x·W + h·U), y = hn·2, on float32[1, 8]; `hn` feeds `h`. */
const RNN = [
  ...buildModel({
    inputs: [
      { name: 'x', type: 'float32', dims: [1, 8] },
      { name: 'h', type: 'float32', dims: [1, 8] },
    ],
    outputs: [
      { name: 'y', type: 'float32', dims: [1, 8] },
      { name: 'hn', type: 'float32', dims: [1, 8] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['h', 'U'], outputs: ['b'] },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['s'] },
      { op: 'Tanh', inputs: ['s'], outputs: ['hn'] },
      { op: 'Add', inputs: ['hn', 'hn'], outputs: ['y'] },
    ],
    initializers: {
      W: { type: 'float32', dims: [8, 8], data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * 0.5) },
      U: { type: 'float32', dims: [8, 8], data: Float32Array.from({ length: 64 }, (_, i) => Math.cos(i * 0.3) * 0.5) },
    },
  }),
];

test('models where both agree keep their GPU plan: q8 MLP on the kernel plan over 20 seeded inputs, NaN where both have NaN, exact integers, a recurrent cell over runs: 3', async ({
  webq8Page: page,
}) => {
  test.setTimeout(120_000);
  const r = await page.evaluate(
    async ({ q8, nanInt, rnn }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const mlp = await rt.load(new Uint8Array(q8), { backend: 'webgpu', strategy: 'kernels', cache: 'bypass', verify: { runs: 20, shapes: { x: [4, 64] } } });
      const x = Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? NaN : Math.sin(i)));
      const nan = await rt.load(new Uint8Array(nanInt), { backend: 'webgpu', verify: { feeds: { x: { type: 'float32', dims: [1, 16], data: x } } } });
      const cell = await rt.load(new Uint8Array(rnn), { backend: 'webgpu', verify: { runs: 3 } });
      const off = await rt.load(new Uint8Array(rnn), { backend: 'webgpu', verify: false });
      const wasm = await rt.load(new Uint8Array(rnn), { backend: 'wasm' });
      const info = (m: typeof mlp) => ({ backend: m.info.backend.backend, strategy: m.info.strategy?.strategy, verify: m.info.verify ?? null });
      const out = { mlp: info(mlp), nan: info(nan), cell: info(cell), off: info(off), wasm: info(wasm) };
      await rt.dispose();
      return out;
    },
    { q8: Q8, nanInt: NAN_AND_INT, rnn: RNN },
  );
  expect(r.mlp).toMatchObject({ backend: 'webgpu', strategy: 'kernels', verify: { status: 'agreed' } });
  expect(r.mlp.verify!.reason).toMatch(/20 run/);
  // Default tolerance of a plan that quantizes activations at run time; the worst of 20 inputs is within it.
  expect(r.mlp.verify!.outputs).toEqual([expect.objectContaining({ name: 'y', metric: 'relL2', tolerance: 3e-2 })]);
  expect(r.mlp.verify!.outputs[0]!.value).toBeLessThan(3e-2);
  expect(r.nan).toMatchObject({ backend: 'webgpu', verify: { status: 'agreed' } });
  expect(r.nan.verify!.outputs).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'y', metric: 'relL2', tolerance: 1e-3 }),
      expect.objectContaining({ name: 'i', metric: 'mismatch', value: 0 }),
    ]),
  );
  expect(r.cell).toMatchObject({ backend: 'webgpu', verify: { status: 'agreed' } });
  expect(r.cell.verify!.reason).toMatch(/3 run/);
  expect(r.cell.verify!.outputs.map((o) => o.name).sort()).toEqual(['hn', 'y']);
  expect(r.off).toEqual({ backend: 'webgpu', strategy: 'ort', verify: null });
  expect(r.wasm.verify).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/reference itself/) });
});

test.describe('a corrupted kernel output', () => {
  test('is caught at load and the model is served from WASM with the reason; onDiverge error rejects with NumericsError and the runtime keeps serving', async ({
    webq8Page: page,
  }) => {
    test.setTimeout(120_000);
    const r = await page.evaluate(async (model) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
      const options = { backend: 'webgpu' as const, strategy: 'kernels' as const, cache: 'bypass' as const };
      const feeds = () => ({ x: { type: 'float32' as const, dims: [2, 64], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i * 0.37)) } });
      const oracle = await rt.load(new Uint8Array(model), { backend: 'wasm' });
      const want = [...((await oracle.run(feeds())).y!.data as Float32Array)];
      await debug('corrupt-kernels');
      const fallback = await rt.load(new Uint8Array(model), options);
      const got = [...((await fallback.run(feeds())).y!.data as Float32Array)];
      const reported = await rt.load(new Uint8Array(model), { ...options, verify: { onDiverge: 'report' } });
      const wrong = [...((await reported.run(feeds())).y!.data as Float32Array)];
      type Failure = Error & { code: string; details: Record<string, unknown> };
      const failure = await rt.load(new Uint8Array(model), { ...options, verify: { onDiverge: 'error' } }).catch((e: Failure) => e);
      const err = 'code' in failure ? { name: failure.name, code: failure.code, message: failure.message, details: failure.details } : null;
      await debug('heal-kernels');
      const again = [...((await oracle.run(feeds())).y!.data as Float32Array)];
      const out = {
        fallback: { backend: fallback.info.backend, verify: fallback.info.verify, strategy: fallback.info.strategy },
        reported: { backend: reported.info.backend.backend, verify: reported.info.verify },
        want,
        got,
        wrong,
        again,
        err,
      };
      await rt.dispose();
      return out;
    }, Q8);
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
    expect(r.fallback.backend.backend).toBe('wasm');
    expect(r.fallback.backend.reason).toMatch(/WASM.*output "y" relL2/);
    expect(r.fallback.verify).toMatchObject({ status: 'diverged', action: 'fallback', outputs: [{ name: 'y', metric: 'relL2' }] });
    expect(r.fallback.verify!.outputs[0]!.value).toBeGreaterThan(3e-2);
    expect(r.fallback.strategy!.strategy).toBe('ort');
    expect(close(r.got, r.want)).toBe(true); // served from WASM: the right answer
    expect(r.reported).toMatchObject({ backend: 'webgpu', verify: { status: 'diverged', action: 'report' } });
    expect(close(r.wrong, r.want)).toBe(false); // 'report' keeps the (corrupted) GPU plan
    expect(r.err).toMatchObject({ name: 'NumericsError', code: 'NUMERICS', details: { name: 'y', metric: 'relL2' } });
    expect(r.err!.message).toMatch(/output "y".*onDiverge 'fallback'/);
    expect(r.again).toEqual(r.want);
  });
});

test('Silero VAD v5 (sr input, recurrent state, runs: 3) diverges on SwiftShader WebGPU and is served from WASM', async ({ webq8Page: page }) => {
  test.setTimeout(180_000);
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = await import('/dist/index.js');
    const rt = createRuntime();
    const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };
    const vad = await rt.load(url, { backend: 'webgpu', verify: { runs: 3, shapes: { input: [1, 512], state: [2, 1, 128] }, feeds: { sr } } });
    // A loud sine frame and zero state, fresh per run (run() transfers its feeds).
    const feeds = () => ({
      input: { type: 'float32' as const, dims: [1, 512], data: Float32Array.from({ length: 512 }, (_, i) => 0.5 * Math.sin(i * 0.2)) },
      state: { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) },
      sr: { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) },
    });
    const served = (await vad.run(feeds())).output!.data as Float32Array;
    const oracle = await rt.load(url, { backend: 'wasm' });
    const want = (await oracle.run(feeds())).output!.data as Float32Array;
    const out = { info: vad.info.verify!, backend: vad.info.backend, inputs: vad.info.inputs.map((v) => v.name), served: [...served], want: [...want] };
    await rt.dispose();
    return out;
  }, VAD_V5);
  expect(r.inputs).toEqual(['input', 'state', 'sr']);
  expect(r.info.status).toBe('diverged');
  expect(r.backend.backend).toBe('wasm');
  expect(r.backend.reason).toMatch(/output "(output|stateN)"/);
  expect(r.info.outputs.map((o) => o.name).sort()).toEqual(['output', 'stateN']);
  expect(r.served).toEqual(r.want); // served by ORT's WASM EP, like the oracle
});

test('in service (sampleRate 1): answers come before their check, agreement is counted, a kernel corrupted later is caught and later runs are served from WASM; Silero VAD diverges in service under report', async ({
  webq8Page: page,
}) => {
  test.setTimeout(300_000); // two Silero VAD sessions (GPU and its WASM reference) and a check: minutes on a loaded 2-core machine
  const r = await page.evaluate(
    async ({ model, vadUrl }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
      const feeds = () => ({ x: { type: 'float32' as const, dims: [2, 64], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i * 0.37)) } });
      const oracle = await rt.load(new Uint8Array(model), { backend: 'wasm' });
      const want = [...((await oracle.run(feeds())).y!.data as Float32Array)];
      const mlp = await rt.load(new Uint8Array(model), { backend: 'webgpu', strategy: 'kernels', cache: 'bypass', verify: { sampleRate: 1 } });
      type M = typeof mlp;
      // Runs until `done` holds of the model's counts (each run also samples): a bounded wait, never a hang.
      const runUntil = async (m: M, make: () => Record<string, object>, done: (s: NonNullable<ReturnType<M['stats']>['verify']>) => boolean) => {
        for (let i = 0; i < 100; i++) {
          const out = await m.run(make());
          if (done(m.stats().verify!)) return out;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`not reached: ${JSON.stringify(m.stats().verify)}`);
      };
      await mlp.run(feeds());
      const first = mlp.stats().verify!; // as of the first answer: its check had not run yet
      await runUntil(mlp, feeds, (s) => s.checked >= 2);
      const agreed = { ...mlp.stats().verify!, backend: mlp.info.backend.backend };
      await debug('corrupt-kernels');
      const wrong = [...((await mlp.run(feeds())).y!.data as Float32Array)]; // served by the corrupted GPU plan
      await runUntil(mlp, feeds, (s) => s.diverged >= 1);
      const after = [...((await mlp.run(feeds())).y!.data as Float32Array)];
      const diverged = { ...mlp.stats().verify!, backend: mlp.info.backend };
      await debug('heal-kernels');
      // Silero VAD v5: ORT's WebGPU EP is wrong on SwiftShader; 'report' keeps it and counts each sampled run.
      const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };
      const vad = await rt.load(vadUrl, {
        backend: 'webgpu',
        verify: { sampleRate: 1, onDiverge: 'report', shapes: { input: [1, 512], state: [2, 1, 128] }, feeds: { sr } },
      });
      const frame = () => ({
        input: { type: 'float32' as const, dims: [1, 512], data: Float32Array.from({ length: 512 }, (_, i) => 0.5 * Math.sin(i * 0.2)) },
        state: { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) },
        sr: { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) },
      });
      await runUntil(vad, frame, (s) => s.checked >= 1);
      const out = { first, agreed, wrong, after, want, diverged, vad: { ...vad.stats().verify!, backend: vad.info.backend.backend } };
      await rt.dispose();
      return out;
    },
    { model: Q8, vadUrl: VAD_V5 },
  );
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
  expect(r.first).toMatchObject({ sampleRate: 1, checked: 0, pending: 1, diverged: 0 });
  expect(r.agreed).toMatchObject({ diverged: 0, backend: 'webgpu' });
  expect(r.agreed.agreed).toBe(r.agreed.checked);
  expect(r.agreed.worst).toMatchObject({ name: 'y', metric: 'relL2' });
  expect(r.agreed.worst!.value).toBeLessThan(3e-2);
  expect(close(r.wrong, r.want)).toBe(false);
  expect(r.diverged.backend.backend).toBe('wasm');
  expect(r.diverged.backend.reason).toMatch(/WASM.*sampled production run.*output "y" relL2/);
  expect(r.diverged.divergedOutputs).toEqual({ y: 1 });
  expect(r.diverged.lastDivergence).toMatch(/served from ORT's WASM EP from then on/);
  expect(close(r.after, r.want)).toBe(true); // later runs: the reference's right answer
  expect(r.vad).toMatchObject({ backend: 'webgpu', agreed: 0 });
  expect(r.vad.diverged).toBe(r.vad.checked);
  expect(Object.keys(r.vad.divergedOutputs).sort()).toEqual(['output', 'stateN']);
});

test('in service, greedy generations of a q8 decoder on the kernel plan are checked token by token against ORT WASM: right ones agree, corrupted ones diverge', async ({
  webq8Page: page,
}) => {
  test.setTimeout(180_000);
  const r = await page.evaluate(
    async ({ decoder }) => {
      const { createRuntime } = await import('/dist/index.js');
      const rt = createRuntime();
      const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
      // A q8 decoder on the kernel plan: each greedy generation is checked by teacher forcing on WASM.
      // The load-time check (which sampling needs) runs a prefill of 4 tokens with an empty cache.
      const past = Object.fromEntries([0, 1].flatMap((l) => ['key', 'value'].map((kv) => [`past_key_values.${l}.${kv}`, [1, 2, 0, 32]])));
      const ids = (values: number[]) => ({ type: 'int64' as const, dims: [1, 4], data: BigInt64Array.from(values.map(BigInt)) });
      const check = { shapes: past, feeds: { input_ids: ids([5, 17, 300, 2]), attention_mask: ids([1, 1, 1, 1]), position_ids: ids([0, 1, 2, 3]) } };
      const dec = await rt.load(new Uint8Array(decoder), {
        backend: 'webgpu',
        strategy: 'kernels',
        cache: 'bypass',
        verify: { ...check, sampleRate: 1, onDiverge: 'report' },
      });
      const generateUntil = async (done: (s: NonNullable<ReturnType<typeof dec.stats>['verify']>) => boolean) => {
        for (let i = 0; i < 50; i++) {
          const { tokens } = await dec.generate([5, 17, 300, 2], { maxNewTokens: 4 }).result;
          const v = dec.stats().verify;
          if (v && done(v)) return tokens;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`not reached: ${JSON.stringify(dec.stats().verify ?? dec.info.verify)}`);
      };
      const rightTokens = await generateUntil((s) => s.checked >= 1);
      const generation = { agreed: dec.stats().verify!, rightTokens };
      await debug('corrupt-kernels');
      const wrongTokens = await generateUntil((s) => s.diverged >= 1);
      await debug('heal-kernels');
      Object.assign(generation, { diverged: dec.stats().verify!, wrongTokens, backend: dec.info.backend.backend });
      await rt.dispose();
      return { generation };
    },
    { decoder: DECODER_Q8 },
  );
  // Greedy generations: the right ones agree token by token with ORT WASM's argmax; corrupted ones do not.
  type Counts = typeof r.generation.agreed;
  const g = r.generation as typeof r.generation & { diverged: Counts; wrongTokens: number[]; backend: string };
  expect(g.agreed).toMatchObject({ diverged: 0, worst: { name: 'logits', metric: 'mismatch', value: 0 } });
  expect(g.agreed.agreed).toBe(g.agreed.checked);
  expect(g.rightTokens).toHaveLength(4);
  expect(g.wrongTokens).not.toEqual(g.rightTokens);
  expect(g.diverged.divergedOutputs).toEqual({ logits: 1 });
  expect(g.diverged.lastDiverged).toMatchObject({ name: 'logits', metric: 'mismatch' });
  expect(g.diverged.lastDiverged!.value).toBeGreaterThan(0);
  expect(g.backend).toBe('webgpu'); // 'report' keeps the GPU plan
});
