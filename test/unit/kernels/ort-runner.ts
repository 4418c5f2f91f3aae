// Runner of the ORT oracle (test/unit/kernels/ort-oracle.ts), in Node: onnxruntime-web's WASM build
// (its Node entry, the same .wasm the browser loads: ORT's own CPU kernels, nothing of webq8's) runs
// every model once and returns the outputs per case. The browser specs hand the answers to their
// page (`window.__ort.results[name]`) for the kernel harnesses to compare against. Running here
// instead of in the page saves sending the models (megabytes of JSON) through the DevTools protocol.
// Graph optimizations are off: each node is one ORT kernel call on its inputs, nothing fused or
// folded (the models have no pattern ORT would fuse; with them on, building a session of 256 nodes
// costs several times more than running it).
import type { OracleModel } from './ort-oracle';

/** Outputs of one case by key (`y`, or `y`/`scale`/`zp`). */
export type OracleResult = Record<string, number[]>;

/** The answers of one oracle run, by case index, and what it ran. */
export interface OracleAnswers {
  byCase: Record<number, OracleResult>;
  sessions: number;
  nodes: number;
  cases: number;
}

declare global {
  interface Window {
    /** The oracles' answers by name, put into the page by the spec (kernel-fixture.ts `oracle`). */
    __ort: { results: Record<string, Record<number, OracleResult>>; keys?: Record<string, string> };
  }
}

const ARRAYS = { uint8: Uint8Array, int8: Int8Array, float32: Float32Array } as const;

/** Runs each of `models` once on onnxruntime-web's WASM kernels (one thread) and collects the outputs per case. */
export async function runOracle(models: OracleModel[]): Promise<OracleAnswers> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1; // no worker threads: one core, as in the page
  const byCase: Record<number, OracleResult> = {};
  let nodes = 0;
  for (const m of models) {
    const session = await ort.InferenceSession.create(new Uint8Array(m.bytes), { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
    try {
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, ARRAYS[t.type].from(t.data), t.dims);
      const out = await session.run(feeds);
      for (const o of m.outputs) {
        const data = out[o.name]!.data as ArrayLike<number>;
        const dest = ((byCase[o.c] ??= {})[o.key] ??= []);
        for (let i = 0; i < data.length; i++) dest[o.offset + i] = Number(data[i]) + (o.shift ?? 0);
      }
      nodes += new Set(m.outputs.map((o) => o.name)).size;
    } finally {
      await session.release();
    }
  }
  return { byCase, sessions: models.length, nodes, cases: Object.keys(byCase).length };
}
