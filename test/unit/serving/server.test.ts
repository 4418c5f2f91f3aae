import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Replica } from '../../../src/serving/replica';
import { fakeReplica as fakeReplicaOf } from '../fake-replica';
import { Server, type ServerHooks } from '../../../src/serving/server';
import type { ServingOptions, TensorMap, ValueInfo } from '../../../src/types';

// Replicas whose runs finish when the test says so (or after `serviceMs` of fake time): the
// server's decisions are then checked without real timing.
const fakeReplica = (id: string, auto?: { serviceMs: number; double?: boolean }) =>
  fakeReplicaOf({ id, ...(auto ? { serviceMs: auto.serviceMs } : {}), ...(auto?.double === false ? { compute: (x) => x } : {}) });

const INPUTS: ValueInfo[] = [{ name: 'x', type: 'float32', dims: ['batch', 2] }];
const feed = (...rows: number[][]): TensorMap => ({ x: { type: 'float32', dims: [rows.length, 2], data: Float32Array.from(rows.flat()) } });
let ids = 0;
const hooks = (extra: Partial<ServerHooks> = {}): ServerHooks => ({ nextRequestId: () => `r${++ids}`, ...extra });
const server = (options: ServingOptions, replicas: Replica[], extra?: Partial<ServerHooks>) => new Server(options, replicas, INPUTS, hooks(extra));
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('Server: admission and queue bound', () => {
  it('rejects beyond maxQueue with OverloadedError (details: queue length, estimated wait); nothing runs twice or is lost', async () => {
    const r = fakeReplica('0');
    const s = server({ maxQueue: 2 }, [r]);
    const running = s.submit(feed([1, 1]));
    const queued = [s.submit(feed([2, 2])), s.submit(feed([3, 3]))];
    const refused = s.submit(feed([4, 4]));
    await expect(refused).rejects.toMatchObject({ name: 'OverloadedError', code: 'OVERLOADED', details: { queueLength: 2, reason: 'queue-full' } });
    for (let i = 0; i < 3; i++) {
      await flush();
      r.finishNext();
    }
    const outs = await Promise.all([running, ...queued]);
    expect(outs.map((o) => Array.from(o.outputs.y!.data as Float32Array))).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
    ]);
    expect(r.calls).toHaveLength(3);
    expect(s.snapshot().shed.overloaded).toBe(1);
    expect(s.snapshot().inSystem).toBe(0);
  });

  it("'drop-oldest' fails the oldest waiting request instead of the newcomer", async () => {
    const r = fakeReplica('0');
    const s = server({ maxQueue: 1, overflow: 'drop-oldest' }, [r]);
    const running = s.submit(feed([1, 1]));
    const oldest = s.submit(feed([2, 2]));
    const newest = s.submit(feed([3, 3]));
    await expect(oldest).rejects.toMatchObject({ code: 'OVERLOADED', details: { reason: 'displaced' } });
    r.finishNext();
    await flush();
    r.finishNext();
    expect(Array.from((await newest).outputs.y!.data as Float32Array)).toEqual([6, 6]);
    await running;
    expect(s.snapshot().shed.displaced).toBe(1);
  });

  it('an interactive newcomer displaces the newest background request when the queue is full', async () => {
    const r = fakeReplica('0');
    const s = server({ maxQueue: 2 }, [r]);
    const running = s.submit(feed([0, 0]));
    const bgOld = s.submit(feed([1, 1]), { priority: 'background' });
    const bgNew = s.submit(feed([2, 2]), { priority: 'background' });
    const urgent = s.submit(feed([3, 3]), { priority: 'interactive' });
    await expect(bgNew).rejects.toMatchObject({ code: 'OVERLOADED' });
    const order: string[] = [];
    void urgent.then(() => order.push('interactive'));
    void bgOld.then(() => order.push('background'));
    for (let i = 0; i < 3; i++) {
      await flush();
      r.finishNext();
    }
    await Promise.all([running, bgOld, urgent]);
    expect(order).toEqual(['interactive', 'background']);
  });
});

describe('Server: priorities', () => {
  it('serves interactive requests before background ones queued earlier', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r]);
    const first = s.submit(feed([0, 0]));
    const done: number[] = [];
    const bg = [1, 2].map((v) => s.submit(feed([v, v]), { priority: 'background' }).then(() => done.push(v)));
    const fg = [3, 4].map((v) => s.submit(feed([v, v])).then(() => done.push(v)));
    for (let i = 0; i < 5; i++) {
      await flush();
      r.finishNext();
    }
    await Promise.all([first, ...bg, ...fg]);
    expect(done).toEqual([3, 4, 1, 2]);
  });
});

describe('Server: deadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('drops a queued request whose deadline passes before it starts: it never runs, and the drop is counted', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r], { now: () => Date.now() });
    const running = s.submit(feed([1, 1]));
    const late = s.submit(feed([2, 2]), { deadlineAt: Date.now() + 50 });
    const lateResult = expect(late).rejects.toMatchObject({ name: 'DeadlineExceededError', code: 'DEADLINE_EXCEEDED' });
    await vi.advanceTimersByTimeAsync(60);
    await lateResult;
    r.finishNext();
    await running;
    await vi.advanceTimersByTimeAsync(10);
    expect(r.calls).toHaveLength(1);
    expect(s.snapshot().shed['deadline-queued']).toBe(1);
  });

  it('rejects at once when the estimated wait (queue × measured service time) exceeds the deadline', async () => {
    const r = fakeReplica('0', { serviceMs: 100 });
    const s = server({}, [r], { now: () => Date.now() });
    const warm = s.submit(feed([1, 1]));
    await vi.advanceTimersByTimeAsync(100);
    await warm;
    const queued = [s.submit(feed([1, 1])), s.submit(feed([1, 1])), s.submit(feed([1, 1]))];
    expect(s.estimateWaitMs('interactive')).toBeCloseTo(300, 0);
    await expect(s.submit(feed([2, 2]), { deadlineAt: Date.now() + 150 })).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      details: { estimatedWaitMs: 300 },
    });
    expect(r.calls).toHaveLength(2);
    expect(s.snapshot().shed['deadline-estimate']).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    await Promise.all(queued);
  });

  it('counts the run itself against the deadline: wait + service beyond it is refused even when the wait alone fits', async () => {
    const r = fakeReplica('0', { serviceMs: 100 });
    const s = server({}, [r], { now: () => Date.now() });
    const warm = s.submit(feed([1, 1]));
    await vi.advanceTimersByTimeAsync(100);
    await warm;
    const running = s.submit(feed([1, 1]));
    // Waits ~100 ms behind the running one, then runs ~100 ms: its answer would come at ~200 ms.
    await expect(s.submit(feed([2, 2]), { deadlineAt: Date.now() + 150 })).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      details: { estimatedWaitMs: 100, serviceMs: 100, deadlineMs: 150 },
    });
    const fits = s.submit(feed([3, 3]), { deadlineAt: Date.now() + 250 });
    await vi.advanceTimersByTimeAsync(200);
    await running;
    expect(Array.from((await fits).outputs.y!.data as Float32Array)).toEqual([6, 6]);
    expect(r.calls).toHaveLength(3);
  });

  it('drops a queued request once its deadline minus the service time has passed, before the deadline itself', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r], { now: () => Date.now() });
    const warm = s.submit(feed([1, 1]));
    await vi.advanceTimersByTimeAsync(100);
    r.finishNext();
    await warm; // one measured run: 100 ms
    const stuck = s.submit(feed([1, 1])); // runs longer than expected
    const queued = s.submit(feed([2, 2]), { deadlineAt: Date.now() + 250 }); // admitted: 100 wait + 100 run ≤ 250
    let settled = '';
    void queued.then(
      () => (settled = 'ran'),
      (e: { code: string }) => (settled = e.code),
    );
    await vi.advanceTimersByTimeAsync(140);
    expect(settled).toBe('');
    await vi.advanceTimersByTimeAsync(20); // 160 ms: 90 ms before the deadline, but it can no longer finish by it
    expect(settled).toBe('DEADLINE_EXCEEDED');
    r.finishNext();
    await stuck;
    expect(r.calls).toHaveLength(2);
    expect(s.snapshot().shed['deadline-queued']).toBe(1);
  });

  it('a slow stretch stops refusing requests once it leaves the estimates (refusals bring no new measurements)', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r], { now: () => Date.now() });
    for (let i = 0; i < 3; i++) {
      const slow = s.submit(feed([1, 1]));
      await vi.advanceTimersByTimeAsync(100);
      r.finishNext();
      await slow; // runs of 100 ms: a 50-ms deadline cannot be met
    }
    await expect(s.submit(feed([2, 2]), { deadlineAt: Date.now() + 50 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.expectedServiceMs()).toBe(0); // the mean forgets after 2 s
    await expect(s.submit(feed([2, 2]), { deadlineAt: Date.now() + 50 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { serviceMs: 100 } });
    await vi.advanceTimersByTimeAsync(8000);
    expect(s.fastestServiceMs()).toBe(0); // the best case after the 10-s window
    // The machine is fast again: the request is admitted and its answer shows it.
    const later = s.submit(feed([3, 3]), { deadlineAt: Date.now() + 50 });
    await vi.advanceTimersByTimeAsync(10);
    r.finishNext();
    expect(Array.from((await later).outputs.y!.data as Float32Array)).toEqual([6, 6]);
    expect(s.expectedServiceMs()).toBe(10);
    expect(r.calls).toHaveLength(4);
  });

  it('one slow run after a long idle (a Worker waking up) does not make an idle model refuse: the best case needs 3 runs', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r], { now: () => Date.now() });
    const cold = s.submit(feed([1, 1]));
    await vi.advanceTimersByTimeAsync(100);
    r.finishNext();
    await cold;
    expect(s.fastestServiceMs()).toBe(0);
    const next = s.submit(feed([2, 2]), { deadlineAt: Date.now() + 50 });
    await vi.advanceTimersByTimeAsync(5);
    r.finishNext();
    expect(Array.from((await next).outputs.y!.data as Float32Array)).toEqual([4, 4]);
    expect(r.calls).toHaveLength(2);
  });

  it('a request that starts now is judged by the fastest recent run: one slow run does not refuse it, a deadline below every run does', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r], { now: () => Date.now() });
    for (const ms of [10, 10, 100]) {
      const p = s.submit(feed([1, 1]));
      await vi.advanceTimersByTimeAsync(ms);
      r.finishNext();
      await p;
    }
    expect(s.expectedServiceMs()).toBe(40);
    const fits = s.submit(feed([2, 2]), { deadlineAt: Date.now() + 30 });
    await vi.advanceTimersByTimeAsync(10);
    r.finishNext();
    expect(Array.from((await fits).outputs.y!.data as Float32Array)).toEqual([4, 4]);
    await expect(s.submit(feed([3, 3]), { deadlineAt: Date.now() + 5 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { serviceMs: 10 } });
    expect(r.calls).toHaveLength(4);
  });

  it('a batch grows only as far as it can still be answered by the earliest deadline among its requests', async () => {
    const r = fakeReplica('0');
    const s = server({ batching: { maxBatch: 8, maxWaitMs: 0 } }, [r], { now: () => Date.now() });
    const warm = s.submit(feed([1, 1]));
    await vi.advanceTimersByTimeAsync(10);
    r.finishNext();
    await warm; // 10 ms per request
    const running = s.submit(feed([0, 0]));
    const urgent = s.submit(feed([1, 1]), { deadlineAt: Date.now() + 45 }); // 10 wait + 10 run ≤ 45
    const rest = [2, 3, 4, 5].map((v) => s.submit(feed([v, v])));
    await vi.advanceTimersByTimeAsync(10);
    r.finishNext();
    await running;
    await vi.advanceTimersByTimeAsync(0);
    // At 10 ms, three requests (30 ms) still end before the urgent one's deadline (45 ms); five (50 ms) would not.
    expect(r.calls.map((c) => c.feeds.x!.dims[0])).toEqual([1, 1, 3]);
    r.finishNext();
    await vi.advanceTimersByTimeAsync(0);
    r.finishNext();
    await Promise.all([urgent, ...rest]);
    expect(r.calls.map((c) => c.feeds.x!.dims[0])).toEqual([1, 1, 3, 2]);
  });
});

describe('Server: abort', () => {
  it('an aborted queued request never runs', async () => {
    const r = fakeReplica('0');
    const s = server({}, [r]);
    const running = s.submit(feed([1, 1]));
    const ac = new AbortController();
    const aborted = s.submit(feed([2, 2]), { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    r.finishNext();
    await running;
    await flush();
    expect(r.calls).toHaveLength(1);
  });
});

describe('Server: micro-batching', () => {
  it('merges queued requests with the same non-batch dims into one dispatch and splits the outputs back', async () => {
    const r = fakeReplica('0');
    const s = server({ batching: { maxBatch: 4, maxWaitMs: 0 } }, [r]);
    const first = s.submit(feed([1, 1]));
    const rest = [s.submit(feed([2, 2])), s.submit(feed([3, 3], [4, 4])), s.submit(feed([5, 5]))];
    r.finishNext();
    await first;
    await flush();
    expect(r.calls[1]!.feeds.x!.dims).toEqual([4, 2]);
    r.finishNext();
    const outs = await Promise.all(rest);
    expect(outs.map((o) => [o.outputs.y!.dims, Array.from(o.outputs.y!.data as Float32Array), o.batchSize])).toEqual([
      [[1, 2], [4, 4], 3],
      [[2, 2], [6, 6, 8, 8], 3],
      [[1, 2], [10, 10], 3],
    ]);
    expect(s.snapshot().batchSizes).toEqual({ '1': 1, '3': 1 });
  });

  it('never merges requests whose other dimensions differ', async () => {
    const r = fakeReplica('0');
    const s = server({ batching: { maxBatch: 4, maxWaitMs: 0 } }, [r]);
    const first = s.submit(feed([1, 1]));
    const wide = s.submit({ x: { type: 'float32', dims: [1, 3], data: Float32Array.from([1, 2, 3]) } });
    const narrow = s.submit(feed([2, 2]));
    for (let i = 0; i < 3; i++) {
      await flush();
      if (r.pending) r.finishNext();
    }
    await Promise.all([first, wide, narrow]);
    expect(r.calls.map((c) => c.feeds.x!.dims)).toEqual([
      [1, 2],
      [1, 3],
      [1, 2],
    ]);
  });

  it('runs each request alone when the outputs do not lead with the batch size', async () => {
    const r = fakeReplica('0');
    const s = server({ batching: { maxBatch: 4, maxWaitMs: 0 } }, [r]);
    const first = s.submit(feed([1, 1]));
    const a = s.submit(feed([2, 2]));
    const b = s.submit(feed([3, 3]));
    r.finishNext();
    await first;
    await flush();
    r.finishNext({ y: { type: 'float32', dims: [1], data: Float32Array.from([0]) } }); // a summary, not per row
    for (let i = 0; i < 2; i++) {
      await flush();
      r.finishNext();
    }
    expect(Array.from((await a).outputs.y!.data as Float32Array)).toEqual([4, 4]);
    expect(Array.from((await b).outputs.y!.data as Float32Array)).toEqual([6, 6]);
    expect(r.calls.map((c) => c.feeds.x!.dims[0])).toEqual([1, 2, 1, 1]);
  });

  it('is off for models without a symbolic leading dimension', () => {
    const s = new Server({ batching: { maxBatch: 4 } }, [fakeReplica('0')], [{ name: 'x', type: 'float32', dims: [1, 2] }], hooks());
    expect(s.batching).toBe(false);
  });
});

describe('Server: replicas', () => {
  it('uses every replica, and requests of a replica whose Worker died complete on another; a replacement joins', async () => {
    const a = fakeReplica('0');
    const b = fakeReplica('1');
    const c = fakeReplica('2');
    const lost = Object.assign(new Error('worker died'), { code: 'WORKER_FAILED' });
    const s = server({}, [a, b], { isReplicaLost: (e) => (e as { code?: string }).code === 'WORKER_FAILED', replace: async () => c });
    const p1 = s.submit(feed([1, 1]));
    const p2 = s.submit(feed([2, 2]));
    const p3 = s.submit(feed([3, 3]));
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
    a.failNext(lost);
    await flush();
    b.finishNext();
    await flush();
    // p1 went back to the queue head; b and the replacement c take p1 and p3.
    expect(s.replicas.map((r) => r.id).sort()).toEqual(['1', '2']);
    while (b.pending || c.pending) {
      if (b.pending) b.finishNext();
      if (c.pending) c.finishNext();
      await flush();
    }
    const outs = await Promise.all([p1, p2, p3]);
    expect(outs.map((o) => Array.from(o.outputs.y!.data as Float32Array))).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
    ]);
    expect(a.dispose).toHaveBeenCalled();
  });
});

describe('Server: gauges obey Little’s law', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('L ≈ λ·W within 10 % under a steady synthetic load', async () => {
    const r = fakeReplica('0', { serviceMs: 30 });
    const s = server({}, [r], { now: () => Date.now() });
    const all: Promise<unknown>[] = [];
    // Deterministic arrivals every 40 ms with jitter: ρ ≈ 0.75, so a queue forms now and then.
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 200; i++) {
      all.push(s.submit(feed([i, i])));
      await vi.advanceTimersByTimeAsync(20 + rand() * 40);
    }
    const g = s.snapshot();
    expect(g.arrivalRate).toBeGreaterThan(20);
    expect(Math.abs(g.meanInSystem - g.arrivalRate * (g.meanTimeInSystemMs / 1000)) / g.meanInSystem).toBeLessThan(0.1);
    expect(g.utilization).toBeGreaterThan(0.5);
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
  });
});
