// The collector's state in Prometheus' terms (what remote write sends): series and labels,
// cumulative merging, counter-reset hints, gauges' last values, and the limits.
import { describe, expect, it } from 'vitest';
import { createFleetState, promName } from '../../../collector/fleet-state.mjs';
import { decodeWriteRequest, encodeWriteRequest, RESET_HINT } from '../../../collector/prom-proto.mjs';
import { parseExport } from '../../../collector/validate.mjs';
import { prng, samples } from '../telemetry/helpers.js';
import { parsedBody } from './otlp.js';

const V1 = { modelId: 'ocr', modelVersion: '1', backend: 'webgpu', planStrategy: 'kernels' };
const labelsOf = (labels: { name: string; value: string }[]) => Object.fromEntries(labels.map((l) => [l.name, l.value]));

function add(state: ReturnType<typeof createFleetState>, batch: Parameters<typeof parsedBody>[0], replayed = false) {
  const [parsed, json] = parsedBody(batch);
  state.add(parsed, json, replayed);
}

describe('fleet state', () => {
  it('names and labels series the Prometheus way; other attributes are not labels', () => {
    const state = createFleetState();
    add(state, { values: [1, 2, 3], attrs: V1, errors: 2 });
    const { items, metadata } = state.snapshot(1000);
    expect(items.map((i) => labelsOf(i.series.labels))).toEqual([
      { __name__: 'webq8_run_duration_milliseconds', model: 'ocr', version: '1', backend: 'webgpu' },
      { __name__: 'webq8_errors_total', model: 'ocr', version: '1', backend: 'webgpu', error_type: 'INPUT_INVALID' },
    ]);
    expect(items[0]!.series.labels.map((l) => l.name)).toEqual(['__name__', 'backend', 'model', 'version']); // sorted, no strategy
    expect(metadata.map((m) => [m.metric_family_name, m.type, m.unit])).toEqual([
      ['webq8_run_duration_milliseconds', 3, 'milliseconds'],
      ['webq8_errors_total', 1, ''],
    ]);
    expect(promName('webq8.load.first_run.duration', 'histogram')).toBe('webq8_load_first_run_duration_milliseconds');
    expect(promName('9lives-x', 'gauge')).toBe('_9lives_x');
  });

  it('merges every client into one cumulative series; samples carry the round timestamp', () => {
    const state = createFleetState();
    const a = samples('lognormal', 700, 1);
    const b = samples('bimodal', 300, 2);
    add(state, { values: a, attrs: V1, errors: 1 });
    add(state, { values: b, attrs: V1, errors: 2 });
    const { items } = state.snapshot(5000);
    const h = items[0]!.series.histograms![0]!;
    expect(h).toMatchObject({ count_int: 1000, schema: 6, timestamp: 5000 });
    expect(h.sum).toBeCloseTo(
      [...a, ...b].reduce((x, y) => x + y, 0),
      6,
    );
    expect(items[1]!.series.samples).toEqual([{ value: 3, timestamp: 5000 }]);
  });

  it('says "counter reset" on the first write of a series new to this process, not of one restored from the journal', () => {
    const fresh = createFleetState();
    add(fresh, { values: [5], attrs: V1 });
    const first = fresh.snapshot(1).items[0]!;
    expect(first.series.histograms![0]!.reset_hint).toBe(RESET_HINT.YES);
    expect(fresh.snapshot(2).items[0]!.series.histograms![0]!.reset_hint).toBe(RESET_HINT.YES); // not written yet: still the first
    fresh.written(first);
    expect(fresh.snapshot(3).items[0]!.series.histograms![0]!.reset_hint).toBe(RESET_HINT.UNKNOWN);

    const restarted = createFleetState();
    add(restarted, { values: [5], attrs: V1 }, true);
    expect(restarted.snapshot(4).items[0]!.series.histograms![0]!.reset_hint).toBe(RESET_HINT.UNKNOWN);
  });

  it('keeps the last gauge value by client time, writes it until a write succeeds, then only when it changes', () => {
    const state = createFleetState();
    add(state, { attrs: V1, nowMs: 2000, gauges: [{ name: 'slo_state', value: 2 }] });
    add(state, { attrs: V1, nowMs: 1000, gauges: [{ name: 'slo_state', value: 0 }] }); // older, delivered late
    expect(state.gauges()).toMatchObject([{ name: 'webq8_serving_slo_state', value: 2, timeMs: 2000, labels: { model: 'ocr', version: '1' } }]);
    const items = state.snapshot(10).items;
    expect(items.map((i) => i.series.samples)).toEqual([[{ value: 2, timestamp: 10 }]]);
    expect(state.snapshot(11).items).toHaveLength(1); // the first write failed: still pending
    state.written(items[0]!);
    expect(state.snapshot(12).items).toEqual([]);
    add(state, { attrs: V1, nowMs: 3000, gauges: [{ name: 'slo_burn_rate', value: 4.5, extra: { window: 'fast' } }] });
    expect(state.snapshot(13).items.map((i) => labelsOf(i.series.labels))).toEqual([
      { __name__: 'webq8_serving_slo_burn_rate', model: 'ocr', version: '1', backend: 'webgpu', window: 'fast' },
    ]);
  });

  it('does not write again the gauges it restored from the journal', () => {
    const state = createFleetState();
    add(state, { attrs: V1, gauges: [{ name: 'queue_length', value: 3 }] }, true);
    expect(state.gauges()).toHaveLength(1);
    expect(state.snapshot(1).items).toEqual([]);
  });

  it('holds at most maxSeries series, refuses a name another kind already uses, and counts both', () => {
    const state = createFleetState({ maxSeries: 2 });
    add(state, { values: [1], attrs: { ...V1, modelVersion: 'a' } });
    add(state, { values: [1], attrs: { ...V1, modelVersion: 'b' } });
    add(state, { values: [1], attrs: { ...V1, modelVersion: 'c' } });
    expect(state.size).toBe(2);
    expect(state.refused.seriesLimit).toBe(1);

    const clash = createFleetState();
    add(clash, { values: [1], attrs: V1 });
    const [parsed, json] = parsedBody({ attrs: V1, gauges: [{ name: 'queue_length', value: 1 }] });
    (json as { resourceMetrics: { scopeMetrics: { metrics: unknown[] }[] }[] }).resourceMetrics[0]!.scopeMetrics[0]!.metrics.push({
      name: 'webq8.run.duration_milliseconds',
      gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: '1000000000' }] },
    });
    clash.add(parsed, json);
    expect(clash.refused.nameClash).toBe(1);
    expect(clash.gauges().map((g) => g.name)).toEqual(['webq8_serving_queue_length']);
  });

  it('keeps only gauges when histograms are off (no remote write)', () => {
    const state = createFleetState({ histograms: false });
    add(state, { values: [1, 2], attrs: V1, errors: 1, gauges: [{ name: 'utilization', value: 0.5 }] });
    expect(state.size).toBe(1);
    expect(state.gauges()[0]).toMatchObject({ name: 'webq8_serving_utilization', value: 0.5 });
  });

  it('survives hostile bodies (seeded fuzz): never throws, every label is well-formed UTF-8, every snapshot encodes', () => {
    const rand = prng(42);
    const junk = [null, -1, 1e308, 'x'.repeat(300), '\uD800', '\uDC00a', {}, [], true, '12345678901234567890123', NaN];
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const mutate = (v: unknown, depth: number): unknown => {
      if (rand() < 0.08) return pick(junk);
      if (Array.isArray(v)) return v.map((x) => mutate(x, depth + 1));
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mutate(x, depth + 1)]));
      return v;
    };
    const [, base] = parsedBody({
      values: [1, 2],
      attrs: { ...V1, modelId: 'm\uD83D\uDE00' },
      errors: 1,
      gauges: [
        { name: 'slo_state', value: 1 },
        { name: 'slo_burn_rate', value: 2, extra: { window: 'fast' } },
      ],
    });
    const state = createFleetState({ maxSeries: 50 });
    for (let i = 0; i < 400; i++) {
      const body = mutate(base, 0);
      const parsed = parseExport(body);
      state.add(typeof parsed === 'string' ? { histograms: [], counters: [] } : parsed, body);
    }
    const { items, metadata } = state.snapshot(1);
    expect(items.length).toBeGreaterThan(0);
    const round = decodeWriteRequest(Buffer.from(encodeWriteRequest({ timeseries: items.map((i) => i.series), metadata })));
    expect(round.timeseries).toHaveLength(items.length);
    for (const t of round.timeseries) for (const l of t.labels) expect(l.value).toBe(Buffer.from(l.value, 'utf8').toString('utf8'));
    for (const g of state.gauges()) expect(Number.isFinite(g.value)).toBe(true);
    expect(state.size).toBeLessThanOrEqual(50);
  });
});
