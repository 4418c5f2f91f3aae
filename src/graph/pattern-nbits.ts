/**
 * `com.microsoft` `MatMulNBits` with `bits = 8` (what ORT's own tooling and transformers.js exports
 * write for weight-only LLM weights) → a `WeightOnlyMatMul` step. ORT stores the weights transposed
 * and blocked, `B[N][k_blocks][block_size]` uint8, scales `[N, k_blocks]`, zero points uint8
 * `[N, k_blocks]` (default 2^(bits−1) = 128); they are re-laid here as `W[K, N]`, `scale` and
 * `zero_point` `[k_blocks, N]`, once, at load. `bits = 4` stays in ORT: our kernels have no 4-bit
 * path. `g_idx` (act-order) and float zero points are refused with a reason.
 */
import { ONNX } from '../dtypes';
import type { TensorLike } from '../types';
import type { MatchResult } from './match';
import { attrInt, dimsOf, toTensor, type GraphIndex } from './onnx-model';

/** Matches the `MatMulNBits` node `i`. */
export function matchMatMulNBits(ix: GraphIndex, i: number): MatchResult {
  const node = ix.nodes[i]!;
  const [a = '', b = '', s = '', z = '', gIdx = '', bias = ''] = node.input ?? [];
  const bits = attrInt(node, 'bits', 4);
  const k = attrInt(node, 'K', 0);
  const n = attrInt(node, 'N', 0);
  const block = attrInt(node, 'block_size', 0);
  if (bits !== 8) return { reason: `MatMulNBits with bits = ${bits} stays in ORT (webq8's kernels are 8-bit)` };
  if (gIdx) return { reason: 'MatMulNBits with g_idx (act-order) is not supported by the kernels' };
  const bt = ix.constants.get(b);
  if (!bt || bt.dataType !== ONNX.UINT8) return { reason: 'MatMulNBits weight B is not a uint8 constant' };
  const kb = Math.ceil(k / Math.max(1, block));
  const bDims = dimsOf(bt);
  if (k < 1 || n < 1 || block < 1 || bDims.join() !== [n, kb, block].join())
    return { reason: `MatMulNBits B has dims ${JSON.stringify(bDims)}; [N, ceil(K/block), block] = [${n}, ${kb}, ${block}] expected` };
  const st = ix.constants.get(s);
  if (!st || st.dataType !== ONNX.FLOAT || toTensor(st).data.length !== n * kb) return { reason: 'MatMulNBits scales are not float32 [N, k_blocks] constants' };
  const zt = z ? ix.constants.get(z) : undefined;
  if (z && (!zt || zt.dataType !== ONNX.UINT8 || toTensor(zt).data.length !== n * kb))
    return { reason: 'MatMulNBits zero points are not uint8 [N, k_blocks] constants' };
  const bt2 = bias ? ix.constants.get(bias) : undefined;
  if (bias && (!bt2 || bt2.dataType !== ONNX.FLOAT)) return { reason: 'MatMulNBits bias is not a float32 constant' };
  const q = toTensor(bt).data as Uint8Array;
  const W = new Uint8Array(k * n);
  for (let c = 0; c < n; c++) for (let kk = 0; kk < k; kk++) W[kk * n + c] = q[c * kb * block + kk]!;
  const transpose = (src: ArrayLike<number>, into: Float32Array | Uint8Array) => {
    for (let c = 0; c < n; c++) for (let j = 0; j < kb; j++) into[j * n + c] = src[c * kb + j]!;
    return into;
  };
  const constants: Record<string, TensorLike> = {
    W: { type: 'uint8', dims: [k, n], data: W },
    scale: { type: 'float32', dims: [kb, n], data: transpose(toTensor(st).data as Float32Array, new Float32Array(kb * n)) },
    zero_point: {
      type: 'uint8',
      dims: [kb, n],
      data: zt ? transpose(toTensor(zt).data as Uint8Array, new Uint8Array(kb * n)) : new Uint8Array(kb * n).fill(128),
    },
    ...(bt2 ? { bias: toTensor(bt2) } : {}),
  };
  return {
    pattern: 'MatMulNBits',
    nodes: [i],
    steps: [{ kind: 'kernel', op: 'WeightOnlyMatMul', attrs: { block_size: block }, constants, inputs: [a], outputs: [node.output?.[0] ?? ''] }],
  };
}
