// The GPU sampler (shaders/sample-topk.wgsl via the registered `SampleTokens` op) against its CPU
// twin (src/kernels/sample-math.ts), both from /dist/kernels.js, on the real adapter. Greedy picks
// must be identical (pure comparisons); sampled picks too, for seeded random rows: both sides do the
// same float32 sums in the same order, so only a draw within an ulp of a boundary could differ.
import { expect, test } from './fixtures';

test('SampleTokens matches the CPU sampler: ties, NaN/±Inf, k beyond the vocabulary, 32k vocabulary, 300 random rows', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async () => {
    const k = await import('/dist/kernels.js');
    k.registerBuiltinKernels();
    const adapter = await navigator.gpu.requestAdapter();
    const ctx = new k.GpuContext(await adapter!.requestDevice());
    const step = k.prepareKernel(ctx, { op: 'SampleTokens', attrs: {} });
    type Case = { rows: number; seq: number; vocab: number; logits: Float32Array; params: { topK: number; temperature: number; topP: number; u: number }[] };
    const runGpu = async (c: Case): Promise<number[]> => {
      const logits = { buffer: ctx.upload(c.logits, 'test.logits'), type: 'float32' as const, dims: [c.rows, c.seq, c.vocab] };
      const params = { buffer: ctx.upload(k.packSampleParams(c.params), 'test.params'), type: 'float32' as const, dims: [c.rows, 4] };
      const [ids] = step.run([logits, params]);
      const out = [...new Uint32Array(await ctx.readback(ids!.buffer, c.rows * 4))];
      for (const b of [logits.buffer, params.buffer, ids!.buffer]) ctx.buffers.release(b);
      return out;
    };
    const runCpu = (c: Case): number[] => c.params.map((p, r) => k.sampleRow(c.logits.subarray(((r + 1) * c.seq - 1) * c.vocab, (r + 1) * c.seq * c.vocab), p));
    const greedy = { topK: 1, temperature: 1, topP: 1, u: 0.5 };
    const uniform = k.seededUniform(20261130);
    const named: Record<string, Case> = {
      ties: { rows: 1, seq: 1, vocab: 7, logits: Float32Array.from([1, 3, 2, 3, 3, 0, 3]), params: [greedy] },
      nanInf: {
        rows: 2,
        seq: 1,
        vocab: 6,
        logits: Float32Array.from([NaN, 1, -Infinity, 2, NaN, 0, NaN, -Infinity, NaN, -5, -Infinity, -4]),
        params: [greedy, greedy],
      },
      kBeyondVocab: {
        rows: 1,
        seq: 1,
        vocab: 5,
        logits: Float32Array.from([0.1, 0.4, 0.3, 0.2, 0.5]),
        params: [{ topK: 64, temperature: 1, topP: 1, u: 0.999 }],
      },
      bigVocab: {
        rows: 2,
        seq: 1,
        vocab: 32768,
        logits: Float32Array.from({ length: 65536 }, () => uniform() * 8),
        params: [greedy, { topK: 64, temperature: 0.7, topP: 0.9, u: 0.37 }],
      },
    };
    const rows = 300,
      vocab = 1000,
      seq = 2;
    named.random = {
      rows,
      seq,
      vocab,
      logits: Float32Array.from({ length: rows * seq * vocab }, () => (uniform() - 0.5) * 10),
      params: Array.from({ length: rows }, () => ({
        topK: 1 + Math.floor(uniform() * 64),
        temperature: 0.3 + uniform() * 1.7,
        topP: 0.5 + uniform() * 0.5,
        u: uniform(),
      })),
    };
    const out: Record<string, { gpu: number[]; cpu: number[] }> = {};
    for (const [name, c] of Object.entries(named)) out[name] = { gpu: await runGpu(c), cpu: runCpu(c) };
    step.dispose();
    ctx.dispose();
    return out;
  });
  for (const [name, { gpu, cpu }] of Object.entries(r)) expect(gpu, name).toEqual(cpu);
  expect(r.ties!.gpu).toEqual([1]); // the lowest index among equal maxima
  expect(r.nanInf!.gpu).toEqual([3, 5]); // NaN never wins; -Inf loses to any number
  expect(r.kBeyondVocab!.gpu).toEqual([0]); // u = 0.999 falls on the last of the 5 candidates (in order 4, 1, 2, 3, 0)
  expect(new Set(r.random!.gpu).size).toBeGreaterThan(200); // draws spread over the vocabulary
});
