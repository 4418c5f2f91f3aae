import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHistogram, merge, quantile, record } from '../../../src/isomorphic/exphist.js';
import type { SeriesAttributes } from '../../../src/telemetry/types.js';
import { exactQuantile, samples } from '../telemetry/helpers.js';
import { collectorFixture, latency, otlpBody, post, type LatencyRow } from './helpers.js';

const { dataFile, start } = collectorFixture('webq8-collector-');

const V1: SeriesAttributes = { modelId: 'ocr', modelVersion: '1', backend: 'webgpu' };
const V2: SeriesAttributes = { modelId: 'ocr', modelVersion: '2', backend: 'wasm' };

const body = otlpBody;

const row = (rows: LatencyRow[], version: string) => rows.find((r) => r.version === version && r.metric === 'webq8.run.duration')!;

function expectWithin1pct(got: { p50: number; p90: number; p95: number; p99: number }, values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  for (const [k, q] of [
    ['p50', 0.5],
    ['p90', 0.9],
    ['p95', 0.95],
    ['p99', 0.99],
  ] as const) {
    const exact = exactQuantile(sorted, q);
    expect(Math.abs(got[k] - exact) / exact, `${k}: ${got[k]} vs ${exact}`).toBeLessThanOrEqual(0.01);
  }
}

describe('reference collector over HTTP', () => {
  it('ingests OTLP JSON and serves fleet and per-version percentiles', async () => {
    const c = await start();
    const v1 = samples('lognormal', 20_000, 1);
    const v2 = samples('bimodal', 10_000, 2);
    expect((await post(c.url, body(v1, V1, 3))).status).toBe(200);
    const res = await post(c.url, body(v2, V2));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const doc = await latency(c.url);
    expect(row(doc.series, '1')).toMatchObject({ model: 'ocr', backend: 'webgpu', count: 20_000 });
    expect(row(doc.series, '2')).toMatchObject({ model: 'ocr', backend: 'wasm', count: 10_000 });
    expectWithin1pct(row(doc.series, '1'), v1);
    expectWithin1pct(row(doc.series, '2'), v2);
    const fleet = doc.fleet.find((f) => f.metric === 'webq8.run.duration' && f.model === 'ocr')!;
    expect(fleet.count).toBe(30_000);
    expectWithin1pct(fleet, [...v1, ...v2]);
    expect(fleet.versions.map((v) => [v.version, v.count])).toEqual([
      ['1', 20_000],
      ['2', 10_000],
    ]);
    expect(doc.errors).toMatchObject([{ model: 'ocr', code: 'INPUT_INVALID', count: 3 }]);
    const filtered = await latency(c.url, '?model=nothing');
    expect(filtered.series).toEqual([]);
  });

  it('merges the same series across clients exactly like the histogram merge', async () => {
    const c = await start();
    const clients = [samples('pareto', 5000, 3), samples('pareto', 7000, 4), samples('lognormal', 3000, 5)];
    for (const values of clients) expect((await post(c.url, body(values, V1))).status).toBe(200);
    const expected = createHistogram();
    for (const values of clients) {
      const h = createHistogram();
      for (const v of values) record(h, v);
      merge(expected, h);
    }
    const got = row((await latency(c.url)).series, '1');
    expect(got.count).toBe(15_000);
    for (const [k, q] of [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const)
      expect(got[k]).toBeCloseTo(quantile(expected, q), 3);
    expectWithin1pct(got, clients.flat());
  });

  it('answers 413 above the body limit and stays up', async () => {
    const c = await start(dataFile(), ['--max-body', '2000']);
    const big = body(samples('wide', 5000, 6), V1);
    expect(big.length).toBeGreaterThan(2000);
    const res = await post(c.url, big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/limit/);
    expect((await post(c.url, body([1, 2, 3], V1))).status).toBe(200);
  });

  it('answers 400 with a reason for malformed JSON or shape, 415 for other content types', async () => {
    const c = await start();
    const cases: [string, RegExp][] = [
      ['{"resourceMetrics": [', /malformed JSON/],
      ['[1,2]', /JSON object/],
      ['{"resourceMetrics": 5}', /resourceMetrics must be an array/],
      ['{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"unit":"ms"}]}]}]}', /name must be a non-empty string/],
    ];
    const good = JSON.parse(body([1, 2, 3], V1));
    const point = good.resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram;
    point.dataPoints[0].count = '4';
    cases.push([JSON.stringify(good), /count \(4\) must equal zeroCount \+ sum of bucketCounts \(3\)/]);
    point.dataPoints[0].count = '3';
    point.aggregationTemporality = 2;
    cases.push([JSON.stringify(good), /DELTA/]);
    point.aggregationTemporality = 1;
    point.dataPoints[0].positive.bucketCounts[0] = '-1';
    cases.push([JSON.stringify(good), /non-negative/]);
    for (const [text, reason] of cases) {
      const res = await post(c.url, text);
      expect(res.status, text).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
    const plain = await fetch(`${c.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: body([1], V1) });
    expect(plain.status).toBe(415);
    expect((await latency(c.url)).series).toEqual([]);
  });

  it('answers CORS preflights for browser origins and exposes Retry-After', async () => {
    const c = await start();
    const pre = await fetch(`${c.url}/v1/metrics`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-webq8-batch' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/x-webq8-batch/);
    const res = await post(c.url, body([1], V1), { origin: 'http://localhost:5173' });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Retry-After/i);
  });

  it('replays its journal on restart: every sample counted exactly once, duplicates dropped', async () => {
    const file = dataFile();
    let c = await start(file);
    const batches = [0, 1, 2, 3].map((i) => body(samples('lognormal', 1000 + i, 10 + i), V1));
    for (const [i, b] of batches.entries()) expect((await post(c.url, b, { 'x-webq8-batch': `b${i}` })).status).toBe(200);
    expect((await post(c.url, batches[0]!, { 'x-webq8-batch': 'b0' })).status).toBe(200); // a retry
    const before = await latency(c.url);
    expect(row(before.series, '1').count).toBe(4006);
    await c.stop('SIGKILL'); // a crash
    appendFileSync(file, '{"batch":"torn","body":{"resourceMe'); // a write cut short
    c = await start(file);
    const after = await latency(c.url);
    expect(after.series).toEqual(before.series);
    expect((await post(c.url, batches[3]!, { 'x-webq8-batch': 'b3' })).status).toBe(200);
    expect(row((await latency(c.url)).series, '1').count).toBe(4006);
    expect((await post(c.url, batches[3]!, { 'x-webq8-batch': 'b4' })).status).toBe(200);
    expect(row((await latency(c.url)).series, '1').count).toBe(4006 + 1003);
  });

  it('serves an HTML dashboard with an SVG plot', async () => {
    const c = await start();
    await post(c.url, body(samples('lognormal', 500, 1), V1));
    const res = await fetch(`${c.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<svg[^>]*>.*<path class="mark"[^>]* d="M/s);
    expect(html).toContain('<td>ocr</td>');
    expect((await fetch(`${c.url}/nope`)).status).toBe(404);
  });

  it('draws a series with a single sample, and one CDF per model version', async () => {
    const c = await start();
    await post(c.url, body(samples('lognormal', 1, 1), V1));
    const one = await (await fetch(`${c.url}/`)).text();
    expect(one.match(/<path class="mark"[^>]* d="M[\d.]+,[\d.]+V[\d.]+"/g)).toHaveLength(1); // one step up at the sample
    await post(c.url, body(samples('lognormal', 50, 2), { ...V1, modelVersion: '2' }));
    const two = await (await fetch(`${c.url}/`)).text();
    expect(two).toContain('Per model version');
    expect(two.match(/aria-label="latency CDF of ocr @ [12]"/g)).toHaveLength(2);
  });

  it('lists each device (adapter) with its p95', async () => {
    const c = await start();
    const gpu = (vendor: string) => ({ 'webq8.adapter.vendor': vendor, 'webq8.adapter.architecture': 'arch' });
    await post(c.url, body(Array(40).fill(10), V1, 0, gpu('nvidia')));
    await post(c.url, body(Array(40).fill(200), V1, 0, gpu('intel')));
    await post(c.url, body(Array(40).fill(20), V2));
    const html = await (await fetch(`${c.url}/`)).text();
    const rows = [
      ...html.split('<h2>Devices</h2>')[1]!.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>(\d+)<\/td><td>([\d.]+)<\/td><td>([\d.]+)<\/td><\/tr>/g),
    ];
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['intel arch', 'webgpu', '40'],
      ['nvidia arch', 'webgpu', '40'],
      ['unknown', 'wasm', '40'],
    ]);
    // Each p95 is its own device's: within the histogram's bucket error (about 1 %) of the constant it was fed.
    expect(rows.map((r) => Number(r[5]))).toEqual([expect.closeTo(200, -1), expect.closeTo(10, 0), expect.closeTo(20, 0)]);
  });
});
