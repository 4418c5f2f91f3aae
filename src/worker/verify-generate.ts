/**
 * Verification in service of `generate` (docs/verify.md): a sampled **greedy** generation (`topK:
 * 1`, the default) is checked on the WASM reference by teacher forcing. One reference run over the
 * prompt followed by every generated token but the last (an empty KV cache: past length 0) gives
 * the logits at each position; the token the GPU plan chose at step k must be the reference's
 * argmax at position `prompt + k − 1`. So one run checks the whole sequence, each step on the
 * prefix the user actually got. A near tie is not counted: where the reference's top logit exceeds
 * the chosen token's by at most `tolerance` × the row's logit range, either token is a right
 * answer (the GPU plan's rounding may pick either). A sampled generation (`topK` > 1) draws its
 * tokens at random and is not checked.
 */
import type { DecoderIo } from '../decoder-io';
import type { TensorLike, TensorMap } from '../types';
import type { Comparison } from './compare';

/** Whether a generation with these sampling parameters can be checked token by token (greedy). */
export function checkableGeneration(sampling: { topK: number }): boolean {
  return sampling.topK === 1;
}

/** The teacher-forced feeds of a generation: `prompt` and `tokens` but the last, positions from 0, an empty cache. */
export function teacherFeeds(io: DecoderIo, prompt: readonly number[], tokens: readonly number[]): TensorMap {
  const ids = [...prompt, ...tokens.slice(0, -1)];
  const n = ids.length;
  const idTensor = (values: (i: number) => number): TensorLike =>
    io.idType === 'int64'
      ? { type: 'int64', dims: [1, n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(values(i))) }
      : { type: 'int32', dims: [1, n], data: Int32Array.from({ length: n }, (_, i) => values(i)) };
  const feeds: TensorMap = { input_ids: idTensor((i) => ids[i]!), attention_mask: idTensor(() => 1) };
  if (io.positionIds) feeds.position_ids = idTensor((i) => i);
  const empty = (): TensorLike =>
    io.kvType === 'float16'
      ? { type: 'float16', dims: [1, io.heads, 0, io.headDim], data: new Uint16Array(0) }
      : { type: 'float32', dims: [1, io.heads, 0, io.headDim], data: new Float32Array(0) };
  for (const l of io.layers) [feeds[l.pastKey], feeds[l.pastValue]] = [empty(), empty()];
  return feeds;
}

/**
 * Compares the generated `tokens` with the reference's `logits` ([1, positions, vocab]) of the
 * teacher-forced run: `mismatch` counts the steps whose token is not the reference's choice (near
 * ties aside, see the module comment); `step` is the first of them.
 */
export function compareGeneration(logits: TensorLike | undefined, promptLength: number, tokens: readonly number[], tolerance: number): Comparison {
  const base = { name: 'logits', tolerance: 0 };
  const want = promptLength + tokens.length - 1;
  if (!logits || logits.dims.length !== 3 || logits.dims[1] !== want || !(logits.data instanceof Float32Array))
    return { ...base, metric: 'shape', value: 1, step: 0, ok: false };
  const vocab = logits.dims[2]!;
  const data = logits.data;
  let mismatch = 0;
  let first = 0;
  tokens.forEach((token, k) => {
    const row = data.subarray((promptLength - 1 + k) * vocab, (promptLength + k) * vocab);
    let [max, min] = [-Infinity, Infinity];
    for (const v of row) [max, min] = [Math.max(max, v), Math.min(min, v)];
    const chosen = token >= 0 && token < vocab ? row[token]! : -Infinity;
    if (!(max - chosen <= tolerance * (max - min))) {
      if (mismatch === 0) first = k;
      mismatch++;
    }
  });
  return { ...base, metric: 'mismatch', value: mismatch, step: first, ok: mismatch === 0 };
}
