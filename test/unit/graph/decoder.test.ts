// The synthetic decoder (src/graph/decoder-builder.ts) run by onnxruntime-web's WASM backend in
// Node: ORT is the oracle of what the graph computes. Generating with the KV cache must give the
// same tokens as recomputing the whole sequence every step, fp32 and q8.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDecoder, SMALL_DECODER } from '../../../src/graph/decoder-builder';
import { quantizeDynamic } from '../../../src/graph/quantize';

// Half the test decoder's depth and width: the recomputation side is quadratic in the length.
const CONFIG = { ...SMALL_DECODER, layers: 2, hidden: 128 };
const HEAD_DIM = CONFIG.hidden / CONFIG.heads;

const i64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);

function feeds(ids: number[], past: number, cache: Record<string, ort.Tensor> | null): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {
    input_ids: i64(ids),
    attention_mask: i64(Array(past + ids.length).fill(1)),
    position_ids: i64(ids.map((_, i) => past + i)),
  };
  for (let l = 0; l < CONFIG.layers; l++) {
    for (const kind of ['key', 'value']) {
      f[`past_key_values.${l}.${kind}`] = cache?.[`present.${l}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, CONFIG.heads, 0, HEAD_DIM]);
    }
  }
  return f;
}

function argmaxLast(logits: ort.Tensor): { id: number; gap: number } {
  const v = CONFIG.vocab;
  const data = logits.data as Float32Array;
  const row = data.subarray(data.length - v);
  let best = 0;
  for (let i = 1; i < v; i++) if (row[i]! > row[best]!) best = i;
  const second = Math.max(...row.filter((_, i) => i !== best));
  return { id: best, gap: row[best]! - second };
}

async function greedy(session: ort.InferenceSession, prompt: number[], n: number, cached: boolean): Promise<{ ids: number[]; minGap: number }> {
  const ids = [...prompt];
  let cache: Record<string, ort.Tensor> | null = null;
  let minGap = Infinity;
  for (let step = 0; step < n; step++) {
    const past = cache ? ids.length - 1 : 0;
    const input = cache ? ids.slice(-1) : ids;
    const out = await session.run(feeds(input, past, cache));
    const { id, gap } = argmaxLast(out.logits!);
    minGap = Math.min(minGap, gap);
    ids.push(id);
    if (cached) cache = out as Record<string, ort.Tensor>;
  }
  return { ids: ids.slice(prompt.length), minGap };
}

describe('synthetic decoder on ORT WASM', () => {
  const fp32 = buildDecoder(CONFIG);
  let session: ort.InferenceSession;
  beforeAll(async () => {
    ort.env.wasm.numThreads = 1;
    session = await ort.InferenceSession.create(fp32);
  });

  it('declares the decoder I/O conventions', () => {
    expect(session.inputNames.slice(0, 4)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key']);
    expect(session.inputNames).toHaveLength(3 + 2 * CONFIG.layers);
    expect(session.outputNames.slice(0, 3)).toEqual(['logits', 'present.0.key', 'present.0.value']);
    expect(session.outputNames).toHaveLength(1 + 2 * CONFIG.layers);
  });

  it('greedy with the KV cache equals full recomputation for 64 tokens, and the tokens vary', async () => {
    const prompt = [5, 17, 300, 2];
    const withCache = await greedy(session, prompt, 64, true);
    const full = await greedy(session, prompt, 64, false);
    expect(withCache.ids).toEqual(full.ids);
    expect(new Set(withCache.ids).size).toBeGreaterThan(16); // a random decoder that does not echo one token
    // The best logit leads the second by far more than float32 rounding moves it.
    expect(withCache.minGap).toBeGreaterThan(1e-4);
  });

  it('a batched step over left-padded, masked pasts gives each row what its step alone gives (the batched decode step of generate)', async () => {
    // Two sequences with pasts of 3 and 8 tokens, then one step each: alone (batch 1), and together
    // with the shorter past right-aligned behind 5 zeroed, masked positions and per-row positions.
    const prompts = [
      [5, 17, 300],
      [9, 8, 7, 6, 5, 4, 3, 2],
    ];
    const next = [44, 1000];
    const prefill = await Promise.all(prompts.map((p) => session.run(feeds(p, 0, null))));
    const alone = await Promise.all(prompts.map((p, i) => session.run(feeds([next[i]!], p.length, prefill[i] as Record<string, ort.Tensor>))));
    const width = 8;
    const batch: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(next.map(BigInt)), [2, 1]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, ...Array<number>(9).fill(1)].map(BigInt)), [2, width + 1]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([3n, 8n]), [2, 1]),
    };
    const run = HEAD_DIM;
    for (let l = 0; l < CONFIG.layers; l++) {
      for (const kind of ['key', 'value']) {
        const data = new Float32Array(2 * CONFIG.heads * width * run);
        prompts.forEach((p, i) => {
          const src = prefill[i]![`present.${l}.${kind}`]!.data as Float32Array;
          for (let h = 0; h < CONFIG.heads; h++)
            data.set(src.subarray(h * p.length * run, (h + 1) * p.length * run), ((i * CONFIG.heads + h) * width + width - p.length) * run);
        });
        batch[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', data, [2, CONFIG.heads, width, HEAD_DIM]);
      }
    }
    const together = await session.run(batch);
    const v = CONFIG.vocab;
    const rows = together.logits!.data as Float32Array;
    for (let i = 0; i < 2; i++) {
      const want = alone[i]!.logits!.data as Float32Array;
      const got = rows.subarray(i * v, (i + 1) * v);
      let worst = 0;
      for (let j = 0; j < v; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
      // The same sums with zero terms at shifted positions: equal up to float32 rounding.
      expect(worst).toBeLessThan(1e-4);
      expect(argmaxLast(new ort.Tensor('float32', got, [1, 1, v])).id).toBe(argmaxLast(alone[i]!.logits!).id);
    }
  });

  it('is deterministic per seed and differs across seeds', () => {
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    const one = { ...CONFIG, layers: 1 };
    expect(same(buildDecoder(one), buildDecoder(one))).toBe(true);
    expect(same(buildDecoder({ ...one, seed: 2 }), buildDecoder(one))).toBe(false);
  });

  it('quantizes every projection and the head, and leaves the attention matmuls (no constant weight) in float', () => {
    const { report } = quantizeDynamic(fp32);
    expect(report.quantized).toHaveLength(6 * CONFIG.layers + 1);
    expect(report.skipped).toHaveLength(2 * CONFIG.layers);
    expect(report.skipped.every((s) => s.reason === 'the weight is not a constant')).toBe(true);
  });
});
