import { describe, expect, it } from 'vitest';
import { createRecorder } from '../../../src/telemetry/recorder.js';
import type { SeriesAttributes } from '../../../src/telemetry/types.js';
import { prng } from './helpers.js';

const A: SeriesAttributes = { modelId: 'ocr', modelVersion: '1', backend: 'webgpu' };
const B: SeriesAttributes = { modelId: 'ocr', modelVersion: '2', backend: 'wasm' };

describe('recorder', () => {
  it('keeps one series per metric and attributes and merges them in stats()', () => {
    const rec = createRecorder();
    for (let i = 1; i <= 100; i++) rec.record('run', i, A);
    for (let i = 1; i <= 100; i++) rec.record('run', 1000 + i, { ...B });
    rec.record('run.queue', 5, A);
    const a = rec.stats({ modelVersion: '1' });
    expect(a).toMatchObject({ metric: 'run', count: 100, backend: 'webgpu', attributes: A });
    expect(Math.abs(a.p50 - 50) / 50).toBeLessThan(0.01);
    expect(a.max).toBe(100);
    const all = rec.stats({ modelId: 'ocr' });
    expect(all.count).toBe(200);
    expect(all.backend).toBeUndefined(); // two backends
    expect(all.attributes).toEqual({ modelId: 'ocr' });
    expect(rec.stats({ metric: 'run.queue' }).count).toBe(1);
    expect(rec.stats({ modelId: 'other' }).count).toBe(0);
  });

  it('counts errors by code, unsampled', () => {
    const rec = createRecorder({ sampleRate: 0 });
    rec.recordError('INPUT_INVALID', A);
    rec.recordError('INPUT_INVALID', A);
    rec.recordError('DEVICE_LOST', B);
    rec.record('run', 3, A);
    expect(rec.stats({ modelVersion: '1' }).errors).toEqual({ INPUT_INVALID: 2 });
    expect(rec.stats().errors).toEqual({ INPUT_INVALID: 2, DEVICE_LOST: 1 });
    expect(rec.stats().count).toBe(0);
  });

  it('samples at the configured rate', () => {
    const rec = createRecorder({ sampleRate: 0.25, random: prng(5) });
    for (let i = 0; i < 10_000; i++) rec.record('run', 1, A);
    const n = rec.stats().count;
    expect(n).toBeGreaterThan(2300);
    expect(n).toBeLessThan(2700);
  });

  it('collect() hands out deltas once while stats() keeps the lifetime', () => {
    let now = 1000;
    const rec = createRecorder({ now: () => now });
    rec.record('run', 10, A);
    rec.recordError('ABORTED', A);
    now = 2000;
    const first = rec.collect();
    expect(first.histograms).toHaveLength(1);
    expect(first.histograms[0]).toMatchObject({ metric: 'run', startMs: 1000 });
    expect(first.histograms[0]!.histogram.count).toBe(1);
    expect(first.errors).toMatchObject([{ code: 'ABORTED', count: 1, startMs: 1000 }]);
    expect(rec.collect()).toMatchObject({ histograms: [], errors: [] });
    rec.record('run', 20, A);
    now = 3000;
    const third = rec.collect();
    expect(third.histograms[0]).toMatchObject({ startMs: 2000 });
    expect(rec.stats()).toMatchObject({ count: 2, errors: { ABORTED: 1 } });
  });

  it('sends only allow-listed attributes, whatever the object carries', () => {
    const rec = createRecorder();
    const leaky = { ...A, input: 'user text', output: [1, 2] } as unknown as SeriesAttributes;
    rec.record('run', 1, leaky);
    const wire = rec.collect().histograms[0]!.attributes;
    expect(wire).toEqual({ 'webq8.model.id': 'ocr', 'webq8.model.version': '1', 'webq8.backend': 'webgpu' });
  });

  it('never throws, and counts invalid values', () => {
    const rec = createRecorder();
    const hostile = {
      get modelId(): string {
        throw new Error('boom');
      },
    } as SeriesAttributes;
    expect(() => rec.record('run', 1, hostile)).not.toThrow();
    expect(() => rec.recordError('X', hostile)).not.toThrow();
    rec.record('run', NaN, A);
    rec.record('run', -3, A);
    expect(rec.invalid).toBe(2);
    expect(rec.stats().count).toBe(0);
  });

  it('does not move a series when the caller mutates its attributes object', () => {
    const rec = createRecorder();
    const attrs: SeriesAttributes = { modelId: 'm', modelVersion: '1' };
    rec.record('run', 1, attrs);
    const collected = rec.collect().histograms[0]!;
    attrs.modelVersion = '2';
    expect(collected.attributes['webq8.model.version']).toBe('1');
  });
});
