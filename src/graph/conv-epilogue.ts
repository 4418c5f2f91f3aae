/**
 * Elementwise epilogues fused after a `QuantizedConv` (src/kernels/conv-ops.ts `epilogue`): the
 * chain of float ops with scalar constants that follows a conv in vision models, so that the kernel
 * writes the activated value and no ORT segment is left between two convs. Each op becomes one
 * instruction `[code, a, b]` of the kernel's epilogue program (shaders/int8-conv-common.wgsl), run
 * in the graph's own order and float32 arithmetic:
 *
 * - `Mul` / `Add` / `Div` / `Sub` by a scalar constant (`x·c`, `x + c`, `x / c`, `x − c`);
 * - `Clip(min, max)` with constant bounds, `Relu`, `Sigmoid`, `HardSigmoid(alpha, beta)`;
 * - HardSwish as exported by Paddle and PyTorch, `Mul(x, g(x))` where `g` is such a chain of `x`
 *   (e.g. `Mul(x, Clip(x + 3, 0, 6)) / 6`, or `Mul(x, HardSigmoid(x))`): `x` is saved, `g` runs,
 *   and the product is taken.
 *
 * A value read by anything else (another node, a graph output) ends the chain there.
 */
import { ONNX } from '../dtypes';
import { soleConsumer } from './match';
import { attr, toTensor, type GraphIndex, type NodeProto } from './onnx-model';

/** Instruction codes of the kernel's epilogue program (EP_* in int8-conv-common.wgsl). */
export const EPILOGUE_OPS = { mul: 0, add: 1, div: 2, clip: 3, relu: 4, sigmoid: 5, hardSigmoid: 6, save: 7, mulSaved: 8, sub: 9 } as const;

/** One instruction: `[code, a, b]`. */
export type EpilogueOp = [number, number, number];

function scalar(ix: GraphIndex, name: string | undefined): number | undefined {
  const t = name ? ix.constants.get(name) : undefined;
  if (!t || t.dataType !== ONNX.FLOAT) return undefined;
  const d = toTensor(t).data;
  return d.length === 1 ? Number(d[0]) : undefined;
}

/** The instruction of node `n` applied to its input `x`, if it is a supported op of `x` and constants. */
function instruction(ix: GraphIndex, n: NodeProto, x: string): EpilogueOp | undefined {
  if (n.domain) return undefined;
  const [i0, i1] = n.input ?? [];
  const f = (a: string) => attr(n, a)?.f;
  switch (n.opType) {
    case 'Relu':
      return [EPILOGUE_OPS.relu, 0, 0];
    case 'Sigmoid':
      return [EPILOGUE_OPS.sigmoid, 0, 0];
    case 'HardSigmoid':
      return [EPILOGUE_OPS.hardSigmoid, f('alpha') ?? 0.2, f('beta') ?? 0.5];
    case 'Clip': {
      const [lo, hi] = [(n.input ?? [])[1], (n.input ?? [])[2]];
      const min = lo ? scalar(ix, lo) : (f('min') ?? -Infinity);
      const max = hi ? scalar(ix, hi) : (f('max') ?? Infinity);
      return min === undefined || max === undefined ? undefined : [EPILOGUE_OPS.clip, min, max];
    }
    case 'Mul':
    case 'Add': {
      const c = scalar(ix, i0 === x ? i1 : i0);
      return c === undefined ? undefined : [n.opType === 'Mul' ? EPILOGUE_OPS.mul : EPILOGUE_OPS.add, c, 0];
    }
    case 'Div':
    case 'Sub': {
      const c = i0 === x ? scalar(ix, i1) : undefined;
      return c === undefined ? undefined : [n.opType === 'Div' ? EPILOGUE_OPS.div : EPILOGUE_OPS.sub, c, 0];
    }
    default:
      return undefined;
  }
}

/** Follows single-consumer instructions from `x`; stops before `stop` or anything else. */
function run(ix: GraphIndex, x: string, stop?: number): { nodes: number[]; ops: EpilogueOp[]; output: string } {
  const nodes: number[] = [];
  const ops: EpilogueOp[] = [];
  let cur = x;
  for (;;) {
    const c = soleConsumer(ix, cur);
    if (c === undefined || c === stop) break;
    const op = instruction(ix, ix.nodes[c]!, cur);
    if (!op) break;
    nodes.push(c);
    ops.push(op);
    cur = ix.nodes[c]!.output?.[0] ?? '';
  }
  return { nodes, ops, output: cur };
}

/** `x` read by exactly a gate chain `g(x)` and `Mul(x, g(x))`: HardSwish-like. */
function gated(ix: GraphIndex, x: string): { nodes: number[]; ops: EpilogueOp[]; output: string } | undefined {
  const cs = ix.consumers.get(x) ?? [];
  if (cs.length !== 2 || ix.graphOutputs.has(x)) return undefined;
  for (const [m, g] of [cs, [...cs].reverse()] as [number, number][]) {
    const mul = ix.nodes[m]!;
    if (mul.opType !== 'Mul' || mul.domain || !(mul.input ?? []).includes(x)) continue;
    const first = instruction(ix, ix.nodes[g]!, x);
    if (!first) continue;
    const rest = run(ix, ix.nodes[g]!.output?.[0] ?? '', m);
    const gate = rest.output;
    const ins = mul.input ?? [];
    if (!((ins[0] === x && ins[1] === gate) || (ins[1] === x && ins[0] === gate)) || soleConsumer(ix, gate) !== m) continue;
    return {
      nodes: [g, ...rest.nodes, m],
      ops: [[EPILOGUE_OPS.save, 0, 0], first, ...rest.ops, [EPILOGUE_OPS.mulSaved, 0, 0]],
      output: mul.output?.[0] ?? '',
    };
  }
  return undefined;
}

/** The longest fusable epilogue after value `x` (nothing when none). */
export function matchEpilogue(ix: GraphIndex, x: string): { nodes: number[]; ops: EpilogueOp[]; output: string } {
  const nodes: number[] = [];
  const ops: EpilogueOp[] = [];
  let cur = x;
  for (;;) {
    const step = gated(ix, cur) ?? run(ix, cur);
    if (step.nodes.length === 0) break;
    nodes.push(...step.nodes);
    ops.push(...step.ops);
    cur = step.output;
  }
  return { nodes, ops, output: cur };
}
