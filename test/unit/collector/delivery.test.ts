import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createTelemetry } from '../../../src/telemetry/index.js';
import { memoryOutboxStore } from '../../../src/telemetry/outbox.js';
import { fakeClock, samples } from '../telemetry/helpers.js';
import { latency, startCollectorProcess } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'webq8-delivery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('exporter → real collector: stopped mid-run and restarted, every sample arrives exactly once', async () => {
  const file = join(dir, 'metrics.jsonl');
  let collector = await startCollectorProcess(file);
  const port = collector.port;
  // Real fetch and HTTP; the fake clock only drives timers and backoff deadlines.
  const clock = fakeClock(Date.now());
  const store = memoryOutboxStore();
  const t = createTelemetry({ endpoint: collector.url, intervalMs: 3_600_000, clock, flushOnHide: false }, store);
  const attrs = { modelId: 'ocr', modelVersion: '4', backend: 'wasm' };
  try {
    for (const v of samples('lognormal', 1000, 1)) t.record('run', v, attrs);
    await t.flush();
    expect(t.exportStats()).toMatchObject({ sent: 1, pending: 0 });

    await collector.stop('SIGKILL');
    for (const v of samples('lognormal', 500, 2)) t.record('run', v, attrs);
    t.recordError('DEVICE_LOST', attrs);
    await t.flush(); // connection refused: kept in the outbox
    for (const v of samples('lognormal', 250, 3)) t.record('run', v, attrs);
    await t.flush(); // behind the first failed batch: waits too
    expect(t.exportStats().pending).toBe(2);
    expect(t.exportStats().sent).toBe(1);

    collector = await startCollectorProcess(file, ['--port', String(port)]);
    await clock.advance(600_000); // past every backoff
    await t.flush();
    expect(t.exportStats()).toMatchObject({ sent: 3, pending: 0, dropped: {} });
    const doc = await latency(collector.url);
    const row = doc.series.find((r) => r.metric === 'webq8.run.duration')!;
    expect(row).toMatchObject({ model: 'ocr', version: '4', backend: 'wasm', count: 1750 });
    expect(doc.errors).toMatchObject([{ code: 'DEVICE_LOST', count: 1 }]);
  } finally {
    await t.dispose();
    await collector.stop('SIGKILL');
  }
});
