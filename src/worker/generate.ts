/**
 * The worker's generation loop. Each step waits for the model's turn (so runs and the steps of
 * other generations interleave with it, one step at a time), runs the decoder on the new token(s)
 * with the sequence's cache (./kv-sequence.ts), samples the next token where the logits are, and
 * streams it to the page at once. The cache is freed when the answer ends — finished, aborted,
 * past its deadline or failed.
 */
import { decoderIo } from '../decoder-io';
import { AbortError, ContextOverflowError, DeadlineExceededError } from '../errors';
import type { GpuContext } from '../kernels/gpu-context';
import { seededUniform, type SampleParams } from '../kernels/sample-math';
import type { GenerateReply, GenerateRequest, TokenEvent } from '../protocol';
import type { Backend, FinishReason, ModelInfo } from '../types';
import type { Executor } from './executor';
import { KvSequence, zeroGenerateCounters } from './kv-sequence';

/** What the engine lends a generation. */
export interface GenerateHost {
  info: ModelInfo;
  backend: Backend;
  /** Aborted by `cancel(requestId)`. */
  signal: AbortSignal;
  /** Runs `work` with the model's executor when it is the model's turn (after its earlier runs and steps). */
  turn<T>(work: (executor: Executor) => Promise<T>): Promise<T>;
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

/** Generates the answer to `req` (see the module comment), streaming each token to `onTokens`. */
export async function generate(host: GenerateHost, req: GenerateRequest, onTokens: (event: TokenEvent) => void): Promise<GenerateReply> {
  const t0 = performance.now();
  const io = decoderIo(host.info.inputs, host.info.outputs, host.info.source);
  checkContext(req);
  const seq = new KvSequence(io, host.backend === 'webgpu' ? await host.gpu() : null);
  live.add(seq);
  const draw = seededUniform(req.sampling.seed);
  const stop = new Set(req.stopTokens);
  const counters = zeroGenerateCounters();
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
      const params: SampleParams = { ...req.sampling, u: draw() };
      const { id, ms } = await host.turn(async (executor) => {
        const start = performance.now();
        const id = await seq.step(executor, ids, params, counters);
        return { id, ms: performance.now() - start };
      });
      busyMs += ms;
      tokens.push(id);
      if (tokens.length === 1) ttftMs = performance.now() - t0;
      emit(onTokens, { index: tokens.length - 1, ids: [id] });
      if (stop.has(id)) {
        finishReason = 'stop';
        break;
      }
    }
    const totalMs = performance.now() - t0;
    return { tokens, finishReason, counters, timings: { queueMs: totalMs - busyMs, busyMs, ttftMs }, cacheBytes: seq.peakBytes };
  } finally {
    seq.release();
    live.delete(seq);
  }
}

/** Refuses a request whose prompt and answer cannot fit its context. */
function checkContext(req: GenerateRequest): void {
  const need = req.inputIds.length + req.maxNewTokens;
  if (need > req.maxContext) {
    throw new ContextOverflowError(
      `The prompt (${req.inputIds.length} tokens) plus maxNewTokens (${req.maxNewTokens}) needs ${need} tokens of context, and maxContext is ${req.maxContext}. Shorten the prompt, lower maxNewTokens or raise maxContext.`,
      { promptTokens: req.inputIds.length, maxNewTokens: req.maxNewTokens, maxContext: req.maxContext },
    );
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
