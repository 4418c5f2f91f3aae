// How a release warms a version before it takes traffic: with a copy of recent real inputs, else with
// the inputs load-time warm-up makes (the same function, src/synthetic-feeds.ts), so a named symbolic
// dimension has one size across inputs, as the model's own checks demand.
import { describe, expect, it } from 'vitest';
import { warm, type Slot } from '../../../src/release/slot';
import type { ModelInfo, TensorMap, ValueInfo } from '../../../src/types';

/** A slot whose server records what it was asked to run; `fail` rejects every run. */
function slot(inputs: ValueInfo[], fail = false) {
  const runs: TensorMap[] = [];
  const server = {
    submit: async (feeds: TensorMap) => {
      runs.push(feeds);
      if (fail) throw Object.assign(new Error('shape'), { code: 'INPUT' });
      return {};
    },
    dispose: async () => undefined,
  } as unknown as Slot['server'];
  const s: Slot = {
    version: { version: '2', url: 'u', sha256: '0'.repeat(64), size: 1 },
    info: { inputs } as ModelInfo,
    server,
    stats: {} as Slot['stats'],
    inflight: 0,
    retired: false,
  };
  return { s, runs };
}

const shapes = (feeds: TensorMap) => Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, [t.type, t.dims, t.data.length]]));

describe('release warm-up', () => {
  it('without recent inputs: zeros whose named symbols agree across inputs (batch 1 first, others as load-time warm-up)', async () => {
    const { s, runs } = slot([
      { name: 'ids', type: 'int64', dims: ['batch', 'sequence'] },
      { name: 'mask', type: 'int64', dims: ['batch', 'sequence'] },
      { name: 'h', type: 'float32', dims: [2, 'batch', 'sequence'] },
    ]);
    await warm(s, null);
    expect(runs.map(shapes)).toEqual([{ ids: ['int64', [1, 32], 32], mask: ['int64', [1, 32], 32], h: ['float32', [2, 1, 32], 64] }]);
    expect(s.inflight).toBe(0);
    // A failure on made-up inputs proves nothing about real ones: ignored.
    const failing = slot([{ name: 'x', type: 'float32', dims: [1, 4] }], true);
    await expect(warm(failing.s, null)).resolves.toBeUndefined();
    expect(failing.runs).toHaveLength(1);
  });

  it('with recent inputs: runs a copy (the original stays whole), and a failure throws', async () => {
    const recent: TensorMap = { x: { type: 'float32', dims: [1, 2], data: Float32Array.of(3, 4) } };
    const { s, runs } = slot([{ name: 'x', type: 'float32', dims: ['b', 2] }]);
    await warm(s, recent);
    expect(runs[0]).toEqual(recent);
    expect(runs[0]!.x!.data).not.toBe(recent.x!.data);
    const failing = slot([{ name: 'x', type: 'float32', dims: ['b', 2] }], true);
    await expect(warm(failing.s, recent)).rejects.toMatchObject({ code: 'INPUT' });
    expect(failing.s.inflight).toBe(0);
  });

  it('an input that is not a tensor: no warm-up run without recent inputs', async () => {
    const { s, runs } = slot([
      { name: 'x', type: 'float32', dims: [1, 2] },
      { name: 'seq', type: 'unknown', dims: [] },
    ]);
    await warm(s, null);
    expect(runs).toEqual([]);
  });
});
