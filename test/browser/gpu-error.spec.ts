// GpuError: when WebGPU rejects one of our kernels (here: a binding without STORAGE usage, a real
// validation error raised by the browser's WebGPU implementation), the run fails with GpuError —
// not a console warning and a wrong answer — and the model keeps serving afterwards.
import { expect, handoffPlan, test } from './fixtures';

test('a kernel dispatch WebGPU rejects fails the run with GpuError, and the model keeps serving', async ({ webq8Page: page }) => {
  const rows = 4,
    cols = 32;
  const c = Float32Array.from({ length: cols }, (_, i) => (i % 5) - 2);
  const r = await page.evaluate(
    async ({ plan, rows, cols, c }) => {
      const { createRuntime } = await import('/dist/index.js');
      const { loadPlan } = await import('/dist/advanced.js');
      const rt = createRuntime();
      const debug = (rt as unknown as Record<symbol, (c: string) => Promise<unknown>>)[Symbol.for('webq8.debug')]!;
      const steps = plan.steps.map((s) => (s.kind === 'ort' ? { ...s, model: new Uint8Array(s.model) } : s));
      const model = await loadPlan(rt, { ...plan, steps }, { backend: 'webgpu' });
      const x = Float32Array.from({ length: rows * cols }, (_, i) => (i % 9) * 0.25);
      const expected = x.map((v, i) => ((v + c[i % cols]!) * 2 + 1) * c[i % cols]!);
      const check = async () => {
        const z = (await model.run({ x: { type: 'float32', dims: [rows, cols], data: x.slice() } })).z!.data as Float32Array;
        return Math.max(...z.map((v, i) => Math.abs(v - expected[i]!)));
      };
      const before = await check();
      await debug('invalid-binding');
      const failed = await check().then(
        () => 'completed',
        (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }),
      );
      const after = [await check(), await check()];
      await rt.dispose();
      return { before, failed, after };
    },
    { plan: handoffPlan(rows, cols, c, c), rows, cols, c: [...c] },
  );
  expect(r.before).toBeLessThan(1e-5);
  expect(r.failed).toMatchObject({ name: 'GpuError', code: 'GPU_ERROR' });
  expect((r.failed as { message: string }).message).toMatch(/WebGPU rejected kernel steps 1\.\.1 of the plan: .+/);
  for (const d of r.after) expect(d).toBeLessThan(1e-5);
});

test('webq8/kernels: GpuContext.guard reports a rejected binding as GpuError; the prepared kernel still works', async ({ webq8Page: page }) => {
  const r = await page.evaluate(async () => {
    const k = await import('/dist/kernels.js');
    k.registerBuiltinKernels();
    const adapter = await navigator.gpu.requestAdapter();
    const ctx = new k.GpuContext(await adapter!.requestDevice());
    const step = k.prepareKernel(ctx, { op: 'affine', attrs: { scale: 3, bias: -1 } });
    // A uniform buffer where the shader declares read-only storage: WebGPU's validation rejects it.
    const bad = ctx.device.createBuffer({ size: 16, usage: k.BufferUsage.UNIFORM | k.BufferUsage.COPY_DST });
    const outcome = await (async () => {
      const { value, errors } = ctx.guard('affine on a uniform buffer', () => step.run([{ buffer: bad, type: 'float32', dims: [4] }]));
      for (const t of value) ctx.buffers.release(t.buffer);
      await errors;
      return 'no error';
    })().catch((e: Error & { code?: string }) => `${e.name}:${e.code}:${e.message}`);
    const good = ctx.upload(new Float32Array([1, 2, 3, 4]), 'x');
    const { value, errors } = ctx.guard('affine', () => step.run([{ buffer: good, type: 'float32', dims: [4] }]));
    await errors;
    const y = [...new Float32Array(await ctx.readback(value[0]!.buffer, 16))];
    ctx.dispose();
    return { outcome, y };
  });
  expect(r.outcome).toMatch(/^GpuError:GPU_ERROR:WebGPU rejected affine on a uniform buffer: .+/);
  expect(r.y).toEqual([2, 5, 8, 11]);
});
