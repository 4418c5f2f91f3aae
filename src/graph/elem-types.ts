/**
 * Element-type inference for the values a partition cuts: a sub-model's inputs and outputs must
 * declare their ONNX element type, and exported models rarely carry `value_info` for intermediate
 * values. Shapes are not inferred: cut values are declared with unknown shape, which ORT accepts
 * (and which keeps dynamic dimensions dynamic).
 *
 * Rules: declared types first (graph inputs/outputs, value_info, constants), then per-op rules for
 * ops whose output type differs from their first input's; every other op keeps its first input's
 * type. An unknown type is left out, and the partitioner falls back to ORT for the whole model.
 */
import { ONNX } from '../dtypes';
import { attr, attrInt, num, type GraphIndex, type IntLike, type NodeProto } from './onnx-model';

const { FLOAT, UINT8, INT32, INT64, BOOL } = ONNX;

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'NonMaxSuppression']);

/** ONNX element type of every value we can tell, by name. */
export function inferElemTypes(ix: GraphIndex): Map<string, number> {
  const types = new Map<string, number>();
  const g = ix.graph;
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (v.name && t) types.set(v.name, t);
  }
  for (const [name, t] of ix.constants) if (t.dataType) types.set(name, t.dataType);
  for (const n of ix.nodes) {
    const outs = n.output ?? [];
    const rule = outputTypes(n, (i) => types.get(n.input?.[i] ?? ''));
    outs.forEach((o, i) => {
      const t = rule[i];
      if (o && t !== undefined && !types.has(o)) types.set(o, t);
    });
  }
  return types;
}

function outputTypes(n: NodeProto, input: (i: number) => number | undefined): (number | undefined)[] {
  const op = n.opType ?? '';
  if (n.domain && n.domain !== 'ai.onnx') {
    if (op === 'MatMulNBits' || op === 'DynamicQuantizeMatMul' || op === 'MatMulIntegerToFloat') return [FLOAT];
    return [input(0)];
  }
  if (BOOL_OPS.has(op)) return [BOOL];
  if (INT64_OPS.has(op)) return [INT64];
  switch (op) {
    case 'Cast':
      return [attrInt(n, 'to', 0) || undefined];
    case 'CastLike':
      return [input(1)];
    case 'DynamicQuantizeLinear':
      return [UINT8, FLOAT, UINT8];
    case 'QuantizeLinear':
      return [input(2) ?? (attr(n, 'output_dtype') ? attrInt(n, 'output_dtype', UINT8) : UINT8)];
    case 'DequantizeLinear':
      return [input(1) ?? FLOAT];
    case 'MatMulInteger':
    case 'ConvInteger':
      return [INT32];
    case 'QLinearMatMul':
    case 'QLinearConv':
      return [input(7) ?? UINT8];
    case 'ConstantOfShape': {
      const v = attr(n, 'value');
      return [v?.t?.dataType ?? FLOAT];
    }
    case 'Constant':
      return [undefined]; // from ix.constants
    case 'Where':
      return [input(1)];
    case 'TopK':
    case 'MaxPool':
      return [input(0), INT64];
    case 'Range':
      return [input(0)];
    case 'EyeLike':
    case 'RandomNormalLike':
    case 'RandomUniformLike':
      return [attr(n, 'dtype') ? num(attr(n, 'dtype')?.i as IntLike) : input(0)];
    case 'OneHot':
      return [input(2)];
    case 'If':
    case 'Loop':
    case 'Scan':
      return []; // subgraph outputs: unknown here
    default:
      return (n.output ?? []).map(() => input(0));
  }
}
