/**
 * Host side of shaders/sample-topk.wgsl: picks one token per row from float32 logits
 * `[rows, seq, vocab]` (each row's last position) on the GPU, so a decode step reads back
 * 4 bytes per sequence. Greedy is `topK: 1`. The CPU twin is ./sample-math.ts.
 */
import code from '../../shaders/sample-topk.wgsl?raw';
import { KernelError } from '../errors';
import { STORAGE_USAGE, type GpuContext } from './gpu-context';
import type { Program } from './program';
import { elementCount, type KernelFactory } from './registry';
import { MAX_TOP_K, type SampleParams } from './sample-math';
import { packUniforms, type UniformLayout } from './uniforms';

/** `Params` of sample-topk.wgsl. */
const PARAMS = [
  ['vocab', 'u32'],
  ['seq', 'u32'],
  ['rows', 'u32'],
  ['_pad', 'u32'],
] as const satisfies UniformLayout;

const WORKGROUP_SIZE = 256;

/** The program for `rows` rows: one workgroup each. */
export function sampleProgram(rows: number): Program {
  return { shaderKey: 'sample-topk', label: 'webq8:sample.topk', code, constants: { WORKGROUP_SIZE, MAX_K: MAX_TOP_K }, workgroups: [rows] };
}

/** The per-row parameters as the kernel reads them: vec4(k, temperature, top_p, u). */
export function packSampleParams(rows: readonly SampleParams[]): Float32Array {
  const out = new Float32Array(rows.length * 4);
  rows.forEach((p, r) => out.set([Math.min(p.topK, MAX_TOP_K), p.temperature, p.topP, p.u], r * 4));
  return out;
}

/**
 * Dispatches the sampler over `logits` (`[rows, seq, vocab]` float32, on the GPU) with `params`
 * (`[rows, 4]` float32 from {@link packSampleParams}, on the GPU) and returns a pooled buffer of
 * `rows` u32 token ids, which the caller owns.
 */
export function sampleTokens(ctx: GpuContext, logits: GPUBuffer, dims: readonly number[], params: GPUBuffer): GPUBuffer {
  const vocab = dims[dims.length - 1] ?? 0;
  const seq = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  const rows = elementCount(dims) / Math.max(1, vocab * seq);
  if (!(vocab > 0 && seq > 0 && rows >= 1 && Number.isInteger(rows))) {
    throw new KernelError(`sampleTokens: logits dims ${JSON.stringify(dims)} must be [rows, seq, vocab] with every dimension positive.`, { dims });
  }
  if (params.size < rows * 16) throw new KernelError(`sampleTokens: params hold ${params.size} bytes, and ${rows} rows need ${rows * 16}.`, { rows });
  const ids = ctx.buffers.acquire(rows * 4, STORAGE_USAGE, 'sample.ids');
  const uniforms = packUniforms(PARAMS, { vocab, seq, rows });
  ctx.dispatch(
    sampleProgram(rows),
    [
      { buffer: logits, size: elementCount(dims) * 4 },
      { buffer: params, size: rows * 16 },
      { buffer: ids, size: rows * 4 },
    ],
    uniforms,
  );
  return ids;
}

/**
 * `SampleTokens` — inputs: `[logits: float32 [rows, seq, vocab], params: float32 [rows, 4]]` (see
 * {@link packSampleParams}). Output: `[ids: uint32 [rows]]`, each row's token from its last position.
 */
export const sampleTokensStep: KernelFactory = (ctx) => ({
  run([logits, params]) {
    if (!logits || logits.type !== 'float32') throw new KernelError(`SampleTokens: logits must be float32, and got ${logits ? logits.type : 'none'}.`);
    if (!params || params.type !== 'float32') throw new KernelError('SampleTokens: input 1 must be the float32 [rows, 4] parameters.');
    const ids = sampleTokens(ctx, logits.buffer, logits.dims, params.buffer);
    const rows = elementCount(logits.dims) / ((logits.dims.at(-1) ?? 1) * (logits.dims.length >= 2 ? logits.dims.at(-2)! : 1));
    return [{ buffer: ids, type: 'uint32', dims: [rows] }];
  },
  dispose() {},
});
