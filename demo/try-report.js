// @ts-check
// The "try your model" section's figures, as pure functions of what webq8 reports (tested in
// test/unit/demo/try-report.test.ts): the seeded inputs, where each quantized op runs on each plan,
// the copies per inference, and how far each GPU plan's outputs are from WASM's.

/** @typedef {import('../src/types').ModelInfo} ModelInfo */
/** @typedef {import('../src/types').ValueInfo} ValueInfo */
/** @typedef {import('../src/types').TensorLike} TensorLike */

/**
 * The symbolic dimensions of `inputs` that need a size: a named one (`'batch'`) once, shared by every
 * input that declares it; an unnamed one (null, or ORT's 4294967295 / -1) per input and axis.
 * Defaults: 1 on the first axis (the batch, by convention), 32 elsewhere.
 * @param {ValueInfo[]} inputs
 * @returns {{ key: string, size: number }[]}
 */
export function symbolicDims(inputs) {
  /** @type {Map<string, number>} */
  const dims = new Map();
  for (const v of inputs) {
    v.dims.forEach((d, axis) => {
      if (isFixed(d)) return;
      const key = typeof d === 'string' ? d : `${v.name}[${axis}]`;
      if (!dims.has(key)) dims.set(key, axis === 0 ? 1 : 32);
    });
  }
  return [...dims].map(([key, size]) => ({ key, size }));
}

/** @param {ValueInfo['dims'][number]} d */
const isFixed = (d) => typeof d === 'number' && d >= 0 && d < 2 ** 31;

/**
 * Array class per element type (float16 as its bits; uint8 and bool as bytes).
 * @type {Record<string, new (n: number) => Float32Array | Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array>}
 */
const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  float16: Uint16Array,
  int8: Int8Array,
};
/** Typed array of `type` with `n` elements (zeros). @param {string} type @param {number} n */
const zeros = (type, n) => new (ARRAYS[type] ?? Uint8Array)(n);

/**
 * Inputs for every declared input: float inputs get seeded values in [-1, 1) (the same generator as
 * webq8's 'auto' probe), the others zeros (integer inputs are often indices); symbolic dimensions
 * take the sizes in `sizes` (keys from {@link symbolicDims}). Throws for non-tensor inputs.
 * @param {ValueInfo[]} inputs @param {Record<string, number>} sizes
 * @returns {Record<string, TensorLike>}
 */
export function seededFeeds(inputs, sizes) {
  /** @type {Record<string, TensorLike>} */
  const feeds = {};
  for (const v of inputs) {
    if (v.type === 'unknown') throw new Error(`Input "${v.name}" is not a tensor: the page cannot make a value for it.`);
    const dims = v.dims.map((d, axis) => (isFixed(d) ? /** @type {number} */ (d) : (sizes[typeof d === 'string' ? d : `${v.name}[${axis}]`] ?? 1)));
    const data = zeros(
      v.type,
      dims.reduce((a, b) => a * b, 1),
    );
    if (data instanceof Float32Array || data instanceof Float64Array) {
      let seed = 0x9e3779b9;
      for (let i = 0; i < data.length; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        data[i] = seed / 2 ** 31 - 1;
      }
    }
    feeds[v.name] = /** @type {TensorLike} */ ({ type: v.type, dims, data });
  }
  return feeds;
}

/** A copy of `feeds` (a run transfers its input buffers). @param {Record<string, TensorLike>} feeds */
export function copyFeeds(feeds) {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { ...t, data: /** @type {any} */ (t.data).slice() }]));
}

/** Kernel patterns whose replaced ops ORT's WebGPU EP runs on its CPU fallback (MatMulInteger, DynamicQuantizeLinear, QLinearMatMul). */
const CPU_ON_ORT = new Set(['quantize_dynamic', 'MatMulInteger', 'QLinearMatMul', 'DynamicQuantizeLinear']);

/**
 * One row per quantized op of the placement: each kernel step (its first node and how many nodes it
 * replaces) and each int8 candidate left to ORT, with where it runs on the kernel plan and on the plain-ORT plan, and why.
 * @param {NonNullable<ModelInfo['placement']>} placement
 * @returns {{ node: string, replaces: number, op: string, kernelsPlan: string, ortPlan: string, why: string }[]}
 */
export function placementRows(placement) {
  const cpu = new Set(Object.keys(placement.cpuFallbackOps));
  const kernels = placement.kernels.map((g) => ({
    node: g.nodes[0] ?? '',
    replaces: g.nodes.length,
    op: g.ops.join(' + '),
    kernelsPlan: 'webq8 kernel',
    ortPlan: CPU_ON_ORT.has(g.pattern) ? 'ORT, CPU fallback' : 'ORT, WebGPU',
    why: `pattern ${g.pattern}`,
  }));
  const fallbacks = placement.fallbacks.map((f) => {
    const where = cpu.has(f.op) ? 'ORT, CPU fallback' : 'ORT, WebGPU';
    return { node: f.node, replaces: 1, op: f.op, kernelsPlan: where, ortPlan: where, why: `no webq8 kernel: ${f.reason}` };
  });
  return [...kernels, ...fallbacks];
}

/**
 * Copies per inference of a plan, from a run's counters: uploads and readbacks between the CPU and
 * the GPU, and the hand-offs between steps.
 * @param {{ uploads: number, readbacks: number, ortSegments: number, kernelDispatches: number }} c
 */
export function copiesText(c) {
  return `${c.uploads} upload${c.uploads === 1 ? '' : 's'}, ${c.readbacks} readback${c.readbacks === 1 ? '' : 's'}; ${c.ortSegments} ORT segment${c.ortSegments === 1 ? '' : 's'}, ${c.kernelDispatches} kernel dispatch${c.kernelDispatches === 1 ? '' : 'es'}`;
}

/**
 * How far `got` is from `want` (the WASM output): relative L2 (‖got − want‖ / ‖want‖; absolute
 * when ‖want‖ = 0) and the largest absolute difference. NaN/Infinity in either side makes the
 * error NaN; a shape mismatch is reported as such.
 * @param {TensorLike} got @param {TensorLike} want
 * @returns {{ relL2: number, maxAbs: number, note: string }}
 */
export function compareOutputs(got, want) {
  if (got.dims.join('x') !== want.dims.join('x')) return { relL2: NaN, maxAbs: NaN, note: `shape ${got.dims.join('×')} vs ${want.dims.join('×')}` };
  const a = /** @type {ArrayLike<number | bigint>} */ (/** @type {unknown} */ (got.data));
  const b = /** @type {ArrayLike<number | bigint>} */ (/** @type {unknown} */ (want.data));
  let diff = 0;
  let norm = 0;
  let maxAbs = 0;
  for (let i = 0; i < b.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    diff += (x - y) ** 2;
    norm += y * y;
    maxAbs = Math.max(maxAbs, Math.abs(x - y));
    if (!Number.isFinite(x) || !Number.isFinite(y)) maxAbs = NaN;
  }
  const relL2 = norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
  return { relL2: Number.isNaN(maxAbs) ? NaN : relL2, maxAbs, note: norm > 0 ? '' : 'WASM output is all zeros: absolute L2' };
}

/** Bytes as MiB/KiB text. @param {number} n */
export const sizeText = (n) => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
