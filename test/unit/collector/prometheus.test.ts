// End to end against a real Prometheus (Debian's 2.42, remote-write receiver and native
// histograms on): the collector's merged state lands as native histograms that Prometheus decodes
// into exactly the buckets the raw samples fall in, its PromQL answers agree with the collector,
// the serving gauges arrive as gauges, and a Prometheus killed and restarted mid-run loses nothing
// the collector acknowledged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createQuery } from '../../../collector/query.mjs';
import { startCollector } from '../../../collector/server.mjs';
import { samples } from '../telemetry/helpers.js';
import { latency, post } from './helpers.js';
import { otlpBody, type ClientBatch } from './otlp.js';
import { promQuery, promValue, startPrometheus, type PrometheusProcess } from './prometheus.js';

const dir = mkdtempSync(join(tmpdir(), 'webq8-prom-'));
let prom: PrometheusProcess;
beforeAll(async () => {
  prom = await startPrometheus(join(dir, 'data'));
}, 30_000);
afterAll(async () => {
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
});
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** Base of the histograms' buckets (webq8 records at scale 6): the relative width of one bucket is base − 1. */
const BASE = 2 ** (1 / 64);
const HIST = 'webq8_run_duration_milliseconds';

async function collector(dataFile?: string) {
  const c = await startCollector({ port: 0, dataFile, remoteWrite: { url: prom.writeUrl, intervalMs: 100, minBackoffMs: 50, maxBackoffMs: 400 } });
  open.push(c);
  return c;
}
async function send(url: string, batch: ClientBatch) {
  expect((await post(url, otlpBody(batch))).status).toBe(200);
}
const count = (model: string) => promValue(prom.url, `histogram_count(sum(${HIST}{model="${model}"}))`);

describe('collector → Prometheus remote write', () => {
  it('stores native histograms whose buckets hold exactly the raw samples; counts exact, p95 within one bucket of the collector', async () => {
    const c = await collector();
    const model = 'e2e-buckets';
    const values: Record<string, number[]> = { '1': [...samples('lognormal', 4000, 1), 0, 0], '2': samples('bimodal', 2500, 2) };
    await send(c.url, { values: values['1'], attrs: { modelId: model, modelVersion: '1', backend: 'webgpu' }, errors: 3 });
    await send(c.url, { values: values['2'], attrs: { modelId: model, modelVersion: '2', backend: 'wasm' } });
    await c.fleet.remoteWrite!.flush();

    const stored = await promQuery(prom.url, `${HIST}{model="${model}"}`);
    expect(stored.map((s) => s.metric.version).sort()).toEqual(['1', '2']);
    for (const s of stored) {
      const vs = values[s.metric.version!]!;
      const h = s.histogram![1];
      expect(Number(h.count)).toBe(vs.length);
      expect(Number(h.sum)).toBeCloseTo(
        vs.reduce((a, b) => a + b, 0),
        6,
      );
      // Prometheus' own decoding: boundary rule 0 is (lower, upper], 3 is [lower, upper] (the zero bucket).
      for (const [rule, lo, hi, n] of h.buckets!) {
        const inside = vs.filter((v) => (rule === 3 ? v >= Number(lo) : v > Number(lo)) && v <= Number(hi));
        expect(Number(n), `bucket ${rule} ${lo}..${hi}`).toBe(inside.length);
      }
      expect(h.buckets!.reduce((a, b) => a + Number(b[3]), 0)).toBe(vs.length);
    }

    const doc = await latency(c.url);
    for (const version of ['1', '2']) {
      const mine = doc.series.find((r) => r.model === model && r.version === version)!;
      const theirs = await promValue(prom.url, `histogram_quantile(0.95, ${HIST}{model="${model}",version="${version}"})`);
      expect(Math.abs(theirs! / mine.p95 - 1), `p95 ${theirs} vs ${mine.p95}`).toBeLessThanOrEqual(BASE - 1);
      expect(await promValue(prom.url, `histogram_count(${HIST}{model="${model}",version="${version}"})`)).toBe(values[version]!.length);
    }
    expect(await promValue(prom.url, `sum(webq8_errors_total{model="${model}",error_type="INPUT_INVALID"})`)).toBe(3);
  });

  it('answers release analysis through PromQL the way the in-memory store does', async () => {
    const c = await collector();
    const model = 'e2e-versions';
    await send(c.url, { values: samples('lognormal', 3000, 3), attrs: { modelId: model, modelVersion: '7', backend: 'webgpu' }, errors: 2 });
    await send(c.url, { values: samples('pareto', 1000, 4), attrs: { modelId: model, modelVersion: '8', backend: 'wasm' }, errors: 9 });
    await send(c.url, { attrs: { modelId: model, modelVersion: '9', backend: 'wasm' }, errors: 4 }); // every run failed
    await c.fleet.remoteWrite!.flush();

    const fromProm = createQuery({ prometheus: prom.url });
    const memory = await c.fleet.query.versions(model);
    const remote = await fromProm.versions(model);
    expect(memory.map((v) => [v.version, v.count, v.errors])).toEqual([
      ['7', 3000, 2],
      ['8', 1000, 9],
      ['9', 0, 4],
    ]);
    expect(remote.map((v) => [v.version, v.count, v.errors])).toEqual(memory.map((v) => [v.version, v.count, v.errors]));
    for (const [i, m] of memory.slice(0, 2).entries()) {
      for (const k of ['p50', 'p95', 'p99'] as const) expect(Math.abs(remote[i]![k]! / m[k]! - 1), `${m.version} ${k}`).toBeLessThanOrEqual(BASE - 1);
    }
    expect(await fromProm.versions(model, { backend: 'wasm' })).toMatchObject([
      { version: '8', backend: 'wasm', count: 1000, errors: 9 },
      { version: '9', count: 0, errors: 4 },
    ]);
    const rows = (await fromProm.series()).filter((r) => r.model === model);
    expect(rows.map((r) => [r.version, r.backend, r.count])).toEqual([
      ['7', 'webgpu', 3000],
      ['8', 'wasm', 1000],
    ]);
    // Over a window, counts come from increase(): the first sample in the window is the baseline.
    await send(c.url, { values: samples('lognormal', 500, 5), attrs: { modelId: model, modelVersion: '7', backend: 'webgpu' } });
    await c.fleet.remoteWrite!.flush();
    // Prometheus answers the query from its head block, which a sample reaches a moment after the 204:
    // ask again (bounded) until the second sample is visible to increase().
    const windowed = createQuery({ prometheus: prom.url, window: '10m' });
    const recent = await vi.waitFor(
      async () => {
        const v = await windowed.versions(model);
        expect(v[0]!.count).toBeGreaterThan(0);
        return v;
      },
      { timeout: 10_000, interval: 250 },
    );
    expect(recent[0]).toMatchObject({ version: '7' });
    expect(recent[0]!.p95).toBeGreaterThan(0);
  });

  it('writes the serving gauges as gauges; the dashboard shows the SLO state from either store', async () => {
    const c = await collector();
    const attrs = { modelId: 'e2e-gauges', modelVersion: '3', backend: 'webgpu' };
    const gauges: ClientBatch['gauges'] = [
      { name: 'slo_state', value: 2 },
      { name: 'slo_burn_rate', value: 14.4, extra: { window: 'fast' } },
      { name: 'slo_burn_rate', value: 3, extra: { window: 'slow' } },
      { name: 'slo_budget_left', value: -0.25 },
      { name: 'queue_length', value: 7 },
      { name: 'utilization', value: 0.9 },
      { name: 'shed_total', value: 5, extra: { reason: 'queue_full' } },
    ];
    await send(c.url, { attrs, gauges });
    await c.fleet.remoteWrite!.flush();
    expect(await promValue(prom.url, 'webq8_serving_slo_state{model="e2e-gauges"}')).toBe(2);
    expect(await promValue(prom.url, 'webq8_serving_shed_total{model="e2e-gauges",reason="queue_full"}')).toBe(5);
    const want = {
      model: 'e2e-gauges',
      version: '3',
      backend: 'webgpu',
      slo: 'breached',
      burnFast: 14.4,
      burnSlow: 3,
      budgetLeft: -0.25,
      queueLength: 7,
      utilization: 0.9,
    };
    expect((await c.fleet.query.serving()).filter((r) => r.model === 'e2e-gauges')).toEqual([want]);
    expect((await createQuery({ prometheus: prom.url }).serving()).filter((r) => r.model === 'e2e-gauges')).toEqual([want]);
    expect(await (await fetch(`${c.url}/`)).text()).toMatch(/<td>e2e-gauges<\/td>.*breached/s);
    expect(await (await fetch(`${c.url}/api/fleet`)).json()).toEqual({ store: 'memory', metric: 'webq8.run.duration', series: [], serving: [want] });
    const noModel = await fetch(`${c.url}/api/versions`);
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toMatchObject({ error: expect.stringMatching(/say which model/) });

    const reader = await startCollector({ port: 0, query: { prometheus: prom.url } });
    open.push(reader);
    const page = await (await fetch(`${reader.url}/`)).text();
    expect(page).toContain(`Source: ${prom.url}`);
    expect(page).toMatch(/<td>e2e-gauges<\/td>.*breached/s);
  });

  it('loses nothing the collector acknowledged when Prometheus is killed and restarted mid-run', async () => {
    const data = join(dir, 'restart.jsonl');
    let c = await collector(data);
    const model = 'e2e-restart';
    const attrs = { modelId: model, modelVersion: '1', backend: 'wasm' };
    await send(c.url, { values: samples('lognormal', 500, 5), attrs });
    await c.fleet.remoteWrite!.flush();
    expect(await count(model)).toBe(500);

    await prom.stop('SIGKILL');
    const retriedBefore = c.fleet.remoteWrite!.stats().retried;
    await send(c.url, { values: samples('lognormal', 300, 6), attrs }); // acknowledged while Prometheus is down
    await expect.poll(() => c.fleet.remoteWrite!.stats().retried, { timeout: 10_000 }).toBeGreaterThan(retriedBefore);
    const reader = await startCollector({ port: 0, query: { prometheus: prom.url } });
    open.push(reader);
    const down = await fetch(`${reader.url}/api/versions?model=${model}`);
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ code: 'PROMETHEUS_UNREACHABLE' });

    prom = await startPrometheus(prom.dataDir, prom.port);
    await expect.poll(() => count(model), { timeout: 20_000 }).toBe(800);

    // The collector restarts too: its journal restores the cumulative state, which continues the series.
    await c.close();
    c = await collector(data);
    await send(c.url, { values: samples('lognormal', 200, 7), attrs });
    await c.fleet.remoteWrite!.flush();
    expect(await count(model)).toBe(1000);
    const versions = (await (await fetch(`${reader.url}/api/versions?model=${model}`)).json()) as { store: string; versions: { count: number }[] };
    expect(versions).toMatchObject({ store: 'prometheus', versions: [{ version: '1', count: 1000 }] });
  });
});
