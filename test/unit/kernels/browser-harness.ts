// Page side of test/browser/kernels.spec.ts (kept here because it is shared test support, not a spec):
// `installKernelHarness` is serialized into the page by `page.evaluate`, so it must be self-contained.
// It loads /dist/kernels.js, opens a GpuContext, and installs `window.__int8`, whose methods run
// cases (generated in Node: int8-cases.ts) on the GPU and compare them with the CPU reference from
// the same bundle and, when an oracle name is given, with onnxruntime-web's WASM kernels
// (`window.__ort.results[oracle]`, see ort-runner.ts). Each method counts the output elements it
// actually compared, so the spec can check them against counts it computes from the cases.
import type { FusedCase, MatmulCase, QLinearCase } from './int8-cases';
import type { OnnxCase } from './onnx-cases';

type Kernels = typeof import('../../../src/kernels/index');
type Kernel = import('../../../src/kernels/index').Int8Kernel;
type Failure = { i: number; what: string; at?: number; got?: number; want?: number };
/** Elements compared with the CPU reference (`ref`) and with ORT (`ort`), and the cases ORT covered. */
type Compared = { ref: number; ort: number; ortCases: number };
/** The shader paths a matmul case selects (override constants, so one pipeline each): ROWSUM and K_ALIGNED. */
type Paths = { rowsum: boolean; kAligned: boolean };
/** Cases one kernel ran with one combination of the paths (`loop`: layout, plus the column count of `wide`). */
type PathRun = { kernel: string; loop: string; rowsum: boolean; kAligned: boolean; cases: number };

/** What the harness installs on `window.__int8`. */
export interface Int8Harness {
  conformance(variant: string, cases: OnnxCase[]): Promise<{ name: string; mismatches: number[]; detail: string }[]>;
  randomMatmul(
    variant: string,
    cases: MatmulCase[],
    oracle?: string,
  ): Promise<{ compared: Compared; layouts: string[]; paths: PathRun[]; kernels: string[]; failures: Failure[] }>;
  largeK(variant: string, cases: MatmulCase[], oracle?: string): Promise<{ compared: Compared; failures: Failure[] }>;
  quantizedOps(
    variant: string,
    cases: { qlinear: QLinearCase[]; fused: FusedCase[] },
    tol: number,
    oracle?: string,
    route?: boolean,
  ): Promise<{ qlinear: Compared; fused: number; failures: Failure[]; paths?: Record<'requant' | 'float32', PathRun[]>; kernels: string[] }>;
  errors(variant: string): Promise<string[]>;
  dynamicQuantize(
    inputs: [string, number[]][],
    oracle?: string,
  ): Promise<{ compared: Compared; runs: number; failures: Failure[]; named: Record<string, Record<string, number | boolean>> }>;
  noReadback(): Promise<number>;
  perSlice(variant: string, slices: number, k: number, n: number): Promise<{ compared: number; failures: Failure[]; perTensorDiffers: boolean }>;
  /** Runs case i through every kernel of `kernels[i]` (one or more loops per case). */
  loops(variant: string, cases: MatmulCase[], kernels: Kernel[][], oracle?: string): Promise<{ compared: Compared; kernels: string[]; failures: Failure[] }>;
  /** Makes every registered matmul op on this page's context run `kernel` (undefined: back to the normal choice). */
  force(kernel: Kernel | undefined): void;
  tuning(): Promise<{ dp4a: boolean; before: string; fallback: string; after: string; best: string; measured: string[]; again: boolean; forced: string }>;
}

/** The harness's module, context and helpers, for other page harnesses to build on (conv-harness.ts). */
export interface GpuBase {
  k: Kernels;
  ctx: InstanceType<Kernels['GpuContext']>;
  /** `(type, dims, data) => TensorLike`, `(t) => GpuTensor` (uploaded), `(g) => Promise<number[]>` (read back, released). */
  tensor: unknown;
  gpu: unknown;
  read: unknown;
  diff: (got: ArrayLike<number>, want: ArrayLike<number>, tol?: number, absTol?: number) => number;
  /** Submissions and readbacks of the batched methods (many cases per command encoder, one readback per chunk). */
  work: { submits: number; readbacks: number; outputs: number };
  /** Runs `count` cases' GPU work in chunks of one submission and one readback each (the harness's `batched`). */
  batched: unknown;
  /** Frees the context's buffers and destroys the device (the fixture calls it when its worker ends). */
  dispose(): void;
}

declare global {
  interface Window {
    __int8: Int8Harness;
    __gpuBase: GpuBase;
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
  const work = { submits: 0, readbacks: 0, outputs: 0 };
  const BPE = { uint8: 1, int8: 1, int32: 4, float32: 4 } as const;
  /** A case's GPU work: its output, what to free once submitted, and the check of what it read back. */
  type Job = { out: G; free?: () => void; check: (got: number[]) => void };
  /**
   * Encodes `count` cases in chunks: each chunk's dispatches go into one command encoder (ctx.record,
   * one submission), its outputs are copied into one mappable buffer and read back with one mapAsync.
   * Every output is read and checked, as before; only the round trips are shared.
   */
  async function batched(count: number, encode: (i: number) => Job[], chunk = 48): Promise<void> {
    for (let start = 0; start < count; start += chunk) {
      const jobs: Job[] = [];
      try {
        ctx.record(() => {
          for (let i = start; i < Math.min(count, start + chunk); i++) jobs.push(...encode(i));
        });
      } finally {
        work.submits++;
        for (const j of jobs) j.free?.();
      }
      const sizes = jobs.map((j) => Math.ceil((j.out.dims.reduce((a, b) => a * b, 1) * BPE[j.out.type as Ty]) / 4) * 4);
      const offsets = sizes.map((_, x) => sizes.slice(0, x).reduce((a, b) => a + b, 0));
      const total = Math.max(
        4,
        sizes.reduce((a, b) => a + b, 0),
      );
      const staging = ctx.device.createBuffer({ label: 'test.batched-readback', size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = ctx.device.createCommandEncoder({ label: 'test.batched-readback' });
      jobs.forEach((j, x) => sizes[x] && encoder.copyBufferToBuffer(j.out.buffer, 0, staging, offsets[x] as number, sizes[x] as number));
      ctx.device.queue.submit([encoder.finish()]);
      work.submits++;
      for (const j of jobs) ctx.buffers.release(j.out.buffer); // later writes are queued after the copy
      try {
        await staging.mapAsync(GPUMapMode.READ);
        work.readbacks++;
        const bytes = staging.getMappedRange();
        jobs.forEach((j, x) => {
          const n = j.out.dims.reduce((a, b) => a * b, 1);
          j.check([...new Arr[j.out.type as Ty](bytes, offsets[x], n)]);
        });
        work.outputs += jobs.length;
      } finally {
        staging.destroy();
      }
    }
  }
  const step = (op: string, variant: string, constants: Record<string, T>, attrs: Record<string, unknown> = {}) =>
    k.prepareKernel(ctx, { op, attrs: { variant, ...attrs }, constants });
  const int8Of = (t: { type: string; dims: number[]; data: number[] }) => ({
    type: t.type as 'uint8' | 'int8',
    dims: t.dims,
    data: Arr[t.type as 'uint8'].from(t.data),
  });

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

  /** Counts one comparison of `got` with the reference and, when there is one, with ORT's answer. */
  const compare = (
    i: number,
    what: string,
    got: number[],
    want: ArrayLike<number>,
    ort: number[] | undefined,
    c: Compared,
    failures: Failure[],
    tol = 0,
    absTol = 0,
  ) => {
    const at = diff(got, want, tol, absTol);
    if (at !== -1) failures.push({ i, what: `${what} (gpu vs reference)`, at, got: got[at], want: want[at] });
    c.ref += got.length;
    if (!ort) return;
    // ORT is held to bit-exactness against both: it is the independent implementation.
    const atO = diff(got, ort);
    if (atO !== -1) failures.push({ i, what: `${what} (gpu vs onnxruntime)`, at: atO, got: got[atO], want: ort[atO] });
    const atR = diff(want, ort);
    if (atR !== -1) failures.push({ i, what: `${what} (reference vs onnxruntime)`, at: atR, got: want[atR], want: ort[atR] });
    c.ort += got.length;
    c.ortCases++;
  };
  const oracleFor = (name: string | undefined) => (name ? window.__ort.results[name] : undefined) ?? {};

  /** One MatMulInteger case on the GPU: B packed and uploaded once, A and its zero points uploaded; `free` releases them. */
  function matmulOperands(c: MatmulCase) {
    const o = { a: int8Of(c.a), b: int8Of(c.b), aZp: c.aZp, bZp: c.bZp };
    const w = k.uploadInt8Weights(ctx, k.packInt8Weights(o.b, o.bZp));
    const aBuf = ctx.upload(o.a.data, 'test.a');
    const zpBuf = o.aZp ? ctx.upload(Arr[o.a.type].from(o.aZp), 'test.azp') : undefined;
    const args = { a: aBuf, aType: o.a.type, aDims: o.a.dims, aZp: zpBuf, aZpPerRow: (o.aZp?.length ?? 1) > 1, weights: w };
    const free = () => {
      w.dispose();
      ctx.buffers.release(aBuf);
      if (zpBuf) ctx.buffers.release(zpBuf);
    };
    const what = (kernel: Kernel) =>
      `${k.int8KernelName(kernel)} A${JSON.stringify(o.a.dims)} ${o.a.type} B${JSON.stringify(o.b.dims)} ${o.b.type} azp ${o.aZp?.length ?? 0} bzp ${o.bZp?.length ?? 0}`;
    return { o, args, free, what };
  }

  /**
   * Runs case i through every kernel of `kernelsOf(i)`, each output compared with the reference
   * (computed once per case) and ORT's answer; cases batched (see {@link batched}).
   */
  async function matmulCases(variant: string, cases: MatmulCase[], kernelsOf: (i: number, paths: Paths) => Kernel[], oracle?: string) {
    const ort = oracleFor(oracle);
    const failures: Failure[] = [];
    const compared: Compared = { ref: 0, ort: 0, ortCases: 0 };
    const names = new Set<string>();
    await batched(cases.length, (i) => {
      const { o, args, free, what } = matmulOperands(cases[i] as MatmulCase);
      const kernels = kernelsOf(i, { rowsum: args.weights.rowsum, kAligned: (o.a.dims.at(-1) as number) % 4 === 0 });
      if (!kernels.length) {
        free();
        return [];
      }
      let want: ArrayLike<number> | undefined;
      return kernels.map((kernel0, x) => {
        const kernel = { ...kernel0, variant: variant as 'dp4a' };
        names.add(k.int8KernelName(kernel));
        return {
          out: k.int8Matmul(ctx, { ...args, epilogue: { kind: 'int32' }, kernel }) as G,
          free: x === kernels.length - 1 ? free : undefined,
          check: (got: number[]) => compare(i, what(kernel), got, (want ??= k.matMulIntegerRef(o.a, o.b, o.aZp, o.bZp).data), ort[i]?.y, compared, failures),
        };
      });
    });
    return { compared, names, failures };
  }

  /**
   * Routes cases to `kernels` by the shader paths they select (ROWSUM: some zb' != 0; K_ALIGNED:
   * K % 4 == 0, override constants: a pipeline per kernel and combination, seconds each on
   * SwiftShader). Each kernel takes the cases of two of the four combinations, either those where
   * rowsum == kAligned or those where they differ, so it runs both values of each path; the kernels
   * of one loop (layout, and the column count of `wide`) alternate which two, so a loop of two or
   * more kernels runs all four combinations. The kernels named in `every` take all four (their
   * pipelines are compiled anyway). `pick` keeps `preferred` when it takes the case's combination,
   * else gives the next kernel, in turn, of those that do.
   */
  function pathRouter(kernels: Kernel[], every: string[] = []) {
    const loop = (kernel: Kernel) => `${kernel.layout}${kernel.layout === 'wide' ? (kernel.cols ?? 8) : ''}`;
    const loops = [...new Set(kernels.map(loop))];
    const seen = new Map<string, number>();
    const takes = kernels.map((kernel) => {
      if (every.includes(k.int8KernelName(kernel))) return -1; // both
      const x = seen.get(loop(kernel)) ?? 0;
      seen.set(loop(kernel), x + 1);
      return (x + loops.indexOf(loop(kernel))) % 2; // 0: rowsum == kAligned; 1: they differ
    });
    const names = kernels.map(k.int8KernelName);
    const turns = [0, 0];
    const ran = new Map<string, PathRun>();
    const pick = (p: Paths, preferred?: Kernel): Kernel => {
      const diagonal = +(p.rowsum !== p.kAligned);
      const fits = (x: number) => takes[x] === diagonal || takes[x] === -1;
      const fit = kernels.filter((_, x) => fits(x));
      const at = preferred ? names.indexOf(k.int8KernelName(preferred)) : -1;
      const kernel = (at >= 0 && fits(at) ? kernels[at] : fit[(turns[diagonal] as number)++ % fit.length]) as Kernel;
      const run = { kernel: k.int8KernelName(kernel), loop: loop(kernel), rowsum: p.rowsum, kAligned: p.kAligned, cases: 0 };
      const key = JSON.stringify({ ...run, cases: 0 });
      (ran.get(key) ?? ran.set(key, run).get(key)!).cases++;
      return kernel;
    };
    return { pick, paths: () => [...ran.values()], names };
  }

  /**
   * Each case through one candidate of the 'small' class, routed by {@link pathRouter}; the
   * candidates that {@link largeK} runs too take every combination.
   */
  async function randomMatmul(variant: string, cases: MatmulCase[], oracle?: string) {
    const router = pathRouter(k.int8Candidates('small', [variant as 'dp4a']), defaultKernels(variant).map(k.int8KernelName));
    const layouts = new Set<string>();
    const r = await matmulCases(
      variant,
      cases,
      (_, p) => {
        const kernel = router.pick(p);
        layouts.add(kernel.layout);
        return [kernel];
      },
      oracle,
    );
    return { compared: r.compared, layouts: [...layouts], paths: router.paths(), kernels: router.names, failures: r.failures };
  }

  /** Each case's B packed and uploaded once and its reference computed once, then every kernel of `kernels[i]` run on it. */
  async function loops(variant: string, cases: MatmulCase[], kernels: Kernel[][], oracle?: string) {
    const r = await matmulCases(variant, cases, (i) => kernels[i] ?? [], oracle);
    return { compared: r.compared, kernels: [...r.names], failures: r.failures };
  }

  const force = (kernel: Kernel | undefined) => k.setInt8KernelOverride(ctx, kernel ? () => kernel : undefined);

  /** The kernels of {@link largeK}: the GPU defaults, plus the emulated-adapter ones (GEMV 16×1, wide 4 and 16 rows). */
  const defaultKernels = (variant: string): Kernel[] => {
    const emulated = [1, 4, 16, 64].map((m) => k.defaultInt8Kernel(m, variant as 'dp4a', true));
    return [k.defaultInt8Kernel(1, variant as 'dp4a'), k.defaultInt8Kernel(64, variant as 'dp4a'), ...emulated];
  };

  async function largeK(variant: string, cases: MatmulCase[], oracle?: string) {
    const kernels = defaultKernels(variant);
    const r = await matmulCases(variant, cases, () => kernels, oracle);
    return { compared: r.compared, failures: r.failures };
  }

  /**
   * With `route`, each case runs on a kernel {@link pathRouter} picks from the kernels the ops choose
   * for the cases' row counts (the case's own choice when that kernel takes its combination), one
   * router per epilogue; the hook that forces it is removed after the case's dispatches are encoded.
   */
  async function quantizedOps(variant: string, cases: { qlinear: QLinearCase[]; fused: FusedCase[] }, tol: number, oracle?: string, route = false) {
    const ort = oracleFor(oracle);
    const failures: Failure[] = [];
    const qlinear: Compared = { ref: 0, ort: 0, ortCases: 0 };
    const rowsOf = [...cases.qlinear.map((q) => q.o.a.dims.slice(0, -1).reduce((x, y) => x * y, 1)), ...cases.fused.map((c) => c.m)];
    const natural = (rows: number) => k.chooseInt8Kernel(ctx, rows, variant as 'dp4a');
    const chosen = [...new Map(rowsOf.map((rows) => [k.int8KernelName(natural(rows)), natural(rows)])).values()];
    const routers = { requant: pathRouter(chosen), float32: pathRouter(chosen) };
    /** Encodes `run` on the kernel the router picks (or the ops' own choice without `route`). */
    const routed = <R>(router: ReturnType<typeof pathRouter>, rows: number, b: ReturnType<typeof int8Of>, bZp: number[] | undefined, run: () => R): R => {
      if (!route) return run();
      const kAligned = (b.dims.at(-2) as number) % 4 === 0;
      const rowsum = k.packInt8Weights(b, bZp).rowsum;
      const kernel = router.pick({ rowsum, kAligned }, natural(rows));
      k.setInt8KernelOverride(ctx, () => kernel);
      try {
        return run();
      } finally {
        k.setInt8KernelOverride(ctx, undefined);
      }
    };
    await batched(cases.qlinear.length, (i) => {
      // QLinearMatMul: random dtypes, zero points, per-tensor or per-column b_scale.
      const q = cases.qlinear[i] as QLinearCase;
      const o = { a: int8Of(q.o.a), b: int8Of(q.o.b) };
      const { aScale, bScale, yScale, yZp, yType } = q;
      const aZp = q.o.aZp?.[0] ?? 0;
      const bZp = q.o.bZp ?? [0];
      const s = step('QLinearMatMul', variant, {
        a_scale: tensor('float32', [], [aScale]),
        a_zero_point: tensor(o.a.type, [], [aZp]),
        b: o.b,
        b_scale: tensor('float32', [bScale.length], bScale),
        b_zero_point: tensor(o.b.type, [bZp.length], bZp),
        y_scale: tensor('float32', [], [yScale]),
        y_zero_point: tensor(yType, [], [yZp]),
      } as Record<string, T>);
      const [y] = routed(routers.requant, rowsOf[i] as number, o.b, bZp, () => s.run([gpu(o.a as T)]));
      if (y?.type !== yType) failures.push({ i, what: `QLinearMatMul output type ${y?.type}, expected ${yType}` });
      const what = `QLinearMatMul ${JSON.stringify(o.a.dims)}x${o.b.dims.at(-1)} ${o.a.type}*${o.b.type} -> ${yType}`;
      const check = (got: number[]) => {
        const want = k.qlinearMatMulRef(o.a, o.b, { aScale, aZp, bScale, bZp, yScale, yZp, yType });
        compare(i, what, got, want.data, ort[i]?.y, qlinear, failures);
      };
      return [{ out: y as G, free: () => s.dispose(), check }];
    });
    let fused = 0;
    await batched(cases.fused.length, (i) => {
      // Fused: DynamicQuantizeLinear then QuantizedMatMul, everything on the GPU.
      const c = cases.fused[i] as FusedCase;
      const b = int8Of(c.o.b);
      const n = b.dims[1] as number;
      const consts: Record<string, T> = { B: b as T, b_scale: tensor('float32', [c.wScale.length], c.wScale) };
      if (c.o.bZp) consts.b_zero_point = tensor(b.type, [c.o.bZp.length], c.o.bZp);
      if (c.bias) consts.bias = tensor('float32', [n], c.bias);
      const dql = step('DynamicQuantizeLinear', variant, {}).run([gpu(tensor('float32', [c.m, c.k], c.x))]);
      const qmm = step('QuantizedMatMul', variant, consts, c.activation ? { activation: c.activation } : {});
      const [f] = routed(routers.float32, c.m, b, c.o.bZp, () => qmm.run(dql));
      const free = () => {
        for (const t of dql) ctx.buffers.release(t.buffer);
        qmm.dispose();
      };
      const check = (gotF: number[]) => {
        const q = k.dynamicQuantizeLinearRef(Float32Array.from(c.x));
        const acc = k.matMulIntegerRef({ data: q.y, type: 'uint8', dims: [c.m, c.k] }, b, q.zeroPoint, c.o.bZp).data;
        const wantF = k.dequantizeRef(acc, n, { aScale: q.scale, bScale: c.wScale, bias: c.bias, activation: c.activation });
        // WGSL's tanh is not correctly rounded: it also gets `tol` absolute (outputs are within ±1).
        const atF = diff(gotF, wantF, tol, c.activation === 'tanh' ? tol : 0);
        if (atF !== -1) failures.push({ i, what: `QuantizedMatMul ${c.m}x${c.k}x${n} ${c.activation ?? ''}`, at: atF, got: gotF[atF], want: wantF[atF] });
        fused += gotF.length;
      };
      return [{ out: f as G, free, check }];
    });
    const paths = route ? { requant: routers.requant.paths(), float32: routers.float32.paths() } : undefined;
    return { qlinear, fused, failures, paths, kernels: chosen.map(k.int8KernelName) };
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

  async function dynamicQuantize(inputs: [string, number[]][], oracle?: string) {
    const ort = oracleFor(oracle);
    const failures: Failure[] = [];
    const compared: Compared = { ref: 0, ort: 0, ortCases: 0 };
    const named: Record<string, Record<string, number | boolean>> = {};
    let runs = 0;
    // Every input through both paths: the three passes (smallMax 0) and the one-dispatch pass.
    for (const [i, [name, values]] of inputs.entries()) {
      const x = Float32Array.from(values);
      const want = k.dynamicQuantizeLinearRef(x);
      const o = ort[i];
      for (const smallMax of [0, Infinity]) {
        const outs = k.dynamicQuantizeLinear(ctx, ctx.upload(x, 'test.x'), x.length, smallMax);
        const [y, scale, zp] = await Promise.all([
          read({ buffer: outs.y, type: 'uint8', dims: [x.length] }),
          read({ buffer: outs.scale, type: 'float32', dims: [1] }),
          read({ buffer: outs.zeroPoint, type: 'uint8', dims: [1] }),
        ]);
        const what = `${name} n=${x.length} smallMax=${smallMax}`;
        // Scale and zero point first, as one comparison each: [scale, zp] against [scale, zp].
        compare(i, `${what} scale/zp`, [...scale, ...zp], [want.scale, want.zeroPoint], o ? [...o.scale!, ...o.zp!] : undefined, compared, failures);
        compare(i, `${what} y`, y, want.y, o?.y, compared, failures);
        runs++;
        if (name === 'zeros') named.zeros = { scale: scale[0] as number, zeroPoint: zp[0] as number, y0: y[0] as number };
        if (name === 'negative') named.negative = { zeroPoint: zp[0] as number };
        if (name === 'nanInf') named.nanInf = { nanIsZp: y[0] === zp[0], posInf: y[1] as number, negInf: y[2] as number };
      }
    }
    return { compared, runs, failures, named };
  }

  async function noReadback() {
    const b = tensor(
      'int8',
      [16, 8],
      Array.from({ length: 128 }, (_, i) => (i % 7) - 3),
    );
    const dql = step('DynamicQuantizeLinear', 'auto', {});
    const qmm = step('QuantizedMatMul', 'auto', { B: b, b_scale: tensor('float32', [], [0.02]) });
    const before = ctx.counters.readbacks;
    const [y] = qmm.run(
      dql.run([
        gpu(
          tensor(
            'float32',
            [2, 16],
            Array.from({ length: 32 }, (_, i) => i - 10),
          ),
        ),
      ]),
    );
    const delta = ctx.counters.readbacks - before;
    await read(y as G);
    return delta;
  }

  /**
   * DynamicQuantizeLinear with `quantizePerSlice` on [slices, k] (each slice its own range), then
   * QuantizedMatMul: each slice's y, scale and zero point against the reference of that slice
   * alone, and each output row bit-exact against the same two kernels run on that row alone.
   */
  async function perSlice(variant: string, slices: number, kk: number, n: number) {
    const failures: Failure[] = [];
    let compared = 0;
    const x = Float32Array.from({ length: slices * kk }, (_, i) => Math.sin(i * 0.37) * (1 + Math.floor(i / kk) * 3) + (Math.floor(i / kk) % 2 ? 0.5 : -0.25));
    const b = tensor(
      'int8',
      [kk, n],
      Array.from({ length: kk * n }, (_, i) => ((i * 7) % 23) - 11),
    );
    const consts = {
      B: b,
      b_scale: tensor('float32', [], [0.03]),
      bias: tensor(
        'float32',
        [n],
        Array.from({ length: n }, (_, j) => j * 0.01),
      ),
    };
    const dql = step('DynamicQuantizeLinear', variant, {});
    const qmm = step('QuantizedMatMul', variant, consts);
    const q = dql.run([gpu(tensor('float32', [slices, kk], x))], { quantizePerSlice: true });
    const y = await read({ ...(q[0] as G), dims: [slices * kk] });
    const scales = await read(q[1] as G);
    const zps = await read(q[2] as G);
    const again = dql.run([gpu(tensor('float32', [slices, kk], x))], { quantizePerSlice: true });
    const [batched] = qmm.run(again);
    const rows = await read(batched as G);
    for (const t of again.slice(1)) ctx.buffers.release(t.buffer);
    for (let s = 0; s < slices; s++) {
      const slice = x.subarray(s * kk, (s + 1) * kk);
      const want = k.dynamicQuantizeLinearRef(slice);
      const what = `slice ${s} of ${slices}x${kk}`;
      if (scales[s] !== want.scale || zps[s] !== want.zeroPoint) failures.push({ i: s, what: `${what} scale/zp`, got: scales[s], want: want.scale });
      const at = diff(y.slice(s * kk, (s + 1) * kk), want.y);
      if (at !== -1) failures.push({ i: s, what: `${what} y`, at });
      const alone = dql.run([gpu(tensor('float32', [1, kk], slice))]);
      const [row] = qmm.run(alone);
      for (const t of alone) ctx.buffers.release(t.buffer);
      const wantRow = await read(row as G);
      const atRow = diff(rows.slice(s * n, (s + 1) * n), wantRow);
      if (atRow !== -1) failures.push({ i: s, what: `${what} QuantizedMatMul row`, at: atRow, got: rows[s * n + atRow], want: wantRow[atRow] });
      compared += kk + 2 + n;
    }
    // The plain operator (one scale for the whole tensor) gives other rows: the option is what matters.
    const plain = dql.run([gpu(tensor('float32', [slices, kk], x))]);
    const [whole] = qmm.run(plain);
    for (const t of plain) ctx.buffers.release(t.buffer);
    const perTensorDiffers = diff(await read(whole as G), rows) !== -1;
    dql.dispose();
    qmm.dispose();
    return { compared, failures, perTensorDiffers };
  }

  async function tuning() {
    // A context of its own (the shared one must stay untuned: the other methods run its defaults).
    const ctx = new k.GpuContext(window.__gpuBase.ctx.device);
    try {
      return await tuneOn(ctx);
    } finally {
      ctx.dispose();
    }
  }

  async function tuneOn(ctx: InstanceType<Kernels['GpuContext']>) {
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

  window.__int8 = { conformance, randomMatmul, largeK, loops, force, quantizedOps, errors, dynamicQuantize, noReadback, perSlice, tuning };
  const dispose = () => {
    ctx.dispose();
    ctx.device.destroy();
  };
  window.__gpuBase = { k, ctx, tensor, gpu, read, diff, work, batched, dispose };
}
