/**
 * The waiting room of a served model: two FIFO lanes, `interactive` before `background`. Requests
 * are taken from the head of the interactive lane first; a batch takes the head plus the next
 * requests (interactive, then background) that share its batch key.
 */
import type { Priority, TensorMap } from '../types';

/** A request waiting for a replica. */
export interface Pending {
  id: string;
  feeds: TensorMap;
  priority: Priority;
  /** `performance.now()` when `run()` was called. */
  arrival: number;
  /** `performance.now()` after which it must not start (Infinity: none). */
  deadline: number;
  /** Batch key (src/serving/batch.ts), or null when it cannot be batched. */
  key: string | null;
  rows: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** Detaches the abort listener and the deadline timer. */
  cleanup(): void;
}

/** Two-lane FIFO of {@link Pending} requests. */
export class RequestQueue {
  private readonly lanes: Record<Priority, Pending[]> = { interactive: [], background: [] };

  get length(): number {
    return this.lanes.interactive.length + this.lanes.background.length;
  }

  /** Appends `p` to its lane (or puts it first, for a request handed back by a dead replica). */
  push(p: Pending, front = false): void {
    if (front) this.lanes[p.priority].unshift(p);
    else this.lanes[p.priority].push(p);
  }

  /** Removes `p`; false when it is not queued (already taken). */
  remove(p: Pending): boolean {
    const lane = this.lanes[p.priority];
    const i = lane.indexOf(p);
    if (i < 0) return false;
    lane.splice(i, 1);
    return true;
  }

  /** The next request to serve. */
  peek(): Pending | undefined {
    return this.lanes.interactive[0] ?? this.lanes.background[0];
  }

  /** Requests that would be served before a new request of `priority` (the lanes it waits behind). */
  ahead(priority: Priority): number {
    return priority === 'interactive' ? this.lanes.interactive.length : this.length;
  }

  /** The newest request of `lane`, the first to be shed when the queue is full. */
  newest(lane: Priority): Pending | undefined {
    const l = this.lanes[lane];
    return l[l.length - 1];
  }

  /** The oldest request of `lane`. */
  oldest(lane: Priority): Pending | undefined {
    return this.lanes[lane][0];
  }

  /**
   * Takes the head and up to `max − 1` more requests with its batch key, in serving order; `fits`
   * (when given) decides whether a request may join a batch that would then have `size` requests.
   */
  take(max: number, fits?: (p: Pending, size: number) => boolean): Pending[] {
    const head = this.peek();
    if (!head) return [];
    const batch = [head];
    if (head.key !== null) {
      for (const p of [...this.lanes.interactive, ...this.lanes.background]) {
        if (batch.length >= max) break;
        if (p !== head && p.key === head.key && (fits?.(p, batch.length + 1) ?? true)) batch.push(p);
      }
    }
    for (const p of batch) this.remove(p);
    return batch;
  }

  /** Counts queued requests sharing the head's batch key (the head included), up to `max`. */
  compatibleWithHead(max: number): number {
    const head = this.peek();
    if (!head) return 0;
    if (head.key === null) return 1;
    let n = 0;
    for (const p of [...this.lanes.interactive, ...this.lanes.background]) if (p.key === head.key && ++n >= max) break;
    return n;
  }
}
