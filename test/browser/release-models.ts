// Small models for the release tests, built with webq8's ONNX builder and served by the test server
// from .cache/release-models/<sha256>.onnx: a 64 → 32 → 10 classifier, the same with perturbed
// weights (its answers disagree), and the same with extra work whose result is multiplied away
// (identical answers, many times slower).
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel, type NodeSpec } from '../../src/graph/onnx-builder';
import type { TensorLike } from '../../src/types';
import { normal, prng } from '../unit/telemetry/helpers';

const DIR = '.cache/release-models';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function weights(rows: number, cols: number, rand: () => number, scale: number): TensorLike {
  return { type: 'float32', dims: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => normal(rand) * scale) };
}

/** Options of {@link classifier}. */
export interface ClassifierOptions {
  /** Standard deviation of noise added to the output weights (0: the seed's exact weights). */
  perturb?: number;
  /** Extra 256×256 matmul layers on a 256-row copy of the input, whose sum is subtracted from itself. */
  slow?: number;
  /** Graph name: changes the bytes (and SHA-256), not the answers. */
  name?: string;
}

/** x f32[1,64] → MatMul → Relu → MatMul → y f32[1,10]. */
export function classifier(seed: number, options: ClassifierOptions = {}): Uint8Array {
  const rand = prng(seed);
  const w1 = weights(64, 32, rand, 0.3);
  const w2 = weights(32, 10, rand, 0.3);
  if (options.perturb) {
    const noise = prng(seed + 1000);
    w2.data.forEach((v, i) => ((w2.data as Float32Array)[i] = (v as number) + normal(noise) * options.perturb!));
  }
  const nodes: NodeSpec[] = [
    { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
    { op: 'Relu', inputs: ['h'], outputs: ['r'] },
  ];
  const initializers: Record<string, TensorLike> = { w1, w2 };
  if (options.slow) {
    const extra = prng(seed + 2000);
    initializers.repeats = { type: 'int64', dims: [2], data: BigInt64Array.from([256n, 1n]) };
    initializers.a1 = weights(64, 256, extra, 0.1);
    initializers.a2 = weights(256, 256, extra, 0.06);
    nodes.push({ op: 'Tile', inputs: ['x', 'repeats'], outputs: ['t'] }, { op: 'MatMul', inputs: ['t', 'a1'], outputs: ['s0'] });
    for (let i = 0; i < options.slow; i++) {
      nodes.push({ op: 'Tanh', inputs: [`s${i}`], outputs: [`u${i}`] }, { op: 'MatMul', inputs: [`u${i}`, 'a2'], outputs: [`s${i + 1}`] });
    }
    // sum − sum is exactly 0 for finite values (Tanh keeps them finite): same answers, more work.
    nodes.push(
      { op: 'ReduceSum', inputs: [`s${options.slow}`], outputs: ['sum'], attrs: { keepdims: 1 } },
      { op: 'Sub', inputs: ['sum', 'sum'], outputs: ['zero'] },
      { op: 'MatMul', inputs: ['r', 'w2'], outputs: ['logits'] },
      { op: 'Add', inputs: ['logits', 'zero'], outputs: ['y'] },
    );
  } else {
    nodes.push({ op: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] });
  }
  return buildModel({
    name: options.name ?? 'classifier',
    inputs: [{ name: 'x', type: 'float32', dims: [1, 64] }],
    outputs: [{ name: 'y', type: 'float32', dims: [1, 10] }],
    nodes,
    initializers,
  });
}

/** A manifest version entry for `bytes`, written where the test server serves it (`origin` = the server). */
export function published(bytes: Uint8Array, version: string, origin: string): { version: string; url: string; sha256: string; size: number } {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(`${ROOT}${DIR}`, { recursive: true });
  const file = `${ROOT}${DIR}/${sha256}.onnx`;
  // Write then rename: parallel workers may publish the same model.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return { version, url: `${origin}/${DIR}/${sha256}.onnx`, sha256, size: bytes.length };
}
