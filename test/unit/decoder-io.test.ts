import { describe, expect, it } from 'vitest';
import { checkContext, decoderIo } from '../../src/decoder-io';
import { ContextOverflowError, NotADecoderError } from '../../src/errors';
import type { ValueInfo } from '../../src/types';

const kv = (name: string, dims: ValueInfo['dims'] = ['batch', 12, 'past', 64], type: ValueInfo['type'] = 'float32'): ValueInfo => ({ name, type, dims });
const ids = (name: string, type: ValueInfo['type'] = 'int64'): ValueInfo => ({ name, type, dims: ['batch', 'sequence'] });

function decoder(layers: number, extra: ValueInfo[] = []): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const inputs = [ids('input_ids'), ids('attention_mask'), ...extra];
  const outputs: ValueInfo[] = [{ name: 'logits', type: 'float32', dims: ['batch', 'sequence', 50257] }];
  for (let i = 0; i < layers; i++) {
    inputs.push(kv(`past_key_values.${i}.key`), kv(`past_key_values.${i}.value`));
    outputs.push(kv(`present.${i}.key`), kv(`present.${i}.value`));
  }
  return { inputs, outputs };
}

function thrown(f: () => unknown): NotADecoderError {
  try {
    f();
  } catch (e) {
    if (e instanceof NotADecoderError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('decoderIo', () => {
  it('reads layers, heads, head size, id type and position_ids from a GPT-2-style export', () => {
    const { inputs, outputs } = decoder(3, [ids('position_ids')]);
    const io = decoderIo(inputs, outputs);
    expect(io).toMatchObject({ idType: 'int64', positionIds: true, kvType: 'float32', heads: 12, headDim: 64 });
    expect(io.layers).toHaveLength(3);
    expect(io.layers[2]).toEqual({
      pastKey: 'past_key_values.2.key',
      pastValue: 'past_key_values.2.value',
      presentKey: 'present.2.key',
      presentValue: 'present.2.value',
    });
    expect(decoderIo(decoder(1).inputs, decoder(1).outputs).positionIds).toBe(false);
  });

  it('names what is missing and what is unexpected, and states the convention', () => {
    const { inputs, outputs } = decoder(2);
    const e = thrown(() =>
      decoderIo(
        inputs.filter((v) => v.name !== 'past_key_values.1.value' && v.name !== 'attention_mask').concat(ids('token_type_ids')),
        outputs.filter((v) => v.name !== 'present.0.key'),
        'gpt.onnx',
      ),
    );
    expect(e.code).toBe('NOT_A_DECODER');
    expect(e.details.missing).toEqual(['attention_mask', 'present.0.key (output)', 'past_key_values.1.value']);
    expect(e.details.unexpected).toEqual(['token_type_ids']);
    expect(e.message).toMatch(/^gpt\.onnx is not a decoder .*expects inputs input_ids, attention_mask, optional position_ids and past_key_values/);
  });

  it('refuses a model without a cache, an image model, float ids, symbolic heads and int8 caches', () => {
    expect(thrown(() => decoderIo([ids('input_ids'), ids('attention_mask')], [{ name: 'logits', type: 'float32', dims: [] }])).details.missing).toEqual([
      'past_key_values.0.key',
      'past_key_values.0.value',
    ]);
    expect(
      thrown(() => decoderIo([{ name: 'x', type: 'float32', dims: [1, 3, 48, 320] }], [{ name: 'y', type: 'float32', dims: [] }])).details.unexpected,
    ).toEqual(['x']);
    const { inputs, outputs } = decoder(1);
    expect(thrown(() => decoderIo([ids('input_ids', 'float32'), ...inputs.slice(1)], outputs)).message).toMatch(/input_ids is float32/);
    expect(thrown(() => decoderIo([...inputs.slice(0, 2), kv('past_key_values.0.key', ['b', 'heads', 'p', 64]), inputs[3]!], outputs)).message).toMatch(
      /heads and head_dim fixed numbers/,
    );
    expect(thrown(() => decoderIo([...inputs.slice(0, 2), kv('past_key_values.0.key', undefined, 'int8'), inputs[3]!], outputs)).message).toMatch(
      /supports float32 and float16/,
    );
    expect(thrown(() => decoderIo(inputs, [{ ...outputs[0]!, type: 'float16' }, ...outputs.slice(1)])).message).toMatch(
      /logits are float16; generate\(\) samples from float32 logits/,
    );
  });
});

describe('checkContext', () => {
  it('lets a prompt and answer that fill the context exactly pass, and refuses one token more with the figures', () => {
    expect(() => checkContext(10, 6, 16)).not.toThrow();
    let err: unknown;
    try {
      checkContext(10, 7, 16);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContextOverflowError);
    expect(err).toMatchObject({ code: 'CONTEXT_OVERFLOW', details: { promptTokens: 10, maxNewTokens: 7, maxContext: 16 } });
    expect((err as Error).message).toMatch(/^The prompt \(10 tokens\) plus maxNewTokens \(7\) needs 17 tokens of context, and maxContext is 16\. Shorten/);
  });
});
