/**
 * The stream `model.generate` returns: an async iterable of token ids as the Worker produces them,
 * and a `result` promise with the whole answer and its figures. Tokens arrive by index, so one that
 * comes twice (streamed, then again in the final reply) is kept once.
 */
import type { GenerateResult } from './generate-types';

/**
 * Tokens of one answer, in order, as they are generated.
 * @example
 * const stream = model.generate([464, 2068], { maxNewTokens: 16 });
 * for await (const id of stream) console.log(id);
 * const { finishReason, stats } = await stream.result;
 */
export class TokenStream implements AsyncIterable<number> {
  /** The whole answer once it has ended; rejects with the same error as the iteration. */
  readonly result: Promise<GenerateResult>;
  /** @internal `performance.now()` when each token arrived. */
  readonly arrivals: number[] = [];
  private readonly tokens: number[] = [];
  private outcome: { ok: true } | { ok: false; error: unknown } | null = null;
  private waiters: (() => void)[] = [];
  private settle!: { resolve: (r: GenerateResult) => void; reject: (e: unknown) => void };

  /** @internal Created by `model.generate`; `cancel` stops the generation in the Worker. */
  constructor(private readonly cancel: () => void) {
    this.result = new Promise<GenerateResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // Callers who only iterate never await `result`: its rejection must not count as unhandled.
    this.result.catch(() => undefined);
  }

  /** Token ids received so far. */
  get received(): readonly number[] {
    return this.tokens;
  }

  /** @internal Adds tokens `index`, `index + 1`, … (those already held are skipped). */
  push(index: number, ids: readonly number[]): void {
    if (this.outcome) return;
    const now = performance.now();
    ids.forEach((id, k) => {
      if (index + k !== this.tokens.length) return;
      this.tokens.push(id);
      this.arrivals.push(now);
    });
    this.wakeAll();
  }

  /** @internal The answer is complete. */
  finish(result: GenerateResult): void {
    if (this.outcome) return;
    this.outcome = { ok: true };
    this.settle.resolve(result);
    this.wakeAll();
  }

  /** @internal The answer failed or was aborted; tokens already received are still yielded first. */
  fail(error: unknown): void {
    if (this.outcome) return;
    this.outcome = { ok: false, error };
    this.settle.reject(error);
    this.wakeAll();
  }

  /** Yields each token id once it is generated; leaving the loop early (`break`) stops the generation. */
  async *[Symbol.asyncIterator](): AsyncGenerator<number, void, undefined> {
    let i = 0;
    try {
      for (;;) {
        if (i < this.tokens.length) {
          yield this.tokens[i++]!;
          continue;
        }
        if (this.outcome) {
          if (!this.outcome.ok) throw this.outcome.error;
          return;
        }
        await new Promise<void>((wake) => this.waiters.push(wake));
      }
    } finally {
      if (!this.outcome) this.cancel();
    }
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
