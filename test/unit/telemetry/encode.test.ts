import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeMetrics, metricName } from '../../../src/telemetry/encode.js';
import { createHistogram, merge, record } from '../../../src/isomorphic/exphist.js';
import { fromPoint, nanos } from '../../../src/isomorphic/otlp-point.js';
import { createRecorder, type Collected } from '../../../src/telemetry/recorder.js';
import type { HistogramState, OtlpMetricsRequest } from '../../../src/telemetry/index.js';
import { prng, samples } from './helpers.js';

// The official opentelemetry-proto definitions, as compiled by protobufjs in otlp-transformer 0.57
// (later versions replaced them with a hand-written serializer).
const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

function protoRoundTrip(json: unknown): unknown {
  const msg = Request.fromObject(json);
  const decoded = Request.decode(Request.encode(msg).finish());
  return Request.toObject(decoded, { longs: String, enums: Number, defaults: true, arrays: true });
}

/** Every field of `sent` is present in `got` with the same value ("no field lost"). */
function expectSubset(sent: unknown, got: unknown, path = '$'): void {
  if (Array.isArray(sent)) {
    expect(Array.isArray(got), path).toBe(true);
    expect((got as unknown[]).length, path).toBe(sent.length);
    sent.forEach((v, i) => expectSubset(v, (got as unknown[])[i], `${path}[${i}]`));
  } else if (sent && typeof sent === 'object') {
    expect(got && typeof got === 'object', path).toBeTruthy();
    for (const [k, v] of Object.entries(sent)) {
      expect(Object.keys(got as object), `${path}.${k} lost`).toContain(k);
      expectSubset(v, (got as Record<string, unknown>)[k], `${path}.${k}`);
    }
  } else {
    expect(got, path).toEqual(sent);
  }
}

const T0 = 1_763_856_000_000;

function recorded(seriesCount: number, perSeries: number, seed = 1): Collected {
  let now = T0;
  const rec = createRecorder({ now: () => now });
  const rand = prng(seed);
  for (let s = 0; s < seriesCount; s++) {
    const attrs = { modelId: `model-${s}`, modelVersion: '1.0.0', modelSha256: 'ab'.repeat(32), backend: s % 2 ? 'wasm' : 'webgpu', planStrategy: 'split' };
    for (let i = 0; i < perSeries; i++) rec.record('run', 0.01 * 6e6 ** rand(), attrs);
    rec.record('load.compile', 123.4, attrs);
    rec.recordError('INPUT_INVALID', attrs);
  }
  now = T0 + 15_000.5;
  return rec.collect();
}

function points(body: string) {
  const req = JSON.parse(body) as OtlpMetricsRequest;
  return req.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
}

describe('OTLP/HTTP JSON encoding', () => {
  it('round-trips through the official OTLP protobuf definitions with no field lost', () => {
    const bodies = encodeMetrics(recorded(3, 2000), {
      resource: { 'service.name': 'webq8', 'webq8.version': '0.1.0', 'webq8.sample_rate': 0.5 },
      scopeVersion: '0.1.0',
    });
    expect(bodies).toHaveLength(1);
    const sent = JSON.parse(bodies[0]!);
    const got = protoRoundTrip(sent);
    expectSubset(sent, got);
    const metric = (got as { resourceMetrics: { scopeMetrics: { metrics: { name: string; exponentialHistogram: unknown; sum: unknown }[] }[] }[] })
      .resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(metric.map((m) => m.name).sort()).toEqual(['webq8.errors', 'webq8.load.compile.duration', 'webq8.run.duration']);
  });

  it('uses the wire conventions: DELTA as 1, 64-bit integers as decimal strings, lowerCamelCase', () => {
    const [body] = encodeMetrics(recorded(1, 10));
    const ms = points(body!);
    const hist = ms.find((m) => m.name === metricName('run'))!.exponentialHistogram!;
    expect(hist.aggregationTemporality).toBe(1);
    const p = hist.dataPoints[0]!;
    expect(p.count).toBe('10');
    expect(p.zeroCount).toBe('0');
    expect(p.timeUnixNano).toBe('1763856015000500000');
    expect(p.startTimeUnixNano).toBe(nanos(T0));
    expect(p.positive.bucketCounts.every((c) => /^\d+$/.test(c))).toBe(true);
    expect(body).not.toMatch(/"[a-z]+_[a-z_]+":/); // no snake_case keys
    const errors = ms.find((m) => m.name === 'webq8.errors')!.sum!;
    expect(errors).toMatchObject({ aggregationTemporality: 1, isMonotonic: true });
    expect(errors.dataPoints[0]!.asInt).toBe('1');
    expect(errors.dataPoints[0]!.attributes).toContainEqual({ key: 'error.type', value: { stringValue: 'INPUT_INVALID' } });
  });

  it('splits into bodies under the byte budget that hold every sample, each satisfying count = zeroCount + Σ buckets', () => {
    const collected = recorded(40, 5000, 2);
    const expected = new Map(collected.histograms.map((c) => [`${c.metric}|${c.attributes['webq8.model.id']}`, c.histogram.count]));
    const budget = 60 * 1024;
    const bodies = encodeMetrics(collected, { maxBodyBytes: budget });
    expect(bodies.length).toBeGreaterThan(1);
    const seen = new Map<string, HistogramState>();
    for (const body of bodies) {
      expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(budget);
      expectSubset(JSON.parse(body), protoRoundTrip(JSON.parse(body)));
      for (const m of points(body)) {
        for (const p of m.exponentialHistogram?.dataPoints ?? []) {
          const total = p.positive.bucketCounts.reduce((a, c) => a + Number(c), Number(p.zeroCount));
          expect(total).toBe(Number(p.count));
          const h = fromPoint(p) as HistogramState;
          const key = `${m.name.replace(/^webq8\.|\.duration$/g, '')}|${p.attributes.find((a) => a.key === 'webq8.model.id')!.value.stringValue}`;
          seen.set(key, seen.has(key) ? merge(seen.get(key)!, h) : h);
        }
      }
    }
    expect(new Map([...seen].map(([k, h]) => [k, h.count]))).toEqual(expected);
  });

  it('coarsens a point that alone exceeds the budget instead of dropping it', () => {
    const h = createHistogram();
    for (const v of samples('wide', 20_000, 4)) record(h, v);
    const collected: Collected = {
      endMs: T0,
      histograms: [{ metric: 'run', attributes: { 'webq8.model.id': 'm' }, histogram: h, startMs: T0 - 1 }],
      errors: [],
    };
    const bodies = encodeMetrics(collected, { maxBodyBytes: 2048 });
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.length).toBeLessThanOrEqual(2048);
    const p = points(bodies[0]!)[0]!.exponentialHistogram!.dataPoints[0]!;
    expect(p.count).toBe('20000');
    expect(p.scale).toBeLessThan(6);
  });

  it('names generation series: latencies as .duration in ms, tokens per answer as a count', () => {
    let now = T0;
    const rec = createRecorder({ now: () => now });
    for (const m of ['generate.ttft', 'generate.tpot', 'generate.busy', 'generate.busy_per_1k_tokens'] as const) rec.record(m, 12.5, { modelId: 'gpt' });
    rec.record('generate.tokens', 64, { modelId: 'gpt' });
    now += 1000;
    const got = protoRoundTrip(JSON.parse(encodeMetrics(rec.collect())[0]!)) as {
      resourceMetrics: { scopeMetrics: { metrics: { name: string; unit: string }[] }[] }[];
    };
    const units = Object.fromEntries(got.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => [m.name, m.unit]));
    expect(units).toEqual({
      'webq8.generate.ttft.duration': 'ms',
      'webq8.generate.tpot.duration': 'ms',
      'webq8.generate.busy.duration': 'ms',
      'webq8.generate.busy_per_1k_tokens.duration': 'ms',
      'webq8.generate.tokens': '{token}',
    });
    expect(metricName('generate.tokens')).toBe('webq8.generate.tokens');
  });

  it('encodes nothing when nothing was recorded', () => {
    expect(encodeMetrics({ endMs: T0, histograms: [], errors: [] })).toEqual([]);
  });
});
