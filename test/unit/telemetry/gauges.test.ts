import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../../../src/telemetry';

describe('telemetry gauges', () => {
  it('exports registered gauges as OTLP Gauge points beside the histograms, only when something was recorded, and survives a throwing source', async () => {
    const bodies: string[] = [];
    const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
      bodies.push(String(init?.body));
      return new Response(null, { status: 200 });
    };
    const t = createTelemetry({ endpoint: 'http://127.0.0.1:1', intervalMs: 3_600_000, fetch } as never);
    const attrs = { modelId: 'm', backend: 'wasm' as const };
    t.addGauges(() => [
      { name: 'queue_length', value: 3, attrs },
      { name: 'shed_total', value: 2, attrs, extra: { reason: 'overloaded' } },
      { name: 'bad', value: NaN, attrs },
    ]);
    t.addGauges(() => {
      throw new Error('broken source');
    });
    await t.flush();
    expect(bodies).toHaveLength(0); // nothing recorded: an idle page sends nothing
    t.record('run', 5, attrs);
    await t.flush();
    expect(bodies).toHaveLength(1);
    const metrics = JSON.parse(bodies[0]!).resourceMetrics[0].scopeMetrics[0].metrics as {
      name: string;
      gauge?: { dataPoints: { asDouble: number; attributes: { key: string; value: { stringValue: string } }[] }[] };
    }[];
    const q = metrics.find((m) => m.name === 'webq8.serving.queue_length');
    expect(q?.gauge?.dataPoints[0]?.asDouble).toBe(3);
    const shed = metrics.find((m) => m.name === 'webq8.serving.shed_total')!.gauge!.dataPoints[0]!;
    expect(shed.attributes).toContainEqual({ key: 'webq8.reason', value: { stringValue: 'overloaded' } });
    expect(metrics.some((m) => m.name === 'webq8.serving.bad')).toBe(false);
    await t.dispose();
  });
});
