// Splitting a matmul weight above the device's binding limit into column blocks: the plan (part
// sizes, alignment, N not a multiple of the part width, the limit below one block → a named error),
// and that the packed blocks are exactly the columns of the unsplit packing (a fake GPU context
// records what would be uploaded), so a kernel reading a block reads the bytes it would read unsplit.
import { describe, expect, it } from 'vitest';
import { WeightTooLargeError } from '../../../src/errors';
import type { GpuContext } from '../../../src/kernels/gpu-context';
import { packAndUploadInt8Weights, packInt8Weights } from '../../../src/kernels/int8-weights';
import { packWeightOnly, uploadWeightOnly } from '../../../src/kernels/w8a32';
import { forceWeightPartLimit, int8BlockBytes, planWeightParts, weightOnlyBlockBytes, weightPartLimit } from '../../../src/kernels/weight-parts';
import { checkBindingLimit, splitWeightsOf } from '../../../src/worker/binding-limit';
import type { KernelStep } from '../../../src/graph/plan';

const device = (binding: number, buffer = 2 ** 30) => ({ limits: { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } }) as unknown as GPUDevice;

/** A GpuContext that keeps every constant it is given, as bytes, in upload order. */
function fakeContext(limit: number) {
  const uploads: { label: string; data: Uint8Array }[] = [];
  const keep = (data: ArrayBufferView, label: string) => {
    uploads.push({ label, data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return { label } as unknown as GPUBuffer;
  };
  const ctx = {
    device: device(limit),
    uploads,
    mappedConstant(size: number, label: string) {
      const bytes = new ArrayBuffer(size);
      uploads.push({ label, data: new Uint8Array(bytes) });
      return { label, getMappedRange: () => bytes, unmap() {} } as unknown as GPUBuffer;
    },
    uploadConstant: keep,
    upload: keep,
    freeConstant() {},
    buffers: { release() {} },
  };
  return ctx as unknown as GpuContext & { uploads: typeof uploads };
}

describe('planWeightParts', () => {
  const shape = (n: number, blockBytes: number) => ({ op: 'MatMulInteger', dims: [256, n], n, blockBytes });

  it('keeps a weight that fits in one part', () => {
    expect(planWeightParts(shape(1024, 1024), 256 * 1024)).toEqual([{ col0: 0, n: 1024 }]);
  });

  it('splits into the fewest parts of equal width, each within the limit, covering every column once', () => {
    for (const [n, blockBytes, limit] of [
      [1024, 1024, 64 * 1024], // 256 blocks of 1 KiB, 64 per part: 4 parts of 256 columns
      [1001, 1024, 64 * 1024], // N not a multiple of 4 nor of the part width
      [4000, 4096, 100_000], // a limit that is not a multiple of the block
      [32000, 4096 * 4, 128 * 2 ** 20], // a 32000 × 4096 int8 LM head on a 128 MiB device
      [10, 48, 50], // one block per part
    ] as const) {
      const parts = planWeightParts(shape(n, blockBytes), limit);
      const groups = Math.ceil(n / 4);
      expect(parts.length, `${n} columns`).toBe(Math.ceil(groups / Math.floor(limit / blockBytes)));
      let next = 0;
      for (const [i, p] of parts.entries()) {
        expect(p.col0).toBe(next);
        expect(p.col0 % 4).toBe(0);
        expect(Math.ceil(p.n / 4) * blockBytes).toBeLessThanOrEqual(limit);
        if (i < parts.length - 1) expect(p.n).toBe(parts[0]!.n); // equal widths; only the last may be narrower
        next += p.n;
      }
      expect(next).toBe(n);
    }
    expect(planWeightParts(shape(1024, 1024), 64 * 1024).map((p) => p.n)).toEqual([256, 256, 256, 256]);
    expect(planWeightParts(shape(1001, 1024), 64 * 1024).map((p) => p.n)).toEqual([252, 252, 252, 245]);
    expect(planWeightParts(shape(32000, 16384), 128 * 2 ** 20)).toHaveLength(1);
    expect(planWeightParts(shape(32000, 16384), 64 * 2 ** 20).map((p) => p.n)).toEqual([16000, 16000]);
  });

  it('throws WeightTooLargeError (WEIGHT_TOO_LARGE) saying what to do when 4 columns alone are above the limit', () => {
    let err: unknown;
    try {
      planWeightParts({ op: 'QuantizedMatMul', dims: [65536, 8], n: 8, blockBytes: int8BlockBytes(65536, 1) }, 128 * 1024);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightTooLargeError);
    const e = err as WeightTooLargeError;
    expect(e.code).toBe('WEIGHT_TOO_LARGE');
    expect(e.message).toContain("QuantizedMatMul's weight [65536, 8] needs 256.0 KiB for one block of 4 columns");
    expect(e.message).toContain("backend: 'wasm'");
    expect(e.details).toMatchObject({ op: 'QuantizedMatMul', blockBytes: 262144, limit: 131072 });
  });

  it('bytes per block: int8 words (16 per 4 rows) or the column terms (32), weight-only words or scales', () => {
    expect(int8BlockBytes(256, 1)).toBe(1024);
    expect(int8BlockBytes(255, 1)).toBe(1024);
    expect(int8BlockBytes(4, 3)).toBe(96);
    expect(weightOnlyBlockBytes(256, 1)).toBe(1024);
    expect(weightOnlyBlockBytes(8, 8)).toBe(128);
  });

  it("takes the device's smallest limit, or the forced one when smaller", () => {
    expect(weightPartLimit(device(128 * 2 ** 20, 256 * 2 ** 20))).toBe(128 * 2 ** 20);
    expect(weightPartLimit(device(2 ** 30, 256 * 2 ** 20))).toBe(256 * 2 ** 20);
    forceWeightPartLimit(65536);
    try {
      expect(weightPartLimit(device(2 ** 30))).toBe(65536);
      expect(weightPartLimit(device(4096))).toBe(4096);
    } finally {
      forceWeightPartLimit(undefined);
    }
    expect(weightPartLimit(device(2 ** 30))).toBe(2 ** 30);
    expect(() => forceWeightPartLimit(3)).toThrow(RangeError);
  });
});

function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

describe('packing into parts', () => {
  it('int8: each part holds exactly its columns of the unsplit packing, and its own column terms', () => {
    const r = rng(7);
    for (const [t, k, n, zp, type] of [
      [1, 37, 1001, 3, 'int8'],
      [1, 64, 96, 130, 'uint8'],
      [3, 8, 50, 0, 'int8'], // batched B: each block holds its columns of every matrix
    ] as const) {
      const data =
        type === 'int8'
          ? Int8Array.from({ length: t * k * n }, () => Math.floor(r() * 256) - 128)
          : Uint8Array.from({ length: t * k * n }, () => Math.floor(r() * 256));
      const bZp = Array.from({ length: n }, (_, j) => (zp + j) % 256) as number[];
      const b = { data, type, dims: t > 1 ? [t, k, n] : [k, n] };
      const whole = packInt8Weights(b, type === 'uint8' ? bZp : zp);
      const limit = int8BlockBytes(k, t) * 5; // 5 blocks of 4 columns per part
      const ctx = fakeContext(limit);
      const w = packAndUploadInt8Weights(ctx, b, type === 'uint8' ? bZp : zp, 'MatMulInteger');
      expect(w.parts?.length).toBe(Math.ceil(Math.ceil(n / 4) / 5));
      expect(w.n).toBe(n);
      expect(w.rowsum).toBe(whole.rowsum);
      const words = ctx.uploads.filter((u) => u.label === 'int8.weights').map((u) => new Uint32Array(u.data.buffer));
      const cols = ctx.uploads.filter((u) => u.label === 'int8.colinfo').map((u) => new Int32Array(u.data.buffer));
      for (const [i, p] of w.parts!.entries()) {
        expect(p.n4).toBe(Math.ceil(p.n / 4));
        expect(words[i]!.length * 4).toBeLessThanOrEqual(limit);
        for (let j = 0; j < t * whole.kw; j++) {
          expect(words[i]!.subarray(j * p.n4 * 4, (j + 1) * p.n4 * 4)).toEqual(
            whole.words.subarray(j * whole.n4 * 4 + p.col0, j * whole.n4 * 4 + p.col0 + p.n4 * 4),
          );
        }
        for (let z = 0; z < t; z++) {
          const own = cols[i]!.subarray(z * p.n4 * 8, z * p.n4 * 8 + p.n * 2);
          expect(own).toEqual(whole.colInfo.subarray((z * whole.n4 * 4 + p.col0) * 2, (z * whole.n4 * 4 + p.col0 + p.n) * 2));
        }
      }
      // The plan's check counts the same parts, and model.info's count agrees.
      const step: KernelStep = {
        kind: 'kernel',
        op: 'MatMulInteger',
        attrs: {},
        constants: { B: { type, dims: b.dims, data } },
        inputs: ['a'],
        outputs: ['y'],
      };
      expect(() => checkBindingLimit(step, 0, device(limit))).not.toThrow();
      expect(splitWeightsOf([{ inputs: [], outputs: [], steps: [step] }], device(limit))).toEqual({ weights: 1, parts: w.parts!.length, limit });
    }
  });

  it('an unsplit weight keeps one buffer and no parts', () => {
    const ctx = fakeContext(2 ** 30);
    const w = packAndUploadInt8Weights(ctx, { data: new Int8Array(64 * 96), type: 'int8', dims: [64, 96] });
    expect(w.parts).toBeUndefined();
    expect(ctx.uploads.map((u) => u.label)).toEqual(['int8.weights', 'int8.colinfo']);
  });

  it('weight-only: each part holds its columns of the words, scales and zero points', () => {
    const r = rng(11);
    const [k, n, block] = [64, 77, 16];
    const w = {
      data: Uint8Array.from({ length: k * n }, () => Math.floor(r() * 256)),
      type: 'uint8' as const,
      k,
      n,
      block,
      scales: Float32Array.from({ length: 4 * n }, () => r()),
      zeros: Float32Array.from({ length: 4 * n }, () => Math.floor(r() * 256)),
    };
    const whole = packWeightOnly(w);
    const ctx = fakeContext(weightOnlyBlockBytes(k, 4) * 3);
    const g = uploadWeightOnly(ctx, whole);
    expect(g.parts?.map((p) => p.n)).toEqual([12, 12, 12, 12, 12, 12, 5]);
    const by = (label: string) => ctx.uploads.filter((u) => u.label === label).map((u) => u.data);
    for (const [i, p] of g.parts!.entries()) {
      const words = new Uint32Array(by('w8a32.w')[i]!.buffer);
      for (let kk = 0; kk < k; kk++)
        expect(words.subarray(kk * p.n4, (kk + 1) * p.n4)).toEqual(whole.words.subarray(kk * whole.n4 + p.col0 / 4, kk * whole.n4 + p.col0 / 4 + p.n4));
      const scales = new Float32Array(by('w8a32.scales')[i]!.buffer);
      for (let b = 0; b < 4; b++)
        expect(scales.subarray(b * p.n4 * 4, b * p.n4 * 4 + p.n)).toEqual(whole.scales.subarray(b * whole.n4 * 4 + p.col0, b * whole.n4 * 4 + p.col0 + p.n));
    }
    const step: KernelStep = {
      kind: 'kernel',
      op: 'WeightOnlyMatMul',
      attrs: { block_size: block },
      constants: { W: { type: 'uint8', dims: [k, n], data: w.data } },
      inputs: ['x'],
      outputs: ['y'],
    };
    expect(splitWeightsOf([{ inputs: [], outputs: [], steps: [step] }], device(weightOnlyBlockBytes(k, 4) * 3))?.parts).toBe(7);
  });

  it('a conv weight is not split: above the limit the step is refused with KernelError, as before', () => {
    const step: KernelStep = {
      kind: 'kernel',
      op: 'QuantizedConv',
      attrs: {},
      constants: { W: { type: 'int8', dims: [64, 64, 3, 3], data: new Int8Array(64 * 64 * 9) } },
      inputs: ['x'],
      outputs: ['y'],
    };
    expect(() => checkBindingLimit(step, 3, device(4096))).toThrow(/binds its W weight, int8 \[64, 64, 3, 3\].*splits only matmul weights/);
    expect(splitWeightsOf([{ inputs: [], outputs: [], steps: [step] }], device(4096))).toBeUndefined();
  });
});
