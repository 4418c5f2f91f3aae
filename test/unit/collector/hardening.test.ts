// The collector's limits, one at a time, on a real process over HTTP: poisoned and damaged
// journals, compaction and its crash window, CORS, the series cap, the dedup window, slow bodies.
import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { samples } from '../telemetry/helpers.js';
import { collectorFixture, latency, otlpBody, post, rawRequest, status } from './helpers.js';

const { dataFile, start } = collectorFixture('webq8-hardening-');

const ATTRS = { modelId: 'ocr', modelVersion: '1', backend: 'wasm' };
const total = async (url: string) => (await latency(url)).series.reduce((a, s) => a + s.count, 0);
/** A request body with one exponential-histogram point, as the probes sent them. */
const rawPoint = (scale: number, offset: number) =>
  JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'webq8.run.duration',
                exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ count: '1', sum: 1, scale, positive: { offset, bucketCounts: ['1'] } }] },
              },
            ],
          },
        ],
      },
    ],
  });

describe('journal replay', () => {
  it('starts on a journal poisoned by an older collector, skipping the records that used to kill it', async () => {
    const file = dataFile();
    // What the pre-validation collector journaled before dying on them (issue 10).
    const killers = [rawPoint(-10, -(2 ** 27)), rawPoint(-10, 2 ** 27), rawPoint(0, 2000), rawPoint(6, 1e7)];
    const good = otlpBody([1, 2, 3], ATTRS);
    writeFileSync(file, [...killers, good].map((b) => `\n${JSON.stringify({ at: new Date().toISOString(), body: JSON.parse(b) })}\n`).join(''));
    const c = await start(file);
    expect(await status(c.url)).toMatchObject({ replayed: 1, skipped: 4 });
    expect(await total(c.url)).toBe(3);
    expect((await fetch(`${c.url}/`)).status).toBe(200);
  });

  it('streams a damaged journal: torn, non-JSON and over-long lines are skipped and counted', async () => {
    const file = dataFile();
    const good = (k: number) => `\n${JSON.stringify({ seq: k, body: JSON.parse(otlpBody([k], ATTRS)) })}\n`;
    const huge = `{"body": "${'x'.repeat(3 * 1024 * 1024)}"}`; // longer than 2 × max body + slack
    writeFileSync(file, [good(1), 'not json\n', '[1,2]\n', `\n${huge}\n`, good(2), '{"seq":3,"body":{"resourceMe'].join(''));
    const c = await start(file, ['--max-body', '100000']);
    expect(await status(c.url)).toMatchObject({ replayed: 2, skipped: 4 });
    expect(await total(c.url)).toBe(2);
  });
});

describe('journal compaction', () => {
  const batches = Array.from({ length: 40 }, (_, i) => otlpBody(samples('lognormal', 50, i + 1), ATTRS));

  it('keeps the journal bounded and restarts to the same state, remembering batch ids', async () => {
    const file = dataFile();
    let c = await start(file, ['--compact-bytes', '30000']);
    for (const [i, b] of batches.entries()) expect((await post(c.url, b, { 'x-webq8-batch': `b${i}` })).status).toBe(200);
    const s = await status(c.url);
    expect(s.compactions).toBeGreaterThan(0);
    expect(s.journalBytes).toBeLessThan(30000);
    expect(statSync(file).size).toBe(s.journalBytes);
    expect(existsSync(`${file}.snapshot`)).toBe(true);
    const before = await latency(c.url);
    expect(before.series[0]!.count).toBe(40 * 50);
    await c.stop('SIGKILL');
    c = await start(file);
    expect((await latency(c.url)).series).toEqual(before.series);
    for (const i of [0, 39]) expect((await post(c.url, batches[i]!, { 'x-webq8-batch': `b${i}` })).status).toBe(200);
    expect(await total(c.url)).toBe(40 * 50);
  });

  it('counts nothing twice when it crashed after writing the snapshot but before emptying the journal', async () => {
    const file = dataFile();
    let c = await start(file);
    for (const [i, b] of batches.slice(0, 10).entries()) expect((await post(c.url, b, { 'x-webq8-batch': `b${i}` })).status).toBe(200);
    await c.stop('SIGKILL');
    copyFileSync(file, `${file}.before`);
    c = await start(file, ['--compact-bytes', '1']); // compacts on start
    expect((await status(c.url)).compactions).toBe(1);
    await c.stop('SIGKILL');
    expect(statSync(file).size).toBe(0);
    copyFileSync(`${file}.before`, file); // as if the truncation never happened
    c = await start(file);
    expect(await total(c.url)).toBe(10 * 50);
    expect((await post(c.url, batches[10]!, { 'x-webq8-batch': 'b10' })).status).toBe(200);
    await c.stop('SIGKILL');
    c = await start(file);
    expect(await total(c.url)).toBe(11 * 50);
  });

  it('moves a snapshot without a valid header aside and starts from the journal', async () => {
    const file = dataFile();
    writeFileSync(`${file}.snapshot`, 'garbage\n');
    writeFileSync(file, `\n${JSON.stringify({ seq: 1, body: JSON.parse(otlpBody([5], ATTRS)) })}\n`);
    const c = await start(file);
    expect(await status(c.url)).toMatchObject({ replayed: 1, skipped: 1 });
    expect(existsSync(`${file}.snapshot`)).toBe(false);
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/v1/metrics`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' },
    });

  it('serves loopback pages by default; refuses other origins, null included, without CORS headers', async () => {
    const c = await start();
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'https://app.localhost', 'http://[::1]:3000']) {
      const pre = await preflight(c.url, origin);
      expect(pre.status, origin).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-private-network')).toBe('true');
    }
    for (const origin of ['null', 'https://evil.example', 'http://localhost.evil.example', 'file://', 'http://localhost:5173/path']) {
      const pre = await preflight(c.url, origin);
      expect(pre.status, origin).toBe(403);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-private-network')).toBeNull();
      const res = await post(c.url, otlpBody([1], ATTRS), { origin });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await res.json()) as { error: string }).error).toMatch(/--allow-origin/);
    }
    expect(await total(c.url)).toBe(0);
    expect((await post(c.url, otlpBody([1], ATTRS))).status).toBe(200); // no Origin: not a browser page
  });

  it('allows exactly the configured origins', async () => {
    const c = await start(dataFile(), ['--allow-origin', 'https://app.example']);
    expect((await preflight(c.url, 'https://app.example')).status).toBe(204);
    expect((await preflight(c.url, 'http://localhost:5173')).status).toBe(403);
    expect((await post(c.url, otlpBody([1], ATTRS), { origin: 'https://app.example' })).status).toBe(200);
  });
});

describe('memory bounds', () => {
  it('refuses new series past --max-series with 413 and a reason, and keeps taking known ones', async () => {
    const c = await start(dataFile(), ['--max-series', '3']);
    for (const v of ['1', '2', '3']) expect((await post(c.url, otlpBody([1], { ...ATTRS, modelVersion: v }))).status).toBe(200);
    const res = await post(c.url, otlpBody([1], { ...ATTRS, modelVersion: '4' }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/series limit \(3\) reached/);
    expect((await post(c.url, otlpBody([1, 2], { ...ATTRS, modelVersion: '2' }))).status).toBe(200);
    expect(await status(c.url)).toMatchObject({ series: 3 });
    expect(await total(c.url)).toBe(5);
  });

  it('compares batch ids in full and remembers at most --dedup-ids of them', async () => {
    const c = await start(dataFile(), ['--dedup-ids', '3']);
    const prefix = 'p'.repeat(300);
    const b = otlpBody([1], ATTRS);
    for (const id of [`${prefix}A`, `${prefix}B`, `${prefix}A`, `${prefix}B`]) expect((await post(c.url, b, { 'x-webq8-batch': id })).status).toBe(200);
    expect(await total(c.url)).toBe(2); // A and B counted once each, never merged
    for (const id of ['c', 'd', 'e']) await post(c.url, b, { 'x-webq8-batch': id });
    expect((await status(c.url)).dedupIds).toBe(3);
    expect(await total(c.url)).toBe(5);
  });
});

describe('hostile connections', () => {
  it('answers a stalled body with 408 and stays up', async () => {
    const c = await start(dataFile(), ['--request-timeout-ms', '500']);
    const head = 'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"resource';
    const answers = await Promise.all([1, 2, 3].map(() => rawRequest(c.port, head, 10_000)));
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408/);
    expect((await post(c.url, otlpBody([1], ATTRS))).status).toBe(200);
  });

  it('answers malformed request lines and targets with 4xx', async () => {
    const c = await start();
    for (const line of ['GET http://[ HTTP/1.1', 'GET /%zz%00 HTTP/1.1', 'BREW / HTTP/1.1', 'GET '.padEnd(20_000, 'a') + ' HTTP/1.1']) {
      const answer = await rawRequest(c.port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer, line.slice(0, 40)).toMatch(/^HTTP\/1\.1 4\d\d/);
    }
    expect((await post(c.url, otlpBody([1], ATTRS))).status).toBe(200);
  });
});
