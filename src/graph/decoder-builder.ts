/**
 * A synthetic GPT-2-style decoder, built with webq8's own ONNX builder, for tests and benchmarks of
 * `model.generate`. **The weights are seeded random numbers, not a trained model**: the token ids it
 * produces mean nothing; what matters is that it has a real decoder's shapes, ops and I/O.
 *
 * The graph follows the conventions of common ONNX decoder exports (Hugging Face Optimum's
 * `decoder_model_merged` without the `use_cache_branch` switch):
 *
 *   inputs   input_ids int64 [batch, sequence], attention_mask int64 [batch, total_sequence],
 *            position_ids int64 [batch, sequence],
 *            past_key_values.{i}.key|value float32 [batch, heads, past_sequence, head_dim]
 *   outputs  logits float32 [batch, sequence, vocab],
 *            present.{i}.key|value float32 [batch, heads, total_sequence, head_dim]
 *
 * Per layer: pre-LayerNorm attention (separate q/k/v projections with bias, the new keys and values
 * appended to the past ones by `Concat`, scaled dot product with an additive causal + padding mask,
 * softmax, output projection), a residual add, pre-LayerNorm MLP (GELU, tanh approximation, from
 * elementary ops so opset 17 suffices), a residual add. Then a final LayerNorm and a head tied to the
 * token embedding: its weight holds the embedding's transpose, stored as its own initializer as
 * exporters do after constant folding, so `quantizeDynamic` sees a constant `[K, N]` MatMul weight.
 */
import { buildModel, type NodeSpec, type ValueSpec } from './onnx-builder';
import type { TensorLike } from '../types';

/** Shapes and seed of a synthetic decoder. */
export interface DecoderConfig {
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  /** Rows of the position embedding: the longest context the model accepts. */
  maxPositions: number;
  /** MLP width; default 4 × hidden. */
  ffn?: number;
  /** PRNG seed of the weights; default 1. */
  seed?: number;
}

/** The small decoder of the tests: 4 layers × 256, 4 heads, vocabulary 2048, context 256. */
export const SMALL_DECODER: DecoderConfig = { layers: 4, hidden: 256, heads: 4, vocab: 2048, maxPositions: 256 };

/** Standard deviation of embeddings, biases and LayerNorm parameters. */
const INIT = 0.02;
/**
 * The token embedding is drawn wider so the tied head gives well-separated logits (greedy decoding
 * is then stable against float rounding); projections use 1/√fan-in so each block's output is as
 * large as its input. With GPT-2's 0.02 everywhere, the embedding would dominate the residual stream
 * and the tied head would echo the input token forever.
 */
const EMBED_INIT = 0.1;
/** Wide position embeddings make each step's hidden state differ, so greedy decoding rarely loops. */
const POS_INIT = 0.6;
/** Added to masked attention scores: exp() of it is exactly 0 in float32, and no row becomes NaN. */
const MASK_BIAS = -1e9;

/** Builds the decoder of `config` (see the module comment) as ONNX bytes. */
export function buildDecoder(config: DecoderConfig): Uint8Array {
  const { layers, hidden, heads, vocab } = config;
  if (hidden % heads !== 0) throw new RangeError(`hidden (${hidden}) must be a multiple of heads (${heads}).`);
  const g = new GraphWriter(config.seed ?? 1);
  g.const('shape_heads', 'int64', [4], [0, 0, heads, hidden / heads]);
  g.const('shape_merge', 'int64', [3], [0, 0, hidden]);
  g.const('scale', 'float32', [], [1 / Math.sqrt(hidden / heads)]);
  g.node('Gather', [g.weight('wte', [vocab, hidden], EMBED_INIT), 'input_ids'], ['tok']);
  g.node('Gather', [g.weight('wpe', [config.maxPositions, hidden], POS_INIT), 'position_ids'], ['pos']);
  g.node('Add', ['tok', 'pos'], ['h_0']);
  maskBias(g);
  for (let i = 0; i < layers; i++) layer(g, config, i);
  layerNorm(g, `h_${layers}`, 'h_final', 'ln_f', hidden);
  const wte = g.initializers.wte!.data as Float32Array;
  g.initializers.lm_head = { type: 'float32', dims: [hidden, vocab], data: transpose(wte, vocab, hidden) };
  g.node('MatMul', ['h_final', 'lm_head'], ['logits']);
  return buildModel({
    name: 'webq8-synthetic-decoder',
    inputs: decoderInputs(config),
    outputs: decoderOutputs(config),
    nodes: g.nodes,
    initializers: g.initializers,
    opset: 17,
  });
}

/** The graph inputs of a decoder of `config`. */
function decoderInputs(c: DecoderConfig): ValueSpec[] {
  const kv = (name: string): ValueSpec => ({ name, type: 'float32', dims: ['batch', c.heads, 'past_sequence', c.hidden / c.heads] });
  const past = Array.from({ length: c.layers }, (_, i) => [kv(`past_key_values.${i}.key`), kv(`past_key_values.${i}.value`)]).flat();
  return [
    { name: 'input_ids', type: 'int64', dims: ['batch', 'sequence'] },
    { name: 'attention_mask', type: 'int64', dims: ['batch', 'total_sequence'] },
    { name: 'position_ids', type: 'int64', dims: ['batch', 'sequence'] },
    ...past,
  ];
}

/** The graph outputs of a decoder of `config`. */
function decoderOutputs(c: DecoderConfig): ValueSpec[] {
  const kv = (name: string): ValueSpec => ({ name, type: 'float32', dims: ['batch', c.heads, 'total_sequence', c.hidden / c.heads] });
  const present = Array.from({ length: c.layers }, (_, i) => [kv(`present.${i}.key`), kv(`present.${i}.value`)]).flat();
  return [{ name: 'logits', type: 'float32', dims: ['batch', 'sequence', c.vocab] }, ...present];
}

/**
 * `mask_bias` float32 [batch, 1, sequence, total]: 0 where query position `past + s` may attend to
 * key position `t` (t ≤ past + s, and attention_mask[b, t] = 1), {@link MASK_BIAS} elsewhere.
 */
function maskBias(g: GraphWriter): void {
  g.const('zero_i', 'int64', [], [0]);
  g.const('one_i', 'int64', [], [1]);
  g.const('axis1', 'int64', [1], [1]);
  g.const('axes0', 'int64', [1], [0]);
  g.const('axes12', 'int64', [2], [1, 2]);
  g.const('bias_keep', 'float32', [], [0]);
  g.const('bias_drop', 'float32', [], [MASK_BIAS]);
  g.node('Shape', ['input_ids'], ['ids_shape']);
  g.node('Gather', ['ids_shape', 'one_i'], ['seq_len'], { axis: 0 });
  g.node('Shape', ['attention_mask'], ['mask_shape']);
  g.node('Gather', ['mask_shape', 'one_i'], ['total_len'], { axis: 0 });
  g.node('Sub', ['total_len', 'seq_len'], ['past_len']);
  g.node('Range', ['zero_i', 'total_len', 'one_i'], ['key_pos']);
  g.node('Range', ['past_len', 'total_len', 'one_i'], ['query_pos']);
  g.node('Unsqueeze', ['key_pos', 'axes0'], ['key_row']);
  g.node('Unsqueeze', ['query_pos', 'axis1'], ['query_col']);
  g.node('LessOrEqual', ['key_row', 'query_col'], ['causal']);
  g.node('Cast', ['attention_mask'], ['mask_bool'], { to: 9 });
  g.node('Unsqueeze', ['mask_bool', 'axes12'], ['mask_4d']);
  g.node('And', ['causal', 'mask_4d'], ['allowed']);
  g.node('Where', ['allowed', 'bias_keep', 'bias_drop'], ['mask_bias']);
}

/** One transformer block: reads `h_{i}`, writes `h_{i+1}` and `present.{i}.key|value`. */
function layer(g: GraphWriter, c: DecoderConfig, i: number): void {
  const p = `l${i}`;
  const d = c.hidden;
  layerNorm(g, `h_${i}`, `${p}_x`, `${p}_ln1`, d);
  for (const [role, present] of [
    ['q', ''],
    ['k', `present.${i}.key`],
    ['v', `present.${i}.value`],
  ] as const) {
    linear(g, `${p}_x`, `${p}_${role}`, `${p}_w${role}`, d, d);
    g.node('Reshape', [`${p}_${role}`, 'shape_heads'], [`${p}_${role}_split`]);
    g.node('Transpose', [`${p}_${role}_split`], [present ? `${p}_${role}_new` : `${p}_q_heads`], { perm: [0, 2, 1, 3] });
    if (present) g.node('Concat', [`past_key_values.${i}.${role === 'k' ? 'key' : 'value'}`, `${p}_${role}_new`], [present], { axis: 2 });
  }
  g.node('Transpose', [`present.${i}.key`], [`${p}_kT`], { perm: [0, 1, 3, 2] });
  g.node('MatMul', [`${p}_q_heads`, `${p}_kT`], [`${p}_qk`]);
  g.node('Mul', [`${p}_qk`, 'scale'], [`${p}_scores`]);
  g.node('Add', [`${p}_scores`, 'mask_bias'], [`${p}_masked`]);
  g.node('Softmax', [`${p}_masked`], [`${p}_probs`], { axis: -1 });
  g.node('MatMul', [`${p}_probs`, `present.${i}.value`], [`${p}_ctx_heads`]);
  g.node('Transpose', [`${p}_ctx_heads`], [`${p}_ctx_t`], { perm: [0, 2, 1, 3] });
  g.node('Reshape', [`${p}_ctx_t`, 'shape_merge'], [`${p}_ctx`]);
  linear(g, `${p}_ctx`, `${p}_attn`, `${p}_wo`, d, d);
  g.node('Add', [`h_${i}`, `${p}_attn`], [`${p}_h1`]);
  layerNorm(g, `${p}_h1`, `${p}_x2`, `${p}_ln2`, d);
  const ffn = c.ffn ?? 4 * d;
  linear(g, `${p}_x2`, `${p}_f`, `${p}_w1`, d, ffn);
  gelu(g, `${p}_f`, `${p}_g`);
  linear(g, `${p}_g`, `${p}_m`, `${p}_w2`, ffn, d);
  g.node('Add', [`${p}_h1`, `${p}_m`], [`h_${i + 1}`]);
}

/** `y = x · W + b` with a random `[k, n]` weight and bias. */
function linear(g: GraphWriter, x: string, y: string, w: string, k: number, n: number): void {
  g.node('MatMul', [x, g.weight(w, [k, n], 1 / Math.sqrt(k))], [`${y}_mm`]);
  g.node('Add', [`${y}_mm`, g.weight(`${w}_bias`, [n], INIT)], [y]);
}

/** LayerNormalization over the last axis, with random gain around 1 and bias around 0. */
function layerNorm(g: GraphWriter, x: string, y: string, name: string, d: number): void {
  const gain = g.weight(`${name}_gain`, [d], INIT, 1);
  g.node('LayerNormalization', [x, gain, g.weight(`${name}_bias`, [d], INIT)], [y], { axis: -1, epsilon: { float: 1e-5 } });
}

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function gelu(g: GraphWriter, x: string, y: string): void {
  g.const('gelu_c', 'float32', [], [0.044715]);
  g.const('gelu_s', 'float32', [], [Math.sqrt(2 / Math.PI)]);
  g.const('gelu_half', 'float32', [], [0.5]);
  g.const('gelu_one', 'float32', [], [1]);
  g.node('Mul', [x, x], [`${y}_x2`]);
  g.node('Mul', [`${y}_x2`, x], [`${y}_x3`]);
  g.node('Mul', [`${y}_x3`, 'gelu_c'], [`${y}_cx3`]);
  g.node('Add', [x, `${y}_cx3`], [`${y}_inner`]);
  g.node('Mul', [`${y}_inner`, 'gelu_s'], [`${y}_scaled`]);
  g.node('Tanh', [`${y}_scaled`], [`${y}_tanh`]);
  g.node('Add', [`${y}_tanh`, 'gelu_one'], [`${y}_1p`]);
  g.node('Mul', [x, `${y}_1p`], [`${y}_x1p`]);
  g.node('Mul', [`${y}_x1p`, 'gelu_half'], [y]);
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

/** Collects nodes and initializers; draws weights from one seeded PRNG in creation order. */
class GraphWriter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Record<string, TensorLike> = {};
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  node(op: string, inputs: string[], outputs: string[], attrs?: NodeSpec['attrs']): void {
    this.nodes.push({ op, inputs, outputs, name: `${op}_${outputs[0]}`, ...(attrs ? { attrs } : {}) });
  }

  /** A float32 weight, uniform with standard deviation `std` around `mean`; returns its name. */
  weight(name: string, dims: number[], std: number, mean = 0): string {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const half = std * Math.sqrt(3);
    for (let i = 0; i < data.length; i++) data[i] = mean + (this.next() * 2 - 1) * half;
    this.initializers[name] = { type: 'float32', dims, data };
    return name;
  }

  /** A constant (once per name). */
  const(name: string, type: 'int64' | 'float32', dims: number[], values: number[]): void {
    if (this.initializers[name]) return;
    const data = type === 'int64' ? BigInt64Array.from(values.map(BigInt)) : Float32Array.from(values);
    this.initializers[name] = { type, dims, data };
  }

  /** mulberry32: a small, fast, well-mixed 32-bit PRNG; uniform in [0, 1). */
  private next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
}
