/**
 * The serving layer of one model, on the main thread in front of its Worker replicas: admission
 * control (bounded queue, priorities, deadlines), micro-batching, routing to replicas, gauges and the
 * SLO. The queue lives here rather than in the Worker so that requests can be refused, reordered,
 * dropped at their deadline or merged before any tensor crosses a thread.
 */
import { AbortError, DeadlineExceededError, DisposedError, type WebQ8Error } from '../errors';
import type { RunReply } from '../protocol';
import { copyFeeds } from '../tensors';
import type { Priority, ServingOptions, TensorMap, ValueInfo } from '../types';
import { admit } from './admission';
import { batchable, batchKey, concatFeeds, rowsOf, splitOutputs } from './batch';
import { ServingGauges, type GaugeSnapshot } from './gauges';
import { RequestQueue, type Pending } from './queue';
import { observeService, pickSlot, type Replica, type ReplicaSlot } from './replica';
import { SloTracker, type Health } from './slo';

/** What a request gets back: the outputs, the reply of the dispatch it was part of, and where it ran. */
export interface Served<R extends Replica = Replica> {
  outputs: TensorMap;
  reply: RunReply;
  /** The id of the replica that ran it. */
  replica: string;
  /** The replica that ran it (its backend and model labels its telemetry). */
  by: R;
  batchSize: number;
}

/** Per-request options the server reads. */
export interface SubmitOptions {
  priority?: Priority;
  /** Absolute `performance.now()` deadline (Infinity: none). */
  deadlineAt?: number;
  signal?: AbortSignal;
}

/** What the server needs from its owner. */
export interface ServerHooks<R extends Replica = Replica> {
  /** Unique request ids (they name dispatches in the Worker). */
  nextRequestId(): string;
  /** Starts a replacement for a replica whose Worker died; null when none can be made. */
  replace?(dead: R): Promise<R | null>;
  /** Whether `err` means the replica's Worker is gone (its requests go to other replicas). */
  isReplicaLost?(err: unknown): boolean;
  now?: () => number;
}

const DEFAULT_MAX_QUEUE = 256;
/**
 * Seconds of dispatches behind the service-time estimates that admission, deadline drops and batch
 * sizes use (whole per-second buckets: the current one and the one before). Short on purpose: a
 * slow stretch (a busy machine) stops counting soon after it ends, and a model that refused
 * everything on an estimate that is no longer true gets no dispatches to correct it — once the
 * stretch leaves the horizon the estimate is empty, requests are admitted, and fresh dispatches set it.
 */
const ESTIMATE_SECONDS = 2;
/**
 * Runs the best case needs before it is trusted: the first run after a long idle (a Worker that
 * slept, a descheduled thread) is often far slower than the next, and alone it would make an idle
 * model refuse every request for the whole window.
 */
const BEST_CASE_RUNS = 3;
const DEFAULT_MAX_WAIT_MS = 2;

/** One model's queue, batcher and replicas (of type `R`: the runtime's carry more verbs than `run`). */
export class Server<R extends Replica = Replica> {
  readonly gauges: ServingGauges;
  readonly slo: SloTracker | null;
  private readonly queue = new RequestQueue();
  private readonly slots: ReplicaSlot<R>[];
  private readonly maxQueue: number;
  private readonly batch: { maxBatch: number; maxWaitMs: number } | null;
  private readonly now: () => number;
  private waitTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Replacements being started for dead replicas. */
  private replacing = 0;
  /** Why the last replica was lost with none to replace it: later requests fail with it at once. */
  private lost: Error | null = null;

  constructor(
    private readonly options: ServingOptions,
    replicas: R[],
    inputs: readonly ValueInfo[],
    private readonly hooks: ServerHooks<R>,
  ) {
    this.now = hooks.now ?? (() => performance.now());
    this.slots = replicas.map((replica) => ({ replica, busySince: null, serviceMs: null, dispatches: 0 }));
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    const b = options.batching;
    this.batch = b && b.maxBatch > 1 && batchable(inputs) ? { maxBatch: b.maxBatch, maxWaitMs: b.maxWaitMs ?? DEFAULT_MAX_WAIT_MS } : null;
    this.gauges = new ServingGauges(() => this.slots.length, 10, this.now);
    this.slo = options.slo ? new SloTracker(options.slo, this.now) : null;
  }

  /** The live replicas (their ids and backends). */
  get replicas(): readonly R[] {
    return this.slots.map((s) => s.replica);
  }

  /** Per live replica: id, backend, dispatches completed, smoothed service time (ms, null before the first). */
  replicaStats(): { id: string; backend: Replica['backend']; dispatches: number; serviceMs: number | null }[] {
    return this.slots.map((s) => ({ id: s.replica.id, backend: s.replica.backend, dispatches: s.dispatches, serviceMs: s.serviceMs }));
  }

  /** Whether requests of this model are merged into batches. */
  get batching(): boolean {
    return this.batch !== null;
  }

  /** Queues `feeds`, or rejects at once with `OverloadedError` / `DeadlineExceededError` / `AbortError`. */
  submit(feeds: TensorMap, options: SubmitOptions = {}): Promise<Served<R>> {
    if (this.closed) return Promise.reject(new DisposedError('This model is disposed; load it again with runtime.load().'));
    if (options.signal?.aborted) return Promise.reject(new AbortError());
    if (this.lost && this.slots.length === 0 && this.replacing === 0) return Promise.reject(this.lost);
    // The queue holds plain `Served` resolvers; what resolves them is always one of this server's replicas (`R`).
    return new Promise<Served>((resolve, reject) => {
      const p: Pending = {
        id: this.hooks.nextRequestId(),
        feeds,
        priority: options.priority ?? 'interactive',
        arrival: this.now(),
        deadline: options.deadlineAt ?? Infinity,
        key: this.batch ? batchKey(feeds) : null,
        rows: this.batch ? rowsOf(feeds) : 1,
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => undefined,
      };
      // With a replica free and nobody ahead the request starts now: it is refused only when even the
      // fastest recent run would end after its deadline. Judging it by the mean instead would let a
      // few slow runs (a busy machine, a Worker waking up) refuse an idle model's every request, with
      // no new run to correct the estimate.
      const startsNow = this.queue.ahead(p.priority) === 0 && this.slots.some((s) => s.busySince === null);
      const [waitMs, serviceMs] = startsNow ? [0, this.fastestServiceMs()] : [this.estimateWaitMs(p.priority), this.expectedServiceMs()];
      const verdict = admit(p, this.queue, this.maxQueue, this.options.overflow ?? 'reject-newest', waitMs, serviceMs);
      if (!verdict.admit) {
        // Never admitted: no gauges beyond the refusal, but it counts against the SLO.
        this.gauges.refused(verdict.reason);
        this.slo?.failed();
        return reject(verdict.error);
      }
      if (verdict.displaced) this.dropQueued(verdict.displaced.request, verdict.displaced.error, 'displaced');
      this.enqueue(p, options.signal);
      this.pump();
    }) as Promise<Served<R>>;
  }

  /** Milliseconds a new request of `priority` would wait (Little's law: requests ahead × recent service time per request ÷ replicas). */
  estimateWaitMs(priority: Priority): number {
    const perRequest = this.gauges.meanServicePerRequestMs(ESTIMATE_SECONDS);
    if (perRequest === null) return 0;
    const running = this.slots.filter((s) => s.busySince !== null).length;
    return ((this.queue.ahead(priority) + running) * perRequest) / Math.max(1, this.slots.length);
  }

  /** Milliseconds the dispatch a new request joins is expected to take (recent mean per dispatch; 0 when none is recent). */
  expectedServiceMs(): number {
    return this.gauges.meanServiceMs(ESTIMATE_SECONDS) ?? 0;
  }

  /**
   * The fastest service time per request over the gauges' window (0 with fewer than 3 runs in it): the best case
   * of a request that starts now. A lower bound stays true longer than a mean, so it spans the
   * whole window: one fast run among slow ones keeps an idle model admitting.
   */
  fastestServiceMs(): number {
    const seconds = this.gauges.windowSeconds;
    if (this.gauges.dispatches(seconds) < BEST_CASE_RUNS) return 0;
    return this.gauges.fastestServiceMs(seconds) ?? 0;
  }

  snapshot(): GaugeSnapshot {
    return this.gauges.snapshot();
  }

  health(): Health | null {
    return this.slo?.health() ?? null;
  }

  /** Rejects everything queued with `DisposedError` and disposes the replicas. */
  async dispose(): Promise<void> {
    this.closed = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.failQueued(new DisposedError('The model was disposed while this run was queued.'));
    await Promise.all(this.slots.map((s) => s.replica.dispose().catch(() => undefined)));
  }

  private enqueue(p: Pending, signal: AbortSignal | undefined): void {
    this.gauges.admitted();
    this.queue.push(p);
    const onAbort = () => this.dropQueued(p, new AbortError('The run was aborted by its AbortSignal before it started.'), 'aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    // A request must start early enough to be answered by its deadline: it is dropped once its
    // deadline minus the expected service time has passed (re-estimated when the timer fires).
    let timer: ReturnType<typeof setTimeout> | null = null;
    const startByIn = () => p.deadline - this.expectedServiceMs() - this.now();
    const watch = () => {
      const left = startByIn();
      if (left > 0) timer = setTimeout(watch, left);
      else this.expire(p);
    };
    if (Number.isFinite(p.deadline)) timer = setTimeout(watch, Math.max(0, startByIn()));
    p.cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== null) clearTimeout(timer);
    };
  }

  /** Drops `p` from the queue: it can no longer be answered by its deadline. */
  private expire(p: Pending, pump = true): void {
    const waitedMs = this.now() - p.arrival;
    const serviceMs = this.expectedServiceMs();
    this.dropQueued(
      p,
      new DeadlineExceededError(
        `After ${waitedMs.toFixed(0)} ms in the queue the run could no longer finish by its deadline (one run takes about ${serviceMs.toFixed(1)} ms); it never started.`,
        { waitedMs, serviceMs },
      ),
      'deadline-queued',
      pump,
    );
  }

  /** Takes a request out of the queue without running it; a no-op when it already left. */
  private dropQueued(p: Pending, err: WebQ8Error, reason: 'aborted' | 'deadline-queued' | 'displaced', pump = true): void {
    if (!this.queue.remove(p)) return;
    this.gauges.dequeued();
    this.gauges.refused(reason);
    this.finish(p, err);
    if (pump) this.pump();
  }

  private failQueued(err: Error): void {
    for (let p = this.queue.peek(); p; p = this.queue.peek()) {
      this.queue.remove(p);
      this.gauges.dequeued();
      this.finish(p, err);
    }
  }

  /** Settles a request that was admitted (queued or dispatched). */
  private finish(p: Pending, result: Error | Served): void {
    p.cleanup();
    const elapsed = this.now() - p.arrival;
    this.gauges.left(elapsed);
    if (result instanceof Error) {
      if (result.name !== 'AbortError') this.slo?.failed();
      p.reject(result);
    } else {
      this.slo?.ok(elapsed);
      p.resolve(result);
    }
  }

  /** Starts every dispatch that can start now. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      const slot = pickSlot(this.slots, this.now());
      if (!slot) return;
      const head = this.queue.peek()!;
      // A timer that fired late (a busy main thread) must not let a request start that cannot finish in
      // time even in the best case.
      if (Number.isFinite(head.deadline) && this.now() + this.fastestServiceMs() > head.deadline) {
        this.expire(head, false);
        continue;
      }
      const size = this.batch ? this.queue.compatibleWithHead(this.batch.maxBatch) : 1;
      if (this.batch && size < this.batch.maxBatch && this.worthWaiting()) {
        const waitLeft = head.arrival + this.batch.maxWaitMs - this.now();
        if (waitLeft > 0) {
          this.waitTimer ??= setTimeout(() => ((this.waitTimer = null), this.pump()), waitLeft);
          return;
        }
      }
      const requests = this.queue.take(this.batch?.maxBatch ?? 1, this.batchFits());
      for (const _ of requests) this.gauges.dequeued();
      void this.dispatch(slot, requests);
    }
  }

  /** Expected milliseconds of a dispatch of `n` requests: n × the recent service time per request (0 before the first). */
  private dispatchEstimateMs(n: number): number {
    return n * (this.gauges.meanServicePerRequestMs(ESTIMATE_SECONDS) ?? 0);
  }

  /**
   * Whether a batch can grow to `size` with request `p`: its expected service time must still end
   * before the earliest deadline among its requests (a batch is answered all at once).
   */
  private batchFits(): (p: Pending, size: number) => boolean {
    const now = this.now();
    let due = this.queue.peek()?.deadline ?? Infinity;
    return (p, size) => {
      const d = Math.min(due, p.deadline);
      if (now + this.dispatchEstimateMs(size) > d) return false;
      due = d;
      return true;
    };
  }

  /** Waiting for a fuller batch pays only when more requests are expected within one service time. */
  private worthWaiting(): boolean {
    const service = this.gauges.meanServiceMs(ESTIMATE_SECONDS);
    return service !== null && this.gauges.arrivalsPerMs() * service > 1;
  }

  private async dispatch(slot: ReplicaSlot<R>, requests: Pending[]): Promise<void> {
    slot.busySince = this.now();
    const t0 = slot.busySince;
    // Feeds are transferred to the Worker. With another replica to fall back on, a lone request sends
    // a copy so it can run again if this replica's Worker dies (a batch is a fresh array anyway).
    const alone = requests[0]!.feeds;
    const feeds = requests.length > 1 ? concatFeeds(requests.map((r) => r.feeds)) : this.slots.length > 1 ? copyFeeds(alone) : alone;
    const id = requests.length === 1 ? requests[0]!.id : this.hooks.nextRequestId();
    try {
      const reply = await slot.replica.run(id, feeds);
      const ms = this.now() - t0;
      observeService(slot, ms);
      this.gauges.served(requests.length, ms);
      this.deliver(slot, requests, reply);
    } catch (err) {
      this.onDispatchError(slot, requests, err);
    } finally {
      slot.busySince = null;
      this.pump();
    }
  }

  private deliver(slot: ReplicaSlot<R>, requests: Pending[], reply: RunReply): void {
    const [replica, by] = [slot.replica.id, slot.replica];
    if (requests.length === 1) return this.finish(requests[0]!, { outputs: reply.outputs, reply, replica, by, batchSize: 1 });
    const parts = splitOutputs(reply.outputs, requests.map((r) => r.rows)); // prettier-ignore
    if (!parts) {
      // The outputs do not lead with the batch: this model does not batch on axis 0. Run each alone.
      for (const r of requests) this.retryAlone(r);
      return;
    }
    requests.forEach((r, i) => this.finish(r, { outputs: parts[i]!, reply, replica, by, batchSize: requests.length }));
  }

  private onDispatchError(slot: ReplicaSlot<R>, requests: Pending[], err: unknown): void {
    if (this.hooks.isReplicaLost?.(err)) {
      // Inference is pure: requests of a dead replica run again elsewhere, in their old order —
      // those whose inputs went to the dead Worker (transferred, not copied) fail with its error.
      for (const r of [...requests].reverse()) {
        if (detached(r.feeds)) this.finish(r, asError(err));
        else this.requeue(r);
      }
      this.retire(slot, asError(err));
      return;
    }
    if (requests.length > 1) for (const r of requests) this.retryAlone(r);
    else this.finish(requests[0]!, asError(err));
  }

  private retryAlone(r: Pending): void {
    r.key = null;
    this.requeue(r);
  }

  private requeue(r: Pending): void {
    this.queue.push(r, true);
    this.gauges.requeued();
  }

  private retire(slot: ReplicaSlot<R>, why: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.replica.dispose().catch(() => undefined);
    const none = () => {
      // With no replica left and none coming, the queue cannot be served: fail it with the cause.
      if (this.slots.length > 0 || this.replacing > 0) return;
      this.lost = why;
      this.failQueued(why);
    };
    if (!this.hooks.replace) return none();
    this.replacing++;
    this.hooks.replace(slot.replica).then(
      (fresh) => {
        this.replacing--;
        if (!fresh || this.closed) return void (fresh?.dispose(), none());
        this.slots.push({ replica: fresh, busySince: null, serviceMs: null, dispatches: 0 });
        this.pump();
      },
      () => (this.replacing--, none()),
    );
  }
}

function detached(feeds: TensorMap): boolean {
  return Object.values(feeds).some((t) => (t.data.buffer as { detached?: boolean }).detached === true);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
