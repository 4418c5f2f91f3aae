/**
 * One decode step of several sequences as ONE model call (iteration-level batching). Sequences
 * have different past lengths P_i; the step feeds `[B, heads, P, headDim]` caches with P = max P_i,
 * each row's past right-aligned and the padding in front of it zeroed and masked out
 * (`attention_mask` 0), `position_ids` P_i per row, and `input_ids` each sequence's last token.
 * The model's `present.*` (`[B, heads, P + 1, headDim]`) is split back into one cache per sequence
 * (the last P_i + 1 positions of its row), and one token per row is sampled where the logits are.
 * On WebGPU the gather and split are `copyBufferToBuffer` per (row, head) run, all in one command
 * encoder, and the sampler kernel reads back 4 bytes per row; on WASM they are array copies.
 */
import type { DecoderIo } from '../decoder-io';
import { bytesPerElement } from '../dtypes';
import { STORAGE_USAGE, type GpuContext } from '../kernels/gpu-context';
import type { SampleParams } from '../kernels/sample-math';
import type { GenerateCounters, RunCounters } from '../protocol';
import type { Executor, PlanValue } from './executor';
import { addRunCounters, type KvSequence } from './kv-sequence';
import { sampleOnCpu, sampleOnGpu } from './sample-step';

/** One sequence's part of a batched step. */
export interface BatchRow {
  seq: KvSequence;
  /** The token fed this step (the last one generated). */
  id: number;
  params: SampleParams;
  counters: GenerateCounters;
}

/** The shapes of one batched step. */
interface Layout {
  io: DecoderIo;
  /** Past length of each row. */
  pasts: number[];
  /** Longest past: the padded length. */
  width: number;
  /** Bytes of one cache position of one head. */
  run: number;
}

/**
 * Runs the decode step of every row in one model call (see the module comment) and returns the
 * sampled token of each, in order. Our DynamicQuantizeLinear kernel quantizes each row on its own
 * (`quantizePerSlice`); src/graph/decode-batching.ts says when a plan may be batched at all.
 */
export async function batchedStep(executor: Executor, gpu: GpuContext | null, io: DecoderIo, rows: readonly BatchRow[]): Promise<number[]> {
  const pasts = rows.map((r) => r.seq.past);
  const l: Layout = { io, pasts, width: Math.max(...pasts), run: io.headDim * bytesPerElement(io.kvType) };
  const feeds = { ...rowFeeds(l, rows), ...(gpu ? gatherGpu(gpu, l, rows) : gatherCpu(l, rows)) };
  let result: { outputs: Map<string, PlanValue>; counters: RunCounters };
  try {
    result = await executor.runValues(feeds, { quantizePerSlice: true });
  } finally {
    for (const v of Object.values(feeds)) if (v.where === 'gpu') v.release();
  }
  const { outputs, counters } = result;
  try {
    for (const r of rows) addRunCounters(r.counters, counters);
    const caches = gpu ? splitGpu(gpu, l, outputs) : splitCpu(l, outputs);
    rows.forEach((r, i) => r.seq.adopt(caches[i]!, 1));
    const logits = outputs.get('logits')!;
    return gpu ? await sampleOnGpu(gpu, logits, rows) : sampleOnCpu(logits, rows);
  } finally {
    for (const v of outputs.values()) if (v.where === 'gpu') v.release();
  }
}

/** `input_ids`, `attention_mask` (0 over each row's padding) and `position_ids`, `[B, ·]`. */
function rowFeeds(l: Layout, rows: readonly BatchRow[]): Record<string, PlanValue> {
  const { io, pasts, width } = l;
  const tensor = (values: number[], cols: number): PlanValue => {
    const data = io.idType === 'int64' ? BigInt64Array.from(values, (v) => BigInt(v)) : Int32Array.from(values);
    return { where: 'cpu', type: io.idType, dims: [rows.length, cols], data };
  };
  const mask = pasts.flatMap((p) => [...new Array<number>(width - p).fill(0), ...new Array<number>(p + 1).fill(1)]);
  const feeds: Record<string, PlanValue> = {
    input_ids: tensor(
      rows.map((r) => r.id),
      1,
    ),
    attention_mask: tensor(mask, width + 1),
  };
  if (io.positionIds) feeds.position_ids = tensor(pasts, 1);
  return feeds;
}

function pastNames(io: DecoderIo): string[] {
  return io.layers.flatMap((layer) => [layer.pastKey, layer.pastValue]);
}

/** The batched `past_key_values.*` on the GPU: zeroed, each row's runs copied to its right end. */
function gatherGpu(gpu: GpuContext, l: Layout, rows: readonly BatchRow[]): Record<string, PlanValue> {
  const { io, pasts, width, run } = l;
  const heads = io.heads;
  const bytes = rows.length * heads * width * run;
  const enc = gpu.device.createCommandEncoder({ label: 'webq8:kv.gather' });
  const feeds: Record<string, PlanValue> = {};
  for (const name of pastNames(io)) {
    const out = gpu.buffers.acquire(bytes, STORAGE_USAGE, 'kv.batch');
    // Padding must be finite: 0 · NaN would reach the masked attention sums.
    if (pasts.some((p) => p < width)) enc.clearBuffer(out, 0, bytes);
    rows.forEach((r, i) => {
      const src = r.seq.cached(name) as PlanValue & { where: 'gpu' };
      const p = pasts[i]!;
      for (let h = 0; h < heads; h++) enc.copyBufferToBuffer(src.buffer, h * p * run, out, ((i * heads + h) * width + width - p) * run, p * run);
    });
    feeds[name] = { where: 'gpu', type: io.kvType, dims: [rows.length, heads, width, io.headDim], buffer: out, release: () => gpu.buffers.release(out) };
  }
  gpu.device.queue.submit([enc.finish()]);
  return feeds;
}

/** Each row's new cache on the GPU: the last P_i + 1 positions of its row of every `present.*`. */
function splitGpu(gpu: GpuContext, l: Layout, outputs: Map<string, PlanValue>): Map<string, PlanValue>[] {
  const { io, pasts, width, run } = l;
  const heads = io.heads;
  const enc = gpu.device.createCommandEncoder({ label: 'webq8:kv.split' });
  const caches = pasts.map(() => new Map<string, PlanValue>());
  for (const layer of io.layers) {
    for (const [present, past] of [
      [layer.presentKey, layer.pastKey],
      [layer.presentValue, layer.pastValue],
    ] as const) {
      const src = outputs.get(present) as PlanValue & { where: 'gpu' };
      pasts.forEach((p, i) => {
        const n = p + 1;
        const buffer = gpu.buffers.acquire(heads * n * run, STORAGE_USAGE, 'kv.cache');
        for (let h = 0; h < heads; h++) enc.copyBufferToBuffer(src.buffer, ((i * heads + h) * (width + 1) + width - p) * run, buffer, h * n * run, n * run);
        caches[i]!.set(past, { where: 'gpu', type: io.kvType, dims: [1, heads, n, io.headDim], buffer, release: () => gpu.buffers.release(buffer) });
      });
    }
  }
  gpu.device.queue.submit([enc.finish()]);
  return caches;
}

type KvArray = Float32Array | Uint16Array;

/** The batched `past_key_values.*` in this Worker's memory (WASM). */
function gatherCpu(l: Layout, rows: readonly BatchRow[]): Record<string, PlanValue> {
  const { io, pasts, width } = l;
  const { heads, headDim: d } = io;
  const feeds: Record<string, PlanValue> = {};
  for (const name of pastNames(io)) {
    const out = newKvArray(io, rows.length * heads * width * d);
    rows.forEach((r, i) => {
      const src = (r.seq.cached(name) as PlanValue & { where: 'cpu' }).data as KvArray;
      const p = pasts[i]!;
      for (let h = 0; h < heads; h++) out.set(src.subarray(h * p * d, (h + 1) * p * d), ((i * heads + h) * width + width - p) * d);
    });
    feeds[name] = { where: 'cpu', type: io.kvType, dims: [rows.length, heads, width, d], data: out };
  }
  return feeds;
}

/** Each row's new cache in this Worker's memory (WASM). */
function splitCpu(l: Layout, outputs: Map<string, PlanValue>): Map<string, PlanValue>[] {
  const { io, pasts, width } = l;
  const { heads, headDim: d } = io;
  const caches = pasts.map(() => new Map<string, PlanValue>());
  for (const layer of io.layers) {
    for (const [present, past] of [
      [layer.presentKey, layer.pastKey],
      [layer.presentValue, layer.pastValue],
    ] as const) {
      const src = (outputs.get(present) as PlanValue & { where: 'cpu' }).data as KvArray;
      pasts.forEach((p, i) => {
        const n = p + 1;
        const out = newKvArray(io, heads * n * d);
        for (let h = 0; h < heads; h++) {
          const from = ((i * heads + h) * (width + 1) + width - p) * d;
          out.set(src.subarray(from, from + n * d), h * n * d);
        }
        caches[i]!.set(past, { where: 'cpu', type: io.kvType, dims: [1, heads, n, d], data: out });
      });
    }
  }
  return caches;
}

function newKvArray(io: DecoderIo, n: number): KvArray {
  return io.kvType === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}
