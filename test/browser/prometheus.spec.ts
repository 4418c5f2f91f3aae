// Fleet telemetry at scale, end to end: webq8 runs in Chromium, exports OTLP to the reference
// collector, which remote-writes native histograms and serving gauges to a real Prometheus and
// reads release analysis back through PromQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latency, startCollectorProcess } from '../unit/collector/helpers';
import { promValue, startPrometheus } from '../unit/collector/prometheus';
import { MODELS, expect, test } from './fixtures';

const HIST = 'webq8_run_duration_milliseconds';
/** One bucket's relative width at webq8's recording scale (6). */
const BUCKET_ERROR = 2 ** (1 / 64) - 1;
const RUNS = { 'a-1.0': 9, 'b-1.1': 6 };

test('runs in Chromium reach Prometheus: counts exact, p95 within a bucket, SLO state, release analysis over PromQL', async ({ webq8Page: page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'webq8-prom-browser-'));
  const prom = await startPrometheus(join(dir, 'data'));
  const args = ['--remote-write', prom.writeUrl, '--remote-write-interval', '200', '--query', 'prometheus', '--prometheus-url', prom.url];
  const c = await startCollectorProcess(join(dir, 'm.jsonl'), args);
  try {
    const local = await page.evaluate(
      async ({ url, endpoint, runs }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
        const out: Record<string, string | undefined> = {};
        for (const [version, n] of Object.entries(runs)) {
          // An SLO no run can meet (p95 ≤ 1 µs), so every model reports 'breached'.
          const model = await rt.load({ url, id: 'prom-cls', version }, { backend: 'wasm', serving: { slo: { p95Ms: 0.001, minEvents: 3 } } });
          for (let i = 0; i < n; i++) await model.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
          out[version] = model.stats().health?.state;
        }
        await rt.flushTelemetry();
        return out;
      },
      { url: MODELS.cls, endpoint: c.url, runs: RUNS },
    );
    expect(local).toEqual({ 'a-1.0': 'breached', 'b-1.1': 'breached' });

    for (const [version, n] of Object.entries(RUNS)) {
      const sel = `${HIST}{model="prom-cls",version="${version}"}`;
      await expect.poll(() => promValue(prom.url, `histogram_count(sum(${sel}))`), { timeout: 30_000 }).toBe(n);
      const mine = (await latency(c.url)).series.find((s) => s.model === 'prom-cls' && s.version === version && s.metric === 'webq8.run.duration')!;
      const theirs = (await promValue(prom.url, `histogram_quantile(0.95, sum(${sel}))`))!;
      expect(Math.abs(theirs / mine.p95 - 1), `p95 ${theirs} vs collector ${mine.p95}`).toBeLessThanOrEqual(BUCKET_ERROR);
      await expect.poll(() => promValue(prom.url, `webq8_serving_slo_state{model="prom-cls",version="${version}"}`)).toBe(2);
    }

    // Release analysis and the dashboard, read from Prometheus by the collector (--query prometheus).
    const doc = (await (await fetch(`${c.url}/api/versions?model=prom-cls`)).json()) as {
      store: string;
      versions: { version: string; count: number; errors: number; p95: number }[];
    };
    expect(doc.store).toBe('prometheus');
    expect(doc.versions.map((v) => [v.version, v.count, v.errors])).toEqual([
      ['a-1.0', 9, 0],
      ['b-1.1', 6, 0],
    ]);
    expect(await (await fetch(`${c.url}/`)).text()).toMatch(/<td>prom-cls<\/td><td>a-1\.0<\/td><td>wasm<\/td><td><b[^>]*>breached/);
  } finally {
    await c.stop();
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
