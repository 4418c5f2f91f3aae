// Serving controls with real Workers and a real model (PP-OCR cls on WASM, whose input has a
// symbolic batch dimension): bounded queue, deadline drops, priorities, micro-batching equal to
// unbatched answers, and two replicas both serving. Counters, never timings, decide.
import { MODELS, expect, test } from './fixtures';

type Api = typeof import('../../src/index');

test('a bounded queue refuses the overflow with OverloadedError; every request settles once, and exactly the answered ones ran', async ({
  webq8Page: page,
}) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm', serving: { maxQueue: 2 } });
    const input = (k: number) => ({
      x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.01 + k)) },
    });
    const settled = await Promise.allSettled(Array.from({ length: 12 }, (_, k) => model.run(input(k))));
    const codes = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as { code: string }).code));
    const details = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as { details: Record<string, unknown> }).details] : []));
    const stats = model.stats().serving;
    const dispatched = Object.entries(stats.batchSizes).reduce((n, [size, c]) => n + Number(size) * c, 0);
    // The runtime keeps serving afterwards.
    const after = await model.run(input(99));
    await rt.dispose();
    return {
      codes,
      details,
      shed: stats.shed.overloaded,
      dispatched,
      inSystem: stats.inSystem,
      afterDims: after.softmax_0?.dims ?? Object.values(after)[0]!.dims,
    };
  }, MODELS.cls);
  const ok = r.codes.filter((c) => c === 'ok').length;
  const overloaded = r.codes.filter((c) => c === 'OVERLOADED').length;
  expect(ok + overloaded).toBe(12);
  expect(overloaded).toBeGreaterThan(0);
  expect(r.shed).toBe(overloaded);
  expect(r.dispatched).toBe(ok);
  expect(r.inSystem).toBe(0);
  expect(r.details.every((d) => d.reason === 'queue-full' && typeof d.queueLength === 'number')).toBe(true);
  expect(r.afterDims).toEqual([1, 2]);
});

test('a queued request whose deadline passes never runs; the drop is counted', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm' });
    const input = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.5) } });
    await model.run(input());
    // Eight requests ahead; the last one may wait at most 1 ms, less than any one run takes.
    const ahead = Array.from({ length: 8 }, () => model.run(input()));
    const late = model.run(input(), { deadlineMs: 1 }).then(
      () => 'ran',
      (e: { code: string }) => e.code,
    );
    await Promise.all(ahead);
    const stats = model.stats().serving;
    const dispatched = Object.entries(stats.batchSizes).reduce((n, [size, c]) => n + Number(size) * c, 0);
    await rt.dispose();
    return { late: await late, dispatched, shed: stats.shed };
  }, MODELS.cls);
  expect(r.late).toBe('DEADLINE_EXCEEDED');
  expect(r.dispatched).toBe(9);
  expect(r.shed['deadline-queued'] + r.shed['deadline-estimate']).toBe(1);
});

test('a request that cannot be answered by its deadline is refused at once, not run and answered late', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm' });
    const input = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.5) } });
    for (let i = 0; i < 3; i++) await model.run(input()); // the best case needs 3 measured runs
    // Nothing is queued or running, but no run through a Worker ends within a microsecond.
    const tooSoon = await model.run(input(), { deadlineMs: 0.001 }).then(
      () => ({ code: 'ran', details: {} as Record<string, number> }),
      (e: { code: string; details: Record<string, number> }) => ({ code: e.code, details: e.details }),
    );
    const stats = model.stats().serving;
    const dispatched = Object.entries(stats.batchSizes).reduce((n, [size, c]) => n + Number(size) * c, 0);
    await rt.dispose();
    return { tooSoon, dispatched, shed: stats.shed };
  }, MODELS.cls);
  expect(r.tooSoon.code).toBe('DEADLINE_EXCEEDED');
  expect(r.tooSoon.details.estimatedWaitMs).toBe(0);
  expect(r.tooSoon.details.serviceMs).toBeGreaterThan(0.001);
  expect(r.dispatched).toBe(3);
  expect(r.shed['deadline-estimate']).toBe(1);
});

test('interactive requests are served before background ones queued earlier', async ({ webq8Page: page }) => {
  const order = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm' });
    const input = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.25) } });
    const done: string[] = [];
    const first = model.run(input());
    const bg = [0, 1, 2].map((i) => model.run(input(), { priority: 'background' }).then(() => done.push(`bg${i}`)));
    const fg = [0, 1, 2].map((i) => model.run(input(), { priority: 'interactive' }).then(() => done.push(`fg${i}`)));
    await Promise.all([first, ...bg, ...fg]);
    await rt.dispose();
    return done;
  }, MODELS.cls);
  expect(order).toEqual(['fg0', 'fg1', 'fg2', 'bg0', 'bg1', 'bg2']);
});

test('micro-batched answers equal unbatched ones, request by request', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const plain = await rt.load(url, { backend: 'wasm' });
    const batched = await rt.load(url, { backend: 'wasm', serving: { batching: { maxBatch: 4, maxWaitMs: 5 } } });
    const data = (k: number) => Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.013 * (k + 1)) * 0.9);
    const input = (k: number) => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: data(k) } });
    const alone: Float32Array[] = [];
    for (let k = 0; k < 8; k++) alone.push(Object.values(await plain.run(input(k)))[0]!.data as Float32Array);
    // One request in flight, eight queued behind it: they leave the queue in batches.
    const together = await Promise.all([batched.run(input(0)), ...Array.from({ length: 8 }, (_, k) => batched.run(input(k)))]);
    let maxDiff = 0;
    together.slice(1).forEach((out, k) => {
      const y = Object.values(out)[0]!;
      alone[k]!.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (y.data as Float32Array)[i]!))));
    });
    const stats = batched.stats().serving;
    await rt.dispose();
    return { maxDiff, batching: stats.batching, batchSizes: stats.batchSizes, dims: Object.values(together[3]!)[0]!.dims };
  }, MODELS.cls);
  expect(r.batching).toBe(true);
  expect(Object.keys(r.batchSizes).some((size) => Number(size) > 1)).toBe(true);
  expect(r.dims).toEqual([1, 2]);
  // WASM runs the same kernels on every row; batching only changes the loop bounds.
  expect(r.maxDiff).toBeLessThanOrEqual(1e-6);
});

test('two replicas in two Workers both serve, with equal answers', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm', serving: { replicas: 2 } });
    const input = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.1) } });
    const outs = await Promise.all(Array.from({ length: 16 }, () => model.run(input())));
    const first = Object.values(outs[0]!)[0]!.data as Float32Array;
    const same = outs.every((o) => (Object.values(o)[0]!.data as Float32Array).every((v, i) => v === first[i]));
    const stats = model.stats().serving;
    await rt.dispose();
    return { same, replicas: stats.replicas };
  }, MODELS.cls);
  expect(r.same).toBe(true);
  expect(r.replicas).toHaveLength(2);
  expect(r.replicas.every((x) => x.dispatches > 0)).toBe(true);
  expect(r.replicas.reduce((n, x) => n + x.dispatches, 0)).toBe(16);
});

test('a replica whose Worker dies is taken out: its requests complete on the other, and a replacement Worker joins', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async (url) => {
    const { createRuntime } = (await import('/dist/index.js')) as Api;
    const rt = createRuntime();
    const model = await rt.load(url, { backend: 'wasm', serving: { replicas: 2 } });
    const input = () => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192).fill(0.3) } });
    const before = model.stats().serving.replicas.map((x) => x.id);
    const inflight = Array.from({ length: 12 }, () => model.run(input()));
    // Kill the second replica's Worker from outside while requests are queued and running.
    await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!('terminate-replica');
    const settled = await Promise.allSettled(inflight);
    // The replacement comes up in the background; later runs are served (by both once it is in).
    let after = model.stats().serving.replicas;
    for (let i = 0; i < 200 && after.length < 2; i++) {
      await model.run(input());
      after = model.stats().serving.replicas;
    }
    const more = await Promise.all(Array.from({ length: 8 }, () => model.run(input())));
    const stats = model.stats().serving;
    await rt.dispose();
    return {
      before,
      failed: settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason)),
      after: stats.replicas.map((x) => x.id),
      more: more.length,
    };
  }, MODELS.cls);
  expect(r.before).toEqual(['0', '1']);
  expect(r.failed).toEqual([]);
  expect(r.after).toHaveLength(2);
  expect(r.after).not.toContain('1');
  expect(r.more).toBe(8);
});
