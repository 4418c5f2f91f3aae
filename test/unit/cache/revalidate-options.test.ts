import { describe, expect, it } from 'vitest';
import { resolveLoadOptions } from '../../../src/defaults';
import { InputError } from '../../../src/errors';

describe('LoadOptions.revalidate', () => {
  it('passes a valid setting to the worker and refuses a timeout that is not a number of milliseconds ≥ 0', () => {
    expect(resolveLoadOptions({ revalidate: { timeoutMs: 0, storeNoStore: true } }, undefined).revalidate).toEqual({ timeoutMs: 0, storeNoStore: true });
    expect(resolveLoadOptions({}, undefined).revalidate).toBeUndefined();
    for (const timeoutMs of [-1, Number.NaN, Infinity]) {
      const err = (() => {
        try {
          resolveLoadOptions({ revalidate: { timeoutMs } }, undefined);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe('INPUT_INVALID');
    }
  });
});
