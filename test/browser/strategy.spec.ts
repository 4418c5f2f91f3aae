// 'auto' per shape class and model.profile in real Chromium: a q8 MLP loaded with strategy 'auto'
// keeps both plans; a new shape class is answered at once on the plan of its nearest measured
// class, both plans are measured in idle time, and the decision then holds; every answer agrees
// with ORT's own WASM kernels (the oracle) whichever plan ran it. A profiled run accounts for every
// plan step.
import { quantizeDynamic } from '../../src/graph/quantize';
import { mlp } from '../unit/graph/models';
import { expect, test } from './fixtures';

const K = 64;
const MODEL = [...quantizeDynamic(mlp(K, 48, { second: true }), { perChannel: true }).bytes];

test("'auto' answers a new shape class at once, measures it in idle time, then runs the plan it kept, matching ORT WASM at every M", async ({
  webq8Page: page,
}) => {
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
        const want = (await wasm.run(feeds(m))).y!.data as Float32Array;
        const diff = (y: Float32Array) => want.reduce((d, v, j) => Math.max(d, Math.abs(y[j]! - v)), 0);
        const one = async () => {
          const y = (await auto.run(feeds(m))).y!.data as Float32Array;
          return { strategy: auto.stats().lastRun!.strategy!, counters: auto.stats().lastRun!.counters, diff: diff(y) };
        };
        const first = await one();
        // The measurement runs while the model is idle: ask again, with pauses, until the class is decided (bounded).
        let later = await one();
        for (let i = 0; later.strategy.provisional && i < 600; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          later = await one();
        }
        rows.push({ m, runs: [first, later] });
      }
      const info = auto.info.strategy!;
      // warmup.shapes measures a class at load: its first request runs on the plan kept for it.
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
  console.log(JSON.stringify(r.rows.map((x) => ({ m: x.m, first: x.runs[0]!.strategy, later: x.runs[1]!.strategy }))));
  expect(r.info).toMatchObject({ requested: 'auto', perShape: true, probeClass: 'x:1' });
  expect(r.info.reason).toContain('measured in idle time');
  expect(r.afterWarmup).toMatchObject({ shapeClass: 'x:16', provisional: false });
  const decided = new Map<string, string>([['x:1', r.info.strategy]]); // measured at load by the probe
  for (const { m, runs } of r.rows) {
    const cls = `x:${m === 200 ? 256 : m}`;
    const [first, later] = runs;
    // The first request of a class not measured yet is answered at once on the plan of the nearest
    // measured class (here the one decided last: M only grows), with no measurement before it.
    expect(first!.strategy.shapeClass, `M=${m}`).toBe(cls);
    expect(first!.strategy.provisional, `M=${m}`).toBe(!decided.has(cls));
    if (first!.strategy.provisional) expect(first!.strategy.strategy, `M=${m}`).toBe([...decided.values()].at(-1));
    const s = later!.strategy;
    expect(s).toMatchObject({ shapeClass: cls, provisional: false });
    if (decided.has(cls)) expect(s.strategy).toBe(decided.get(cls));
    decided.set(cls, s.strategy);
    expect(s.measured.kernelsMs).toBeGreaterThan(0);
    expect(s.measured.ortMs).toBeGreaterThan(0);
    // Sampled (3 samples or more runs each), or decided by the sizing runs when one plan took 3× the other's time.
    const { kernelsMs, ortMs, runs: n } = s.measured;
    if (n === 1) expect(Math.max(kernelsMs, ortMs) / Math.min(kernelsMs, ortMs)).toBeGreaterThanOrEqual(3);
    else expect(n).toBeGreaterThanOrEqual(3);
    expect(s.strategy).toBe(s.measured.kernelsMs <= s.measured.ortMs ? 'kernels' : 'ort');
    for (const run of runs) {
      // What ran is what the strategy names (one plan per request): kernel dispatches only on the kernel plan.
      if (run.strategy.strategy === 'kernels') expect(run.counters.kernelDispatches).toBeGreaterThan(0);
      else expect(run.counters).toMatchObject({ kernelDispatches: 0, ortSegments: 1 });
      expect(run.diff, `M=${m}`).toBeLessThan(1e-4);
    }
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
  // The same work as a plain run, but a profiled run submits each kernel step on its own (to time it).
  const work = (c: object) => {
    const { uploads, readbacks, ortSegments, kernelDispatches } = c as Record<string, number>;
    return { uploads, readbacks, ortSegments, kernelDispatches };
  };
  expect(work(p.counters)).toEqual(work(r.kernels.lastRun));
  expect(p.counters.submits).toBe(kernelSteps.length);
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
