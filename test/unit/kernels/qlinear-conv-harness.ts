// Page side of test/browser/conv-qlinear.spec.ts: `installQLinearConvHarness` is serialized into the
// page by `page.evaluate`, so it is self-contained; it builds on `window.__gpuBase` (browser-harness.ts,
// installed first) and installs `window.__qconv`, whose `check` runs QLinearConv jobs through the
// registered `QLinearConv` step on every loop (direct, GEMM portable, GEMM dp4a where the browser
// has it) and compares each output bit for bit with the job's `want` (ONNX conformance data) or with
// onnxruntime-web's WASM answer (`window.__ort.results[oracle]`). All jobs of a loop go into one
// submission, and their outputs come back in one readback.

/** A tensor as plain data (JSON-safe). */
export interface PlainTensor {
  type: 'uint8' | 'int8' | 'int32' | 'float32';
  dims: number[];
  data: number[];
}

/** One QLinearConv run: the input, the step's constants and attrs, and the answer if known in Node. */
export interface QConvJob {
  x: PlainTensor;
  constants: Record<string, PlainTensor>;
  attrs: Record<string, unknown>;
  want?: number[];
}

type Failure = { i: number; kernel: string; at: number; got?: number; want?: number };

/** What the harness installs on `window.__qconv`. */
export interface QConvHarness {
  check(jobs: QConvJob[], oracle?: string): Promise<{ compared: Record<string, { elements: number; cases: number }>; failures: Failure[] }>;
}

declare global {
  interface Window {
    __qconv: QConvHarness;
  }
}

/** Installs `window.__qconv` (run it with `page.evaluate(installQLinearConvHarness)`). */
export async function installQLinearConvHarness(): Promise<void> {
  const { k, ctx, diff } = window.__gpuBase;
  type T = Parameters<typeof k.prepareKernel>[1]['constants'] extends Record<string, infer X> | undefined ? X : never;
  const tensor = window.__gpuBase.tensor as (type: PlainTensor['type'], dims: number[], data: ArrayLike<number>) => T;
  const of = (t: PlainTensor) => tensor(t.type, t.dims, t.data);
  const kernels = () => ['direct', 'gemm/portable', ...(k.hasDp4a() ? ['gemm/dp4a'] : [])];

  /** Copies every output into one mappable buffer: one submission, one map. */
  async function readAll(outs: { buffer: GPUBuffer; type: string; dims: number[] }[]): Promise<number[][]> {
    const counts = outs.map((o) => o.dims.reduce((a, b) => a * b, 1));
    const sizes = counts.map((n) => Math.ceil(n / 4) * 4);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const total = Math.max(4, offsets.at(-1)! + sizes.at(-1)!);
    const dst = ctx.device.createBuffer({ size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'test.qconv.readback' });
    const enc = ctx.device.createCommandEncoder();
    outs.forEach((o, i) => enc.copyBufferToBuffer(o.buffer, 0, dst, offsets[i]!, sizes[i]!));
    ctx.device.queue.submit([enc.finish()]);
    try {
      await dst.mapAsync(GPUMapMode.READ);
      const bytes = dst.getMappedRange().slice(0);
      return outs.map((o, i) => [...new (o.type === 'int8' ? Int8Array : Uint8Array)(bytes, offsets[i], counts[i])]);
    } finally {
      dst.destroy();
      for (const o of outs) ctx.buffers.release(o.buffer);
    }
  }

  async function check(jobs: QConvJob[], oracle?: string) {
    const ort = oracle === undefined ? undefined : (window.__ort.results[oracle] ?? {});
    const failures: Failure[] = [];
    const compared: Record<string, { elements: number; cases: number }> = {};
    for (const kernel of kernels()) {
      const [layout, variant = 'portable'] = kernel.split('/');
      const steps = jobs.map((j) => {
        const constants = Object.fromEntries(Object.entries(j.constants).map(([n, t]) => [n, of(t)]));
        return k.prepareKernel(ctx, { op: 'QLinearConv', attrs: { ...j.attrs, layout, variant }, constants });
      });
      const outs = ctx.record(() =>
        steps.map((s, i) => {
          const x = of(jobs[i]!.x);
          const input = { buffer: ctx.upload(x.data, 'test.input'), type: x.type, dims: [...x.dims] };
          const [y] = s.run([input]);
          ctx.buffers.release(input.buffer);
          return y!;
        }),
      );
      const got = await readAll(outs);
      for (const s of steps) s.dispose();
      const cnt = (compared[kernel] ??= { elements: 0, cases: 0 });
      got.forEach((g, i) => {
        const want = jobs[i]!.want ?? ort?.[i]?.y;
        if (!want) return;
        const at = diff(g, want);
        if (at !== -1) failures.push({ i, kernel, at, got: g[at], want: want[at] });
        cnt.elements += g.length;
        cnt.cases++;
      });
    }
    return { compared, failures };
  }

  window.__qconv = { check };
}
