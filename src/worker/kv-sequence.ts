/**
 * One sequence's KV cache and decode step. The cache is the previous step's `present.*` outputs,
 * kept where the model produced them — GPU buffers on WebGPU (the plan keeps its outputs there),
 * typed arrays in this Worker on WASM — and fed back as `past_key_values.*`. The next token is
 * picked where the logits are: by the sampling kernel on the GPU (one u32 read back), or by the
 * same algorithm on the CPU (src/kernels/sample-math.ts).
 */
import type { DecoderIo } from '../decoder-io';
import { bytesPerElement } from '../dtypes';
import type { GpuContext } from '../kernels/gpu-context';
import { elementCount } from '../kernels/registry';
import type { SampleParams } from '../kernels/sample-math';
import type { GenerateCounters, RunCounters } from '../protocol';
import type { Executor, PlanValue } from './executor';
import { sampleOnCpu, sampleOnGpu } from './sample-step';

/** Counters of a generation, all zero. */
export function zeroGenerateCounters(): GenerateCounters {
  return { steps: 0, uploads: 0, readbacks: 0, readbackBytes: 0, ortSegments: 0, kernelDispatches: 0 };
}

/** Adds one model run's counters (a step's) to a generation's. */
export function addRunCounters(counters: GenerateCounters, c: RunCounters): void {
  counters.steps++;
  counters.uploads += c.uploads;
  counters.readbacks += c.readbacks;
  counters.ortSegments += c.ortSegments;
  counters.kernelDispatches += c.kernelDispatches;
}

/** A sequence being decoded: its cache, its length, and the step that extends both. */
export class KvSequence {
  /** Tokens the cache holds. */
  past = 0;
  /** Largest cache size so far, in bytes. */
  peakBytes = 0;
  private cache: Map<string, PlanValue> | null = null;

  constructor(
    private readonly io: DecoderIo,
    private readonly gpu: GpuContext | null,
  ) {}

  /** Bytes the cache holds now. */
  get bytes(): number {
    let n = 0;
    for (const v of this.cache?.values() ?? []) n += elementCount(v.dims) * bytesPerElement(v.type);
    return n;
  }

  /**
   * Runs the model on `ids` (the prompt at the first step, then the last token) after the cached
   * ones, keeps the new cache, and returns the sampled token id. Adds what it moved to `counters`.
   */
  async step(executor: Executor, ids: readonly number[], params: SampleParams, counters: GenerateCounters): Promise<number> {
    const { outputs, counters: c } = await executor.runValues(this.feeds(ids));
    addRunCounters(counters, c);
    try {
      if (this.gpu) for (const v of outputs.values()) if (v.where === 'cpu') counters.readbackBytes += elementCount(v.dims) * bytesPerElement(v.type);
      const next = new Map<string, PlanValue>();
      for (const layer of this.io.layers) {
        next.set(layer.pastKey, outputs.get(layer.presentKey)!);
        next.set(layer.pastValue, outputs.get(layer.presentValue)!);
        outputs.delete(layer.presentKey);
        outputs.delete(layer.presentValue);
      }
      this.adopt(next, ids.length);
      return await this.sample(outputs.get('logits')!, params, counters);
    } finally {
      for (const v of outputs.values()) if (v.where === 'gpu') v.release();
    }
  }

  /** The cache value fed as `name` (`past_key_values.*`), `[1, heads, past, headDim]`; none before the first step. */
  cached(name: string): PlanValue | undefined {
    return this.cache?.get(name);
  }

  /** Takes `next` (by `past_key_values.*` name) as the cache, now `added` tokens longer; frees the old one. */
  adopt(next: Map<string, PlanValue>, added: number): void {
    this.release();
    this.cache = next;
    this.past += added;
    this.peakBytes = Math.max(this.peakBytes, this.bytes);
  }

  /** Frees the cache (GPU buffers at once; typed arrays to the garbage collector). */
  release(): void {
    for (const v of this.cache?.values() ?? []) {
      try {
        if (v.where === 'gpu') v.release();
      } catch {
        /* a buffer of a lost device is gone already */
      }
    }
    this.cache = null;
  }

  private feeds(ids: readonly number[]): Record<string, PlanValue> {
    const { io } = this;
    const total = this.past + ids.length;
    const intTensor = (values: ArrayLike<number>): PlanValue => {
      const data = io.idType === 'int64' ? BigInt64Array.from(Array.from(values, BigInt)) : Int32Array.from(values);
      return { where: 'cpu', type: io.idType, dims: [1, values.length], data };
    };
    const feeds: Record<string, PlanValue> = {
      input_ids: intTensor(ids),
      attention_mask: intTensor(new Array<number>(total).fill(1)),
    };
    if (io.positionIds) feeds.position_ids = intTensor(ids.map((_, i) => this.past + i));
    const empty: PlanValue = {
      where: 'cpu',
      type: io.kvType,
      dims: [1, io.heads, 0, io.headDim],
      data: io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0),
    };
    for (const layer of io.layers) {
      feeds[layer.pastKey] = this.cache?.get(layer.pastKey) ?? empty;
      feeds[layer.pastValue] = this.cache?.get(layer.pastValue) ?? empty;
    }
    return feeds;
  }

  private async sample(logits: PlanValue, params: SampleParams, counters: GenerateCounters): Promise<number> {
    const [id] = this.gpu ? await sampleOnGpu(this.gpu, logits, [{ params, counters }]) : sampleOnCpu(logits, [{ params }]);
    return id!;
  }
}
