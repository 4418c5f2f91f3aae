// The demo's plots (demo/plot.js) and the try section's figures (demo/try-report.js): marks per
// datum, a single sample still drawn, nearest-rank percentiles, seeded inputs for symbolic
// dimensions, placement rows per quantized op, and output errors computed by hand.
import { describe, expect, it } from 'vitest';
import { cdfSvg, histogramSvg, linesSvg, percentile, sparklineSvg, stripSvg } from '../../../demo/plot.js';
import { compareOutputs, placementRows, seededFeeds, symbolicDims } from '../../../demo/try-report.js';
import type { Placement, TensorLike, ValueInfo } from '../../../src/types';

const marks = (svg: string, tag = '\\w+') => svg.match(new RegExp(`<${tag} class="mark`, 'g'))?.length ?? 0;

describe('plot.js', () => {
  it('draws one CDF curve per series, p50/p95 dots and the warm-up apart; one sample is a step', () => {
    const svg = cdfSvg([
      { label: 'a', values: [3, 1, 2], marks: [{ label: 'p50', x: 2 }], extra: [{ label: 'warm-up', x: 9 }] },
      { label: 'b', values: [5] },
    ]);
    expect(svg.match(/<path class="mark" data-series="[ab]"/g)).toHaveLength(2);
    expect(marks(svg, 'circle')).toBe(1);
    expect(svg.match(/<path class="mark extra"/g)).toHaveLength(1);
    // b's single sample: straight up from fraction 0 to 1 at one x.
    expect(svg).toMatch(/data-series="b" d="M([\d.]+),[\d.]+V[\d.]+"/);
    expect(cdfSvg([{ label: 'a', values: [] }])).toContain('no data');
  });

  it('draws one strip mark per step, widths in proportion, a row per plan; lines, sparkline and histogram marks', () => {
    const svg = stripSvg([
      {
        label: 'k',
        steps: [
          { label: 's0', kind: 'ort', ms: 1 },
          { label: 's1', kind: 'kernel', ms: 3 },
        ],
      },
      { label: 'o', steps: [{ label: 'all', kind: 'ort', ms: 2 }] },
    ]);
    expect(marks(svg, 'rect')).toBe(3);
    const widths = [...svg.matchAll(/<rect class="mark"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[1]! / widths[0]!).toBeCloseTo(3, 1);
    expect(svg.match(/<g data-row=/g)).toHaveLength(2);
    expect(
      marks(
        linesSvg([
          {
            label: 'p50',
            points: [
              [0, 1],
              [1, 2],
            ],
          },
          { label: 'x', points: [] },
        ]),
        'path',
      ),
    ).toBe(1);
    expect(marks(sparklineSvg([1, 2, 3]), 'path')).toBe(1);
    expect(marks(histogramSvg([1, 1, 1, 10], { bins: 3 }), 'rect')).toBe(2);
  });

  it('takes nearest-rank percentiles and escapes labels', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(percentile([], 0.5)).toBeNaN();
    expect(stripSvg([{ label: '<x>', steps: [] }])).toContain('&#60;x&#62;');
  });
});

describe('try-report.js', () => {
  const inputs: ValueInfo[] = [
    { name: 'ids', type: 'int64', dims: ['batch', 'seq'] },
    { name: 'x', type: 'float32', dims: ['batch', 4, null] },
  ];

  it('sizes named symbols once across inputs and unnamed ones per axis; float inputs seeded, integer ones zero', () => {
    expect(symbolicDims(inputs)).toEqual([
      { key: 'batch', size: 1 },
      { key: 'seq', size: 32 },
      { key: 'x[2]', size: 32 },
    ]);
    const feeds = seededFeeds(inputs, { batch: 2, seq: 3, 'x[2]': 5 });
    expect(feeds.ids!.dims).toEqual([2, 3]);
    expect(feeds.ids!.data).toEqual(new BigInt64Array(6));
    expect(feeds.x!.dims).toEqual([2, 4, 5]);
    const x = feeds.x!.data as Float32Array;
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x)).toBeLessThan(1);
    expect(seededFeeds(inputs, { batch: 2, seq: 3, 'x[2]': 5 }).x!.data).toEqual(x); // seeded: the same every time
  });

  it('lists each kernel step and each int8 fallback with where it runs on either plan', () => {
    const placement: Placement = {
      kernels: [{ pattern: 'quantize_dynamic', ops: ['QuantizedMatMul'], nodes: ['a_quant', 'a_cast'] }],
      kernelNodes: 2,
      ortNodes: 10,
      ortOps: {},
      segments: 2,
      fallbacks: [{ node: 'b_quant', op: 'MatMulInteger', reason: 'the zero point is not a constant' }],
      cpuFallbackOps: { MatMulInteger: 1 },
    };
    expect(placementRows(placement)).toEqual([
      {
        node: 'a_quant',
        replaces: 2,
        op: 'QuantizedMatMul',
        kernelsPlan: 'webq8 kernel',
        ortPlan: 'ORT, CPU fallback',
        why: 'pattern quantize_dynamic',
      },
      {
        node: 'b_quant',
        replaces: 1,
        op: 'MatMulInteger',
        kernelsPlan: 'ORT, CPU fallback',
        ortPlan: 'ORT, CPU fallback',
        why: 'no webq8 kernel: the zero point is not a constant',
      },
    ]);
  });

  it('compares outputs by relative L2 and max |difference|', () => {
    const t = (data: number[]): TensorLike => ({ type: 'float32', dims: [data.length], data: new Float32Array(data) });
    const c = compareOutputs(t([3, 4.5]), t([3, 4]));
    expect(c.relL2).toBeCloseTo(0.5 / 5, 6);
    expect(c.maxAbs).toBeCloseTo(0.5, 6);
    expect(compareOutputs(t([1, 1]), t([0, 0]))).toMatchObject({ relL2: Math.SQRT2, note: expect.stringContaining('absolute') });
    expect(compareOutputs(t([NaN, 1]), t([1, 1])).relL2).toBeNaN();
    expect(compareOutputs(t([1]), t([1, 2])).note).toContain('shape');
  });
});
