import { describe, expect, it } from 'vitest';
import { createTelemetry, metricsUrl } from '../../../src/telemetry/index.js';
import { memoryOutboxStore } from '../../../src/telemetry/outbox.js';
import type { OtlpMetricsRequest } from '../../../src/telemetry/otlp-types.js';
import { fakeClock, fakeFetch } from './helpers.js';

const ATTRS = { modelId: 'ocr', modelVersion: '4', backend: 'wasm' };

function pointsOf(body: string) {
  const req = JSON.parse(body) as OtlpMetricsRequest;
  return req.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
}

describe('createTelemetry', () => {
  it('builds the metrics URL from an endpoint', () => {
    expect(metricsUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/metrics');
    expect(metricsUrl('https://c.example/otlp/')).toBe('https://c.example/otlp/v1/metrics');
    expect(metricsUrl('https://c.example/v1/metrics')).toBe('https://c.example/v1/metrics');
  });

  it('without an endpoint records locally and sends nothing', async () => {
    const net = fakeFetch();
    const t = createTelemetry({ fetch: net.fetch });
    for (let i = 1; i <= 100; i++) t.record('run', i, ATTRS);
    t.recordError('INPUT_INVALID', ATTRS);
    await t.flush();
    expect(net.calls).toHaveLength(0);
    expect(t.stats()).toMatchObject({ count: 100, backend: 'wasm', max: 100, errors: { INPUT_INVALID: 1 } });
    expect(t.exportStats()).toEqual({ sent: 0, retries: 0, pending: 0, dropped: {} });
    await t.dispose();
  });

  it('exports deltas every interval with resource attributes, and a final flush on dispose', async () => {
    const clock = fakeClock();
    const net = fakeFetch();
    const t = createTelemetry(
      {
        endpoint: 'http://127.0.0.1:4318',
        intervalMs: 10_000,
        fetch: net.fetch,
        clock,
        sampleRate: 1,
        resource: { webq8Version: '0.1.0', adapterArchitecture: 'swiftshader', pageOrigin: 'http://localhost:5173' },
      },
      memoryOutboxStore(),
    );
    for (let i = 0; i < 50; i++) t.record('run', 10 + i, ATTRS);
    await clock.advance(9_999);
    expect(net.calls).toHaveLength(0);
    await clock.advance(1);
    expect(net.calls).toHaveLength(1);
    const req = JSON.parse(net.calls[0]!.body) as OtlpMetricsRequest;
    expect(req.resourceMetrics[0]!.resource.attributes).toEqual(
      expect.arrayContaining([
        { key: 'webq8.version', value: { stringValue: '0.1.0' } },
        { key: 'webq8.adapter.architecture', value: { stringValue: 'swiftshader' } },
        { key: 'webq8.page.origin', value: { stringValue: 'http://localhost:5173' } },
      ]),
    );
    expect(pointsOf(net.calls[0]!.body)[0]!.exponentialHistogram!.dataPoints[0]!.count).toBe('50');
    await clock.advance(10_000); // nothing new: nothing sent
    expect(net.calls).toHaveLength(1);
    t.record('run', 5, ATTRS);
    t.recordError('ABORTED', ATTRS);
    await t.dispose();
    expect(net.calls).toHaveLength(2);
    const names = pointsOf(net.calls[1]!.body)
      .map((m) => m.name)
      .sort();
    expect(names).toEqual(['webq8.errors', 'webq8.run.duration']);
    expect(t.stats().count).toBe(51);
    expect(clock.pending()).toEqual([]);
    t.record('run', 1, ATTRS); // after dispose: still safe
  });

  it('delivers on the next load what a failed flush left in the outbox', async () => {
    const store = memoryOutboxStore();
    const clock = fakeClock();
    const down = fakeFetch([], 'network-error');
    const page1 = createTelemetry({ endpoint: 'http://127.0.0.1:1', fetch: down.fetch, clock }, store);
    page1.record('run', 42, ATTRS);
    await page1.dispose();
    expect(down.calls.length).toBeGreaterThan(0);
    expect(await store.list()).toHaveLength(1);
    await clock.advance(60_000);
    const up = fakeFetch();
    const page2 = createTelemetry({ endpoint: 'http://127.0.0.1:1', fetch: up.fetch, clock }, store);
    await clock.advance(0);
    expect(up.calls.map((c) => c.body)).toEqual([down.calls[0]!.body]);
    expect(await store.list()).toEqual([]);
    await page2.dispose();
  });
});
