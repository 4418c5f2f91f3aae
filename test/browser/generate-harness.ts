// Page side of test/browser/generate.spec.ts. `installGenerateHarness` is serialized into the page
// by `page.evaluate`, so it must be self-contained. It installs `window.__gen`: one runtime whose
// models the tests share (ORT's start-up and the first WebGPU shader compiles are paid once),
// greedy decoding by full recomputation through `model.run` (the whole sequence, an empty cache,
// every step — no generate code involved), and a collector that drains a TokenStream.
import type { GenerateResult, Model, Runtime } from '../../src/index';

/** A prompt and its `generate` options. */
export type GenerateCall = [number[], object];

/** What the harness installs on `window.__gen`. */
export interface GenerateHarness {
  /** The shared runtime. */
  runtime(): Promise<Runtime>;
  /** A model loaded once per (url, options) in the shared runtime. */
  load(url: string, options: object): Promise<Model>;
  /** The runtime's test hook (`'kv-cache-bytes'`, …). */
  debug(command: string): Promise<number>;
  recompute(model: Model, prompt: number[], n: number): Promise<number[]>;
  collect(stream: AsyncIterable<number>): Promise<number[]>;
  /**
   * Starts a long greedy `anchor` stream (up to `anchorTokens`) and, once it has its first token,
   * the `calls` beside it; stops the anchor (`break`) when they have all ended. Every decode step of
   * a call then shares its model call with at least the anchor's.
   */
  alongside(model: Model, anchor: number[], anchorTokens: number, calls: GenerateCall[]): Promise<{ anchor: number[]; results: GenerateResult[] }>;
  /** Each call run alone, one after the other. */
  alone(model: Model, calls: GenerateCall[]): Promise<number[][]>;
  dispose(): Promise<void>;
}

declare global {
  interface Window {
    __gen: GenerateHarness;
  }
}

/** Installs `window.__gen` in the page (run it with `page.evaluate(installGenerateHarness)`). */
export function installGenerateHarness(): void {
  const i64 = (values: number[]) => ({ type: 'int64' as const, dims: [1, values.length], data: BigInt64Array.from(values.map(BigInt)) });
  let rt: Promise<Runtime> | null = null;
  const models = new Map<string, Promise<Model>>();
  window.__gen = {
    runtime() {
      rt ??= import(/* @vite-ignore */ '/dist/index.js' as string).then((m: typeof import('../../src/index')) => m.createRuntime());
      return rt;
    },
    async load(url, options) {
      const key = `${url} ${JSON.stringify(options)}`;
      if (!models.has(key))
        models.set(
          key,
          this.runtime().then((r) => r.load(url, options)),
        );
      return models.get(key)!;
    },
    async debug(command) {
      const r = (await this.runtime()) as unknown as Record<symbol, (c: string) => Promise<number>>;
      return r[Symbol.for('webq8.debug')]!(command);
    },
    async dispose() {
      if (rt) await (await rt).dispose();
    },
    async recompute(model, prompt, n) {
      const ids = [...prompt];
      const pasts = model.info.inputs.filter((v) => v.name.startsWith('past_key_values.'));
      for (let step = 0; step < n; step++) {
        const feeds: Record<string, { type: 'int64' | 'float32'; dims: unknown[]; data: unknown }> = {
          input_ids: i64(ids),
          attention_mask: i64(ids.map(() => 1)),
          position_ids: i64(ids.map((_, i) => i)),
        };
        for (const p of pasts) feeds[p.name] = { type: 'float32', dims: [1, p.dims[1], 0, p.dims[3]], data: new Float32Array(0) };
        const logits = (await model.run(feeds as never)).logits!;
        const vocab = logits.dims[logits.dims.length - 1]!;
        const data = logits.data as Float32Array;
        const row = data.subarray(data.length - vocab);
        let best = 0;
        for (let i = 1; i < vocab; i++) if (row[i]! > row[best]!) best = i;
        ids.push(best);
      }
      return ids.slice(prompt.length);
    },
    async collect(stream) {
      const out: number[] = [];
      for await (const id of stream) out.push(id);
      return out;
    },
    async alongside(model, anchor, anchorTokens, calls) {
      const stream = model.generate(anchor, { maxNewTokens: anchorTokens });
      const it = stream[Symbol.asyncIterator]();
      await it.next();
      const results = await Promise.all(calls.map(([p, o]) => model.generate(p, o).result));
      const received = [...stream.received];
      await it.return(undefined);
      return { anchor: received, results };
    },
    async alone(model, calls) {
      const out: number[][] = [];
      for (const [p, o] of calls) out.push((await model.generate(p, o).result).tokens);
      return out;
    },
  };
}
