/**
 * `model.generate` on the main thread: checks the prompt and options (a model that is not a
 * decoder, bad ids or a prompt that cannot fit are refused before anything crosses), starts the
 * generation in the Worker that holds the model's first replica, and turns the tokens it streams
 * into a {@link TokenStream}. Time to first token, time per output token, tokens per answer and
 * device-busy time per answer are measured here, as the caller sees them, and recorded in
 * telemetry beside the run latencies.
 */
import { checkContext, decoderIo } from '../decoder-io';
import { GENERATE_DEFAULTS } from '../defaults';
import { AbortError, InputError } from '../errors';
import type { GenerateReply, GenerateRequest } from '../protocol';
import type { ModelReplica } from '../serving/replica';
import type { GenerateOptions, ModelInfo } from '../types';
import type { GenerateResult, GenerateStats } from './generate-types';
import { TokenStream } from './token-stream';

/** @internal The replica a generation runs on (src/runtime/worker-replica.ts). */
export type GenerateLink = Pick<ModelReplica, 'info' | 'generate' | 'cancel'>;

/** @internal Where a finished answer's figures go (telemetry and `model.stats().lastGeneration`). */
export type GenerateRecorder = (outcome: { result: GenerateResult } | { error: unknown }) => void;

/**
 * Starts generating from `inputIds` on the model `info` (see `Model.generate`).
 * @throws {@link NotADecoderError}, {@link InputError}, {@link ContextOverflowError} at once.
 */
export function startGeneration(
  link: GenerateLink,
  nextRequestId: () => string,
  inputIds: unknown,
  options: GenerateOptions,
  record: GenerateRecorder,
): TokenStream {
  const info = link.info;
  decoderIo(info.inputs, info.outputs, `Model ${info.id} (${info.source})`);
  const request = resolveRequest(info, inputIds, options);
  const { signal } = options;
  if (signal?.aborted) throw new AbortError('The generation was aborted by its AbortSignal before it started.');
  const requestId = nextRequestId();
  const t0 = performance.now();
  const stream = new TokenStream(() => link.cancel(requestId));
  const onAbort = () => {
    link.cancel(requestId);
    stream.fail(new AbortError('The generation was aborted by its AbortSignal.'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  link
    .generate(requestId, request, (e) => stream.push(e.index, e.ids))
    .then((reply) => {
      stream.push(0, reply.tokens);
      const result = toResult(request, reply, stream.arrivals, t0);
      record({ result });
      stream.finish(result);
    })
    .catch((error: unknown) => {
      record({ error });
      stream.fail(error);
    })
    .finally(() => signal?.removeEventListener('abort', onAbort));
  return stream;
}

/** The request that crosses to the Worker: ids checked, every default applied. */
function resolveRequest(info: ModelInfo, inputIds: unknown, o: GenerateOptions): GenerateRequest {
  const vocab = info.outputs.find((v) => v.name === 'logits')?.dims.at(-1);
  const ids = tokenIds('inputIds', inputIds, typeof vocab === 'number' ? vocab : Infinity);
  if (ids.length === 0) throw new InputError('inputIds is empty; generate() needs at least one prompt token.', { input: 'inputIds' });
  const maxNewTokens = positiveInt('maxNewTokens', o.maxNewTokens ?? GENERATE_DEFAULTS.maxNewTokens);
  const maxContext = positiveInt('maxContext', o.maxContext ?? GENERATE_DEFAULTS.maxContext);
  checkContext(ids.length, maxNewTokens, maxContext);
  const deadlineMs = o.deadlineMs ?? Infinity;
  if (!(deadlineMs >= 0)) throw new InputError(`deadlineMs is ${String(o.deadlineMs)}; pass milliseconds ≥ 0.`, { option: 'deadlineMs' });
  return {
    inputIds: ids,
    maxNewTokens,
    maxContext,
    deadlineMs,
    stopTokens: tokenIds('stopTokens', o.stopTokens ?? [], Infinity),
    sampling: resolveSampling(o),
  };
}

function resolveSampling(o: GenerateOptions): GenerateRequest['sampling'] {
  const s = o.sampling;
  if (!s) return { topK: 1, temperature: 1, topP: 1, seed: 0 };
  const d = GENERATE_DEFAULTS;
  const topK = positiveInt('sampling.topK', s.topK ?? d.topK);
  if (topK > d.topK) throw new InputError(`sampling.topK is ${topK}; the GPU sampler keeps at most ${d.topK} candidates.`, { option: 'sampling.topK' });
  const temperature = s.temperature ?? d.temperature;
  if (!(temperature > 0 && Number.isFinite(temperature)))
    throw new InputError(`sampling.temperature is ${String(s.temperature)}; pass a finite number > 0 (for greedy decoding, leave sampling out).`, {
      option: 'sampling.temperature',
    });
  const topP = s.topP ?? d.topP;
  if (!(topP > 0 && topP <= 1)) throw new InputError(`sampling.topP is ${String(s.topP)}; pass a number in (0, 1].`, { option: 'sampling.topP' });
  const seed = s.seed ?? d.seed;
  if (!Number.isInteger(seed)) throw new InputError(`sampling.seed is ${String(s.seed)}; pass an integer.`, { option: 'sampling.seed' });
  return { topK, temperature, topP, seed: seed >>> 0 };
}

/** Token ids from an array, a typed array or a BigInt64Array, each an integer in [0, below). */
function tokenIds(what: string, value: unknown, below: number): number[] {
  const list = value as ArrayLike<number | bigint> | null;
  if (!list || typeof list !== 'object' || typeof list.length !== 'number')
    throw new InputError(`${what} must be an array of token ids, and got ${String(value)}.`, { input: what });
  const ids = Array.from(list, Number);
  const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= below);
  if (bad >= 0) {
    const range = below === Infinity ? 'a non-negative integer' : `an integer in [0, ${below})`;
    throw new InputError(`${what}[${bad}] is ${String(list[bad])}; each token id must be ${range}.`, { input: what, index: bad });
  }
  return ids;
}

function positiveInt(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InputError(`${what} is ${String(v)}; pass a positive integer.`, { option: what });
  return v;
}

function toResult(request: GenerateRequest, reply: GenerateReply, arrivals: readonly number[], t0: number): GenerateResult {
  const n = reply.tokens.length;
  const busyMs = reply.timings.busyMs;
  const stats: GenerateStats = {
    promptTokens: request.inputIds.length,
    newTokens: n,
    ttftMs: n > 0 ? arrivals[0]! - t0 : NaN,
    tpotMs: arrivals.slice(1, n).map((t, i) => t - arrivals[i]!),
    totalMs: n > 0 ? arrivals[n - 1]! - t0 : performance.now() - t0,
    busyMs,
    busyMsPer1kTokens: n > 0 ? (busyMs / n) * 1000 : NaN,
    counters: reply.counters,
    cacheBytes: reply.cacheBytes,
    batching: reply.batching,
  };
  return { tokens: reply.tokens, finishReason: reply.finishReason, stats };
}
