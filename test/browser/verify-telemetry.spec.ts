// Verification in service reaches the fleet: a q8 MLP whose kernel output is corrupted on the GPU
// (a debug hook) is served under onDiverge 'report' with every run sampled; its webq8.verify.*
// counters go through the OTLP exporter to the reference collector, which remote-writes them to a
// real Prometheus labelled by output and by the adapter's vendor and architecture.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizeDynamic } from '../../src/graph/quantize';
import { startCollectorProcess } from '../unit/collector/helpers';
import { promValue, startPrometheus } from '../unit/collector/prometheus';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const Q8 = [...quantizeDynamic(mlp(64, 48, { second: true }), { perChannel: true }).bytes];

test('webq8.verify.* counters reach Prometheus by adapter and output: checks and divergences equal the model stats', async ({ webq8Page: page }) => {
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
        return { verify: m.stats().verify!, adapter: m.info.adapter! };
      },
      { model: Q8, endpoint: c.url },
    );
    expect(local.verify.checked).toBeGreaterThanOrEqual(3);
    expect(local.verify.diverged).toBe(local.verify.checked);
    const by = `adapter_vendor="${local.adapter.vendor}",adapter_architecture="${local.adapter.architecture}"`;
    await expect.poll(() => promValue(prom.url, `sum(webq8_verify_checks_total{${by}})`), { timeout: 30_000 }).toBe(local.verify.checked);
    await expect.poll(() => promValue(prom.url, `sum(webq8_verify_divergences_total{${by},output="y"})`), { timeout: 30_000 }).toBe(local.verify.diverged);
    expect(await promValue(prom.url, `sum(webq8_verify_agreements_total)`)).toBeUndefined();
  } finally {
    await c.stop();
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
