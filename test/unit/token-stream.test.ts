import { describe, expect, it } from 'vitest';
import { AbortError } from '../../src/errors';
import type { GenerateResult } from '../../src/runtime/generate-types';
import { TokenStream } from '../../src/runtime/token-stream';

const result = (tokens: number[]) => ({ tokens, finishReason: 'length', stats: {} }) as unknown as GenerateResult;

async function drain(s: TokenStream): Promise<number[]> {
  const out: number[] = [];
  for await (const id of s) out.push(id);
  return out;
}

describe('TokenStream', () => {
  it('yields tokens in order as they arrive, once each, then ends with the result', async () => {
    const s = new TokenStream(() => undefined);
    const done = drain(s);
    s.push(0, [10]);
    s.push(0, [10]); // again: ignored
    await Promise.resolve();
    s.push(1, [11, 12]);
    s.push(0, [10, 11, 12, 13]); // the final reply fills what the stream missed
    s.finish(result([10, 11, 12, 13]));
    expect(await done).toEqual([10, 11, 12, 13]);
    expect((await s.result).tokens).toEqual([10, 11, 12, 13]);
    expect(s.arrivals).toHaveLength(4);
  });

  it('yields what arrived before a failure, then throws it; result rejects too', async () => {
    const s = new TokenStream(() => undefined);
    s.push(0, [1, 2]);
    s.fail(new AbortError());
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const id of s) got.push(id);
      })(),
    ).rejects.toBeInstanceOf(AbortError);
    expect(got).toEqual([1, 2]);
    await expect(s.result).rejects.toBeInstanceOf(AbortError);
  });

  it('leaving the loop early cancels the generation; finishing does not', async () => {
    let cancelled = 0;
    const s = new TokenStream(() => cancelled++);
    s.push(0, [1, 2, 3]);
    for await (const id of s) if (id === 2) break;
    expect(cancelled).toBe(1);
    const t = new TokenStream(() => cancelled++);
    t.push(0, [1]);
    t.finish(result([1]));
    await drain(t);
    expect(cancelled).toBe(1);
  });
});
