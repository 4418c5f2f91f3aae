import { describe, expect, it } from 'vitest';
import { BATCH_HEADER, createExporter } from '../../../src/telemetry/exporter.js';
import { memoryOutboxStore } from '../../../src/telemetry/outbox.js';
import { outcomeOf, parseRetryAfter, retryDelay } from '../../../src/telemetry/retry.js';
import type { OutboxStore } from '../../../src/telemetry/types.js';
import { fakeClock, fakeFetch, settle, type Reply } from './helpers.js';

const URL = 'http://127.0.0.1:4318/v1/metrics';

function setup(
  script: Reply[] = [],
  fallback: Reply = 200,
  extra: { maxOutboxEntries?: number; keepaliveBudget?: number } = {},
  store: OutboxStore = memoryOutboxStore(),
) {
  const clock = fakeClock();
  const net = fakeFetch(script, fallback);
  const exporter = createExporter({ url: URL, headers: { authorization: 'k' }, fetch: net.fetch, clock, random: () => 1, ...extra }, store);
  return { clock, net, exporter, store };
}

describe('retry policy', () => {
  it('retries only 429/502/503/504 and network errors', () => {
    expect([200, 204].map(outcomeOf)).toEqual(['sent', 'sent']);
    expect([429, 502, 503, 504, 0].map(outcomeOf)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([400, 401, 403, 404, 413, 415, 500, 501].map(outcomeOf).every((o) => o === 'drop')).toBe(true);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    const top = () => 1;
    expect([1, 2, 3, 4].map((a) => retryDelay(a, undefined, top))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(30, undefined, top)).toBe(300_000);
    expect(retryDelay(1, undefined, () => 0)).toBe(500);
    expect(retryDelay(1, 9000, top)).toBe(9000);
    expect(retryDelay(1, 9e9, top)).toBe(300_000);
  });
});

describe('exporter', () => {
  it('posts JSON with the batch id header and empties the outbox on 2xx', async () => {
    const { net, exporter, store } = setup();
    await exporter.send(['{"a":1}', '{"b":2}']);
    expect(net.calls.map((c) => c.body)).toEqual(['{"a":1}', '{"b":2}']);
    const call = net.calls[0]!;
    expect(call.url).toBe(URL);
    expect(call.keepalive).toBe(false);
    expect(call.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'k' });
    expect(call.headers[BATCH_HEADER]).toMatch(/^[0-9a-z-]+$/);
    expect(net.calls[1]!.headers[BATCH_HEADER]).not.toBe(call.headers[BATCH_HEADER]);
    expect(await store.list()).toEqual([]);
    expect(exporter.stats()).toEqual({ sent: 2, retries: 0, pending: 0, dropped: {} });
  });

  it('honours Retry-After on 503, holds later batches, then delivers in order', async () => {
    const { clock, net, exporter, store } = setup([{ status: 503, retryAfter: '7' }]);
    await exporter.send(['first', 'second']);
    expect(net.calls.map((c) => c.body)).toEqual(['first']);
    expect(await store.list()).toMatchObject([{ body: 'first', attempts: 1, notBefore: clock.now() + 7000 }, { body: 'second' }]);
    expect(clock.pending()).toEqual([7000]);
    await exporter.drain(); // not due yet
    expect(net.calls).toHaveLength(1);
    await clock.advance(6999);
    expect(net.calls).toHaveLength(1);
    await clock.advance(1);
    expect(net.calls.map((c) => c.body)).toEqual(['first', 'first', 'second']);
    expect(net.calls[1]!.headers[BATCH_HEADER]).toBe(net.calls[0]!.headers[BATCH_HEADER]);
    expect(exporter.stats()).toMatchObject({ sent: 2, retries: 1, pending: 0 });
  });

  it('backs off exponentially on 429/502/504 without Retry-After', async () => {
    const { clock, net, exporter } = setup([429, 502, 504]);
    await exporter.send(['x']);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      delays.push(clock.pending()[0]!);
      await clock.advance(clock.pending()[0]!);
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(net.calls).toHaveLength(4);
    expect(exporter.stats()).toMatchObject({ sent: 1, retries: 3, pending: 0 });
  });

  it('drops on other 4xx/5xx with a counted reason and goes on with the next batch', async () => {
    const { net, exporter, store } = setup([400, 413, 500]);
    await exporter.send(['a', 'b', 'c', 'd']);
    expect(net.calls).toHaveLength(4);
    expect(await store.list()).toEqual([]);
    expect(exporter.stats()).toEqual({ sent: 1, retries: 0, pending: 0, dropped: { 'http-400': 1, 'http-413': 1, 'http-500': 1 } });
  });

  it('keeps batches through network errors and delivers them later', async () => {
    const { clock, net, exporter, store } = setup(['network-error', 'network-error']);
    await exporter.send(['x']);
    expect(await store.list()).toHaveLength(1);
    await clock.advance(1000);
    expect(await store.list()).toHaveLength(1);
    await clock.advance(2000);
    expect(await store.list()).toEqual([]);
    expect(net.calls).toHaveLength(3);
  });

  it('caps the outbox, dropping the oldest and counting them', async () => {
    const { exporter, store } = setup([], 503, { maxOutboxEntries: 3 });
    await exporter.send(['1', '2']);
    await exporter.send(['3', '4', '5']);
    expect((await store.list()).map((e) => e.body)).toEqual(['3', '4', '5']);
    expect(exporter.stats()).toMatchObject({ pending: 3, dropped: { 'outbox-full': 2 } });
  });

  it('persists unsent batches and a later exporter on the same store delivers them, same ids', async () => {
    const store = memoryOutboxStore();
    const first = setup([], 'network-error', {}, store);
    await first.exporter.send(['page-1-a', 'page-1-b']);
    first.exporter.dispose();
    const ids = (await store.list()).map((e) => e.id);
    const second = setup([], 200, {}, store);
    await second.clock.advance(60_000); // the next visit, a minute later
    await second.exporter.drain();
    expect(second.net.calls.map((c) => c.body)).toEqual(['page-1-a', 'page-1-b']);
    expect(second.net.calls.map((c) => c.headers[BATCH_HEADER])).toEqual(ids);
    expect(await store.list()).toEqual([]);
  });

  it('on unload sends with keepalive within the budget and leaves the rest for the next page', async () => {
    const { net, exporter, store } = setup([], 200, { keepaliveBudget: 250 });
    const big = 'x'.repeat(100);
    await exporter.send([big + 1, big + 2, big + 3], true);
    expect(net.calls).toHaveLength(2);
    expect(net.calls.every((c) => c.keepalive)).toBe(true);
    expect((await store.list()).map((e) => e.body)).toEqual([big + 3]);
  });

  it('never rejects when the store or fetch fail', async () => {
    const broken: OutboxStore = {
      put: () => Promise.reject(new Error('quota')),
      delete: () => Promise.reject(new Error('x')),
      list: () => Promise.reject(new Error('x')),
    };
    const { exporter } = setup([], 200, {}, broken);
    await expect(exporter.send(['a'])).resolves.toBeUndefined();
    await expect(exporter.send(['a'], true)).resolves.toBeUndefined();
    await expect(exporter.drain()).resolves.toBeUndefined();
    const noFetch = createExporter({ url: URL, fetch: undefined, clock: fakeClock() }, memoryOutboxStore());
    const saved = globalThis.fetch;
    // @ts-expect-error simulate a runtime without fetch
    globalThis.fetch = undefined;
    try {
      await expect(noFetch.send(['a'])).resolves.toBeUndefined();
      expect(noFetch.stats().pending).toBe(1);
    } finally {
      globalThis.fetch = saved;
      noFetch.dispose();
    }
    await settle();
  });
});
