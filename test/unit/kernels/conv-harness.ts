// Page side of test/browser/conv-kernels.spec.ts: `installConvHarness` is serialized into the page
// by `page.evaluate`, so it is self-contained; it builds on `window.__gpuBase` (the module, GpuContext
// and helpers of browser-harness.ts, installed first) and installs `window.__conv`, whose methods run conv cases through the registered `ConvInteger` and
// `QuantizedConv` steps on every loop (direct, GEMM portable, GEMM dp4a when the browser has it)
// and compare with the CPU reference and, when an oracle name is given, with onnxruntime-web's
// WASM ConvInteger (`window.__ort.results[oracle]`). Each method counts what it compared.
import type { ConvCase } from './conv-cases';
import type { OnnxCase } from './onnx-cases';

type Kernels = typeof import('../../../src/kernels/index');
type Failure = { i: number; what: string; at?: number; got?: number; want?: number };

/** What the harness installs on `window.__conv`. */
export interface ConvHarness {
  /** The loops this browser runs: `direct`, `gemm/portable`, and `gemm/dp4a` where supported. */
  kernels(): string[];
  conformance(cases: OnnxCase[], attrs: Record<string, unknown>[]): Promise<{ name: string; kernel: string; mismatch: number; got: number[] }[]>;
  random(cases: ConvCase[], oracle: string): Promise<{ compared: Record<string, { ref: number; ort: number; cases: number }>; failures: Failure[] }>;
  fused(cases: ConvCase[], tol: number): Promise<{ compared: number; failures: Failure[] }>;
}

declare global {
  interface Window {
    __conv: ConvHarness;
  }
}

/** Installs `window.__conv` (run it with `page.evaluate(installConvHarness)`). */
export async function installConvHarness(): Promise<void> {
  // The int8 harness (browser-harness.ts, installed first) owns the module, context and helpers.
  const { k, ctx } = window.__gpuBase;
  type T = Parameters<Kernels['prepareKernel']>[1]['constants'] extends Record<string, infer X> | undefined ? X : never;
  type G = { buffer: GPUBuffer; type: T['type']; dims: number[] };
  type Ty = 'uint8' | 'int8' | 'int32' | 'float32';
  const tensor = window.__gpuBase.tensor as (type: Ty, dims: number[], data: ArrayLike<number>) => T;
  const gpu = window.__gpuBase.gpu as (t: T) => G;
  const read = window.__gpuBase.read as (g: G) => Promise<number[]>;
  const diff = window.__gpuBase.diff;
  const kernels = () => ['direct', 'gemm/portable', ...(k.hasDp4a() ? ['gemm/dp4a'] : [])];
  const kernelAttrs = (name: string) => {
    const [layout, variant = 'portable'] = name.split('/');
    return { layout, variant };
  };
  const intOf = (t: { type: string; dims: number[]; data: number[] }) => tensor(t.type as Ty, t.dims, t.data);

  type Job = { out: G; free?: () => void; check: (got: number[]) => void };
  const batched = window.__gpuBase.batched as (count: number, encode: (i: number) => Job[], chunk?: number) => Promise<void>;

  /** Encodes ConvInteger of case `c` on kernel `name`: its output, and `free` for after the submission. */
  function encodeConv(name: string, c: ConvCase): { y: G; free: () => void } {
    const constants: Record<string, T> = { w: intOf(c.w) };
    if (c.wZp) constants.w_zero_point = tensor(c.w.type, c.wZp.length === 1 ? [] : [c.wZp.length], c.wZp);
    const s = k.prepareKernel(ctx, { op: 'ConvInteger', attrs: { ...c.attrs, ...kernelAttrs(name) }, constants });
    const inputs = [gpu(intOf(c.x))];
    if (c.xZp !== undefined) inputs.push(gpu(tensor(c.x.type, [], [c.xZp])));
    const [y] = s.run(inputs);
    const free = () => {
      for (const t of inputs) ctx.buffers.release(t.buffer);
      s.dispose();
    };
    return { y: y as G, free };
  }

  /** Runs ConvInteger of case `c` on kernel `name`. */
  async function runConv(name: string, c: ConvCase): Promise<number[]> {
    const { y, free } = encodeConv(name, c);
    free();
    return read(y);
  }

  const refOf = (c: ConvCase) => {
    const ref = k.convIntegerRef(intOf(c.x) as never, intOf(c.w) as never, c.attrs, c.xZp ?? 0, c.wZp);
    return ref.data;
  };

  async function conformance(cases: OnnxCase[], attrs: Record<string, unknown>[]) {
    const out = [];
    for (const [i, c] of cases.entries()) {
      const [x, w, xZp, wZp] = c.inputs;
      const cc: ConvCase = { x: x as never, w: w as never, attrs: attrs[i] ?? {}, ...(xZp ? { xZp: xZp.data[0] } : {}), ...(wZp ? { wZp: wZp.data } : {}) };
      for (const kernel of kernels()) {
        const got = await runConv(kernel, cc);
        out.push({ name: c.name, kernel, mismatch: diff(got, c.outputs[0]!.data), got });
      }
    }
    return out;
  }

  /** ORT's NCHW answer of case `c`: `y`, or (per-channel zero points, conv-oracle.ts) `xw − zw[m]·x1`. */
  const ortY = (r: Record<string, number[]> | undefined, c: ConvCase): number[] | undefined => {
    if (!r || r.y) return r?.y;
    const [xw, x1] = [r.xw ?? [], r.x1 ?? []];
    const m = c.w.dims[0] as number;
    const plane = xw.length / ((c.x.dims[0] as number) * m);
    // The oracle ran int8 weights as uint8 (+128), zero points included.
    const shift = c.w.type === 'int8' ? 128 : 0;
    return xw.map((v, i) => v - ((c.wZp?.[Math.floor(i / plane) % m] ?? 0) + shift) * (x1[i] as number));
  };

  async function random(cases: ConvCase[], oracle: string) {
    const ort = window.__ort.results[oracle] ?? {};
    const failures: Failure[] = [];
    const compared: Record<string, { ref: number; ort: number; cases: number }> = {};
    // A case's loops are checked one after another: its reference is computed once.
    let last: { i: number; want: ArrayLike<number> } = { i: -1, want: [] };
    const check = (i: number, kname: string, got: number[]) => {
      const c = cases[i] as ConvCase;
      if (last.i !== i) last = { i, want: refOf(c) };
      const want = last.want;
      const o = ortY(ort[i], c);
      const what = `${kname} x${JSON.stringify(c.x.dims)} ${c.x.type} w${JSON.stringify(c.w.dims)} ${c.w.type} ${JSON.stringify(c.attrs)} xzp ${c.xZp} wzp ${c.wZp?.length ?? 0}`;
      const cnt = (compared[kname] ??= { ref: 0, ort: 0, cases: 0 });
      const at = diff(got, want);
      if (at !== -1) failures.push({ i, what: `${what} (gpu vs reference)`, at, got: got[at], want: want[at] });
      cnt.ref += got.length;
      if (!o) return;
      const atO = diff(got, o);
      if (atO !== -1) failures.push({ i, what: `${what} (gpu vs onnxruntime)`, at: atO, got: got[atO], want: o[atO] });
      const atR = diff(want, o);
      if (atR !== -1) failures.push({ i, what: `${what} (reference vs onnxruntime)`, at: atR, got: want[atR], want: o[atR] });
      cnt.ort += got.length;
      cnt.cases++;
    };
    // Every loop of a chunk of cases in one submission, their outputs in one readback.
    await batched(cases.length, (i) =>
      kernels().map((kname) => {
        const { y, free } = encodeConv(kname, cases[i] as ConvCase);
        return { out: y, free, check: (got) => check(i, kname, got) };
      }),
    );
    return { compared, failures };
  }

  /** DynamicQuantizeLinear → QuantizedConv (float input, bias, Relu) against the reference chain. */
  async function fused(cases: ConvCase[], tol: number) {
    const failures: Failure[] = [];
    let compared = 0;
    for (const [i, c] of cases.entries()) {
      const m = c.w.dims[0] as number;
      const xf = c.x.data.map((v, j) => Math.fround((v - 100) / 37 + (j % 5) * 0.01));
      const wScale = c.wZp && c.wZp.length > 1 ? c.wZp.map((_, j) => Math.fround(0.01 + j * 0.001)) : [Math.fround(0.02)];
      const bias = i % 2 ? Array.from({ length: m }, (_, j) => Math.fround(j * 0.1 - 0.3)) : undefined;
      const relu = i % 3 === 0;
      for (const kname of kernels()) {
        const constants: Record<string, T> = { W: intOf(c.w), w_scale: tensor('float32', [wScale.length], wScale) };
        if (c.wZp) constants.w_zero_point = tensor(c.w.type, [c.wZp.length], c.wZp);
        if (bias) constants.bias = tensor('float32', [m], bias);
        const dql = k.prepareKernel(ctx, { op: 'DynamicQuantizeLinear', attrs: {}, constants: {} });
        const qc = k.prepareKernel(ctx, {
          op: 'QuantizedConv',
          attrs: { ...c.attrs, ...kernelAttrs(kname), ...(relu ? { activation: 'relu' } : {}) },
          constants,
        });
        const q = dql.run([gpu(tensor('float32', c.x.dims, xf))]);
        const [y] = qc.run(q);
        for (const t of q) ctx.buffers.release(t.buffer);
        qc.dispose();
        const got = await read(y as G);
        const dq = k.dynamicQuantizeLinearRef(Float32Array.from(xf));
        const acc = k.convIntegerRef({ data: dq.y, type: 'uint8', dims: c.x.dims }, intOf(c.w) as never, c.attrs, dq.zeroPoint, c.wZp).data;
        const plane = acc.length / ((c.x.dims[0] as number) * m);
        const f = Math.fround;
        const want = Array.from(acc, (v, j) => {
          const ch = Math.floor(j / plane) % m;
          const s = f(dq.scale * f((wScale.length === 1 ? wScale[0] : wScale[ch]) as number));
          const y0 = f(f(v) * s);
          const y1 = bias ? f(y0 + (bias[ch] as number)) : y0;
          return relu ? Math.max(0, y1) : y1;
        });
        const at = diff(got, want, tol);
        if (at !== -1) failures.push({ i, what: `QuantizedConv ${kname} ${JSON.stringify(c.w.dims)}`, at, got: got[at], want: want[at] });
        compared += got.length;
      }
    }
    return { compared, failures };
  }

  window.__conv = { kernels, conformance, random, fused };
}
