// Verification in service reaches the fleet: a q8 MLP whose kernel output is corrupted on the GPU
// (a debug hook) is served under onDiverge 'report' with every run sampled; its webq8.verify.*
// counters go through the OTLP exporter to the reference collector, which remote-writes them to a
// real Prometheus labelled by output, model version, the adapter's vendor and architecture and the
// browser; the first divergence of the output becomes one incident on the collector, and the
// collector's dashboard shows agreement and divergence by adapter and browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizeDynamic } from '../../src/graph/quantize';
import { startCollectorProcess } from '../unit/collector/helpers';
import { promValue, startPrometheus } from '../unit/collector/prometheus';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const Q8 = [...quantizeDynamic(mlp(64, 48, { second: true }), { perChannel: true }).bytes];

test('webq8.verify.* counters reach Prometheus by adapter, browser, version and output; the first divergence is one incident on the collector; its dashboard shows the device', async ({
  webq8Page: page,
}) => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'webq8-verify-prom-'));
  const prom = await startPrometheus(join(dir, 'data'));
  const c = await startCollectorProcess(join(dir, 'm.jsonl'), ['--remote-write', prom.writeUrl, '--remote-write-interval', '200']);
  try {
    const local = await page.evaluate(
      async ({ model, endpoint }) => {
        const { createRuntime } = await import('/dist/index.js');
        const rt = createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
        const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
        await debug('corrupt-kernels');
        const options = { backend: 'webgpu' as const, strategy: 'kernels' as const, cache: 'bypass' as const };
        const m = await rt.load(new Uint8Array(model), { ...options, verify: { sampleRate: 1, onDiverge: 'report' } });
        const feeds = () => ({ x: { type: 'float32' as const, dims: [2, 64], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i * 0.37)) } });
        for (let i = 0; i < 100 && (m.stats().verify?.checked ?? 0) < 3; i++) {
          await m.run(feeds());
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await debug('heal-kernels');
        await rt.flushTelemetry();
        return { verify: m.stats().verify!, adapter: m.info.adapter!, ua: navigator.userAgent };
      },
      { model: Q8, endpoint: c.url },
    );
    expect(local.verify.checked).toBeGreaterThanOrEqual(3);
    expect(local.verify.diverged).toBe(local.verify.checked);
    const by = `adapter_vendor="${local.adapter.vendor}",adapter_architecture="${local.adapter.architecture}"`;
    await expect.poll(() => promValue(prom.url, `sum(webq8_verify_checks_total{${by}})`), { timeout: 30_000 }).toBe(local.verify.checked);
    await expect.poll(() => promValue(prom.url, `sum(webq8_verify_divergences_total{${by},output="y"})`), { timeout: 30_000 }).toBe(local.verify.diverged);
    expect(await promValue(prom.url, `sum(webq8_verify_agreements_total)`)).toBeUndefined();
    // One incident for the output (later divergences are only counted), naming the device.
    type Incident = Record<string, string | number>;
    const incidents = async () => ((await (await fetch(`${c.url}/api/verify/incidents`)).json()) as { incidents: Incident[] }).incidents;
    await expect.poll(async () => (await incidents()).length, { timeout: 10_000 }).toBe(1);
    const [incident] = await incidents();
    const major = /(?:HeadlessChrome|Chrome)\/(\d+)/.exec(local.ua)![1];
    expect(incident).toMatchObject({ kind: 'verify', rule: 'numerics', output: 'y', metric: 'relL2', backend: 'webgpu', adapterVendor: local.adapter.vendor });
    expect(incident!.adapterArchitecture).toBe(local.adapter.architecture);
    expect(incident!.browser).toMatch(new RegExp(`^(Chrome|Chromium) ${major}$`));
    expect(incident!.value).toBeGreaterThan(Number(incident!.tolerance));
    expect(incident!.diverged).toBeGreaterThanOrEqual(1);
    // The same series in Prometheus carry the browser and the model version; the dashboard shows the row.
    const device = `${by},browser="${incident!.browser}",version="unknown",model="${incident!.model}"`;
    expect(await promValue(prom.url, `sum(webq8_verify_divergences_total{${device}})`)).toBe(local.verify.diverged);
    const { rows } = (await (await fetch(`${c.url}/api/verify`)).json()) as { rows: Incident[] };
    expect(rows).toEqual([
      {
        model: incident!.model,
        version: 'unknown',
        adapterVendor: local.adapter.vendor,
        adapterArchitecture: local.adapter.architecture,
        browser: incident!.browser,
        checks: local.verify.checked,
        agreements: 0,
        divergences: local.verify.diverged,
        dropped: local.verify.dropped,
      },
    ]);
    expect(await (await fetch(c.url)).text()).toContain(
      `<td>${incident!.browser}</td><td>${local.verify.checked}</td><td>0</td><td>${local.verify.diverged}</td><td>100.0 %</td>`,
    );
  } finally {
    await c.stop();
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
