// model.generate in real Chromium on the synthetic decoders (seeded random weights; see
// src/graph/decoder-builder.ts). The oracle for greedy decoding is full recomputation through
// model.run (whole sequence, empty cache, every step); for q8 on webq8's kernels it is ORT's WASM
// EP. WebGPU runs on SwiftShader here, where ORT's WebGPU EP is ~40× slower than WASM and compiles
// shaders per new sequence length: its cases stay short. The tests share one page and runtime
// (serial), so ORT starts once.
import { type Page } from '@playwright/test';
import { addModel, expect, test } from './fixtures';
import { installGenerateHarness } from './generate-harness';
import { DECODERS, TINY_DECODER, writeDecoders } from './generate-models';

const PROMPT = [5, 17, 300, 2];
const KERNELS = { backend: 'webgpu', strategy: 'kernels' };

test.describe.configure({ mode: 'serial' });
let page: Page;

test.beforeAll(async ({ browser }, info) => {
  writeDecoders();
  page = await browser.newPage({ baseURL: info.project.use.baseURL });
  await page.goto('/test/browser/blank.html');
  await page.evaluate(installGenerateHarness);
});

test.afterAll(async () => {
  await page.evaluate(() => window.__gen.dispose());
  await page.close();
});

test('wasm: 64 greedy tokens with the KV cache equal full recomputation; stats, counters and telemetry', async () => {
  const r = await page.evaluate(
    async ({ url, prompt }) => {
      const model = await window.__gen.load(url, { backend: 'wasm' });
      const stream = model.generate(prompt, { maxNewTokens: 64 });
      const streamed = await window.__gen.collect(stream);
      const result = await stream.result;
      const expected = await window.__gen.recompute(model, prompt, 64);
      const { latency } = model.stats();
      const count = (m: string) => latency[m as keyof typeof latency].count;
      return {
        streamed,
        result,
        expected,
        last: model.stats().lastGeneration,
        counts: ['ttft', 'tpot', 'tokens', 'busy'].map((m) => count(`generate.${m}`)),
        tokensMax: latency['generate.tokens'].max,
      };
    },
    { url: DECODERS.tiny, prompt: PROMPT },
  );
  expect(r.streamed).toHaveLength(64);
  expect(r.streamed).toEqual(r.expected);
  expect(new Set(r.streamed).size).toBeGreaterThan(8);
  expect(r.result.tokens).toEqual(r.streamed);
  expect(r.result.finishReason).toBe('length');
  expect(r.result.stats).toMatchObject({ promptTokens: 4, newTokens: 64, counters: { steps: 64, uploads: 0, readbacks: 0, readbackBytes: 0 } });
  expect(r.result.stats.tpotMs).toHaveLength(63);
  const { layers, hidden } = TINY_DECODER;
  expect(r.result.stats.cacheBytes).toBe(layers * 2 * hidden * (4 + 63) * 4); // (k, v) × hidden × tokens held × float32
  expect(r.last).toEqual(r.result.stats);
  expect(r.counts).toEqual([1, 63, 1, 1]);
  expect(r.tokensMax).toBe(64);
});

test('webgpu: greedy with the cache on the GPU equals full recomputation; 4 bytes read back per token', async () => {
  const n = 6;
  const r = await page.evaluate(
    async ({ url, prompt, n }) => {
      const model = await window.__gen.load(url, { backend: 'webgpu' });
      const expected = await window.__gen.recompute(model, prompt, n);
      const stream = model.generate(prompt, { maxNewTokens: n });
      const tokens = await window.__gen.collect(stream);
      const { stats } = await stream.result;
      // run() still works now that the model's outputs stay on the GPU (it reads them back).
      const again = await window.__gen.recompute(model, prompt, 1);
      return { expected, tokens, stats, again, backend: model.info.backend.backend };
    },
    { url: DECODERS.tiny, prompt: PROMPT, n },
  );
  expect(r.backend).toBe('webgpu');
  expect(r.tokens).toEqual(r.expected);
  expect(r.again).toEqual(r.expected.slice(0, 1));
  const c = r.stats.counters;
  expect(c.steps).toBe(n);
  // One u32 per token comes back: the cache and the logits never leave the GPU.
  expect(c.readbacks).toBe(n);
  expect(c.readbackBytes).toBe(4 * n);
  expect(c.readbackBytes / r.stats.newTokens).toBeLessThanOrEqual(8);
});

test('q8 on webq8 kernels equals q8 on ORT WASM token for token, greedy and seeded sampling', async () => {
  const r = await page.evaluate(
    async ({ url, prompt, kernels }) => {
      const sampling = { temperature: 0.8, topK: 40, topP: 0.95, seed: 7 };
      const run = async (opts: object) => {
        const model = await window.__gen.load(url, opts);
        const greedy = await model.generate(prompt, { maxNewTokens: 16 }).result;
        const sampled = await model.generate(prompt, { maxNewTokens: 16, sampling }).result;
        const info = { strategy: model.info.strategy?.strategy, kernels: model.info.placement?.kernelNodes ?? 0 };
        return { greedy: greedy.tokens, sampled: sampled.tokens, counters: sampled.stats.counters, info };
      };
      return { gpu: await run(kernels), wasm: await run({ backend: 'wasm' }) };
    },
    { url: DECODERS.smallQ8, prompt: PROMPT, kernels: KERNELS },
  );
  expect(r.gpu.info.strategy).toBe('kernels');
  expect(r.gpu.info.kernels).toBeGreaterThan(0);
  expect(r.gpu.greedy).toEqual(r.wasm.greedy);
  expect(r.gpu.sampled).toEqual(r.wasm.sampled);
  expect(r.gpu.sampled).not.toEqual(r.gpu.greedy);
  expect(r.gpu.counters.readbackBytes / r.gpu.sampled.length).toBe(4);
  expect(r.gpu.counters.kernelDispatches).toBeGreaterThan(r.gpu.counters.steps); // matmuls and the sampler ran on our kernels
});

test('abort and break mid-stream free the GPU cache, and the next call works', async () => {
  const r = await page.evaluate(
    async ({ url, prompt, kernels }) => {
      const model = await window.__gen.load(url, kernels);
      const abort = new AbortController();
      const got: number[] = [];
      let during = -1;
      let error = '';
      try {
        for await (const id of model.generate(prompt, { maxNewTokens: 200, signal: abort.signal })) {
          got.push(id);
          if (got.length === 3) {
            during = await window.__gen.debug('kv-cache-bytes');
            abort.abort();
          }
        }
      } catch (e) {
        error = `${(e as Error).name}:${(e as { code?: string }).code}`;
      }
      const broken: number[] = [];
      for await (const id of model.generate(prompt, { maxNewTokens: 200 })) if (broken.push(id) === 2) break;
      const next = await model.generate(prompt, { maxNewTokens: 4 }).result;
      const after = await window.__gen.debug('kv-cache-bytes');
      return { got, error, during, after, next: next.tokens, broken };
    },
    { url: DECODERS.smallQ8, prompt: PROMPT, kernels: KERNELS },
  );
  expect(r.error).toBe('AbortError:ABORTED');
  expect(r.got).toHaveLength(3);
  expect(r.during).toBeGreaterThan(0);
  expect(r.after).toBe(0);
  expect(r.next.slice(0, 3)).toEqual(r.got);
  expect(r.broken).toEqual(r.got.slice(0, 2));
});

// The batched tests run their streams beside a long anchor stream (harness `alongside`), so every
// decode step of each stream is shared with at least the anchor's, whatever the arrival order.
const SAMPLED = { temperature: 0.9, topK: 40, topP: 0.95, seed: 3 };

test('wasm fp32: concurrent streams share batched decode steps and equal each stream alone, greedy and seeded sampling', async () => {
  const r = await page.evaluate(
    async ({ url, sampled }) => {
      const model = await window.__gen.load(url, { backend: 'wasm' });
      const calls: [number[], object][] = [
        [[1, 2, 3], { maxNewTokens: 12 }],
        [[400, 9], { maxNewTokens: 20, sampling: sampled }],
        [[77, 78, 79, 80, 81], { maxNewTokens: 16 }],
        [[6], { maxNewTokens: 9, sampling: { temperature: 1.2, topK: 64, seed: 11 } }],
      ];
      const { anchor, results } = await window.__gen.alongside(model, [5, 17, 300, 2], 200, calls);
      const alone = await window.__gen.alone(model, [...calls, [[5, 17, 300, 2], { maxNewTokens: anchor.length }]]);
      return {
        together: results.map((t) => t.tokens),
        anchor,
        alone,
        batching: results.map((t) => t.stats.batching),
        steps: results.map((t) => t.stats.counters.steps),
        cacheEnd: await window.__gen.debug('kv-cache-bytes'),
      };
    },
    { url: DECODERS.small, sampled: SAMPLED },
  );
  expect(r.together).toEqual(r.alone.slice(0, 4));
  expect(r.anchor).toEqual(r.alone[4]);
  expect(r.together.map((t) => t.length)).toEqual([12, 20, 16, 9]);
  // Every step after the prefill ran in one model call with the anchor (and whoever else was there).
  expect(r.batching.map((b) => b.sharedSteps)).toEqual([11, 19, 15, 8]);
  for (const b of r.batching) expect(b.largestBatch).toBeGreaterThanOrEqual(2);
  expect(r.batching.every((b) => b.unbatchedReason === undefined)).toBe(true);
  expect(r.steps).toEqual([12, 20, 16, 9]);
  expect(r.cacheEnd).toBe(0);
});

test('wasm fp32: a stream aborted mid-way leaves the batch and frees its cache without disturbing the others', async () => {
  const r = await page.evaluate(
    async ({ url }) => {
      const model = await window.__gen.load(url, { backend: 'wasm' });
      const anchor = model.generate([3, 4, 5], { maxNewTokens: 200 });
      const it = anchor[Symbol.asyncIterator]();
      await it.next();
      const abort = new AbortController();
      const doomed = model.generate([9, 10], { maxNewTokens: 100, signal: abort.signal });
      const kept = model.generate([200, 201, 202, 203], { maxNewTokens: 30 });
      const keptTokens: number[] = [];
      let live = -1;
      for await (const id of kept) {
        if (keptTokens.push(id) === 5) {
          live = await window.__gen.debug('kv-sequences');
          abort.abort();
        }
      }
      const afterKept = await window.__gen.debug('kv-sequences');
      const doomedTokens = [...doomed.received];
      const doomedError = await doomed.result.then(
        () => 'no error',
        (e: Error & { code?: string }) => `${e.name}:${e.code}`,
      );
      const keptResult = await kept.result;
      const anchorTokens = [...anchor.received];
      await it.return(undefined);
      const alone = await window.__gen.alone(model, [
        [[9, 10], { maxNewTokens: 100 }],
        [[200, 201, 202, 203], { maxNewTokens: 30 }],
        [[3, 4, 5], { maxNewTokens: anchorTokens.length }],
      ]);
      const cacheEnd = await window.__gen.debug('kv-cache-bytes');
      return { keptTokens, sharedSteps: keptResult.stats.batching.sharedSteps, doomedTokens, doomedError, live, afterKept, cacheEnd, anchorTokens, alone };
    },
    { url: DECODERS.small },
  );
  expect(r.live).toBe(3);
  expect(r.doomedError).toBe('AbortError:ABORTED');
  expect(r.doomedTokens.length).toBeGreaterThanOrEqual(1);
  expect(r.doomedTokens).toEqual(r.alone[0]!.slice(0, r.doomedTokens.length));
  expect(r.keptTokens).toEqual(r.alone[1]);
  expect(r.sharedSteps).toBe(29);
  expect(r.anchorTokens).toEqual(r.alone[2]);
  // Once the kept stream has ended, only the anchor holds a cache: the aborted one left at a step boundary.
  expect(r.afterKept).toBe(1);
  expect(r.cacheEnd).toBe(0);
});

test('webgpu fp32: batched decode steps on the GPU equal each stream alone; 4 bytes read back per token per stream', async () => {
  const r = await page.evaluate(
    async ({ url, sampled }) => {
      const model = await window.__gen.load(url, { backend: 'webgpu' });
      const calls: [number[], object][] = [
        [[5, 17, 300], { maxNewTokens: 4 }],
        [[40, 41], { maxNewTokens: 5, sampling: sampled }],
      ];
      const { anchor, results } = await window.__gen.alongside(model, [8, 9, 10], 100, calls);
      const alone = await window.__gen.alone(model, [...calls, [[8, 9, 10], { maxNewTokens: anchor.length }]]);
      return {
        together: results.map((t) => t.tokens),
        anchor,
        alone,
        batching: results.map((t) => t.stats.batching),
        counters: results.map((t) => t.stats.counters),
        cacheEnd: await window.__gen.debug('kv-cache-bytes'),
      };
    },
    { url: DECODERS.tiny, sampled: SAMPLED },
  );
  expect(r.together).toEqual(r.alone.slice(0, 2));
  expect(r.anchor).toEqual(r.alone[2]);
  expect(r.batching.map((b) => b.sharedSteps)).toEqual([3, 4]);
  for (const [i, c] of r.counters.entries()) {
    // One readback per step; this stream's share of it is its own token id.
    expect(c.readbacks).toBe(r.together[i]!.length);
    expect(c.readbackBytes).toBe(4 * r.together[i]!.length);
  }
  expect(r.cacheEnd).toBe(0);
});

test('q8: batched on webq8 kernels (one scale per sequence) equals each stream alone; on ORT WASM steps run unbatched and say why', async () => {
  const r = await page.evaluate(
    async ({ url, kernels, sampled }) => {
      const calls: [number[], object][] = [
        [[5, 17, 300, 2], { maxNewTokens: 5 }],
        [[40, 41], { maxNewTokens: 6, sampling: sampled }],
      ];
      const run = async (opts: object) => {
        const model = await window.__gen.load(url, opts);
        const { anchor, results } = await window.__gen.alongside(model, [1000, 3, 4], 100, calls);
        const alone = await window.__gen.alone(model, [...calls, [[1000, 3, 4], { maxNewTokens: anchor.length }]]);
        return {
          together: results.map((t) => t.tokens),
          anchor,
          alone,
          batching: results.map((t) => t.stats.batching),
          strategy: model.info.strategy?.strategy,
        };
      };
      return { gpu: await run(kernels), wasm: await run({ backend: 'wasm' }) };
    },
    { url: DECODERS.smallQ8, kernels: KERNELS, sampled: SAMPLED },
  );
  expect(r.gpu.strategy).toBe('kernels');
  expect(r.gpu.together).toEqual(r.gpu.alone.slice(0, 2));
  expect(r.gpu.anchor).toEqual(r.gpu.alone[2]);
  expect(r.gpu.batching.map((b) => b.sharedSteps)).toEqual([4, 5]);
  expect(r.gpu.batching[0]!.unbatchedReason).toBeUndefined();
  expect(r.wasm.together).toEqual(r.wasm.alone.slice(0, 2));
  expect(r.wasm.batching.map((b) => [b.sharedSteps, b.largestBatch])).toEqual([
    [0, 1],
    [0, 1],
  ]);
  expect(r.wasm.batching[0]!.unbatchedReason).toMatch(/DynamicQuantizeLinear runs in ORT, which quantizes a whole batch with one scale/);
  // The same tokens on both backends, as for one stream.
  expect(r.gpu.together).toEqual(r.wasm.together);
});

test('named errors: not a decoder, bad ids and options, context overflow, deadline', async () => {
  const r = await page.evaluate(
    async ({ mlp, url }) => {
      const rt = await window.__gen.runtime();
      const attempt = async (f: () => unknown) => {
        try {
          await f();
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}:${(e as { code?: string }).code} ${(e as Error).message}`;
        }
      };
      const plain = await rt.load(new Uint8Array(mlp), { backend: 'wasm' });
      const decoder = await window.__gen.load(url, { backend: 'wasm' });
      const out = {
        notDecoder: await attempt(() => plain.generate([1, 2])),
        badId: await attempt(() => decoder.generate([1, 99999])),
        empty: await attempt(() => decoder.generate([])),
        topK: await attempt(() => decoder.generate([1], { sampling: { topK: 65 } })),
        overflow: await attempt(() => decoder.generate(Array(10).fill(1), { maxNewTokens: 20, maxContext: 16 })),
        deadline: await attempt(() => decoder.generate([1, 2], { deadlineMs: 0 }).result),
        ok: (await decoder.generate([1, 2], { maxNewTokens: 2 }).result).tokens.length,
      };
      await plain.dispose();
      return out;
    },
    { mlp: addModel(2, 4, new Float32Array(4)), url: DECODERS.small },
  );
  expect(r.notDecoder).toMatch(
    /^NotADecoderError:NOT_A_DECODER .*missing input_ids, attention_mask, logits \(output\), past_key_values\.0\.key.*unexpected inputs x.*expects inputs input_ids, attention_mask/,
  );
  expect(r.badId).toMatch(/^InputError:INPUT_INVALID inputIds\[1\] is 99999; each token id must be an integer in \[0, 2048\)/);
  expect(r.empty).toMatch(/^InputError:INPUT_INVALID inputIds is empty/);
  expect(r.topK).toMatch(/^InputError:INPUT_INVALID sampling.topK is 65/);
  expect(r.overflow).toMatch(/^ContextOverflowError:CONTEXT_OVERFLOW .*needs 30 tokens of context, and maxContext is 16/);
  expect(r.deadline).toMatch(/^DeadlineExceededError:DEADLINE_EXCEEDED .*before the first token/);
  expect(r.ok).toBe(2);
});
