// Seeded, bounded fuzzing of the reference collector as a real process over HTTP: the payload
// classes that crashed or hung it (issue 10: scale −10 with offsets ±2^27 killed it outright with
// "Fatal JavaScript invalid size error", and so did every restart on that journal; offset 2000 at
// scale 0 and offset 1e7 at scale 6 made GET / spin forever; 70 series × 2048 buckets made GET /
// overflow the stack), oversize bodies, long and prefix-sharing batch ids, foreign origins, HTTP
// garbage, and random mutations of valid payloads — then a crash and a restart from the journal.
// Oracle: the merged counts equal the samples of exactly the requests it acknowledged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { prng } from '../telemetry/helpers.js';
import { latency, otlpBody, rawRequest, startCollectorProcess, status, type CollectorProcess, type LatencyDoc } from './helpers.js';
import { mutate } from './mutate.js';

const SEED = 20261130;
const PAYLOADS = 10_000;
const CONCURRENCY = 8;
const MAX_BODY = 400_000;
const MAX_SERIES = 200;
const RSS_LIMIT = 400 * 2 ** 20;

const dir = mkdtempSync(join(tmpdir(), 'webq8-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rand = prng(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** The series valid payloads go to; created first, so the series cap never refuses them. */
const SERIES = [0, 1, 2, 3].flatMap((m) => ['1', '2'].map((v) => ({ modelId: `m${m}`, modelVersion: v, backend: 'wasm' })));
const ALLOWED_ORIGIN = 'http://localhost:5173';
const BAD_ORIGINS = ['null', 'https://evil.example', 'http://localhost.evil.example', 'file://', 'http://127.0.0.1.nip.io'];

const request = (points: unknown[], name = 'webq8.run.duration') =>
  JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name, exponentialHistogram: { aggregationTemporality: 1, dataPoints: points } }] }] }] });
const point = (scale: number, offset: number, counts: number[], attrs: { key: string; value: { stringValue: string } }[] = []) => ({
  attributes: attrs,
  count: String(counts.reduce((a, b) => a + b, 0)),
  sum: 1,
  scale,
  positive: { offset, bucketCounts: counts }, // numbers are accepted for uint64 too
});
/** The issue's 312 KB body: 70 series × 2048 buckets (its series are created up front). */
const wide = () =>
  request(Array.from({ length: 70 }, (_, s) => point(6, 0, new Array(2048).fill(1), [{ key: 'webq8.model.version', value: { stringValue: `big${s}` } }])));
/** Exponential-histogram samples per metric of a body the collector acknowledged. */
function samplesOf(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const rm of JSON.parse(text)?.resourceMetrics ?? []) {
    for (const sm of rm?.scopeMetrics ?? []) {
      for (const m of sm?.metrics ?? []) {
        for (const p of m?.exponentialHistogram?.dataPoints ?? []) out.set(m.name, (out.get(m.name) ?? 0) + Number(p?.count ?? 0));
      }
    }
  }
  return out;
}

/** One generated request and what must come of it. */
interface Case {
  kind: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Allowed statuses. */
  expect: number[];
  /** Samples per metric it adds when acknowledged (computed from the body when omitted). */
  adds?: Map<string, number>;
}

/** Valid bodies made by webq8's own recorder and encoder (a pool: encoding each one would cost more than sending it). */
const VALID = Array.from({ length: 400 }, () => {
  const k = int(1, 40);
  const values = Array.from({ length: k }, () => Math.exp(rand() * 12 - 4));
  return { body: otlpBody(values, pick(SERIES), rand() < 0.1 ? 1 : 0), samples: k };
});
const validCase = () => pick(VALID);

function* cases(acked: { id: string; body: string }[]): Generator<Case> {
  const run = (n: number) => new Map([['webq8.run.duration', n]]);
  let ids = 0;
  let big = 0;
  for (let i = 0; ; i++) {
    const r = rand();
    if (r < 0.3) {
      const v = validCase();
      yield { kind: 'valid', body: v.body, headers: rand() < 0.5 ? { 'x-webq8-batch': `v${i}` } : {}, expect: [200], adds: run(v.samples) };
    } else if (r < 0.35 && acked.length > 0) {
      const a = pick(acked);
      yield { kind: 'resend', body: a.body, headers: { 'x-webq8-batch': a.id }, expect: [200], adds: new Map() };
    } else if (r < 0.38) {
      const v = validCase();
      // Ids far past the old 128-character cut that share everything but their end.
      yield { kind: 'long-id', body: v.body, headers: { 'x-webq8-batch': `${'p'.repeat(int(100, 4000))}${ids++}` }, expect: [200], adds: run(v.samples) };
    } else if (r < 0.42) {
      const which = int(0, big < 3 ? 3 : 2);
      if (which === 0) yield { kind: 'scale-10', body: request([point(-10, -(2 ** 27), [1]), point(-10, 2 ** 27, [1])]), expect: [400] };
      if (which === 1) yield { kind: 'offset-2000', body: request([point(0, int(1024, 4000), [1])]), expect: [400] };
      if (which === 2) yield { kind: 'offset-1e7', body: request([point(6, int(70_000, 1e7), [1])]), expect: [400] };
      if (which === 3) {
        big++;
        yield { kind: '70x2048', body: wide(), expect: [200] };
      }
    } else if (r < 0.43) {
      yield { kind: 'oversize', body: validCase().body.padEnd(MAX_BODY + int(1, 2 * MAX_BODY), ' '), expect: [413] };
    } else if (r < 0.47) {
      const origin = pick(BAD_ORIGINS);
      if (rand() < 0.5) yield { kind: 'bad-origin', body: validCase().body, headers: { origin }, expect: [403] };
      else
        yield {
          kind: 'bad-preflight',
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' },
          expect: [403],
        };
    } else if (r < 0.49) {
      const v = validCase();
      yield { kind: 'loopback-origin', body: v.body, headers: { origin: ALLOWED_ORIGIN }, expect: [200], adds: run(v.samples) };
    } else if (r < 0.55) {
      yield pick<Case>([
        { kind: 'http', method: 'PUT', body: '{}', expect: [405] },
        { kind: 'http', method: 'DELETE', expect: [405] },
        { kind: 'http', method: 'GET', path: '/v1/metrics', expect: [405] },
        { kind: 'http', method: 'POST', path: '/', body: '{}', expect: [405] },
        { kind: 'http', method: 'GET', path: `/${'x'.repeat(int(0, 3000))}%zz`, expect: [404] },
        { kind: 'http', method: 'GET', path: '/api/latency?metric=%ff&model=\u0000', expect: [200] },
        { kind: 'http', body: '{"resourceMetrics": [', expect: [400] },
        { kind: 'http', body: '', expect: [400] },
        { kind: 'http', body: 'null', expect: [400] },
        { kind: 'http', body: '{}', headers: { 'content-type': 'text/plain' }, expect: [415] },
      ]);
    } else {
      const text = mutate(validCase().body, rand);
      yield { kind: 'mutant', body: text, expect: [200, 400, 413] };
    }
  }
}

async function send(url: string, c: Case): Promise<{ status: number; acao: string | null } | Error> {
  const method = c.method ?? 'POST';
  const headers = { 'content-type': 'application/json', ...c.headers };
  try {
    // A hung collector (the old one spun forever on some payloads) must fail the test, not time it out.
    const signal = AbortSignal.timeout(10_000);
    const res = await fetch(`${url}${c.path ?? '/v1/metrics'}`, {
      method,
      headers,
      signal,
      ...(c.body !== undefined && method !== 'GET' ? { body: c.body } : {}),
    });
    await res.arrayBuffer();
    return { status: res.status, acao: res.headers.get('access-control-allow-origin') };
  } catch (err) {
    return err as Error;
  }
}

const comparable = (doc: LatencyDoc) => ({ series: doc.series, fleet: doc.fleet, errors: doc.errors });

/** What the collector acknowledged: samples per metric, and the batch ids (with their bodies). */
class Oracle {
  readonly expected = new Map<string, number>();
  readonly acked: { id: string; body: string }[] = [];
  add(m: Map<string, number>): void {
    m.forEach((n, k) => this.expected.set(k, (this.expected.get(k) ?? 0) + n));
  }
}

/** Sends PAYLOADS generated cases, CONCURRENCY at a time; stops early after 20 wrong answers. */
async function fuzz(url: string, oracle: Oracle) {
  const gen = cases(oracle.acked);
  const tally = new Map<string, number>();
  const failures: string[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < PAYLOADS && failures.length < 20) {
      sent++;
      const k = gen.next().value as Case;
      const got = await send(url, k);
      const tag = `${k.kind}:${got instanceof Error ? 'error' : got.status}`;
      tally.set(tag, (tally.get(tag) ?? 0) + 1);
      if (got instanceof Error || !k.expect.includes(got.status)) {
        failures.push(
          `${k.kind} ${k.method ?? 'POST'} ${k.path ?? ''} → ${got instanceof Error ? `${got.message} ${String(got.cause)}` : got.status} (expected ${k.expect}); body ${k.body?.slice(0, 200)}`,
        );
        continue;
      }
      if ((k.kind === 'bad-preflight' || k.kind === 'bad-origin') && got.acao !== null) failures.push(`${k.kind} got Access-Control-Allow-Origin ${got.acao}`);
      if (got.status !== 200 || k.kind === 'http') continue;
      oracle.add(k.adds ?? samplesOf(k.body!));
      const id = k.headers?.['x-webq8-batch'];
      if (id && k.kind !== 'resend') oracle.acked.push({ id, body: k.body! });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { sent, tally, failures };
}

/** The merged counts per metric must be exactly the acknowledged samples. */
async function expectCounts(url: string, oracle: Oracle): Promise<LatencyDoc> {
  const doc = await latency(url);
  const perMetric = new Map<string, number>();
  for (const s of doc.series) perMetric.set(s.metric, (perMetric.get(s.metric) ?? 0) + s.count);
  const nonzero = (m: Map<string, number>) => new Map([...m].filter(([, v]) => v > 0));
  expect(nonzero(perMetric)).toEqual(nonzero(oracle.expected));
  return doc;
}

it(`survives ${PAYLOADS} generated payloads and a restart, counting exactly what it acknowledged`, { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const file = join(dir, 'metrics.jsonl');
  const args = ['--max-body', String(MAX_BODY), '--max-series', String(MAX_SERIES), '--compact-bytes', String(4 * 2 ** 20), '--request-timeout-ms', '1000'];
  let c: CollectorProcess = await startCollectorProcess(file, args);
  const oracle = new Oracle();
  try {
    // Create the series valid payloads go to first (below the cap), then measure the baseline.
    for (const body of [...SERIES.map((attrs) => otlpBody([1], attrs)), wide()]) {
      expect(await send(c.url, { kind: 'seed', body, expect: [200] })).toMatchObject({ status: 200 });
      oracle.add(samplesOf(body));
    }
    const rssBefore = (await status(c.url)).rssBytes;
    // Bodies that stall: answered 408 by the request timeout, while everything else goes on.
    const stalled = Promise.all(
      [1, 2, 3, 4].map(() =>
        rawRequest(c.port, 'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"res', 15_000),
      ),
    );
    const run = await fuzz(c.url, oracle);
    expect(run.failures).toEqual([]);
    for (const answer of await stalled) expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(c.proc.exitCode).toBeNull();
    expect(c.proc.signalCode).toBeNull();
    const before = await expectCounts(c.url, oracle);
    const dash = await fetch(`${c.url}/`);
    expect(dash.status).toBe(200);
    expect(await dash.text()).toMatch(/<svg/);
    const after = await status(c.url);
    expect(after.series).toBeLessThanOrEqual(MAX_SERIES);
    expect(after.compactions).toBeGreaterThan(0);
    expect(after.rssBytes).toBeLessThan(RSS_LIMIT);

    // A crash, then a restart from snapshot + journal: the same state, nothing skipped.
    await c.stop('SIGKILL');
    c = await startCollectorProcess(file, args);
    const restarted = await status(c.url);
    expect(restarted).toMatchObject({ skipped: 0, replayed: expect.any(Number) });
    expect(restarted.replayed).toBeGreaterThan(0);
    expect(comparable(await latency(c.url))).toEqual(comparable(before));
    // Batch ids survived the restart: a re-send counts nothing.
    for (const a of oracle.acked.slice(-5))
      expect(await send(c.url, { kind: 'resend', body: a.body, headers: { 'x-webq8-batch': a.id }, expect: [200] })).toMatchObject({ status: 200 });
    expect(comparable(await expectCounts(c.url, oracle))).toEqual(comparable(before));
    expect((await fetch(`${c.url}/`)).status).toBe(200);

    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `collector fuzz (seed ${SEED}): ${run.sent} payloads + 4 stalled bodies in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS ${mb(rssBefore)} → ${mb(after.rssBytes)} MiB (after restart ${mb(restarted.rssBytes)}); ${after.series} series, ${after.compactions} compactions, ${oracle.acked.length} acknowledged batch ids`,
    );
    console.log(
      [...run.tally]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  } finally {
    await c.stop('SIGKILL');
  }
});
