// The riskiest joint: ORT output kept on the GPU → webq8's WGSL kernel on ORT's own device →
// the next ORT session via Tensor.fromGpuBuffer, with no readback in between.
import { expect, handoffPlan, test } from './fixtures';

test('ORT → WGSL affine → ORT on one GPUDevice, checked against the CPU', async ({ runtimePage: page }) => {
  const rows = 3,
    cols = 37; // odd sizes: not a multiple of the workgroup
  const c1 = Float32Array.from({ length: cols }, (_, i) => i * 0.25 - 3);
  const c2 = Float32Array.from({ length: cols }, (_, i) => 1.5 - i * 0.125);
  const result = await page.evaluate(
    async ({ plan, rows, cols, c1, c2 }) => {
      const { rt } = globalThis.webq8Test!;
      const { loadPlan } = await import('/dist/advanced.js');
      const steps = plan.steps.map((s) => (s.kind === 'ort' ? { ...s, model: new Uint8Array(s.model) } : s));
      const model = await loadPlan(rt, { ...plan, steps }, { backend: 'webgpu' });
      const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i) * 10);
      const expected = x.map((v, i) => ((v + c1[i % cols]!) * 2 + 1) * c2[i % cols]!);
      const runs = [];
      for (let r = 0; r < 3; r++) {
        const z = (await model.run({ x: { type: 'float32', dims: [rows, cols], data: x.slice() } })).z!;
        runs.push({
          maxDiff: Math.max(...(z.data as Float32Array).map((v, i) => Math.abs(v - expected[i]!))),
          dims: z.dims,
          counters: model.stats().lastRun!.counters,
        });
      }
      const info = model.info;
      return { runs, backend: info.backend.backend, inputs: info.inputs };
    },
    { plan: handoffPlan(rows, cols, c1, c2), rows, cols, c1: [...c1], c2: [...c2] },
  );
  expect(result.backend).toBe('webgpu');
  expect(result.inputs).toEqual([{ name: 'x', type: 'float32', dims: [rows, cols] }]);
  for (const run of result.runs) {
    expect(run.dims).toEqual([rows, cols]);
    expect(run.maxDiff).toBeLessThan(1e-4);
    // Only the input goes up and the output comes down; the middle stays on the GPU. One submission for the kernel step.
    expect(run.counters).toMatchObject({ uploads: 1, readbacks: 1, ortSegments: 2, kernelDispatches: 1, submits: 1 });
  }
});

test("a plan made only of a kernel step gets ORT's device even with no model loaded", async ({ runtimePage: page }) => {
  const r = await page.evaluate(async () => {
    const { rt } = globalThis.webq8Test!;
    const { loadPlan } = await import('/dist/advanced.js');
    const plan = {
      inputs: ['x'],
      outputs: ['y'],
      steps: [{ kind: 'kernel' as const, op: 'affine', attrs: { scale: 3, bias: -1 }, inputs: ['x'], outputs: ['y'] }],
    };
    const m1 = await loadPlan(rt, plan, { backend: 'webgpu' });
    const x = () => ({ x: { type: 'float32' as const, dims: [5], data: Float32Array.from([0, 1, 2, 3, 4]) } });
    const first = Array.from((await m1.run(x())).y!.data as Float32Array);
    await m1.dispose(); // no model left: the runtime still holds ORT's device
    const m2 = await loadPlan(rt, plan, { backend: 'webgpu' });
    const second = Array.from((await m2.run(x())).y!.data as Float32Array);
    // Three consecutive kernel steps: recorded into one command encoder, submitted once per run;
    // their bind groups are made by the first run of a shape and reused by the next.
    const affine = (scale: number, bias: number, input: string, output: string) => ({
      kind: 'kernel' as const,
      op: 'affine',
      attrs: { scale, bias },
      inputs: [input],
      outputs: [output],
    });
    const chain = { inputs: ['x'], outputs: ['y'], steps: [affine(3, -1, 'x', 'a'), affine(0.5, 2, 'a', 'b'), affine(-2, 0, 'b', 'y')] };
    const m3 = await loadPlan(rt, chain, { backend: 'webgpu' });
    const runs = [];
    for (const n of [5, 5, 5, 700, 700]) {
      const y = Array.from(
        (await m3.run({ x: { type: 'float32', dims: [n], data: Float32Array.from({ length: n }, (_, i) => i % 5) } })).y!.data as Float32Array,
      );
      runs.push({ n, head: y.slice(0, 5), counters: m3.stats().lastRun!.counters });
    }
    return { first, second, runs };
  });
  expect(r.first).toEqual([-1, 2, 5, 8, 11]);
  expect(r.second).toEqual([-1, 2, 5, 8, 11]);
  for (const run of r.runs) {
    expect(run.head).toEqual([-1, 2, 5, 8, 11].map((v) => (v * 0.5 + 2) * -2));
    expect(run.counters).toMatchObject({ uploads: 1, readbacks: 1, ortSegments: 0, kernelDispatches: 3, submits: 1 });
  }
  // A new shape (5 → 700 elements) binds new pooled buffers: 3 bind groups, then none again.
  expect(r.runs.map((run) => run.counters.bindGroups)).toEqual([3, 0, 0, 3, 0]);
});
