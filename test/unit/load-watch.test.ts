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

  it('each progress event re-arms the timer across guarded steps, and the error names the last phase', async () => {
    const ready = deferred<void>();
    const work = deferred<string>();
    const seen: string[] = [];
    const watch = watchLoad(1000, () => {});
    const relay = watch.relay((p: { phase: 'download' | 'compile'; loaded: number }) => seen.push(p.phase));
    const first = watch.guard(ready.promise);
    await vi.advanceTimersByTimeAsync(500);
    ready.resolve();
    await first;
    const result = watch.run(work.promise).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) {
      relay({ phase: i < 3 ? 'download' : 'compile', loaded: i });
      await vi.advanceTimersByTimeAsync(900);
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toMatchObject({ name: 'LoadTimeoutError', details: { phase: 'compile' } });
    expect(seen).toEqual(['download', 'download', 'download', 'compile', 'compile']);
  });

  it('a guarded step that fails stops the watch: no timeout fires after the load is over', async () => {
    const onTimeout = vi.fn();
    const watch = watchLoad(1000, onTimeout);
    await expect(watch.guard(Promise.reject(new Error('worker failed')))).rejects.toThrow('worker failed');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(onTimeout).not.toHaveBeenCalled();
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
    const byDefault = watchLoad(undefined, () => {})
      .run(new Promise(() => {}))
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(DEFAULT_LOAD_TIMEOUT_MS);
    expect(await byDefault).toBeInstanceOf(LoadTimeoutError);
  });
});
