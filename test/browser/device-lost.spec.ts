// Device loss: the in-flight request fails with a named error, the next request rebuilds GPU
// state on ORT's (new) device and gets correct results again.
import { expect, handoffPlan, test } from './fixtures';

test('a lost GPU device fails the in-flight run with DeviceLostError, and the next run rebuilds', async ({ webq8Page: page }) => {
  const rows = 64,
    cols = 256;
  const c = Float32Array.from({ length: cols }, (_, i) => (i % 7) - 3);
  const r = await page.evaluate(
    async ({ plan, rows, cols, c }) => {
      const { createRuntime } = await import('/dist/index.js');
      const { loadPlan } = await import('/dist/advanced.js');
      const rt = createRuntime();
      const steps = plan.steps.map((s) => (s.kind === 'ort' ? { ...s, model: new Uint8Array(s.model) } : s));
      const model = await loadPlan(rt, { ...plan, steps }, { backend: 'webgpu' });
      const x = Float32Array.from({ length: rows * cols }, (_, i) => (i % 11) * 0.5);
      const expected = x.map((v, i) => ((v + c[i % cols]!) * 2 + 1) * c[i % cols]!);
      const check = async () => {
        const z = (await model.run({ x: { type: 'float32', dims: [rows, cols], data: x.slice() } })).z!.data as Float32Array;
        return Math.max(...z.map((v, i) => Math.abs(v - expected[i]!)));
      };
      const before = await check();
      const inFlight = check().then(
        () => 'completed',
        (e: Error & { code?: string }) => `${e.name}:${e.code}`,
      );
      await (rt as unknown as Record<symbol, (c: string) => Promise<void>>)[Symbol.for('webq8.debug')]!('lose-device');
      const during = await inFlight;
      const after = [await check(), await check()];
      await rt.dispose();
      return { before, during, after };
    },
    { plan: handoffPlan(rows, cols, c, c), rows, cols, c: [...c] },
  );
  expect(r.before).toBeLessThan(1e-4);
  expect(r.during).toBe('DeviceLostError:DEVICE_LOST');
  for (const d of r.after) expect(d).toBeLessThan(1e-4);
});
