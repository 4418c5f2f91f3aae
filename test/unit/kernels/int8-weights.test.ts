// Checks the prepacked weight layout and the zero-point identity the WGSL kernels rely on, by
// evaluating the kernels' formula on the CPU from the packed words (fast, many shapes).
import { describe, expect, it } from 'vitest';
import { packInt8Weights } from '../../../src/kernels/int8-weights';
import { matMulIntegerRef, type Int8Type, type IntTensor } from '../../../src/kernels/reference';

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const typed = (t: Int8Type, v: number[]) => (t === 'uint8' ? Uint8Array.from(v) : Int8Array.from(v));
const sx8 = (v: number) => (v << 24) >> 24;

/** The kernels' arithmetic: acc = Σ A'B', rs = Σ A', Y = acc − zb'·rs − za'·(colsum − K·zb'). */
function emulate(a: IntTensor, b: IntTensor, aZp: number, bZp: number[] | number): Int32Array {
  const p = packInt8Weights(b, bZp);
  const [m, k] = a.dims as [number, number];
  const out = new Int32Array(m * p.n);
  const shift = a.type === 'uint8' ? 128 : 0;
  for (let i = 0; i < m; i++) {
    const za = aZp - shift;
    for (let j = 0; j < p.n; j++) {
      let acc = 0;
      let rs = 0;
      for (let kk = 0; kk < k; kk++) {
        const av = (a.data[i * k + kk] as number) - shift;
        const w = p.words[((kk >> 2) * p.n4 + (j >> 2)) * 4 + (j & 3)] as number;
        acc += av * sx8(w >>> ((kk & 3) * 8));
        rs += av;
      }
      const zb = p.colInfo[j * 2] as number;
      const csk = p.colInfo[j * 2 + 1] as number;
      out[i * p.n + j] = acc - zb * (p.rowsum ? rs : 0) - za * csk;
    }
  }
  return out;
}

describe('packInt8Weights', () => {
  it("reproduces MatMulInteger through the kernels' zero-point identity (300 seeded shapes)", () => {
    const r = rng(7);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    let rowsumPaths = 0;
    for (let c = 0; c < 300; c++) {
      const [m, k, n] = [int(1, 5), int(1, 37), int(1, 19)];
      const aType: Int8Type = r() < 0.5 ? 'uint8' : 'int8';
      const bType: Int8Type = r() < 0.5 ? 'uint8' : 'int8';
      const lo = (t: Int8Type) => (t === 'uint8' ? 0 : -128);
      // Narrow B ranges sometimes, so the "B − zb fits int8" packing is exercised too.
      const bSpan = r() < 0.3 ? 100 : 255;
      const a: IntTensor = {
        type: aType,
        dims: [m, k],
        data: typed(
          aType,
          Array.from({ length: m * k }, () => int(lo(aType), lo(aType) + 255)),
        ),
      };
      const bBase = int(lo(bType), lo(bType) + 255 - bSpan);
      const b: IntTensor = {
        type: bType,
        dims: [k, n],
        data: typed(
          bType,
          Array.from({ length: k * n }, () => int(bBase, bBase + bSpan)),
        ),
      };
      const aZp = int(lo(aType), lo(aType) + 255);
      const bZp = r() < 0.5 ? int(bBase, bBase + bSpan) : Array.from({ length: n }, () => int(bBase, bBase + bSpan));
      if (packInt8Weights(b, bZp).rowsum) rowsumPaths++;
      expect([...emulate(a, b, aZp, bZp)]).toEqual([...matMulIntegerRef(a, b, aZp, bZp).data]);
    }
    expect(rowsumPaths).toBeGreaterThan(50);
    expect(rowsumPaths).toBeLessThan(300);
  });

  it('pads K and N with zeros and lays out [kw][n4][4] words', () => {
    const p = packInt8Weights({ type: 'int8', dims: [5, 3], data: Int8Array.from({ length: 15 }, (_, i) => i + 1) });
    expect([p.kw, p.n4, p.rowsum]).toEqual([2, 1, false]);
    // column 0 holds k = 0..3 → values 1, 4, 7, 10; k = 4 → 13 in the second word.
    expect(p.words[0]).toBe(1 | (4 << 8) | (7 << 16) | (10 << 24));
    expect(p.words[4]).toBe(13);
    expect(p.words[3]).toBe(0);
  });

  it('rejects a wrong zero-point count', () => {
    expect(() => packInt8Weights({ type: 'uint8', dims: [2, 3], data: new Uint8Array(6) }, [1, 2])).toThrow(/1 or N = 3/);
  });
});
