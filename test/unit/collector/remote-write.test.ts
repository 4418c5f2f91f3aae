// Remote write's delivery rules against a scripted receiver on localhost: retries with backoff on
// 5xx/429/network errors, a retry carries the latest cumulative state, other 4xx are dropped and
// counted, and OTLP ingestion never waits for any of it. (Against a real Prometheus:
// prometheus.test.ts.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fleetOptionsFromFlags } from '../../../collector/fleet.mjs';
import { createFleetState } from '../../../collector/fleet-state.mjs';
import { decodeWriteRequest, type WriteRequestObject } from '../../../collector/prom-proto.mjs';
import { createRemoteWriter, retryAfterMs } from '../../../collector/remote-write.mjs';
import { startCollector } from '../../../collector/server.mjs';
import { freePort } from './prometheus.js';
import { otlpBody, parsedBody } from './otlp.js';
import { post } from './helpers.js';

const V1 = { modelId: 'ocr', modelVersion: '1', backend: 'wasm' };

/** A scripted status per request (then 204), `hold` keeps a request open until released. */
interface Receiver {
  url: string;
  requests: WriteRequestObject[];
  headers: IncomingMessage['headers'][];
  script: (number | 'hold' | { status: number; retryAfter: string })[];
  onRequest?: () => void;
  release(): void;
  held: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const held: ServerResponse[] = [];
  const r: Receiver = {
    url: '',
    requests: [],
    headers: [],
    script: [],
    held: 0,
    release: () => held.splice(0).forEach((res) => res.writeHead(204).end()),
    close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests.push(decodeWriteRequest(Buffer.concat(chunks)));
      r.headers.push(req.headers);
      r.onRequest?.();
      const step = r.script.shift() ?? 204;
      if (step === 'hold') return void (held.push(res), r.held++);
      if (typeof step === 'object') return void res.writeHead(step.status, { 'retry-after': step.retryAfter }).end('slow down');
      res.writeHead(step).end(step >= 400 ? `status ${step}` : '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const a = server.address();
  r.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/api/v1/write`;
  return r;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const fast = { intervalMs: 3_600_000, minBackoffMs: 5, maxBackoffMs: 20 };
const histCount = (req: WriteRequestObject) => req.timeseries.find((t) => t.histograms?.length)?.histograms![0]!.count_int;

describe('remote write delivery', () => {
  it('retries 5xx and 429, and the retry carries what arrived meanwhile; counters say written/retried/dropped', async () => {
    const rx = await receiver();
    cleanup.push(() => rx.close());
    const state = createFleetState();
    const [p1, j1] = parsedBody({ values: [1, 2, 3], attrs: V1 });
    state.add(p1, j1);
    rx.script = [503, { status: 429, retryAfter: '0' }];
    rx.onRequest = () => {
      if (rx.requests.length !== 1) return;
      const [p2, j2] = parsedBody({ values: [4, 5], attrs: V1 }); // arrives while the first write fails
      state.add(p2, j2);
    };
    const w = createRemoteWriter(state, { url: rx.url, ...fast });
    cleanup.push(() => w.close());
    await w.flush();
    expect(rx.requests.map(histCount)).toEqual([3, 5, 5]);
    expect(rx.headers[0]).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    });
    // Each request: 1 histogram + 3 of the collector's own counters.
    expect(w.stats()).toMatchObject({ written: 4, retried: 8, dropped: 0, requests: 3, lastError: 'HTTP 429: slow down' });
    const self = rx.requests[2]!.timeseries.find((t) => t.labels.some((l) => l.value === 'retried'));
    expect(self?.samples?.[0]?.value).toBe(8); // both failed rounds, counted before the third was built
    const ts = rx.requests.map((q) => q.timeseries[0]!.histograms![0]!.timestamp);
    expect(ts[1]! > ts[0]! && ts[2]! > ts[1]!).toBe(true); // never out of order
  });

  it('drops what a 4xx other than 429 refuses (it would fail again); the next round writes the whole state', async () => {
    const rx = await receiver();
    cleanup.push(() => rx.close());
    const state = createFleetState();
    const [p, j] = parsedBody({ values: [1, 2], attrs: V1, errors: 1 });
    state.add(p, j);
    rx.script = [400];
    const logs: string[] = [];
    const w = createRemoteWriter(state, { url: rx.url, ...fast, log: (m) => logs.push(m) });
    cleanup.push(() => w.close());
    await w.flush();
    expect(rx.requests).toHaveLength(1);
    expect(w.stats()).toMatchObject({ written: 0, retried: 0, dropped: 5 });
    expect(logs.join('\n')).toMatch(/refused 5 series \(not retried\): HTTP 400: status 400/);
    await w.flush();
    expect(rx.requests.map(histCount)).toEqual([2, 2]);
    expect(w.stats()).toMatchObject({ written: 5, dropped: 5 });
  });

  it('treats an unreachable endpoint as retriable; close() ends the backoff and makes one last attempt', async () => {
    const state = createFleetState();
    const [p, j] = parsedBody({ values: [1], attrs: V1 });
    state.add(p, j);
    const w = createRemoteWriter(state, {
      url: `http://127.0.0.1:${await freePort()}/api/v1/write`,
      intervalMs: 3_600_000,
      minBackoffMs: 60_000,
      maxBackoffMs: 60_000,
    });
    void w.flush();
    await expect.poll(() => w.stats().retried, { timeout: 10_000 }).toBe(4);
    expect(w.stats().lastError).toBe('ECONNREFUSED');
    await w.close(); // would otherwise sleep a minute
    expect(w.stats()).toMatchObject({ rounds: 2, retried: 8, written: 0 });
  });

  it('never makes OTLP ingestion wait: the collector acknowledges while a remote write hangs', async () => {
    const rx = await receiver();
    cleanup.push(() => rx.close());
    rx.script = ['hold'];
    const c = await startCollector({ port: 0, remoteWrite: { url: rx.url, ...fast } });
    cleanup.push(() => c.close());
    expect((await post(c.url, otlpBody({ values: [1, 2, 3], attrs: V1 }))).status).toBe(200);
    const writing = c.fleet.remoteWrite!.flush();
    await expect.poll(() => rx.held, { timeout: 10_000 }).toBe(1);
    expect((await post(c.url, otlpBody({ values: [4], attrs: V1 }))).status).toBe(200); // while the write hangs
    const stats = (await (await fetch(`${c.url}/api/remote-write`)).json()) as { enabled: boolean; written: number };
    expect(stats).toMatchObject({ enabled: true, written: 0 });
    rx.release();
    await writing;
    await c.fleet.remoteWrite!.flush();
    expect(rx.requests.map(histCount)).toEqual([3, 4]);
  });

  it('close() aborts a request the receiver never answers, then makes its last attempt', async () => {
    const rx = await receiver();
    cleanup.push(() => rx.close());
    rx.script = ['hold'];
    const state = createFleetState();
    const [p, j] = parsedBody({ values: [1, 2], attrs: V1 });
    state.add(p, j);
    const w = createRemoteWriter(state, { url: rx.url, intervalMs: 3_600_000, timeoutMs: 3_600_000 });
    void w.flush();
    await expect.poll(() => rx.held, { timeout: 10_000 }).toBe(1);
    await w.close(); // would otherwise wait an hour
    expect(rx.requests.map(histCount)).toEqual([2, 2]);
    expect(w.stats()).toMatchObject({ retried: 4, written: 4 });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(null)).toBe(0);
    expect(retryAfterMs('soon')).toBe(0);
    const inAMinute = retryAfterMs(new Date(Date.now() + 60_000).toUTCString());
    expect(inAMinute).toBeGreaterThan(50_000);
    expect(inAMinute).toBeLessThanOrEqual(60_000);
  });

  it('takes its settings from flags and says what is wrong with bad ones', () => {
    expect(fleetOptionsFromFlags({ 'remote-write': 'http://p:9090/api/v1/write', 'remote-write-interval': '500' })).toEqual({
      remoteWrite: { url: 'http://p:9090/api/v1/write', intervalMs: 500 },
    });
    expect(fleetOptionsFromFlags({ query: 'prometheus', 'prometheus-url': 'http://p:9090', 'query-window': '5m' })).toEqual({
      query: { prometheus: 'http://p:9090', window: '5m' },
    });
    expect(() => fleetOptionsFromFlags({ 'remote-write': 'p:9090' })).toThrow(/--remote-write needs an http\(s\) URL/);
    expect(() => fleetOptionsFromFlags({ query: 'prometheus' })).toThrow(/needs --prometheus-url/);
    expect(() => fleetOptionsFromFlags({ query: 'mimir' })).toThrow(/memory or prometheus/);
    expect(() => fleetOptionsFromFlags({ 'remote-write': 'http://p/', 'remote-write-interval': '5' })).toThrow(/at least 100/);
  });
});
