// Counters beside the error counts (`recorder.count`, used for webq8.verify.*): deltas collected once,
// encoded as OTLP monotonic sums with their extra attributes, read back by the collector's parser,
// and kept out of the error counts of `stats()`.
import { describe, expect, it } from 'vitest';
import { parseExport } from '../../../collector/validate.mjs';
import { encodeMetrics } from '../../../src/telemetry/encode.js';
import { createRecorder } from '../../../src/telemetry/recorder.js';

describe('recorder.count', () => {
  it('exports counters as monotonic sums with their attributes, once per delta, apart from the error counts', () => {
    const r = createRecorder({ now: () => 1000 });
    const attrs = { modelId: 'mlp', backend: 'webgpu' };
    r.count('webq8.verify.checks', 3, attrs);
    r.count('webq8.verify.checks', 2, attrs);
    r.count('webq8.verify.divergences', 1, attrs, { 'webq8.output': 'y' });
    r.count('webq8.verify.dropped', 0, attrs); // nothing to count: no series
    r.count('webq8.verify.dropped', -1, attrs);
    r.recordError('INPUT', attrs);
    expect(r.stats({ modelId: 'mlp' }).errors).toEqual({ INPUT: 1 });
    const parsed = parseExport(JSON.parse(encodeMetrics(r.collect())[0]!)) as { counters: { metric: string; attrs: Record<string, unknown>; count: number }[] };
    const counters = parsed.counters.map((c) => [c.metric, c.count, c.attrs['webq8.output'] ?? null, c.attrs['error.type'] ?? null]);
    expect(counters.sort()).toEqual([
      ['webq8.errors', 1, null, 'INPUT'],
      ['webq8.verify.checks', 5, null, null],
      ['webq8.verify.divergences', 1, 'y', null],
    ]);
    expect(r.collect().errors).toEqual([]);
    r.count('webq8.verify.checks', 1, attrs);
    expect(r.collect().errors).toMatchObject([{ metric: 'webq8.verify.checks', count: 1 }]);
  });
});
