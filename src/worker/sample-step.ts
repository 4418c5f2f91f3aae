/**
 * The sampling half of a decode step: one token per sequence from the step's logits
 * (`[rows, seq, vocab]`, each row's last position), where the logits are. On the GPU the sampler
 * kernel (src/kernels/sample.ts) picks every row in one dispatch and one readback of 4 bytes per
 * row; on the CPU (WASM) the same algorithm runs here (src/kernels/sample-math.ts).
 */
import { GpuError } from '../errors';
import type { GpuContext } from '../kernels/gpu-context';
import { packSampleParams, sampleTokens } from '../kernels/sample';
import { sampleRow, type SampleParams } from '../kernels/sample-math';
import type { GenerateCounters } from '../protocol';
import type { PlanValue } from './executor';

/** One sequence's sampling options and the counters its transfers are added to. */
export interface SampleRow {
  params: SampleParams;
  counters: GenerateCounters;
}

/** One token per row on the CPU. */
export function sampleOnCpu(logits: PlanValue, rows: readonly { params: SampleParams }[]): number[] {
  const vocab = logits.dims[logits.dims.length - 1]!;
  const data = (logits as PlanValue & { where: 'cpu' }).data as Float32Array;
  const seq = data.length / (rows.length * vocab);
  return rows.map((r, i) => sampleRow(data.subarray(((i + 1) * seq - 1) * vocab, (i + 1) * seq * vocab), r.params));
}

/**
 * One token per row by the sampler kernel. Each row's counters get one upload, dispatch and
 * readback (shared by the rows) and its own 4 bytes of the readback.
 */
export async function sampleOnGpu(gpu: GpuContext, logits: PlanValue, rows: readonly SampleRow[]): Promise<number[]> {
  const buffer = (logits as PlanValue & { where: 'gpu' }).buffer;
  const paramBuffer = gpu.upload(packSampleParams(rows.map((r) => r.params)), 'sample.params');
  const ids = sampleTokens(gpu, buffer, logits.dims, paramBuffer);
  try {
    const picked = [...new Uint32Array(await gpu.readback(ids, 4 * rows.length))];
    for (const { counters } of rows) {
      counters.uploads++;
      counters.kernelDispatches++;
      counters.readbacks++;
      counters.readbackBytes += 4;
    }
    const vocab = logits.dims[logits.dims.length - 1]!;
    const bad = picked.find((id) => id >= vocab);
    // A kernel that failed validation writes nothing: never hand out whatever the buffer held.
    if (bad !== undefined)
      throw new GpuError(`The sampling kernel returned token ${bad}, outside the vocabulary; see the WebGPU errors in the console.`, { id: bad });
    return picked;
  } finally {
    gpu.buffers.release(paramBuffer);
    gpu.buffers.release(ids);
  }
}
