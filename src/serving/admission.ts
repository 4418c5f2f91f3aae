/**
 * Admission control: whether a new request may wait for a replica. Checked before it queues, so a
 * refusal costs the caller nothing but the answer:
 * - a request whose estimated wait plus the expected service time of its dispatch already passes its
 *   deadline is refused at once (`DeadlineExceededError`): the deadline is when the answer is due,
 *   not when the run may still start;
 * - a full queue (`maxQueue`) first sheds background work for an interactive newcomer (the newest
 *   background request is displaced), then applies the overflow policy: `'reject-newest'` refuses the
 *   newcomer (`OverloadedError`), `'drop-oldest'` displaces the oldest request of the newcomer's
 *   priority or lower.
 */
import { DeadlineExceededError, OverloadedError } from '../errors';
import type { Pending, RequestQueue } from './queue';

/** The verdict on one request. */
export type Admission =
  | { admit: true; displaced?: { request: Pending; error: OverloadedError } }
  | { admit: false; error: OverloadedError | DeadlineExceededError; reason: 'overloaded' | 'deadline-estimate' };

/**
 * Decides on `p` given the queue, its bound, the overflow policy, the estimated wait for `p` and the
 * expected service time of the dispatch it will run in (0 before any was measured).
 */
export function admit(
  p: Pending,
  queue: RequestQueue,
  maxQueue: number,
  overflow: 'reject-newest' | 'drop-oldest',
  estimatedWaitMs: number,
  serviceMs: number,
): Admission {
  const budget = p.deadline - p.arrival;
  if (estimatedWaitMs + serviceMs > budget) {
    const error = new DeadlineExceededError(
      `The estimated wait (${estimatedWaitMs.toFixed(1)} ms) plus one run (${serviceMs.toFixed(1)} ms) already exceeds the deadline (${budget.toFixed(1)} ms); the run was not queued. Allow more time, or send fewer requests.`,
      { deadlineMs: budget, estimatedWaitMs, serviceMs },
    );
    return { admit: false, error, reason: 'deadline-estimate' };
  }
  if (queue.length < maxQueue) return { admit: true };
  const details = { queueLength: queue.length, maxQueue, estimatedWaitMs };
  const background = p.priority === 'interactive' ? queue.newest('background') : undefined;
  const victim = background ?? (overflow === 'drop-oldest' ? (queue.oldest(p.priority) ?? queue.oldest('background')) : undefined);
  if (victim) {
    const error = new OverloadedError(
      `The queue is full (${queue.length} of ${maxQueue}) and a more urgent or newer request took this one's place; it never ran.`,
      {
        ...details,
        reason: 'displaced',
      },
    );
    return { admit: true, displaced: { request: victim, error } };
  }
  const error = new OverloadedError(
    `The model's queue is full (${queue.length} of ${maxQueue} waiting, about ${estimatedWaitMs.toFixed(0)} ms of work); the run was not queued. Back off and retry, send fewer requests, or raise serving.maxQueue.`,
    { ...details, reason: 'queue-full' },
  );
  return { admit: false, error, reason: 'overloaded' };
}
