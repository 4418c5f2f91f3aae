/**
 * The I/O conventions of ONNX decoder exports, read from a model's declared inputs and outputs:
 * `input_ids`, `attention_mask`, optional `position_ids`, `past_key_values.{i}.key|value` →
 * `logits`, `present.{i}.key|value` for layers i = 0 … L−1. Both sides use it: the main thread to
 * refuse `generate()` on other models at once, the worker to know what to feed each step. Nothing
 * here depends on who built the model, so a real exported decoder works like the synthetic one.
 */
import { ContextOverflowError, NotADecoderError } from './errors';
import type { DType, ValueInfo } from './types';

/** One layer's cache: the input fed back and the output it comes from. */
export interface KvPair {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

/** A decoder's inputs and outputs as `generate()` drives them. */
export interface DecoderIo {
  /** Element type of `input_ids`, `attention_mask` and `position_ids` (int64 in most exports). */
  idType: 'int64' | 'int32';
  /** Whether the model takes `position_ids` (GPT-2-style); otherwise it derives positions itself. */
  positionIds: boolean;
  /** Per layer, in order. */
  layers: KvPair[];
  /** Element type of the cache tensors. */
  kvType: 'float32' | 'float16';
  /** `past_key_values` are `[batch, heads, past, headDim]`: heads and head size, from the declared dims. */
  heads: number;
  headDim: number;
}

/** The convention, in words, for error messages. */
export const DECODER_CONVENTION =
  'inputs input_ids, attention_mask, optional position_ids and past_key_values.{i}.key|value (i = 0…L−1, each [batch, heads, past, head_dim]); outputs logits and present.{i}.key|value';

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/**
 * Reads the decoder conventions from `inputs`/`outputs`.
 * @throws {@link NotADecoderError} naming what is missing or unexpected.
 */
export function decoderIo(inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], label = 'This model'): DecoderIo {
  const byName = new Map(inputs.map((v) => [v.name, v]));
  const outNames = new Set(outputs.map((v) => v.name));
  const layers = countLayers(inputs);
  const missing = ['input_ids', 'attention_mask'].filter((n) => !byName.has(n));
  if (!outNames.has('logits')) missing.push('logits (output)');
  if (layers === 0) missing.push('past_key_values.0.key', 'past_key_values.0.value');
  const pairs: KvPair[] = [];
  for (let i = 0; i < layers; i++) {
    const pair = {
      pastKey: `past_key_values.${i}.key`,
      pastValue: `past_key_values.${i}.value`,
      presentKey: `present.${i}.key`,
      presentValue: `present.${i}.value`,
    };
    for (const n of [pair.pastKey, pair.pastValue]) if (!byName.has(n)) missing.push(n);
    for (const n of [pair.presentKey, pair.presentValue]) if (!outNames.has(n)) missing.push(`${n} (output)`);
    pairs.push(pair);
  }
  const known = new Set(['input_ids', 'attention_mask', 'position_ids', ...pairs.flatMap((p) => [p.pastKey, p.pastValue])]);
  const unexpected = inputs.map((v) => v.name).filter((n) => !known.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [missing.length ? `missing ${missing.join(', ')}` : '', unexpected.length ? `unexpected inputs ${unexpected.join(', ')}` : ''].filter(
      Boolean,
    );
    throw new NotADecoderError(
      `${label} is not a decoder webq8 can generate with (${parts.join('; ')}). generate() expects ${DECODER_CONVENTION}, as ONNX decoder exports name them.`,
      {
        missing,
        unexpected,
        expected: DECODER_CONVENTION,
      },
    );
  }
  const logits = outputs.find((v) => v.name === 'logits')!;
  // 'unknown': an output written by one of our kernels (a partitioned plan), which are float32.
  if (logits.type !== 'float32' && logits.type !== 'unknown')
    throw new NotADecoderError(`${label}: logits are ${logits.type}; generate() samples from float32 logits.`, { output: 'logits', type: logits.type });
  return {
    idType: idType(byName.get('input_ids')!),
    positionIds: byName.has('position_ids'),
    layers: pairs,
    ...kvShape(byName.get('past_key_values.0.key')!, label),
  };
}

/**
 * Refuses a prompt of `promptTokens` whose answer of up to `maxNewTokens` cannot fit `maxContext`
 * (checked where a request is resolved, and again in the Worker, which trusts no message).
 * @throws {@link ContextOverflowError}
 */
export function checkContext(promptTokens: number, maxNewTokens: number, maxContext: number): void {
  const need = promptTokens + maxNewTokens;
  if (need > maxContext) {
    throw new ContextOverflowError(
      `The prompt (${promptTokens} tokens) plus maxNewTokens (${maxNewTokens}) needs ${need} tokens of context, and maxContext is ${maxContext}. Shorten the prompt, lower maxNewTokens or raise maxContext.`,
      { promptTokens, maxNewTokens, maxContext },
    );
  }
}

/** Layers L such that `past_key_values.{0…L−1}` appear (gaps are reported as missing by the caller). */
function countLayers(inputs: readonly ValueInfo[]): number {
  let max = -1;
  for (const v of inputs) {
    const m = PAST.exec(v.name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

function idType(v: ValueInfo): 'int64' | 'int32' {
  if (v.type === 'int64' || v.type === 'int32') return v.type;
  throw new NotADecoderError(`input_ids is ${v.type}; generate() feeds token ids as int64 or int32.`, { input: v.name, type: v.type });
}

function kvShape(v: ValueInfo, label: string): Pick<DecoderIo, 'kvType' | 'heads' | 'headDim'> {
  const type = v.type as DType | 'unknown';
  if (type !== 'float32' && type !== 'float16') {
    throw new NotADecoderError(`${label}: ${v.name} is ${type}; generate() supports float32 and float16 caches.`, { input: v.name, type });
  }
  const [, heads, , headDim] = v.dims;
  if (v.dims.length !== 4 || typeof heads !== 'number' || typeof headDim !== 'number') {
    throw new NotADecoderError(
      `${label}: ${v.name} has dims ${JSON.stringify(v.dims)}; generate() needs [batch, heads, past, head_dim] with heads and head_dim fixed numbers (to build the empty cache of the first step).`,
      { input: v.name, dims: v.dims },
    );
  }
  return { kvType: type, heads, headDim };
}
