// Seeded random cases of the int8 kernel suite (test/browser/kernels.spec.ts), generated in Node so
// the same cases go to our GPU kernels, the CPU reference (both in the page) and onnxruntime-web's
// WASM kernels (one-node ONNX models, test/unit/kernels/ort-oracle.ts). Plain arrays: JSON-safe.

/** An int tensor as plain data. */
export interface IntCase {
  type: 'uint8' | 'int8';
  dims: number[];
  data: number[];
}

/** One MatMulInteger case: A, constant B, optional zero points (a: scalar or per row, b: scalar or per column). */
export interface MatmulCase {
  a: IntCase;
  b: IntCase;
  aZp?: number[];
  bZp?: number[];
}

/** One QLinearMatMul case (`o` as in a MatMulInteger case, plus the scales and the output type). */
export interface QLinearCase {
  o: MatmulCase;
  aScale: number;
  bScale: number[];
  yScale: number;
  yZp: number;
  yType: 'uint8' | 'int8';
}

/** One fused DQL → QuantizedMatMul case (float32 within a tolerance; checked against the CPU reference). */
export interface FusedCase {
  o: MatmulCase;
  m: number;
  k: number;
  x: number[];
  bias?: number[];
  wScale: number[];
  activation?: 'relu' | 'tanh';
}

/** mulberry32: the suite's seeded generator. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random operands; B's values sometimes span < 128 so the "B − zb fits int8" packing runs too. */
export function randomOperands(r: () => number, m: number, kk: number, n: number, batch: number[], bBatched: boolean): MatmulCase {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const aType = r() < 0.5 ? 'uint8' : 'int8';
  const bType = r() < 0.5 ? 'uint8' : 'int8';
  const lo = (t: string) => (t === 'uint8' ? 0 : -128);
  const bs = batch.reduce((x, y) => x * y, 1);
  const span = r() < 0.3 ? 100 : 255;
  const base = int(lo(bType), lo(bType) + 255 - span);
  const a: IntCase = { type: aType, dims: [...batch, m, kk], data: Array.from({ length: bs * m * kk }, () => int(lo(aType), lo(aType) + 255)) };
  const bDims = bBatched ? [...batch, kk, n] : [kk, n];
  const b: IntCase = { type: bType, dims: bDims, data: Array.from({ length: (bBatched ? bs : 1) * kk * n }, () => int(base, base + span)) };
  const zpMode = int(0, 2);
  const aZp = zpMode === 0 ? undefined : zpMode === 1 ? [int(lo(aType), lo(aType) + 255)] : Array.from({ length: m }, () => int(lo(aType), lo(aType) + 255));
  const bMode = int(0, 2);
  const bZp = bMode === 0 ? undefined : bMode === 1 ? [int(base, base + span)] : Array.from({ length: n }, () => int(base, base + span));
  return { a, b, ...(aZp ? { aZp } : {}), ...(bZp ? { bZp } : {}) };
}

/** The suite's random MatMulInteger cases: shapes, dtypes, zero-point layouts, batched A and B. */
export function randomMatmulCases(count: number, seed: number): MatmulCase[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  return Array.from({ length: count }, () => {
    const big = r() < 0.1;
    const batch = r() < 0.25 ? [int(2, 3)] : [];
    const m = big ? int(1, 40) : int(1, 9);
    const kk = big ? int(65, 300) : int(1, 40);
    const n = big ? int(20, 70) : int(1, 24);
    return randomOperands(r, m, kk, n, batch, batch.length > 0 && r() < 0.4);
  });
}

/**
 * Cases for the GPU-shaped loops (split-K GEMV, tiled GEMM): M = 1…33 (one in 20 up to 70: two
 * 64-row GEMM tiles), K and N off multiples of 4, one in 10 with K up to 300 (several K steps and
 * splits), one in 7 with N up to 72 (two 64-column tiles), batched A and B. Kept small: the same
 * cases also run on onnxruntime's CPU kernels in the page.
 */
export function gpuLoopCases(count: number, seed: number): MatmulCase[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  return Array.from({ length: count }, () => {
    const batch = r() < 0.15 ? [int(2, 3)] : [];
    const m = r() < 0.05 ? int(34, 70) : int(1, 33);
    const kk = r() < 0.1 ? int(100, 300) : int(1, 48);
    const n = r() < 0.15 ? int(60, 72) : int(1, 20);
    return randomOperands(r, m, kk, n, batch, batch.length > 0 && r() < 0.4);
  });
}

/** K up to 8192, N and K off every multiple of 4, batched A and B: 6 shapes. */
export function largeKCases(): MatmulCase[] {
  const r = rng(8192);
  const shapes: [number, number, number, number[], boolean][] = [
    [3, 8192, 5, [], false],
    [1, 8192, 7, [], false],
    [5, 4099, 9, [], false],
    [3, 17, 33, [2], true],
    [1, 1, 1, [], false],
    [33, 255, 65, [], false],
  ];
  return shapes.map(([m, kk, n, batch, bb]) => randomOperands(r, m, kk, n, batch, bb));
}

/** QLinearMatMul cases (random dtypes, zero points, per-tensor or per-column b_scale) and fused DQL → QuantizedMatMul cases. */
export function quantizedCases(count: number, seed: number): { qlinear: QLinearCase[]; fused: FusedCase[] } {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const qlinear: QLinearCase[] = [];
  const fused: FusedCase[] = [];
  for (let i = 0; i < count; i++) {
    const [m, kk, n] = [int(1, 9), int(1, 70), int(1, 30)] as [number, number, number];
    const o = randomOperands(r, m, kk, n, r() < 0.2 ? [2] : [], false);
    const yType = r() < 0.5 ? 'uint8' : 'int8';
    const aScale = Math.fround(0.001 + r() * 0.05);
    const bScale = Array.from({ length: r() < 0.5 ? 1 : n }, () => Math.fround(0.001 + r() * 0.05));
    const yScale = Math.fround(aScale * (bScale[0] as number) * Math.sqrt(kk) * (20 + r() * 100));
    const yZp = yType === 'uint8' ? int(0, 255) : int(-128, 127);
    qlinear.push({ o, aScale, bScale, yScale, yZp, yType });
    const x = Array.from({ length: m * kk }, () => Math.fround((r() - 0.3) * 8));
    const bias = r() < 0.5 ? Array.from({ length: n }, () => Math.fround(r() - 0.5)) : undefined;
    const wScale = Array.from({ length: r() < 0.5 ? 1 : n }, () => Math.fround(0.001 + r() * 0.05));
    // The epilogue's fused activation (the Relu/Tanh the partitioner folds in), a third each.
    const activation = ([undefined, 'relu', 'tanh'] as const)[i % 3];
    fused.push({ o, m, k: kk, x, ...(bias ? { bias } : {}), wScale, ...(activation ? { activation } : {}) });
  }
  return { qlinear, fused };
}

/** DynamicQuantizeLinear inputs: named edge cases, then `count` random ones (every third on rounding ties). */
export function dqlInputs(count: number, seed: number): [string, number[]][] {
  const r = rng(seed);
  const inputs: [string, number[]][] = [
    ['zeros', new Array(7).fill(0)],
    ['constant', new Array(10).fill(Math.fround(0.3))],
    ['negconstant', new Array(5).fill(-2.75)],
    ['negative', [-1, -2, -0.5, -0.25]],
    ['nanInf', [NaN, Infinity, -Infinity, -1, 2.5]],
    // Exact ties: range 255 gives scale 1, so x/scale = j + 0.5 exactly.
    ['ties', [-100, 155, ...Array.from({ length: 254 }, (_, j) => j - 99.5)]],
  ];
  for (let c = 0; c < count; c++) {
    const n = [1, 2, 3, 5, 17, 1000, 4097, 100003][c % 8] as number;
    const lo = (r() - 0.5) * 20;
    const hi = lo + r() * 10 * (r() < 0.2 ? 0.001 : 1);
    const s = Math.fround((hi - lo) / 255);
    inputs.push([`random${c}`, Array.from({ length: n }, () => Math.fround(c % 3 === 2 ? (Math.floor(r() * 255) + 0.5) * s + lo : lo + r() * (hi - lo)))]);
  }
  return inputs;
}

/** Output elements of a MatMulInteger case: batch · M · N. */
export function outputElements(c: MatmulCase): number {
  const aBatch = c.a.dims.slice(0, -2).reduce((x, y) => x * y, 1);
  return aBatch * (c.a.dims.at(-2) as number) * (c.b.dims.at(-1) as number);
}
