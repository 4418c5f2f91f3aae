// 'auto' per shape class and model.profile in real Chromium: a q8 MLP loaded with strategy 'auto'
// keeps both plans and measures each shape class on its first request; every answer agrees with
// ORT's own WASM kernels (the oracle) whichever plan ran it. A profiled run accounts for every
// plan step.
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const K = 64;
const MODEL = [...quantizeDynamic(mlp(K, 48, { second: true }), { perChannel: true }).bytes];

test("'auto' measures each new shape class once, runs the plan it kept, and matches ORT WASM at every M", async ({ webq8Page: page }) => {
  test.setTimeout(180_000);
  const r = await page.evaluate(
    async ({ model, k }) => {
      const { createRuntime } = await import('/dist/index.js');
      const feeds = (m: number) => ({
        x: { type: 'float32' as const, dims: [m, k], data: Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37 + m)) },
      });
      const rt = createRuntime();
      const auto = await rt.load(new Uint8Array(model), { backend: 'webgpu', strategy: 'auto', cache: 'bypass' });
      const wasm = await rt.load(new Uint8Array(model), { backend: 'wasm' });
      const rows = [];
      for (const m of [1, 16, 256, 200]) {
        const runs = [];
        for (let i = 0; i < 2; i++) {
          const y = (await auto.run(feeds(m))).y!.data as Float32Array;
          const want = (await wasm.run(feeds(m))).y!.data as Float32Array;
          let diff = 0;
          for (let j = 0; j < want.length; j++) diff = Math.max(diff, Math.abs(y[j]! - want[j]!));
          runs.push({ strategy: auto.stats().lastRun!.strategy!, counters: auto.stats().lastRun!.counters, diff });
        }
        rows.push({ m, runs });
      }
      const info = auto.info.strategy!;
      // warmup.shapes measures a class at load: the first request of that class measures nothing.
      const warmed = await rt.load(new Uint8Array(model), {
        backend: 'webgpu',
        strategy: 'auto',
        cache: 'bypass',
        warmup: { runs: 1, shapes: { x: [16, k] } },
      });
      await warmed.run(feeds(16));
      const afterWarmup = warmed.stats().lastRun!.strategy!;
      await rt.dispose();
      return { rows, info, afterWarmup };
    },
    { model: MODEL, k: K },
  );
  console.log(JSON.stringify(r.rows.map((x) => ({ m: x.m, ...x.runs[0]!.strategy }))));
  expect(r.info).toMatchObject({ requested: 'auto', perShape: true, probeClass: 'x:1' });
  expect(r.info.reason).toContain('each new shape class is measured on its first request');
  expect(r.afterWarmup).toMatchObject({ shapeClass: 'x:16', measuredNow: false });
  const seen = new Set<string>(['x:1']); // measured at load by the probe
  for (const { m, runs } of r.rows) {
    const cls = `x:${m === 200 ? 256 : m}`;
    for (const [i, run] of runs.entries()) {
      const s = run.strategy;
      expect(s.shapeClass, `M=${m}`).toBe(cls);
      // Measured on the class's first request only (M = 1 at load, M = 200 shares 256's class).
      expect(s.measuredNow, `M=${m} run ${i}`).toBe(i === 0 && !seen.has(cls));
      expect(s.measured.kernelsMs).toBeGreaterThan(0);
      expect(s.measured.ortMs).toBeGreaterThan(0);
      // Sampled (3 samples or more runs each), or decided by the sizing runs when one plan took 3× the other's time.
      const { kernelsMs, ortMs, runs: n } = s.measured;
      if (n === 1) expect(Math.max(kernelsMs, ortMs) / Math.min(kernelsMs, ortMs)).toBeGreaterThanOrEqual(3);
      else expect(n).toBeGreaterThanOrEqual(3);
      expect(s.strategy).toBe(s.measured.kernelsMs <= s.measured.ortMs ? 'kernels' : 'ort');
      // What ran is what the decision names: kernel dispatches only on the kernel plan.
      if (s.strategy === 'kernels') expect(run.counters.kernelDispatches).toBeGreaterThan(0);
      else expect(run.counters).toMatchObject({ kernelDispatches: 0, ortSegments: 1 });
      expect(run.diff, `M=${m}`).toBeLessThan(1e-4);
    }
    seen.add(cls);
  }
});

test("model.profile times every plan step, keeps the caller's arrays, and refuses feeds the model does not take", async ({ webq8Page: page }) => {
  test.setTimeout(120_000);
  const r = await page.evaluate(
    async ({ model, k }) => {
      const { createRuntime } = await import('/dist/index.js');
      const { profile: profileOf } = await import('/dist/advanced.js');
      const x = () => ({ x: { type: 'float32' as const, dims: [4, k], data: Float32Array.from({ length: 4 * k }, (_, i) => Math.cos(i)) } });
      const rt = createRuntime();
      const out: Record<string, unknown> = {};
      for (const [name, options] of [
        ['kernels', { backend: 'webgpu', strategy: 'kernels' }],
        ['ort', { backend: 'webgpu', strategy: 'ort' }],
        ['wasm', { backend: 'wasm' }],
      ] as const) {
        const m = await rt.load(new Uint8Array(model), { ...options, cache: 'bypass' });
        const feeds = x();
        const profile = await profileOf(m, feeds);
        await m.run(x());
        out[name] = { profile, kept: feeds.x.data.length, lastRun: m.stats().lastRun!.counters };
        if (name === 'kernels') {
          const bad = await profileOf(m, { y: x().x }).catch((e: { name: string; code: string }) => ({ name: e.name, code: e.code }));
          const after = (await m.run(x())).y!.dims;
          out.bad = { bad, after };
        }
        await m.dispose();
      }
      await rt.dispose();
      return out as Record<'kernels' | 'ort' | 'wasm', { profile: import('../../src/protocol').RunProfile; kept: number; lastRun: Record<string, number> }> & {
        bad: { bad: unknown; after: number[] };
      };
    },
    { model: MODEL, k: K },
  );
  console.log(JSON.stringify(r.kernels.profile));
  const p = r.kernels.profile;
  expect(p.plan).toBe('kernels');
  // Every step of the plan once, in order: its ORT segments and its kernel steps, as a plain run counts them.
  expect(p.steps.map((s) => s.index)).toEqual(p.steps.map((_, i) => i));
  expect(p.steps.filter((s) => s.kind === 'ort').length).toBe(r.kernels.lastRun.ortSegments);
  const kernelSteps = p.steps.filter((s) => s.kind === 'kernel');
  expect(kernelSteps.length).toBeGreaterThanOrEqual(2); // two int8 matmuls, at least one step each
  expect(r.kernels.lastRun.kernelDispatches).toBeGreaterThanOrEqual(kernelSteps.length);
  expect(kernelSteps.every((s) => /^[A-Z][A-Za-z0-9]+$/.test(s.label))).toBe(true);
  expect(p.steps.filter((s) => s.kind === 'ort').every((s) => s.label.startsWith('ORT → '))).toBe(true);
  const stepsMs = p.steps.reduce((a, s) => a + s.ms, 0);
  expect(p.steps.every((s) => s.ms >= 0)).toBe(true);
  expect(p.boundaryMs).toBeGreaterThanOrEqual(0);
  expect(stepsMs + p.readbackMs + p.boundaryMs).toBeCloseTo(p.totalMs, 5);
  expect(p.counters).toEqual(r.kernels.lastRun);
  for (const name of ['ort', 'wasm'] as const) {
    expect(r[name].profile.plan).toBe('ort');
    expect(r[name].profile.steps).toHaveLength(1);
    expect(r[name].profile.steps[0]).toMatchObject({ index: 0, kind: 'ort' });
  }
  // The caller's arrays are copied, not transferred.
  expect(r.kernels.kept).toBe(4 * K);
  expect(r.bad.bad).toEqual({ name: 'InputError', code: 'INPUT_INVALID' });
  expect(r.bad.after).toEqual([4, 48]);
});
