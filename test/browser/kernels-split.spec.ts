// Weights above the device's storage-binding limit, split along N into column blocks
// (src/kernels/weight-parts.ts). A test hook (`forceWeightPartLimit`, webq8/kernels) makes the
// kernel page's device bind at most 8 KiB, so a 128 × 201 weight (25.5 KiB packed) is prepared in
// 4 blocks (a batched B of two such matrices in 7). The matmul loops (GEMV for a decode row, split-K
// GEMV with its epilogue pass, the tiled GEMM for M = 20; dp4a and portable) and every epilogue
// (int32, requantized, dequantized float32 with bias, weight-only) run once per block. The outputs
// are bit-exact against the same ops prepared unsplit, and the int32 and requantized ones against
// onnxruntime-web's WASM kernels. The page and its compiled pipelines belong to the worker
// (kernel-fixture.ts). Run `npm run build` first.
import type { Int8Kernel } from '../../src/kernels/int8-matmul';
import { rng, type MatmulCase, type QLinearCase } from '../unit/kernels/int8-cases';
import { matmulOracle, qlinearOracle } from '../unit/kernels/ort-oracle';
import { expect, oracle, test } from './kernel-fixture';

const [K, N, M] = [128, 201, 20];
const LIMIT = 8 * 1024;
/**
 * 51 blocks of 4 columns × 512 bytes (K = 128 int8 rows) in parts of at most 16 blocks: 4 parts of
 * 52, 52, 52 and 45 columns; a batched B of 2 matrices (`mmib`) has 1 KiB blocks, 8 per part: 7 parts.
 */
const PARTS = { mmi: 4, ql: 4, qmm: 4, w8: 4, mmib: 7 } as const;

const r = rng(20261207);
const ints = (count: number, lo: number, hi: number) => Array.from({ length: count }, () => lo + Math.floor(r() * (hi - lo + 1)));
const a20 = ints(M * K, 0, 255);
// uint8 B with per-column zero points around 128: most columns do not fit int8 after subtracting
// theirs, so the kernels keep A's row sums and per-block column terms.
const b = { type: 'uint8' as const, dims: [K, N], data: ints(K * N, 0, 255) };
const bZp = ints(N, 118, 138);
const aCase = (m: number) => ({ type: 'uint8' as const, dims: [m, K], data: a20.slice(0, m * K) });
const mmi: MatmulCase[] = [1, M].map((m) => ({ a: aCase(m), b, aZp: [7], bZp }));
const bScale = Array.from({ length: N }, () => 0.001 + r() * 0.01);
// Batched B: two matrices (the second is the first reversed), one row of A each.
const bBatched = { type: 'uint8' as const, dims: [2, K, N], data: [...b.data, ...[...b.data].reverse()] };
const mmib: MatmulCase[] = [{ a: { type: 'uint8', dims: [2, 1, K], data: a20.slice(0, 2 * K) }, b: bBatched, aZp: [7], bZp }];
const qlinear: QLinearCase[] = mmi.map((o) => ({ o, aScale: 0.02, bScale, yScale: 3, yZp: 5, yType: 'uint8' }));
const bias = Array.from({ length: N }, () => r() * 2 - 1);
const x20 = Array.from({ length: M * K }, () => r() * 4 - 2);
const wScale = Array.from({ length: (K / 32) * N }, () => 0.001 + r() * 0.01);
const wZp = ints((K / 32) * N, 100, 150);

// 8 threads × 2 loads per step: K's 32 words take two steps, one per split.
const SPLITK: Int8Kernel = { variant: 'portable', layout: 'splitk', wgX: 8, wgY: 8, rows: 1, splits: 2, loads: 2, reduce: 'workgroup' };
/**
 * Each loop with the ops it runs (`mmi` MatMulInteger, `ql` QLinearMatMul, `qmm` QuantizedMatMul).
 * Every distinct (loop, arithmetic, epilogue) is a pipeline that SwiftShader takes seconds to compile,
 * so each epilogue runs on a few loops only: the block offset is applied in the epilogue all loops
 * share (int8-matmul-common.wgsl), and the split-K epilogue pass reads the partial sums at it.
 */
const LOOPS: { kernel: Int8Kernel; m: number; ops: ('mmi' | 'mmib' | 'ql' | 'qmm')[] }[] = [
  { kernel: { variant: 'dp4a', layout: 'gemv', wgX: 16, wgY: 1 }, m: 1, ops: ['mmi', 'mmib', 'qmm'] },
  { kernel: SPLITK, m: 1, ops: ['ql'] },
  { kernel: { variant: 'dp4a', layout: 'gemm', wgX: 16, wgY: 16, rows: 4 }, m: M, ops: ['ql'] },
  { kernel: { variant: 'portable', layout: 'gemm', wgX: 16, wgY: 16, rows: 4 }, m: M, ops: ['mmi'] },
];

test('a weight above a forced 8 KiB binding limit runs in 4 column blocks on each matmul loop, bit-exact against the unsplit run and ORT WASM', async ({
  kernelPage: page,
}) => {
  test.setTimeout(180_000);
  expect((await oracle(page, 'split-mmi', matmulOracle(mmi))).cases).toBe(2);
  expect((await oracle(page, 'split-ql', qlinearOracle(qlinear))).cases).toBe(2);
  expect((await oracle(page, 'split-mmib', matmulOracle(mmib))).cases).toBe(1);
  const r = await page.evaluate(
    async ({ K, N, M, LIMIT, LOOPS, a20, b, bBatched, bZp, bScale, bias, x20, wScale, wZp }) => {
      const { k, ctx } = window.__gpuBase;
      const u8 = (v: number[]) => Uint8Array.from(v);
      const f32 = (v: number[]) => Float32Array.from(v);
      const scalar = (v: number) => ({ type: 'float32' as const, dims: [], data: f32([v]) });
      const bT = { type: 'uint8' as const, dims: [K, N], data: u8(b.data) };
      const zpT = { type: 'uint8' as const, dims: [N], data: u8(bZp) };
      const defs = {
        mmi: { op: 'MatMulInteger', attrs: {}, constants: { B: bT, b_zero_point: zpT } },
        mmib: { op: 'MatMulInteger', attrs: {}, constants: { B: { type: 'uint8' as const, dims: [2, K, N], data: u8(bBatched.data) }, b_zero_point: zpT } },
        ql: {
          op: 'QLinearMatMul',
          attrs: {},
          constants: {
            a_scale: scalar(0.02),
            a_zero_point: { type: 'uint8' as const, dims: [], data: u8([7]) },
            b: bT,
            b_scale: { type: 'float32' as const, dims: [N], data: f32(bScale) },
            b_zero_point: zpT,
            y_scale: scalar(3),
            y_zero_point: { type: 'uint8' as const, dims: [], data: u8([5]) },
          },
        },
        qmm: {
          op: 'QuantizedMatMul',
          attrs: {},
          constants: {
            B: bT,
            b_scale: { type: 'float32' as const, dims: [N], data: f32(bScale) },
            b_zero_point: zpT,
            bias: { type: 'float32' as const, dims: [N], data: f32(bias) },
          },
        },
        w8: {
          op: 'WeightOnlyMatMul',
          attrs: { block_size: 32 },
          constants: {
            W: bT,
            scale: { type: 'float32' as const, dims: [K / 32, N], data: f32(wScale) },
            zero_point: { type: 'uint8' as const, dims: [K / 32, N], data: u8(wZp) },
            bias: { type: 'float32' as const, dims: [N], data: f32(bias) },
          },
        },
      };
      type Op = keyof typeof defs;
      /** Each op prepared with the device's limit (unsplit) and with the forced one (split). */
      const prepare = (limit: number | undefined) => {
        k.forceWeightPartLimit(limit);
        try {
          return Object.fromEntries(Object.entries(defs).map(([name, def]) => [name, k.prepareKernel(ctx, def)])) as Record<
            Op,
            ReturnType<typeof k.prepareKernel>
          >;
        } finally {
          k.forceWeightPartLimit(undefined);
        }
      };
      const unsplit = prepare(undefined);
      const split = prepare(LIMIT);
      const a = (m: number) => ({ buffer: ctx.upload(u8(a20.slice(0, m * K)), 'split.a'), type: 'uint8' as const, dims: [m, K] });
      const inputs = (op: Op, m: number) => {
        if (op === 'w8') return [{ buffer: ctx.upload(f32(x20.slice(0, m * K)), 'split.x'), type: 'float32' as const, dims: [m, K] }];
        const zp = { buffer: ctx.upload(u8([7, 0, 0, 0]), 'split.azp'), type: 'uint8' as const, dims: [] };
        if (op === 'mmi') return [a(m), zp];
        if (op === 'mmib') return [{ ...a(2), dims: [2, 1, K] }, zp];
        if (op === 'qmm') return [a(m), { buffer: ctx.upload(f32([0.02]), 'split.ascale'), type: 'float32' as const, dims: [] }, zp];
        return [a(m)];
      };
      const Arr = { int32: Int32Array, float32: Float32Array, uint8: Uint8Array, int8: Int8Array } as const;
      /** Runs `op` on `m` rows: its output values and the dispatches it took. */
      const run = async (kernels: typeof split, op: Op, m: number) => {
        const ins = inputs(op, m);
        const before = ctx.counters.dispatches;
        const [out] = kernels[op].run(ins);
        const dispatches = ctx.counters.dispatches - before;
        const C = Arr[out!.type as keyof typeof Arr];
        const count = out!.dims.reduce((x, y) => x * y, 1);
        const values = [...new C(await ctx.readback(out!.buffer, Math.ceil((count * C.BYTES_PER_ELEMENT) / 4) * 4), 0, count)];
        ctx.buffers.release(out!.buffer);
        for (const t of ins) ctx.buffers.release(t.buffer);
        return { values, dispatches };
      };
      const t0 = performance.now();
      const rows: {
        loop: string;
        op: string;
        m: number;
        compared: number;
        unsplitDiffers: number;
        ort: number;
        ortDiffers: number;
        dispatches: [number, number];
        ms: number;
      }[] = [];
      const check = async (loop: string, op: Op, m: number, oracle?: string) => {
        const one = await run(unsplit, op, m);
        const parts = await run(split, op, m);
        const want = oracle ? window.__ort.results[oracle]![m === 1 ? 0 : 1]!.y! : [];
        const differs = (xs: number[], ys: number[]) => (xs.length !== ys.length ? -1 : xs.filter((v, i) => !Object.is(v, ys[i])).length);
        rows.push({
          loop,
          op,
          m,
          compared: parts.values.length,
          unsplitDiffers: differs(parts.values, one.values),
          ort: want.length,
          ortDiffers: oracle ? differs(parts.values, want) : 0,
          dispatches: [one.dispatches, parts.dispatches],
          ms: Math.round(performance.now() - t0),
        });
      };
      try {
        for (const { kernel, m, ops } of LOOPS) {
          window.__int8.force(kernel);
          const name = k.int8KernelName(kernel);
          for (const op of ops) await check(name, op, m, op === 'qmm' ? undefined : `split-${op}`);
        }
        window.__int8.force(undefined);
        for (const m of [1, M]) await check(`w8a32 ${m === 1 ? 'gemv' : 'tiled'}`, 'w8', m);
      } finally {
        window.__int8.force(undefined);
        for (const kernels of [unsplit, split]) for (const p of Object.values(kernels)) p.dispose();
      }
      return rows;
    },
    { K, N, M, LIMIT, LOOPS, a20, b, bBatched, bZp, bScale, bias, x20, wScale, wZp },
  );
  console.log(
    r
      .map((x) => `${x.loop} ${x.op} M=${x.m}: ${x.compared} elements, dispatches unsplit ${x.dispatches[0]} split ${x.dispatches[1]}, done at ${x.ms} ms`)
      .join('\n'),
  );
  expect(r).toHaveLength(LOOPS.reduce((n, l) => n + l.ops.length, 0) + 2);
  for (const x of r) {
    const what = `${x.loop} ${x.op} M=${x.m}`;
    const elements = x.m * N * (x.op === 'mmib' ? 2 : 1);
    expect(x.compared, what).toBe(elements);
    expect(x.unsplitDiffers, `${what}: split vs unsplit`).toBe(0);
    // One dispatch per block (split-K: two, the partial sums and the epilogue pass).
    expect(x.dispatches[1], what).toBe(x.dispatches[0] * PARTS[x.op as keyof typeof PARTS]);
    if (x.op !== 'qmm' && x.op !== 'w8') {
      expect(x.ort, what).toBe(elements);
      expect(x.ortDiffers, `${what}: split vs ORT WASM`).toBe(0);
    }
  }
  expect(new Set(r.map((x) => x.loop)).size).toBe(LOOPS.length + 2);
});
