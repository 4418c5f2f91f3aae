// The adapter-class choice table of the int8 kernels (src/kernels/int8-defaults.ts) with made-up
// adapter facts, and the GPU-shaped programs it leads to (no GPU needed).
import { describe, expect, it } from 'vitest';
import { adapterDefaultKernel, int8AdapterClass, int8Variants, type Int8AdapterFacts } from '../../../src/kernels/int8-defaults';
import { autoSplits, int8GpuProgram, splitKFinishProgram, SPLITK_TARGET_WORKGROUPS } from '../../../src/kernels/int8-gpu-loops';
import { defaultInt8Kernel, int8KernelName, int8MatmulProgram } from '../../../src/kernels/int8-matmul';
import { int8Candidates } from '../../../src/kernels/int8-tuning';
import { dqlWorkgroupSize } from '../../../src/kernels/dynamic-quantize';

const swiftshader: Int8AdapterFacts = { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true, dp4a: true, subgroups: false };
const nvidia: Int8AdapterFacts = { vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: false, dp4a: true, subgroups: true };
const intelNoSg: Int8AdapterFacts = { vendor: 'intel', architecture: 'gen-12lp', dp4a: true, subgroups: false };
const apple: Int8AdapterFacts = { vendor: 'apple', architecture: 'metal-3', dp4a: true, subgroups: true };
const oldBrowser: Int8AdapterFacts = { dp4a: false, subgroups: false };
const name = (rows: number, f: Int8AdapterFacts, request?: 'auto' | 'dp4a' | 'portable') => int8KernelName(adapterDefaultKernel(rows, f, request));

describe('int8 adapter classes', () => {
  it('classes SwiftShader and fallback adapters as fallback, Apple by vendor or architecture, the rest as GPUs', () => {
    expect(int8AdapterClass(swiftshader)).toBe('fallback');
    expect(int8AdapterClass({ ...nvidia, isFallbackAdapter: true })).toBe('fallback');
    expect(int8AdapterClass({ vendor: '', architecture: 'swiftshader', dp4a: false, subgroups: false })).toBe('fallback');
    expect(int8AdapterClass(apple)).toBe('apple');
    expect(int8AdapterClass({ vendor: '', architecture: 'apple-m2', dp4a: true, subgroups: false })).toBe('apple');
    expect([nvidia, intelNoSg, oldBrowser, { vendor: 'amd', architecture: 'rdna-3', dp4a: true, subgroups: true }].map(int8AdapterClass)).toEqual([
      'gpu',
      'gpu',
      'gpu',
      'gpu',
    ]);
  });

  it('never offers dp4a on Apple or without the language feature', () => {
    expect(int8Variants(nvidia)).toEqual(['dp4a', 'portable']);
    expect(int8Variants(swiftshader)).toEqual(['dp4a', 'portable']);
    expect(int8Variants(apple)).toEqual(['portable']);
    expect(int8Variants(oldBrowser)).toEqual(['portable']);
  });
});

describe('int8 default kernel per adapter class', () => {
  it('keeps the SwiftShader-shaped defaults on fallback adapters (dp4a GEMV for one row, portable wide tiles above)', () => {
    expect(adapterDefaultKernel(1, swiftshader)).toEqual(defaultInt8Kernel(1, 'dp4a', true));
    expect(adapterDefaultKernel(4, swiftshader)).toEqual(defaultInt8Kernel(4, 'portable', true));
    expect(adapterDefaultKernel(512, swiftshader)).toEqual(defaultInt8Kernel(512, 'portable', true));
    expect(name(16, swiftshader, 'dp4a')).toBe('dp4a/wide16 8x16');
  });

  it('gives real GPUs the split-K GEMV up to 32 rows and the tiled GEMM above, dp4a where it exists', () => {
    expect([1, 4, 8, 32, 33, 256, 512, 1024].map((m) => name(m, nvidia))).toEqual([
      'dp4a/splitk 8x32 r1 sauto l4 sg',
      'dp4a/splitk 8x32 r4 sauto l4 sg',
      'dp4a/splitk 8x32 r8 sauto l4 sg',
      'dp4a/splitk 8x32 r8 sauto l4 sg',
      'dp4a/gemm 16x16 r4',
      'dp4a/gemm 16x16 r4',
      'dp4a/gemm 16x16 r8',
      'dp4a/gemm 16x16 r8',
    ]);
    expect(name(1, intelNoSg)).toBe('dp4a/splitk 8x32 r1 sauto l4'); // workgroup-memory reduction
    expect(name(1, oldBrowser)).toBe('portable/splitk 8x32 r1 sauto l4');
    expect(name(64, nvidia, 'portable')).toBe('portable/gemm 16x16 r4');
  });

  it('gives Apple the GPU-shaped loops with the portable arithmetic', () => {
    expect(name(1, apple)).toBe('portable/splitk 8x32 r1 sauto l4 sg');
    expect(name(300, apple)).toBe('portable/gemm 16x16 r4');
  });

  it('quantizes a decode row with 256 threads on real GPUs (Apple included) and 64 on fallback adapters', () => {
    const device = (f: Int8AdapterFacts) =>
      ({ adapterInfo: { vendor: f.vendor, architecture: f.architecture, isFallbackAdapter: f.isFallbackAdapter } }) as unknown as GPUDevice;
    expect([swiftshader, { ...nvidia, isFallbackAdapter: true }, nvidia, intelNoSg, apple, oldBrowser].map((f) => dqlWorkgroupSize(device(f)))).toEqual([
      64, 64, 256, 256, 256, 256,
    ]);
  });

  it('measures the GPU-shaped loops only on real adapters', () => {
    const layouts = (gpu: boolean) => new Set(int8Candidates('m1', ['dp4a'], gpu).map((k) => k.layout));
    expect(layouts(false)).toEqual(new Set(['gemv']));
    expect(layouts(true)).toEqual(new Set(['gemv', 'splitk']));
    expect(new Set(int8Candidates('large', ['dp4a'], true).map((k) => k.layout))).toEqual(new Set(['gemm', 'tiled', 'wide']));
  });
});

describe('GPU-shaped programs', () => {
  const shape = { mode: 'float32', rowsum: true, m: 1, k: 4096, n4: 1024, matrices: 1 } as const;

  it('splits K across workgroups only as far as N leaves the GPU idle, keeping a full step per split', () => {
    const k = adapterDefaultKernel(1, nvidia);
    // N = 4096: 128 column blocks, 2 splits reach the target; N = 896: 28 blocks, K = 896 (224 words) allows 1 step.
    expect(autoSplits(k, 1, 1024, 1024)).toBe(Math.ceil(SPLITK_TARGET_WORKGROUPS / 128));
    expect(autoSplits(k, 1, 224, 224)).toBe(1);
    expect(autoSplits(k, 1, 224, 4096)).toBe(Math.ceil(SPLITK_TARGET_WORKGROUPS / 28));
    expect(autoSplits({ ...k, rows: 8 }, 32, 1024, 1024)).toBe(1);
  });

  it('builds the split-K GEMV: subgroup directive first, atomic output only when split, overrides for the shape', () => {
    const sg = int8GpuProgram({ variant: 'dp4a', layout: 'splitk', wgX: 8, wgY: 32, rows: 4, splits: 3, loads: 4, reduce: 'subgroup' }, { ...shape, m: 9 });
    expect(sg.code.startsWith('enable subgroups;\nrequires packed_4x8_integer_dot_product;')).toBe(true);
    expect(sg.code).toContain('subgroupShuffleXor');
    expect(sg.code).toContain('array<atomic<u32>>');
    // Partial sums: the epilogue (MODE 1 here) is the finish pass's, so every mode shares this pipeline.
    expect(sg.constants).toEqual({ MODE: 0, ROWSUM: 1, K_ALIGNED: 1, WG_X: 8, WG_Y: 32, ROWS: 4, SPLITS: 3, LOADS: 4, PARTIAL: 1 });
    expect(sg.workgroups).toEqual([128, 9, 1]); // 3 row blocks x 3 splits
    const wg = int8GpuProgram({ variant: 'portable', layout: 'splitk', wgX: 8, wgY: 32 }, shape);
    expect(wg.code).not.toContain('subgroupShuffleXor');
    expect(wg.code).not.toContain('enable subgroups');
    expect(wg.code).not.toContain('atomic<u32>');
    expect(wg.shaderKey).not.toBe(sg.shaderKey);
    const fin = splitKFinishProgram('dp4a', { ...shape, mode: 'requant' });
    expect(fin.code).toContain('array<atomic<u32>>'); // requantized bytes share words
    expect(fin.workgroups).toEqual([16, 1, 1]);
    // It never reads A's words: one pipeline whatever K's alignment (K_ALIGNED left at its default).
    expect(fin.constants).toEqual({ MODE: 2, WG_X: 64 });
    expect(splitKFinishProgram('dp4a', { ...shape, mode: 'requant', k: shape.k + 1 }).constants).toEqual(fin.constants);
    expect(() => int8GpuProgram({ variant: 'dp4a', layout: 'splitk', wgX: 8, wgY: 24 }, shape)).toThrow(/power-of-two/);
    expect(() => int8GpuProgram({ variant: 'dp4a', layout: 'splitk', wgX: 8, wgY: 32, rows: 9 }, shape)).toThrow(/1–8 rows/);
  });

  it('builds the tiled GEMM with plain stores (atomic only for requantized bytes) and 64 × 64 or 128 × 64 tiles', () => {
    const p = int8MatmulProgram({ variant: 'dp4a', layout: 'gemm', wgX: 16, wgY: 16, rows: 4 }, { ...shape, m: 256, mode: 'int32' });
    expect(p.code).toContain('var<workgroup> tile_a');
    expect(p.code).not.toContain('atomic<u32>');
    expect(p.workgroups).toEqual([64, 4, 1]);
    expect(int8MatmulProgram({ variant: 'dp4a', layout: 'gemm', wgX: 16, wgY: 16, rows: 8 }, { ...shape, m: 256 }).workgroups).toEqual([64, 2, 1]);
    expect(int8GpuProgram({ variant: 'dp4a', layout: 'gemm', wgX: 16, wgY: 16 }, { ...shape, mode: 'requant' }).code).toContain('atomic<u32>');
    expect(() => int8GpuProgram({ variant: 'dp4a', layout: 'gemm', wgX: 16, wgY: 16, rows: 6 }, shape)).toThrow(/4 or 8 rows/);
  });
});
