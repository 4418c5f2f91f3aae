// Page side of the ORT oracle (test/unit/kernels/ort-oracle.ts): `installOrtRunner` is serialized
// into the page by `page.evaluate`, so it is self-contained. It loads onnxruntime-web's WASM build
// from /node_modules (ORT's own CPU kernels, nothing of webq8's) and installs `window.__ort`, whose
// `run(name, models)` runs every model once and keeps the outputs per case in `results[name]` for
// the kernel harness to compare against (they stay in the page: no round trip through Node).
import type { OracleModel } from './ort-oracle';

/** Outputs of one case by key (`y`, or `y`/`scale`/`zp`). */
export type OracleResult = Record<string, number[]>;

/** What the runner installs on `window.__ort`. */
export interface OrtRunner {
  /** Runs `models`; resolves to how many sessions and subgraphs ran, and the cases covered. */
  run(name: string, models: OracleModel[]): Promise<{ sessions: number; nodes: number; cases: number }>;
  results: Record<string, Record<number, OracleResult>>;
}

declare global {
  interface Window {
    __ort: OrtRunner;
  }
}

/** Installs `window.__ort` (run it with `page.evaluate(installOrtRunner)`). */
export async function installOrtRunner(): Promise<void> {
  const dir = '/node_modules/onnxruntime-web/dist/';
  const ort = (await import(/* @vite-ignore */ `${dir}ort.wasm.min.mjs`)) as typeof import('onnxruntime-web');
  ort.env.wasm.wasmPaths = dir;
  ort.env.wasm.numThreads = 1; // no cross-origin isolation: no threads
  const Arr = { uint8: Uint8Array, int8: Int8Array, float32: Float32Array } as const;
  const results: OrtRunner['results'] = {};

  async function run(name: string, models: OracleModel[]) {
    const byCase: Record<number, OracleResult> = {};
    let nodes = 0;
    for (const m of models) {
      const session = await ort.InferenceSession.create(new Uint8Array(m.bytes), { executionProviders: ['wasm'] });
      try {
        const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
        for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, Arr[t.type].from(t.data), t.dims);
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
    results[name] = byCase;
    return { sessions: models.length, nodes, cases: Object.keys(byCase).length };
  }

  window.__ort = { run, results };
}
