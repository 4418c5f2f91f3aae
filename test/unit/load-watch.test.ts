// The load timeout is about progress, not total time: each progress event re-arms it, and only a
// load that goes quiet for `timeoutMs` fails, with the last phase it reached.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoadTimeoutError } from '../../src/errors';
import { DEFAULT_LOAD_TIMEOUT_MS, watchLoad } from '../../src/runtime/load-watch';

/** A promise settled from outside. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('watchLoad', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rejects with LoadTimeoutError and cancels when nothing happens for timeoutMs', async () => {
    const onTimeout = vi.fn();
    const work = deferred<string>();
    const watch = watchLoad(1000, onTimeout);
    const result = watch.run(work.promise).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(999);
    expect(onTimeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const err = await result;
    expect(err).toBeInstanceOf(LoadTimeoutError);
    expect(err).toMatchObject({ code: 'LOAD_TIMEOUT', details: { timeoutMs: 1000 } });
    expect((err as Error).message).toContain('raise LoadOptions.timeoutMs');
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it('each progress event re-arms the timer, and the error names the last phase', async () => {
    const work = deferred<string>();
    const watch = watchLoad(1000, () => {});
    const result = watch.run(work.promise).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(900);
      watch.progress(i < 3 ? 'download' : 'compile');
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(await result).toMatchObject({ name: 'LoadTimeoutError', details: { phase: 'compile' } });
  });

  it('resolves like the work when it finishes in time, and leaves no timer behind', async () => {
    const onTimeout = vi.fn();
    const work = deferred<string>();
    const watch = watchLoad(1000, onTimeout);
    const result = watch.run(work.promise);
    await vi.advanceTimersByTimeAsync(500);
    work.resolve('model');
    await expect(result).resolves.toBe('model');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('0 waits forever; the default is two minutes of silence', async () => {
    const never = watchLoad(0, () => {});
    const silent = never.run(new Promise(() => {}));
    let settled = false;
    void silent.finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10 * DEFAULT_LOAD_TIMEOUT_MS);
    expect(settled).toBe(false);
    expect(DEFAULT_LOAD_TIMEOUT_MS).toBe(120_000);
    const byDefault = watchLoad(undefined, () => {}).run(new Promise(() => {})).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(DEFAULT_LOAD_TIMEOUT_MS);
    expect(await byDefault).toBeInstanceOf(LoadTimeoutError);
  });
});
