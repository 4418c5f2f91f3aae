/**
 * The worker's generation loop. Each step is submitted to the model's batcher
 * (./decode-batcher.ts), which runs it in the model's turn (so runs interleave with it) — the
 * prefill alone, decode steps in one model call with the other generations' — with the sequence's
 * cache (./kv-sequence.ts), samples the next token where the logits are, and the loop streams it
 * to the page at once. The cache is freed when the answer ends — finished, aborted, past its
 * deadline or failed — and the sequence leaves the batch at that step boundary.
 */
import { checkContext } from '../decoder-io';
import { AbortError, DeadlineExceededError } from '../errors';
import type { GpuContext } from '../kernels/gpu-context';
import { seededUniform } from '../kernels/sample-math';
import type { GenerateBatching, GenerateReply, GenerateRequest, TokenEvent } from '../protocol';
import type { Backend, FinishReason, ModelInfo } from '../types';
import type { DecodeBatcher } from './decode-batcher';
import { KvSequence, zeroGenerateCounters } from './kv-sequence';

/** What the engine lends a generation. */
export interface GenerateHost {
  info: ModelInfo;
  backend: Backend;
  /** Aborted by `cancel(requestId)`. */
  signal: AbortSignal;
  /** The model's batcher: runs each step in the model's turn, batched with other generations'. */
  batcher: DecodeBatcher;
  /** The GPU context on ORT's device (WebGPU only). */
  gpu(): Promise<GpuContext>;
}

/** Sequences decoding now, in every model of this worker: their caches are what `kv-cache-bytes` reports. */
const live = new Set<KvSequence>();

/** Bytes of KV cache held by live generations (a test hook: 0 once every answer has ended). */
export function liveCacheBytes(): number {
  let n = 0;
  for (const s of live) n += s.bytes;
  return n;
}

/** Sequences holding a cache now (a test hook: an answer that ended, or left the batch, is not counted). */
export function liveSequences(): number {
  return live.size;
}

/** Generates the answer to `req` (see the module comment), streaming each token to `onTokens`. */
export async function generate(host: GenerateHost, req: GenerateRequest, onTokens: (event: TokenEvent) => void): Promise<GenerateReply> {
  const t0 = performance.now();
  checkContext(req.inputIds.length, req.maxNewTokens, req.maxContext);
  // The decoder's I/O as the model's batcher read it once.
  const seq = new KvSequence(host.batcher.io, host.backend === 'webgpu' ? await host.gpu() : null);
  live.add(seq);
  const draw = seededUniform(req.sampling.seed);
  const stop = new Set(req.stopTokens);
  const counters = zeroGenerateCounters();
  const batching: GenerateBatching = { sharedSteps: 0, largestBatch: 1 };
  const member = host.batcher.join();
  const tokens: number[] = [];
  let busyMs = 0;
  let ttftMs = NaN;
  let finishReason: FinishReason = 'length';
  try {
    while (tokens.length < req.maxNewTokens) {
      if (host.signal.aborted) throw new AbortError('The generation was aborted by its AbortSignal.', { tokens: tokens.length });
      if (performance.now() - t0 >= req.deadlineMs) {
        if (tokens.length === 0)
          throw new DeadlineExceededError(`The deadline (${req.deadlineMs} ms) passed before the first token.`, { deadlineMs: req.deadlineMs });
        finishReason = 'deadline';
        break;
      }
      const ids = tokens.length === 0 ? req.inputIds : [tokens[tokens.length - 1]!];
      const { id, ms, batch } = await member.step({ seq, ids, params: { ...req.sampling, u: draw() }, counters, signal: host.signal });
      busyMs += ms;
      if (batch > 1) batching.sharedSteps++;
      batching.largestBatch = Math.max(batching.largestBatch, batch);
      tokens.push(id);
      if (tokens.length === 1) ttftMs = performance.now() - t0;
      emit(onTokens, { index: tokens.length - 1, ids: [id] });
      if (stop.has(id)) {
        finishReason = 'stop';
        break;
      }
    }
    const totalMs = performance.now() - t0;
    const reason = host.batcher.unbatchedReason;
    if (reason) batching.unbatchedReason = reason;
    return { tokens, finishReason, counters, timings: { queueMs: totalMs - busyMs, busyMs, ttftMs }, cacheBytes: seq.peakBytes, batching };
  } finally {
    member.leave();
    seq.release();
    live.delete(seq);
  }
}

/** Sends tokens to the page without waiting: a page that went away must not stop the loop. */
function emit(onTokens: (event: TokenEvent) => void, event: TokenEvent): void {
  try {
    void Promise.resolve(onTokens(event)).catch(() => undefined);
  } catch {
    /* the proxy was released */
  }
}
