// Page side of test/browser/kernels.spec.ts (kept here because it is shared test support, not a spec):
// `installKernelHarness` is serialized into the page by `page.evaluate`, so it must be self-contained.
// It loads /dist/kernels.js, opens a GpuContext, and installs `window.__int8`, whose methods run
// batches of cases on the GPU and compare them with the CPU reference from the same bundle.
import type { OnnxCase } from './onnx-cases';

type Kernels = typeof import('../../../src/kernels/index');
type Failure = { i: number; what: string; at?: number; got?: number; want?: number };

/** What the harness installs on `window.__int8`. */
export interface Int8Harness {
  conformance(variant: string, cases: OnnxCase[]): Promise<{ name: string; mismatches: number[]; detail: string }[]>;
  randomMatmul(variant: string, count: number, seed: number): Promise<{ cases: number; layouts: string[]; failures: Failure[] }>;
  largeK(variant: string): Promise<{ cases: number; failures: Failure[] }>;
  quantizedOps(variant: string, count: number, tol: number): Promise<{ qlinear: number; fused: number; failures: Failure[] }>;
  errors(variant: string): Promise<string[]>;
  dynamicQuantize(count: number, seed: number): Promise<{ cases: number; failures: Failure[]; named: Record<string, Record<string, number | boolean>> }>;
  noReadback(): Promise<number>;
  tuning(): Promise<{ dp4a: boolean; before: string; fallback: string; after: string; best: string; measured: string[]; again: boolean; forced: string }>;
}

declare global {
  interface Window {
    __int8: Int8Harness;
  }
}

/** Installs `window.__int8` in the page (run it with `page.evaluate(installKernelHarness)`). */
export async function installKernelHarness(): Promise<void> {
  const url = '/dist/kernels.js';
  const k = (await import(/* @vite-ignore */ url)) as Kernels;
  k.registerBuiltinKernels();
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const ctx = new k.GpuContext(await adapter.requestDevice());
  type T = Parameters<Kernels['prepareKernel']>[1]['constants'] extends Record<string, infer X> | undefined ? X : never;
  type G = { buffer: GPUBuffer; type: T['type']; dims: number[] };
  const Arr = { uint8: Uint8Array, int8: Int8Array, int32: Int32Array, float32: Float32Array } as const;
  type Ty = keyof typeof Arr;

  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tensor = (type: Ty, dims: number[], data: ArrayLike<number>): T => ({ type, dims, data: Arr[type].from(data) }) as T;
  const gpu = (t: T): G => ({ buffer: ctx.upload(t.data, 'test.input'), type: t.type, dims: [...t.dims] });
  const read = async (g: G): Promise<number[]> => {
    const n = g.dims.reduce((a, b) => a * b, 1);
    const C = Arr[g.type as Ty];
    const bytes = await ctx.readback(g.buffer, n * C.BYTES_PER_ELEMENT);
    ctx.buffers.release(g.buffer);
    return [...new C(bytes)];
  };
  const diff = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 0, absTol = 0): number => {
    if (got.length !== want.length) return -2;
    for (let i = 0; i < got.length; i++) {
      const g = got[i] as number;
      const w = want[i] as number;
      if (!(Object.is(g, w) || g === w || Math.abs(g - w) <= tol * Math.abs(w) + absTol)) return i;
    }
    return -1;
  };
  const step = (op: string, variant: string, constants: Record<string, T>, attrs: Record<string, unknown> = {}) => k.prepareKernel(ctx, { op, attrs: { variant, ...attrs }, constants });
  const int8Of = (t: { type: string; dims: number[]; data: number[] }) => ({ type: t.type as 'uint8' | 'int8', dims: t.dims, data: Arr[t.type as 'uint8'].from(t.data) });

  async function conformance(variant: string, cases: OnnxCase[]) {
    const out = [];
    for (const c of cases) {
      const ins = c.inputs.map((t) => tensor(t.type, t.dims, t.data));
      let got: number[][] = [];
      if (c.op === 'DynamicQuantizeLinear') {
        const s = step(c.op, variant, {});
        got = await Promise.all(s.run([gpu(ins[0] as T)]).map(read));
      } else if (c.op === 'MatMulInteger') {
        const [a, b, azp, bzp] = ins as [T, T, T, T];
        const s = step(c.op, variant, { B: b, b_zero_point: bzp });
        got = await Promise.all(s.run([gpu(a), gpu(azp)]).map(read));
        s.dispose();
      } else {
        const [a, as, azp, b, bs, bzp, ys, yzp] = ins as T[];
        const s = step(c.op, variant, { a_scale: as!, a_zero_point: azp!, b: b!, b_scale: bs!, b_zero_point: bzp!, y_scale: ys!, y_zero_point: yzp! });
        got = await Promise.all(s.run([gpu(a!)]).map(read));
        s.dispose();
      }
      const mismatches = c.outputs.map((o, i) => diff(got[i] ?? [], o.data)).filter((d) => d !== -1);
      out.push({ name: c.name, mismatches, detail: JSON.stringify({ got, want: c.outputs.map((o) => o.data) }) });
    }
    return out;
  }

  /** Random int8 operands; B's values sometimes span < 128 so the "B − zb fits int8" packing runs too. */
  function randomOperands(r: () => number, m: number, kk: number, n: number, batch: number[], bBatched: boolean) {
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const aType = r() < 0.5 ? 'uint8' : 'int8';
    const bType = r() < 0.5 ? 'uint8' : 'int8';
    const lo = (t: string) => (t === 'uint8' ? 0 : -128);
    const bs = batch.reduce((x, y) => x * y, 1);
    const span = r() < 0.3 ? 100 : 255;
    const base = int(lo(bType), lo(bType) + 255 - span);
    const a = int8Of({ type: aType, dims: [...batch, m, kk], data: Array.from({ length: bs * m * kk }, () => int(lo(aType), lo(aType) + 255)) });
    const bDims = bBatched ? [...batch, kk, n] : [kk, n];
    const b = int8Of({ type: bType, dims: bDims, data: Array.from({ length: (bBatched ? bs : 1) * kk * n }, () => int(base, base + span)) });
    const zpMode = int(0, 2);
    const aZp = zpMode === 0 ? undefined : zpMode === 1 ? [int(lo(aType), lo(aType) + 255)] : Array.from({ length: m }, () => int(lo(aType), lo(aType) + 255));
    const bMode = int(0, 2);
    const bZp = bMode === 0 ? undefined : bMode === 1 ? [int(base, base + span)] : Array.from({ length: n }, () => int(base, base + span));
    return { a, b, aZp, bZp };
  }

  async function checkMatmul(i: number, variant: string, kernel: ReturnType<Kernels['int8Candidates']>[number], o: ReturnType<typeof randomOperands>, failures: Failure[]) {
    const w = k.uploadInt8Weights(ctx, k.packInt8Weights(o.b, o.bZp));
    const aBuf = ctx.upload(o.a.data, 'test.a');
    const zpBuf = o.aZp ? ctx.upload(Arr[o.a.type].from(o.aZp), 'test.azp') : undefined;
    const out = k.int8Matmul(ctx, { a: aBuf, aType: o.a.type, aDims: o.a.dims, aZp: zpBuf, aZpPerRow: (o.aZp?.length ?? 1) > 1, weights: w, epilogue: { kind: 'int32' }, kernel: { ...kernel, variant: variant as 'dp4a' } });
    const got = await read(out as G);
    const want = k.matMulIntegerRef(o.a, o.b, o.aZp, o.bZp).data;
    const at = diff(got, want);
    if (at !== -1) failures.push({ i, what: `${k.int8KernelName(kernel)} A${JSON.stringify(o.a.dims)} ${o.a.type} B${JSON.stringify(o.b.dims)} ${o.b.type} azp ${o.aZp?.length ?? 0} bzp ${o.bZp?.length ?? 0}`, at, got: got[at], want: want[at] });
    w.dispose();
    ctx.buffers.release(aBuf);
    if (zpBuf) ctx.buffers.release(zpBuf);
  }

  async function randomMatmul(variant: string, count: number, seed: number) {
    const r = rng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const kernels = k.int8Candidates('small', [variant as 'dp4a']);
    const failures: Failure[] = [];
    const layouts = new Set<string>();
    for (let i = 0; i < count; i++) {
      const big = r() < 0.1;
      const batch = r() < 0.25 ? [int(2, 3)] : [];
      const o = randomOperands(r, big ? int(1, 40) : int(1, 9), big ? int(65, 300) : int(1, 40), big ? int(20, 70) : int(1, 24), batch, batch.length > 0 && r() < 0.4);
      const kernel = kernels[i % kernels.length] as (typeof kernels)[number];
      layouts.add(kernel.layout);
      await checkMatmul(i, variant, kernel, o, failures);
    }
    return { cases: count, layouts: [...layouts], failures };
  }

  async function largeK(variant: string) {
    const r = rng(8192);
    const failures: Failure[] = [];
    const shapes: [number, number, number, number[], boolean][] = [[3, 8192, 5, [], false], [1, 8192, 7, [], false], [5, 4099, 9, [], false], [3, 17, 33, [2], true], [1, 1, 1, [], false], [33, 255, 65, [], false]];
    let cases = 0;
    for (const [m, kk, n, batch, bb] of shapes) {
      // The GPU defaults, plus the emulated-adapter ones (GEMV 16×1, wide 4 and 16 rows, tiled 16×1).
      const emulated = [1, 4, 16, 64].map((m) => k.defaultInt8Kernel(m, 'portable', true));
      for (const kernel of [k.defaultInt8Kernel(1, 'portable'), k.defaultInt8Kernel(64, 'portable'), ...emulated]) {
        await checkMatmul(cases++, variant, kernel, randomOperands(r, m, kk, n, batch, bb), failures);
      }
    }
    return { cases, failures };
  }

  async function quantizedOps(variant: string, count: number, tol: number) {
    const r = rng(4242);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const failures: Failure[] = [];
    let qlinear = 0;
    let fused = 0;
    for (let i = 0; i < count; i++) {
      const [m, kk, n] = [int(1, 9), int(1, 70), int(1, 30)];
      // QLinearMatMul: random dtypes, zero points, per-tensor or per-column b_scale.
      const o = randomOperands(r, m, kk, n, r() < 0.2 ? [2] : [], false);
      const yType = r() < 0.5 ? 'uint8' : 'int8';
      const aScale = Math.fround(0.001 + r() * 0.05);
      const bScale = Array.from({ length: r() < 0.5 ? 1 : n }, () => Math.fround(0.001 + r() * 0.05));
      const yScale = Math.fround(aScale * (bScale[0] as number) * Math.sqrt(kk) * (20 + r() * 100));
      const yZp = yType === 'uint8' ? int(0, 255) : int(-128, 127);
      const aZp = o.aZp?.[0] ?? 0;
      const bZp = o.bZp ?? [0];
      const s = step('QLinearMatMul', variant, {
        a_scale: tensor('float32', [], [aScale]), a_zero_point: tensor(o.a.type, [], [aZp]), b: o.b, b_scale: tensor('float32', [bScale.length], bScale),
        b_zero_point: tensor(o.b.type, [bZp.length], bZp), y_scale: tensor('float32', [], [yScale]), y_zero_point: tensor(yType, [], [yZp]),
      } as Record<string, T>);
      const [y] = s.run([gpu(o.a as T)]);
      const want = k.qlinearMatMulRef(o.a, o.b, { aScale, aZp, bScale, bZp, yScale, yZp, yType });
      const got = await read(y as G);
      s.dispose();
      const at = diff(got, want.data);
      if (at !== -1 || y?.type !== yType) failures.push({ i, what: `QLinearMatMul ${m}x${kk}x${n} -> ${yType}`, at, got: got[at], want: want.data[at] });
      qlinear++;
      // Fused: DynamicQuantizeLinear then QuantizedMatMul, everything on the GPU.
      const x = Float32Array.from({ length: m * kk }, () => (r() - 0.3) * 8);
      const bias = r() < 0.5 ? Array.from({ length: n }, () => r() - 0.5) : undefined;
      const wScale = Array.from({ length: r() < 0.5 ? 1 : n }, () => Math.fround(0.001 + r() * 0.05));
      const consts: Record<string, T> = { B: o.b as T, b_scale: tensor('float32', [wScale.length], wScale) };
      if (o.bZp) consts.b_zero_point = tensor(o.b.type, [o.bZp.length], o.bZp);
      if (bias) consts.bias = tensor('float32', [n], bias);
      // The epilogue's fused activation (the Relu/Tanh the partitioner folds in), a third each.
      const activation = ([undefined, 'relu', 'tanh'] as const)[i % 3];
      const dql = step('DynamicQuantizeLinear', variant, {}).run([gpu(tensor('float32', [m, kk], x))]);
      const qmm = step('QuantizedMatMul', variant, consts, activation ? { activation } : {});
      const [f] = qmm.run(dql);
      const gotF = await read(f as G);
      for (const t of dql) ctx.buffers.release(t.buffer);
      qmm.dispose();
      const q = k.dynamicQuantizeLinearRef(x);
      const acc = k.matMulIntegerRef({ data: q.y, type: 'uint8', dims: [m, kk] }, o.b, q.zeroPoint, o.bZp).data;
      const wantF = k.dequantizeRef(acc, n, { aScale: q.scale, bScale: wScale, bias, activation });
      // WGSL's tanh is not correctly rounded: it also gets `tol` absolute (outputs are within ±1).
      const atF = diff(gotF, wantF, tol, activation === 'tanh' ? tol : 0);
      if (atF !== -1) failures.push({ i, what: `QuantizedMatMul ${m}x${kk}x${n} ${activation ?? ''}`, at: atF, got: gotF[atF], want: wantF[atF] });
      fused++;
    }
    return { qlinear, fused, failures };
  }

  async function errors(variant: string) {
    const msgs: string[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        fn();
        msgs.push('no error');
      } catch (e) {
        msgs.push(`${(e as { code?: string }).code}: ${(e as Error).message}`);
      }
    };
    const b = tensor('int8', [4, 3], new Array(12).fill(1));
    attempt(() => step('MatMulInteger', variant, { B: b }).run([gpu(tensor('uint8', [2, 3], new Array(6).fill(1)))]));
    attempt(() => step('MatMulInteger', variant, { B: b }).run([gpu(tensor('uint8', [0, 4], []))]));
    attempt(() => step('MatMulInteger', variant, {}));
    attempt(() => step('MatMulInteger', variant, { B: b, b_zero_point: tensor('int8', [2], [1, 2]) }));
    attempt(() => step('DynamicQuantizeLinear', variant, {}).run([gpu(tensor('float32', [0], []))]));
    return msgs;
  }

  async function dynamicQuantize(count: number, seed: number) {
    const r = rng(seed);
    const failures: Failure[] = [];
    const inputs: [string, Float32Array][] = [
      ['zeros', new Float32Array(7)],
      ['constant', new Float32Array(10).fill(0.3)],
      ['negconstant', new Float32Array(5).fill(-2.75)],
      ['negative', Float32Array.from([-1, -2, -0.5, -0.25])],
      ['nanInf', Float32Array.from([NaN, Infinity, -Infinity, -1, 2.5])],
      // Exact ties: range 255 gives scale 1, so x/scale = j + 0.5 exactly.
      ['ties', Float32Array.from([-100, 155, ...Array.from({ length: 254 }, (_, j) => j - 99.5)])],
    ];
    for (let c = 0; c < count; c++) {
      const n = [1, 2, 3, 5, 17, 1000, 4097, 100003][c % 8] as number;
      const lo = (r() - 0.5) * 20;
      const hi = lo + r() * 10 * (r() < 0.2 ? 0.001 : 1);
      const s = Math.fround((hi - lo) / 255);
      // Every third input sits on float32 ties of x/scale as often as rounding allows.
      inputs.push([`random${c}`, Float32Array.from({ length: n }, () => (c % 3 === 2 ? (Math.floor(r() * 255) + 0.5) * s + lo : lo + r() * (hi - lo)))]);
    }
    const named: Record<string, Record<string, number | boolean>> = {};
    // Every input through both paths: the three passes (smallMax 0) and the one-dispatch pass.
    for (const [name, x, smallMax] of inputs.flatMap(([name, x]) => [[name, x, 0], [name, x, Infinity]] as const)) {
      const outs = k.dynamicQuantizeLinear(ctx, ctx.upload(x, 'test.x'), x.length, smallMax);
      const [y, scale, zp] = await Promise.all([read({ buffer: outs.y, type: 'uint8', dims: [x.length] }), read({ buffer: outs.scale, type: 'float32', dims: [1] }), read({ buffer: outs.zeroPoint, type: 'uint8', dims: [1] })]);
      const want = k.dynamicQuantizeLinearRef(x);
      const at = diff(y, want.y);
      if (at !== -1 || scale[0] !== want.scale || zp[0] !== want.zeroPoint) {
        failures.push({ i: inputs.findIndex((e) => e[0] === name), what: `${name} n=${x.length} smallMax=${smallMax} scale ${scale[0]}/${want.scale} zp ${zp[0]}/${want.zeroPoint}`, at, got: y[at], want: want.y[at] });
      }
      if (name === 'zeros') named.zeros = { scale: scale[0] as number, zeroPoint: zp[0] as number, y0: y[0] as number };
      if (name === 'negative') named.negative = { zeroPoint: zp[0] as number };
      if (name === 'nanInf') named.nanInf = { nanIsZp: y[0] === zp[0], posInf: y[1] as number, negInf: y[2] as number };
    }
    return { cases: 2 * inputs.length, failures, named };
  }

  async function noReadback() {
    const b = tensor('int8', [16, 8], Array.from({ length: 128 }, (_, i) => (i % 7) - 3));
    const dql = step('DynamicQuantizeLinear', 'auto', {});
    const qmm = step('QuantizedMatMul', 'auto', { B: b, b_scale: tensor('float32', [], [0.02]) });
    const before = ctx.counters.readbacks;
    const [y] = qmm.run(dql.run([gpu(tensor('float32', [2, 16], Array.from({ length: 32 }, (_, i) => i - 10)))]));
    const delta = ctx.counters.readbacks - before;
    await read(y as G);
    return delta;
  }

  async function tuning() {
    const before = k.int8KernelName(k.chooseInt8Kernel(ctx, 1));
    const choice = await k.tuneInt8Matmul(ctx, { m: 1, k: 64, n: 40 }, 1);
    const again = (await k.tuneInt8Matmul(ctx, { m: 1, k: 512, n: 512 })) === choice;
    return {
      dp4a: k.hasDp4a(),
      before,
      // The untuned default for this adapter (small workgroups on an emulated one).
      fallback: k.int8KernelName(k.defaultInt8Kernel(1, k.resolveVariant('auto'), k.isEmulatedAdapter(ctx.device))),
      after: k.int8KernelName(k.chooseInt8Kernel(ctx, 1)),
      best: k.int8KernelName(choice.best),
      measured: choice.measurements.map((x) => x.kernel),
      again,
      forced: k.int8KernelName(k.chooseInt8Kernel(ctx, 1, 'portable')),
    };
  }

  window.__int8 = { conformance, randomMatmul, largeK, quantizedOps, errors, dynamicQuantize, noReadback, tuning };
}
