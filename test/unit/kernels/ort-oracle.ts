// onnxruntime-web's own WASM kernels as an independent oracle for the int8 kernel suite: the
// suite's random cases as ONNX models (built with webq8's builder, many one-node subgraphs per
// model so a few sessions cover hundreds of cases), run by ort-runner.ts; the kernels must match
// its outputs (`window.__ort` in the page) bit for bit.
//
// Where ORT's CPU kernels lack a variant, the case is rewritten by an exact integer identity, and
// ORT still does the arithmetic:
// - per-row a_zero_point (ORT: scalar only) → one node per row of A, each with that row's scalar;
// - QLinearMatMul exists in ORT for (uint8, uint8 → uint8), (uint8, int8 → uint8) and
//   (int8, int8 → int8) only: int8 A with uint8 B uses B − 128 and b_zp − 128 (same differences);
//   an output type other than A's uses y_zp ∓ 128 and the result is shifted back by ±128
//   (saturate_u8(v + zp + 128) − 128 = saturate_i8(v + zp)).
import { buildModel, type NodeSpec, type ValueSpec } from '../../../src/graph/onnx-builder';
import type { TensorLike } from '../../../src/types';
import type { IntCase, MatmulCase, QLinearCase } from './int8-cases';

/** Where one model output goes: case `c`, output `key`, starting at element `offset`, plus `shift`. */
export interface OracleOutput {
  name: string;
  c: number;
  key: string;
  offset: number;
  shift?: number;
}

/** One ORT model and its feeds (plain arrays, JSON-safe). */
export interface OracleModel {
  bytes: number[];
  feeds: Record<string, { type: 'uint8' | 'int8' | 'float32'; dims: number[]; data: number[] }>;
  outputs: OracleOutput[];
}

/** Subgraphs (nodes) per model: a few sessions instead of one per case. */
const NODES_PER_MODEL = 256;

const ARRAYS = { uint8: Uint8Array, int8: Int8Array, float32: Float32Array } as const;

export function tensor(type: keyof typeof ARRAYS, dims: number[], data: ArrayLike<number>): TensorLike {
  return { type, dims, data: ARRAYS[type].from(data) } as TensorLike;
}

/** Accumulates subgraphs and cuts a model after the case that reaches {@link NODES_PER_MODEL} nodes. */
export class ModelBatch {
  readonly models: OracleModel[] = [];
  private inputs: ValueSpec[] = [];
  private outputs: ValueSpec[] = [];
  private nodes: NodeSpec[] = [];
  private inits: Record<string, TensorLike> = {};
  private feeds: OracleModel['feeds'] = {};
  private map: OracleOutput[] = [];
  private id = 0;

  /** A unique value name. */
  name(prefix: string): string {
    return `${prefix}${this.id++}`;
  }

  input(name: string, t: { type: 'uint8' | 'int8' | 'float32'; dims: number[]; data: number[] }): string {
    this.inputs.push({ name, type: t.type, dims: t.dims });
    this.feeds[name] = t;
    return name;
  }

  init(name: string, t: TensorLike): string {
    this.inits[name] = t;
    return name;
  }

  node(op: string, inputs: string[], outs: { spec: ValueSpec; to: Omit<OracleOutput, 'name'> }[], attrs?: NodeSpec['attrs']): void {
    while (inputs.at(-1) === '') inputs.pop();
    this.nodes.push({ op, inputs, outputs: outs.map((o) => o.spec.name), ...(attrs ? { attrs } : {}) });
    for (const o of outs) {
      this.outputs.push(o.spec);
      this.map.push({ name: o.spec.name, ...o.to });
    }
  }

  /** Ends a case: a model is cut only between cases, as a case's nodes share its initializers. */
  endCase(): void {
    if (this.nodes.length >= NODES_PER_MODEL) this.flush();
  }

  flush(): OracleModel[] {
    if (this.nodes.length === 0) return this.models;
    const bytes = buildModel({ inputs: this.inputs, outputs: this.outputs, nodes: this.nodes, initializers: this.inits, opset: 13 });
    this.models.push({ bytes: [...bytes], feeds: this.feeds, outputs: this.map });
    this.inputs = [];
    this.outputs = [];
    this.nodes = [];
    this.inits = {};
    this.feeds = {};
    this.map = [];
    return this.models;
  }
}

const rows = (t: IntCase) => t.dims.at(-2) as number;
const cols = (t: IntCase) => t.dims.at(-1) as number;
const matrices = (t: IntCase) => t.dims.slice(0, -2).reduce((x, y) => x * y, 1);
const zpTensor = (type: IntCase['type'], zp: number[]) => tensor(type, zp.length === 1 ? [] : [zp.length], zp);

/** ORT models computing each case's `Y` (int32, output key `y`). */
export function matmulOracle(cases: MatmulCase[]): OracleModel[] {
  const batch = new ModelBatch();
  cases.forEach((c, ci) => {
    const [m, k, n] = [rows(c.a), cols(c.a), cols(c.b)];
    const bZp = c.bZp ? batch.init(batch.name('bz'), zpTensor(c.b.type, c.bZp)) : '';
    const bOf = (t: number) => batch.init(batch.name('b'), tensor(c.b.type, [k, n], c.b.data.slice(t * k * n, (t + 1) * k * n)));
    const out = (dims: number[], offset: number) => ({ spec: { name: batch.name('y'), type: 'int32' as const, dims }, to: { c: ci, key: 'y', offset } });
    const perRow = (c.aZp?.length ?? 0) > 1;
    const bBatched = c.b.dims.length > 2;
    if (!perRow && !bBatched) {
      const a = batch.input(batch.name('a'), c.a);
      const aZp = c.aZp ? batch.input(batch.name('az'), { type: c.a.type, dims: [], data: c.aZp }) : '';
      const b = batch.init(batch.name('b'), tensor(c.b.type, c.b.dims, c.b.data));
      batch.node('MatMulInteger', [a, b, aZp, bZp], [out([...c.a.dims.slice(0, -1), n], 0)]);
      batch.endCase();
      return;
    }
    // One node per matrix (batched B), or per row (per-row a_zero_point, ORT takes a scalar).
    const bs = bBatched ? Array.from({ length: matrices(c.b) }, (_, t) => bOf(t)) : [batch.init(batch.name('b'), tensor(c.b.type, [k, n], c.b.data))];
    for (let t = 0; t < matrices(c.a); t++) {
      const b = bs[bBatched ? t : 0] as string;
      const slices = perRow ? Array.from({ length: m }, (_, i) => [i, 1]) : [[0, m]];
      for (const [i, h] of slices as [number, number][]) {
        const a = batch.input(batch.name('a'), { type: c.a.type, dims: [h, k], data: c.a.data.slice((t * m + i) * k, (t * m + i + h) * k) });
        const zp = c.aZp ? [c.aZp[perRow ? i : 0] as number] : undefined;
        const aZp = zp ? batch.input(batch.name('az'), { type: c.a.type, dims: [], data: zp }) : '';
        batch.node('MatMulInteger', [a, b, aZp, bZp], [out([h, n], (t * m + i) * n)]);
      }
    }
    batch.endCase();
  });
  return batch.flush();
}

/** ORT models computing each QLinearMatMul case's `y` (output key `y`, already in the case's type). */
export function qlinearOracle(cases: QLinearCase[]): OracleModel[] {
  const batch = new ModelBatch();
  cases.forEach((q, ci) => {
    const { a, b } = q.o;
    const n = cols(b);
    // int8 A with uint8 B: ORT has no kernel; B − 128 with b_zp − 128 keeps every difference.
    const shiftB = a.type === 'int8' && b.type === 'uint8' ? 128 : 0;
    const bType = shiftB ? 'int8' : b.type;
    const bZp = (q.o.bZp ?? [0]).map((v) => v - shiftB);
    // ORT's output type is A's: compute in it and shift back.
    const yShift = q.yType === a.type ? 0 : q.yType === 'int8' ? -128 : 128;
    const f32 = (v: number | number[]) => tensor('float32', typeof v === 'number' ? [] : [v.length], typeof v === 'number' ? [v] : v);
    const x = batch.input(batch.name('a'), a);
    const inits = [
      f32(q.aScale),
      tensor(a.type, [], [q.o.aZp?.[0] ?? 0]),
      tensor(
        bType,
        b.dims,
        b.data.map((v) => v - shiftB),
      ),
      f32(q.bScale.length === 1 ? (q.bScale[0] as number) : q.bScale),
      tensor(bType, bZp.length === 1 ? [] : [bZp.length], bZp),
      f32(q.yScale),
      tensor(a.type, [], [q.yZp - yShift]),
    ].map((t) => batch.init(batch.name('q'), t));
    batch.node(
      'QLinearMatMul',
      [x, ...inits],
      [{ spec: { name: batch.name('y'), type: a.type, dims: [...a.dims.slice(0, -1), n] }, to: { c: ci, key: 'y', offset: 0, shift: yShift } }],
    );
    batch.endCase();
  });
  return batch.flush();
}

/**
 * Whether ORT can judge DynamicQuantizeLinear of `x`. Left out: non-finite inputs (webq8's
 * documented NaN/Inf policy; ONNX leaves them undefined) and a zero range (all zeros), where ONNX's
 * reference implementation divides 1.0 by 255 for the scale and ORT returns 1.0 (y and the zero
 * point agree, and a zero tensor's scale multiplies only zeros downstream).
 */
export function dqlOracleCovers(x: number[]): boolean {
  return x.every(Number.isFinite) && x.some((v) => v !== 0);
}

/** ORT models computing DynamicQuantizeLinear of each input it covers (keys `y`, `scale`, `zp`; see {@link dqlOracleCovers}). */
export function dqlOracle(inputs: [string, number[]][]): OracleModel[] {
  const batch = new ModelBatch();
  inputs.forEach(([, x], ci) => {
    if (!dqlOracleCovers(x)) return;
    const name = batch.input(batch.name('x'), { type: 'float32', dims: [x.length], data: x });
    const to = (key: string) => ({ c: ci, key, offset: 0 });
    batch.node(
      'DynamicQuantizeLinear',
      [name],
      [
        { spec: { name: batch.name('y'), type: 'uint8', dims: [x.length] }, to: to('y') },
        { spec: { name: batch.name('s'), type: 'float32', dims: [] }, to: to('scale') },
        { spec: { name: batch.name('z'), type: 'uint8', dims: [] }, to: to('zp') },
      ],
    );
    batch.endCase();
  });
  return batch.flush();
}
