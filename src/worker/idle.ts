/**
 * Idle-time work of one model: work that must never delay a request (an `'auto'` model measuring
 * a new shape class, src/worker/adaptive.ts; a sampled run checked in service, verify-idle.ts). Each piece is started only while no request of the
 * model is queued or running, and one at a time; it then runs as a turn of the model's request
 * chain (the engine's `enqueue`), so it never runs beside a request and its ORT calls take the gate
 * like any other. A request that arrives while a piece runs waits for that piece only.
 */
import { DisposedError } from '../errors';
import { AdaptiveExecutor } from './adaptive';
import type { Executor } from './executor';
interface Job {
  start: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** See the module comment. */
export class IdleSlots {
  private requests = 0;
  private running = false;
  private readonly jobs: Job[] = [];
  private closed: unknown = null;

  /** Notes a request queued; call the returned function once it has settled. */
  request(): () => void {
    this.requests++;
    let once = false;
    return () => {
      if (once) return;
      once = true;
      this.requests--;
      this.pump();
    };
  }

  /** Runs `start` (which queues a chain turn) when the model is idle; settles with it. */
  schedule<T>(start: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ start, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  /** Rejects every waiting piece with `reason` and takes no more (the model was disposed). */
  close(reason: unknown): void {
    this.closed = reason;
    for (const job of this.jobs.splice(0)) job.reject(reason);
  }

  private pump(): void {
    if (this.running || this.requests > 0) return;
    const job = this.jobs.shift();
    if (!job) return;
    this.running = true;
    job
      .start()
      .then(job.resolve, job.reject)
      .finally(() => {
        this.running = false;
        this.pump();
      });
  }
}

/**
 * Lets an `'auto'` executor measure in idle time: each of its samples is a turn of the model's
 * chain (`turn`) taken from `slots`, which fails if the executor was rebuilt meanwhile.
 */
export function measureWhenIdle(executor: Executor, slots: IdleSlots, turn: <T>(work: (current: Executor) => Promise<T>) => Promise<T>): void {
  if (!(executor instanceof AdaptiveExecutor)) return;
  const rebuilt = () =>
    Promise.reject(
      new DisposedError('The model was rebuilt (device loss or generate) while a shape class was being measured; it is measured again after its next request.'),
    );
  executor.setIdleRunner((work) => slots.schedule(() => turn((current) => (current === executor ? work() : rebuilt()))));
}
