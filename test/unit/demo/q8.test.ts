// The demo's q8 panel rows (demo/q8.js): where each MatMul runs for every backend/strategy/model
// combination the page can show, the strategy rows, and the per-step profile.
import { describe, expect, it } from 'vitest';
import { placementRows, placementSummary, profileRows, strategyRows, timingsRows } from '../../../demo/q8.js';
import type { ModelInfo, Placement, StrategyDecision } from '../../../src/types';

const REPORT = {
  quantized: ['mm.10', 'mm.0', 'mm.2'],
  skipped: [{ node: 'mm.4', reason: 'the weight is not a constant' }],
};
const PLACEMENT: Placement = {
  kernels: [
    { pattern: 'quantize_dynamic', ops: ['QuantizedMatMul'], nodes: ['mm.0_quant', 'mm.1_output_quantized_cast', 'mm.0_output_scale_mul'] },
    { pattern: 'quantize_dynamic', ops: ['QuantizedMatMul'], nodes: ['mm.10_quant', 'mm.10_output_scale_mul'] },
    { pattern: 'DynamicQuantizeLinear', ops: ['DynamicQuantizeLinear'], nodes: ['x_QuantizeLinear'] },
  ],
  kernelNodes: 6,
  ortNodes: 40,
  ortOps: { Conv: 30, MatMul: 1 },
  segments: 3,
  fallbacks: [{ node: 'mm.2_quant', op: 'MatMulInteger', reason: 'the zero point is not a constant' }],
  cpuFallbackOps: {},
};

function info(backend: 'webgpu' | 'wasm', strategy: StrategyDecision, placement?: Placement): ModelInfo {
  return { backend: { backend, requested: backend, reason: `backend ${backend}` }, strategy, ...(placement ? { placement } : {}) } as unknown as ModelInfo;
}
const KERNELS: StrategyDecision = { strategy: 'kernels', requested: 'kernels', reason: "webq8's kernels were requested." };
const ORT: StrategyDecision = {
  strategy: 'ort',
  requested: 'auto',
  reason: 'Measured on this device: plain ORT 10 ms vs 12 ms.',
  measured: { kernelsMs: 12, ortMs: 10, runs: 2 },
};
type Row = { matmul: string; weights: string; runsOn: string; why: string };
const byName = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.matmul, r]));

describe('placementRows', () => {
  it('q8 with the kernels plan: matched MatMuls on webq8 kernels, a fallback and a float MatMul on ORT with their reasons, in graph order', () => {
    const rows: Row[] = placementRows('q8', REPORT, info('webgpu', KERNELS, PLACEMENT));
    expect(rows.map((r) => r.matmul)).toEqual(['mm.0', 'mm.2', 'mm.4', 'mm.10']);
    const r = byName(rows);
    expect(r['mm.0']).toMatchObject({ weights: 'int8', runsOn: 'webq8 kernel: QuantizedMatMul' });
    expect(r['mm.0']!.why).toContain('quantize_dynamic');
    expect(r['mm.10']!.runsOn).toBe('webq8 kernel: QuantizedMatMul');
    expect(r['mm.2']).toMatchObject({ weights: 'int8', runsOn: 'ORT, WebGPU EP', why: 'no webq8 kernel: the zero point is not a constant' });
    expect(r['mm.4']).toMatchObject({ weights: 'float', runsOn: 'ORT, WebGPU EP', why: 'kept float by webq8 quantize: the weight is not a constant' });
  });

  it('q8 when plain ORT was chosen: the matched MatMuls stay in ORT, with the decision as the reason', () => {
    const r = byName(placementRows('q8', REPORT, info('webgpu', ORT, PLACEMENT)));
    expect(r['mm.0']).toMatchObject({ weights: 'int8', runsOn: 'ORT, WebGPU EP (MatMulInteger on the CPU)', why: `plain ORT was chosen: ${ORT.reason}` });
  });

  it('q8 on WASM (no placement): every MatMul in ORT on the CPU, with the backend decision as the reason', () => {
    const wasm: StrategyDecision = { strategy: 'ort', requested: 'auto', reason: 'The backend is wasm: nothing to partition.' };
    const rows: Row[] = placementRows('q8', REPORT, info('wasm', wasm));
    expect(rows.every((row) => row.runsOn === 'ORT, WASM EP (CPU)')).toBe(true);
    expect(byName(rows)['mm.0']!.why).toBe(wasm.reason);
  });

  it('fp32: every MatMul float, in ORT, even with a kernels decision', () => {
    const rows: Row[] = placementRows('fp32', REPORT, info('webgpu', KERNELS, { ...PLACEMENT, kernels: [] }));
    expect(rows).toHaveLength(4);
    expect(rows.every((row) => row.weights === 'float' && row.runsOn === 'ORT, WebGPU EP')).toBe(true);
  });
});

describe('placementSummary', () => {
  it('counts kernel steps by op, ORT nodes and segments', () => {
    expect(placementSummary(info('webgpu', KERNELS, PLACEMENT))).toBe(
      "webq8 kernel steps: 2 QuantizedMatMul, 1 DynamicQuantizeLinear replacing 6 nodes; ORT: 40 nodes in 3 segments; ops ORT's WebGPU EP would run on the CPU: none.",
    );
    expect(placementSummary(info('wasm', ORT))).toBe('No placement: on wasm the model runs in one ORT session (backend wasm).');
  });
});

describe('strategyRows', () => {
  it('shows the measured figures of an auto decision, and why nothing was measured otherwise', () => {
    expect(strategyRows(info('webgpu', { ...ORT, cached: true }))).toEqual([
      ['Strategy', 'ort (requested auto), decision from the artifact cache of an earlier load'],
      ['Why', ORT.reason],
      ['Measured', 'webq8 kernels 12.0 ms · plain ORT 10.0 ms (median of 2 timed runs each, seeded random probe input, on this device)'],
    ]);
    // 'auto' per shape class: the decision that ran the last input, after the load's.
    const perShape = { ...ORT, perShape: true, probeClass: 'x:1x32' };
    const lastRun = {
      strategy: { strategy: 'kernels' as const, shapeClass: 'x:1x256', measured: { kernelsMs: 5, ortMs: 9, runs: 1 }, provisional: false },
    };
    expect(strategyRows(info('webgpu', perShape), lastRun).slice(2)).toEqual([
      ['Measured', 'webq8 kernels 12.0 ms · plain ORT 10.0 ms (median of 2 timed runs each, seeded random probe input of class x:1x32, on this device)'],
      ['This input', 'kernels for shape class x:1x256: webq8 kernels 5.0 ms · plain ORT 9.0 ms (median of 1 timed run each, decided for this class)'],
    ]);
    expect(strategyRows(info('webgpu', { ...ORT, measured: { kernelsMs: NaN, ortMs: 3, runs: 2 } }))[2]![1]).toContain('webq8 kernels failed');
    expect(strategyRows(info('webgpu', KERNELS))[2]).toEqual(['Measured', "not measured: strategy 'kernels' was requested"]);
    const wasm: StrategyDecision = { strategy: 'ort', requested: 'kernels', reason: 'The backend is wasm.' };
    expect(strategyRows(info('wasm', wasm))[2]).toEqual(['Measured', 'not measured: on wasm there is no kernel plan to choose']);
  });
});

describe('profileRows', () => {
  it('lists steps in plan order with their share of the run, marks the slowest, then boundary, readback and total', () => {
    const rows = profileRows({
      steps: [
        { index: 1, kind: 'kernel', label: 'QuantizedMatMul', ms: 6 },
        { index: 0, kind: 'ort', label: 'segment 0', ms: 2 },
      ],
      boundaryMs: 1,
      readbackMs: 1,
      totalMs: 10,
      plan: 'kernels',
    });
    expect(rows).toEqual([
      ['0', 'ORT segment: segment 0', '2.0 ms', '20.0 %'],
      ['1', 'webq8 kernel: QuantizedMatMul (slowest)', '6.0 ms', '60.0 %'],
      ['', 'between steps', '1.0 ms', '10.0 %'],
      ['', 'readback', '1.0 ms', '10.0 %'],
      ['', 'total (kernels plan)', '10.0 ms', ''],
    ]);
  });

  it('without model.profile: the last run phase totals with the counters', () => {
    const rows = timingsRows({
      timings: { queueMs: 0.5, runMs: 20, ortMs: 15, kernelsMs: 3, readbackMs: 1 },
      counters: { uploads: 1, readbacks: 1, ortSegments: 3, kernelDispatches: 4 },
    });
    expect(rows.map((r: string[]) => `${r[1]}: ${r[2]}`)).toEqual([
      'ORT (3 segments): 15.0 ms',
      'webq8 kernels, encoding (4 dispatches): 3.0 ms',
      'readback (1 output; 1 input upload): 1.0 ms',
      'run, in the worker: 20.0 ms',
      'queued before it: 0.5 ms',
    ]);
  });
});
